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
