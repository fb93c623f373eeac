import Foundation
import Testing
import TrellisCore
import TrellisLedger

/// `trellis log`, `trellis audit` and the person names narrow their scans in SQLite's query
/// (`type IN (…)`, `instr(data, '"id"')`), where other stores test each row's bytes
/// (``StoredRowFilter``). Both must let through the same rows: held here over a generated
/// region, for types, identifiers of every kind, both at once, and ids that are prefixes of
/// other ids (`org001` inside `"org0012"` is not a mention).
@Suite struct StoredRowFilterTests {
    @Test func sqliteNarrowsToTheRowsTheByteTestAdmits() throws {
        let dir = try ScratchDir()
        let ledger = try ReplayPipelineTests.regionLedger(in: dir)
        var all: [(seq: Int64, type: String, data: String)] = []
        try ledger.scan(from: 1, through: .max) { all.append(($0.seq, $0.type, $0.data)); return true }
        let orgs = all.compactMap { row -> String? in
            guard case .object(let o)? = try? JSONParser.parse(row.data) else { return nil }
            return o.string("org_id")
        }
        let someOrg = try #require(orgs.first)
        let filters = [
            StoredRowFilter(),
            StoredRowFilter(types: ["PersonRegistered"]),
            StoredRowFilter(types: ["EventRetracted", "DocumentAdopted", "NoSuchType"]),
            StoredRowFilter(mentioning: [someOrg]),
            StoredRowFilter(mentioning: [String(someOrg.dropLast())]),
            StoredRowFilter(types: ["ReviewCompleted"], mentioning: [someOrg, "nobody-at-all"]),
        ]
        for filter in filters {
            var narrowed: [Int64] = []
            try ledger.scanStored(from: 1, through: .max, matching: filter) { narrowed.append($0.seq); return true }
            // What the byte test admits, written out: the type, or the text in quotes.
            let expected = all.filter { row in
                (filter.types.isEmpty && filter.mentioning.isEmpty) || filter.types.contains(row.type)
                    || filter.mentioning.contains { row.data.utf8.count >= $0.utf8.count + 2 && row.data.contains("\"\($0)\"") }
            }.map(\.seq)
            #expect(narrowed == expected, "\(filter.types) \(filter.mentioning): \(narrowed.count) rows, expected \(expected.count)")
            #expect(filter.types.isEmpty && filter.mentioning.isEmpty ? narrowed.count == all.count : narrowed.count < all.count)
        }
    }
}
