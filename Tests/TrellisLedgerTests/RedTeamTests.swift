import Foundation
import Testing
import TrellisLedger

/// Attacks on `trellis verify` and erasure by someone who can write the file (the sqlite3
/// shell on a real ledger), each of which verify used to pass with exit 0. Run against the
/// real binary.
@Suite struct RedTeamTests {
    /// The fixture region imported by the real binary, and the read models built.
    func ledgerDir() throws -> ScratchDir {
        try importedFixture("redteam", [
            envelope("AttendanceRecorded", id: "att-oak", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "oak", "status": "present"]),
        ])
    }

    /// The same tamper on either store (``TestStore/tamper(_:file:postgres:)``), which must succeed.
    func tamper(_ db: String, file: String, postgres: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try TestStore.tamper(db, file: file, postgres: postgres)
        #expect(r.status == 0, "\(r)", sourceLocation: sourceLocation)
    }

    /// A PostgreSQL trigger that keeps a hex copy of every key inserted into person_keys
    /// (unquoted `PERSON_KEYS` is `person_keys` there).
    static let pgKeyStealer = """
        CREATE TABLE stash (p text, k text);
        CREATE FUNCTION keep_key() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO stash VALUES (NEW.person_id, encode(NEW.key, 'hex')); RETURN NEW; END $$;
        CREATE TRIGGER keep AFTER INSERT ON PERSON_KEYS FOR EACH ROW EXECUTE FUNCTION keep_key();
        """
    /// How the store spells the table of `ON PERSON_KEYS`: SQLite keeps it as written.
    static let personKeysAsSpelt = TestStore.isFile ? "PERSON_KEYS" : "person_keys"

    /// A trigger that keeps a copy of every future key (hex, so no byte search finds it),
    /// made `ON PERSON_KEYS`: SQLite stores the table name as spelt, and verify compared it
    /// case-sensitively with `person_keys`, so it passed; erasures after it left the key behind.
    @Test func aKeyStealingTriggerInAnySpellingIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try tamper(dir.ledgerPath, file: """
            CREATE TABLE stash (p, k);
            CREATE TRIGGER keep AFTER INSERT ON PERSON_KEYS BEGIN INSERT INTO stash VALUES (new.person_id, hex(new.key)); END;
            """, postgres: Self.pgKeyStealer)
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("an extra trigger keep on \(Self.personKeysAsSpelt), which Trellis never creates"), "\(v)")
        }
    }

    /// A trigger on a table that is neither the ledger's nor a read model's (here the schema's
    /// bookkeeping `grdb_migrations`, and a table of nobody's) is tampering as well: nothing
    /// Trellis runs creates one.
    @Test func aTriggerOnAnyOtherTableIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        // The schema's bookkeeping is grdb_migrations in a file, ledger_migrations on PostgreSQL;
        // there an event trigger (on DDL) is named too.
        let migrations = TestStore.isFile ? "grdb_migrations" : "ledger_migrations"
        try tamper(dir.ledgerPath, file: """
            CREATE TABLE nobody (x);
            CREATE TRIGGER on_nobody AFTER INSERT ON nobody BEGIN DELETE FROM attendance; END;
            CREATE TRIGGER on_migrations AFTER INSERT ON grdb_migrations BEGIN SELECT 1; END;
            """, postgres: """
            CREATE TABLE nobody (x int);
            CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM rule_memberships; RETURN NULL; END $$;
            CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
            CREATE TRIGGER on_nobody AFTER INSERT ON nobody FOR EACH ROW EXECUTE FUNCTION wipe();
            CREATE TRIGGER on_migrations AFTER INSERT ON ledger_migrations FOR EACH ROW EXECUTE FUNCTION wipe();
            CREATE EVENT TRIGGER on_any_ddl ON ddl_command_end EXECUTE FUNCTION on_ddl();
            """)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"])
        #expect(v.status == 1, "\(v)")
        #expect(v.stderr.contains("an extra trigger on_nobody on nobody"), "\(v)")
        #expect(v.stderr.contains("an extra trigger on_migrations on \(migrations)"), "\(v)")
        if TestStore.isPostgreSQL {
            #expect(v.stderr.contains("an event trigger on_any_ddl (on ddl_command_end), which Trellis never creates"), "\(v)")
            // Event triggers belong to the whole database: this one goes with the test.
            #expect(try TestStore.psql(dir.ledgerPath, "DROP EVENT TRIGGER on_any_ddl").status == 0)
        }
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
    @Test func aKeyThatDoesNotOpenItsPersonsFieldsIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        let swap = "UPDATE person_keys SET key = (SELECT key FROM person_keys WHERE person_id = 'p-oak') WHERE person_id = 'p-ash'"
        try tamper(dir.ledgerPath, file: swap, postgres: swap)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("derived state: person_keys: the key for p-ash does not open the sealed name of its PersonRegistered (seq 6)"), "\(v)")
        #expect(!v.stdout.contains("the key for p-oak"), "\(v)")
    }

    /// With such a trigger in place, `erase` said "key destroyed, no copy left" (exit 0) while
    /// the key sat in the trigger's table as hex. It still records the erasure, but says what
    /// may remain and exits 75; `erase --finish` completes once the trigger is gone.
    @Test func eraseDoesNotClaimNoCopyLeftWhileAForeignTriggerCouldHaveCopiedTheKey() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try tamper(dir.ledgerPath, file: """
            CREATE TABLE stash (p, k);
            CREATE TRIGGER keep AFTER INSERT ON PERSON_KEYS BEGIN INSERT INTO stash VALUES (new.person_id, hex(new.key)); END;
            """, postgres: Self.pgKeyStealer)
        let zoe = try dir.writeLines("zoe.ndjson", [
            envelope("PersonRegistered", id: "p-zoe", at: "2025-09-02", ["person_id": "p-zoe", "org_id": "oak", "name": "Zoe Secret"]),
        ])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, zoe]).status == 0)
        let e = try runTrellis(["erase", "--db", dir.ledgerPath, "p-zoe", "--reason", "request"])
        #expect(e.status == 75, "\(e)")
        #expect(!e.stdout.contains("no copy left"), "\(e)")
        #expect(e.stderr.contains("the ledger has triggers Trellis never creates (keep on \(Self.personKeysAsSpelt)), which may have copied the key"), "\(e)")
        let count = "SELECT count(*) FROM person_keys WHERE person_id = 'p-zoe'"
        #expect(try TestStore.tamper(dir.ledgerPath, file: count, postgres: count).stdout == "0\n")
        let still = try runTrellis(["erase", "--finish", "--db", dir.ledgerPath])
        #expect(still.status == 75, "\(still)")
        try tamper(dir.ledgerPath, file: "DROP TRIGGER keep; DROP TABLE stash;", postgres: "DROP TRIGGER keep ON person_keys; DROP FUNCTION keep_key(); DROP TABLE stash;")
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
    @Test func anIndexOrTableChangeOnTheLedgersOwnTablesIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let index = "CREATE UNIQUE INDEX one_erasure ON events (type) WHERE type = 'PersonErased';"
        try tamper(dir.ledgerPath, file: index, postgres: index)
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stdout.hasPrefix("broken: the ledger's schema is not the one Trellis creates"), "\(v)")
            #expect(v.stderr.contains("an extra index one_erasure on events, which Trellis never creates"), "\(v)")
        }
        try tamper(dir.ledgerPath, file: "DROP INDEX one_erasure;", postgres: "DROP INDEX one_erasure;")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        // A table's definition edited in place (writable_schema; ALTER TABLE on PostgreSQL),
        // here person_keys' key column made text: named too.
        try tamper(dir.ledgerPath, file: """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET sql = replace(sql, 'BLOB NOT NULL', 'TEXT NOT NULL') WHERE name = 'person_keys';
            """, postgres: "ALTER TABLE person_keys ALTER COLUMN key TYPE text USING encode(key, 'hex')")
        let v = try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"])
        #expect(v.status == 1, "\(v)")
        #expect(v.stderr.contains("the table person_keys is not the one Trellis creates (its SQL differs)"), "\(v)")
    }

    @Test func aLedgerMetaTamperIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"]).status == 0)
        // A lowered format (an older build would then write to it) and an added row.
        let lowered = "UPDATE ledger_meta SET value = '0' WHERE key = 'format'; INSERT INTO ledger_meta VALUES ('note', 'x');"
        try tamper(dir.ledgerPath, file: lowered, postgres: lowered)
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("ledger_meta holds format=0, note=x, not format=1 as Trellis writes it"), "\(v)")
        }
        let restored = "UPDATE ledger_meta SET value = '1' WHERE key = 'format'; DELETE FROM ledger_meta WHERE key = 'note';"
        try tamper(dir.ledgerPath, file: restored, postgres: restored)
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
    }
}
