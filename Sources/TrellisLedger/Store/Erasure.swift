import GRDB
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

// Erasure destroys a person's key by deleting its `person_keys` row (secure_delete on, so the
// page is zeroed). That is not enough on its own: in WAL mode the page that still holds the
// key stays in the database file until a checkpoint copies the new page over it, and older
// frames holding it stay in the -wal file until the WAL is truncated. A checkpoint cannot
// finish while another connection reads an older snapshot, so erasure checks the outcome and
// says what remains, instead of claiming success.

/// What an erasure left on disk: the `PersonErased` event is committed, but a copy of a
/// destroyed key may remain until `trellis erase --finish` succeeds.
public struct ErasureResidue: Sendable, Equatable, CustomStringConvertible {
    /// The checkpoint could not complete: another connection holds a read transaction.
    public var checkpointBusy: Bool
    /// The checkpoint failed outright (a read-only file, an I/O error): SQLite's message.
    public var checkpointError: String?
    /// Bytes left in the -wal file after the checkpoint (0 once truncated).
    public var walBytes: Int64
    /// Files in which a destroyed key's 32 bytes were still found.
    public var filesHoldingKey: [String]
    /// Triggers in the file that the migrations do not create (`name on table`): one on
    /// `person_keys` may have copied a key, in any encoding, before it was destroyed.
    public var foreignTriggers: [String] = []

    /// What a database server kept of a deleted key row, each a sentence (PostgreSQL: a
    /// session whose snapshot predates the erasure, a role that may not rewrite the table).
    public var serverKept: [String] = []
    /// The server's role may not rewrite the key table (only its owner may): waiting will not help.
    public var notOwner = false

    /// What a database server (PostgreSQL) can have left: foreign triggers and what it kept.
    public init(foreignTriggers: [String], serverKept: [String] = [], notOwner: Bool = false) {
        self.init(checkpointBusy: false, checkpointError: nil, walBytes: 0, filesHoldingKey: [], foreignTriggers: foreignTriggers)
        self.serverKept = serverKept
        self.notOwner = notOwner
    }

    init(checkpointBusy: Bool, checkpointError: String?, walBytes: Int64, filesHoldingKey: [String], foreignTriggers: [String] = []) {
        self.checkpointBusy = checkpointBusy; self.checkpointError = checkpointError; self.walBytes = walBytes
        self.filesHoldingKey = filesHoldingKey; self.foreignTriggers = foreignTriggers
    }

    public var description: String {
        var what: [String] = []
        if let checkpointError {
            what.append("the checkpoint failed (\(checkpointError)): the old page with the key may still be in the file or its -wal")
        } else if checkpointBusy {
            what.append("another process is reading the ledger (a report, a sqlite3 shell, a backup), so the checkpoint could not copy the erased page into the database file: the old page with the key is still in the file or its -wal")
        }
        if walBytes > 0 { what.append("the -wal file still holds \(walBytes) bytes of earlier pages") }
        if !filesHoldingKey.isEmpty { what.append("the key's bytes are still in \(filesHoldingKey.joined(separator: ", "))") }
        what += serverKept
        if !foreignTriggers.isEmpty {
            what.append("the ledger has triggers Trellis never creates (\(foreignTriggers.joined(separator: ", "))), which may have copied the key elsewhere in the ledger before it was destroyed: remove them and what they wrote (trellis verify names them)")
        }
        return what.joined(separator: "; ")
    }
}

extension Ledger {
    /// Checkpoint attempts after an erasure; together they wait about the busy timeout.
    static let erasureCheckpointAttempts = 3

    /// Completes earlier erasures (`trellis erase --finish`): checkpoints every committed page
    /// into the database file and truncates the WAL. Returns nil when done, else what remains.
    public func finishErasure() -> ErasureResidue? {
        queue.writeWithoutTransaction { db in Ledger.purgeDestroyedKeys(db, path: path, keys: []) }
    }

    /// After a committed erasure: `PRAGMA wal_checkpoint(TRUNCATE)`, tried a few times within
    /// the busy timeout; then, when it completed, the database and WAL files are searched for
    /// the destroyed keys' bytes. Nil when no copy remains.
    static func purgeDestroyedKeys(_ db: Database, path: String, keys: [[UInt8]]) -> ErasureResidue? {
        let handle = db.sqliteConnection
        let totalMillis = Int32(max(0, min(busyTimeout * 1000, Double(Int32.max))))
        let perAttempt = max(1, totalMillis / Int32(erasureCheckpointAttempts))
        sqlite3_busy_timeout(handle, perAttempt)
        defer { sqlite3_busy_timeout(handle, totalMillis) }
        var busy = true
        var failure: String?
        for attempt in 0..<erasureCheckpointAttempts {
            if attempt > 0 { usleep(100_000) }
            do {
                // Row: busy (1 when blocked by a reader or writer), WAL frames, frames checkpointed.
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                failure = nil
                if let row, (row[0] as Int64?) == 0 { busy = false; break }
            } catch {
                failure = (error as? DatabaseError)?.message ?? String(describing: error)
            }
        }
        let walBytes = fileSize(path + "-wal")
        var holding: [String] = []
        if !busy {
            // Read through SQLite's own open files: opening and closing another descriptor on
            // the ledger would drop every POSIX lock this process holds on it (fcntl locks go
            // with any close), and another process closing its last connection would then
            // delete the WAL and shared memory under this one ("database disk image is malformed").
            for (file, wal) in [(path, false), (path + "-wal", true)] where connectionFileContainsAny(handle, wal: wal, keys) {
                holding.append(file)
            }
        }
        let foreign = foreignTriggers(db)
        if !busy && walBytes == 0 && holding.isEmpty && foreign.isEmpty { return nil }
        return ErasureResidue(checkpointBusy: busy, checkpointError: failure, walBytes: walBytes, filesHoldingKey: holding,
                              foreignTriggers: foreign)
    }

    /// Every trigger in the file the migrations do not create, as `name on table`; an
    /// unreadable schema counts as one (erasure then does not claim that no copy is left).
    static func foreignTriggers(_ db: Database) -> [String] {
        do {
            let own = try migrationTriggers()
            return try Row.fetchAll(db, sql: "SELECT name, tbl_name FROM main.sqlite_master WHERE type = 'trigger' ORDER BY name")
                .compactMap { row in own[row[0]] == nil ? "\(row[0] as String) on \(row[1] as String)" : nil }
        } catch {
            return ["(the schema could not be read: \(error))"]
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }

    /// Whether any of `needles` occurs in the file, in one pass whatever their number: an import
    /// that erases hundreds of people reads the file once, not once per key (it was 17 % of a
    /// 50 k-event import, quadratic in the log's size). A 65,536-bit table of the needles' first
    /// two bytes picks the few positions worth comparing. Needles are keys (32 bytes) and sealed
    /// texts; one shorter than two bytes could not identify anything and is ignored.
    static func fileContainsAny(_ path: String, _ needles: [[UInt8]]) -> Bool {
        let (long, table, byPrefix) = needleTable(needles)
        guard !long.isEmpty else { return false }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return containsAny(long, table: table, byPrefix: byPrefix) { buffer, count, offset in
            var n: Int
            repeat { n = pread(fd, buffer, count, off_t(offset)) } while n < 0 && errno == EINTR
            return n
        }
    }

    /// ``fileContainsAny(_:_:)`` on the main database file of `handle` or its WAL, read through
    /// SQLite's own open file (`SQLITE_FCNTL_FILE_POINTER` / `SQLITE_FCNTL_JOURNAL_POINTER`): no
    /// descriptor of ours is opened or closed on a file SQLite holds locks on.
    static func connectionFileContainsAny(_ handle: OpaquePointer?, wal: Bool, _ needles: [[UInt8]]) -> Bool {
        let (long, table, byPrefix) = needleTable(needles)
        guard !long.isEmpty else { return false }
        var pointer: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(handle, "main", wal ? SQLITE_FCNTL_JOURNAL_POINTER : SQLITE_FCNTL_FILE_POINTER, &pointer) == SQLITE_OK,
              let file = pointer, let methods = file.pointee.pMethods?.pointee,
              let xRead = methods.xRead, let xFileSize = methods.xFileSize else { return false }
        var size: sqlite3_int64 = 0
        guard xFileSize(file, &size) == SQLITE_OK else { return false }
        return containsAny(long, table: table, byPrefix: byPrefix) { buffer, count, offset in
            guard offset < size else { return 0 }
            let n = Int(min(Int64(count), size - offset))
            return xRead(file, buffer, Int32(n), offset) == SQLITE_OK ? n : -1
        }
    }

    /// The needles of at least two bytes, and a 65,536-bit table of their first two bytes.
    private static func needleTable(_ needles: [[UInt8]]) -> (long: [[UInt8]], table: [UInt64], byPrefix: [Int: [[UInt8]]]) {
        let long = needles.filter { $0.count >= 2 }
        var table = [UInt64](repeating: 0, count: 1024)
        var byPrefix: [Int: [[UInt8]]] = [:]
        for n in long {
            let p = Int(n[0]) << 8 | Int(n[1])
            table[p >> 6] |= 1 << UInt64(p & 63)
            byPrefix[p, default: []].append(n)
        }
        return (long, table, byPrefix)
    }

    /// One pass over a file read by `read(buffer, count, offset)` (bytes read, 0 at its end,
    /// negative on an error: not found).
    private static func containsAny(_ long: [[UInt8]], table: [UInt64], byPrefix: [Int: [[UInt8]]],
                                    read: (UnsafeMutableRawPointer, Int, Int64) -> Int) -> Bool {
        let longest = long.map(\.count).max() ?? 2
        var offset: Int64 = 0
        let chunk = 4 << 20
        var buffer = [UInt8](repeating: 0, count: chunk + longest)
        var carried = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { b in read(b.baseAddress! + carried, chunk, offset) }
            if n <= 0 { return false }
            offset += Int64(n)
            let filled = carried + n
            // A needle starting in the last `longest - 1` bytes may not fit: it is carried over.
            let found = buffer.withUnsafeBufferPointer { b in table.withUnsafeBufferPointer { t -> Bool in
                guard let base = b.baseAddress else { return false }
                var i = 0
                while i + 1 < filled {
                    let p = Int(base[i]) << 8 | Int(base[i + 1])
                    if t[p >> 6] & (1 << UInt64(p & 63)) != 0, let candidates = byPrefix[p] {
                        for c in candidates where i + c.count <= filled && memcmp(base + i, c, c.count) == 0 { return true }
                    }
                    i += 1
                }
                return false
            } }
            if found { return true }
            carried = min(longest - 1, filled)
            buffer.withUnsafeMutableBytes { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + (filled - carried), carried)
            }
        }
    }
}
