import Foundation
import GRDB
import Testing
@_spi(ReadSide) import TrellisLedger
@testable import TrellisProjections

/// A report hashes the read models on a second connection while it computes its figures on
/// the first (``ReadSide/companion()``). The companion must see exactly what the report's own
/// transaction sees, or run nothing: the digests in a report's provenance vouch for the tables
/// its figures came from.
@Suite struct ReadSideCompanionTests {
    /// Events in the log, as a transaction on `db` sees them.
    static func events(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? -1 }

    @Test func withNothingCommittedTheCompanionSeesWhatTheReadSideSees() throws {
        let s = try Scratch()
        try s.append(E.base + [E.meeting("m1", "2025-10-01"), E.attend("a1", "m1", "oak", "present")])
        let engine = try ProjectionEngine(ledger: s.ledger)
        try engine.catchUp()
        let companion = try #require(engine.readSide.companion())
        let (mine, theirs) = try engine.readSide.read { db in
            (try engine.digests(in: db), try companion.readIfUnchanged { try engine.digests(in: $0) })
        }
        #expect(theirs == mine)
        #expect(mine.count == engine.definitions.count && mine.contains { $0.name == "attendance" && $0.rows > 0 })
    }

    /// `projections digest` shares the definitions between the read side's connection and the
    /// companion: the same digests as hashing them all in one transaction.
    @Test func digestsSharedWithTheCompanionAreThoseOfOneTransaction() throws {
        let s = try Scratch()
        var lines = E.base
        for m in 0..<40 {
            let day = "2025-10-\(10 + m % 18)"
            lines.append(E.meeting("m\(m)", day))
            for o in ["oak", "ash", "elm"] { lines.append(E.attend("a\(m)-\(o)", "m\(m)", o, m % 3 == 0 ? "absent" : "present", day: day)) }
        }
        try s.append(lines)
        let engine = try ProjectionEngine(ledger: s.ledger)
        try engine.catchUp()
        let shared = try engine.digests()
        let one = try engine.readSide.read { try engine.digests(in: $0) }
        #expect(shared == one)
        #expect(shared.map(\.name) == engine.definitions.map(\.name))
    }

    /// The race the check is for: another process commits after the report's transaction began
    /// and before the companion's did. The companion would see one more event than the report;
    /// it runs nothing instead, and the report hashes in its own transaction.
    @Test func aCommitAfterTheReadSidesTransactionBeganIsNoticed() throws {
        let s = try Scratch()
        try s.append(E.base)
        let engine = try ProjectionEngine(ledger: s.ledger)
        let companion = try #require(engine.readSide.companion())
        let other = try Ledger.open(at: s.ledger.path)
        try engine.readSide.read { db in
            let before = try Self.events(db)
            _ = try other.append(json: E.meeting("m1", "2025-10-01"))
            #expect(try Self.events(db) == before, "the report's transaction keeps its state")
            let seen = try companion.readIfUnchanged { try Self.events($0) }
            #expect(seen == nil, "the companion saw \(seen.map(String.init) ?? "nothing") events where the report sees \(before)")
        }
    }

    /// A commit between opening the companion and the report's transaction: both would see it,
    /// but the companion cannot tell that from the race above, so it runs nothing either.
    @Test func aCommitBeforeTheReadSidesTransactionIsNoticedToo() throws {
        let s = try Scratch()
        try s.append(E.base)
        let engine = try ProjectionEngine(ledger: s.ledger)
        let companion = try #require(engine.readSide.companion())
        _ = try Ledger.open(at: s.ledger.path).append(json: E.meeting("m1", "2025-10-01"))
        let seen: Int?? = try engine.readSide.read { db -> Int? in
            _ = try Self.events(db)
            return try companion.readIfUnchanged { try Self.events($0) }
        }
        #expect(seen == .some(nil))
    }
}
