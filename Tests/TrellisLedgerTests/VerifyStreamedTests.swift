import Foundation
import Testing
import TrellisLedger

/// Full `trellis verify` runs the chain, the replay and the read-model check at once and
/// compares read models streamed in key order (digests only when a row differs). What it
/// reports must be what comparing one after the other, by digest, reports: real ledgers,
/// tampered with the sqlite3 shell, the real binary.
@Suite struct VerifyStreamedTests {
    func ledgerDir() throws -> ScratchDir {
        try importedFixture("verify-streamed", [
            envelope("AttendanceRecorded", id: "att-oak", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "oak", "status": "absent"]),
            envelope("AttendanceRecorded", id: "att-ash", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "ash", "status": "present"]),
        ])
    }

    /// The same bytes in another storage class (a status as a blob) are a difference: the
    /// streamed comparison looks at the class, and the digests it falls back to tell them apart.
    @Test(.enabled(if: TestStore.isFile, "file store only: tampers with the SQLite ledger file (sqlite3)"))
    func aValueStoredInAnotherClassIsADifference() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        try sql(dir.ledgerPath, "UPDATE attendance SET status = CAST(status AS BLOB) WHERE org_id = 'oak'")
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("derived state: read model attendance"), "\(v)")
        #expect(v.stdout.contains("table attendance differs from a rebuild"), "\(v)")
    }

    /// A user table without a primary key is compared in the order of all its columns: the
    /// same rows stored in another order are consistent; one row swapped for a copy of
    /// another (same count) is not.
    @Test(.enabled(if: TestStore.isFile, "file store only: tampers with the SQLite ledger file (sqlite3)"))
    func aTableWithoutAKeyIsComparedAsItsRows() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let def = try dir.write("log.sql", """
            -- projection: attendance_log
            -- Every register, in no particular order.
            -- tables
            CREATE TABLE attendance_log (org_id TEXT NOT NULL, status TEXT NOT NULL);
            -- on AttendanceRecorded
            INSERT INTO attendance_log (org_id, status) VALUES (:org_id, :status);

            """)
        #expect(try runTrellis(["projections", "digest", "--db", dir.ledgerPath, "--projection", def]).status == 0)
        let ok = try runTrellis(["verify", "--db", dir.ledgerPath, "--projection", def])
        #expect(ok.status == 0, "\(ok)")
        // The rows stored again in reverse order: the same table.
        try sql(dir.ledgerPath, """
            CREATE TABLE keep AS SELECT * FROM attendance_log ORDER BY rowid DESC;
            DELETE FROM attendance_log; INSERT INTO attendance_log SELECT * FROM keep; DROP TABLE keep;
            """)
        let reordered = try runTrellis(["verify", "--db", dir.ledgerPath, "--projection", def])
        #expect(reordered.status == 0, "\(reordered)")
        // One row replaced by a copy of another: the count holds, the rows do not.
        try sql(dir.ledgerPath, """
            DELETE FROM attendance_log WHERE rowid = (SELECT max(rowid) FROM attendance_log);
            INSERT INTO attendance_log SELECT * FROM attendance_log WHERE rowid = (SELECT min(rowid) FROM attendance_log);
            """)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath, "--projection", def])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("table attendance_log differs from a rebuild"), "\(v)")
    }

    /// The chain is checked while the derived state is: a broken chain is still reported
    /// alone, as when the chain ran first (no `derived state:` line).
    @Test(.enabled(if: TestStore.isFile, "file store only: tampers with the SQLite ledger file (sqlite3)"))
    func aBrokenChainIsReportedAloneByAFullVerify() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, "DROP TRIGGER events_no_update; UPDATE events SET occurred_at = '2001-01-01' WHERE seq = 3; "
            + "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END")
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.hasPrefix("broken at seq 3: "), "\(v)")
        #expect(!v.stdout.contains("derived state"), "\(v)")
    }
}
