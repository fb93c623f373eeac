import Foundation
import Testing
@_spi(ReadSide) import TrellisLedger
@testable import TrellisProjections

/// Full verify's replay spreads over the cores only while no read model is rebuilt beside it
/// (``ProjectionEngine/rebuildsSomeReadModel()``, ReplayPipeline.swift): a read model in the
/// ledger's read side, built by the definition given, means a rebuild beside the replay.
@Suite struct DerivedStateReplayTests {
    @Test func theReplayKeepsToOneThreadOnlyWhileReadModelsAreRebuiltBesideIt() throws {
        let s = try Scratch()
        try s.append(E.base + [E.meeting("m1", "2025-10-01"), E.attend("a1", "m1", "oak", "present")])
        let engine = try ProjectionEngine(ledger: s.ledger)
        #expect(try !engine.rebuildsSomeReadModel(), "nothing built yet: nothing to rebuild")
        try engine.catchUp()
        #expect(try engine.rebuildsSomeReadModel())
        let (report, models) = try engine.checkDerivedState()
        #expect(report.findings.isEmpty, "\(report.findings.lines)")
        #expect(!models.isEmpty && models.allSatisfy { $0.state == .consistent }, "\(models)")
    }
}
