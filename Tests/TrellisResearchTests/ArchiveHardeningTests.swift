import Foundation
import Testing
import TrellisLedger
@testable import TrellisResearch
@testable import TrellisCore

/// Archives whose chain is valid but whose content must not enter a ledger: personal fields in
/// clear, a recorded_at in the future, a manifest whose provenance the lines contradict; and
/// pseudonymised exports that coarsen `schools` and say how many organisations stay unique.
@Suite struct ArchiveHardeningTests {
    /// Rewrites a decompressed archive with Python (independent of Trellis's code): applies
    /// `edit` (Python statements over `events`, a list of dicts, and `manifest`), re-chains every
    /// event (SHA-256 of the previous hash and the canonical envelope), makes the manifest's head
    /// and source agree with the new chain, and compresses the result.
    func forged(_ dir: Scratch, from archive: String, name: String, edit: String, fixManifest: Bool = true) throws -> String {
        let plain = dir.file(name + ".ndjson")
        try decompress(archive, to: dir.file(name + ".orig.ndjson"))
        let script = """
            import hashlib, json, sys
            lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
            manifest = json.loads(lines[0])
            events = [json.loads(l) for l in lines[1:] if l.strip()]
            \(edit.split(separator: "\n").joined(separator: "\n"))
            def canon(o):
                return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            prev = bytes(32)
            out = []
            for e in events:
                e.pop("hash", None)
                prev = hashlib.sha256(prev + canon(e).encode("utf-8")).digest()
                e["hash"] = prev.hex()
                out.append(canon(e))
            if \(fixManifest ? "True" : "False"):
                manifest["head_hash"] = prev.hex()
                manifest["last_recorded_at"] = events[-1]["recorded_at"]
                if not manifest["options"]["pseudonymised"]:
                    manifest["source"]["last_seq_hash"] = prev.hex()
                    manifest["source"]["head_hash"] = prev.hex()
                    manifest["source"]["head_seq"] = manifest["last_seq"]
            with open(sys.argv[2], "w", encoding="utf-8") as f:
                f.write(json.dumps(manifest, ensure_ascii=False) + "\\n" + "".join(l + "\\n" for l in out))
            """
        let r = try tool("python3", ["-c", script, dir.file(name + ".orig.ndjson"), plain])
        try #require(r.status == 0, "\(r)")
        let out = dir.file(name + ".lz4")
        try compress(plain, to: out)
        return out
    }

    /// The archive line (1 = manifest) of the first event matching `predicate`, and its seq.
    func line(_ archive: String, _ dir: Scratch, where predicate: ([String: Any]) -> Bool) throws -> (line: Int, seq: Int) {
        let text = try decompress(archive, to: dir.file("look-\(UUID().uuidString).ndjson"))
        for (k, l) in text.split(separator: "\n").enumerated().dropFirst() {
            let o = try jsonObject(String(l))
            if predicate(o) { return (k + 1, o["seq"] as? Int ?? 0) }
        }
        throw SupportFailure("no such line")
    }

    /// Archive lines may be up to 8 MiB, so the reader cuts its chunks by bytes as well as by
    /// count: an archive of long lines that fails at its first event is not read a gigabyte
    /// ahead of the check that refuses it (a chunk of 1,024 such lines would be).
    @Test func longLinesAreNotReadFarAheadOfTheCheckThatRefusesThem() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 11, orgs: 8)
        let text = try decompress(archive, to: dir.file("a.ndjson"))
        let plain = dir.file("long.ndjson")
        _ = FileManager.default.createFile(atPath: plain, contents: nil)
        let out = try #require(FileHandle(forWritingAtPath: plain))
        let manifestEnd = try #require(text.firstIndex(of: "\n"))
        out.write(Data(text[...manifestEnd].utf8))
        let long = Data(("{\"seq\":1,\"pad\":\"" + String(repeating: "x", count: 900_000) + "\"}\n").utf8)
        for _ in 0..<150 { out.write(long) }
        out.write(Data(text[text.index(after: manifestEnd)...].utf8))
        try out.close()
        let forged = dir.file("long.lz4")
        try compress(plain, to: forged)

        let reader = try ArchiveReader(path: forged)
        #expect(throws: ArchiveError.self) { _ = try reader.read { _ in } }
        #expect(reader.ndjsonBytes < 40_000_000, "\(reader.ndjsonBytes) bytes decompressed before the first line was refused")
    }

    /// However many threads examine the events, the reader hands over the same events, in
    /// order, with the same chain, as the single-threaded check does.
    @Test(arguments: [0, 3]) func theSameEventsInOrderWhateverThreadsExamineThem(examiners: Int) throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 12, orgs: 40)
        var alone: [(Int64, [UInt8], [UInt8], Int)] = []
        _ = try ArchiveReader(path: archive).read(pipelined: false) { alone.append(($0.seq, $0.hash, $0.previousHash, $0.line)) }
        var shared: [(Int64, [UInt8], [UInt8], Int)] = []
        _ = try ArchiveReader(path: archive).read(pipelined: true, examiners: examiners) { shared.append(($0.seq, $0.hash, $0.previousHash, $0.line)) }
        #expect(alone.count > 3 * 1024, "several chunks: \(alone.count) events")
        #expect(shared.count == alone.count)
        #expect(zip(shared, alone).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 && $0.2 == $1.2 && $0.3 == $1.3 })
    }

    @Test func personalDataInClearIsRefusedNamingTheLine() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 11, orgs: 8)
        let clear = try forged(dir, from: archive, name: "clear", edit: """
            first = next(e for e in events if e["type"] == "PersonRegistered")
            first["data"]["name"] = "Philippa Cleartext"
            first["data"]["email"] = "philippa@example.org"
            """)
        let at = try line(clear, dir) { ($0["type"] as? String) == "PersonRegistered" }

        let verify = try trellis("verify", "--archive", clear)
        #expect(verify.status == 65, "\(verify)")
        #expect(verify.stdout.hasPrefix("refused at line \(at.line) (seq \(at.seq)): PersonRegistered.name: personal data must be sealed"), "\(verify)")

        let db = dir.file("into.db")
        let imp = try trellis("import", "--db", db, clear)
        #expect(imp.status == 65, "\(imp)")
        #expect(imp.stderr.contains("refused at line \(at.line) (seq \(at.seq))") && imp.stderr.contains("nothing was imported"), "\(imp)")
        #expect(try eventCount(db) == 0)
        // On PostgreSQL (TestStore) the refused import leaves no events (above) and no cache file.
        if TestStore.isFile || FileManager.default.fileExists(atPath: db) {
            let rows = try tool("grep", ["-c", "Philippa", db])
            #expect(rows.stdout == "0\n", "the clear name never reached the file")
        }

        let replay = try trellis("replay", clear, "--out", dir.file("study.db"))
        #expect(replay.status == 65, "\(replay)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("study.db")))

        // Something that only looks sealed is refused too; the untouched archive still imports.
        let fake = try forged(dir, from: archive, name: "fake", edit: """
            first = next(e for e in events if e["type"] == "PersonRegistered")
            first["data"]["name"] = "aes256gcm:Philippa"
            """)
        #expect(try trellis("verify", "--archive", fake).status == 65)
        #expect(try trellis("import", "--db", dir.file("ok.db"), archive).status == 0)
    }

    @Test func aRecordedAtInTheFutureIsRefusedNamingTheLine() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 12, orgs: 8)
        let future = try forged(dir, from: archive, name: "future", edit: """
            events[-1]["recorded_at"] = "9999-12-31T00:00:00.000000Z"
            """)
        let last = try line(future, dir) { ($0["recorded_at"] as? String)?.hasPrefix("9999") == true }

        let verify = try trellis("verify", "--archive", future)
        #expect(verify.status == 65, "\(verify)")
        #expect(verify.stdout.hasPrefix("refused at line \(last.line) (seq \(last.seq)): recorded_at 9999-12-31T00:00:00.000000Z is in the future"), "\(verify)")
        let db = dir.file("into.db")
        let imp = try trellis("import", "--db", db, future)
        #expect(imp.status == 65 && imp.stderr.contains("line \(last.line)"), "\(imp)")
        #expect(try eventCount(db) == 0)

        // Within the tolerance (a minute ahead, clocks differ) it is accepted.
        let soon = Timestamp.recordedText(micros: Timestamp.nowMicros() + 60_000_000)
        let nearly = try forged(dir, from: archive, name: "soon", edit: """
            events[-1]["recorded_at"] = "\(soon)"
            """)
        #expect(try trellis("verify", "--archive", nearly).status == 0)
    }

    @Test func aLedgerWhoseHeadIsInTheFutureIsReportedOnAppend() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let db = dir.file("l.db")
        try #require(try trellis("append", "--db", db, #"{"type":"NetworkFormed","occurred_at":"2026-01-01","data":{"network_id":"n","name":"N"}}"#).status == 0)
        // A head from the future, as an archive checked before this release could leave it.
        _ = try ledgerRows(db, "DROP TRIGGER events_no_update; UPDATE events SET recorded_at = '9999-12-31T00:00:00.000000Z'",
                           postgres: "SET LOCAL session_replication_role = replica; UPDATE events SET recorded_at = '9999-12-31T00:00:00.000000Z'")
        let r = try trellis("append", "--db", db, #"{"type":"NetworkFormed","occurred_at":"2026-01-02","data":{"network_id":"m","name":"M"}}"#)
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("warning: the ledger's head was recorded at 9999-12-31T00:00:00.000000Z, ahead of this machine's clock"), "\(r)")
        #expect(try ledgerRows(db, "SELECT recorded_at FROM events WHERE seq = 2") == "9999-12-31T00:00:00.000000Z\n", "inherited, but no longer silently")
    }

    @Test func aManifestSourceTheLinesContradictIsBroken() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (source, archive) = try exportedRegion(in: dir, seed: 13, orgs: 8)

        let fakeHash = String(repeating: "ab", count: 32)
        let cases: [(String, String, String)] = [
            ("lastseq", "manifest[\"source\"][\"last_seq_hash\"] = \"\(fakeHash)\"", "source.last_seq_hash"),
            ("headseq", "manifest[\"source\"][\"head_seq\"] = manifest[\"last_seq\"] - 1", "source.head_seq"),
            ("headhash", "manifest[\"source\"][\"head_hash\"] = \"\(fakeHash)\"", "source.head_hash"),
            // A plain archive passing itself off as pseudonymised to escape the hash check.
            ("posing", "manifest[\"options\"][\"pseudonymised\"] = True\nmanifest[\"pseudonyms\"] = {\"key_fingerprint\": \"0123456789abcdef\"}\nmanifest[\"source\"][\"last_seq_hash\"] = \"\(fakeHash)\"", "pseudonym"),
        ]
        for (name, edit, field) in cases {
            let forgedArchive = try forged(dir, from: archive, name: name, edit: edit, fixManifest: false)
            let verify = try trellis("verify", "--archive", forgedArchive)
            #expect(verify.status == 1, "\(name): \(verify)")
            #expect(verify.stdout.contains(field), "\(name): \(verify)")
            let db = dir.file("\(name).db")
            let imp = try trellis("import", "--db", db, forgedArchive)
            #expect(imp.status == 1 && imp.stderr.contains(field), "\(name): \(imp)")
            #expect(try eventCount(db) == 0)
        }
        // A prefix export (source head past last_seq) is still fine.
        try #require(try trellis("export", "--db", source, "--out", dir.file("prefix.lz4"), "--until-seq", "10").status == 0)
        #expect(try trellis("verify", "--archive", dir.file("prefix.lz4")).status == 0)
    }

    @Test func pseudonymisedExportsBandSchoolsAndCountUniqueOrganisations() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 21, orgs: 100)
        let key = dir.file("study.key")
        try Data((0..<32).map { UInt8($0 * 7 % 256) }).write(to: URL(fileURLWithPath: key))
        let archive = dir.file("p.lz4")
        let export = try trellis("export", "--db", source, "--out", archive, "--pseudonymise", "--key", key)
        #expect(export.status == 0, "\(export)")

        // The oracle, in Python from the archive itself: bands, and classes of size one.
        let plain = dir.file("p.ndjson")
        try decompress(archive, to: plain)
        let check = try tool("python3", ["-c", """
            import json, sys, collections
            lines = open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]
            orgs, raw_schools = {}, set()
            for l in lines:
                e = json.loads(l)
                d = e["data"]
                if e["type"] in ("OrganisationRegistered", "OrganisationUpdated"):
                    t = orgs.setdefault(d["org_id"], {})
                    if e["type"] == "OrganisationRegistered": t["kind"] = d.get("kind")
                    if "schools" in d: t["schools"] = d["schools"]; raw_schools.add(d["schools"])
                    if "region" in d: t["region"] = d["region"]
            sizes = collections.Counter((t.get("kind"), t.get("schools"), t.get("region")) for t in orgs.values())
            unique = sum(1 for t in orgs.values() if sizes[(t.get("kind"), t.get("schools"), t.get("region"))] == 1)
            print(json.dumps({"orgs": len(orgs), "unique": unique, "schools": sorted(raw_schools)}))
            """, plain])
        try #require(check.status == 0, "\(check)")
        let oracle = try jsonObject(check.stdout)
        let schools = Set(oracle["schools"] as? [Int] ?? [])
        #expect(schools.isSubset(of: [0, 1, 2, 6, 11, 21]), "schools only as band lower bounds: \(schools)")
        #expect(schools.count > 1)
        let orgs = try #require(oracle["orgs"] as? Int), unique = try #require(oracle["unique"] as? Int)
        #expect(orgs == 100)
        #expect(export.stderr.contains("k-anonymity: \(unique) of \(orgs) organisations are unique by (kind, schools band, region)"), "\(export)")

        // The source did have exact counts, and the archive is still a valid archive.
        let exact = try sqliteRows(source, "SELECT count(DISTINCT json_extract(data, '$.schools')) FROM events WHERE type = 'OrganisationRegistered'")
        #expect((Int(exact.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > schools.count)
        #expect(try trellis("verify", "--archive", archive).status == 0)
        #expect(try trellis("replay", archive, "--out", dir.file("study.db")).status == 0)
    }
}
