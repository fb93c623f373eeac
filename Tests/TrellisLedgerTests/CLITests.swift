import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `trellis` command line as CLI.md specifies it, through the real binary.
@Suite struct CLITests {
    /// A scratch directory with the fixture imported into `ledger.db`.
    func fixtureDir() throws -> ScratchDir {
        let dir = try ScratchDir("cli")
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

    // MARK: Missing ledger, init, status

    @Test func statusOnAMissingLedgerExits66NamingThePath() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let path = dir.file("nowhere.db")
        for command in [["status"], ["log"], ["verify"], ["audit", "oak"], ["retract", "x", "--reason", "r"]] {
            let r = try runTrellis(command + ["--db", path])
            #expect(r.status == 66, "\(command): \(r)")
            // On PostgreSQL (TestStore) the database exists but holds no ledger: it is named by its URL.
            #expect(r.stderr.contains(TestStore.isFile ? path : "no ledger at postgresql://"), "\(command): \(r)")
            #expect(r.stdout.isEmpty, "\(command): \(r)")
        }
        #expect(!FileManager.default.fileExists(atPath: path), "reading a missing ledger must not create it")
    }

    @Test func initThenStatusJSONHasEveryKey() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let created = try runTrellis(["init", "--db", dir.ledgerPath])
        #expect(created.status == 0, "\(created)")
        #expect(FileManager.default.fileExists(atPath: dir.ledgerPath) || TestStore.isPostgreSQL)

        let empty = try status(dir.ledgerPath)
        #expect(Set(empty.keys) == ["events", "head_seq", "head_hash", "first_occurred_at", "last_occurred_at", "file_bytes"])
        #expect(empty["events"] as? Int == 0)
        #expect(empty["head_seq"] as? Int == 0)
        #expect(empty["head_hash"] as? String == String(repeating: "0", count: 64))
        #expect(empty["first_occurred_at"] is NSNull)
        #expect(empty["last_occurred_at"] is NSNull)
        #expect((empty["file_bytes"] as? Int ?? 0) > 0)

        // init again leaves the ledger as it is.
        let again = try runTrellis(["init", "--db", dir.ledgerPath])
        #expect(again.status == 0, "\(again)")

        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        let full = try status(dir.ledgerPath)
        #expect(full["events"] as? Int == Fixture.count)
        #expect(full["head_seq"] as? Int == Fixture.count)
        #expect((full["head_hash"] as? String)?.wholeMatch(of: /[0-9a-f]{64}/) != nil)
        #expect(full["first_occurred_at"] as? String == "2025-08-01T00:00:00Z")
        #expect(full["last_occurred_at"] as? String == "2025-09-15T16:00:00Z")
    }

    @Test func statusFirstAndLastOccurredAtAreTheEarliestAndLatestInstants() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        // Half a second after the first event; half a second after the last one.
        let early = envelope("OrganisationUpdated", at: "2025-08-01T00:00:00.5Z", ["org_id": "oak", "schools": 8])
        let late = envelope("OrganisationUpdated", at: "2025-09-15T16:00:00.5Z", ["org_id": "oak", "schools": 9])
        let file = try dir.writeLines("more.ndjson", [early, late])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        let s = try status(dir.ledgerPath)
        #expect(s["first_occurred_at"] as? String == "2025-08-01T00:00:00Z")
        #expect(s["last_occurred_at"] as? String == "2025-09-15T16:00:00.5Z")
    }

    // MARK: import

    @Test func importReportsAppendedAndSkipped() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        let first = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout == "appended \(Fixture.count), skipped 0 (already recorded)\n")

        let more = Fixture.lines + [envelope("MemberJoined", id: "join-elm", ["network_id": "npn", "org_id": "elm"])]
        let file2 = try dir.writeLines("more.ndjson", more)
        let second = try runTrellis(["import", "--db", dir.ledgerPath, "--format", "json", file2])
        #expect(second.status == 0, "\(second)")
        let out = try parseJSONObject(second.stdout)
        #expect(Set(out.keys) == ["appended", "skipped", "head_seq", "head_hash"])
        #expect(out["appended"] as? Int == 1)
        #expect(out["skipped"] as? Int == Fixture.count)
        #expect(out["head_seq"] as? Int == Fixture.count + 1)
        #expect(out["head_hash"] as? String == (try status(dir.ledgerPath)["head_hash"] as? String))

        let third = try runTrellis(["import", "--db", dir.ledgerPath, file2])
        #expect(third.stdout == "appended 0, skipped \(Fixture.count + 1) (already recorded)\n")
    }

    @Test func importAcceptsCRLFBlankLinesAndNoFinalNewline() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let text = Fixture.lines.joined(separator: "\r\n") + "\r\n\r\n" + envelope("MemberJoined", ["network_id": "npn", "org_id": "elm"])
        let file = try dir.write("crlf.ndjson", text)
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("appended \(Fixture.count + 1), skipped 0"), "\(r)")

        // Blank lines still count in the line numbers of errors.
        let bad = try dir.write("bad.ndjson", "\n\n" + envelope("MemberLeft", ["network_id": "npn", "org_id": "yew"]) + "\n")
        let rb = try runTrellis(["import", "--db", dir.ledgerPath, bad])
        #expect(rb.status == 65, "\(rb)")
        #expect(rb.stderr.contains("line 3: MemberLeft.org_id: "), "\(rb)")
    }

    @Test func importReadsStandardInput() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let r = try runTrellis(["import", "--db", dir.ledgerPath, "-"], stdin: Fixture.ndjson)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("appended \(Fixture.count), skipped 0"))
    }

    @Test func importOfSeveralFilesNumbersLinesPerFileAndNamesTheFile() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let a = try dir.write("a.ndjson", Fixture.ndjson)
        let b = try dir.writeLines("b.ndjson", [
            envelope("MemberJoined", ["network_id": "npn", "org_id": "elm"]),
            envelope("MemberJoined", ["network_id": "npn", "org_id": "yew"]),
        ])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, a, b])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("b.ndjson: line 2: MemberJoined.org_id:"), "\(r)")
        #expect(try status(dir.ledgerPath)["events"] as? Int == 0)
    }

    // MARK: Bad input

    struct BadLine: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var message: String
        var testDescription: String { name }

        init(_ name: String, _ line: String, _ message: String) {
            self.name = name; bytes = Array(line.utf8); self.message = message
        }
        init(_ name: String, bytes: [UInt8], _ message: String) {
            self.name = name; self.bytes = bytes; self.message = message
        }
    }

    static let long129 = String(repeating: "x", count: 129)

    static let badLines: [BadLine] = [
        BadLine("malformed JSON", #"{"type":"MemberJoined","occurred_at":"2025-09-01","data":{"network_id":"npn","org_id":"oak"}"#,
                "line 2: not valid JSON"),
        BadLine("not an object", #"["MemberJoined"]"#, "line 2: a JSON object"),
        BadLine("unknown type", #"{"type":"MemberJoyned","occurred_at":"2025-09-01","data":{}}"#,
                #"line 2: envelope.type: one of NetworkFormed, "#),
        BadLine("missing type", #"{"occurred_at":"2025-09-01","data":{}}"#, "line 2: envelope.type: "),
        BadLine("unknown data field", #"{"type":"MemberJoined","occurred_at":"2025-09-01","data":{"network_id":"npn","org_id":"oak","colour":"red"}}"#,
                "line 2: MemberJoined.colour: only network_id, org_id in MemberJoined data, got an unknown field"),
        BadLine("unknown envelope field", #"{"type":"MemberJoined","when":"now","occurred_at":"2025-09-01","data":{"network_id":"npn","org_id":"oak"}}"#,
                "line 2: MemberJoined.when: "),
        BadLine("seq on input", #"{"type":"MemberJoined","seq":5,"occurred_at":"2025-09-01","data":{"network_id":"npn","org_id":"oak"}}"#,
                "line 2: MemberJoined.seq: "),
        BadLine("missing data field", #"{"type":"MemberJoined","occurred_at":"2025-09-01","data":{"network_id":"npn"}}"#,
                "line 2: MemberJoined.org_id: an identifier of 1–128 characters from A–Z a–z 0–9 . _ : -, got nothing (the field is missing)"),
        BadLine("wrong type", #"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"yew","name":"Yew","kind":"mat","schools":"seven"}}"#,
                #"line 2: OrganisationRegistered.schools: a whole number from 0 to "#),
        BadLine("not in the enumeration", #"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"yew","name":"Yew","kind":"academy"}}"#,
                #"line 2: OrganisationRegistered.kind: one of mat, sat, hub, school, local_authority, provider, other, got "academy""#),
        BadLine("impossible occurred_at", #"{"type":"MemberJoined","occurred_at":"2026-02-30","data":{"network_id":"npn","org_id":"oak"}}"#,
                #"line 2: MemberJoined.occurred_at: a UTC date or date-time (2026-03-12 or 2026-03-12T09:30:00Z), got "2026-02-30""#),
        BadLine("non-UTC occurred_at", #"{"type":"MemberJoined","occurred_at":"2026-02-03T10:00:00+01:00","data":{"network_id":"npn","org_id":"oak"}}"#,
                "line 2: MemberJoined.occurred_at: "),
        BadLine("impossible data date", #"{"type":"ReviewCommitted","occurred_at":"2025-10-01","data":{"review_id":"r1","network_id":"npn","reviewer_org_ids":["ash"],"reviewee_org_id":"oak","areas":["governance"],"due_by":"2026-02-30"}}"#,
                #"line 2: ReviewCommitted.due_by: a date YYYY-MM-DD, got "2026-02-30""#),
        BadLine("envelope id of 129 chars", #"{"id":"\#(long129)","type":"MemberJoined","occurred_at":"2025-09-01","data":{"network_id":"npn","org_id":"oak"}}"#,
                "line 2: MemberJoined.id: an identifier of 1–128 characters"),
        BadLine("data id of 129 chars", #"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"\#(long129)","name":"Long","kind":"mat"}}"#,
                "line 2: OrganisationRegistered.org_id: an identifier of 1–128 characters"),
        BadLine("id with a space", #"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"yew trust","name":"Yew","kind":"mat"}}"#,
                #"line 2: OrganisationRegistered.org_id: an identifier of 1–128 characters from A–Z a–z 0–9 . _ : -, got "yew trust""#),
        BadLine("NUL escape in a string", #"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"yew","name":"Yew\u0000Trust","kind":"mat"}}"#,
                "line 2: OrganisationRegistered.name: text without NUL characters"),
        BadLine("raw NUL byte in a string",
                bytes: Array(#"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"yew","name":"Yew"#.utf8) + [0]
                    + Array(#"Trust","kind":"mat"}}"#.utf8),
                "line 2: not valid JSON"),
        BadLine("raw NUL byte outside a string",
                bytes: Array(#"{"type":"OrganisationRegistered","occurred_at":"2025-09-01","#.utf8) + [0]
                    + Array(#""data":{"org_id":"yew","name":"Yew","kind":"mat"}}"#.utf8),
                "line 2: not valid JSON"),
        BadLine("empty reviewer list", #"{"type":"ReviewCommitted","occurred_at":"2025-10-01","data":{"review_id":"r1","network_id":"npn","reviewer_org_ids":[],"reviewee_org_id":"oak","areas":["governance"],"due_by":"2026-02-28"}}"#,
                "line 2: ReviewCommitted.reviewer_org_ids: "),
        BadLine("bad outcome judgement", #"{"type":"ReviewCompleted","occurred_at":"2025-10-01","data":{"review_id":"r1","outcomes":[{"area":"finance","judgement":"great"}]}}"#,
                #"line 2: ReviewCompleted.outcomes[0].judgement: one of strength, secure, developing, concern, got "great""#),
        BadLine("free text too long", #"{"type":"MeetingHeld","occurred_at":"2025-10-01","data":{"meeting_id":"m2","network_id":"npn","title":"\#(String(repeating: "t", count: 501))"}}"#,
                "line 2: MeetingHeld.title: "),
        BadLine("rule broken", #"{"type":"MemberJoined","occurred_at":"2025-10-01","data":{"network_id":"npn","org_id":"oak"}}"#,
                "line 2: MemberJoined.org_id: "),
    ]

    @Test(arguments: badLines)
    func badInputExits65WithTheLineAndThePath(_ bad: BadLine) throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let head = try status(dir.ledgerPath)["head_hash"] as? String
        // Line 1 is fine; line 2 is the bad one.
        let good = Array((envelope("OrganisationUpdated", ["org_id": "oak", "schools": 8]) + "\n").utf8)
        let file = try dir.write("bad.ndjson", Data(good + bad.bytes + [0x0A]))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains(bad.message), "\(r)")
        #expect(r.stderr.contains("nothing was appended"), "\(r)")
        #expect(!r.stderr.contains("line 1:"), "\(r)")
        #expect(r.stdout.isEmpty, "\(r)")
        let s = try status(dir.ledgerPath)
        #expect(s["events"] as? Int == Fixture.count)
        #expect(s["head_hash"] as? String == head)
    }

    @Test func identifiersOf128CharactersAreAccepted() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let id = String(repeating: "a", count: 120) + ".b_c:d-9"
        #expect(id.count == 128)
        let line = envelope("OrganisationRegistered", id: id, ["org_id": .string(id), "name": "Long", "kind": "other"])
        let r = try runTrellis(["append", "--db", dir.ledgerPath, line])
        #expect(r.status == 0, "\(r)")
    }

    @Test func tenMegabyteLineIsRefusedNamingItsLine() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let name = String(repeating: "x", count: 10 << 20)
        let line = envelope("OrganisationRegistered", ["org_id": "yew", "name": .string(name), "kind": "mat"])
        let file = try dir.writeLines("huge.ndjson", [Fixture.lines[0], line])
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 65, "\(r.status) \(r.stderr.prefix(500))")
        #expect(r.stderr.contains("line 2: "), "\(r.stderr.prefix(500))")
        // Refused once its first MiB is read: the rest of the line is never held.
        #expect(r.stderr.contains("longer than 1 MiB"), "\(r.stderr.prefix(500))")
        #expect(r.stderr.count < 10_000, "the message must not echo the line")
        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count)
    }

    @Test func emptyFileExits65WithAClearMessage() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let empty = try dir.write("empty.ndjson", "")
        let r = try runTrellis(["import", "--db", dir.ledgerPath, empty])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("empty"), "\(r)")
        #expect(r.stderr.contains("empty.ndjson"), "\(r)")

        let blank = try dir.write("blank.ndjson", "\n  \n\n")
        let rb = try runTrellis(["import", "--db", dir.ledgerPath, blank])
        #expect(rb.status == 65, "\(rb)")
        #expect(rb.stderr.contains("empty") || rb.stderr.contains("no lines"), "\(rb)")

        let stdin = try runTrellis(["import", "--db", dir.ledgerPath, "-"], stdin: "")
        #expect(stdin.status == 65, "\(stdin)")
        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count)
    }

    @Test func missingInputFileExits66() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let missing = dir.file("missing.ndjson")
        let r = try runTrellis(["import", "--db", dir.ledgerPath, missing])
        #expect(r.status == 66, "\(r)")
        #expect(r.stderr.contains(missing), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir.ledgerPath), "a failed import must not create the ledger")
    }

    @Test func ledgerInAReadOnlyDirectoryIsRefused() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let ro = dir.url.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: ro.path)
        let db = ro.appendingPathComponent("ledger.db").path
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        /// Root ignores directory permissions, so as root the binary runs as nobody (setpriv):
        /// the refusal is checked for real whoever runs the tests.
        func unprivileged(_ args: [String]) throws -> ProcessResult {
            guard getuid() == 0 else { return try runTrellis(args) }
            let setpriv = "/usr/bin/setpriv"
            try #require(FileManager.default.isExecutableFile(atPath: setpriv), "as root this test needs setpriv (util-linux) to drop privileges")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
            return try runProcess(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", try Trellis.path()] + args)
        }
        for r in [try unprivileged(["init", "--db", db]), try unprivileged(["import", "--db", db, file])] {
            #expect(r.status == 66, "\(r)")
            #expect(r.stdout.isEmpty, "\(r)")
            #expect(r.stderr == "trellis: cannot open the ledger at \(db): cannot create a file in \(ro.path) (Permission denied)\n", "\(r)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: ro.path).isEmpty, "nothing half-written")
    }

    // MARK: log

    @Test func logFromAfterToIsAUsageError() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let r = try runTrellis(["log", "--db", dir.ledgerPath, "--from", "2026-01-01", "--to", "2025-09-01"])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("--from"), "\(r)")
        #expect(r.stdout.isEmpty)
        let same = try runTrellis(["log", "--db", dir.ledgerPath, "--from", "2025-09-01", "--to", "2025-09-01"])
        #expect(same.status == 64, "\(same)")
        let badDate = try runTrellis(["log", "--db", dir.ledgerPath, "--from", "2025-02-30"])
        #expect(badDate.status == 64, "\(badDate)")
        let badType = try runTrellis(["log", "--db", dir.ledgerPath, "--type", "MemberJoyned"])
        #expect(badType.status == 64, "\(badType)")
    }

    @Test func logFiltersByTypeAndOrganisation() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let extra = [
            envelope("AttendanceRecorded", id: "att-oak", at: "2025-09-15", ["meeting_id": "m1", "org_id": "oak", "status": "present"]),
            envelope("AttendanceRecorded", id: "att-ash", at: "2025-09-15", ["meeting_id": "m1", "org_id": "ash", "status": "apologies"]),
            envelope("AttendanceRecorded", id: "att-elm", at: "2025-09-15", ["meeting_id": "m1", "org_id": "elm", "status": "present"]),
            envelope("ReviewCommitted", id: "rc", at: "2025-10-01", ["review_id": "r1", "network_id": "npn", "reviewer_org_ids": ["ash", "elm"], "reviewee_org_id": "oak", "areas": ["governance"], "due_by": "2026-03-31"]),
        ]
        let file = try dir.writeLines("extra.ndjson", extra)
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)

        let r = try runTrellis(["log", "--db", dir.ledgerPath, "--type", "AttendanceRecorded", "--org", "ash", "--format", "ndjson"])
        #expect(r.status == 0, "\(r)")
        let events = try parseNDJSON(r.stdout)
        #expect(events.compactMap { $0["id"] as? String } == ["att-ash"])
        let e = try #require(events.first)
        #expect(Set(e.keys) == ["seq", "id", "type", "v", "occurred_at", "recorded_at", "data", "hash"])
        #expect(e["seq"] as? Int == Fixture.count + 2)

        let byOrg = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--org", "ash", "--format", "ndjson"]).stdout)
        #expect(byOrg.compactMap { $0["id"] as? String } == ["f-ash", "f-p-ash", "f-join-ash", "att-ash", "rc"])

        let byType = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--type", "MemberJoined", "--type", "MeetingHeld", "--format", "ndjson"]).stdout)
        #expect(byType.compactMap { $0["id"] as? String } == ["f-join-oak", "f-join-ash", "f-m1"])

        let byDate = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--from", "2025-09-15", "--to", "2025-10-01", "--format", "ndjson"]).stdout)
        #expect(byDate.compactMap { $0["id"] as? String } == ["f-m1", "att-oak", "att-ash", "att-elm"])

        let limited = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--since-seq", "3", "--limit", "2", "--format", "ndjson"]).stdout)
        #expect(limited.compactMap { $0["seq"] as? Int } == [4, 5])
    }

    // MARK: append, retract

    @Test func appendOneEventFromAnArgumentAndFromStandardInput() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let fromArg = try runTrellis(["append", "--db", dir.ledgerPath,
                                      envelope("MemberJoined", id: "join-elm", ["network_id": "npn", "org_id": "elm"])])
        #expect(fromArg.status == 0, "\(fromArg)")
        #expect(fromArg.stdout == "appended 1, skipped 0 (already recorded)\n")

        let line = envelope("AttendanceRecorded", id: "att-elm", at: "2025-09-15", ["meeting_id": "m1", "org_id": "elm", "status": "present"])
        let fromStdin = try runTrellis(["append", "--db", dir.ledgerPath, "--format", "json"], stdin: line + "\n")
        #expect(fromStdin.status == 0, "\(fromStdin)")
        let out = try parseJSONObject(fromStdin.stdout)
        #expect(out["appended"] as? Int == 1)
        #expect(out["head_seq"] as? Int == Fixture.count + 2)

        // The same again is a skip; a broken rule is exit 65 and names the field.
        let again = try runTrellis(["append", "--db", dir.ledgerPath], stdin: line)
        #expect(again.stdout == "appended 0, skipped 1 (already recorded)\n", "\(again)")
        let bad = try runTrellis(["append", "--db", dir.ledgerPath, envelope("MemberJoined", ["network_id": "npn", "org_id": "elm"])])
        #expect(bad.status == 65, "\(bad)")
        #expect(bad.stderr.contains("MemberJoined.org_id: "), "\(bad)")
        let two = try runTrellis(["append", "--db", dir.ledgerPath], stdin: line + "\n" + line + "\n")
        #expect(two.status == 65, "\(two)")
        #expect(try status(dir.ledgerPath)["events"] as? Int == Fixture.count + 2)
    }

    @Test func retractThenLogShowsTheEventRetracted() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let r = try runTrellis(["retract", "f-join-ash", "--reason", "joined the wrong network", "--db", dir.ledgerPath])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("appended 1"))

        let table = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table"])
        #expect(table.status == 0)
        let joinRow = try #require(table.stdoutLines.first { $0.contains("MemberJoined") && $0.contains("ash") })
        #expect(joinRow.contains("retracted by \(Fixture.count + 1)"), "\(table.stdout)")
        let oakRow = try #require(table.stdoutLines.first { $0.contains("MemberJoined") && $0.contains("oak") })
        #expect(!oakRow.contains("retracted"))

        let events = try parseNDJSON(runTrellis(["log", "--db", dir.ledgerPath, "--type", "EventRetracted", "--format", "ndjson"]).stdout)
        let data = try #require(events.first?["data"] as? [String: Any])
        #expect(data["event_id"] as? String == "f-join-ash")
        #expect(data["reason"] as? String == "joined the wrong network")

        // Retracting it twice is refused (exit 65); ash may now join again.
        let twice = try runTrellis(["retract", "f-join-ash", "--reason", "again", "--db", dir.ledgerPath])
        #expect(twice.status == 65, "\(twice)")
        #expect(twice.stderr.contains("EventRetracted.event_id"), "\(twice)")
        let unknown = try runTrellis(["retract", "no-such-event", "--reason", "x", "--db", dir.ledgerPath])
        #expect(unknown.status == 65, "\(unknown)")
        let rejoin = try runTrellis(["append", "--db", dir.ledgerPath, envelope("MemberJoined", ["network_id": "npn", "org_id": "ash"])])
        #expect(rejoin.status == 0, "\(rejoin)")
    }

    // MARK: audit

    @Test func auditListsTheOrganisationsEventsInOccurredAtOrder() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let batch = [
            envelope("AttendanceRecorded", id: "att-oak-m1", at: "2025-09-15T16:00:00Z", actor: "clerk", ["meeting_id": "m1", "org_id": "oak", "person_id": "p-oak", "status": "present"]),
            envelope("MeetingHeld", id: "f-m2", at: "2025-10-20T16:00:00Z", ["meeting_id": "m2", "network_id": "npn", "title": "Second meeting"]),
            envelope("AttendanceRecorded", id: "att-oak-m2", at: "2025-10-20T16:00:00Z", ["meeting_id": "m2", "org_id": "oak", "status": "present"]),
            envelope("AttendanceRecorded", id: "att-ash-m2", at: "2025-10-20T16:00:00Z", ["meeting_id": "m2", "org_id": "ash", "status": "present"]),
        ]
        let file = try dir.writeLines("batch.ndjson", batch)
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        // A register typed up weeks later: appended last, occurred before the m2 records.
        let lateRegister = envelope("AttendanceRecorded", id: "att-oak-late", at: "2025-10-01T16:00:00Z", actor: "late typist",
                                    ["meeting_id": "m1", "org_id": "oak", "status": "apologies"])
        #expect(try runTrellis(["append", "--db", dir.ledgerPath, lateRegister]).status == 0)

        let json = try runTrellis(["audit", "oak", "--db", dir.ledgerPath, "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let doc = try parseJSONObject(json.stdout)
        #expect(doc["org_id"] as? String == "oak")
        let events = try #require(doc["events"] as? [[String: Any]])
        let ids = events.compactMap { $0["id"] as? String }
        #expect(ids == ["f-oak", "f-p-oak", "f-join-oak", "att-oak-m1", "att-oak-late", "att-oak-m2"])
        #expect(!ids.contains("att-ash-m2"))
        let occurred = events.compactMap { $0["occurred_at"] as? String }
        #expect(occurred == occurred.sorted())
        let late = try #require(events.first { $0["id"] as? String == "att-oak-late" })
        #expect(late["seq"] as? Int == Fixture.count + batch.count + 1)
        #expect(late["actor"] as? String == "late typist")
        #expect(late["recorded_at"] is String)

        let table = try runTrellis(["audit", "oak", "--db", dir.ledgerPath])
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.contains("late typist"))
        let md = try runTrellis(["audit", "oak", "--db", dir.ledgerPath, "--format", "md"])
        #expect(md.status == 0, "\(md)")
        // A Markdown table: the header, the alignment row, then one row per event in the JSON's order.
        let rows = md.stdout.split(separator: "\n").filter { $0.hasPrefix("|") }.map(String.init)
        try #require(rows.count == 2 + events.count, "\(md)")
        #expect(rows[0] == "| occurred | seq | recorded | event | actor |", "\(rows[0])")
        // The alignment row as every Markdown report writes it (one table renderer, TrellisReports.Table).
        #expect(rows[1] == "| --- | ---: | --- | --- | --- |", "\(rows[1])")
        for (row, event) in zip(rows.dropFirst(2), events) {
            let cells = row.dropFirst(2).dropLast(2).components(separatedBy: " | ")
            #expect(cells.count == 5, "\(row)")
            guard cells.count == 5 else { continue }
            #expect(cells[0] == String((event["occurred_at"] as? String ?? "").prefix(10)), "\(row)")
            #expect(cells[1] == String(event["seq"] as? Int ?? -1), "\(row)")
            #expect(cells[2] == String((event["recorded_at"] as? String ?? "").prefix(10)), "\(row)")
            #expect(cells[4] == (event["actor"] as? String ?? ""), "\(row)")
        }
        let lateRow = try #require(rows.first { $0.contains("| \(Fixture.count + batch.count + 1) |") }, "\(rows)")
        #expect(lateRow.contains("oak apologies at m1") && lateRow.hasSuffix("| late typist |"), "\(lateRow)")
        #expect(md.stdout.contains("\n\(events.count) events; 0 retracted\n"), "\(md)")
    }

    @Test func auditOrdersEventsWithinOneSecondByTheirFraction() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        // Appended first but half a second later in the world.
        let later = envelope("AttendanceRecorded", id: "att-later", at: "2025-09-15T16:00:00.5Z", ["meeting_id": "m1", "org_id": "oak", "status": "present"])
        let earlier = envelope("OrganisationUpdated", id: "upd-earlier", at: "2025-09-15T16:00:00Z", ["org_id": "oak", "schools": 8])
        let file = try dir.writeLines("pair.ndjson", [later, earlier])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        let doc = try parseJSONObject(runTrellis(["audit", "oak", "--db", dir.ledgerPath, "--format", "json"]).stdout)
        let ids = try #require(doc["events"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(ids.suffix(2) == ["upd-earlier", "att-later"], "16:00:00Z comes before 16:00:00.5Z: \(ids)")
    }

    @Test func auditShowsRetractionsAsSuch() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        #expect(try runTrellis(["retract", "f-join-oak", "--reason", "typo", "--db", dir.ledgerPath]).status == 0)
        let doc = try parseJSONObject(runTrellis(["audit", "oak", "--db", dir.ledgerPath, "--format", "json"]).stdout)
        let events = try #require(doc["events"] as? [[String: Any]])
        let join = try #require(events.first { $0["id"] as? String == "f-join-oak" })
        #expect(join["retracted_by_seq"] as? Int == Fixture.count + 1)
        #expect(events.contains { $0["type"] as? String == "EventRetracted" })
    }

    @Test func auditOfAnUnknownOrganisationFails() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let r = try runTrellis(["audit", "yew", "--db", dir.ledgerPath])
        // ReportError.unknownOrganisation: a usage error (CLI.md: 64), one line naming it and the closest.
        #expect(r.status == 64, "\(r)")
        #expect(r.stdout.isEmpty, "\(r)")
        #expect(r.stderrLines.count == 1, "\(r)")
        #expect(r.stderr.hasPrefix("trellis: no organisation 'yew' in this ledger, by id or name (it has 3); closest: "), "\(r)")
        #expect(r.stderr.hasSuffix("; see trellis log --type OrganisationRegistered\n"), "\(r)")
    }

    // MARK: verify, ledger selection

    @Test func verifyAfterImportExits0() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let r = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.wholeMatch(of: /ok: 9 events, head [0-9a-f]{64}\nderived state: [^\n]*: consistent[^\n]*\n/) != nil, "\(r)")
        let quick = try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"])
        #expect(quick.stdout.wholeMatch(of: /ok: 9 events, head [0-9a-f]{64}\n/) != nil, "\(quick)")
        #expect(r.stderr.isEmpty, "\(r)")
    }

    @Test func dbOptionAndTrellisDBBothSelectTheLedger() throws {
        let dir = try ScratchDir("cli")
        defer { dir.remove() }
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        let viaOption = dir.file("option.db")
        let viaEnv = dir.file("env.db")

        #expect(try runTrellis(["import", "--db", viaOption, file], cwd: dir.url).status == 0)
        #expect(FileManager.default.fileExists(atPath: viaOption) || TestStore.isPostgreSQL)

        #expect(try runTrellis(["init"], env: ["TRELLIS_DB": viaEnv], cwd: dir.url).status == 0)
        #expect(FileManager.default.fileExists(atPath: viaEnv) || TestStore.isPostgreSQL)
        let envStatus = try runTrellis(["status", "--format", "json"], env: ["TRELLIS_DB": viaEnv], cwd: dir.url)
        #expect(try parseJSONObject(envStatus.stdout)["events"] as? Int == 0)

        // --db wins over TRELLIS_DB.
        let both = try runTrellis(["status", "--format", "json", "--db", viaOption], env: ["TRELLIS_DB": viaEnv], cwd: dir.url)
        #expect(try parseJSONObject(both.stdout)["events"] as? Int == Fixture.count)

        // Neither: ./trellis.db in the working directory.
        let none = try runTrellis(["status"], cwd: dir.url)
        #expect(none.status == 66, "\(none)")
        #expect(none.stderr.contains("trellis.db"), "\(none)")
        #expect(try runTrellis(["import", file], cwd: dir.url).status == 0)
        #expect(FileManager.default.fileExists(atPath: dir.file("trellis.db")))
    }

    @Test func anArchiveOnStandardInputIsImportedLikeAFile() throws {
        let dir = try fixtureDir()
        defer { dir.remove() }
        let archive = dir.file("a.trellis.lz4")
        let export = try runTrellis(["export", "--db", dir.ledgerPath, "--out", archive])
        #expect(export.status == 0, "\(export)")
        let copy = dir.file("copy.db")
        let imported = try runTrellis(["import", "--db", copy, "-"], stdinFile: archive)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("appended \(Fixture.count), skipped 0"), "\(imported)")
        #expect(try status(copy)["head_hash"] as? String == (try status(dir.ledgerPath)["head_hash"] as? String))
        // NDJSON on standard input still works after the sniffing.
        let ndjson = try runTrellis(["import", "--db", dir.file("n.db"), "-"], stdin: Fixture.ndjson)
        #expect(ndjson.status == 0, "\(ndjson)")
    }

    @Test func reportsFromAStudyWithMinCountSuppressSmallCells() throws {
        let dir = try ScratchDir("mincount")
        defer { dir.remove() }
        let gen = try runTrellis(["generate", "--networks", "2", "--orgs", "30", "--years", "1", "--seed", "4"])
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try dir.write("r.ndjson", gen.stdout)]).status == 0)
        let key = try dir.write("study.key", Data((0..<32).map { UInt8($0 * 7 + 1) }))
        let archive = dir.file("s.lz4")
        #expect(try runTrellis(["export", "--db", dir.ledgerPath, "--out", archive, "--pseudonymise", "--key", key, "--min-count", "5"]).status == 0)
        let study = dir.file("study.db")
        #expect(try runTrellis(["replay", archive, "--out", study]).status == 0)
        let table = try runTrellis(["report", "participation", "--db", study, "--format", "table"])
        #expect(table.status == 64 && table.stderr.contains("suppressed"), "\(table)")
        let json = try runTrellis(["report", "participation", "--db", study, "--format", "json"])
        try #require(json.status == 0, "\(json)")
        let doc = try parseJSONObject(json.stdout)
        let suppression = try #require(doc["suppression"] as? [String: Any], "\(json.stdout.prefix(500))")
        #expect(suppression["min_count"] as? Int == 5)
        // The unsuppressed figures of the same year, from the source ledger: the oracle.
        let source = try runTrellis(["report", "participation", "--db", dir.ledgerPath, "--format", "json"])
        try #require(source.status == 0, "\(source)")
        let sourceDoc = try parseJSONObject(source.stdout)
        #expect(sourceDoc["from"] as? String == doc["from"] as? String && sourceDoc["to"] as? String == doc["to"] as? String)

        // What the documented rule (SmallCells) makes of each source row, worked out here:
        // 1…4 hidden, zero shown; present/apologies/absent hidden together; the rate goes
        // with a hidden expected or present.
        let small = { (c: Int?) in (c ?? 0) > 0 && (c ?? 0) < 5 }
        let expectedRows = try participationRows(sourceDoc).map { r -> MemberRow in
            var c = r.counts
            if small(c[0]) { c[0] = nil }
            if c[1...3].contains(where: small) { c[1] = nil; c[2] = nil; c[3] = nil }
            return MemberRow(counts: c, rateShown: r.rateShown && c[0] != nil && c[1] != nil)
        }
        let shownRows = try participationRows(doc)
        let hidden = shownRows.reduce(0) { $0 + $1.counts.filter { $0 == nil }.count }
        #expect(hidden > 10, "the region must have small cells to suppress: \(hidden)")
        #expect(expectedRows.contains { $0.counts.contains(nil) } && shownRows.contains { !$0.rateShown })
        #expect(shownRows.count == expectedRows.count)
        #expect(Dictionary(shownRows.map { ($0, 1) }, uniquingKeysWith: +) == Dictionary(expectedRows.map { ($0, 1) }, uniquingKeysWith: +),
                "the study's member rows are not the source's with exactly the small cells hidden")
        #expect((suppression["cells_suppressed"] as? Int ?? 0) >= hidden, "\(suppression)")
        for r in shownRows { for c in r.counts { if let c { #expect(c == 0 || c >= 5, "\(c) shown") } } }
        // The same ledger without a study file's K is not suppressed unless asked.
        let plain = try runTrellis(["report", "participation", "--db", dir.ledgerPath, "--format", "json"])
        #expect(try parseJSONObject(plain.stdout)["suppression"] == nil)
        let asked = try runTrellis(["report", "outcomes", "--db", dir.ledgerPath, "--format", "json", "--min-count", "3"])
        #expect(((try parseJSONObject(asked.stdout))["suppression"] as? [String: Any])?["min_count"] as? Int == 3)
    }
}

/// One member row of `report participation --format json`: expected, present, apologies,
/// absent (nil when null) and whether its rate is shown.
struct MemberRow: Hashable {
    var counts: [Int?]
    var rateShown: Bool
}

/// Every member row of every network, requiring the shape to be there.
func participationRows(_ d: [String: Any]) throws -> [MemberRow] {
    let networks = try #require(d["networks"] as? [[String: Any]], "no networks array")
    try #require(!networks.isEmpty)
    return try networks.flatMap { n in
        let members = try #require(n["members"] as? [[String: Any]], "no members array in \(n.keys)")
        return try members.map { m in
            let counts = try ["expected", "present", "apologies", "absent"].map { k -> Int? in
                let v = try #require(m[k], "member without \(k): \(m)")
                if v is NSNull { return nil }
                return try #require(v as? Int, "\(k) = \(v)")
            }
            return MemberRow(counts: counts, rateShown: !(m["rate"] is NSNull) && m["rate"] != nil)
        }
    }
}
