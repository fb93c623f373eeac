import Foundation
import Testing
import TrellisLedger
import TrellisResearch

@Suite("Pseudonymised archives")
struct PseudonymTests {
    func key(_ dir: Scratch, _ name: String, _ byte: UInt8) throws -> String {
        let path = dir.file(name)
        try Data((0..<32).map { UInt8($0) &* 7 &+ byte }).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func pseudonymisedArchiveVerifiesOnItsOwnAndNamesItsSource() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 21, orgs: 12)
        let k = try key(dir, "study.key", 1)
        let archive = dir.file("p.lz4")
        let r = try trellis("export", "--db", source, "--out", archive, "--pseudonymise", "--key", k, "--min-count", "5")
        try #require(r.status == 0, "\(r)")
        let verify = try trellis("verify", "--archive", archive)
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok: "), "\(verify)")

        let status = try jsonObject(try trellis("status", "--db", source, "--format", "json").stdout)
        let manifest = try jsonObject(String(try decompress(archive, to: dir.file("p.ndjson")).prefix { $0 != "\n" }))
        let src = try #require(manifest["source"] as? [String: Any])
        #expect(src["last_seq_hash"] as? String == status["head_hash"] as? String)
        #expect(src["head_seq"] as? Int == status["head_seq"] as? Int)
        #expect(manifest["head_hash"] as? String != status["head_hash"] as? String)
        let options = try #require(manifest["options"] as? [String: Any])
        #expect(options["pseudonymised"] as? Bool == true)
        #expect(options["min_count"] as? Int == 5)
        let pseudonyms = try #require(manifest["pseudonyms"] as? [String: Any])
        #expect(pseudonyms["key_fingerprint"] as? String == PseudonymKey(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: k)))).fingerprint)

        // It imports into a ledger of its own, and the read models count the same rows.
        let copy = dir.file("copy.db")
        let imported = try trellis("import", "--db", copy, archive)
        #expect(imported.status == 0, "\(imported)")
        let rows = { (db: String) throws -> [String: Int] in
            let o = try jsonObject(try trellis("projections", "digest", "--db", db, "--format", "json").stdout)
            var out: [String: Int] = [:]
            for p in o["projections"] as? [[String: Any]] ?? [] { out[p["name"] as? String ?? ""] = p["rows"] as? Int }
            return out
        }
        #expect(try rows(source) == rows(copy))
    }

    @Test func pseudonymisedArchiveHoldsNoOriginalIdsNamesOrPersonalData() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 22, orgs: 12)
        let archive = dir.file("p.lz4")
        try #require(try trellis("export", "--db", source, "--out", archive, "--pseudonymise", "--key", try key(dir, "k", 2)).status == 0)
        // The event lines (the manifest names the withheld fields, so it holds "actor").
        let text = String(try decompress(archive, to: dir.file("p.ndjson")).drop { $0 != "\n" })

        // Every identifier and every free text the source holds.
        let ids = try sqliteRows(source, """
            SELECT id FROM events UNION SELECT key FROM rule_entities
            """).split(separator: "\n").map(String.init)
        #expect(ids.count > 100)
        for id in ids { #expect(!text.contains("\"\(id)\""), "id \(id) leaked") }
        let texts = try sqliteRows(source, """
            SELECT DISTINCT j.value FROM events e, json_each(e.data) j
            WHERE j.key IN ('name', 'title', 'reason', 'moderator', 'role', 'region', 'email') AND e.type <> 'PersonRegistered'
            UNION SELECT DISTINCT actor FROM events WHERE actor IS NOT NULL
            UNION SELECT DISTINCT j.value FROM events e, json_each(e.data, '$.partners') j
            """).split(separator: "\n").map(String.init).filter { $0.count >= 4 }
        #expect(texts.count > 20)
        for t in texts { #expect(!text.contains(t), "text \(t) leaked") }
        #expect(!text.contains("aes256gcm:"))
        #expect(!text.contains("\"actor\""))
        #expect(!text.contains("\"email\""))
        #expect(text.contains("\"org-"))
        #expect(text.contains("\"(withheld)\""))
    }

    @Test func pseudonymsAreStableForOneKeyAndDifferForAnother() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 23, orgs: 10)
        let k1 = try key(dir, "k1", 3), k2 = try key(dir, "k2", 4)
        for (name, k) in [("a", k1), ("b", k1), ("c", k2)] {
            try #require(try trellis("export", "--db", source, "--out", dir.file("\(name).lz4"), "--pseudonymise", "--key", k).status == 0)
        }
        func events(_ n: String) throws -> [Substring] { try decompress(dir.file("\(n).lz4"), to: dir.file("\(n).ndjson")).split(separator: "\n").dropFirst().map { $0 } }
        let a = try events("a"), b = try events("b"), c = try events("c")
        #expect(a == b)
        #expect(a.count == c.count)
        #expect(zip(a, c).allSatisfy { $0 != $1 })

        // The library: one id, one pseudonym per kind and key.
        let p1 = Pseudonymiser(key: PseudonymKey(bytes: Array(repeating: 9, count: 32)))
        let p2 = Pseudonymiser(key: PseudonymKey(bytes: Array(repeating: 8, count: 32)))
        #expect(p1.pseudonym(.organisation, "oak") == p1.pseudonym(.organisation, "oak"))
        #expect(p1.pseudonym(.organisation, "oak") != p1.pseudonym(.network, "oak"))
        #expect(p1.pseudonym(.organisation, "oak") != p2.pseudonym(.organisation, "oak"))
        #expect(p1.pseudonym(.organisation, "oak").hasPrefix("org-") && p1.pseudonym(.organisation, "oak").count == 20)
    }

    @Test func missingOrEmptyKeyIsRefusedBeforeAnythingIsWritten() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 24, orgs: 8)
        let out = dir.file("p.lz4")
        let missing = try trellis("export", "--db", source, "--out", out, "--pseudonymise", "--key", dir.file("no.key"))
        #expect(missing.status == 66 && missing.stderr.contains("no key file"), "\(missing)")
        _ = FileManager.default.createFile(atPath: dir.file("empty.key"), contents: Data())
        let empty = try trellis("export", "--db", source, "--out", out, "--pseudonymise", "--key", dir.file("empty.key"))
        #expect(empty.status == 64 && empty.stderr.contains("holds 0 bytes"), "\(empty)")
        #expect(try trellis("export", "--db", source, "--out", out, "--pseudonymise").status == 64)
        #expect(try trellis("export", "--db", source, "--out", out, "--key", dir.file("empty.key")).status == 64)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
