import TrellisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the lines of a file (or stdin) in 4 MiB reads, without holding the file in memory.
/// Lines are numbered from 1; a trailing `\r` is dropped; the bytes handed out are valid only
/// during the call.
///
/// A line longer than ``maxLineBytes`` is refused as soon as that many bytes of it have been
/// read, without reading the rest: memory stays at one read buffer and the time at one
/// buffer's worth, however long the line (a 1 GiB line without a newline is refused after
/// its first 4 MiB).
public struct LineReader {
    public let name: String
    /// The longest line handed out (the `\r` of a CRLF not counted): no event comes near it.
    public var maxLineBytes = EventDecoder.maxLineBytes
    let fd: Int32
    let ownsFD: Bool
    /// Bytes in the file, when known (for progress).
    public let size: Int64?
    /// Bytes already read from a pipe by ``peek(_:)``, handed out first by ``forEachLine(_:)``.
    private let peeked = Peeked()

    final class Peeked: @unchecked Sendable { var bytes: [UInt8]? }

    public enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case unreadable(String, String)
        /// The source's name, the line's number, the limit in bytes.
        case lineTooLong(String, line: Int, limit: Int)
        /// A small file read whole (``text(of:limit:what:)``) past its limit: the source's
        /// name, the limit in bytes, what the file should have been.
        case fileTooLong(String, limit: Int, what: String)
        /// A line of such a file past ``LineReader``'s line limit.
        case textLineTooLong(String, line: Int, limit: Int, what: String)
        public var description: String {
            switch self {
            case .missing(let n): return "no such file: \(n)"
            case .unreadable(let n, let why): return "cannot read \(n): \(why)"
            case .lineTooLong(let n, let line, let limit):
                return "\(n): line \(line): longer than \(Self.size(limit)) (no event is that long; is this NDJSON?)"
            case .fileTooLong(let n, let limit, let what):
                return "\(n): longer than \(Self.size(limit)) (\(what) is never that long; is this the right file?)"
            case .textLineTooLong(let n, let line, let limit, let what):
                return "\(n): line \(line): longer than \(Self.size(limit)) (\(what) has no line that long; is this the right file?)"
            }
        }
        /// CLI.md's exit code: 66 for a file that cannot be read, 65 for input that is not acceptable.
        public var exitCode: Int32 {
            switch self {
            case .lineTooLong, .fileTooLong, .textLineTooLong: return 65
            case .missing, .unreadable: return 66
            }
        }

        static func size(_ bytes: Int) -> String { bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes" }
    }

    /// `-` is standard input.
    public init(path: String) throws(Failure) {
        name = path == "-" ? "stdin" : path
        if path == "-" {
            fd = 0; ownsFD = false; size = nil
            return
        }
        let f = Glibc.open(path, O_RDONLY)
        if f < 0 {
            if errno == ENOENT { throw .missing(path) }
            throw .unreadable(path, String(cString: strerror(errno)))
        }
        var st = stat()
        if fstat(f, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            _ = Glibc.close(f)
            throw .unreadable(path, "it is a directory")
        }
        fd = f; ownsFD = true
        size = (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
    }

    public func close() { if ownsFD { _ = Glibc.close(fd) } }

    /// The first `n` bytes, without consuming them (magic-number sniffing): read with `pread`
    /// from a file; from a pipe, read once and kept for ``forEachLine(_:)`` and ``drain(to:)``.
    public func peek(_ n: Int) -> [UInt8] {
        if ownsFD {
            var buf = [UInt8](repeating: 0, count: n)
            let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, 0) }
            return got > 0 ? Array(buf[0..<got]) : []
        }
        if let bytes = peeked.bytes { return Array(bytes.prefix(n)) }
        var buf = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, n - got) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { break }
            got += r
        }
        peeked.bytes = Array(buf[0..<got])
        return peeked.bytes ?? []
    }

    /// Copies everything (peeked bytes first) to `out`, a file descriptor: to spool a pipe.
    public func drain(to out: Int32) throws {
        var pending = peeked.bytes ?? []
        peeked.bytes = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            var off = 0
            while off < pending.count {
                let w = pending.withUnsafeBytes { write(out, $0.baseAddress! + off, pending.count - off) }
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { throw Failure.unreadable(name, "cannot write a temporary copy: \(String(cString: strerror(errno)))") }
                off += w
            }
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if r < 0 && errno == EINTR { pending = []; continue }
            if r < 0 { throw Failure.unreadable(name, String(cString: strerror(errno))) }
            if r == 0 { return }
            pending = Array(buf[0..<r])
        }
    }

    /// Calls `body(line, number, bytesReadSoFar)` for each line; `body` returns false to stop.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int, Int64) throws -> Bool) throws {
        let chunk = 4 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var filled = 0          // bytes in buffer
        if let first = peeked.bytes, !first.isEmpty {
            buffer.replaceSubrange(0..<first.count, with: first)
            filled = first.count
            peeked.bytes = []
        }
        var number = 0
        var consumed: Int64 = 0
        var eof = false
        while !eof {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let n = buffer.withUnsafeMutableBytes { p in
                read(fd, p.baseAddress! + filled, p.count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure.unreadable(name, String(cString: strerror(errno)))
            }
            if n == 0 { eof = true } else { filled += n; consumed += Int64(n) }
            var stop = false
            var start = 0
            try buffer.withUnsafeBufferPointer { all in
                let base = all.baseAddress!
                while start < filled {
                    var end: Int
                    if let nl = memchr(base + start, 0x0A, filled - start) {
                        end = UnsafeRawPointer(nl) - UnsafeRawPointer(base)
                    } else if eof {
                        end = filled
                    } else {
                        break
                    }
                    let next = end + 1
                    if end > start, all[end - 1] == 0x0D { end -= 1 }
                    number += 1
                    if end - start > maxLineBytes { throw Failure.lineTooLong(name, line: number, limit: maxLineBytes) }
                    if try !body(UnsafeBufferPointer(rebasing: all[start..<end]), number, consumed) { stop = true; return }
                    start = next
                }
            }
            let used = min(start, filled)
            if stop { return }
            // The unfinished line is already too long (one byte allowed for a CRLF's \r):
            // refuse it now rather than read on to its end.
            if filled - used > maxLineBytes + 1 { throw Failure.lineTooLong(name, line: number + 1, limit: maxLineBytes) }
            if used > 0 {
                buffer.withUnsafeMutableBytes { p in
                    _ = memmove(p.baseAddress!, p.baseAddress! + used, filled - used)
                }
                filled -= used
            }
        }
    }
}
