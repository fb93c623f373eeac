import Foundation
import Testing
import TrellisLedger
import TrellisResearch
@testable import TrellisCore

@Suite("Archives: export, import, verify --archive")
struct ArchiveTests {
    @Test func fullExportImportedIntoAnEmptyLedgerGivesTheSameHeadAndProjectionDigests() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir)
        let archive = dir.file("region.trellis.lz4")
        let exported = try trellis("export", "--db", source, "--out", archive, "--format", "json")
        try #require(exported.status == 0, "\(exported)")

        let copy = dir.file("copy.db")
        let imported = try trellis("import", "--db", copy, archive, "--format", "json")
        try #require(imported.status == 0, "\(imported)")
        let sourceStatus = try jsonObject(try trellis("status", "--db", source, "--format", "json").stdout)
        let copyStatus = try jsonObject(try trellis("status", "--db", copy, "--format", "json").stdout)
        let head = try #require(sourceStatus["head_hash"] as? String)
        #expect(copyStatus["head_hash"] as? String == head)
        #expect(copyStatus["events"] as? Int == sourceStatus["events"] as? Int)
        let out = try jsonObject(imported.stdout)
        #expect(out["appended"] as? Int == sourceStatus["events"] as? Int)
        #expect(out["skipped"] as? Int == 0)
        #expect(out["head_hash"] as? String == head)

        let verify = try trellis("verify", "--db", copy)
        #expect(verify.status == 0 && verify.stdout.contains("head \(head)"), "\(verify)")

        let a = try digests(source), b = try digests(copy)
        #expect(a.count >= 9)
        #expect(a == b)

        // Every event keeps seq, recorded_at and hash: the logs print byte for byte the same.
        let logA = try trellis("log", "--db", source, "--format", "ndjson")
        let logB = try trellis("log", "--db", copy, "--format", "ndjson")
        #expect(logA.stdout == logB.stdout)
    }

    @Test func importedLedgerHasTheSameRuleStateAndTakesFurtherAppends() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (source, archive) = try exportedRegion(in: dir)
        let copy = dir.file("copy.db")
        try #require(try trellis("import", "--db", copy, archive).status == 0)

        for sql in ["SELECT kind, key, seq, parent, state FROM rule_entities ORDER BY kind, key",
                    "SELECT network_id, org_id, seq, joined FROM rule_memberships ORDER BY network_id, org_id, seq",
                    "SELECT target_seq, retraction_seq FROM retractions ORDER BY target_seq"] {
            let expected = try ledgerRows(source, sql)
            #expect(!expected.isEmpty, "\(sql)")
            #expect(try ledgerRows(copy, sql) == expected, "\(sql)")
        }
        // No keys travel in an archive: the copy can show no names.
        #expect(try ledgerRows(copy, "SELECT count(*) FROM person_keys") == "0\n")

        // The same NDJSON again: every event is recognised as already recorded.
        let again = try trellis("import", "--db", copy, dir.file("region-5.ndjson"), "--format", "json")
        #expect(again.status == 0, "\(again)")
        #expect(try jsonObject(again.stdout)["appended"] as? Int == 0)

        // The rules see the imported state: an existing network cannot be formed again, a
        // member cannot join twice, a new meeting of an existing network is accepted.
        let network = try ledgerRows(copy, "SELECT key FROM rule_entities WHERE kind = 'network' AND state = 0 LIMIT 1")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let member = try ledgerRows(copy, """
            SELECT org_id FROM rule_memberships m WHERE network_id = '\(network)'
            AND seq = (SELECT max(seq) FROM rule_memberships WHERE network_id = m.network_id AND org_id = m.org_id) AND joined = 1 LIMIT 1
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        let dup = try trellis("append", "--db", copy, #"{"type":"NetworkFormed","occurred_at":"2026-01-01","data":{"network_id":"\#(network)","name":"Again"}}"#)
        #expect(dup.status == 65 && dup.stderr.contains("NetworkFormed.network_id"), "\(dup)")
        let twice = try trellis("append", "--db", copy, #"{"type":"MemberJoined","occurred_at":"2026-01-01","data":{"network_id":"\#(network)","org_id":"\#(member)"}}"#)
        #expect(twice.status == 65 && twice.stderr.contains("already a member"), "\(twice)")
        let meeting = try trellis("append", "--db", copy, #"{"type":"MeetingHeld","occurred_at":"2026-01-01","data":{"meeting_id":"m-after-import","network_id":"\#(network)","title":"After the import"}}"#)
        #expect(meeting.status == 0, "\(meeting)")
        #expect(try trellis("verify", "--db", copy).status == 0)
        // A later recorded_at than the archive's last: --known-at stays a prefix.
        let later = "SELECT recorded_at >= (SELECT max(recorded_at) FROM events WHERE seq < (SELECT max(seq) FROM events)) FROM events ORDER BY seq DESC LIMIT 1"
        let last = try ledgerRows(copy, later, postgres: "SELECT (recorded_at >= (SELECT max(recorded_at) FROM events WHERE seq < (SELECT max(seq) FROM events)))::int FROM events ORDER BY seq DESC LIMIT 1")
        #expect(last == "1\n")
    }

    @Test func lz4ReadsTheArchiveAndItsLinesAreTheLogsLines() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (source, archive) = try exportedRegion(in: dir, seed: 6, orgs: 10)
        let text = try decompress(archive, to: dir.file("a.ndjson"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let manifest = try jsonObject(lines[0])
        let log = try trellis("log", "--db", source, "--format", "ndjson").stdout
        let count = log.split(separator: "\n").count
        #expect(manifest["trellis_archive"] as? Int == 1)
        #expect(manifest["format_version"] as? Int == 1)
        #expect(manifest["events"] as? Int == count)
        #expect(manifest["first_seq"] as? Int == 1)
        #expect(manifest["last_seq"] as? Int == count)
        #expect((manifest["schema_versions"] as? [String: [Int]])?["AttendanceRecorded"] == [1])
        let source_ = try #require(manifest["source"] as? [String: Any])
        #expect(source_["head_seq"] as? Int == count)
        #expect(lines.dropFirst().joined(separator: "\n") == log)

        // The lz4 tool's own test of the frame (block and content checksums).
        #expect(try tool("lz4", ["-t", archive]).status == 0)

        // The manifest satisfies its JSON Schema.
        let check = try tool("python3", ["-c", """
            import json, sys
            from jsonschema import Draft202012Validator as V
            schema = json.load(open(sys.argv[1]))
            V.check_schema(schema)
            errors = [e.message for e in V(schema, format_checker=V.FORMAT_CHECKER).iter_errors(json.loads(sys.argv[2]))]
            print(errors); sys.exit(1 if errors else 0)
            """, Paths.root.appendingPathComponent("schemas/archive-manifest.schema.json").path, lines[0]])
        #expect(check.status == 0, "\(check)")
    }

    @Test func untilSeqAndKnownAtExportPrefixesThatALaterArchiveExtends() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        // Two import batches, so two recorded_at values.
        let gen = try trellis("generate", "--seed", "8", "--orgs", "10", "--years", "1")
        let all = gen.stdout.split(separator: "\n").map(String.init)
        try (all.prefix(40).joined(separator: "\n") + "\n").write(toFile: dir.file("first.ndjson"), atomically: true, encoding: .utf8)
        try (all.dropFirst(40).joined(separator: "\n") + "\n").write(toFile: dir.file("rest.ndjson"), atomically: true, encoding: .utf8)
        let db = dir.file("s.db")
        try #require(try trellis("import", "--db", db, dir.file("first.ndjson")).status == 0)
        usleep(2000)
        try #require(try trellis("import", "--db", db, dir.file("rest.ndjson")).status == 0)
        let firstBatch = try jsonObject(try trellis("log", "--db", db, "--since-seq", "39", "--limit", "1", "--format", "ndjson").stdout)
        let knownAt = try #require(firstBatch["recorded_at"] as? String)

        let byKnownAt = dir.file("known.lz4")
        try #require(try trellis("export", "--db", db, "--out", byKnownAt, "--known-at", knownAt).status == 0)
        let m1 = try jsonObject(String(try decompress(byKnownAt, to: dir.file("k.ndjson")).prefix { $0 != "\n" }))
        #expect(m1["events"] as? Int == 40)
        #expect(m1["head_hash"] as? String == firstBatch["hash"] as? String)
        #expect((m1["options"] as? [String: Any])?["known_at"] as? String == knownAt)

        let byUntil = dir.file("until.lz4")
        try #require(try trellis("export", "--db", db, "--out", byUntil, "--until-seq", "25").status == 0)
        let at25 = try jsonObject(try trellis("log", "--db", db, "--since-seq", "24", "--limit", "1", "--format", "ndjson").stdout)
        let ok = try trellis("verify", "--archive", byUntil)
        #expect(ok.stdout == "ok: 25 events, head \(at25["hash"] as? String ?? "?")\n", "\(ok)")

        // A ledger holding a prefix takes the full archive: what it has is skipped.
        let full = dir.file("full.lz4")
        try #require(try trellis("export", "--db", db, "--out", full).status == 0)
        let copy = dir.file("copy.db")
        try #require(try trellis("import", "--db", copy, byUntil).status == 0)
        let more = try trellis("import", "--db", copy, full, "--format", "json")
        let o = try jsonObject(more.stdout)
        #expect(o["appended"] as? Int == all.count - 25)
        #expect(o["skipped"] as? Int == 25)
        // And an older, shorter archive into the longer ledger is all skipped.
        let older = try jsonObject(try trellis("import", "--db", copy, byKnownAt, "--format", "json").stdout)
        #expect(older["appended"] as? Int == 0 && older["skipped"] as? Int == 40)

        #expect(try trellis("export", "--db", db, "--out", dir.file("x.lz4"), "--until-seq", String(all.count + 1)).status == 64)
        #expect(try trellis("export", "--db", db, "--out", dir.file("x.lz4"), "--known-at", "2001-01-01").status == 66)
        #expect(try trellis("export", "--db", db, "--out", dir.file("x.lz4"), "--until-seq", "5", "--known-at", knownAt).status == 64)
    }

    @Test func verifyArchiveNamesWhatIsBroken() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 7, orgs: 10)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        #expect(try trellis("verify", "--archive", archive).status == 0)

        // One flipped bit inside the compressed block: the block checksum catches it.
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: dir.file("flipped.lz4")))
        let f = try trellis("verify", "--archive", dir.file("flipped.lz4"))
        #expect(f.status == 1 && f.stdout.hasPrefix("broken: the compressed data is damaged"), "\(f)")

        // Cut short: the frame never ends.
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: dir.file("cut.lz4")))
        let c = try trellis("verify", "--archive", dir.file("cut.lz4"))
        #expect(c.status == 1 && c.stdout.hasPrefix("broken: the archive is truncated"), "\(c)")

        // Garbage after the frame.
        try (bytes + Data([0, 1, 2])).write(to: URL(fileURLWithPath: dir.file("tail.lz4")))
        #expect(try trellis("verify", "--archive", dir.file("tail.lz4")).status == 1)

        // An event edited and the archive re-compressed: broken at that seq.
        let text = try decompress(archive, to: dir.file("a.ndjson"))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let target = try #require(lines.indices.dropFirst().first { lines[$0].contains(#""status":"present""#) })
        lines[target] = lines[target].replacingOccurrences(of: #""status":"present""#, with: #""status":"absent""#)
        try lines.joined(separator: "\n").write(toFile: dir.file("edited.ndjson"), atomically: true, encoding: .utf8)
        try compress(dir.file("edited.ndjson"), to: dir.file("edited.lz4"))
        let seq = try #require(try jsonObject(lines[target])["seq"] as? Int)
        let e = try trellis("verify", "--archive", dir.file("edited.lz4"))
        #expect(e.status == 1 && e.stdout.hasPrefix("broken at seq \(seq): the hash does not match"), "\(e)")

        // Events removed from the end (and re-compressed): the manifest's count says so.
        let original = text.split(separator: "\n", omittingEmptySubsequences: false)
        try original.prefix(original.count / 2).joined(separator: "\n").write(toFile: dir.file("fewer.ndjson"), atomically: true, encoding: .utf8)
        try compress(dir.file("fewer.ndjson"), to: dir.file("fewer.lz4"))
        let fewer = try trellis("verify", "--archive", dir.file("fewer.lz4"))
        #expect(fewer.status == 1 && fewer.stdout.contains("the manifest announces"), "\(fewer)")

        // Nothing of a broken archive is imported.
        for name in ["flipped.lz4", "cut.lz4", "edited.lz4", "fewer.lz4"] {
            let db = dir.file("into-\(name).db")
            let r = try trellis("import", "--db", db, dir.file(name))
            #expect(r.status == 1, "\(name): \(r)")
            #expect(r.stderr.contains("nothing was imported"), "\(name): \(r)")
            #expect(try eventCount(db) == 0)
        }
    }

    /// Within a chunk of 1,024 lines, each event's hash is checked against the hash the line
    /// before it carries, on the thread that read the chunk; only a chunk's first event is
    /// checked against the chain's head in order. An edit anywhere, on either side of a chunk's
    /// edge, is still found at its own seq, by `verify` and by `import`, and nothing is imported.
    @Test func anEditIsFoundAtItsSeqOnEitherSideOfAChunksEdge() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 3, orgs: 30)
        let text = try decompress(archive, to: dir.file("a.ndjson"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Line 1 is the manifest; the event at seq s is line s + 1, the chunks cut after seq 1024, 2048...
        let events = lines.count - 2
        try #require(events > 2100, "the region should span three chunks, not \(events) events")
        func attendance(atOrAfter seq: Int) throws -> Int {
            try #require((seq...events).first { lines[$0].contains(#""status":"present""#) || lines[$0].contains(#""status":"absent""#) })
        }
        let targets = try [2, 1023, 1024, 1025, 1026, 1500, 2048, 2049].map(attendance(atOrAfter:))
        #expect(Set(targets).count >= 4, "\(targets)")
        for seq in Set(targets).sorted() {
            var edited = lines
            let line = edited[seq]
            edited[seq] = line.contains(#""status":"present""#)
                ? line.replacingOccurrences(of: #""status":"present""#, with: #""status":"absent""#)
                : line.replacingOccurrences(of: #""status":"absent""#, with: #""status":"present""#)
            let plain = dir.file("edited-\(seq).ndjson"), broken = dir.file("edited-\(seq).lz4")
            try edited.joined(separator: "\n").write(toFile: plain, atomically: true, encoding: .utf8)
            try compress(plain, to: broken)
            let v = try trellis("verify", "--archive", broken)
            #expect(v.status == 1 && v.stdout.hasPrefix("broken at seq \(seq): the hash does not match"), "seq \(seq): \(v)")
            let db = dir.file("into-\(seq).db")
            let r = try trellis("import", "--db", db, broken)
            #expect(r.status == 1 && r.stderr.contains("seq \(seq)") && r.stderr.contains("nothing was imported"), "seq \(seq): \(r)")
            #expect(try eventCount(db) == 0)
        }
        // The untouched archive still imports whole, chunk edges and all.
        let whole = dir.file("whole.db")
        #expect(try trellis("import", "--db", whole, archive).status == 0)
        #expect(try eventCount(whole) == events)
    }

    @Test func divergentLedgerIsRefusedAndKeepsItsEvents() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 9, orgs: 8)
        let other = dir.file("other.db")
        try #require(try trellis("append", "--db", other, #"{"type":"NetworkFormed","occurred_at":"2026-01-01","data":{"network_id":"elsewhere","name":"Elsewhere"}}"#).status == 0)
        let r = try trellis("import", "--db", other, archive)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("differ at seq 1"), "\(r)")
        #expect(try eventCount(other) == 1)

        // A ledger that took the archive and then went its own way takes it again (all
        // skipped), but not another ledger's archive.
        let copy = dir.file("copy.db")
        try #require(try trellis("import", "--db", copy, archive).status == 0)
        try #require(try trellis("append", "--db", copy, #"{"type":"NetworkFormed","occurred_at":"2026-01-01","data":{"network_id":"local-only","name":"Local"}}"#).status == 0)
        #expect(try trellis("import", "--db", copy, archive).status == 0)
        let otherArchive = dir.file("other.lz4")
        try #require(try trellis("export", "--db", other, "--out", otherArchive).status == 0)
        #expect(try trellis("import", "--db", copy, otherArchive).status == 65)
    }

    @Test func newerFormatMissingFileAndPlainNDJSONAreToldApart() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 10, orgs: 8)
        let text = try decompress(archive, to: dir.file("a.ndjson"))
        try text.replacingOccurrences(of: #""format_version":1"#, with: #""format_version":2"#)
            .write(toFile: dir.file("newer.ndjson"), atomically: true, encoding: .utf8)
        try compress(dir.file("newer.ndjson"), to: dir.file("newer.lz4"))
        let newer = try trellis("verify", "--archive", dir.file("newer.lz4"))
        #expect(newer.status == 65 && newer.stderr.contains("format version 2, written by a newer Trellis"), "\(newer)")
        let importNewer = try trellis("import", "--db", dir.file("n.db"), dir.file("newer.lz4"))
        #expect(importNewer.status == 65)
        #expect(try eventCount(dir.file("n.db")) == 0)

        let missing = try trellis("verify", "--archive", dir.file("nowhere.lz4"))
        #expect(missing.status == 66 && missing.stderr.contains("no such file"), "\(missing)")
        let plain = try trellis("verify", "--archive", dir.file("region-10.ndjson"))
        #expect(plain.status == 65 && plain.stderr.contains("not a Trellis archive"), "\(plain)")
        // NDJSON still imports as NDJSON.
        #expect(try trellis("import", "--db", dir.file("plain.db"), dir.file("region-10.ndjson")).status == 0)
        // An archive is imported on its own.
        #expect(try trellis("import", "--db", dir.file("mixed.db"), archive, dir.file("region-10.ndjson")).status == 64)
    }

    @Test func highCompressionWritesTheSameLinesSmaller() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 13, orgs: 20)
        let fast = dir.file("fast.lz4"), hc = dir.file("hc.lz4")
        try #require(try trellis("export", "--db", source, "--out", fast).status == 0)
        try #require(try trellis("export", "--db", source, "--out", hc, "--hc").status == 0)
        let a = try decompress(fast, to: dir.file("fast.ndjson")), b = try decompress(hc, to: dir.file("hc.ndjson"))
        #expect(a.split(separator: "\n").dropFirst() == b.split(separator: "\n").dropFirst())
        let sizeA = try FileManager.default.attributesOfItem(atPath: fast)[.size] as? Int ?? 0
        let sizeB = try FileManager.default.attributesOfItem(atPath: hc)[.size] as? Int ?? 0
        #expect(sizeB < sizeA)
        #expect(try trellis("verify", "--archive", hc).status == 0)
        let manifest = try jsonObject(String(b.prefix { $0 != "\n" }))
        #expect((manifest["options"] as? [String: Any])?["compression"] as? String == "lz4-hc-9")
    }

    @Test func exportDoesNotReplaceAFileUnlessForced() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 14, orgs: 8)
        let out = dir.file("a.lz4")
        try "precious".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try trellis("export", "--db", source, "--out", out)
        #expect(refused.status == 64 && refused.stderr.contains("already exists"), "\(refused)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
        #expect(try trellis("export", "--db", source, "--out", out, "--force").status == 0)
        #expect(try trellis("verify", "--archive", out).status == 0)
        // No temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial") }.isEmpty)
    }

    /// The library path on its own: the chain check refuses what the ledger would never write.
    @Test func archiveChainRefusesEventsOutOfOrderOrOutOfForm() throws {
        var chain = ArchiveChain()
        let data = JSONObject([("network_id", .string("n1")), ("name", .string("North"))])
        func event(seq: Int64, occurred: String = "2026-01-01T00:00:00Z", hash: [UInt8] = Array(repeating: 0, count: 32)) -> RecordedEvent {
            RecordedEvent(seq: seq, id: "e\(seq)", type: "NetworkFormed", v: 1, occurredAt: occurred,
                          recordedAt: "2026-01-02T00:00:00.000000Z", actor: nil, data: CanonicalJSON.string(.object(data)), hash: hash)
        }
        #expect(throws: ArchiveEventError.self) { try chain.admit(event(seq: 2), line: 3) }
        #expect(throws: ArchiveEventError.self) { try chain.admit(event(seq: 1, occurred: "2026-01-01"), line: 2) }
        do {
            _ = try chain.admit(event(seq: 1), line: 2)
            Issue.record("a zero hash cannot be right")
        } catch {
            #expect(error.why.contains("hash does not match"))
        }
        #expect(chain.lastSeq == 0)
    }
}
