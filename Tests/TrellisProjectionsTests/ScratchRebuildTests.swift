import Foundation
import GRDB
import GRDBSQLite
import Testing
@_spi(ReadSide) import TrellisLedger
@testable import TrellisProjections
import TrellisCore
import TrellisGenerator

/// A full rebuild of the built-ins is replayed into a scratch file outside the write lock and
/// copied in, in one transaction (`ScratchRebuild`). Its read models must be exactly those of
/// the replay inside the transaction, which still runs for a rebuild of some models and for
/// every catch-up: the digests below were printed by the code before the scratch path
/// (`trellis projections digest`, main at c300fa7).
@Suite struct ScratchRebuildTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TrellisCLITests/Fixtures")

    /// `trellis generate --networks 3 --orgs 100 --years 3 --seed 1 --events 8000`, imported.
    static let regionDigests = [
        "networks": "e3d8ff04d55d0c05249df9613542e7dabf0474b435fac567ac9b80851d83684e",
        "organisations": "7cdce184269c939d0851f20b576527386be60bdb79fb72cd06ae99bf5f57b379",
        "people": "1f3be7abbb8da36491e914c20a23428429019de5c661ea17e7f44134ab048149",
        "membership": "78e8b458d734cd9ce3e0ba0ea6136416d67c8b7767471a0aa2bd7cfa7f57da4f",
        "meetings": "c53eb2c3a1773cb573adcacb6eb964f5ab46f30cf1b07a128d0ef9766e60d2fd",
        "attendance": "bed1938ece4fe8edd6be7d14d2a4b7bf1b6961b756636438de353840f2331316",
        "documents": "aa345bf6783fad54b9b0480997652c33df4159e3eb4ded84362fac0e642e4fcd",
        "reviews": "49bbb1dace4a4493da4add35ec004427945f9acf93faa7e7228f554f19efd4a9",
        "ties": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]

    /// Fixtures/guard.db (488 events, retractions and an erasure among them).
    static let guardDigests = [
        "networks": "8f4bb448bd1da37d79b99bb367977dd61aaad6fcab18d5891b0f1c75a8126fab",
        "organisations": "2ccdec5ea1378aa340c226e15e35ce999d62d3f688997c18f4722f6cde8a3120",
        "people": "2dde8b27ea9e6606182b2bf26e63fc0d048f50f305952792278ee2547194aa5c",
        "membership": "b548620f93fa6c9f46b44495e464e1bae7996e402763a889fab452d3645903b3",
        "meetings": "8b19c3f55429a02fa1b8e78ac916bb78269e21f443ded6c52316403597a101ef",
        "attendance": "f34cfb3eb91052b1e6660b2c89b2588618fb87818b5372ed3ade1a5f4fae4e8c",
        "documents": "34cb175e51753d820b9bed968bae3a1c9cbc44da216ae0514caec670080b078e",
        "reviews": "b0c375932a86fe1a61cb0355163a05968b468d0c52ac1fd359f6d3391f85c7d3",
        "ties": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]

    static func generatedRegion(_ s: Scratch) throws {
        var lines: [String] = []
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 100, years: 3, seed: 1, maxEvents: 8000)).run { lines.append(String(decoding: $0, as: UTF8.self)) }
        try s.append(lines)
    }

    static func digests(_ engine: ProjectionEngine) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try engine.digests().map { ($0.name, $0.digest) })
    }

    @Test func aFullRebuildOfAGeneratedRegionGivesThePinnedDigestsAndEqualsTheReplayInsideTheTransaction() throws {
        let s = try Scratch()
        try Self.generatedRegion(s)
        let engine = try ProjectionEngine(ledger: s.ledger)
        // The first catch-up builds every model: the scratch path.
        #expect(try engine.catchUp().count == ProjectionEngine.builtIns.count)
        #expect(try Self.digests(engine) == Self.regionDigests)
        try engine.rebuild()
        #expect(try Self.digests(engine) == Self.regionDigests)
        // One model at a time: the others are current, so each replays inside the transaction.
        for d in ProjectionEngine.builtIns { try engine.rebuild([d.name]) }
        #expect(try Self.digests(engine) == Self.regionDigests)
    }

    @Test func aFullRebuildOfTheGuardFixtureGivesThePinnedDigests() throws {
        let s = try Scratch()
        let path = s.dir.appendingPathComponent("guard.db").path
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("guard.db").path, toPath: path)
        let engine = try ProjectionEngine(ledger: try Ledger.open(at: path))
        try engine.rebuild()
        #expect(try Self.digests(engine) == Self.guardDigests)
    }

    /// A user definition whose handler reads `attendance_by_org` as each record arrives: each
    /// meeting's count of organisations present, written at its records.
    static func presentCounts() throws -> ProjectionDefinition {
        try ProjectionDefinition.parse("""
            -- projection: present_counts
            -- tables
            CREATE TABLE present_counts (meeting_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
            -- on AttendanceRecorded
            INSERT INTO present_counts (meeting_id, n)
            SELECT :meeting_id, count(*) FROM attendance_by_org WHERE meeting_id = :meeting_id AND status = 'present'
            ON CONFLICT (meeting_id) DO UPDATE SET n = excluded.n;
            """, source: "counts.sql")
    }

    /// The replay of a full rebuild runs before the write lock is taken: another process may
    /// append meanwhile (the old rebuild held the lock for the whole replay, so this append
    /// waited for it); the rebuild stops at the head it read, the next catch-up takes the rest.
    @Test func anAppendDuringTheReplayOfAFullRebuildDoesNotWaitAndIsCaughtUpNext() throws {
        let s = try Scratch()
        try s.append(E.meetingsAttendedByAll(20))
        let engine = try ProjectionEngine(ledger: s.ledger)
        try engine.catchUp()
        let other = try DatabaseQueue(path: s.ledger.path)  // no busy timeout: busy fails at once
        var appended = false
        var writerBusy = false
        try engine.rebuild { _, _ in
            guard !appended else { return }
            appended = true
            do {
                try other.write { db in
                    try db.execute(sql: "CREATE TABLE IF NOT EXISTS unrelated_probe (x)")
                    try db.execute(sql: "DROP TABLE unrelated_probe")
                }
            } catch { writerBusy = true; Issue.record("\(error)") }
        }
        #expect(appended)
        #expect(!writerBusy, "a writer had to wait for the replay of the rebuild")
        try s.append([E.attend("late", "m0", "oak", "absent")])
        let head = try s.ledger.head().seq
        #expect(try engine.status().allSatisfy { $0.checkpointSeq == head - 1 })
        try engine.catchUp()
        let caughtUp = try Self.digests(engine)
        for d in ProjectionEngine.builtIns { try engine.rebuild([d.name]) }
        #expect(try Self.digests(engine) == caughtUp)
    }

    /// A user definition replays after the built-ins, in the same transaction, reading the
    /// tables the scratch file filled; a broken one still fails alone and changes nothing.
    @Test func userDefinitionsReadTheCopiedBuiltInsAndABrokenOneChangesNothing() throws {
        let s = try Scratch()
        try Self.generatedRegion(s)
        let counts = try Self.presentCounts()
        let engine = try ProjectionEngine(ledger: s.ledger, extra: [counts])
        try engine.rebuild()
        #expect(try Self.digests(engine).filter { $0.key != "present_counts" } == Self.regionDigests)
        let mismatches = try s.rows("""
            SELECT count(*) FROM present_counts p
            WHERE n <> (SELECT count(*) FROM attendance_by_org a WHERE a.meeting_id = p.meeting_id AND a.status = 'present')
            """)
        #expect(mismatches == [["0"]])
        #expect(try s.rows("SELECT count(*) > 0 FROM present_counts") == [["1"]])

        let broken = try ProjectionDefinition.parse("""
            -- projection: sneaky
            -- tables
            CREATE TABLE sneaky (k TEXT);
            -- on MeetingHeld
            INSERT INTO sneaky SELECT person_id FROM person_keys;
            """, source: "sneaky.sql")
        let before = try Self.digests(engine)
        let failing = try ProjectionEngine(ledger: s.ledger, extra: [counts, broken])
        #expect(throws: DefinitionError.self) { try failing.rebuild() }
        #expect(try Self.digests(engine) == before)
        #expect(try engine.status().allSatisfy(\.isCurrent))
    }

    /// `attendance_by_org` is `-- derive`d: a full rebuild fills it once from the final
    /// `attendance` rows instead of recomputing an organisation's status after each record.
    /// The rows must be those of the per-event statements, which a catch-up still runs (here
    /// after every single append): re-recorded statuses, person and organisation records,
    /// retracted records (one the only record of its organisation), a retracted meeting.
    @Test func theDerivedAttendanceByOrgOfAFullRebuildIsWhatCatchUpGivesEventByEvent() throws {
        let s = try Scratch()
        let engine = try ProjectionEngine(ledger: s.ledger)
        let lines = E.base + [
            E.line("p1", "PersonRegistered", "2025-09-01", #""person_id":"p1","org_id":"oak","name":"A B""#),
            E.line("p2", "PersonRegistered", "2025-09-01", #""person_id":"p2","org_id":"oak","name":"C D""#),
            E.meeting("m1", "2025-10-01"), E.meeting("m2", "2025-10-08"), E.meeting("m3", "2025-10-15"),
            E.attend("a1", "m1", "oak", "absent"),
            E.attend("a2", "m1", "oak", "apologies", person: "p1"),
            E.attend("a3", "m1", "oak", "present", person: "p2"),
            E.attend("a4", "m1", "ash", "apologies"),
            E.attend("a5", "m1", "ash", "absent"),
            E.attend("a6", "m2", "elm", "present", day: "2025-10-08"),
            E.attend("a7", "m2", "oak", "absent", day: "2025-10-08", person: "p1"),
            E.attend("a8", "m2", "oak", "present", day: "2025-10-08", person: "p1"),
            E.attend("a9", "m3", "ash", "present", day: "2025-10-15"),
            E.retract("r1", "a3"), E.retract("r2", "a6"), E.retract("r3", "a8"), E.retract("r4", "mh-m3"),
            E.attend("a10", "m2", "ash", "apologies", day: "2025-10-08"),
        ]
        for line in lines {
            try s.append([line])
            try engine.catchUp()
        }
        let byOrg = "SELECT meeting_id, org_id, status FROM attendance_by_org ORDER BY meeting_id, org_id"
        let expected = [["m1", "ash", "absent"], ["m1", "oak", "apologies"], ["m2", "ash", "apologies"], ["m2", "oak", "absent"], ["m3", "ash", "present"]]
        #expect(try s.rows(byOrg) == expected)
        let caughtUp = try Self.digests(engine)
        try engine.rebuild()
        #expect(try s.rows(byOrg) == expected)
        #expect(try Self.digests(engine) == caughtUp)
    }

    /// Compiled for a replay from seq 1 (`deriving`), the built-in attendance runs one statement
    /// per record, not two, and its `-- derive` once; compiled for a catch-up, both.
    @Test func aReplayFromTheStartLeavesOutTheStatementsThatWriteADerivedTable() throws {
        let s = try Scratch()
        try s.append(E.base + [E.meeting("m1", "2025-10-01"), E.attend("a1", "m1", "oak", "present")])
        try ProjectionEngine(ledger: s.ledger).catchUp()
        let attendance = try #require(ProjectionEngine.builtIns.first { $0.name == "attendance" })
        #expect(attendance.derivations.map(\.table) == ["attendance_by_org"])
        let queue = try DatabaseQueue(path: s.ledger.path)
        try queue.writeWithoutTransaction { db in
            try Gate.session(db: db, definitions: ProjectionEngine.builtIns, budget: 60) { gate in
                let perEvent = try CompiledProjection(attendance, db: db, gate: gate)
                let fromStart = try CompiledProjection(attendance, db: db, gate: gate, deriving: true)
                #expect(perEvent.handlers[.attendanceRecorded]?.count == 2)
                #expect(fromStart.handlers[.attendanceRecorded]?.count == 1)
                #expect(fromStart.handlers[.attendanceRecorded]?.first?.statement.sql.contains("INSERT INTO attendance ") == true)
                #expect(fromStart.derive.count == 1 && perEvent.derive.isEmpty)
                #expect(try CompiledProjection.fromStart(ProjectionEngine.builtIns, db: db, gate: gate)
                    .first { $0.name == "attendance" }?.handlers[.attendanceRecorded]?.count == 1)
            }
            // A definition whose handler reads attendance_by_org, in the same replay from seq 1
            // (a snapshot, verify's rebuild): attendance must then keep it current event by event.
            let reader = try Self.presentCounts()
            try Gate.session(db: db, definitions: ProjectionEngine.builtIns + [reader], budget: 60) { gate in
                try db.inTransaction {
                    try gate.setUp(reader, db: db)
                    let compiled = try CompiledProjection.fromStart(ProjectionEngine.builtIns + [reader], db: db, gate: gate)
                    #expect(compiled.first { $0.name == "attendance" }?.handlers[.attendanceRecorded]?.count == 2)
                    #expect(compiled.first { $0.name == "attendance" }?.derive.isEmpty == true)
                    return .rollback
                }
            }
        }
    }

    /// A snapshot (and verify's rebuild) replays every definition from seq 1 in one pass.
    /// Alone, the built-ins derive `attendance_by_org` and give the pinned digests. With a user
    /// definition that reads it as each record arrives, it must be kept current event by event:
    /// a meeting's count, written at its last record, is then the final count (derived at the
    /// end instead, the reader would have found the table empty and counted 0 everywhere).
    @Test func aSnapshotDerivesOnlyWhenNoOtherDefinitionReadsTheDerivedTable() throws {
        let reader = try Self.presentCounts()
        for extra in [[], [reader]] {
            let s = try Scratch()
            try Self.generatedRegion(s)
            let engine = try ProjectionEngine(ledger: s.ledger, extra: extra)
            let snapshot = try engine.snapshot()
            let digests = Dictionary(uniqueKeysWithValues: try engine.digests(of: snapshot).map { ($0.name, $0.digest) })
            #expect(digests.filter { $0.key != "present_counts" } == Self.regionDigests)
            guard !extra.isEmpty else { continue }
            let (mismatches, counted) = try snapshot.database.read { db in
                (try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM present_counts p
                    WHERE n <> (SELECT count(*) FROM attendance_by_org a WHERE a.meeting_id = p.meeting_id AND a.status = 'present')
                    """), try Int.fetchOne(db, sql: "SELECT count(*) FROM present_counts WHERE n > 0"))
            }
            #expect(mismatches == 0)
            #expect((counted ?? 0) > 0)
        }
    }

    @Test func theScratchFilesAreRemovedWhenReleased() throws {
        let s = try Scratch()
        try s.append(E.base + [E.meeting("m1", "2025-10-01"), E.attend("a1", "m1", "oak", "present")])
        let engine = try ProjectionEngine(ledger: s.ledger)
        var scratch: ScratchRebuild? = try engine.buildScratch(ProjectionEngine.builtIns, through: try s.ledger.head().seq, retracted: [], progress: nil)
        let paths = scratch?.parts.map(\.path) ?? []
        #expect(!paths.isEmpty)
        var organisations = 0
        for path in paths {
            #expect(path.contains("trellis-rebuild-\(getpid())-"))
            #expect(FileManager.default.fileExists(atPath: path))
            organisations += try DatabaseQueue(path: path).read { db in
                try db.tableExists("organisations") ? Int.fetchOne(db, sql: "SELECT count(*) FROM organisations") ?? 0 : 0
            }
        }
        #expect(organisations == 3)
        scratch = nil
        #expect(paths.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }
}

/// `data`'s fields found in place (`FlatFields`) bind exactly what the parser's tree bound,
/// and whatever shape it does not take (or the parser refuses) goes to the parser.
@Suite struct FlatFieldsTests {
    static let samples = [
        #"{"meeting_id":"m-1","org_id":"oak","status":"present"}"#,
        #"{}"#, #" { "a" : "x" , "b":1 } "#, #"{"a":""}"#,
        #"{"n":3,"m":-0,"f":3.0,"g":1e2,"h":2.5,"i":-12.75e-1,"j":9223372036854775807,"k":92233720368547758070,"t":true,"u":false,"v":null}"#,
        #"{"a":"caf\u00e9"}"#, #"{"a":"café"}"#, #"{"a":"line\nbreak"}"#, #"{"a\"b":"x"}"#,
        #"{"a":[1,2],"b":"x"}"#, #"{"a":{"b":1}}"#, #"{"a":"x","a":"y"}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":-}"#, #"{"a":1-2}"#, #"{"a":tru}"#, #"{"a":"x"} x"#, #"{"a":"x",}"#,
        #"{"a" "x"}"#, #"["a"]"#, #""#, #"{"a":"x""#, "{\"a\":\"\u{01}\"}", #"{"a":1e999}"#, #"{"a":+1}"#,
    ]

    /// The value `SELECT ?` returns when the parameter is bound as the replay binds `value`.
    static func bound(_ bind: (SQLiteStatement) -> Void) throws -> String {
        try DatabaseQueue().read { db in
            let statement = try db.makeStatement(sql: "SELECT typeof(?1) || ' ' || quote(?1)")
            let s = statement.sqliteStatement
            bind(s)
            defer { sqlite3_reset(s) }
            guard try Raw.step(s, db) else { return "no row" }
            return Raw.string(s, 0) ?? "NULL"
        }
    }

    static func treeValue(_ value: JSONValue?, _ s: SQLiteStatement) {
        switch value {
        case nil, .null?: sqlite3_bind_null(s, 1)
        case .string(let v)?: Raw.bind(s, 1, v)
        case .int(let v)?: Raw.bind(s, 1, v)
        case .bool(let v)?: Raw.bind(s, 1, v ? 1 : 0)
        case .double(let v)?: sqlite3_bind_double(s, 1, v)
        case let v?: Raw.bind(s, 1, CanonicalJSON.string(v))
        }
    }

    @Test(arguments: samples) func flatFieldsBindWhatTheParserBinds(_ text: String) throws {
        let bytes = Array(text.utf8)
        let tree = bytes.withUnsafeBufferPointer { try? JSONParser.parse($0) }?.object
        try bytes.withUnsafeBufferPointer { b in
            var flat = FlatFields()
            guard flat.scan(b) else { return }
            let parsed = try #require(tree, "taken in place, but the parser refuses it: \(text)")
            #expect(flat.fields.count == parsed.count)
            for name in parsed.pairs.map(\.key) + ["missing"] {
                let field = flat.field(Array(name.utf8))
                let ours = try Self.bound { flat.bind(field, to: $0, at: 1) }
                let theirs = try Self.bound { Self.treeValue(parsed[name], $0) }
                #expect(ours == theirs, "\(text): \(name)")
            }
        }
    }

    @Test func theCommonShapeIsTakenInPlace() {
        for text in [Self.samples[0], Self.samples[1], Self.samples[2], Self.samples[4]] {
            var flat = FlatFields()
            #expect(Array(text.utf8).withUnsafeBufferPointer { flat.scan($0) }, "\(text)")
        }
        for text in [#"{"a":"café"}"#, #"{"a":[1]}"#, #"{"a":"x","a":"y"}"#, #"{"a":"x"} x"#] {
            var flat = FlatFields()
            #expect(!Array(text.utf8).withUnsafeBufferPointer { flat.scan($0) }, "\(text)")
        }
    }
}
