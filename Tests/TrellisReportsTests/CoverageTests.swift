import Testing
@testable import TrellisReports

/// Reviews of npn around 1 March 2026; members then: ash, fir, oak, pine (elm left in January).
enum CoverageFixture {
    static let lines: [String] = [
        E.network("npn"), E.network("net2"),
        E.org("oak"), E.org("ash"), E.org("elm"), E.org("fir"), E.org("pine"),
        E.join("oak"), E.join("ash"), E.join("elm"), E.join("fir"), E.join("pine"), E.join("oak", n: "net2"), E.join("ash", n: "net2"),
        E.leave("elm", "2026-01-15"),
        // rv3: completed before the window.
        E.commit("rv3", reviewers: ["fir"], reviewee: "ash", due: "2025-03-01", day: "2025-01-10"),
        E.complete("rv3", day: "2025-02-01", outcomes: [("governance", "strength", 9)]),
        // rv1: completed in the window, shared before d.
        E.commit("rv1", reviewers: ["oak", "ash"], reviewee: "fir", due: "2026-01-31", day: "2025-10-01", areas: ["governance", "finance"]),
        E.complete("rv1", day: "2026-01-20", outcomes: [("governance", "strength", 2), ("finance", "developing", 1)]),
        E.share("rv1", day: "2026-02-01"),
        // rv2: due before d, never completed: overdue.
        E.commit("rv2", reviewers: ["pine"], reviewee: "oak", due: "2025-12-31", day: "2025-10-01"),
        // rv4: withdrawn before d: not overdue.
        E.commit("rv4", reviewers: ["oak"], reviewee: "pine", due: "2026-02-01", day: "2025-11-01"),
        E.withdraw("rv4", day: "2026-02-10"),
        // rv5: reviewee elm is no longer a member on d; its reviewer ash still counts.
        E.commit("rv5", reviewers: ["ash"], reviewee: "elm", due: "2026-03-31", day: "2025-12-01"),
        E.complete("rv5", day: "2026-02-15"),
        // rv6: due before d, completed only after d: overdue on d.
        E.commit("rv6", reviewers: ["oak"], reviewee: "ash", due: "2026-02-15", day: "2026-01-01", areas: ["finance"]),
        E.complete("rv6", day: "2026-03-05", outcomes: [("finance", "concern", 4)]),
        // rv7: completed in the window, shared only after d.
        E.commit("rv7", reviewers: ["fir"], reviewee: "pine", due: "2026-03-31", day: "2025-12-01", areas: ["governance", "safeguarding"]),
        E.complete("rv7", day: "2026-02-20", outcomes: [("governance", "concern", 3), ("safeguarding", "secure", nil)]),
        E.share("rv7", day: "2026-03-10"),
        // rv8: another network.
        E.commit("rv8", reviewers: ["ash"], reviewee: "oak", due: "2025-12-01", day: "2025-10-01", n: "net2"),
        // rv9: its commitment is retracted: the review and its completion count for nothing.
        E.commit("rv9", reviewers: ["pine"], reviewee: "ash", due: "2025-11-01", day: "2025-10-01"),
        E.complete("rv9", day: "2025-12-01", outcomes: [("governance", "concern", 5)]),
        E.retract("rt9", "rc-rv9"),
    ]
}

@Suite struct CoverageTests {
    func coverage(window: Int = 365, on: String = "2026-03-01") throws -> NetworkCoverage {
        let s = try Scratch()
        try s.append(CoverageFixture.lines)
        let r = try s.source().coverage(ReportQuery(networks: ["npn"], period: year2025), on: day(on), windowDays: window).report
        #expect(r.onText == on)
        return try #require(r.networks.first)
    }

    @Test func coverageReviewerCoverageOverdueAndSharingOnADay() throws {
        let c = try coverage()
        #expect(c.members == ["ash", "fir", "oak", "pine"])
        #expect(c.reviewed == ["fir", "pine"])
        #expect(c.reviewers == ["ash", "fir", "oak"])
        #expect(close(c.coverage, 0.5))
        #expect(close(c.reviewerCoverage, 0.75))
        #expect(c.overdue.map(\.id) == ["rv2", "rv6"], "by due date; withdrawn, retracted and other networks' reviews are not overdue")
        #expect(c.completedInWindow.map(\.id) == ["rv1", "rv5", "rv7"])
        #expect(c.sharedInWindow == 1)
        #expect(close(c.outcomeSharingRate, 1.0 / 3))
    }

    @Test func theWindowIsOpenAtItsStartAndClosedAtItsEnd() throws {
        // d − 40 days = 2026-01-20, the day rv1 was completed: outside (d − W, d].
        let narrow = try coverage(window: 40)
        #expect(narrow.completedInWindow.map(\.id) == ["rv5", "rv7"])
        #expect(narrow.reviewed == ["pine"])
        #expect(close(narrow.coverage, 0.25))
        #expect(close(narrow.outcomeSharingRate, 0))
        let wider = try coverage(window: 41)
        #expect(wider.completedInWindow.map(\.id) == ["rv1", "rv5", "rv7"])
        // On the completion day itself, rv6 is no longer overdue.
        let later = try coverage(on: "2026-03-05")
        #expect(later.overdue.map(\.id) == ["rv2"])
        #expect(later.completedInWindow.map(\.id) == ["rv1", "rv5", "rv6", "rv7"])
    }

    @Test func noCompletedReviewMeansUndefinedSharingRate() throws {
        let c = try coverage(window: 5)
        #expect(c.completedInWindow.isEmpty)
        #expect(c.outcomeSharingRate == nil)
        #expect(close(c.coverage, 0))
    }

    @Test func outcomesCountJudgementsPerAreaAmongReviewsCompletedInThePeriod() throws {
        let s = try Scratch()
        try s.append(CoverageFixture.lines)
        let r = try s.source().outcomes(ReportQuery(networks: ["npn"], period: year2025)).report
        let n = try #require(r.networks.first)
        #expect(n.reviewsCompleted == 4)
        #expect(n.actions == 10)
        #expect(n.areas.map { [$0.area] + $0.counts.map(String.init) + [String($0.actions)] } == [
            ["governance", "1", "1", "0", "1", "5"],
            ["finance", "0", "0", "1", "1", "5"],
            ["safeguarding", "0", "1", "0", "0", "0"],
        ])
        #expect(r.total.reviewsCompleted == 4)
    }
}
