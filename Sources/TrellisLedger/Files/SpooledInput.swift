#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LineReader {
    /// Copies what is left of a pipe (standard input) to a new file `$TMPDIR/trellis-archive-XXXXXX`
    /// and returns its path, for readers that need the whole input before acting (an archive's
    /// frame and manifest are checked before anything is appended). The file is registered with
    /// ``TemporaryFiles`` (Ctrl-C removes it); the caller removes it with
    /// ``TemporaryFiles/remove(_:)`` when done. On failure nothing is left behind.
    public func spoolToTemporaryFile() throws -> String {
        let dir = getenv("TMPDIR").flatMap { String(validatingCString: $0) } ?? "/tmp"
        var template = Array((dir + "/trellis-archive-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            throw CommandFailure.usage("cannot spool the archive from standard input: \(String(cString: strerror(errno)))")
        }
        defer { _ = Glibc.close(fd) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        TemporaryFiles.register(path)
        do { try drain(to: fd) } catch {
            TemporaryFiles.remove(path)
            throw error
        }
        return path
    }
}
