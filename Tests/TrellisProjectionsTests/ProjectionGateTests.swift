import Foundation
import GRDB
import Testing
@_spi(ReadSide) import TrellisLedger
@testable import TrellisProjections
import TrellisTestSupport

/// A ledger with something to steal or break: a person with a key, a retraction, rule state,
/// and the built-in read models built.
private func targetLedger() throws -> Scratch {
    let s = try Scratch()
    try s.append(E.base + [
        E.line("p1", "PersonRegistered", "2025-09-01", #""person_id":"p-z","org_id":"oak","name":"Zoe Secret","email":"zoe@example.org""#),
        E.meeting("m1", "2025-10-01"),
        E.attend("a1", "m1", "oak", "present"),
        E.attend("a2", "m1", "ash", "present"),
        E.retract("r1", "a2"),
    ])
    try ProjectionEngine(ledger: s.ledger).catchUp()
    return s
}

/// Everything a refused definition must leave as it was: the log (every column), the keys,
/// the rule tables, retractions, checkpoints, the schema, and the main file's bytes once the
/// WAL is checkpointed (bar SQLite's change counters in the header).
private struct LedgerState: Equatable {
    var tables: [String: [String]]
    var file: [UInt8]

    init(_ s: Scratch) throws {
        tables = try s.ledger.database.read { db in
            var out: [String: [String]] = [:]
            for (name, order) in [("events", "seq"), ("person_keys", "person_id"), ("rule_entities", "kind, key"),
                                  ("rule_memberships", "network_id, org_id, seq"), ("retractions", "target_seq"),
                                  ("projection_state", "name"), ("ledger_meta", "key"), ("grdb_migrations", "identifier"),
                                  ("sqlite_master", "type, name")] {
                let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [name])
                let select = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
                out[name] = try String.fetchAll(db, sql: "SELECT \(select) FROM \(name) ORDER BY \(order)")
            }
            return out
        }
        try s.ledger.database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: s.ledger.path)))
        for i in Array(24..<28) + Array(92..<100) where i < bytes.count { bytes[i] = 0 }
        file = bytes
    }
}

/// What the engine says when it refuses `definition`, given as the text of `evil.sql`.
private func refusal(of definition: String, in s: Scratch, budget: Double? = nil) throws -> DefinitionError? {
    let d = try ProjectionDefinition.parse(definition, source: "evil.sql")
    do {
        let engine = try ProjectionEngine(ledger: s.ledger, extra: [d], budget: budget)
        try engine.rebuild()
    } catch let e as DefinitionError {
        return e
    }
    return nil
}

/// Runs the real binary (`swift build` makes it): (status, stderr).
private func trellis(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
    let r = try Trellis.run(args, env: env)
    return (r.status, r.stderr)
}

/// One forbidden action of a definition, and what the refusal must say.
struct Forbidden: Sendable, CustomTestStringConvertible {
    var action: String
    var definition: String
    var says: String
    var line: Int
    var testDescription: String { action }

    init(_ action: String, setup: String, handler: String? = nil, derive: String? = nil, says: String, line: Int) {
        self.action = action
        definition = "-- projection: evil\n-- tables\nCREATE TABLE loot (x);\n" + setup + "\n"
            + (handler.map { "-- on MeetingHeld\n" + $0 + "\n" } ?? "")
            + (derive.map { "-- derive loot\n" + $0 + "\n" } ?? "")
        self.says = says
        self.line = line
    }
}

@Suite struct ProjectionGateTests {
    static let forbidden: [Forbidden] = [
        Forbidden("copy the personal keys", setup: "CREATE TABLE key_copy AS SELECT person_id, key FROM person_keys;",
                  says: "may not read person_keys (a ledger table); a definition reads events' public columns, other read models and its own tables", line: 4),
        Forbidden("declare a no-op events_no_delete trigger",
                  setup: "CREATE TRIGGER events_no_delete BEFORE DELETE ON events WHEN 0 BEGIN SELECT 1; END;",
                  says: "may not create triggers (events_no_delete)", line: 4),
        Forbidden("drop the log's trigger and delete events",
                  setup: "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq > 3; CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END;",
                  says: "may not drop trigger events_no_delete", line: 4),
        Forbidden("copy the keys to another file", setup: "ATTACH 'stolen.db' AS x; CREATE TABLE x.k AS SELECT * FROM person_keys;",
                  says: "may not attach a database", line: 4),
        Forbidden("turn on writable_schema", setup: "PRAGMA writable_schema = ON;", says: "may not run PRAGMA writable_schema", line: 4),
        Forbidden("rewrite trigger SQL", setup: "UPDATE sqlite_master SET sql = 'x' WHERE name = 'events_no_delete';",
                  says: "sqlite_master", line: 4),
        Forbidden("read the schema", setup: "CREATE TABLE schema_copy AS SELECT sql FROM sqlite_master;",
                  says: "may not read sqlite_master (the schema)", line: 4),
        Forbidden("a trigger copying every future key",
                  setup: "CREATE TRIGGER steal AFTER INSERT ON person_keys BEGIN INSERT INTO loot VALUES (new.key); END;",
                  says: "may not create triggers (steal)", line: 4),
        Forbidden("insert a retraction from a handler", setup: "", handler: "INSERT INTO retractions VALUES (:seq + 1000, :seq + 1000);",
                  says: "may not write retractions (a ledger table); a definition writes only the tables it declares", line: 6),
        Forbidden("delete the keys from a handler", setup: "", handler: "DELETE FROM person_keys;",
                  says: "may not write person_keys (a ledger table)", line: 6),
        Forbidden("append to the log", setup: "", handler: "INSERT INTO events SELECT seq + 100, id || 'x', type, v, occurred_at, recorded_at, actor, data, hash FROM events WHERE seq = :seq;",
                  says: "may not write events (the event log)", line: 6),
        Forbidden("edit the rule tables", setup: "UPDATE rule_entities SET state = 0;", says: "may not write rule_entities (a ledger table)", line: 4),
        Forbidden("rewrite the memberships", setup: "DELETE FROM rule_memberships;", says: "may not write rule_memberships (a ledger table)", line: 4),
        Forbidden("move a checkpoint", setup: "UPDATE projection_state SET checkpoint_seq = 0;", says: "may not write projection_state (a ledger table)", line: 4),
        Forbidden("edit ledger_meta", setup: "UPDATE ledger_meta SET value = '0';", says: "may not write ledger_meta (a ledger table)", line: 4),
        Forbidden("forget the migrations", setup: "DELETE FROM grdb_migrations;", says: "may not write grdb_migrations (a ledger table)", line: 4),
        Forbidden("read retractions", setup: "", handler: "INSERT INTO loot SELECT target_seq FROM retractions;",
                  says: "may not read retractions (a ledger table)", line: 6),
        Forbidden("load an extension", setup: "CREATE TABLE ext AS SELECT load_extension('/tmp/evil.so') AS x;",
                  says: "may not call load_extension()", line: 4),
        Forbidden("create a temporary table", setup: "CREATE TEMP TABLE scratch AS SELECT 1 AS x;",
                  says: "may not create or use temporary objects", line: 4),
        Forbidden("create a virtual table", setup: "CREATE VIRTUAL TABLE vt USING fts4(x);", says: "may not create or drop virtual tables", line: 4),
        Forbidden("a view over the keys", setup: "CREATE VIEW keys_view AS SELECT person_id, key FROM person_keys;",
                  says: "view keys_view: may not read person_keys (a ledger table)", line: 4),
        Forbidden("declare a ledger table by another spelling", setup: "CREATE TABLE IF NOT EXISTS Person_Keys (person_id TEXT, key BLOB);",
                  says: "may not declare Person_Keys: it is one of the ledger's own objects", line: 4),
        Forbidden("declare an index named like the log's trigger", setup: "CREATE INDEX events_no_update ON loot (x);",
                  says: "may not declare events_no_update: it is one of the ledger's own objects", line: 4),
        Forbidden("a foreign key that would block an erasure", setup: "CREATE TABLE holds (p TEXT REFERENCES person_keys (person_id));",
                  says: "may not reference person_keys from holds", line: 4),
        Forbidden("commit the engine's transaction", setup: "COMMIT;", says: "may not begin, commit or roll back", line: 4),
        Forbidden("take over a built-in's table by another spelling", setup: "CREATE TABLE Attendance (x);",
                  says: "may not declare Attendance: it belongs to projection attendance", line: 4),
        Forbidden("swap a validated view for one over the keys, from a handler",
                  setup: "CREATE VIEW shadow AS SELECT 1 AS key;",
                  handler: "DROP VIEW IF EXISTS shadow;\nCREATE VIEW shadow AS SELECT key FROM person_keys;\nINSERT INTO loot SELECT key FROM shadow;",
                  says: "may not drop shadow from a handler", line: 6),
        Forbidden("copy the whole file elsewhere", setup: "VACUUM INTO 'stolen.db';", says: "VACUUM", line: 4),
        Forbidden("list a ledger table's columns", setup: "CREATE TABLE cols AS SELECT name FROM pragma_table_info('person_keys');",
                  says: "may not run PRAGMA table_info(person_keys)", line: 4),
        Forbidden("make SQLite's sqlite_sequence", setup: "CREATE TABLE counted (n INTEGER PRIMARY KEY AUTOINCREMENT);",
                  says: "may not create sqlite_sequence (AUTOINCREMENT)", line: 4),
        Forbidden("create an undeclared table from a handler", setup: "", handler: "CREATE TABLE IF NOT EXISTS sneaky (x);",
                  says: "may not create sneaky", line: 6),
        // A `-- derive` statement runs once, after the last event, under the same gate.
        Forbidden("copy the keys from a derive", setup: "", derive: "INSERT INTO loot SELECT key FROM person_keys;",
                  says: "may not read person_keys (a ledger table)", line: 6),
        Forbidden("empty the retractions from a derive", setup: "", derive: "DELETE FROM retractions;",
                  says: "may not write retractions (a ledger table)", line: 6),
    ]

    @Test(arguments: forbidden)
    func aForbiddenActionIsRefusedAndTheLedgerUnchanged(_ f: Forbidden) throws {
        let s = try targetLedger()
        let before = try LedgerState(s)
        let refused = try refusal(of: f.definition, in: s)
        #expect(refused != nil, "\(f.action) was not refused")
        if let refused {
            #expect(refused.file == "evil.sql")
            #expect(refused.line == f.line, "\(refused)")
            #expect(refused.message.contains(f.says), "\(refused)")
        }
        #expect(try LedgerState(s) == before, "\(f.action) changed the ledger")
        #expect(!FileManager.default.fileExists(atPath: "stolen.db"))
        // The log is still append-only.
        #expect(throws: DatabaseError.self) { try s.ledger.database.write { try $0.execute(sql: "DELETE FROM events WHERE seq = 1") } }
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: the ledger is built in-process (Ledger.open) and its file compared table by table; on PostgreSQL definitions run against the local cache, a SQLite file, through the same gate")) func theSameRefusalThroughTheBinaryExits65AndChangesNothing() throws {
        let s = try targetLedger()
        let file = s.dir.appendingPathComponent("steal.sql")
        try "-- projection: steal\n-- tables\nCREATE TABLE key_copy AS SELECT person_id, key FROM person_keys;\n".write(to: file, atomically: true, encoding: .utf8)
        let before = try LedgerState(s)
        for args in [["projections", "rebuild"], ["report", "participation"]] {
            let run = try trellis(args + ["--db", s.ledger.path, "--projection", file.path])
            #expect(run.status == 65, "\(args): \(run.stderr)")
            #expect(run.stderr.contains("\(file.path):3: may not read person_keys (a ledger table)"), "\(run.stderr)")
        }
        // Every open of the file by another process changes it a little (GRDB creates and drops
        // a table when it sets WAL mode), so across processes the logical state is compared.
        #expect(try LedgerState(s).tables == before.tables)
    }

    @Test func timeTravelKeepsDefinitionsBehindTheGateToo() throws {
        let s = try targetLedger()
        let d = try ProjectionDefinition.parse("""
            -- projection: evil
            -- tables
            CREATE TABLE key_copy AS SELECT person_id, key FROM ledger.person_keys;
            """, source: "evil.sql")
        let engine = try ProjectionEngine(ledger: s.ledger, extra: [d])
        #expect { try engine.snapshot(asOf: "2025-12-31") } throws: { e in
            (e as? DefinitionError)?.message.contains("may not read ledger.person_keys (a ledger table)") == true
        }
    }

    /// Why the binary-driven gate tests run on the file store only.
    static let inProcessLedger = "file store only: the ledger is built in-process (Ledger.open) and its file compared table by table; on PostgreSQL definitions run against the local cache, a SQLite file, through the same gate"

    /// A one-table definition named `name` whose MeetingHeld handler (line 6) is `statement`,
    /// written next to the ledger.
    func definition(_ s: Scratch, _ name: String, _ statement: String) throws -> URL {
        let file = s.dir.appendingPathComponent("\(name).sql")
        try """
            -- projection: \(name)
            -- tables
            CREATE TABLE \(name) (n INTEGER);

            -- on MeetingHeld
            \(statement)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// `trellis projections rebuild` with `file` must be refused (exit 65) at its handler on
    /// seq 9, saying `says`, and leave every table of the ledger as it was.
    func expectRefusedRebuild(_ s: Scratch, _ file: URL, env: [String: String] = [:], says: String) throws {
        let before = try LedgerState(s)
        let run = try trellis(["projections", "rebuild", "--db", s.ledger.path, "--projection", file.path], env: env)
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("\(file.path):6: failed on event seq 9 (MeetingHeld): \(says)"), "\(run.stderr)")
        #expect(try LedgerState(s).tables == before.tables)
    }

    @Test(.enabled(if: TestStore.isFile, Comment(rawValue: ProjectionGateTests.inProcessLedger))) func aRunawayStatementStopsAtItsBudgetAndReleasesTheLock() throws {
        let s = try targetLedger()
        let file = try definition(s, "forever", "INSERT INTO forever WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT max(i) FROM r;")
        let start = Date()
        try expectRefusedRebuild(s, file, env: ["TRELLIS_PROJECTION_BUDGET": "1"], says: "ran longer than 1 s")
        #expect(Date().timeIntervalSince(start) < 30)
        // The lock is released: an import right after succeeds at once.
        let more = s.dir.appendingPathComponent("more.ndjson")
        try (E.meeting("m2", "2025-11-01") + "\n").write(to: more, atomically: true, encoding: .utf8)
        let imported = try trellis(["import", more.path, "--db", s.ledger.path], env: ["TRELLIS_BUSY_TIMEOUT": "2"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try s.rows("SELECT count(*) FROM events") == [["13"]])
    }

    /// One line doubling a string took a rebuild to 4.5 GB of memory. A user definition may
    /// make no string or blob over 4 MiB (`SQLITE_LIMIT_LENGTH` while it runs); one of exactly
    /// 4 MiB is still fine, and the built-ins are not limited.
    @Test(.enabled(if: TestStore.isFile, Comment(rawValue: ProjectionGateTests.inProcessLedger))) func aValueOverTheLimitStopsTheDefinitionAndOneAtTheLimitDoesNot() throws {
        let s = try targetLedger()
        let fits = try definition(s, "fits", "INSERT INTO fits SELECT length(zeroblob(4194304));")
        let ok = try trellis(["projections", "rebuild", "--db", s.ledger.path, "--projection", fits.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let bomb = try definition(s, "bomb", "INSERT INTO bomb SELECT length(x) FROM (WITH RECURSIVE r(i, s) AS (SELECT 1, 'x' UNION ALL SELECT i + 1, s || s FROM r WHERE i < 25) SELECT max(s) AS x FROM r);")
        try expectRefusedRebuild(s, bomb, says: "made a string or blob longer than 4 MiB, the longest a definition may make; nothing was changed")
    }

    /// Under the value limit, values can still pile up: 200 columns of 4 MB blobs held in one
    /// row took a rebuild to 850 MB, in straight-line code that the progress handler never
    /// interrupts. SQLite's allocator (Trellis's own) counts what a user definition's thread
    /// allocates and refuses past TRELLIS_PROJECTION_MEMORY MiB: the statement stops there.
    @Test(.enabled(if: TestStore.isFile, Comment(rawValue: ProjectionGateTests.inProcessLedger))) func aDefinitionHoardingMemoryIsStoppedAtItsBound() throws {
        let s = try targetLedger()
        let columns = (0..<200).map { "randomblob(4000000) a\($0)" }.joined(separator: ", ")
        let used = (0..<200).map { "length(a\($0))" }.joined(separator: " + ")
        let file = try definition(s, "hoard", "INSERT INTO hoard SELECT \(used) FROM (SELECT \(columns) LIMIT 1);")
        try expectRefusedRebuild(s, file, env: ["TRELLIS_PROJECTION_MEMORY": "32"],
                                 says: "used more than 32 MiB of memory, the bound of a definition (TRELLIS_PROJECTION_MEMORY); nothing was changed")
        // The same definition under the default bound (512 MiB) is stopped too, before 850 MB.
        try expectRefusedRebuild(s, file, says: "used more than 512 MiB of memory")
    }

    /// A definition file is read whole, so it is read up to 4 MiB and no further: a pipe that
    /// never ends (`yes -- '-- x' |`) had the process grow until killed. A valid definition
    /// padded past 4 MiB with comments, and /dev/zero, are refused with exit 65, naming the file.
    @Test(.enabled(if: TestStore.isFile, "file store only: the ledger is built in-process (Ledger.open); the file is refused before any ledger is opened, on either store")) func aDefinitionFileIsReadUpToFourMiBAndNoFurther() throws {
        let s = try targetLedger()
        let file = s.dir.appendingPathComponent("padded.sql")
        let padding = String(repeating: "-- " + String(repeating: "x", count: 77) + "\n", count: 4 << 20 / 80 + 1)
        try ("-- projection: padded\n-- tables\nCREATE TABLE padded (n INTEGER);\n" + padding).write(to: file, atomically: true, encoding: .utf8)
        let run = try trellis(["projections", "rebuild", "--db", s.ledger.path, "--projection", file.path])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("\(file.path): longer than 4 MiB (a projection definition is never that long; is this the right file?)"), "\(run.stderr)")
        let zero = try trellis(["projections", "rebuild", "--db", s.ledger.path, "--projection", "/dev/zero"])
        #expect(zero.status == 65, "\(zero.stderr)")
        #expect(zero.stderr.contains("/dev/zero: line 1: longer than 1 MiB (a projection definition has no line that long"), "\(zero.stderr)")
    }

    @Test func theBudgetIsPerDefinitionThroughTheAPI() throws {
        let s = try targetLedger()
        let refused = try refusal(of: """
            -- projection: slow
            -- tables
            CREATE TABLE t AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) AS n FROM r;
            """, in: s, budget: 0.2)
        #expect(refused?.line == 3)
        #expect(refused?.message.contains("ran longer than 0.2 s") == true, "\(refused?.message ?? "none")")
        // The built-ins are trusted to finish: no budget stops them.
        try ProjectionEngine(ledger: s.ledger, budget: 0.000_001).rebuild()
        #expect(try s.rows("SELECT count(*) FROM attendance") == [["1"]])
    }

    @Test func builtInsAndHonestDefinitionsStillWork() throws {
        let s = try targetLedger()
        let apologies = try ProjectionDefinition.parse("""
            -- projection: apologies_per_meeting
            -- Apologies recorded per meeting.

            -- tables
            CREATE TABLE apology_records (
                meeting_id TEXT NOT NULL,
                org_id     TEXT NOT NULL,
                person_id  TEXT NOT NULL,
                apologies  INTEGER NOT NULL,
                PRIMARY KEY (meeting_id, org_id, person_id)
            );
            CREATE VIEW apologies_per_meeting AS
            SELECT meeting_id, count(DISTINCT org_id) AS organisations
            FROM apology_records WHERE apologies = 1 GROUP BY meeting_id;

            -- on AttendanceRecorded
            INSERT INTO apology_records (meeting_id, org_id, person_id, apologies)
            VALUES (:meeting_id, :org_id, coalesce(:person_id, ''), :status = 'apologies')
            ON CONFLICT (meeting_id, org_id, person_id) DO UPDATE SET apologies = excluded.apologies;
            """, source: "apologies.sql")
        // Reads another read model (meetings, through a view and from a handler) and events' columns.
        let reader = try ProjectionDefinition.parse("""
            -- projection: meeting_log
            -- tables
            CREATE TABLE meeting_log (seq INTEGER PRIMARY KEY, meeting_id TEXT, network_id TEXT, hash_hex TEXT, recorded_at TEXT);
            CREATE INDEX meeting_log_by_network ON meeting_log (network_id);
            CREATE VIEW meetings_per_network AS SELECT network_id, count(*) AS n FROM meetings GROUP BY network_id;

            -- on AttendanceRecorded
            INSERT INTO meeting_log (seq, meeting_id, network_id, hash_hex, recorded_at)
            SELECT e.seq, m.meeting_id, m.network_id, hex(e.hash), e.recorded_at
            FROM events e JOIN meetings m ON m.meeting_id = :meeting_id WHERE e.seq = :seq;
            """, source: "meeting_log.sql")
        let engine = try ProjectionEngine(ledger: s.ledger, extra: [apologies, reader])
        try engine.rebuild()
        #expect(try s.rows("SELECT count(*) FROM apology_records") == [["1"]], "the retracted record is not there")
        #expect(try s.rows("SELECT seq, meeting_id, network_id, length(hash_hex) FROM meeting_log") == [["10", "m1", "npn", "64"]], "a1 only: a2 is retracted")
        #expect(try s.rows("SELECT network_id, n FROM meetings_per_network") == [["npn", "1"]])
        // Catch-up after an append, a second rebuild (drops its own objects), and time travel.
        try s.append([E.attend("a3", "m1", "elm", "apologies")])
        try engine.catchUp()
        #expect(try s.rows("SELECT organisations FROM apologies_per_meeting") == [["1"]])
        try engine.rebuild()
        let digests = try engine.digests()
        #expect(digests.count == ProjectionEngine.builtIns.count + 2)
        let snapshot = try engine.snapshot(asOf: "2026-01-01")
        #expect(try snapshot.database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM meeting_log") } == 2)
        #expect(try engine.digests(of: snapshot) == digests)
    }
}
