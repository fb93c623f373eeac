import TrellisLedger
import TrellisProjections
import Foundation
import Testing
@testable import TrellisReports

@Suite struct SummaryTests {
    func summary(_ s: Scratch, knownAt: String? = nil) throws -> Summary {
        try s.source(knownAt: knownAt).summary(ReportQuery(networks: ["g1"], period: year2025), commandLine: "trellis report summary --format html")
    }

    /// The summary hashes the read models on a second connection while it computes the figures
    /// (``ReadSide/companion()``): its provenance names every read model with the digest
    /// `projections digest` gives, now and after more events and a catch-up; at a time-travel
    /// snapshot (no companion) it hashes the snapshot's tables.
    @Test func theProvenanceDigestsAreTheReadModelsDigests() throws {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        func digests(_ summary: Summary) -> [String: String] {
            Dictionary(uniqueKeysWithValues: summary.provenance.digests.map { ($0.name, $0.digest) })
        }
        func expected() throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try ProjectionEngine(ledger: s.ledger).digests().map { ($0.name, $0.digest) })
        }
        let first = try summary(s)
        #expect(digests(first) == (try expected()))
        #expect(digests(first).count == ProjectionEngine.builtIns.count)
        let knownAt = try #require(try s.ledger.head().recordedAt)
        try s.append([E.meeting("later", "2026-03-01", n: "g1")])
        let second = try summary(s)
        #expect(digests(second) == (try expected()))
        #expect(digests(second) != digests(first), "a new meeting changes the meetings model")
        #expect(digests(try summary(s, knownAt: knownAt)) == digests(first), "the snapshot as the ledger knew it then")
    }

    @Test func htmlIsSelfContainedDrawsSVGAndNamesTheIsolates() throws {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        let html = HTMLSummary.render(try summary(s))
        #expect(!html.contains("http://") && !html.contains("https://"), "nothing to fetch")
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("<script") && !html.contains("@import") && !html.contains("url("))
        #expect(html.components(separatedBy: "<svg").count - 1 >= 3, "attendance, outcomes, graph (participation is a table)")
        #expect(html.contains("Eden Lonely Academy."), "the isolate is named in the text")
        #expect(html.contains(">Eden Lonely Academy</text>"), "and in the drawing")
        #expect(html.contains("Ash &amp; &lt;Oak&gt; Trust") && !html.contains("Ash & <Oak>"), "names are escaped")
        #expect(html.contains("trellis report summary --format html"))
        #expect(html.contains("@page { size: A4"))
        let (status, out) = try python("""
            import sys, html.parser
            class P(html.parser.HTMLParser):
                def __init__(self):
                    super().__init__(); self.stack = []; self.bad = []
                def handle_starttag(self, tag, attrs):
                    if tag not in ('meta', 'br', 'line', 'rect', 'circle', 'path'): self.stack.append(tag)
                def handle_startendtag(self, tag, attrs): pass
                def handle_endtag(self, tag):
                    if tag in ('line', 'rect', 'circle', 'path'): return
                    if not self.stack or self.stack[-1] != tag: self.bad.append(tag)
                    else: self.stack.pop()
            p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read())
            print(p.stack, p.bad)
            """, [try { let f = s.file("r.html"); try html.write(toFile: f, atomically: true, encoding: .utf8); return f }()])
        #expect(status == 0 && out == "[] []\n", "tags balanced: \(out)")
    }

    @Test func aSummaryReproducedWithKnownAtIsByteIdentical() throws {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        let head = try s.ledger.head()
        let first = HTMLSummary.render(try summary(s, knownAt: head.recordedAt))
        #expect(first == HTMLSummary.render(try summary(s, knownAt: head.recordedAt)), "deterministic")
        Thread.sleepBriefly()
        try s.append([E.attend("late", "M2", "d", "present", day: "2026-02-01"), E.org("z")])
        let again = HTMLSummary.render(try summary(s, knownAt: head.recordedAt))
        #expect(first == again)
        let now = HTMLSummary.render(try summary(s))
        #expect(now != first, "the late register changes today's report")
    }

    @Test func documentsPerOrganisationAndKind() throws {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        let r = try s.source().documents(ReportQuery(networks: ["g1"], period: year2025)).report
        let n = try #require(r.networks.first)
        let rows = n.organisations.map { o in [o.org] + o.byKind.map { "\($0.kind) \($0.shared)/\($0.adopted)/\($0.adoptionsReceived)" } }
        #expect(rows == [
            ["a", "job_description 0/1/0", "policy 1/0/1"],
            ["b", "job_description 1/0/1"],
            ["c"],
            ["d", "policy 0/1/0"],
            ["e"],
        ])
        #expect(n.total.shared == 2 && n.total.adopted == 2)
    }

    @Test func terminalTablesFitIn80ColumnsAndShowPercentages() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        let source = try s.source()
        let q = ReportQuery(networks: ["npn"], period: year2025)
        let text = TextReports.text(TextReports.participation(try source.participation(q).report))
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("100%") && text.contains("33%") && text.contains("–"))
        let md = TextReports.markdown(TextReports.participation(try source.participation(q).report), heading: "Participation")
        #expect(md.contains("| organisation | id | expected |") && md.contains("| ---: |"))
        #expect(Show.percent(0.835) == "84%" && Show.percent(nil) == "–")
    }
}
