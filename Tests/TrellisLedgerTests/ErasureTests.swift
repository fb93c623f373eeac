import Foundation
import Testing
import TrellisLedger

/// Erasure by crypto-shredding: after `trellis erase`, the person's name, e-mail and key are
/// nowhere in the ledger's files, every output shows "(erased)", and the chain still verifies.
@Suite struct ErasureTests {
    static let name = "Zephyrine Quillfeather"
    static let email = "zephyrine.q@oak.example"

    func region(_ dir: ScratchDir) throws -> String {
        try dir.write("region.ndjson", [
            #"{"id":"n1","type":"NetworkFormed","occurred_at":"2025-09-01","data":{"network_id":"npn","name":"North Pennines"}}"#,
            #"{"id":"o1","type":"OrganisationRegistered","occurred_at":"2025-09-01","data":{"org_id":"oak","name":"Oak Trust","kind":"mat"}}"#,
            #"{"id":"p1","type":"PersonRegistered","occurred_at":"2025-09-01","data":{"person_id":"p-z","org_id":"oak","role":"Chair","name":"\#(Self.name)","email":"\#(Self.email)"}}"#,
            #"{"id":"p2","type":"PersonRegistered","occurred_at":"2025-09-01","data":{"person_id":"p-k","org_id":"oak","name":"Kept Person"}}"#,
            #"{"id":"m1","type":"MeetingHeld","occurred_at":"2025-10-01","data":{"meeting_id":"m1","network_id":"npn","title":"Autumn"}}"#,
            #"{"id":"a1","type":"AttendanceRecorded","occurred_at":"2025-10-01","data":{"meeting_id":"m1","org_id":"oak","person_id":"p-z","status":"present"}}"#,
        ].joined(separator: "\n") + "\n")
    }

    func filesContain(_ dir: ScratchDir, _ needle: [UInt8]) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("ledger.db") }.filter { f in
            let bytes = [UInt8](try Data(contentsOf: dir.url.appendingPathComponent(f)))
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { i in bytes[i] == needle[0] && Array(bytes[i..<i + needle.count]) == needle }
        }
    }

    @Test func personalDataIsNeverStoredInClear() throws {
        let dir = try ScratchDir("erasure")
        defer { dir.remove() }
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try region(dir)]).status == 0)
        #expect(try filesContain(dir, Array(Self.name.utf8)).isEmpty, "the name is sealed from the start")
        #expect(try filesContain(dir, Array(Self.email.utf8)).isEmpty)
        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table"])
        #expect(log.stdout.contains(Self.name), "the lead still sees the name while the key exists")
    }

    /// The ledger's own files whose bytes contain `needle`: the file and its WAL, or on
    /// PostgreSQL the server's files of person_keys (after a checkpoint) and the local cache.
    func ledgerFilesContain(_ dir: ScratchDir, _ needle: [UInt8]) throws -> [String] {
        guard TestStore.isPostgreSQL else { return try filesContain(dir, needle) }
        return try filesContain(dir, needle) + TestStore.serverFiles(dir.ledgerPath, table: "person_keys").filter { f in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))
            guard bytes.count >= needle.count else { return false }
            return (0...(bytes.count - needle.count)).contains { i in bytes[i] == needle[0] && Array(bytes[i..<i + needle.count]) == needle }
        }
    }

    /// On PostgreSQL the key row's bytes must leave person_keys' pages too: a plain VACUUM
    /// left them in the page's free space (the store now rewrites the table, VACUUM FULL).
    @Test func erasedPersonLeavesNoNameNoKeyAndAValidChain() throws {
        let dir = try ScratchDir("erasure")
        defer { dir.remove() }
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try region(dir)]).status == 0)
        let query = "SELECT upper(encode(key, 'hex')) FROM person_keys WHERE person_id = 'p-z'"
        let keyHex = try TestStore.tamper(dir.ledgerPath, file: "SELECT hex(key) FROM person_keys WHERE person_id = 'p-z'", postgres: query).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(keyHex.count == 64)
        let key = stride(from: 0, to: keyHex.count, by: 2).map { i -> UInt8 in
            let a = keyHex.index(keyHex.startIndex, offsetBy: i)
            return UInt8(keyHex[a...keyHex.index(after: a)], radix: 16) ?? 0
        }
        #expect(try !ledgerFilesContain(dir, key).isEmpty, "the key is in the file before erasure")

        let erase = try eraseCompletely(["--db", dir.ledgerPath, "p-z", "--reason", "erasure request"])
        #expect(erase.status == 0, "\(erase)")
        let holding = try ledgerFilesContain(dir, key)
        #expect(holding == [], "no copy of the key in the database, its free pages or the WAL: \(holding); erase: \(erase)")
        #expect(try filesContain(dir, Array(Self.name.utf8)).isEmpty)

        let verify = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("ok: 7 events"))
        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table"])
        #expect(!log.stdout.contains(Self.name))
        #expect(log.stdout.contains("(erased)"))
        #expect(log.stdout.contains("Kept Person"), "only that person is erased")
        let audit = try runTrellis(["audit", "--db", dir.ledgerPath, "oak", "--format", "json"])
        #expect(!audit.stdout.contains(Self.name) && audit.stdout.contains("(erased)"))
    }

    @Test func reimportingTheOriginalFileAfterErasureIsASkipNotAnError() throws {
        let dir = try ScratchDir("erasure")
        defer { dir.remove() }
        let file = try region(dir)
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, file]).status == 0)
        #expect(try runTrellis(["erase", "--db", dir.ledgerPath, "p-z", "--reason", "request"]).status == 0)
        let again = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(again.status == 0, "\(again)")
        // The erased person's line matches in everything but the name and e-mail, which can no
        // longer be compared: reported as such, not as "already recorded".
        #expect(again.stdout.contains("appended 0, skipped 5 (already recorded), 1 could not be compared (person erased)"), "\(again)")
    }

    @Test func anErasureCannotBeRepeatedAndARetractedOneRestoresNothing() throws {
        let dir = try ScratchDir("erasure")
        defer { dir.remove() }
        #expect(try runTrellis(["import", "--db", dir.ledgerPath, try region(dir)]).status == 0)
        #expect(try runTrellis(["erase", "--db", dir.ledgerPath, "p-z", "--reason", "request"]).status == 0)
        let twice = try runTrellis(["erase", "--db", dir.ledgerPath, "p-z", "--reason", "again"])
        #expect(twice.status == 65)
        #expect(twice.stderr.contains("already erased"))
        // DOMAIN.md allows retracting any event but a retraction; the key stays destroyed.
        let erased = try parseNDJSON(try runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"]).stdout).filter { $0["type"] as? String == "PersonErased" }
        let id = try #require(erased.first?["id"] as? String, "no PersonErased in the log")
        let retract = try runTrellis(["retract", "--db", dir.ledgerPath, id, "--reason", "recorded in error"])
        #expect(retract.status == 0, "\(retract)")
        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table"])
        #expect(log.stdout.contains("(erased)") && !log.stdout.contains(Self.name))
        #expect(try runTrellis(["erase", "--db", dir.ledgerPath, "p-z", "--reason", "request, recorded again"]).status == 0)
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
    }
}
