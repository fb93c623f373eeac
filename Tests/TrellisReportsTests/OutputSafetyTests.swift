import Foundation
import Testing
import TrellisLedger
@testable import TrellisReports

/// CSV written for spreadsheets cannot run a formula (OWASP CSV injection), numbers stay
/// numbers, and report tables show control characters escaped.
@Suite struct OutputSafetyTests {
    @Test func formulaCellsGetAQuoteAndNumbersAreLeftAlone() {
        let t = Table(headers: ["text", "number"], rows: [
            ["=HYPERLINK(\"http://evil\",\"x\")", "-0.5"],
            ["+44 20 7946 0000", "-3"],
            ["-2+3", "1e-05"],
            ["@SUM(A1:A9)", "-1.5e-07"],
            ["\tindented", "0.25"],
            ["\rreturn", "12"],
            ["Oak Trust", "-"],
            ["a=b", "-inf"],
        ])
        #expect(t.csv() == """
            text,number\r
            "'=HYPERLINK(""http://evil"",""x"")",-0.5\r
            '+44 20 7946 0000,-3\r
            '-2+3,1e-05\r
            '@SUM(A1:A9),-1.5e-07\r
            '\tindented,0.25\r
            "'\rreturn",12\r
            Oak Trust,'-\r
            a=b,'-inf\r

            """)
        #expect(Table.spreadsheetSafe("-12.75") == "-12.75")
        #expect(Table.spreadsheetSafe("-12.") == "'-12.")
        #expect(Table.spreadsheetSafe("-1e") == "'-1e")
        #expect(Table.spreadsheetSafe("") == "")
    }

    /// Through the real binary: organisation names that are formulas, in a report's CSV and
    /// in the graph's node table, come out quoted; the JSON keeps them as they are.
    @Test func reportAndGraphCSVNeutraliseFormulaNames() throws {
        let s = try Scratch()
        try s.importWithCLI([
            E.network("npn"),
            E.org("a", name: "=1+2"), E.org("b", name: "@SUM(A1)"), E.org("c", name: "-2+3"), E.org("d", name: "Plain Trust"),
            E.join("a"), E.join("b"), E.join("c"), E.join("d"),
            E.meeting("m1", "2025-10-01"),
            E.attend("t1", "m1", "a", "present", day: "2025-10-01"), E.attend("t2", "m1", "b", "present", day: "2025-10-01"),
            E.attend("t3", "m1", "c", "present", day: "2025-10-01"), E.attend("t4", "m1", "d", "absent", day: "2025-10-01"),
        ])
        let csv = try ReportCLITests().trellis(["report", "participation", "--db", s.path, "--year", "2025/26", "--format", "csv"])
        #expect(csv.status == 0, "\(csv.err)")
        let rows = csv.out.split(separator: "\r\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("npn,a,'=1+2,1,1,0,0,1") }, "\(csv.out)")
        #expect(rows.contains { $0.hasPrefix("npn,b,'@SUM(A1),") }, "\(csv.out)")
        #expect(rows.contains { $0.hasPrefix("npn,c,'-2+3,") }, "\(csv.out)")
        #expect(rows.contains { $0.hasPrefix("npn,d,Plain Trust,1,0,0,1,0") }, "\(csv.out)")

        let nodes = s.file("nodes.csv"), edges = s.file("edges.csv")
        let graph = try ReportCLITests().trellis(["report", "graph", "--db", s.path, "--year", "2025/26", "--format", "csv",
                                                  "--nodes", nodes, "--out", edges])
        #expect(graph.status == 0, "\(graph.err)")
        let nodeRows = try String(contentsOfFile: nodes, encoding: .utf8).split(separator: "\r\n").map(String.init)
        #expect(nodeRows.contains { $0.hasPrefix("a,'=1+2,") }, "\(nodeRows)")
        #expect(nodeRows.contains { $0.hasPrefix("c,'-2+3,") }, "\(nodeRows)")
        #expect(!nodeRows.contains { $0.contains(",=") || $0.contains(",@") })

        let json = try ReportCLITests().trellis(["report", "participation", "--db", s.path, "--year", "2025/26", "--format", "json"])
        let members = (json.json["networks"] as? [[String: Any]])?.first?["members"] as? [[String: Any]] ?? []
        #expect(Set(members.compactMap { $0["name"] as? String }) == ["=1+2", "@SUM(A1)", "-2+3", "Plain Trust"])
    }

    /// A report table on the terminal shows a name's escape sequence and line break escaped.
    @Test func reportTablesShowControlCharactersEscaped() throws {
        let t = Table(headers: ["name", "n"], rows: [["Evil\u{1B}[2J\nforged row", "1"]], rightAligned: [1])
        let text = t.text(width: 200)
        #expect(!text.contains("\u{1B}") && text.split(separator: "\n").count == 3, "\(text)")
        #expect(text.contains(#"Evil\x1b[2J\x0aforged row"#))
        #expect(t.markdown().contains(#"Evil\x1b[2J forged row"#))
    }
}
