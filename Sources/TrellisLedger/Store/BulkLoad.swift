import GRDB

// A batch into an empty log (the first import of a region, an archive into a new ledger) is
// written with a rollback journal instead of the WAL. In WAL mode every page of the new log is
// written twice: as a WAL frame, then by the checkpoint that copies it into the database file,
// and the WAL it leaves behind, as large as the ledger, must then be freed. With a rollback
// journal (`journal_mode = DELETE`) a page that did not exist before the transaction is not
// journalled at all: it is written once, into the file. The journal holds only the few pages
// an empty ledger had (its schema), so atomicity and durability (`synchronous = FULL`) are as
// before: a crash mid-import leaves a hot journal that the next connection rolls back.
//
// Measured at 1 M generated events: `trellis import`, medians of four pairs, 2.25 → 1.63 s of
// wall time and 3.38 → 2.85 s of CPU; in `make bench` (another, slower spell), the import
// 430 → 465 k/s and the archive import 367 → 490 k/s. The raw same-schema insert gains as
// much or more (652 → 845 k/s), so the bench's import limit is now the faster of the two.
//
// The ledger goes back to WAL right after the transaction (committed or not), before anything
// else is done on it, so it is in WAL mode whenever no bulk load is under way. While one is,
// another process that opens the ledger waits for it (switching to WAL needs the file to
// itself), where in WAL mode it would have read the empty log at once.

extension Ledger {
    /// One batch's write transaction (`BEGIN IMMEDIATE`, `body` deciding commit or rollback),
    /// with a rollback journal when the log is empty, switched back to WAL afterwards. A switch
    /// SQLite refuses (another connection has the file open) leaves the journal as it was: the
    /// batch is then written through the WAL as any other. Only a file in WAL mode is switched:
    /// full verify's scratch copy of the log, journal off, stays so.
    static func batchTransaction(_ db: Database, _ body: () throws -> Database.TransactionCompletion) throws {
        guard try logIsEmpty(db), (try? String.fetchOne(db, sql: "PRAGMA journal_mode")) == "wal",
              (try? String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")) == "delete" else {
            return try db.inTransaction(.immediate, body)
        }
        defer { restoreWAL(db) }
        try db.inTransaction(.immediate, body)
    }

    /// Back to WAL after a bulk load. Should the switch fail (another process opened the file in
    /// the meantime), the ledger stays in rollback-journal mode until the next connection that
    /// opens it, which always asks for WAL (``Ledger/open(at:create:mirrorOf:)``): the committed
    /// data is the same in either mode.
    static func restoreWAL(_ db: Database) {
        _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
    }
}
