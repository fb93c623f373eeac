import Foundation
import Testing
import TrellisCore
import TrellisLedger

/// Full verify's replay reads and examines the log on every core, in chunks of rows
/// (ReplayPipeline.swift), unless read models are rebuilt beside it; then it runs on one thread,
/// through the same chunks. Either way it must report the same, for a log that is consistent
/// and for one tampered with past the first chunks: a rule table row gone, an event body
/// changed (its hash then wrong), an event the rules refuse with the chain recomputed over it.
@Suite(.enabled(if: TestStore.isFile, "file store only: tampers with a SQLite ledger file"))
struct ReplayPipelineTests {
    /// The generated region of ``BulkInsertTests`` (a few thousand events: several chunks) in a
    /// new ledger at `dir.ledgerPath`.
    static func regionLedger(in dir: ScratchDir) throws -> Ledger {
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        let lines = BulkInsertTests.region
        _ = try ledger.append { visit in
            for (k, line) in lines.enumerated() {
                var text = line
                guard try text.withUTF8({ try visit($0, k + 1, nil) }) else { return }
            }
        }
        return ledger
    }

    /// The derived-state report both ways, alone and beside a chain check (which vouches for
    /// the hashes it covers), each the same on every core as on one thread.
    static func reports(_ ledger: Ledger, sourceLocation: SourceLocation = #_sourceLocation) throws -> DerivedStateReport {
        let one = try ledger.verifyDerivedState(replayOnEveryCore: false)
        let every = try ledger.verifyDerivedState(replayOnEveryCore: true)
        #expect(one == every, "one thread: \(one.findings.lines), every core: \(every.findings.lines)", sourceLocation: sourceLocation)
        let besideOne = try ledger.verify(alongside: { chain in try ledger.verifyDerivedState(chain: chain, replayOnEveryCore: false) })
        let besideEvery = try ledger.verify(alongside: { chain in try ledger.verifyDerivedState(chain: chain, replayOnEveryCore: true) })
        #expect(besideOne.report == besideEvery.report, sourceLocation: sourceLocation)
        #expect(try besideOne.derived?.get() == besideEvery.derived?.get(), sourceLocation: sourceLocation)
        return every
    }

    /// The first seq after `after` of an event of `type`.
    static func seq(of type: String, after: Int64, in dir: ScratchDir, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int64 {
        let r = try sqlite3(dir.ledgerPath, "SELECT seq FROM events WHERE type = '\(type)' AND seq > \(after) ORDER BY seq LIMIT 1")
        return try #require(Int64(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "no \(type) after seq \(after): \(r)", sourceLocation: sourceLocation)
    }

    @Test func aConsistentLogReadsConsistentOnEveryCoreAsOnOneThread() throws {
        let dir = try ScratchDir("replay-pipeline")
        defer { dir.remove() }
        let ledger = try Self.regionLedger(in: dir)
        #expect(try ledger.head().seq > 3 * 1024)
        let report = try Self.reports(ledger)
        #expect(report.findings.isEmpty, "\(report.findings.lines)")
    }

    @Test func aRuleTableRowGoneIsNamedOnEveryCoreAsOnOneThread() throws {
        let dir = try ScratchDir("replay-pipeline-rule-row")
        defer { dir.remove() }
        let ledger = try Self.regionLedger(in: dir)
        let target = try Self.seq(of: "MemberJoined", after: 2500, in: dir)
        let r = try sqlite3(dir.ledgerPath, "DELETE FROM rule_memberships WHERE seq = \(target)")
        #expect(r.status == 0, "\(r)")
        let report = try Self.reports(ledger)
        #expect(report.findings.lines.contains { $0.hasPrefix("rule_memberships:") && $0.contains("at seq \(target)") }, "\(report.findings.lines)")
    }

    @Test func aChangedBodyIsNamedAtItsSeqOnEveryCoreAsOnOneThread() throws {
        let dir = try ScratchDir("replay-pipeline-body")
        defer { dir.remove() }
        let ledger = try Self.regionLedger(in: dir)
        let target = try Self.seq(of: "MeetingHeld", after: 2100, in: dir)
        try VerifyVouchedReplayTests().tamper(dir, "UPDATE events SET data = replace(data, '\"title\":\"', '\"title\":\"X') WHERE seq = \(target)")
        let report = try Self.reports(ledger)
        #expect(report.findings.lines.first?.contains("seq \(target) (MeetingHeld): the hash does not match") == true, "\(report.findings.lines)")
    }

    @Test func anEventTheRulesRefuseIsNamedOnEveryCoreAsOnOneThread() throws {
        let dir = try ScratchDir("replay-pipeline-rule")
        defer { dir.remove() }
        let ledger = try Self.regionLedger(in: dir)
        let target = try Self.seq(of: "MemberJoined", after: 3000, in: dir)
        // An organisation no event registered joins: the rules refuse it. The chain is
        // recomputed over it, as an attacker who knows the format would.
        let tests = VerifyVouchedReplayTests()
        try tests.tamper(dir, "UPDATE events SET data = replace(data, '\"org_id\":\"', '\"org_id\":\"zz') WHERE seq = \(target)")
        try tests.rechain(dir, ledger, from: target)
        #expect(try ledger.verify().ok)
        let report = try Self.reports(ledger)
        #expect(report.findings.lines.first?.hasPrefix("the log breaks an append rule at seq \(target) (MemberJoined):") == true, "\(report.findings.lines)")
    }
}
