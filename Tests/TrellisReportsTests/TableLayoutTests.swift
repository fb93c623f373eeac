import Testing
@testable import TrellisReports

/// `log --format table` writes a table too long to hold in two passes through `Table.Layout`:
/// its text must be exactly the in-memory table's.
@Suite struct TableLayoutTests {
    @Test(arguments: [nil, 1] as [Int?]) func aMeasuredThenStreamedTableIsTheInMemoryTable(flexible: Int?) {
        let rows: [[String]] = [
            ["1", "Oak Trust", "present"],
            ["12345", "A trust with a very long name indeed, longer than the terminal is wide for sure", "apologies"],
            ["7", "Tab\there\u{1B}[31m", ""],
            ["", "", ""],
        ]
        let table = Table(headers: ["seq", "organisation", "status"], rows: rows, rightAligned: [0], flexible: flexible)
        var layout = Table.Layout(headers: table.headers, rightAligned: [0], flexible: flexible)
        for r in rows { layout.measure(r) }
        layout.fit(width: 60)
        let streamed = ([layout.header()] + rows.map { layout.line($0) }).joined(separator: "\n")
        #expect(streamed == table.text(width: 60))
        #expect(!streamed.contains("\u{1B}"))
        if flexible != nil { #expect(streamed.split(separator: "\n").allSatisfy { $0.count <= 60 }) }
    }
}
