import Foundation
import Testing
import TrellisLedger

/// `trellis verify` checks every piece of derived state against the log: each tamper below is
/// done with the sqlite3 shell on a real ledger, as an attacker would (triggers dropped where
/// they are in the way), and the real binary must exit 1 naming the table, key or model,
/// while `--chain-only` (the old quick check) still passes, since the log itself is intact.
@Suite struct DerivedStateTests {
    /// The fixture region, two more attendances and a retraction, imported by the real binary,
    /// and a report run so the read models are built.
    func ledgerDir() throws -> ScratchDir {
        try importedFixture("derived", [
            envelope("AttendanceRecorded", id: "att-oak", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "oak", "status": "absent"]),
            envelope("AttendanceRecorded", id: "att-ash", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "org_id": "ash", "status": "present"]),
            envelope("MeetingHeld", id: "f-m2", at: "2025-10-15T16:00:00Z", ["meeting_id": "m2", "network_id": "npn", "title": "Second", "format": "online"]),
            envelope("AttendanceRecorded", id: "att-oak-2", at: "2025-10-15T16:00:00Z", ["meeting_id": "m2", "org_id": "oak", "status": "present"]),
            envelope("EventRetracted", id: "r-oak-2", at: "2025-10-20", ["event_id": "att-oak-2", "reason": "recorded against the wrong meeting"]),
        ])
    }

    /// Catches the read models up (they are built on first use).
    func build(_ db: String) throws {
        let r = try runTrellis(["projections", "digest", "--db", db])
        #expect(r.status == 0, "\(r)")
    }

    func verify(_ db: String, _ extra: String...) throws -> ProcessResult {
        try runTrellis(["verify", "--db", db] + extra)
    }

    /// A tamper of the log's own tables (rule tables, keys): in the file, or as the owner of the
    /// PostgreSQL database (where ``sql(_:_:)`` would reach only the reader's local cache).
    func tamper(_ db: String, file: String, postgres: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try TestStore.tamper(db, file: file, postgres: postgres)
        #expect(r.status == 0, "\(r)", sourceLocation: sourceLocation)
    }

    func digests(_ db: String) throws -> String {
        let r = try runTrellis(["projections", "digest", "--db", db])
        #expect(r.status == 0, "\(r)")
        return r.stdout
    }

    /// Exit 1, the `broken:` line, and a `derived state:` line containing every fragment.
    func expectBroken(_ v: ProcessResult, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(v.status == 1, "\(v)", sourceLocation: sourceLocation)
        #expect(v.stdout.hasPrefix("broken: derived state differs"), "\(v)", sourceLocation: sourceLocation)
        let lines = v.stdout.split(separator: "\n").filter { $0.hasPrefix("derived state: ") }
        #expect(lines.contains { line in fragments.allSatisfy { line.contains($0) } }, "wanted \(fragments) in \(v)", sourceLocation: sourceLocation)
    }

    // MARK: Honest ledgers pass

    @Test func anHonestLedgerVerifiesWithEveryCheckNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        // An erasure too: the key is gone, the log says so.
        let erase = try dir.writeLines("erase.ndjson", [envelope("PersonErased", id: "erase-p-oak", at: "2025-11-01", ["person_id": "p-oak"])])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, erase]).status == 0)
        try build(dir.ledgerPath)
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        let lines = v.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(v)")
        #expect(lines.first?.hasPrefix("ok: 15 events, head ") == true, "\(v)")
        #expect(lines.last?.hasPrefix("derived state: triggers, rule tables, retractions, person keys, checkpoints, ") == true, "\(v)")
        #expect(lines.last?.contains("read models: consistent") == true, "\(v)")
        #expect(lines.last?.contains("not built") == false, "\(v)")
        #expect(try verify(dir.ledgerPath, "--chain-only").stdout.split(separator: "\n").count == 1)
    }

    /// The scratch copies live in $TMPDIR and are gone afterwards, after a difference too;
    /// without room for them verify says so (exit 74) rather than passing.
    @Test func scratchFilesAreRemovedAndAMissingTmpdirIsAStorageError() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let tmp = dir.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath], env: ["TMPDIR": tmp]).status == 0)
        try sql(dir.ledgerPath, "INSERT INTO retractions VALUES (10, 99999999)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath], env: ["TMPDIR": tmp]).status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        let v = try runTrellis(["verify", "--db", dir.ledgerPath], env: ["TMPDIR": dir.file("no-such-dir")])
        #expect(v.status == 74, "\(v)")
        #expect(v.stderr.contains("could not build the scratch copy verify compares with at \(dir.file("no-such-dir"))"), "\(v)")
        #expect(!v.stdout.contains("ok:"), "\(v)")
    }

    @Test func aGeneratedRegionAndItsArchiveImportVerify() throws {
        let dir = try ScratchDir("derived")
        defer { dir.remove() }
        let source = dir.file("source.db")
        let g = try runTrellis(["generate", "--networks", "2", "--orgs", "12", "--years", "2", "--seed", "7"])
        #expect(g.status == 0, "\(g)")
        let region = try dir.write("region.ndjson", g.stdout)
        let imported = try runTrellis(["import", "--db", source, region])
        #expect(imported.status == 0, "\(imported)")
        try build(source)
        let v = try verify(source)
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("read models: consistent"), "\(v)")
        // Imported from an archive: no person keys (not an error), the same rule tables.
        let archive = dir.file("region.trellis")
        #expect(try runTrellis(["export", "--db", source, "--out", archive]).status == 0)
        let copy = dir.file("copy.db")
        let i = try runTrellis(["import", "--db", copy, archive])
        #expect(i.status == 0, "\(i)")
        let c = try verify(copy)
        #expect(c.status == 0, "\(c)")
        #expect(c.stdout.contains("not built"), "a copy whose read models were never built says so: \(c)")
        // A study file whose read models show the world as of a past day: compared with such a rebuild.
        let study = dir.file("study.db")
        let r = try runTrellis(["replay", archive, "--out", study, "--as-of", "2023-03-01"])
        #expect(r.status == 0, "\(r)")
        let s = try verify(study)
        #expect(s.status == 0, "\(s)")
        #expect(s.stdout.contains("9 read models: consistent"), "\(s)")
    }

    // MARK: Tampered derived state is named

    @Test func aForgedRetractionIsNamedAndNeverHidesAnEvent() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let honest = try digests(dir.ledgerPath)
        // seq 10 is oak's register at m1: marking it retracted would drop it from every figure.
        try tamper(dir.ledgerPath, file: "INSERT INTO retractions VALUES (10, 99999999)", postgres: "INSERT INTO retractions VALUES (10, 99999999)")
        expectBroken(try verify(dir.ledgerPath), "retractions: seq 10 marked retracted by 99999999, but no EventRetracted says so")
        #expect(try verify(dir.ledgerPath, "--chain-only").status == 0, "the chain alone cannot see it")
        // Catch-up and rebuilds take retractions from the log: the meeting stays.
        #expect(try runTrellis(["projections", "rebuild", "--db", dir.ledgerPath]).status == 0)
        #expect(try digests(dir.ledgerPath) == honest)
        // The audit shows retractions as the log has them: the real one, not the forged one.
        let audit = try runTrellis(["audit", "--db", dir.ledgerPath, "oak", "--format", "json"])
        #expect(audit.status == 0, "\(audit)")
        #expect(audit.stdout.replacingOccurrences(of: " ", with: "").contains("\"retracted_by_seq\":14"), "\(audit)")
        #expect(!audit.stdout.contains("99999999"), "\(audit)")
    }

    @Test func aDeletedRuleRowLettingADuplicateInIsARuleViolationInTheLog() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let delete = "DELETE FROM rule_entities WHERE kind = 'organisation' AND key = 'oak'"
        try tamper(dir.ledgerPath, file: delete, postgres: delete)
        expectBroken(try verify(dir.ledgerPath), "rule_entities: organisation oak, which the log creates at seq 2, is missing")
        let again = try dir.writeLines("again.ndjson", [envelope("OrganisationRegistered", id: "f-oak-2", at: "2025-11-01", ["org_id": "oak", "name": "Oak Again", "kind": "mat"])])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, again])
        #expect(r.status == 0, "the rules read the tampered table: \(r)")
        expectBroken(try verify(dir.ledgerPath), "the log breaks an append rule at seq 15 (OrganisationRegistered)", "OrganisationRegistered.org_id")
        #expect(try verify(dir.ledgerPath, "--chain-only").status == 0)
    }

    /// The rules read the rule tables whatever they hold, on a log with no event yet too: a
    /// batch skips reading them only when they are empty (``Batch``), never because the log is.
    /// (Inferred from the empty log, the shortcut let this line reach the table's primary key
    /// and the user got SQLite's "UNIQUE constraint failed", exit 70.)
    /// A new, empty ledger with `row` put into one of its tables behind Trellis's back.
    func emptyLedger(_ name: String, tamperedWith row: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ScratchDir {
        let dir = try ScratchDir(name)
        let created = try runTrellis(["init", "--db", dir.ledgerPath])
        #expect(created.status == 0, "\(created)", sourceLocation: sourceLocation)
        try tamper(dir.ledgerPath, file: row, postgres: row, sourceLocation: sourceLocation)
        return dir
    }

    @Test func aRuleRowWithNoEventBehindItIsReadOnAnEmptyLog() throws {
        let dir = try emptyLedger("derived-empty", tamperedWith: "INSERT INTO rule_entities (kind, key, seq, parent, state) VALUES ('network', 'n1', 1, NULL, 0)")
        defer { dir.remove() }
        let north = try dir.writeLines("north.ndjson", [envelope("NetworkFormed", id: "f-n1", at: "2026-01-01", ["network_id": "n1", "name": "North"])])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, north])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("NetworkFormed.network_id: a network id not used before"), "\(r)")
        expectBroken(try verify(dir.ledgerPath), "rule_entities: network n1 (seq 1) is recorded, but no event in the log creates it")
    }

    /// The same for `retractions`: a row there marks seq 2 retracted before any event exists.
    /// Both stores read the table and refuse the retraction of seq 2 as the rule says. (The
    /// PostgreSQL store used to infer "nothing retracted" from the empty log, or from a seq
    /// above the head, and sent the row on to the primary key: "duplicate key value", exit 70.)
    @Test func aRetractionRowWithNoEventBehindItIsReadOnAnEmptyLog() throws {
        let dir = try emptyLedger("derived-empty-retraction", tamperedWith: "INSERT INTO retractions (target_seq, retraction_seq) VALUES (2, 99)")
        defer { dir.remove() }
        let lines = try dir.writeLines("lines.ndjson", [
            envelope("NetworkFormed", id: "f-n1", at: "2026-01-01", ["network_id": "n1", "name": "North"]),
            envelope("OrganisationRegistered", id: "f-oak", at: "2026-01-02", ["org_id": "oak", "name": "Oak", "kind": "mat"]),
            envelope("EventRetracted", id: "r-oak", at: "2026-01-03", ["event_id": "f-oak", "reason": "entered twice"]),
        ])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, lines])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("EventRetracted.event_id: an event not already retracted"), "\(r)")
        let status = try runTrellis(["status", "--db", dir.ledgerPath, "--format", "json"])
        #expect(status.stdout.replacingOccurrences(of: " ", with: "").contains("\"events\":0"), "nothing half-written: \(status)")
        // A seq above the head, on a log that is not empty: the same.
        let first = try dir.writeLines("first.ndjson", [envelope("NetworkFormed", id: "f-n1", at: "2026-01-01", ["network_id": "n1", "name": "North"])])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, first]).status == 0)
        let rest = try dir.writeLines("rest.ndjson", [
            envelope("OrganisationRegistered", id: "f-oak", at: "2026-01-02", ["org_id": "oak", "name": "Oak", "kind": "mat"]),
            envelope("EventRetracted", id: "r-oak", at: "2026-01-03", ["event_id": "f-oak", "reason": "entered twice"]),
        ])
        let again = try runTrellis(["import", "--db", dir.ledgerPath, rest])
        #expect(again.status == 65, "\(again)")
        #expect(again.stderr.contains("EventRetracted.event_id: an event not already retracted"), "\(again)")
    }

    @Test func membershipAndEntityStateTampersAreNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try tamper(dir.ledgerPath, file: "DELETE FROM rule_memberships WHERE org_id = 'ash'; UPDATE rule_entities SET state = 1 WHERE kind = 'meeting' AND key = 'm1'", postgres: "DELETE FROM rule_memberships WHERE org_id = 'ash'; UPDATE rule_entities SET state = 1 WHERE kind = 'meeting' AND key = 'm1'")
        let v = try verify(dir.ledgerPath)
        expectBroken(v, "rule_memberships: ash joining npn at seq 8 is missing")
        expectBroken(v, "rule_entities: meeting m1: state 0 expected, found 1 (retracted)")
    }

    @Test func personKeysTheLogDoesNotAllowAreNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let erase = try dir.writeLines("erase.ndjson", [envelope("PersonErased", id: "erase-p-oak", at: "2025-11-01", ["person_id": "p-oak"])])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, erase]).status == 0)
        let random32 = "decode(md5(random()::text) || md5(random()::text), 'hex')"
        try tamper(dir.ledgerPath, file: "INSERT INTO person_keys VALUES ('p-oak', randomblob(32)); INSERT INTO person_keys VALUES ('ghost', randomblob(32))",
                   postgres: "INSERT INTO person_keys VALUES ('p-oak', \(random32)); INSERT INTO person_keys VALUES ('ghost', \(random32))")
        let v = try verify(dir.ledgerPath)
        expectBroken(v, "person_keys: a key for p-oak, whom the log erased")
        expectBroken(v, "person_keys: a key for ghost, a person the log never registered")
        #expect(try verify(dir.ledgerPath, "--chain-only").status == 0)
    }

    @Test func anEditedReadModelIsNamedAndTheFooterDigestChanges() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let html = dir.file("before.html")
        #expect(try runTrellis(["report", "summary", "--db", dir.ledgerPath, "--format", "html", "--out", html]).status == 0)
        try sql(dir.ledgerPath, "UPDATE attendance_by_org SET status = 'present'")
        expectBroken(try verify(dir.ledgerPath), "read model attendance", "table attendance_by_org differs from a rebuild")
        #expect(try verify(dir.ledgerPath, "--chain-only").status == 0)
        let tampered = dir.file("after.html")
        #expect(try runTrellis(["report", "summary", "--db", dir.ledgerPath, "--format", "html", "--out", tampered]).status == 0)
        func attendanceDigest(_ file: String) throws -> String? {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            guard let r = text.range(of: "<tr><td>attendance</td>") else { return nil }
            return text[r.lowerBound...].split(whereSeparator: { !$0.isHexDigit }).first { $0.count == 64 }.map(String.init)
        }
        let a = try attendanceDigest(html), b = try attendanceDigest(tampered)
        #expect(a != nil && b != nil)
        #expect(a != b, "the footer hashes the tables the report read, not a cached digest")
    }

    /// On PostgreSQL the read models live in each reader's local cache (a SQLite file at the
    /// ledger's path here): the tamper is there, and the full verify, which checks the cache
    /// after the server, names it; `--chain-only` checks the shared log alone.
    @Test func aTriggerAddedToAReadModelTableIsNamed() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, "CREATE TRIGGER forge AFTER INSERT ON attendance_by_org BEGIN UPDATE attendance_by_org SET status = 'present'; END")
        // No trigger but the migrations' may be anywhere: the chain check names it first.
        for mode in TestStore.isFile ? [[], ["--chain-only"]] : [[]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("an extra trigger forge on attendance_by_org, which Trellis never creates"), "\(v)")
        }
    }

    @Test func aCheckpointAboveTheHeadIsNamedAndCatchUpRebuilds() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try sql(dir.ledgerPath, "UPDATE projection_state SET checkpoint_seq = checkpoint_seq + 5")
        expectBroken(try verify(dir.ledgerPath), "projection_state: the checkpoint of attendance is seq 19, above the head 14")
        #expect(try verify(dir.ledgerPath, "--chain-only").status == 0)
        // New events after the tamper are in the figures: catch-up rebuilt the models.
        let more = try dir.writeLines("more.ndjson", [
            envelope("MeetingHeld", id: "f-m3", at: "2025-11-15T16:00:00Z", ["meeting_id": "m3", "network_id": "npn", "title": "Third", "format": "online"]),
            envelope("AttendanceRecorded", id: "att-ash-3", at: "2025-11-15T16:00:00Z", ["meeting_id": "m3", "org_id": "ash", "status": "present"]),
        ])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, more]).status == 0)
        let caughtUp = try digests(dir.ledgerPath)
        #expect(try runTrellis(["projections", "rebuild", "--db", dir.ledgerPath]).status == 0)
        #expect(try digests(dir.ledgerPath) == caughtUp)
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        let m = try runTrellis(["log", "--db", dir.ledgerPath, "--type", "MeetingHeld", "--format", "ndjson"])
        #expect(m.stdout.contains("\"m3\""))
    }

    @Test func aUserReadModelIsCheckedWhenItsDefinitionIsGiven() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        let def = try dir.write("present.sql", """
            -- projection: present_count
            -- Present registers per organisation.
            -- tables
            CREATE TABLE present_count (org_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
            -- on AttendanceRecorded
            INSERT INTO present_count (org_id, n) SELECT :org_id, 0 WHERE :status = 'present' ON CONFLICT (org_id) DO NOTHING;
            UPDATE present_count SET n = n + 1 WHERE org_id = :org_id AND :status = 'present';

            """)
        let built = try runTrellis(["projections", "digest", "--db", dir.ledgerPath, "--projection", def])
        #expect(built.status == 0, "\(built)")
        let without = try verify(dir.ledgerPath)
        #expect(without.status == 0, "\(without)")
        #expect(without.stdout.contains("not checked: present_count"), "\(without)")
        let with = try verify(dir.ledgerPath, "--projection", def)
        #expect(with.status == 0, "\(with)")
        #expect(with.stdout.contains("10 read models: consistent"), "\(with)")
        try sql(dir.ledgerPath, "UPDATE present_count SET n = n + 1")
        expectBroken(try verify(dir.ledgerPath, "--projection", def), "read model present_count", "table present_count differs")
    }

    @Test func noOpTriggersUnderTheRightNamesAndExtraTriggersAreCaught() throws {
        let dir = try ledgerDir()
        defer { dir.remove() }
        try tamper(dir.ledgerPath, file: "DROP TRIGGER events_no_update; CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT 1; END",
                   postgres: """
                       CREATE FUNCTION let_through() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
                       DROP TRIGGER events_no_update ON events;
                       CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION let_through();
                       """)
        for mode in [[], ["--chain-only"]] {
            let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
            #expect(v.status == 1, "\(v)")
            #expect(v.stderr.contains("events_no_update is not the one Trellis creates"), "\(v)")
        }
        try tamper(dir.ledgerPath, file: "DROP TRIGGER events_no_update; CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END; CREATE TRIGGER sneaky AFTER INSERT ON retractions BEGIN SELECT 1; END",
                   postgres: """
                       DROP TRIGGER events_no_update ON events;
                       CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION trellis_events_append_only();
                       CREATE TRIGGER sneaky AFTER INSERT ON retractions FOR EACH ROW EXECUTE FUNCTION let_through();
                       """)
        let v = try verify(dir.ledgerPath, "--chain-only")
        #expect(v.status == 1, "\(v)")
        #expect(v.stderr.contains("an extra trigger sneaky on retractions"), "\(v)")
    }
}
