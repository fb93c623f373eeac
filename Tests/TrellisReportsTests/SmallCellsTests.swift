import Testing
import TrellisLedger
@testable import TrellisReports
@testable import TrellisCore

@Suite struct SmallCellsTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

    @Test func countsBelowKAndTheirRatesAreNullZeroStays() throws {
        let r = SmallCells.suppress(try parse(#"{"networks":[{"members":[{"expected":30,"present":22,"apologies":6,"absent":2,"rate":0.73},{"expected":3,"present":0,"apologies":0,"absent":3,"rate":0}]}]}"#), below: 5)
        let members = r.object?["networks"]?.array?.first?.object?["members"]?.array ?? []
        let a = try #require(members.first?.object), b = try #require(members.last?.object)
        // absent = 2 is small: present and apologies go too, or 30 − 22 − 6 would give it away.
        #expect(a["expected"] == .int(30) && a["present"] == .null && a["apologies"] == .null && a["absent"] == .null)
        #expect(a["rate"] == .null)
        #expect(b["expected"] == .null && b["rate"] == .null)
        #expect(r.object?["suppression"]?.object?["min_count"] == .int(5))
    }

    @Test func nothingChangesWhenEveryCountIsLargeOrZero() throws {
        let doc = try parse(#"{"networks":[{"members":10,"reviewed":0,"reviewer":12,"coverage":0,"not_reviewed":["a"]}]}"#)
        let r = SmallCells.suppress(doc, below: 5)
        #expect(r.object?["networks"] == doc.object?["networks"])
        #expect(r.object?["suppression"]?.object?["cells_suppressed"] == .int(0))
    }

    @Test func aHiddenReviewedCountHidesTheListOfTheNotReviewed() throws {
        let r = SmallCells.suppress(try parse(#"{"networks":[{"members":10,"reviewed":2,"coverage":0.2,"not_reviewed":["a","b","c","d","e","f","g","h"]}]}"#), below: 5)
        let n = try #require(r.object?["networks"]?.array?.first?.object)
        #expect(n["reviewed"] == .null && n["coverage"] == .null && n["not_reviewed"] == .null && n["members"] == .int(10))
    }
}
