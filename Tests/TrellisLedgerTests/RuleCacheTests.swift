import Foundation
import Testing
@testable import TrellisLedger
@testable import TrellisCore

/// The import's rule-state cache (`EntityCache`, an open-addressing table keyed by kind and
/// id): every id stays findable as the table grows, kinds keep separate id spaces, and a
/// known-absent id is told apart from one never looked up. Then the same through the real
/// import: a batch far larger than the table's first size still refuses a reused id.
@Suite struct RuleCacheTests {
    @Test func everyEntryStaysFindableAcrossGrowthAndKinds() {
        var cache = EntityCache()
        let n = 5000
        for k in 0..<n {
            // The same id under two kinds: two entries. Every fifth known absent (no row).
            cache.set(.organisation, "id-\(k)", k % 5 == 0 ? nil : EntityFact(seq: Int64(k), parent: nil, state: []))
            cache.set(.person, "id-\(k)", EntityFact(seq: Int64(n + k), parent: "id-\(k)", state: []))
        }
        for k in 0..<n {
            let org = cache[.organisation, "id-\(k)"]
            #expect(org != nil, "organisation id-\(k) lost")
            if k % 5 == 0 { #expect(org == .some(nil)) } else { #expect(org??.seq == Int64(k)) }
            #expect(cache[.person, "id-\(k)"]??.seq == Int64(n + k))
            #expect(cache[.network, "id-\(k)"] == nil)
        }
        // An update replaces the entry, it does not add one.
        cache.set(.person, "id-7", EntityFact(seq: 7, parent: nil, state: .erased))
        #expect(cache[.person, "id-7"]??.state == .erased)
        #expect(cache[.person, "id-\(n)"] == nil)
        // Ids that are not ASCII, and long ones, hash and compare by their bytes.
        cache.set(.meeting, "réunion-ü", EntityFact(seq: 1, parent: nil, state: []))
        cache.set(.meeting, String(repeating: "m", count: 128), EntityFact(seq: 2, parent: nil, state: []))
        #expect(cache[.meeting, "réunion-ü"]??.seq == 1)
        #expect(cache[.meeting, String(repeating: "m", count: 128)]??.seq == 2)
        #expect(cache[.meeting, String(repeating: "m", count: 127)] == nil)
    }

    static func organisation(_ k: Int) -> String {
        envelope("OrganisationRegistered", id: "org-ev-\(k)", at: "2025-08-02", ["org_id": .string("org-\(k)"), "name": .string("Trust \(k)"), "kind": "mat"])
    }

    /// 3,000 registrations in one batch (the cache grows several times on the way), then a
    /// line reusing an early id: refused, naming the line, and nothing is appended.
    @Test func aReusedIdIsRefusedAfterTheCacheHasGrown() throws {
        let dir = try ScratchDir("rule-cache")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        var lines = (0..<3000).map(Self.organisation)
        lines.append(envelope("OrganisationRegistered", id: "again", at: "2025-08-03", ["org_id": "org-17", "name": "Again", "kind": "mat"]))
        #expect {
            try ledger.appendLines(lines)
        } throws: { error in
            guard let rejected = error as? AppendRejected, rejected.errors.count == 1 else { return false }
            return rejected.errors[0].line == 3001 && rejected.errors[0].path == "OrganisationRegistered.org_id"
        }
        #expect(try ledger.head().seq == Int64(Fixture.count))

        // Without it the batch goes in; a later batch (a cold cache, read from the rule table)
        // finds every one of them, and still refuses the reuse.
        #expect(try ledger.appendLines(Array(lines.dropLast())).appended == 3000)
        let updates = (0..<3000).map { k in
            envelope("OrganisationUpdated", id: "upd-\(k)", at: "2025-09-01", ["org_id": .string("org-\(k)"), "region": "North East"])
        }
        #expect(try ledger.appendLines(updates).appended == 3000)
        #expect(throws: AppendRejected.self) { try ledger.appendLines([lines.last!]) }
        #expect(try ledger.verify().ok)
    }
}
