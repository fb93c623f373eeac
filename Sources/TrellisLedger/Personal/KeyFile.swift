import TrellisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a 256-bit secret key from a file the user names (`export --pseudonymise --key FILE`),
/// in bounded memory and time, and refuses keys that are not worth having.
///
/// A key file holds exactly 32 bytes of key material, in one of two forms:
/// - **raw**: exactly 32 bytes (`head -c 32 /dev/urandom > study.key`);
/// - **hex**: 64 hex digits, optionally followed by one newline (`openssl rand -hex 32 > study.key`).
///
/// Refused (exit 64): anything else in size; a file that is not a regular file (`/dev/zero`,
/// a FIFO, a directory: reading one could hang or never end); a key with fewer than
/// ``minimumDistinctBytes`` different byte values (`aaaa…`, a repeated word); a raw key that
/// is all printable ASCII (typed text, a password, not random bytes: use the hex form for a
/// key kept as text). A missing or unreadable file is exit 66. At most ``readLimit`` bytes are
/// ever read.
///
/// ## Topics
/// - ``read(path:)``
/// - ``check(_:path:)``
/// - ``Failure``
public enum KeyFile {
    /// Bytes of key material.
    public static let keyBytes = 32
    /// Random 32-byte keys have ~30 distinct byte values; fewer than this is a pattern.
    public static let minimumDistinctBytes = 8
    /// The most that is read from a key file: larger files are refused without reading on.
    public static let readLimit = 4096

    public enum Failure: Error, CustomStringConvertible, Sendable, Equatable {
        case missing(String)
        case unreadable(String, String)
        /// The path, what it is instead ("a character device", "a FIFO", "a directory").
        case notRegularFile(String, String)
        /// The path and its size in bytes (`nil`: more than ``KeyFile/readLimit``).
        case wrongSize(String, Int?)
        /// The path and why the key is weak.
        case weak(String, String)

        public var description: String {
            let make = "make one with: head -c 32 /dev/urandom > KEYFILE, and keep it secret"
            switch self {
            case .missing(let p): return "no key file at \(p) (\(make.replacingKeyFile(with: p)))"
            case .unreadable(let p, let why): return "cannot read the key file \(p): \(why)"
            case .notRegularFile(let p, let what): return "the key file \(p) is \(what), not a regular file"
            case .wrongSize(let p, let n):
                let size = n.map { "\($0) byte\($0 == 1 ? "" : "s")" } ?? "more than \(KeyFile.readLimit) bytes"
                return "the key file \(p) holds \(size); a key is exactly 32 bytes, or 64 hex digits and a newline (\(make.replacingKeyFile(with: p)))"
            case .weak(let p, let why): return "the key file \(p) holds a weak key: \(why) (\(make.replacingKeyFile(with: p)))"
            }
        }

        /// 66 for a missing or unreadable file, 64 for an unusable key.
        public var exitCode: Int32 {
            switch self {
            case .missing, .unreadable: return 66
            case .notRegularFile, .wrongSize, .weak: return 64
            }
        }
    }

    /// The 32 bytes of key material in the file at `path`.
    public static func read(path: String) throws(Failure) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw .missing(path) }
            throw .unreadable(path, String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .notRegularFile(path, "a directory")
        case S_IFCHR: throw .notRegularFile(path, "a character device")
        case S_IFBLK: throw .notRegularFile(path, "a block device")
        case S_IFIFO: throw .notRegularFile(path, "a FIFO (named pipe)")
        case S_IFSOCK: throw .notRegularFile(path, "a socket")
        default: throw .notRegularFile(path, "not a file")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: readLimit + 1)
        while bytes.count <= readLimit {
            let want = readLimit + 1 - bytes.count
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n < 0 { if errno == EINTR { continue }; throw .unreadable(path, String(cString: strerror(errno))) }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        if bytes.count > readLimit { throw .wrongSize(path, nil) }
        return try check(bytes, path: path)
    }

    /// The key material in a key file's bytes (raw or hex, see ``KeyFile``), or why not.
    public static func check(_ bytes: [UInt8], path: String) throws(Failure) -> [UInt8] {
        var key: [UInt8]
        var raw = false
        if bytes.count == keyBytes {
            key = bytes
            raw = true
        } else {
            var text = bytes[...]
            if text.last == 0x0A { text = text.dropLast() }
            if text.last == 0x0D { text = text.dropLast() }
            guard text.count == 2 * keyBytes, let decoded = Hex.decode(String(decoding: text, as: UTF8.self)) else {
                throw .wrongSize(path, bytes.count)
            }
            key = decoded
        }
        let distinct = Set(key).count
        if distinct < minimumDistinctBytes {
            throw .weak(path, distinct == 1 ? "every byte is the same" : "only \(distinct) different byte values in 32 (a random key has about 30)")
        }
        if raw, key.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            throw .weak(path, "it is 32 characters of text, not random bytes")
        }
        return key
    }
}

extension String {
    fileprivate func replacingKeyFile(with path: String) -> String {
        split(separator: "KEYFILE", omittingEmptySubsequences: false).joined(separator: path)
    }
}
