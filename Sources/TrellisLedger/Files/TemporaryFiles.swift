#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files that exist only while a command runs: an export's `OUT.partial-<pid>`, a study
/// file's `STUDY.db.partial-<pid>`, a report's time-travel `trellis-snapshot-<pid>-XXXXXX`.
/// They are removed when the work ends, and also
/// - on SIGINT, SIGTERM or SIGHUP: the CLI's handler calls ``removeAllRegistered()``, which
///   unlinks every registered path (precomputed C strings, `unlink` only: async-signal-safe);
/// - on the next run, when the process that made one is gone: ``partialPath(for:)`` removes
///   `OUT.partial-<pid>` files of dead pids beside OUT, ``makeSnapshotFile(prefix:)`` removes
///   snapshot files of dead pids older than ``staleAge`` (after a SIGKILL or a power cut).
///
/// ## Topics
/// - ``partialPath(for:)``
/// - ``makeSnapshotFile(prefix:)``
/// - ``register(_:)``
/// - ``release(_:)``
/// - ``removeAllRegistered()``
public enum TemporaryFiles {
    /// SQLite's companions of a database file, removed with it.
    public static let companions = ["", "-wal", "-shm", "-journal"]
    /// A snapshot file this old whose process is gone is removed by the next snapshot.
    public static let staleAge: Int = 3600
    static let capacity = 64

    /// Fixed slots of C strings, written under `lock`, read without it by the signal handler.
    /// A string once registered is never freed (a few per process): a handler that reads a
    /// slot while another thread clears it still reads valid memory.
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// Makes sure the slots exist before a signal handler can run (no lazy initialisation there).
    public static func prepare() { _ = slots; _ = lock }

    /// `path` and its SQLite companions are removed if the process is interrupted.
    public static func register(_ path: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for suffix in companions {
            let full = path + suffix
            guard let free = (0..<capacity).first(where: { slots[$0] == nil }) else { return }
            slots[free] = strdup(full)
        }
    }

    /// Forgets `path` (it was renamed into place or removed).
    public static func release(_ path: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let names = Set(companions.map { path + $0 })
        for i in 0..<capacity {
            if let s = slots[i], names.contains(String(cString: s)) { slots[i] = nil }
        }
    }

    /// Removes `path` and its companions, and forgets them.
    public static func remove(_ path: String) {
        for suffix in companions { unlink(path + suffix) }
        release(path)
    }

    /// Unlinks every registered path. Called from a signal handler: only reads the slots and
    /// calls `unlink`.
    public static func removeAllRegistered() {
        for i in 0..<capacity {
            if let s = slots[i] { unlink(s) }
        }
    }

    /// `OUT.partial-<pid>`, registered; first removes `OUT.partial-<pid>` files (and their
    /// SQLite companions) left beside OUT by processes that no longer exist.
    public static func partialPath(for out: String) -> String {
        let (dir, base) = split(out)
        let prefix = base + ".partial-"
        forEachEntry(in: dir) { name in
            guard name.hasPrefix(prefix) else { return }
            let rest = name.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let pid = Int32(digits), companions.contains(String(rest.dropFirst(digits.count))),
                  !isAlive(pid) else { return }
            unlink(dir + "/" + name)
        }
        let path = out + ".partial-\(getpid())"
        register(path)
        return path
    }

    /// Creates an empty file `$TMPDIR/<prefix>-<pid>-XXXXXX` (mkstemp), registered; first
    /// removes files of that form whose process is gone and which are older than ``staleAge``.
    public static func makeSnapshotFile(prefix: String) throws(TemporaryFileError) -> String {
        let dir = (getenv("TMPDIR").flatMap { String(validatingCString: $0) }).flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let now = time(nil)
        forEachEntry(in: dir) { name in
            guard name.hasPrefix(prefix + "-") else { return }
            let rest = name.dropFirst(prefix.count + 1)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let pid = Int32(digits), rest.dropFirst(digits.count).hasPrefix("-"), !isAlive(pid) else { return }
            var st = stat()
            let full = dir + "/" + name
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, now - st.st_mtim.tv_sec > staleAge else { return }
            unlink(full)
        }
        // Registered *before* it is created (O_CREAT | O_EXCL, as mkstemp does): a signal
        // between mkstemp and registering it used to leave the file behind. Unlinking a name
        // with our pid that is not made yet, or is a dead process's stale file, harms nobody.
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var failure = EEXIST
        for _ in 0..<100 {
            let suffix = String(decoding: (0..<6).map { _ in letters[Int.random(in: 0..<letters.count)] }, as: UTF8.self)
            let path = dir + "/\(prefix)-\(getpid())-\(suffix)"
            register(path)
            let fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 {
                close(fd)
                return path
            }
            failure = errno
            release(path)
            if failure != EEXIST { break }
        }
        throw TemporaryFileError(description: "cannot create a temporary file in \(dir): \(String(cString: strerror(failure)))")
    }

    /// Whether a process with this id exists (one we may not signal still exists).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static func split(_ path: String) -> (dir: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    static func forEachEntry(in dir: String, _ body: (String) -> Void) {
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let entry = readdir(d) {
            // The name read in place, up to its NUL: a record is only as long as its name, so
            // copying the whole `d_name` array could read past the end of the directory
            // buffer (a crash when that buffer ends a mapping, as a thread's arena can).
            guard let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else { continue }
            let name = String(cString: (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self))
            body(name)
        }
    }
}

/// A temporary file could not be made.
public struct TemporaryFileError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
