import Foundation
import Testing
import TrellisLedger
import TrellisProjections
@testable import TrellisReports

/// Report helpers that used to live in the CLI (issue 12): the requested period, the demo's
/// region counts, and an organisation named by id or name.
@Suite struct MovedReportFunctionsTests {
    @Test func theRequestedPeriodFollowsYearFromAndTo() {
        let year = Period.academicYear(startingIn: 2024)
        #expect(Period.requested() == nil)
        #expect(Period.requested(year: year, from: day("2025-01-01"), to: nil) == year)
        #expect(Period.requested(from: day("2025-01-01"), to: day("2025-03-01")) == Period(from: day("2025-01-01"), to: day("2025-03-01")))
        // --from alone: to the end of its academic year (31 August, so --to is 1 September).
        #expect(Period.requested(from: day("2025-01-10")) == Period(from: day("2025-01-10"), to: day("2025-09-01")))
        // --to alone (exclusive): from the start of the academic year of the day before it.
        #expect(Period.requested(to: day("2025-09-01")) == Period(from: day("2024-09-01"), to: day("2025-09-01")))
        #expect(Period.requested(to: day("2025-09-02")) == Period(from: day("2025-09-01"), to: day("2025-09-02")))
    }

    @Test func regionCountsCountTheReadModels() throws {
        let s = try Scratch()
        try s.append([
            E.network("npn"), E.org("oak", name: "Oak Trust"), E.org("ash", name: "Ash Trust"),
            E.join("oak", id: "j1"), E.join("ash", id: "j2"),
            E.meeting("m1", "2025-10-01"), E.attend("a1", "m1", "oak", "present", day: "2025-10-01"),
            E.attend("a2", "m1", "ash", "absent", day: "2025-10-01"),
            E.retract("r1", "a2"),
        ])
        let counts = try s.source().regionCounts()
        let byName = Dictionary(uniqueKeysWithValues: counts.map { ($0.what, $0.count) })
        #expect(counts.count == 11)
        #expect(counts.first?.what == "networks")
        #expect(byName["networks"] == 1)
        #expect(byName["organisations"] == 2)
        #expect(byName["meetings"] == 1)
        #expect(byName["counting attendance records"] == 1)
        #expect(byName["retracted events"] == 1)
        #expect(byName["reviews committed"] == 0)
    }

    @Test func anOrganisationIsFoundByIdOrNameAndAmbiguityIsRefused() throws {
        let s = try Scratch()
        try s.append([
            E.network("npn"), E.org("oak", name: "St Mary's Trust"), E.org("ash", name: "Ash Trust"), E.org("ash2", name: "Ash Trust"),
        ])
        let source = try s.source()
        #expect(try source.organisation(named: "st marys trust") == "oak")
        #expect(try source.organisation(named: "oak") == "oak")
        #expect(throws: ReportError.self) { try source.organisation(named: "ash trust") }
        do {
            _ = try source.organisation(named: "elm")
            Issue.record("an unknown organisation must be refused")
        } catch let e as ReportError {
            #expect(e.exitCode == 64)
        }
    }
}
