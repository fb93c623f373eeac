#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a whole file or nothing: the bytes go to `PATH.tmp-<pid>` (registered with
/// ``TemporaryFiles``, so Ctrl-C removes it), which is renamed over `PATH` once written and
/// closed. A reader of `PATH` sees the old file or the new one, never half of it.
///
/// ## Topics
/// - ``write(_:to:)``
/// - ``Failure``
public enum AtomicFile {
    /// `PATH` could not be written (exit 66, as for any output the user named that cannot be made).
    public struct Failure: UserFacingError, CustomStringConvertible, Sendable, Equatable {
        public var path: String
        public var reason: String
        public var exitCode: Int32 { 66 }
        public var diagnostic: String { "cannot write \(path): \(reason)" }
        public var description: String { diagnostic }
    }

    public static func write(_ text: String, to path: String) throws(Failure) {
        try write(Array(text.utf8), to: path)
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let result: Result<Void, Failure> = bytes.withUnsafeBytes { p in
            do throws(Failure) { try write(raw: p, to: path); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Bytes that lie elsewhere (a slice of a cached report: tens of MB not copied again).
    public static func write(raw p: UnsafeRawBufferPointer, to path: String) throws(Failure) {
        let tmp = path + ".tmp-\(getpid())"
        TemporaryFiles.register(tmp)  // removed on SIGINT/SIGTERM
        defer { TemporaryFiles.release(tmp) }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        if let base = p.baseAddress {
            var off = 0
            while off < p.count {
                let n = Glibc.write(fd, base + off, p.count - off)
                if n <= 0 { if errno == EINTR { continue }; ok = false; break }
                off += n
            }
        }
        if close(fd) != 0 { ok = false }
        if !ok || rename(tmp, path) != 0 {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw Failure(path: path, reason: why)
        }
    }
}
