import Foundation
import Testing
import TrellisSheets

/// `--format xlsx` on every report and on `trellis audit`, made by the real binary from a
/// generated region, read back by openpyxl (tools/check_xlsx_report.py: About sheet, frozen
/// bold headers, every cell equal to the CSV's and typed) and by our own reader.
@Suite(.serialized) struct XLSXReportTests {
    typealias Run = ResearcherFormatsTests.Run
    static let root = ResearcherFormatsTests.root
    static let bin = ResearcherFormatsTests.bin
    static func run(_ executable: String, _ args: [String]) throws -> Run { try ResearcherFormatsTests.run(executable, args) }

    /// A generated region (3 networks, 60 organisations, 3 years, seed 1), its reports of
    /// 2024/25 as xlsx, CSV and JSON, written once for the suite.
    static let region: Result<String, ResearcherFormatsTests.SupportFailure> = {
        do {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-xlsx-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard FileManager.default.isExecutableFile(atPath: bin) else { throw ResearcherFormatsTests.SupportFailure("build trellis first (swift build)") }
            let gen = try ResearcherFormatsTests.run(bin, ["generate", "--networks", "3", "--orgs", "60", "--years", "3", "--seed", "1"], stdout: dir + "/region.ndjson")
            guard gen.status == 0 else { throw ResearcherFormatsTests.SupportFailure("generate: \(gen)") }
            let imp = try run(bin, ["import", "--db", dir + "/t.db", dir + "/region.ndjson"])
            guard imp.status == 0 else { throw ResearcherFormatsTests.SupportFailure("import: \(imp)") }
            let scope = ["--db", dir + "/t.db", "--year", "2024/25"]
            var commands: [[String]] = [
                ["graph", "--format", "csv", "--nodes", dir + "/nodes.csv", "--out", dir + "/edges.csv"],
                ["graph", "--format", "json", "--out", dir + "/graph.json"],
                ["graph", "--format", "xlsx", "--out", dir + "/graph.xlsx"],
            ]
            for r in ["participation", "coverage", "outcomes", "documents", "summary"] {
                for f in ["csv", "json", "xlsx"] { commands.append([r, "--format", f, "--out", "\(dir)/\(r).\(f)"]) }
            }
            for c in commands {
                let r = try run(bin, ["report", c[0]] + scope + c.dropFirst())
                guard r.status == 0 else { throw ResearcherFormatsTests.SupportFailure("report \(c.joined(separator: " ")): \(r)") }
            }
            return .success(dir)
        } catch let f as ResearcherFormatsTests.SupportFailure {
            return .failure(f)
        } catch {
            return .failure(ResearcherFormatsTests.SupportFailure("\(error)"))
        }
    }()

    func dir() throws -> String { try Self.region.get() }

    func check(_ xlsx: String, _ json: String, _ sheets: [String: String]) throws {
        let d = try dir()
        let args = ["\(d)/\(xlsx)", "\(d)/\(json)"] + sheets.sorted { $0.key < $1.key }.map { "\($0.key)=\(d)/\($0.value)" }
        let r = try Self.run("python3", [Self.root.appendingPathComponent("tools/check_xlsx_report.py").path] + args)
        #expect(r.status == 0 && r.out.hasSuffix("ok\n"), "\(xlsx): \(r)")
    }

    @Test func participationWorkbookMatchesItsCSVTyped() throws {
        try check("participation.xlsx", "participation.json", ["Participation": "participation.csv"])
    }

    @Test func coverageOutcomesAndDocumentsWorkbooksMatchTheirCSVs() throws {
        try check("coverage.xlsx", "coverage.json", ["Coverage": "coverage.csv"])
        try check("outcomes.xlsx", "outcomes.json", ["Outcomes": "outcomes.csv"])
        try check("documents.xlsx", "documents.json", ["Documents": "documents.csv"])
    }

    @Test func graphWorkbookHasNodesAndEdgesSheets() throws {
        try check("graph.xlsx", "graph.json", ["Nodes": "nodes.csv", "Edges": "edges.csv"])
    }

    @Test func summaryWorkbookHasOneSheetPerSection() throws {
        try check("summary.xlsx", "summary.json", [
            "Summary": "summary.csv", "Participation": "participation.csv", "Coverage": "coverage.csv",
            "Outcomes": "outcomes.csv", "Documents": "documents.csv", "Nodes": "nodes.csv", "Edges": "edges.csv",
        ])
        let book = try SheetReader.read(path: try dir() + "/summary.xlsx")
        #expect(book.sheets.map(\.name) == ["About", "Summary", "Participation", "Coverage", "Overdue", "Nodes", "Edges", "Outcomes", "Documents"])
    }

    /// Our reader sees the numbers the CSV prints: the same figure, typed.
    @Test func ourReaderReadsTheWorkbookBackAsTheCSVsFigures() throws {
        let d = try dir()
        let xlsx = try SheetReader.read(path: d + "/participation.xlsx").sheets[1]
        let csv = try SheetReader.read(path: d + "/participation.csv").sheets[0]
        #expect(xlsx.rows.count == csv.rows.count && xlsx.rows.count > 20)
        let rate = try #require(csv.rows[0].firstIndex { $0.value == .text("rate") })
        let present = try #require(csv.rows[0].firstIndex { $0.value == .text("present") })
        for (x, c) in zip(xlsx.rows.dropFirst(), csv.rows.dropFirst()) {
            #expect(x[0].value == c[0].value)
            guard case .text(let p) = c[present].value, case .number(let n) = x[present].value else {
                Issue.record("present: \(x[present]) / \(c[present])"); continue
            }
            #expect(Double(p) == n)
            if case .text(let r) = c[rate].value { #expect(x[rate].value == .number(Double(r) ?? .nan)) } else { #expect(x[rate].value == .empty) }
        }
        #expect(xlsx.rows[1].last?.value == .date(year: 2025, month: 9, day: 1))
    }

    @Test func theSameLedgerGivesTheSameBytes() throws {
        let d = try dir()
        let r = try Self.run(Self.bin, ["report", "participation", "--db", d + "/t.db", "--year", "2024/25", "--out", d + "/again.xlsx"])
        #expect(r.status == 0, "\(r)")
        let a = try Data(contentsOf: URL(fileURLWithPath: d + "/participation.xlsx"))
        let b = try Data(contentsOf: URL(fileURLWithPath: d + "/again.xlsx"))
        #expect(a == b, "the format follows the .xlsx extension and the bytes are deterministic")
    }

    @Test func anOutExtensionThatContradictsTheFormatIsRefused() throws {
        let d = try dir()
        let r = try Self.run(Self.bin, ["report", "participation", "--db", d + "/t.db", "--format", "json", "--out", d + "/wrong.xlsx"])
        #expect(r.status == 64)
        #expect(r.err.contains("--out \(d)/wrong.xlsx but --format json: use --format xlsx or a .json name"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: d + "/wrong.xlsx"))
        let csv = try Self.run(Self.bin, ["report", "coverage", "--db", d + "/t.db", "--format", "xlsx", "--out", d + "/wrong.csv"])
        #expect(csv.status == 64)
        #expect(csv.err.contains("use --format csv or a .xlsx name"), "\(csv.err)")
        let audit = try Self.run(Self.bin, ["audit", "org0001", "--db", d + "/t.db", "--format", "md", "--out", d + "/wrong.json"])
        #expect(audit.status == 64, "\(audit)")
    }

    /// A binary workbook is never written to a terminal (`script` gives the command a pty).
    @Test func xlsxIsRefusedOnATerminal() throws {
        let d = try dir()
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script gives the binary a terminal")
        for args in [["report", "participation", "--db", d + "/t.db", "--format", "xlsx"], ["audit", "org0001", "--db", d + "/t.db", "--format", "xlsx"]] {
            let line = try TestStore.commandWords(args).map { "'\($0)'" }.joined(separator: " ")
            let r = try Self.run("/usr/bin/script", ["-qec", line, "/dev/null"])
            #expect(r.status == 64, "\(r)")
            #expect(r.out.contains("xlsx is a binary file: give --out FILE.xlsx"), "\(r)")
            #expect(!r.out.contains("PK"), "no zip bytes on the terminal")
        }
    }

    @Test func auditWritesATimelineWorkbook() throws {
        let d = try dir()
        let r = try Self.run(Self.bin, ["audit", "org0001", "--db", d + "/t.db", "--from", "2024-09-01", "--out", d + "/audit.xlsx"])
        #expect(r.status == 0, "\(r)")
        let json = try Self.run(Self.bin, ["audit", "org0001", "--db", d + "/t.db", "--from", "2024-09-01", "--format", "json"])
        let events = try #require((try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
        let book = try SheetReader.read(path: d + "/audit.xlsx")
        #expect(book.sheets.map(\.name) == ["About", "Timeline"])
        let about = Dictionary(uniqueKeysWithValues: book.sheets[0].rows.map { ($0[0].value, $0[1].value) })
        #expect(about[.text("Organisation")] == .text("org0001"))
        let status = try Self.run(Self.bin, ["status", "--db", d + "/t.db", "--format", "json"])
        let head = try #require(try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any])
        #expect(about[.text("Head hash")] == .text(head["head_hash"] as? String ?? "?"))
        #expect(about[.text("Log position (head seq)")] == .text(String(head["head_seq"] as? Int ?? -1)))
        #expect(about[.text("Period")] == .text("2024-09-01 to the last event"))
        let (status2, output) = try python(#"""
            import sys, datetime, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            ws = wb["Timeline"]
            assert wb.sheetnames == ["About", "Timeline"] and ws.freeze_panes == "A2"
            assert isinstance(ws["A2"].value, datetime.datetime) and ws["A2"].number_format == "yyyy-mm-dd", ws["A2"].value
            assert isinstance(ws["B2"].value, int) and ws["D2"].data_type == "s"
            print("ok")
            """#, [d + "/audit.xlsx"])
        #expect(status2 == 0 && output.contains("ok"), "\(output)")
        let timeline = book.sheets[1]
        #expect(timeline.rows.count == events.count + 1 && events.count > 5)
        for (row, event) in zip(timeline.rows.dropFirst(), events) {
            #expect(row[1].value == .number(Double(event["seq"] as? Int ?? -1)))
            let occurred = String((event["occurred_at"] as? String ?? "").prefix(10)).split(separator: "-").compactMap { Int($0) }
            #expect(row[0].value == .date(year: occurred[0], month: occurred[1], day: occurred[2]))
        }
    }
}
