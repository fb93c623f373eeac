import TrellisCore
import Foundation
import Testing
import TrellisLedger

/// All-or-nothing batches, idempotent re-import, error limits, the pinned canonical form and
/// hash chain, tamper detection with the sqlite3 shell, and concurrent writers.
@Suite struct IntegrityTests {
    /// A scratch directory with the fixture imported by the real binary.
    func fixtureDir() throws -> ScratchDir {
        let dir = try ScratchDir("integrity")
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 0, "\(r)")
        return dir
    }

    func status(_ db: String) throws -> [String: Any] {
        let r = try runTrellis(["status", "--db", db, "--format", "json"])
        #expect(r.status == 0, "\(r)")
        return try parseJSONObject(r.stdout)
    }

    func verify(_ db: String) throws -> ProcessResult {
        try runTrellis(["verify", "--db", db])
    }

    // MARK: All or nothing

    @Test func aBadLastLineAppendsNothing() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        let before = try ledger.status()
        let lines = (0..<50).map { k in
            envelope("AttendanceRecorded", id: "att-\(k)", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "present"])
        } + [envelope("AttendanceRecorded", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "late"])]
        let e = try #require(rejection { try ledger.appendLines(lines) })
        #expect(e.errors.count == 1)
        #expect(e.errors.first?.line == 51)
        #expect(e.errors.first?.path == "AttendanceRecorded.status")
        let after = try ledger.status()
        #expect(after.events == before.events)
        #expect(after.head == before.head)
        #expect(try ledger.event(id: "att-0") == nil, "nothing of the refused batch may be recorded")
    }

    @Test func aBadLastLineOfAnImportedFileAppendsNothing() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let before = try status(dir.ledgerPath)
        let lines = (0..<50).map { k in
            envelope("AttendanceRecorded", id: "att-\(k)", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "present"])
        } + [envelope("AttendanceRecorded", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "late"])]
        let file = try dir.writeLines("bad-last.ndjson", lines)
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("line 51: AttendanceRecorded.status:"), "\(r)")
        #expect(r.stdout.isEmpty)
        let after = try status(dir.ledgerPath)
        #expect(after["events"] as? Int == Fixture.count)
        #expect(after["head_hash"] as? String == before["head_hash"] as? String)
        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"])
        #expect(!log.stdout.contains("att-0"))
    }

    @Test func identicalReimportOfAWholeFileSkipsEverythingAndKeepsTheHead() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        let first = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("appended \(Fixture.count), skipped 0 (already recorded)"), "\(first)")
        let head = try #require(try status(dir.ledgerPath)["head_hash"] as? String)

        let again = try runTrellis(["import", "--db", dir.ledgerPath, "--format", "json", file])
        #expect(again.status == 0, "\(again)")
        let out = try parseJSONObject(again.stdout)
        #expect(out["appended"] as? Int == 0)
        #expect(out["skipped"] as? Int == Fixture.count)
        #expect(out["head_seq"] as? Int == Fixture.count)
        #expect(out["head_hash"] as? String == head)
        let s = try status(dir.ledgerPath)
        #expect(s["events"] as? Int == Fixture.count)
        #expect(s["head_hash"] as? String == head)
    }

    // MARK: Error limit

    static func badLines(_ n: Int) -> [String] {
        (1...n).map { k in
            envelope("AttendanceRecorded", id: "bad-\(k)", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "late"])
        }
    }

    @Test func atMostOneHundredErrorsAreReportedWithTheirLineNumbers() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        let e = try #require(rejection { try ledger.appendLines(Self.badLines(150)) })
        #expect(e.errors.count == 100)
        #expect(e.errors.map(\.line) == Array(1...100))
        #expect(e.errors.allSatisfy { $0.path == "AttendanceRecorded.status" })
        #expect(e.truncated)
        #expect(try ledger.head().seq == Int64(Fixture.count))
    }

    @Test func importPrintsAtMostOneHundredErrorsWithTheirLineNumbers() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let file = try dir.writeLines("bad.ndjson", Self.badLines(150))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 65)
        let reported = r.stderrLines.filter { $0.hasPrefix("line ") }
        #expect(reported.count == 100, "\(r.stderr)")
        #expect(r.stderr.contains("line 1: AttendanceRecorded.status: one of present, apologies, absent, got \"late\""), "\(r.stderr)")
        #expect(r.stderr.contains("line 100: "))
        #expect(!r.stderr.contains("line 101: "))
        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count)
    }

    @Test func exactlyOneHundredErrorsAreAllReportedAndNotMarkedTruncated() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        let e = try #require(rejection { try ledger.appendLines(Self.badLines(100)) })
        #expect(e.errors.count == 100)
        // 100 errors were found and all 100 are listed: nothing was left out.
        #expect(!e.truncated, "AppendRejected.truncated claims more errors than listed")
        let e99 = try #require(rejection { try ledger.appendLines(Self.badLines(99)) })
        #expect(e99.errors.count == 99)
        #expect(!e99.truncated)
    }

    // MARK: The canonical form and the chain, pinned

    @Test func canonicalFormAndHashChainArePinned() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        // Keys out of order on input, characters that need escaping, a fraction with trailing zeros.
        let input = [
            #"{"type":"NetworkFormed","id":"evt-1","occurred_at":"2025-09-01","data":{"region":"North East","network_id":"npn","partners":["Durham University","NE LA"],"name":"North \"Pennines\" Café\tNetwork"}}"#,
            #"{"actor":"Network lead","data":{"schools":7,"kind":"mat","org_id":"oak","name":"Oak \\ Trust"},"id":"evt-2","occurred_at":"2025-09-02T09:30:00.500Z","type":"OrganisationRegistered","v":1}"#,
        ]
        let file = try dir.writeLines("pinned.ndjson", input)
        let imported = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(imported.status == 0, "\(imported)")

        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"])
        #expect(log.status == 0, "\(log)")
        let lines = log.stdoutLines
        try #require(lines.count == 2)
        let events = try parseNDJSON(log.stdout)
        let rec1 = try #require(events[0]["recorded_at"] as? String)
        let rec2 = try #require(events[1]["recorded_at"] as? String)
        #expect(rec1.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil, "recorded_at is fixed-width microseconds: \(rec1)")
        #expect(rec1 <= rec2)

        let canonical1 = #"{"data":{"name":"North \"Pennines\" Café\tNetwork","network_id":"npn","partners":["Durham University","NE LA"],"region":"North East"},"id":"evt-1","occurred_at":"2025-09-01T00:00:00Z","recorded_at":"\#(rec1)","seq":1,"type":"NetworkFormed","v":1}"#
        let canonical2 = #"{"actor":"Network lead","data":{"kind":"mat","name":"Oak \\ Trust","org_id":"oak","schools":7},"id":"evt-2","occurred_at":"2025-09-02T09:30:00.5Z","recorded_at":"\#(rec2)","seq":2,"type":"OrganisationRegistered","v":1}"#
        let zero = String(repeating: "0", count: 64)
        let hash1 = try pythonChainHash(previousHex: zero, bytes: Array(canonical1.utf8))
        let hash2 = try pythonChainHash(previousHex: hash1, bytes: Array(canonical2.utf8))
        #expect(hash1.count == 64)
        #expect(events[0]["hash"] as? String == hash1)
        #expect(events[1]["hash"] as? String == hash2)

        // The ndjson line is the canonical envelope with "hash" in its sorted place.
        #expect(lines[0] == canonical1.replacingOccurrences(of: #","id":"evt-1""#, with: #","hash":"\#(hash1)","id":"evt-1""#))
        #expect(lines[1] == canonical2.replacingOccurrences(of: #","id":"evt-2""#, with: #","hash":"\#(hash2)","id":"evt-2""#))

        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0)
        #expect(v.stdout.contains("ok: 2 events, head \(hash2)"), "\(v)")
        #expect(try status(dir.ledgerPath)["head_hash"] as? String == hash2)
    }

    @Test func personalFieldsAreChainedAsCiphertextAndErasureKeepsTheChainValid() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let events = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson", "--type", "PersonRegistered"]).stdout)
        try #require(events.count == 2)
        let data = try #require(events[0]["data"] as? [String: Any])
        let name = try #require(data["name"] as? String)
        let email = try #require(data["email"] as? String)
        #expect(name.hasPrefix("aes256gcm:"))
        #expect(email.hasPrefix("aes256gcm:"))
        #expect(!name.contains("Olive"))
        let headBefore = try #require(try status(dir.ledgerPath)["head_hash"] as? String)
        let shown = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table", "--type", "PersonRegistered"])
        #expect(shown.stdout.contains("Olive Oakes"), "the lead sees the name while the key exists: \(shown)")

        let erase = try runTrellis(["append", "--db", dir.ledgerPath, #"{"type":"PersonErased","occurred_at":"2025-12-01","data":{"person_id":"p-oak"}}"#])
        #expect(erase.status == 0, "\(erase)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("ok: \(Fixture.count + 1) events"))
        // The events before the erasure still lead to the same hash at their seq.
        let after = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"]).stdout)
        #expect(after[Fixture.count - 1]["hash"] as? String == headBefore)
        let hidden = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table", "--type", "PersonRegistered"])
        #expect(!hidden.stdout.contains("Olive"), "\(hidden)")
        #expect(hidden.stdout.contains("(erased)"), "\(hidden)")
        #expect(hidden.stdout.contains("Ashok Patel"), "only the erased person is hidden: \(hidden)")
        let keys = try sqlite3(dir.ledgerPath, "SELECT count(*) FROM person_keys WHERE person_id = 'p-oak'")
        #expect(keys.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    // MARK: Tampering

    @Test func intactLedgerVerifies() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        // The first line is the contract; the second says which derived state was checked.
        let line = String(v.stdout.split(separator: "\n").first ?? "")
        #expect(line.wholeMatch(of: /ok: 9 events, head [0-9a-f]{64}/) != nil, "\(v)")
        let head = try #require(try status(dir.ledgerPath)["head_hash"] as? String)
        #expect(line.hasSuffix(head))
    }

    @Test func emptyLedgerVerifies() throws {
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        #expect(try runTrellis(["init", "--db", dir.ledgerPath]).status == 0)
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("ok: 0 events, head " + String(repeating: "0", count: 64)), "\(v)")
    }

    /// 32 bytes that are not the event's hash, in PostgreSQL's SQL (sqlite3: randomblob(32)).
    static let pgRandom32 = "decode(md5(random()::text) || md5(random()::text), 'hex')"
    /// A PostgreSQL tamper as the database's owner, past the append-only triggers (which stay in place).
    static func pastTheTriggers(_ sql: String) -> String { "SET LOCAL session_replication_role = replica; " + sql }

    @Test func theStoreRefusesUpdateAndDeleteWhileTheTriggersAreInPlace() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let update = try TestStore.tamper(dir.ledgerPath, file: "UPDATE events SET data = '{}' WHERE seq = 3", postgres: "UPDATE events SET data = '{}' WHERE seq = 3")
        #expect(update.status != 0, "\(update)")
        #expect(update.stderr.contains("append-only"), "\(update)")
        let delete = try TestStore.tamper(dir.ledgerPath, file: "DELETE FROM events WHERE seq = 4", postgres: "DELETE FROM events WHERE seq = 4")
        #expect(delete.status != 0, "\(delete)")
        #expect(delete.stderr.contains("append-only"), "\(delete)")
        if TestStore.isPostgreSQL {
            let truncate = try TestStore.psql(dir.ledgerPath, "TRUNCATE events CASCADE")
            #expect(truncate.status != 0, "\(truncate)")
            #expect(truncate.stderr.contains("append-only"), "\(truncate)")
        }
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
    }

    /// seq is gap-free by construction, not by trigger: a row inserted past the head behind
    /// Trellis's back leaves a gap that verify names.
    @Test func aRowInsertedPastTheHeadIsAGapThatVerifyNames() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let row = "INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, data, hash) VALUES (20, 'x', 'NetworkFormed', 1, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000000Z', '{}', "
        let gap = try TestStore.tamper(dir.ledgerPath, file: row + "randomblob(32))", postgres: row + Self.pgRandom32 + ")")
        #expect(gap.status == 0, "\(gap)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("broken at seq 10: events 10–19 are missing"), "\(v)")
    }

    @Test func updatedEventIsDetectedAtItsSeq() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let update = #"UPDATE events SET data = '{"kind":"sat","name":"Ash Academy","org_id":"ash","schools":2}' WHERE seq = 3"#
        let t = try TestStore.tamper(dir.ledgerPath, file: "DROP TRIGGER events_no_update; " + update, postgres: Self.pastTheTriggers(update))
        #expect(t.status == 0, "\(t)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("broken at seq 3"), "\(v)")
    }

    @Test func updatedHashOfTheHeadIsDetected() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let t = try TestStore.tamper(dir.ledgerPath, file: "DROP TRIGGER events_no_update; UPDATE events SET hash = randomblob(32) WHERE seq = 9",
                                     postgres: Self.pastTheTriggers("UPDATE events SET hash = \(Self.pgRandom32) WHERE seq = 9"))
        #expect(t.status == 0, "\(t)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("broken at seq 9"), "\(v)")
    }

    @Test func deletedEventIsDetectedAtItsSeq() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let t = try TestStore.tamper(dir.ledgerPath, file: "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 4",
                                     postgres: Self.pastTheTriggers("DELETE FROM events WHERE seq = 4"))
        #expect(t.status == 0, "\(t)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("broken at seq 4"), "\(v)")
    }

    @Test func insertedEventWithABogusHashIsDetectedAtItsSeq() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        // A row at head + 1 looks in place; only the chain shows that it is forged.
        let row = #"""
            INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash)
            VALUES (10, 'forged', 'MemberJoined', 1, '2025-09-02T00:00:00Z', '2025-09-02T00:00:00.000000Z', NULL,
                    '{"network_id":"npn","org_id":"elm"}', 
            """#
        let t = try TestStore.tamper(dir.ledgerPath, file: row + "randomblob(32))", postgres: row + Self.pgRandom32 + ")")
        #expect(t.status == 0, "\(t)")
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout.contains("broken at seq 10"), "\(v)")
    }

    /// A log whose append-only triggers are gone, off or hollow fails verify (and `--chain-only`)
    /// though every event is intact, naming the trigger. On PostgreSQL the triggers can also be
    /// disabled, silenced for every session by `session_replication_role`, or kept while the
    /// function they run is replaced by one that lets every change through.
    @Test func droppedTriggersAloneFailVerification() throws {
        var cases: [(name: String, file: String, postgres: String, names: String)] = [
            ("events_no_update", "DROP TRIGGER events_no_update", "DROP TRIGGER events_no_update ON events", "the append-only trigger events_no_update is missing"),
            ("events_no_delete", "DROP TRIGGER events_no_delete", "DROP TRIGGER events_no_delete ON events", "the append-only trigger events_no_delete is missing"),
        ]
        if TestStore.isPostgreSQL {
            cases += [
                ("truncate", "", "DROP TRIGGER events_no_truncate ON events", "the append-only trigger events_no_truncate is missing"),
                ("disabled", "", "ALTER TABLE events DISABLE TRIGGER events_no_delete", "the append-only trigger events_no_delete is disabled"),
                ("replica only", "", "ALTER TABLE events ENABLE REPLICA TRIGGER events_no_update", "the append-only trigger events_no_update is disabled"),
                ("replication role", "", "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET session_replication_role = replica', current_database()); END $$",
                 "session_replication_role is replica"),
                ("hollow function", "", "CREATE OR REPLACE FUNCTION trellis_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                 "the function trellis_events_append_only the append-only triggers run is not the one Trellis creates"),
            ]
        }
        for c in cases {
            let dir = try fixtureDir()
            defer { dir.remove() }
            let t = try TestStore.tamper(dir.ledgerPath, file: c.file, postgres: c.postgres)
            #expect(t.status == 0, "\(c.name): \(t)")
            for mode in [[], ["--chain-only"]] {
                let v = try runTrellis(["verify", "--db", dir.ledgerPath] + mode)
                #expect(v.status == 1, "\(c.name): \(v)")
                #expect(v.stdout.contains("broken"), "\(c.name): \(v)")
                #expect(v.stderr.contains(c.names), "\(c.name): \(v)")
            }
        }
    }

    // MARK: Concurrent writers

    @Test func concurrentImportsEachAppendContiguouslyAndTheChainHolds() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        func batch(_ prefix: String, org: String, person: String) -> [String] {
            (0..<2000).map { k in
                envelope("AttendanceRecorded", id: "\(prefix)-\(k)", at: "2025-09-15",
                         ["meeting_id": "m1", "org_id": .string(org), "person_id": .string(person), "status": k % 3 == 0 ? "apologies" : "present"])
            }
        }
        let fileA = try dir.writeLines("a.ndjson", batch("a", org: "oak", person: "p-oak"))
        let fileB = try dir.writeLines("b.ndjson", batch("b", org: "ash", person: "p-ash"))

        let a = try launchTrellis(["import", "--db", dir.ledgerPath, fileA])
        let b = try launchTrellis(["import", "--db", dir.ledgerPath, fileB])
        let ra = a.finish()
        let rb = b.finish()
        #expect(ra.status == 0, "A: \(ra)")
        #expect(rb.status == 0, "B: \(rb)")
        #expect(ra.stdout.contains("appended 2000, skipped 0"), "A: \(ra)")
        #expect(rb.stdout.contains("appended 2000, skipped 0"), "B: \(rb)")

        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count + 4000)
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("ok: \(Fixture.count + 4000) events"))

        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"])
        #expect(log.status == 0)
        let events = try parseNDJSON(log.stdout)
        #expect(events.count == Fixture.count + 4000)
        for prefix in ["a-", "b-"] {
            let seqs = events.filter { ($0["id"] as? String)?.hasPrefix(prefix) == true }.compactMap { $0["seq"] as? Int }.sorted()
            #expect(seqs.count == 2000, "\(prefix)")
            if let first = seqs.first, let last = seqs.last {
                #expect(last - first + 1 == 2000, "batch \(prefix) is interleaved: seqs \(first)...\(last)")
                #expect(first > Fixture.count)
            }
            // Within a batch, file order is log order.
            let ids = events.filter { ($0["id"] as? String)?.hasPrefix(prefix) == true }.compactMap { $0["id"] as? String }
            #expect(ids == (0..<2000).map { "\(prefix)\($0)" })
        }
    }

    /// Four writer processes, each appending 10,000 events in ten imports of 1,000, all at
    /// once: exactly 40,000 new events, seq gap-free, the chain valid, every batch contiguous,
    /// and no busy error ever reaches a user.
    @Test func fourConcurrentWritersAppendExactlyFortyThousandEvents() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let writers = ["w0", "w1", "w2", "w3"]
        var scripts: [String] = []
        for (w, writer) in writers.enumerated() {
            var files: [String] = []
            for b in 0..<10 {
                let lines = (0..<1000).map { k in
                    envelope("AttendanceRecorded", id: "\(writer)-\(b)-\(k)", at: "2025-09-15",
                             ["meeting_id": "m1", "org_id": .string(w % 2 == 0 ? "oak" : "ash"), "status": k % 2 == 0 ? "present" : "absent"])
                }
                files.append(try dir.writeLines("\(writer)-\(b).ndjson", lines))
            }
            scripts.append(try files.map { file in
                try TestStore.commandWords(["import", "--db", dir.ledgerPath, file]).map { "\"\($0)\"" }.joined(separator: " ") + " || exit $?"
            }.joined(separator: "\n"))
        }
        let running = try scripts.map { script in
            try RunningProcess(executable: "/bin/bash", arguments: ["-c", script])
        }
        let results = running.map { $0.finish() }
        for (w, r) in results.enumerated() {
            #expect(r.status == 0, "writer \(w): \(r)")
            #expect(!r.stderr.contains("locked") && !r.stderr.lowercased().contains("busy"), "writer \(w): \(r.stderr)")
            #expect(r.stdout.components(separatedBy: "appended 1000, skipped 0").count - 1 == 10, "writer \(w): \(r.stdout)")
        }
        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count + 40_000)
        let v = try verify(dir.ledgerPath)
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("ok: \(Fixture.count + 40_000) events"))
        let rows = try sqlite3(dir.ledgerPath, "SELECT id, seq FROM events WHERE seq > \(Fixture.count) ORDER BY seq").stdout
            .split(separator: "\n").map { $0.split(separator: "|") }
        #expect(rows.count == 40_000)
        // Each batch of 1,000 occupies one contiguous run of seqs.
        var runs: [String: (first: Int, last: Int, count: Int)] = [:]
        for row in rows where row.count == 2 {
            let batch = String(row[0].split(separator: "-").prefix(2).joined(separator: "-"))
            let seq = Int(row[1]) ?? 0
            let r = runs[batch] ?? (seq, seq, 0)
            runs[batch] = (min(r.first, seq), max(r.last, seq), r.count + 1)
        }
        #expect(runs.count == 40)
        for (batch, r) in runs { #expect(r.last - r.first + 1 == 1000 && r.count == 1000, "batch \(batch) interleaved: \(r)") }
    }

    @Test func aSecondWriterWaitsForTheFirstWritersWholeBatch() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        func lines(_ prefix: String, org: String) -> [String] {
            (0..<500).map { k in
                envelope("AttendanceRecorded", id: "\(prefix)-\(k)", at: "2025-09-15", ["meeting_id": "m1", "org_id": .string(org), "status": "present"])
            }
        }
        // A reads its batch from a pipe we hold open: it takes the write lock, then waits for input.
        let pipe = Pipe()
        let a = try launchTrellis(["import", "--db", dir.ledgerPath, "-"], stdinPipe: pipe)
        let first = lines("a", org: "oak")
        pipe.fileHandleForWriting.write(Data(first[..<250].map { $0 + "\n" }.joined().utf8))
        Thread.sleep(forTimeInterval: 0.5)
        // B starts while A's transaction is open: it must wait, not fail and not interleave.
        let fileB = try dir.writeLines("b.ndjson", lines("b", org: "ash"))
        let b = try launchTrellis(["import", "--db", dir.ledgerPath, fileB])
        Thread.sleep(forTimeInterval: 0.5)
        pipe.fileHandleForWriting.write(Data(first[250...].map { $0 + "\n" }.joined().utf8))
        try pipe.fileHandleForWriting.close()
        let ra = a.finish()
        let rb = b.finish()
        #expect(ra.status == 0, "A: \(ra)")
        #expect(rb.status == 0, "B: \(rb)")

        let events = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"]).stdout)
        #expect(events.count == Fixture.count + 1000)
        let ids = events.dropFirst(Fixture.count).compactMap { $0["id"] as? String }
        // A held the lock first, so its whole batch comes first.
        #expect(ids == (0..<500).map { "a-\($0)" } + (0..<500).map { "b-\($0)" })
        #expect(try verify(dir.ledgerPath).status == 0)
    }

    @Test func concurrentFirstImportsIntoANewLedgerBothSucceed() throws {
        // CLI.md: the first import creates the ledger. Two of them at once must not trip over
        // each other while creating it. The race is timing-dependent, so try a few times.
        let dir = try ScratchDir("integrity")
        defer { dir.remove() }
        let fixture = try dir.write("fixture.ndjson", Fixture.ndjson)
        let other = try dir.writeLines("other.ndjson", [
            envelope("NetworkFormed", id: "o-spn", ["network_id": "spn", "name": "South Pennines"]),
            envelope("OrganisationRegistered", id: "o-yew", ["org_id": "yew", "name": "Yew Trust", "kind": "mat"]),
        ])
        var failures: [String] = []
        for attempt in 0..<16 {
            let db = dir.file("new-\(attempt).db")
            let a = try launchTrellis(["import", "--db", db, fixture])
            let b = try launchTrellis(["import", "--db", db, other])
            let (ra, rb) = (a.finish(), b.finish())
            for r in [ra, rb] where r.status != 0 {
                failures.append("attempt \(attempt): exit \(r.status): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if ra.status == 0 && rb.status == 0 {
                #expect(try status(db)["events"] as? Int == Fixture.count + 2)
                #expect(try verify(db).status == 0)
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
