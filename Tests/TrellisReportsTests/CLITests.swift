import Foundation
import Testing
import TrellisLedger

/// The real `trellis` binary: JSON shapes of CLI.md and exit codes.
@Suite struct ReportCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built `trellis` (TrellisTestSupport finds it next to the test bundle).
    static let bin: String = (try? Trellis.path()) ?? "trellis-binary-not-found"

    struct Run {
        var status: Int32
        var out: String
        var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    func trellis(_ args: [String]) throws -> Run {
        let r = try Trellis.run(args)
        return Run(status: r.status, out: r.stdout, err: r.stderr)
    }

    func ledger() throws -> Scratch {
        let s = try Scratch()
        try s.importWithCLI(ParticipationFixture.lines + GraphFixture.lines)
        return s
    }

    @Test func participationJSONHasCLIShape() throws {
        let s = try ledger()
        let r = try trellis(["report", "participation", "--db", s.path, "--network", "npn", "--year", "2025/26", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let j = r.json
        #expect(j["from"] as? String == "2025-09-01" && j["to"] as? String == "2026-09-01")
        let n = try #require((j["networks"] as? [[String: Any]])?.first)
        for k in ["network_id", "attendance_rate", "participation_rate", "members"] { #expect(n[k] != nil, "\(k)") }
        #expect(abs((n["attendance_rate"] as? Double ?? 0) - 9.0 / 17) < 1e-12)
        let members = try #require(n["members"] as? [[String: Any]])
        #expect(members.count == 6)
        for k in ["org_id", "name", "expected", "present", "apologies", "absent", "rate"] { #expect(members[0][k] != nil, "\(k)") }
        let birch = try #require(members.first { $0["org_id"] as? String == "birch" })
        #expect(birch["rate"] is NSNull, "undefined rate is null")
    }

    @Test func orgNarrowsTheRowsButNotTheNetworkFigures() throws {
        let s = try ledger()
        let r = try trellis(["report", "participation", "--db", s.path, "--network", "npn", "--year", "2025/26", "--org", "fir", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let n = try #require((r.json["networks"] as? [[String: Any]])?.first)
        #expect((n["members"] as? [[String: Any]])?.map { $0["org_id"] as? String } == ["fir"])
        #expect(n["member_count"] as? Int == 6)
        #expect(abs((n["attendance_rate"] as? Double ?? 0) - 9.0 / 17) < 1e-12)
    }

    @Test func coverageAndGraphJSONHaveCLIShape() throws {
        let s = try ledger()
        let c = try trellis(["report", "coverage", "--db", s.path, "--on", "2026-03-01", "--window-days", "365", "--format", "json"])
        #expect(c.status == 0, "\(c.err)")
        #expect(c.json["on"] as? String == "2026-03-01" && c.json["window_days"] as? Int == 365)
        let n = try #require((c.json["networks"] as? [[String: Any]])?.first)
        for k in ["network_id", "members", "reviewed", "reviewer", "coverage", "reviewer_coverage", "overdue", "outcome_sharing_rate"] {
            #expect(n[k] != nil, "\(k)")
        }
        let g = try trellis(["report", "graph", "--db", s.path, "--network", "g1", "--year", "2025/26", "--format", "json"])
        #expect(g.status == 0, "\(g.err)")
        for k in ["nodes", "edges", "density", "components", "isolates", "reciprocity"] { #expect(g.json[k] != nil, "\(k)") }
        let node = try #require((g.json["nodes"] as? [[String: Any]])?.first)
        for k in ["id", "name", "degree", "weighted_degree", "betweenness", "clustering", "component"] { #expect(node[k] != nil, "\(k)") }
        let edge = try #require((g.json["edges"] as? [[String: Any]])?.first)
        for k in ["source", "target", "weight", "co_attendance", "document", "review"] { #expect(edge[k] != nil, "\(k)") }
        #expect(g.json["isolates"] as? [String] == ["e"])
        for report in ["outcomes", "documents", "summary"] {
            let r = try trellis(["report", report, "--db", s.path, "--format", "json"])
            #expect(r.status == 0 && r.json["from"] != nil, "\(report): \(r.err)")
        }
    }

    @Test func badInputGivesAClearMessageAndTheRightExitCode() throws {
        let s = try ledger()
        let unknown = try trellis(["report", "participation", "--db", s.path, "--network", "nope"])
        #expect(unknown.status == 64 && unknown.err.contains("no network nope") && unknown.err.contains("npn"), "\(unknown.err)")
        let backwards = try trellis(["report", "participation", "--db", s.path, "--from", "2026-01-01", "--to", "2025-01-01"])
        #expect(backwards.status == 64 && backwards.err.contains("--from"), "\(backwards.err)")
        let malformed = try trellis(["report", "coverage", "--db", s.path, "--on", "2026-02-30"])
        #expect(malformed.status == 64, "\(malformed.err)")
        let year = try trellis(["report", "participation", "--db", s.path, "--year", "2025/27"])
        #expect(year.status == 64, "\(year.err)")
        let early = try trellis(["report", "participation", "--db", s.path, "--known-at", "2000-01-01"])
        #expect(early.status == 64 && early.err.contains("before the first event"), "\(early.err)")
        let unwritable = try trellis(["report", "summary", "--db", s.path, "--format", "html", "--out", "/nonexistent-dir/r.html"])
        #expect(unwritable.status == 66 && unwritable.err.contains("cannot write /nonexistent-dir/r.html"), "\(unwritable.err)")
        let missing = try trellis(["report", "participation", "--db", s.file("missing.db")])
        #expect(missing.status == 66, "\(missing.err)")
        let org = try trellis(["report", "participation", "--db", s.path, "--org", "oakk"])
        #expect(org.status == 64 && org.err.contains("no organisation 'oakk'") && org.err.contains("closest: Trust oak (oak)"), "\(org.err)")
        let format = try trellis(["report", "participation", "--db", s.path, "--format", "gexf"])
        #expect(format.status == 64, "\(format.err)")
        for r in [unknown, backwards, malformed, early, unwritable, missing, org, format] {
            #expect(!r.err.contains("Fatal error") && !r.err.contains("Stack"), "no stack trace: \(r.err)")
        }
    }

    @Test func graphExportsAndSummaryHTMLAreWrittenToFiles() throws {
        let s = try ledger()
        for (ext, head) in [("graphml", "<?xml"), ("gexf", "<?xml"), ("net", "*Vertices"), ("dot", "graph collaboration")] {
            let out = s.file("g.\(ext)")
            let r = try trellis(["report", "graph", "--db", s.path, "--network", "g1", "--year", "2025/26", "--out", out])
            #expect(r.status == 0, "\(ext): \(r.err)")
            #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix(head), "\(ext)")
        }
        let nodes = s.file("nodes.csv")
        let csv = try trellis(["report", "graph", "--db", s.path, "--network", "g1", "--year", "2025/26", "--format", "csv", "--nodes", nodes])
        #expect(csv.status == 0 && csv.out.hasPrefix("source,target,weight,co_attendance,document,review,slice_label,period_from,period_to,ties,scope_networks\r\n"), "\(csv.err)")
        #expect(try String(contentsOfFile: nodes, encoding: .utf8).hasPrefix("id,label,"))
        let html = s.file("board.html")
        let h = try trellis(["report", "summary", "--db", s.path, "--network", "g1", "--year", "2025/26", "--format", "html", "--out", html])
        #expect(h.status == 0, "\(h.err)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("--network g1 --year 2025/26 --format html --out"))
    }
}
