import Foundation
import Testing
import TrellisLedger

/// Attacks on `trellis verify` and erasure by someone who can write the file (the sqlite3
/// shell on a real ledger), each of which verify used to pass with exit 0. Run against the
/// real binary.
@Suite struct RedTeamTests {
    /// The fixture region imported by the real binary, and the read models built.
    func ledgerDir() throws -> ScratchDir {
        let dir = try ScratchDir("redteam")
        let file = try dir.writeLines("region.ndjson", Fixture.lines + [
            envelope("AttendanceRecorded", id: "att-oak", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "oak", "status": "present"]),
        ])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 0, "\(r)")
        let d = try runTrellis(["projections", "digest", "--db", dir.ledgerPath])
        #expect(d.status == 0, "\(d)")
        return dir
    }

    func sql(_ db: String, _ text: String) throws {
        let r = try sqlite3(db, text)
        #expect(r.status == 0, "\(r)")
    }

    /// A trigger that keeps a copy of every future key (hex, so no byte search finds it),
    /// made `ON PERSON_KEYS`: SQLite stores the table name as spelt, and verify compared it
    /// case-sensitively with `person_keys`, so it passed; erasures after it left the key behind.
    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aKeyStealingTriggerInAnySpellingIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, """
            CREATE TABLE stash (p, k);
            CREATE TRIGGER keep AFTER INSERT ON PERSON_KEYS BEGIN INSERT INTO stash VALUES (new.person_id, hex(new.key)); END;
            """)
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("an extra trigger keep on PERSON_KEYS, which Trellis never creates"), "\(v)")
        }
    }

    /// A trigger on a table that is neither the ledger's nor a read model's (here the schema's
    /// bookkeeping `grdb_migrations`, and a table of nobody's) is tampering as well: nothing
    /// Trellis runs creates one.
    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aTriggerOnAnyOtherTableIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, """
            CREATE TABLE nobody (x);
            CREATE TRIGGER on_nobody AFTER INSERT ON nobody BEGIN DELETE FROM attendance; END;
            CREATE TRIGGER on_migrations AFTER INSERT ON grdb_migrations BEGIN SELECT 1; END;
            """)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"])
        #expect(v.status == 1, "\(v)")
        #expect(v.stderr.contains("an extra trigger on_nobody on nobody"), "\(v)")
        #expect(v.stderr.contains("an extra trigger on_migrations on grdb_migrations"), "\(v)")
    }

    /// A trigger on a read-model table spelt `ATTENDANCE`, and an index the definition does not
    /// declare, were not part of the schema verify compared: both rewrite what the next
    /// catch-up writes (a partial UNIQUE index makes `INSERT OR IGNORE` drop rows).
    @Test func anUndeclaredTriggerOrIndexOnAReadModelIsNamed() throws {
        let one = try ledgerDir(), two = try ledgerDir()
        defer { one.remove(); two.remove() }
        let trigger = one.ledgerPath, index = two.ledgerPath
        try sql(trigger, "CREATE TRIGGER thin AFTER INSERT ON ATTENDANCE BEGIN DELETE FROM attendance WHERE rowid = new.rowid; END;")
        try sql(index, "CREATE UNIQUE INDEX one_per_meeting ON attendance (meeting_id) WHERE meeting_id <> '';")
        // Any trigger outside the migrations is named by the chain check already.
        let t = try runTrellis(["verify", "--db", trigger])
        #expect(t.status == 1, "\(t)")
        #expect(t.stdout.hasPrefix("broken: the ledger's schema is not the one Trellis creates"), "\(t)")
        #expect(t.stderr.contains("an extra trigger thin on ATTENDANCE, which Trellis never creates"), "\(t)")
        let i = try runTrellis(["verify", "--db", index])
        #expect(i.status == 1, "\(i)")
        #expect(i.stdout.contains("derived state: read model attendance (checkpoint 10): its schema differs from the definition's (not in the definition: index one_per_meeting on attendance"), "\(i)")
    }

    /// Text that is not valid UTF-8 was hashed as its repair (each bad byte as U+FFFD), so a
    /// read model whose `Café` (`…EFBFBD`) was replaced by the bytes `…FF` hashed the same
    /// and verify passed, while SQLite compares and groups the two apart.
    @Test func textThatIsNotUTF8DoesNotHashAsItsRepair() throws {
        let dir = try ScratchDir("redteam-utf8")
        defer { dir.remove() }
        let file = try dir.writeLines("orgs.ndjson", [
            envelope("OrganisationRegistered", id: "o1", at: "2025-09-01", ["org_id": "o1", "name": "Caf\u{FFFD}", "kind": "school"]),
        ])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        let before = try runTrellis(["projections", "digest", "--db", dir.ledgerPath])
        #expect(before.status == 0, "\(before)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        try sql(dir.ledgerPath, "UPDATE organisations SET name = CAST(x'436166FF' AS TEXT)")
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("derived state: read model organisations (checkpoint 1): table organisations differs from a rebuild through seq 1"), "\(v)")
        let after = try runTrellis(["projections", "digest", "--db", dir.ledgerPath])
        #expect(after.stdout != before.stdout, "\(after)")
    }

    /// A key swapped for another person's (or any 32 random bytes) passed verify, while every
    /// output then showed that person as "(erased)" although the log never erased them.
    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aKeyThatDoesNotOpenItsPersonsFieldsIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        try sql(dir.ledgerPath, "UPDATE person_keys SET key = (SELECT key FROM person_keys WHERE person_id = 'p-oak') WHERE person_id = 'p-ash'")
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("derived state: person_keys: the key for p-ash does not open the sealed name of its PersonRegistered (seq 6)"), "\(v)")
        #expect(!v.stdout.contains("the key for p-oak"), "\(v)")
    }

    /// With such a trigger in place, `erase` said "key destroyed, no copy left" (exit 0) while
    /// the key sat in the trigger's table as hex. It still records the erasure, but says what
    /// may remain and exits 75; `erase --finish` completes once the trigger is gone.
    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func eraseDoesNotClaimNoCopyLeftWhileAForeignTriggerCouldHaveCopiedTheKey() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, """
            CREATE TABLE stash (p, k);
            CREATE TRIGGER keep AFTER INSERT ON PERSON_KEYS BEGIN INSERT INTO stash VALUES (new.person_id, hex(new.key)); END;
            """)
        let zoe = try dir.writeLines("zoe.ndjson", [
            envelope("PersonRegistered", id: "p-zoe", at: "2025-09-02", ["person_id": "p-zoe", "org_id": "oak", "name": "Zoe Secret"]),
        ])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, zoe]).status == 0)
        let e = try runTrellis(["erase", "--db", dir.ledgerPath, "p-zoe", "--reason", "request"])
        #expect(e.status == 75, "\(e)")
        #expect(!e.stdout.contains("no copy left"), "\(e)")
        #expect(e.stderr.contains("the ledger has triggers Trellis never creates (keep on PERSON_KEYS), which may have copied the key"), "\(e)")
        #expect(try sqlite3(dir.ledgerPath, "SELECT count(*) FROM person_keys WHERE person_id = 'p-zoe'").stdout == "0\n")
        let still = try runTrellis(["erase", "--finish", "--db", dir.ledgerPath])
        #expect(still.status == 75, "\(still)")
        try sql(dir.ledgerPath, "DROP TRIGGER keep; DROP TABLE stash;")
        let done = try runTrellis(["erase", "--finish", "--db", dir.ledgerPath])
        #expect(done.status == 0, "\(done)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
    }

    /// SIGTERM while verify compares derived state left its scratch ledger (a copy of every
    /// event, the size of the log) in $TMPDIR for good: it was made with mkstemp and never
    /// registered for removal. Now it goes with the signal, like a snapshot, and a signal that
    /// lands just after the file is made no longer finds it unregistered.
    @Test func anInterruptedVerifyLeavesNoScratchCopy() throws {
        let dir = try ScratchDir("redteam-signal")
        defer { dir.remove() }
        let g = try runTrellis(["generate", "--networks", "6", "--orgs", "400", "--years", "3", "--seed", "9"])
        #expect(g.status == 0, "\(g)")
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try dir.write("region.ndjson", g.stdout)]).status == 0)
        let tmp = dir.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        func scratch() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("trellis-") }.sorted()
        }
        for signal in [SIGTERM, SIGINT] {
            let p = try launchTrellis(["verify", "--db", dir.ledgerPath], env: ["TMPDIR": tmp])
            let deadline = Date().addingTimeInterval(60)
            while scratch().isEmpty, p.process.isRunning, Date() < deadline { usleep(1_000) }
            #expect(p.process.isRunning, "verify ended before it could be interrupted: make the region bigger")
            kill(p.process.processIdentifier, signal)
            let r = p.finish()
            #expect(p.process.terminationReason == .uncaughtSignal && r.status == signal, "\(r)")
            #expect(scratch() == [], "left behind after signal \(signal)")
        }
    }

    /// A UNIQUE index added to `events` (one `PersonErased` in the whole log) passed verify,
    /// while it made every later erasure fail: a censor built from the schema. Indexes and
    /// table definitions of the ledger's own tables are compared with the migrations' now.
    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func anIndexOrTableChangeOnTheLedgersOwnTablesIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, "CREATE UNIQUE INDEX one_erasure ON events (type) WHERE type = 'PersonErased';")
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stdout.hasPrefix("broken: the ledger's schema is not the one Trellis creates"), "\(v)")
            #expect(v.stderr.contains("an extra index one_erasure on events, which Trellis never creates"), "\(v)")
        }
        try sql(dir.ledgerPath, "DROP INDEX one_erasure;")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        // A table's definition edited in place (writable_schema), here person_keys' key column
        // given TEXT affinity: named too.
        try sql(dir.ledgerPath, """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET sql = replace(sql, 'BLOB NOT NULL', 'TEXT NOT NULL') WHERE name = 'person_keys';
            """)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"])
        #expect(v.status == 1, "\(v)")
        #expect(v.stderr.contains("the table person_keys is not the one Trellis creates (its SQL differs)"), "\(v)")
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: reads or tampers with the SQLite ledger file (sqlite3)")) func aLedgerMetaTamperIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"]).status == 0)
        // A lowered format (an older build would then write to it) and an added row.
        try sql(dir.ledgerPath, "UPDATE ledger_meta SET value = '0' WHERE key = 'format'; INSERT INTO ledger_meta VALUES ('note', 'x');")
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("ledger_meta holds format=0, note=x, not format=1 as Trellis writes it"), "\(v)")
        }
        try sql(dir.ledgerPath, "UPDATE ledger_meta SET value = '1' WHERE key = 'format'; DELETE FROM ledger_meta WHERE key = 'note';")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
    }
}
