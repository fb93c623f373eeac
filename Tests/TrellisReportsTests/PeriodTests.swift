import Testing
@testable import TrellisReports

@Suite struct PeriodTests {
    @Test func academicYearsAreSeptemberToSeptember() {
        #expect(Period.parseAcademicYear("2025/26") == Period(from: day("2025-09-01"), to: day("2026-09-01")))
        #expect(Period.parseAcademicYear("2025/2026") == Period.academicYear(startingIn: 2025))
        #expect(Period.parseAcademicYear("1999/00") == Period.academicYear(startingIn: 1999))
        #expect(Period.parseAcademicYear("2025/27") == nil)
        #expect(Period.parseAcademicYear("2025") == nil)
        #expect(Period.parseAcademicYear("abcd/ef") == nil)
        #expect(Period.academicYear(containing: day("2026-08-31")) == Period.academicYear(startingIn: 2025))
        #expect(Period.academicYear(containing: day("2026-09-01")) == Period.academicYear(startingIn: 2026))
    }

    @Test func termsAreAutumnSpringSummerClippedToThePeriod() {
        let p = Period(from: day("2025-10-15"), to: day("2026-05-01"))
        #expect(p.slices(by: .term).map { "\($0.label) \($0.period.fromText) \($0.period.toText)" } == [
            "2025/26 autumn 2025-10-15 2026-01-01",
            "2025/26 spring 2026-01-01 2026-04-01",
            "2025/26 summer 2026-04-01 2026-05-01",
        ])
        #expect(Period(from: day("2024-09-01"), to: day("2026-09-01")).slices(by: .year).map(\.label) == ["2024/25", "2025/26"])
    }

    @Test func closedOpen() {
        let p = Period.academicYear(startingIn: 2025)
        #expect(p.contains("2025-09-01") && p.contains("2026-08-31") && !p.contains("2026-09-01") && !p.contains("2025-08-31"))
    }
}
