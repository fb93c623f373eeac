import GRDB
import GRDBSQLite
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// One ledger file: the append-only, hash-chained event log and the state its rules need;
/// the SQLite implementation of ``LedgerStore``.
///
/// The store's interface is deliberately narrow, as in the `eventsourcing` library's
/// recorders: append a batch (``append(options:_:)``), read events from a position
/// (``scan(from:through:_:)``), and the head. Everything else is built on those. The GRDB
/// queue is not public: only the read side (TrellisProjections, `@_spi(ReadSide)`) reaches
/// the file's own connection, to keep its read models next to the log.
///
/// ## Topics
/// - ``open(at:create:)``
/// - ``head()``
/// - ``status()``
/// - ``verify(parallelism:minimumRange:progress:)``
public final class Ledger: LedgerStore {
    public let path: String
    /// The file's path.
    public var location: String { path }
    let queue: DatabaseQueue

    /// How long a writer waits for another process's transaction before giving up: 60 s,
    /// or `$TRELLIS_BUSY_TIMEOUT` seconds.
    public static var busyTimeout: Double {
        if let v = getenv("TRELLIS_BUSY_TIMEOUT").flatMap({ String(validatingCString: $0) }).flatMap(Double.init), v >= 0 { return v }
        return 60
    }

    /// For a local cache of a shared log (``LogMirror``): where that log is. Such a file is
    /// written only by catching up (``appendArchived(_:)``); ``append(options:_:)`` refuses.
    public let mirrorOf: String?

    init(path: String, queue: DatabaseQueue, mirrorOf: String? = nil) {
        self.path = path
        self.queue = queue
        self.mirrorOf = mirrorOf
    }

    /// The page size of a new ledger file, in bytes: 16 KiB, where SQLite's default is 4 KiB.
    /// Measured on 1 M events (three alternated runs each, session 24): import 1.74 → 1.49 s
    /// (CPU 2.94 → 2.64 s), `projections rebuild` 2.53 → 2.21 s, `verify --chain-only` 0.22 →
    /// 0.20 s; full verify and the summary report unchanged. A one-event append (a `trellis`
    /// process) takes 21–26 ms with any of 4, 16 and 64 KiB (eight runs each), but writes whole
    /// pages to the WAL: 20 KB with 4 KiB pages, 66 KB with 16 KiB, 262 KB with 64 KiB, each
    /// append, which a slower disk than this one pays for. 64 KiB imported a little faster
    /// still (1.41 s); 16 KiB takes most of that gain for a quarter of the WAL bytes.
    public static let pageSize = 16_384

    /// Opens the ledger at `path`; with `create`, makes an empty one if none is there.
    public static func open(at path: String, create: Bool = false, mirrorOf: String? = nil) throws(LedgerError) -> Ledger {
        var st = stat()
        let exists = stat(path, &st) == 0
        if !exists && !create { throw .missing(path: path) }
        if exists && (st.st_mode & S_IFMT) == S_IFDIR { throw .cannotOpen(path: path, reason: "it is a directory") }
        if !exists {
            let dir = path.contains("/") ? String(path[..<(path.lastIndex(of: "/")!)]) : "."
            if access(dir.isEmpty ? "/" : dir, W_OK) != 0 {
                throw .cannotOpen(path: path, reason: "cannot create a file in \(dir.isEmpty ? "/" : dir) (\(String(cString: strerror(errno))))")
            }
        }
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // FULL: an acknowledged append survives power loss, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // A new file gets 16 KiB pages (an existing one keeps its own: SQLite fixes the page
            // size when the first page is written). See ``Ledger/pageSize``.
            try db.execute(sql: "PRAGMA page_size = \(Ledger.pageSize)")
        }
        // Two processes creating the same ledger at once race on switching to WAL and on the
        // first migration (GRDB migrates in a deferred transaction, which SQLite cannot wait
        // on); the loser backs off and tries again, up to the busy timeout.
        let deadline = Timestamp.nowMicros() + Int64(busyTimeout * 1_000_000)
        var attempt = 0
        while true {
            do {
                let queue = try DatabaseQueue(path: path, configuration: config)
                let ledger = Ledger(path: path, queue: queue, mirrorOf: mirrorOf)
                if config.readonly {
                    try ledger.checkFormat()
                } else {
                    try ledger.migrate()
                }
                return ledger
            } catch let error as LedgerError {
                throw error
            } catch {
                let translated = Ledger.translate(error, path: path)
                // A read-only file (permissions, immutable, read-only mount) can still be read:
                // open it read-only; any write then fails with a clear "read-only" message.
                if exists, !config.readonly, case .storage = translated, (error as? DatabaseError)?.resultCode == .SQLITE_READONLY {
                    config.readonly = true
                    continue
                }
                attempt += 1
                let racing: Bool
                if case .busy = translated { racing = true } else {
                    // Another process ran the same migration first: its table or column is there.
                    let message = (error as? DatabaseError)?.message ?? ""
                    racing = message.contains("already exists") || message.contains("duplicate column")
                }
                guard racing, Timestamp.nowMicros() < deadline else { throw translated }
                usleep(UInt32(min(200_000, 5_000 * attempt)) + UInt32.random(in: 0..<5_000))
            }
        }
    }

    private func migrate() throws {
        try checkFormat()
        // Migrate only when needed: a current ledger on a read-only file can still be read.
        let current = try queue.read { try Schema.migrator.hasCompletedMigrations($0) }
        if !current { try Schema.migrator.migrate(queue) }
    }

    /// Refuses a file that is not a Trellis ledger, or one written by a newer Trellis.
    private func checkFormat() throws {
        try queue.read { db in
            if try db.tableExists("ledger_meta"),
               let format = try String.fetchOne(db, sql: "SELECT value FROM ledger_meta WHERE key = 'format'"),
               (Int(format) ?? Int.max) > Schema.format {
                throw LedgerError.newerFormat(path: path, format: format)
            }
            if try !db.tableExists("events") {
                let others = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%'") ?? 0
                if others > 0 { throw LedgerError.corrupt(path: path, reason: "a SQLite database, but not a Trellis ledger") }
            }
            let migrator = Schema.migrator
            if try migrator.hasBeenSuperseded(db) {
                throw LedgerError.newerFormat(path: path, format: "with migrations unknown to this build")
            }
        }
    }

    /// Maps SQLite's errors to what a user can act on.
    public static func translate(_ error: any Error, path: String) -> LedgerError {
        if let e = error as? LedgerError { return e }
        guard let e = error as? DatabaseError else { return .database("\(error)") }
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .busy(path: path, seconds: busyTimeout)
        case .SQLITE_FULL: return .storage(path: path, reason: "the disk is full")
        case .SQLITE_READONLY: return .storage(path: path, reason: "the file or its directory is read-only")
        case .SQLITE_IOERR:
            return .storage(path: path, reason: "writing failed: the disk may be full or a file-size limit reached (SQLite: \(e.message ?? "I/O error"))")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: return .cannotOpen(path: path, reason: e.message ?? "permission denied")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .corrupt(path: path, reason: e.message ?? "file is not a database")
        default: return .database(e.message ?? "\(e)")
        }
    }

    /// The file's own GRDB connection, for the read side only (TrellisProjections imports
    /// `@_spi(ReadSide) import TrellisLedger`): a SQLite ledger keeps its read models in the
    /// same file. Every other module reaches the log through ``LedgerStore`` and the read
    /// models through TrellisProjections/TrellisReports; a plain `import TrellisLedger` does
    /// not see this property, so the compiler enforces the boundary.
    @_spi(ReadSide) public var database: DatabaseQueue { queue }

    /// Runs a read, translating errors.
    func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try queue.read(body) } catch { throw Ledger.translate(error, path: path) }
    }

    // MARK: - Head and status

    public typealias Head = LedgerHead

    public func head() throws(LedgerError) -> Head {
        try read { db in try Ledger.head(db) }
    }

    /// True when `events` holds no row at all (whatever the head says of a damaged file).
    static func logIsEmpty(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM events)") ?? false
    }

    static func head(_ db: Database) throws -> Head {
        let stmt = try db.cachedStatement(sql: "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1")
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        guard try Raw.step(s, db), let hash = Raw.column(s, 1) else {
            return Head(seq: 0, hash: CanonicalEnvelope.genesis, recordedAt: nil)
        }
        return Head(seq: Raw.int(s, 0), hash: Array(hash), recordedAt: Raw.string(s, 2))
    }

    /// A text key that sorts `occurred_at` in time order: fractions of a second padded to
    /// nine digits (`…00Z` and `…00.5Z` do not sort as text).
    static let occurredSortKey = """
        substr(occurred_at, 1, 19) || substr(CASE WHEN length(occurred_at) > 20 THEN substr(occurred_at, 21, length(occurred_at) - 21) ELSE '' END || '000000000', 1, 9)
        """

    public typealias Status = LedgerStatus

    /// The earliest and latest `occurred_at` in ``occurredSortKey`` order, in one pass that
    /// reads that column alone and computes the key from its bytes (``occurredSortKey(_:into:)``):
    /// two `ORDER BY … LIMIT 1` scans evaluating the key in SQL took half a second of
    /// `trellis status` at 1 M events. Text that is not ASCII (never written by Trellis: a
    /// tampered file) is left to SQLite's own key, whose `substr` counts characters.
    static func occurredBounds(_ db: Database) throws -> (first: String?, last: String?) {
        let stmt = try db.makeStatement(sql: "SELECT occurred_at FROM events")
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        var least: (key: [UInt8], text: [UInt8])?, most: (key: [UInt8], text: [UInt8])?
        var key = [UInt8](repeating: 0, count: 64)
        while try Raw.step(s, db) {
            guard let text = Raw.column(s, 0) else { continue }
            var high: UInt8 = 0
            for c in text { high |= c }
            guard high < 0x80, text.count <= 40 else {
                return (try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(occurredSortKey) LIMIT 1"),
                        try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(occurredSortKey) DESC LIMIT 1"))
            }
            let n = key.withUnsafeMutableBufferPointer { occurredSortKey(text, into: $0) }
            let k = key.prefix(n)
            if least.map({ k.lexicographicallyPrecedes($0.key) }) ?? true { least = (Array(k), Array(text)) }
            if most.map({ $0.key.lexicographicallyPrecedes(k) }) ?? true { most = (Array(k), Array(text)) }
        }
        func string(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
        return (string(least?.text), string(most?.text))
    }

    /// ``occurredSortKey`` of ASCII text, written into `out` (room for 28 bytes); its length.
    /// The first 19 characters, then the characters from the 21st up to the last one (a
    /// fraction's digits before the `Z`), padded with zeros and cut to nine.
    static func occurredSortKey(_ t: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var n = 0
        for i in 0..<min(19, t.count) { out[n] = t[i]; n += 1 }
        var fraction = 0
        if t.count > 20 {
            for i in 20..<(t.count - 1) where fraction < 9 { out[n] = t[i]; n += 1; fraction += 1 }
        }
        while fraction < 9 { out[n] = UInt8(ascii: "0"); n += 1; fraction += 1 }
        return n
    }

    public func status() throws(LedgerError) -> Status {
        let (head, first, last) = try read { db in
            let bounds = try Ledger.occurredBounds(db)
            return (try Ledger.head(db), bounds.first, bounds.last)
        }
        var bytes: Int64 = 0
        for suffix in ["", "-wal"] {
            var st = stat()
            if stat(path + suffix, &st) == 0 { bytes += Int64(st.st_size) }
        }
        return Status(events: head.seq, head: head, firstOccurredAt: first, lastOccurredAt: last, storageBytes: bytes)
    }
}

extension Ledger {
    public static func exists(at path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
