import Foundation
import GRDB
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

    /// The PostgreSQL store's append lock (`PostgresSchema.appendLock`, "trellis" in ASCII).
    static let appendLockKey: Int64 = 0x74_72_65_6C_6C_69_73

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

    /// A ledger this user may read but not write: a read-only file, or on PostgreSQL a login in
    /// the reader role (`init --create-roles`), which has SELECT only.
    @Test func aReadOnlyLedgerCanBeReadButNotWritten() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        if TestStore.isPostgreSQL {
            let owner = try TestStore.database(for: dir.ledgerPath)
            let role = "r_" + sha256Hex(Data(dir.ledgerPath.utf8)).prefix(16), password = "pw" + sha256Hex(Data(role.utf8)).prefix(12)
            let roles = try runTrellis(["init", "--db", owner, "--create-roles", "--reader-role", role, "--writer-role", "w" + role.dropFirst()])
            #expect(roles.status == 0, "\(roles)")
            #expect(try TestStore.psql(dir.ledgerPath, "ALTER ROLE \(role) LOGIN PASSWORD '\(password)'").status == 0)
            defer { _ = try? TestStore.psql(dir.ledgerPath, "DROP OWNED BY \(role), w\(role.dropFirst()) CASCADE; DROP ROLE \(role); DROP ROLE w\(role.dropFirst())") }
            let asReader = owner.replacingOccurrences(of: "://trellis_test@", with: "://\(role)@")
            #expect(asReader != owner)
            let env = ["PGPASSWORD": password, "TRELLIS_CACHE": dir.file("reader-cache.db")]
            let status = try runTrellis(["status", "--db", asReader], env: env)
            #expect(status.status == 0, "reading still works: \(status)")
            let verify = try runTrellis(["verify", "--db", asReader], env: env)
            #expect(verify.status == 0, "\(verify)")
            let append = try runTrellis(["import", "--db", asReader, try dir.writeLines("more.ndjson", moreEvents(3, prefix: "ro"))], env: env)
            #expect(append.status == 74, "\(append)")
            #expect(append.stderr.contains("this role may not do that") && append.stderr.contains("nothing was written"), "\(append)")
            #expect(try events(dir.ledgerPath) == Fixture.count)
            return
        }
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

    @Test(.enabled(if: TestStore.isFile, "file store only: ulimit -f caps the files this process writes, which a server's disk is not (the server's full disk: aFullServerDiskRollsTheImportBackAndLosesNothing)")) func aFullDiskRollsTheImportBackAndLosesNothing() throws {
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

    @Test(.enabled(if: TestStore.isFile, "file store only: the ledger given is a file of garbage bytes or another program's SQLite file (the database that is not a ledger: PostgresStoreTests.openingADatabaseWithoutTheSchemaSaysSo)")) func aFileThatIsNotALedgerIsRefusedClearly() throws {
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

    /// The PostgreSQL form of a full disk: the log's table moved (as the owner) to a tablespace
    /// on a 2 MB tmpfs, so the server runs out of room mid-import (SQLSTATE 53100). Needs root
    /// to mount it, as CI runs; without root it fails rather than skips.
    @Test(.enabled(if: TestStore.isPostgreSQL, "PostgreSQL store only: the server's disk fills (the file's full disk is the test above)")) func aFullServerDiskRollsTheImportBackAndLosesNothing() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let mount = dir.file("small-disk")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try runTool("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount])
        try #require(mounted.status == 0, "mounting a 2 MB tmpfs needs root: \(mounted)")
        defer { _ = try? runTool("umount", ["-l", mount]) }
        #expect(try runTool("chown", ["postgres:", mount]).status == 0 || getuid() != 0)
        let space = "small_" + sha256Hex(Data(dir.ledgerPath.utf8)).prefix(12)
        #expect(try runTool("psql", ["-X", "-q", "-d", try TestStore.database(for: dir.ledgerPath), "-c", "CREATE TABLESPACE \(space) LOCATION '\(mount)'"]).status == 0)
        defer { _ = try? runTool("psql", ["-X", "-q", "-d", try TestStore.database(for: dir.ledgerPath), "-c", "DROP TABLESPACE IF EXISTS \(space)"]) }
        #expect(try TestStore.psql(dir.ledgerPath, "ALTER TABLE events SET TABLESPACE \(space)").status == 0)
        let big = try dir.writeLines("big.ndjson", moreEvents(20_000, prefix: "full"))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, big])
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("disk") && r.stderr.contains("full") && r.stderr.contains("nothing was written"), "\(r)")
        #expect(try events(dir.ledgerPath) == Fixture.count, "no event of the failed batch is present")
        // With room again, the same import goes through whole.
        #expect(try TestStore.psql(dir.ledgerPath, "ALTER TABLE events SET TABLESPACE pg_default").status == 0)
        let verify = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(verify.status == 0, "\(verify)")
        let again = try runTrellis(["import", "--db", dir.ledgerPath, big])
        #expect(again.status == 0, "\(again)")
        #expect(try events(dir.ledgerPath) == Fixture.count + 20_000)
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: overwrites bytes in the middle of the SQLite file; a server's pages are the server's to checksum")) func aDamagedPageIsReportedNotCrashedOn() throws {
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

    /// A damaged page that no row of the log crosses: a leaf of the `id` index, which the chain
    /// check never reads (it scans the table) and the replay never reads (it builds its own).
    /// Full verify names it through SQLite's structural check; `--chain-only`, which does not
    /// make that check, still finds the chain intact. (With 16 KiB pages the middle of the
    /// test above fell on such a page, and full verify said "ok".)
    @Test(.enabled(if: TestStore.isFile, "file store only: overwrites a page of the SQLite file")) func aDamagedIndexPageIsNamedByFullVerify() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try dir.writeLines("more.ndjson", moreEvents(3000, prefix: "ix"))]).status == 0)
        let (page, pageSize): (Int64, Int64) = try {
            let queue = try DatabaseQueue(path: dir.ledgerPath)
            defer { try? queue.close() }
            return try queue.read { db in
                let page = try #require(try Int64.fetchOne(db, sql: "SELECT pageno FROM dbstat WHERE name = 'sqlite_autoindex_events_1' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1"))
                return (page, try #require(try Int64.fetchOne(db, sql: "PRAGMA page_size")))
            }
        }()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.ledgerPath))
        try handle.seek(toOffset: UInt64((page - 1) * pageSize))
        handle.write(Data(repeating: 0xA5, count: Int(pageSize)))
        try handle.close()
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.hasPrefix("broken: the file is damaged"), "\(v)")
        #expect(v.stdout.contains("damage: Page \(page)"), "\(v)")
        #expect(!v.stderr.contains("Fatal error"), "\(v)")
        let chain = try runTrellis(["verify", "--chain-only", "--db", dir.ledgerPath])
        #expect(chain.status == 0, "the chain check reads the table only: \(chain)")
    }

    @Test func aLedgerWrittenByANewerTrellisIsRefused() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let newer = "UPDATE ledger_meta SET value = '2' WHERE key = 'format'"
        #expect(try TestStore.tamper(dir.ledgerPath, file: newer, postgres: newer).status == 0)
        for args in [["status"], ["import", try dir.writeLines("more.ndjson", moreEvents(1, prefix: "nv"))]] {
            let r = try runTrellis(Array(args.prefix(1)) + ["--db", dir.ledgerPath] + Array(args.dropFirst()))
            #expect(r.status == 65, "\(args): \(r)")
            #expect(r.stderr.contains("newer Trellis"), "\(args): \(r)")
        }
        #expect(try TestStore.tamper(dir.ledgerPath, file: "UPDATE ledger_meta SET value = '1' WHERE key = 'format'; INSERT INTO grdb_migrations VALUES ('v9: from the future')",
                                     postgres: "UPDATE ledger_meta SET value = '1' WHERE key = 'format'; INSERT INTO ledger_migrations (name) VALUES ('v9: from the future')").status == 0)
        let r = try runTrellis(["status", "--db", dir.ledgerPath])
        #expect(r.status == 65 && r.stderr.contains("newer Trellis"), "\(r)")
    }

    /// Another process holds the write lock (SQLite's, or on PostgreSQL the append lock every
    /// writer takes, `pg_advisory_xact_lock`) longer than TRELLIS_BUSY_TIMEOUT: exit 75.
    @Test func aLockHeldPastTheBusyTimeoutFailsCleanlyAndLosesNothing() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        /// Holds the ledger's write lock for `seconds` in another process.
        func holdTheLock(_ seconds: Int) throws -> RunningProcess {
            if TestStore.isPostgreSQL {
                return try RunningProcess(executable: "/usr/bin/env", arguments: ["psql", "-X", "-q", "-d", try TestStore.database(for: dir.ledgerPath), "-c",
                    "BEGIN; SELECT pg_advisory_xact_lock(\(Self.appendLockKey)); SELECT pg_sleep(\(seconds)); COMMIT"])
            }
            return try RunningProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", """
                import sqlite3, sys, time
                c = sqlite3.connect(sys.argv[1], isolation_level=None)
                c.execute("BEGIN IMMEDIATE"); time.sleep(\(seconds)); c.execute("ROLLBACK")
                """, dir.ledgerPath])
        }
        // Another process takes the write lock and holds it for 4 s.
        let holder = try holdTheLock(4)
        Thread.sleep(forTimeInterval: 1)
        let file = try dir.writeLines("more.ndjson", moreEvents(10, prefix: "lk"))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file], env: ["TRELLIS_BUSY_TIMEOUT": "1"])
        #expect(r.status == 75, "\(r)")
        #expect(r.stderr.contains("locked") && r.stderr.contains("nothing was written"), "\(r)")
        _ = holder.finish()
        #expect(try events(dir.ledgerPath) == Fixture.count)
        // With the default timeout a writer simply waits its turn.
        let waits = try holdTheLock(2)
        Thread.sleep(forTimeInterval: 0.5)
        let patient = try runTrellis(["import", "--db", dir.ledgerPath, file])
        _ = waits.finish()
        #expect(patient.status == 0, "\(patient)")
        #expect(try events(dir.ledgerPath) == Fixture.count + 10)
    }
}
