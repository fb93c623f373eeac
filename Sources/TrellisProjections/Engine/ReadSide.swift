import GRDB
@_spi(ReadSide) import TrellisLedger
import TrellisCore

/// The SQLite database that holds the read models (`projection_state` and the tables the
/// definitions own) next to the read side's copy of the log, the `events` table that
/// projection definitions replay from.
///
/// For a SQLite ``Ledger`` it is the ledger file itself, reached through the file's own
/// connection (`@_spi(ReadSide)`: this module is the only one that imports it). For a log
/// kept elsewhere (PostgreSQL) it will be a local cache file that mirrors the log's public
/// columns. Other modules get read-only access here (``read(_:)``), never the log's
/// connection: they reach the log through ``LedgerStore``.
///
/// ## Topics
/// - ``init(ledger:)``
/// - ``path``
/// - ``read(_:)``
/// - ``write(_:)``
/// - ``writeIfFree(_:)``
/// - ``closeAsSingleFile()``
/// - ``position(_:)``
public final class ReadSide: Sendable {
    /// The database file, for messages and for attaching it to a snapshot.
    public let path: String
    let queue: DatabaseQueue

    /// The read side of a SQLite ledger: the ledger file.
    public init(ledger: Ledger) {
        path = ledger.path
        queue = ledger.database
    }

    /// One read transaction (GRDB makes it read-only): a report sees one consistent state.
    /// SQLite's errors come through as they are (`DatabaseError`).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.read(body)
    }

    /// One write transaction, for what a file keeps beside its read models (a study file's
    /// `study_meta`). Read models themselves are written by the engine only.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.write(body)
    }

    /// One write transaction taken only if no other connection holds the write lock: nil
    /// when busy, instead of waiting the busy timeout. For what is worth keeping but not
    /// worth waiting for (a report's cache entry).
    public func writeIfFree<T>(_ body: (Database) throws -> T) throws -> T? {
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = 0")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Int(Ledger.busyTimeout * 1000))") }
            var result: T?
            do {
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
            } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
                return nil
            }
            return result
        }
    }

    /// Checkpoints the WAL into the file, leaves WAL mode and closes the connection: one
    /// self-contained file (a study file read by sqlite3, R or Python). Nothing may use the
    /// ledger or this read side afterwards.
    public func closeAsSingleFile() throws {
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
        }
        try queue.close()
    }

    /// A second, read-only connection to the read side's file, for work on another thread that
    /// must see exactly what one read transaction of ``read(_:)`` sees: a report's figures on
    /// this thread, the read models' digests on another (SQLite cannot share one transaction
    /// between threads, and this build has no `sqlite3_snapshot_open`). Nil when the file
    /// cannot be opened a second time (the caller then does the work in its own transaction).
    ///
    /// Open it *before* the transaction it is to match begins; ``Companion/readIfUnchanged(_:)``
    /// then runs its body only if nothing was committed to the file between the two.
    public func companion() -> Companion? {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(Ledger.busyTimeout)
        guard let queue = try? DatabaseQueue(path: path, configuration: config),
              let version = try? queue.read({ db in try Int64.fetchOne(db, sql: "PRAGMA data_version") }) else { return nil }
        return Companion(queue: queue, baseline: version)
    }

    /// See ``ReadSide/companion()``.
    public final class Companion: @unchecked Sendable {
        private let queue: DatabaseQueue
        /// `PRAGMA data_version` when the companion was opened: it changes when another
        /// connection commits to the file (SQLite notices at the start of each read).
        private let baseline: Int64

        init(queue: DatabaseQueue, baseline: Int64) {
            self.queue = queue
            self.baseline = baseline
        }

        /// Runs `body` in a read transaction that sees the same state as any transaction of the
        /// read side that began after the companion was opened and before this call: the
        /// transaction's first read checks that nothing was committed since the companion was
        /// opened, so both saw the last commit before it. Nil, with nothing run, when something was.
        public func readIfUnchanged<T>(_ body: (Database) throws -> T) throws -> T? {
            try queue.read { db in
                guard try Int64.fetchOne(db, sql: "PRAGMA data_version") == baseline else { return nil }
                return try body(db)
            }
        }
    }

    /// The last event of the read side's copy of the log, as `db` sees it (the caller's
    /// transaction): the position the read models in `db` were caught up from.
    public static func position(_ db: Database) throws -> LedgerHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1") else {
            return LedgerHead(seq: 0, hash: CanonicalEnvelope.genesis, recordedAt: nil)
        }
        let hash: [UInt8] = (row[1] as DatabaseValue?).flatMap { value -> [UInt8]? in
            if case .blob(let d) = value.storage { return Array(d) } else { return nil }
        } ?? []
        return LedgerHead(seq: row[0], hash: hash, recordedAt: row[2])
    }
}
