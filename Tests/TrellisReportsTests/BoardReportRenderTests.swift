import Foundation
import Testing
import TrellisLedger
@testable import TrellisReports

/// The board report as its readers get it: on a phone, on a desktop, printed, through a screen
/// reader. The browser checks drive headless Chromium (`tools/check-report.py`) over the real
/// binary's HTML for a generated region; the rest pin what the HTML says.
@Suite struct BoardReportRenderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built `trellis` (TrellisTestSupport finds it next to the test bundle).
    static let bin: String = (try? Trellis.path()) ?? "trellis-binary-not-found"

    /// Runs a program; (exit status, stdout, stderr).
    func run(_ program: String, _ args: [String], stdout: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let r = try runProcess(program, args)
        if let stdout { try r.stdoutData.write(to: URL(fileURLWithPath: stdout)) }
        return (r.status, r.stdout, r.stderr)
    }

    func summary(_ s: Scratch) throws -> Summary {
        try s.source().summary(ReportQuery(networks: ["npn"], period: year2025), commandLine: "trellis report summary --format html")
    }

    /// The issue's proof: at 390 and 1280 px no sideways scrolling of the page, every chart
    /// named, text ≥ 12 px at AA contrast; the A4 PDF numbered, with the log position, and
    /// no page holding only a heading or a footnote.
    @Test func generatedRegionReportReadsOnAPhoneADesktopAndInPrint() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bin), "build trellis first (swift build)")
        let s = try Scratch()
        let ndjson = s.file("region.ndjson")
        let gen = try run(Self.bin, ["generate", "--networks", "3", "--orgs", "60", "--years", "3", "--seed", "1"], stdout: ndjson)
        try #require(gen.status == 0, "generate: \(gen.err)")
        let ledger = s.file("region.db")
        let imported = try run(Self.bin, ["import", "--db", ledger, ndjson])
        try #require(imported.status == 0, "import: \(imported.err)")
        let html = s.file("board.html")
        let report = try run(Self.bin, ["report", "summary", "--db", ledger, "--format", "html", "--out", html])
        try #require(report.status == 0, "report: \(report.err)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(text.components(separatedBy: "role=\"img\"").count - 1 >= 5, "3 attendance charts, outcomes, graph")

        let check = try run("/usr/bin/env", ["python3", Self.root.appendingPathComponent("tools/check-report.py").path, html, "--out", s.file("render")])
        #expect(check.status != 69, "Chromium and pdftotext are needed (make deps installs them): \(check.err)")
        #expect(check.status == 0, "\(check.out)\(check.err)")
        for line in ["390 px: page width", "1280 px: page width", "without an accessible name", "under 12 px", "below WCAG AA contrast", "PDF page 1:"] {
            #expect(check.out.contains(line), "the check ran: \(line)")
        }
        #expect(!check.out.contains("FAIL"), "\(check.out)")
    }

    @Test func everyChartIsNamedByItsTitle() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines + BoardFixture.lines)
        let html = HTMLSummary.render(try summary(s))
        let svgs = html.components(separatedBy: "<svg").dropFirst()
        #expect(svgs.count == 2, "attendance (one network), graph; no review completed, so no outcomes chart")
        for svg in svgs {
            #expect(svg.contains("role=\"img\""))
            let labelled = try #require(svg.firstMatch(of: /aria-labelledby="([^" ]+) ([^"]+)"/), "named")
            #expect(svg.contains("<title id=\"\(labelled.1)\">") && svg.contains("<desc id=\"\(labelled.2)\">"))
            let title = try #require(svg.firstMatch(of: /<title id="[^"]+">([^<]+)<\/title>/))
            #expect(title.1.count > 10, "\(title.1)")
        }
    }

    @Test func aPersonReadsNamesAndEveryMembersFigureSaysWhichDay() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines + BoardFixture.lines)
        let sum = try summary(s)
        let html = HTMLSummary.render(sum)
        // The overdue reviewer was never a member in the period: named all the same.
        #expect(html.contains("<td>Trust oak</td><td>Guest Advisory Trust</td><td>North Pennines</td>"), "reviewer named")
        #expect(!html.contains(">guest<") && !html.contains(">guest,") && !html.contains(", guest<"), "not its id")
        #expect(html.contains("<th class=\"n\">Members on \(Show.shortDate(sum.coverage.on))</th>"), "the review table's members are those of one day")
        #expect(html.contains("<h2>Peer review on \(Show.longDate(sum.coverage.on))</h2>"))
    }

    @Test func participationIsATableWithEveryOrganisation() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        let sum = try summary(s)
        let html = HTMLSummary.render(sum)
        let n = try #require(sum.participation.networks.first)
        for m in n.members {
            #expect(html.contains("<tr><td>\(Markup.escape(m.name))</td><td class=\"n\">\(m.expected == 0 ? "–" : "\(m.present) of \(m.expected)")</td><td class=\"n\">\(Show.percent(m.rate))</td>"),
                    "\(m.name)")
        }
    }

    @Test func attendanceIsPooledByHalfTermForAYearAndByYearForLongerPeriods() throws {
        let year = HTMLSummary.stretches(year2025)
        #expect(year.unit == "half-term")
        #expect(year.stretches.map(\.short) == ["Aut 1", "Aut 2", "Spr 1", "Spr 2", "Sum 1", "Sum 2"])
        #expect(year.stretches.map(\.period.fromText) == ["2025-09-01", "2025-11-01", "2026-01-01", "2026-03-01", "2026-04-01", "2026-06-01"])
        #expect(year.stretches.last?.period.toText == "2026-09-01")
        let two = HTMLSummary.stretches(Period(from: day("2024-09-01"), to: day("2026-09-01")))
        #expect(two.unit == "term" && two.stretches.map(\.short) == ["Aut 24", "Spr 25", "Sum 25", "Aut 25", "Spr 26", "Sum 26"])
        let three = HTMLSummary.stretches(Period(from: day("2023-10-15"), to: day("2026-09-01")))
        #expect(three.unit == "academic year" && three.stretches.map(\.name) == ["2023/24", "2024/25", "2025/26"])
        #expect(three.stretches.first?.period.fromText == "2023-10-15", "clipped to the period")

        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        let sum = try summary(s)
        let html = HTMLSummary.render(sum)
        let n = try #require(sum.participation.networks.first)
        // Each half-term's cell is present ÷ expected pooled over its meetings, recomputed here.
        for part in year.stretches {
            let ms = n.meetings.filter { part.period.contains($0.meeting.day) }
            let present = ms.reduce(0) { $0 + $1.present }, expected = ms.reduce(0) { $0 + $1.expected }
            #expect(html.contains("\(Show.percent(Rate.of(present, expected)))<span class=\"of\"> \(present)/\(expected)</span>"), "\(part.name)")
        }
        #expect(!html.contains("<path d="), "no tangle of lines")
    }

    /// WCAG 2 contrast, computed here from the definition, of every text colour on what it is drawn on.
    @Test func textColoursPassWCAGAA() throws {
        func lum(_ hex: String) -> Double {
            let v = Array(hex.dropFirst())
            let c = stride(from: 0, to: 6, by: 2).map { k -> Double in
                let x = Double(Int(String(v[k...k + 1]), radix: 16) ?? 0) / 255
                return x <= 0.04045 ? x / 12.92 : Foundation.pow((x + 0.055) / 1.055, 2.4)
            }
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
        }
        func ratio(_ a: String, _ b: String) -> Double {
            let (x, y) = (lum(a), lum(b))
            return (max(x, y) + 0.05) / (min(x, y) + 0.05)
        }
        for fill in HTMLSummary.judgementColours {
            let ink = Charts.ink(on: fill)
            #expect(ratio(ink, fill) >= 4.5, "\(ink) on \(fill): \(ratio(ink, fill))")
        }
        #expect(ratio("#FFFFFF", "#E69F00") < 4.5, "the old white-on-orange labels failed")
        let css = HTMLSummary.css
        for (name, background) in [("--muted", "#FFFFFF"), ("--ink", "#FFFFFF"), ("--warn-text", "#FAFBFC")] {
            let colour = try #require(css.firstMatch(of: try Regex("\(name): (#[0-9A-Fa-f]{6})")).map { String($0.output[1].substring ?? "") })
            #expect(ratio(colour, background) >= 4.5, "\(name) \(colour) on \(background): \(ratio(colour, background))")
        }
        #expect(css.contains(".graph .isolatename { fill: var(--warn-text)"))
    }

    @Test func graphFiguresComeWithSentences() throws {
        #expect(HTMLSummary.acrossSentence(-0.5, groups: "networks").hasPrefix("25% of ties join organisations in different networks, 75% organisations in the same one"))
        #expect(HTMLSummary.acrossSentence(nil, groups: "regions").contains("No tie"))
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        let html = HTMLSummary.render(try s.source().summary(ReportQuery(networks: ["g1"], period: year2025), commandLine: "x"))
        #expect(html.contains("possible pairs of organisations collaborated"))
        #expect(html.contains("of ties join organisations in different"))
        #expect(html.contains("shortest path between two others"))
        #expect(html.contains("Eden Lonely Academy") && !html.contains("Eden Lonely Academy (e)"), "isolates named, without their ids")
    }

    @Test func printFooterCarriesPageNumbersAndTheLogPositionButNoClock() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        let sum = try summary(s)
        let html = HTMLSummary.render(sum)
        #expect(html.contains("@bottom-right { content: \"Page \" counter(page) \" of \" counter(pages)"))
        #expect(html.contains("@bottom-left { content: \"Trellis report at log seq \(sum.provenance.headSeq), hash \(sum.provenance.headHash.prefix(16))…\""))
        #expect(HTMLSummary.cssString("a\"b\\c</style>") == "a\\\"b\\\\c /style ")
    }
}

/// A reviewer from outside the network (never a member) with a review overdue on the report's day.
enum BoardFixture {
    static let lines = [
        E.org("guest", name: "Guest Advisory Trust"),
        E.commit("late", reviewers: ["guest"], reviewee: "oak", due: "2025-12-01", day: "2025-10-01"),
    ]
}
