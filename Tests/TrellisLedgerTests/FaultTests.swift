import Foundation
import Testing
import TrellisLedger

/// Faults a ledger meets in the field: each gets a clear message and its exit code, and loses
/// nothing that was acknowledged.
@Suite struct FaultTests {
    func fixtureDir() throws -> ScratchDir {
        let dir = try ScratchDir("faults")
        let r = try runTrellis(["import", "--db", dir.ledgerPath, try dir.writeLines("fixture.ndjson", Fixture.lines)])
        #expect(r.status == 0, "\(r)")
        return dir
    }

    func events(_ db: String) throws -> Int {
        let r = try runTrellis(["status", "--db", db, "--format", "json"])
        return (try parseJSONObject(r.stdout)["events"] as? Int) ?? -1
    }

    func moreEvents(_ n: Int, prefix: String) -> [String] {
        (0..<n).map { k in
            envelope("AttendanceRecorded", id: "\(prefix)-\(k)", at: "2025-09-15",
                     actor: String(repeating: "registers typed up by the network office ", count: 4),
                     ["meeting_id": "m1", "org_id": "oak", "status": "present"])
        }
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: a fault of the ledger file itself (damaged page, full disk, lock, permissions)")) func aReadOnlyLedgerCanBeReadButNotWritten() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        // Root ignores permission bits; the immutable attribute binds root too.
        let root = getuid() == 0
        if root {
            let lock = try runTool("chattr", ["+i", dir.ledgerPath])
            try #require(lock.status == 0, "chattr +i is needed to make the file read-only for root: \(lock)")
        } else {
            chmod(dir.ledgerPath, 0o444)
        }
        defer { if root { _ = try? runTool("chattr", ["-i", dir.ledgerPath]) } }
        let status = try runTrellis(["status", "--db", dir.ledgerPath])
        #expect(status.status == 0, "reading still works: \(status)")
        let verify = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(verify.status == 0, "\(verify)")
        let append = try runTrellis(["import", "--db", dir.ledgerPath, try dir.writeLines("more.ndjson", moreEvents(3, prefix: "ro"))])
        #expect(append.status == 74, "\(append)")
        #expect(append.stderr.contains("read-only") && append.stderr.contains("nothing was written"), "\(append)")
        #expect(!append.stderr.contains("Fatal") && !append.stderr.contains("0x0"))
        #expect(try events(dir.ledgerPath) == Fixture.count)
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: a fault of the ledger file itself (damaged page, full disk, lock, permissions)")) func aFullDiskRollsTheImportBackAndLosesNothing() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let big = try dir.writeLines("big.ndjson", moreEvents(20_000, prefix: "full"))
        // ulimit -f caps the size of any file the import writes (in KiB): the WAL hits it.
        let capKiB = 1024
        let r = try runTool("bash", ["-c", "ulimit -f \(capKiB); exec \"\(TestPaths.trellis)\" import --db \"\(dir.ledgerPath)\" \"\(big)\""])
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("disk") && r.stderr.contains("full") && r.stderr.contains("nothing was written"), "\(r)")
        #expect(try events(dir.ledgerPath) == Fixture.count, "no event of the failed batch is present")
        let verify = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(verify.status == 0, "\(verify)")
        // With room again, the same import goes through whole.
        let again = try runTrellis(["import", "--db", dir.ledgerPath, big])
        #expect(again.status == 0, "\(again)")
        #expect(try events(dir.ledgerPath) == Fixture.count + 20_000)
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aFileThatIsNotALedgerIsRefusedClearly() throws {
        let dir = try ScratchDir("faults")
        defer { dir.remove() }
        let garbage = try dir.write("garbage.db", Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        for args in [["status"], ["verify"], ["log"], ["import", try dir.writeLines("x.ndjson", Fixture.lines)]] {
            let r = try runTrellis(Array(args.prefix(1)) + ["--db", garbage] + Array(args.dropFirst()))
            #expect(r.status == 65, "\(args): \(r)")
            #expect(r.stderr.contains("not a readable Trellis ledger"), "\(args): \(r)")
        }
        let other = dir.file("other.db")
        _ = try sqlite3(other, "CREATE TABLE patients (id INTEGER)")
        let r = try runTrellis(["status", "--db", other])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("not a Trellis ledger"), "\(r)")
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: a fault of the ledger file itself (damaged page, full disk, lock, permissions)")) func aDamagedPageIsReportedNotCrashedOn() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try dir.writeLines("more.ndjson", moreEvents(3000, prefix: "pg"))]).status == 0)
        // Overwrite the middle of the file with noise.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.ledgerPath))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 8192))
        try handle.close()
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect([1, 65].contains(v.status), "\(v)")
        #expect(v.stdout.contains("broken") || v.stderr.contains("not a readable Trellis ledger") || v.stderr.contains("damaged"), "\(v)")
        #expect(!v.stderr.contains("Fatal error"), "\(v)")
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aLedgerWrittenByANewerTrellisIsRefused() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        _ = try sqlite3(dir.ledgerPath, "UPDATE ledger_meta SET value = '2' WHERE key = 'format'")
        for args in [["status"], ["import", try dir.writeLines("more.ndjson", moreEvents(1, prefix: "nv"))]] {
            let r = try runTrellis(Array(args.prefix(1)) + ["--db", dir.ledgerPath] + Array(args.dropFirst()))
            #expect(r.status == 65, "\(args): \(r)")
            #expect(r.stderr.contains("newer Trellis"), "\(args): \(r)")
        }
        _ = try sqlite3(dir.ledgerPath, "UPDATE ledger_meta SET value = '1' WHERE key = 'format'; INSERT INTO grdb_migrations VALUES ('v9: from the future')")
        let r = try runTrellis(["status", "--db", dir.ledgerPath])
        #expect(r.status == 65 && r.stderr.contains("newer Trellis"), "\(r)")
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: a fault of the ledger file itself (damaged page, full disk, lock, permissions)")) func aLockHeldPastTheBusyTimeoutFailsCleanlyAndLosesNothing() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        // Another process takes the write lock and holds it for 4 s.
        let holder = try RunningProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(4)
            c.execute("ROLLBACK")
            """, dir.ledgerPath])
        Thread.sleep(forTimeInterval: 1)
        let file = try dir.writeLines("more.ndjson", moreEvents(10, prefix: "lk"))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file], env: ["TRELLIS_BUSY_TIMEOUT": "1"])
        #expect(r.status == 75, "\(r)")
        #expect(r.stderr.contains("locked") && r.stderr.contains("nothing was written"), "\(r)")
        _ = holder.finish()
        #expect(try events(dir.ledgerPath) == Fixture.count)
        // With the default timeout a writer simply waits its turn.
        let waits = try RunningProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE"); time.sleep(2); c.execute("ROLLBACK")
            """, dir.ledgerPath])
        Thread.sleep(forTimeInterval: 0.5)
        let patient = try runTrellis(["import", "--db", dir.ledgerPath, file])
        _ = waits.finish()
        #expect(patient.status == 0, "\(patient)")
        #expect(try events(dir.ledgerPath) == Fixture.count + 10)
    }
}
