import CLZ4
#if canImport(Glibc)
import Glibc
#endif

/// The four bytes every LZ4 frame starts with (0x184D2204, little-endian): how `import`
/// tells an archive from NDJSON.
public let lz4FrameMagic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

/// Writes one LZ4 frame (liblz4's frame API, so `lz4 -dc` reads it) to a file descriptor,
/// a chunk at a time: memory is bounded by the 4 MiB block, whatever the archive's size.
///
/// Blocks are linked (each may refer to the previous 64 KiB: a better ratio on NDJSON) and
/// carry a checksum, and the frame ends with a checksum of the whole content, so a flipped
/// byte is caught at its block and a cut-short file at its end.
final class LZ4FrameWriter {
    /// Input handed to liblz4 per call.
    static let chunk = 1 << 20
    private var context: OpaquePointer?
    private var preferences = LZ4F_preferences_t()
    private var output: [UInt8]
    private let fd: Int32
    private let path: String
    private(set) var bytesIn: Int64 = 0
    private(set) var bytesOut: Int64 = 0

    /// `level` 0 is LZ4's fast mode; 9 is LZ4 HC.
    init(fd: Int32, path: String, level: Int32) throws(ArchiveError) {
        self.fd = fd
        self.path = path
        var ctx: OpaquePointer?
        let rc = LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let ctx else { throw .compression(Self.name(rc)) }
        context = ctx
        preferences.frameInfo.blockSizeID = LZ4F_max4MB
        preferences.frameInfo.blockMode = LZ4F_blockLinked
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        preferences.compressionLevel = level
        let bound = LZ4F_compressBound(Self.chunk, &preferences)
        output = [UInt8](repeating: 0, count: bound + Int(LZ4F_HEADER_SIZE_MAX))
        let capacity = output.count
        let n = output.withUnsafeMutableBytes { LZ4F_compressBegin(ctx, $0.baseAddress, capacity, &preferences) }
        guard LZ4F_isError(n) == 0 else { throw .compression(Self.name(n)) }
        try flush(n)
    }

    deinit { LZ4F_freeCompressionContext(context) }

    static func name(_ code: Int) -> String { String(cString: LZ4F_getErrorName(code)) }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var offset = 0
        while offset < bytes.count {
            let size = min(Self.chunk, bytes.count - offset)
            let capacity = output.count
            let ctx = context
            let n = output.withUnsafeMutableBytes { out in
                LZ4F_compressUpdate(ctx, out.baseAddress, capacity, bytes.baseAddress! + offset, size, nil)
            }
            guard LZ4F_isError(n) == 0 else { throw .compression(Self.name(n)) }
            try flush(n)
            offset += size
            bytesIn += Int64(size)
        }
    }

    /// Ends the frame (last block, end mark, content checksum).
    func finish() throws(ArchiveError) {
        let capacity = output.count
        let ctx = context
        let n = output.withUnsafeMutableBytes { LZ4F_compressEnd(ctx, $0.baseAddress, capacity, nil) }
        guard LZ4F_isError(n) == 0 else { throw .compression(Self.name(n)) }
        try flush(n)
    }

    private func flush(_ count: Int) throws(ArchiveError) {
        var off = 0
        let failure: String? = output.withUnsafeBytes { p in
            while off < count {
                let w = Glibc.write(fd, p.baseAddress! + off, count - off)
                if w < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                off += w
            }
            return nil
        }
        if let failure { throw .cannotWrite(path: path, reason: failure) }
        bytesOut += Int64(count)
    }
}

/// Reads one LZ4 frame from a file and hands out its lines; memory is bounded by the read
/// chunk and the longest line, whatever the archive's size.
///
/// The frame must be complete (a cut-short file is reported as such, after the lines that
/// were whole) and alone in the file.
final class LZ4FrameReader {
    static let readChunk = 1 << 20
    /// No archive line comes near this (events are refused above 1 MiB on input).
    static let maxLine = 8 << 20
    let path: String
    private let fd: Int32
    private var context: OpaquePointer?
    /// Compressed bytes read so far (for progress).
    private(set) var bytesRead: Int64 = 0
    /// Decompressed bytes handed out so far.
    private(set) var bytesOut: Int64 = 0
    /// Size of the file, when it is a regular file.
    let size: Int64?

    init(path: String) throws(ArchiveError) {
        self.path = path
        let f = Glibc.open(path, O_RDONLY)
        if f < 0 {
            if errno == ENOENT { throw .missing(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var st = stat()
        if fstat(f, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            _ = Glibc.close(f)
            throw .unreadable(path: path, reason: "it is a directory")
        }
        fd = f
        size = (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
        var magic = [UInt8](repeating: 0, count: 4)
        let got = magic.withUnsafeMutableBytes { pread(f, $0.baseAddress, 4, 0) }
        if got < 4 || magic != lz4FrameMagic {
            _ = Glibc.close(f)
            throw .notAnArchive(path: path, reason: got <= 0 ? "the file is empty" : "it does not start with the LZ4 frame magic bytes 04 22 4D 18 (an NDJSON file is imported with 'trellis import', not read as an archive)")
        }
        var ctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let ctx else {
            _ = Glibc.close(f)
            throw .unreadable(path: path, reason: "liblz4: " + LZ4FrameWriter.name(rc))
        }
        context = ctx
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
        _ = Glibc.close(fd)
    }

    /// Calls `body(line, number)` for each line (1-based; without its `\n`); `body` returns
    /// false to stop. Throws ``ArchiveError/broken(seq:why:)`` (with no seq) for damaged or
    /// truncated compressed data; `afterLine` in the message says how far it got.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Bool) throws {
        var input = [UInt8](repeating: 0, count: Self.readChunk)
        var inLength = 0, inPosition = 0
        var output = [UInt8](repeating: 0, count: 4 << 20)
        var filled = 0
        var number = 0
        var frameDone = false
        var eof = false
        let ctx = context

        func where_() -> String { number == 0 ? "before the first line" : "after line \(number)" }

        while true {
            if inPosition == inLength && !eof {
                let n = input.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ArchiveError.unreadable(path: path, reason: String(cString: strerror(errno)))
                }
                bytesRead += Int64(n)
                inLength = n
                inPosition = 0
                if n == 0 { eof = true }
            }
            if frameDone {
                if inPosition < inLength {
                    throw ArchiveError.broken(seq: nil, why: "unexpected bytes after the end of the archive's LZ4 frame (two files joined, or garbage appended?)")
                }
                if eof { break }
                continue
            }
            if eof {
                throw ArchiveError.broken(seq: nil, why: "the archive is truncated: its LZ4 frame ends early, \(where_()) (the file was cut short?)")
            }
            if filled == output.count {
                guard output.count < Self.maxLine else {
                    throw ArchiveError.broken(seq: nil, why: "a line longer than \(Self.maxLine >> 20) MiB \(where_()): not an archive line")
                }
                output.append(contentsOf: [UInt8](repeating: 0, count: output.count))
            }
            var dstSize = output.count - filled
            var srcSize = inLength - inPosition
            let start = filled, inStart = inPosition
            let hint = output.withUnsafeMutableBytes { out in
                input.withUnsafeBytes { inp in
                    LZ4F_decompress(ctx, out.baseAddress! + start, &dstSize, inp.baseAddress! + inStart, &srcSize, nil)
                }
            }
            if LZ4F_isError(hint) != 0 {
                throw ArchiveError.broken(seq: nil, why: "the compressed data is damaged \(where_()) (liblz4: \(LZ4FrameWriter.name(hint)))")
            }
            inPosition += srcSize
            filled += dstSize
            if hint == 0 { frameDone = true }

            // Hand out every complete line; keep the partial one at the front.
            var lineStart = 0
            var stop = false
            try output.withUnsafeBufferPointer { all in
                let base = all.baseAddress!
                while lineStart < filled, let nl = memchr(base + lineStart, 0x0A, filled - lineStart) {
                    let end = UnsafeRawPointer(nl) - UnsafeRawPointer(base)
                    number += 1
                    var lineEnd = end
                    if lineEnd > lineStart, all[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                    if try !body(UnsafeBufferPointer(rebasing: all[lineStart..<lineEnd]), number) { stop = true; return }
                    lineStart = end + 1
                }
            }
            bytesOut += Int64(lineStart)
            if stop { return }
            if lineStart > 0 {
                let rest = filled - lineStart
                output.withUnsafeMutableBytes { p in _ = memmove(p.baseAddress!, p.baseAddress! + lineStart, rest) }
                filled = rest
            }
        }
        if filled > 0 {
            // A last line without its newline: the frame's checksum vouched for it.
            number += 1
            bytesOut += Int64(filled)
            _ = try output.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<filled]), number) }
        }
    }
}
