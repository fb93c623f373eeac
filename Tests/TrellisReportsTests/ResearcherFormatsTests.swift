import Foundation
import Testing
@testable import TrellisReports

/// The exports researchers load (GraphML, GEXF, DOT, CSV, JSON), made by the real binary from
/// a generated region, opened with the tools they use: networkx, python-igraph, pandas,
/// Graphviz `dot`, `xmllint --schema`, and the JSON Schemas under schemas/reports/.
@Suite(.serialized) struct ResearcherFormatsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built `trellis` (TrellisTestSupport finds it next to the test bundle).
    static let bin: String = (try? Trellis.path()) ?? "trellis-binary-not-found"
    static let xsd = root.appendingPathComponent("Tests/XMLSchemas")

    /// Exit status, stdout, stderr.
    struct Run: CustomStringConvertible {
        var status: Int32
        var out: String
        var err: String
        var description: String { "exit \(status)\n\(out)\(err)" }
    }

    /// Runs a program (an absolute path, or a name looked up on PATH); stdout goes to `file`
    /// when given.
    static func run(_ executable: String, _ args: [String], stdout file: String? = nil) throws -> Run {
        let r = try runProcess(executable, args)
        if let file { try r.stdoutData.write(to: URL(fileURLWithPath: file)) }
        return Run(status: r.status, out: file == nil ? r.stdout : "", err: r.stderr)
    }

    /// A generated region (3 networks, 60 organisations, 3 years, seed 1: two organisation
    /// names occur twice) and every export of 2024/25, written once for the suite.
    struct Exports: Sendable {
        let dir: String
        func file(_ name: String) -> String { dir + "/" + name }
    }

    static let exports: Result<Exports, SupportFailure> = {
        do {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-formats-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let e = Exports(dir: dir)
            guard FileManager.default.isExecutableFile(atPath: bin) else { throw SupportFailure("build trellis first (swift build)") }
            let gen = try run(bin, ["generate", "--networks", "3", "--orgs", "60", "--years", "3", "--seed", "1"], stdout: e.file("region.ndjson"))
            guard gen.status == 0 else { throw SupportFailure("generate: \(gen)") }
            let db = e.file("t.db")
            let imp = try run(bin, ["import", "--db", db, e.file("region.ndjson")])
            guard imp.status == 0 else { throw SupportFailure("import: \(imp)") }
            let scope = ["--db", db, "--year", "2024/25"]
            var commands: [[String]] = [
                ["graph", "--format", "json", "--out", e.file("graph.json")],
                ["graph", "--slice", "term", "--format", "json", "--out", e.file("sliced.json")],
                ["graph", "--format", "graphml", "--out", e.file("graph.graphml")],
                ["graph", "--format", "gexf", "--out", e.file("graph.gexf")],
                ["graph", "--slice", "term", "--format", "gexf", "--out", e.file("sliced.gexf")],
                ["graph", "--format", "dot", "--out", e.file("graph.dot")],
                ["graph", "--format", "csv", "--nodes", e.file("nodes.csv"), "--out", e.file("edges.csv")],
            ]
            for r in ["participation", "coverage", "outcomes", "documents", "summary"] {
                commands.append([r, "--format", "json", "--out", e.file("\(r).json")])
                commands.append([r, "--format", "csv", "--out", e.file("\(r).csv")])
            }
            for c in commands {
                let r = try run(bin, ["report", c[0]] + scope + c.dropFirst())
                guard r.status == 0 else { throw SupportFailure("report \(c.joined(separator: " ")): \(r)") }
            }
            // Only the exports are needed from here on (the directory stays for the suite).
            for f in ["region.ndjson", "t.db", "t.db-wal", "t.db-shm"] { try? FileManager.default.removeItem(atPath: e.file(f)) }
            return .success(e)
        } catch let f as SupportFailure {
            return .failure(f)
        } catch {
            return .failure(SupportFailure("\(error)"))
        }
    }()

    struct SupportFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    @Test func theRegionHasOrganisationsThatShareADisplayName() throws {
        let e = try Self.exports.get()
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: e.file("graph.json")))) as? [String: Any])
        let nodes = try #require(doc["nodes"] as? [[String: Any]])
        let names = nodes.compactMap { $0["name"] as? String }
        let ids = nodes.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == ids.count)
        #expect(Set(names).count < names.count, "the checks below need two organisations with one name")
        #expect(nodes.allSatisfy { $0["label"] as? String == $0["name"] as? String })
    }

    /// networkx (GraphML, GEXF, CSV, DOT through pydot), python-igraph (GraphML, Graph.DataFrame of the CSVs),
    /// pandas and Graphviz read what the JSON report says: counts, ids, labels, integer
    /// types, degree, weighted degree, component and betweenness per node, sliced weights.
    @Test func everyExportLoadsInNetworkxIgraphPandasPydotAndGraphviz() throws {
        let e = try Self.exports.get()
        let r = try Self.run("python3", [Self.root.appendingPathComponent("tools/check_research_formats.py").path, e.dir])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains(" passed, 0 failed"), "\(r)")
    }

    @Test func graphMLAndGEXFValidateAgainstTheXMLSchemas() throws {
        let e = try Self.exports.get()
        let graphml = try Self.run("xmllint", ["--noout", "--schema", Self.xsd.appendingPathComponent("graphml-subset.xsd").path, e.file("graph.graphml")])
        #expect(graphml.status == 0, "\(graphml)")
        let gexf = try Self.run("xmllint", ["--noout", "--schema", Self.xsd.appendingPathComponent("gexf-1.3-subset.xsd").path,
                                            e.file("graph.gexf"), e.file("sliced.gexf")])
        #expect(gexf.status == 0, "\(gexf)")
        // And the official GEXF 1.3 schema, unchanged (gephi/gexf, CC BY 4.0), which Gephi reads by.
        let official = try Self.run("xmllint", ["--noout", "--schema", Self.xsd.appendingPathComponent("gexf-1.3-official/gexf.xsd").path,
                                                e.file("graph.gexf"), e.file("sliced.gexf")])
        #expect(official.status == 0, "\(official)")
    }

    /// The XML Schemas reject what they promise to: an edge to an undeclared node, data for
    /// an undeclared key, a non-numeric GEXF weight.
    @Test func theXMLSchemasRejectBrokenFiles() throws {
        let e = try Self.exports.get()
        let graphml = try String(contentsOfFile: e.file("graph.graphml"), encoding: .utf8)
        let gexf = try String(contentsOfFile: e.file("graph.gexf"), encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("graphml-subset.xsd", "dangling.graphml", graphml.replacingOccurrences(of: "</graph>", with: "<edge source=\"org0001\" target=\"nobody\"/></graph>")),
            ("graphml-subset.xsd", "undeclared.graphml", graphml.replacingOccurrences(of: "<data key=\"degree\">", with: "<data key=\"degre\">")),
            ("gexf-1.3-subset.xsd", "weight.gexf", gexf.replacingOccurrences(of: " weight=\"", with: " weight=\"x")),
            ("gexf-1.3-subset.xsd", "dangling.gexf", gexf.replacingOccurrences(of: "</edges>", with: "<edge id=\"ex\" source=\"org0001\" target=\"nobody\"/></edges>")),
            ("gexf-1.3-official/gexf.xsd", "weight-official.gexf", gexf.replacingOccurrences(of: " weight=\"", with: " weight=\"x")),
            ("gexf-1.3-official/gexf.xsd", "version-official.gexf", gexf.replacingOccurrences(of: "version=\"1.3\"", with: "version=\"1.4\"")),
        ]
        for (schema, name, text) in cases {
            try text.write(toFile: e.file(name), atomically: true, encoding: .utf8)
            let r = try Self.run("xmllint", ["--noout", "--schema", Self.xsd.appendingPathComponent(schema).path, e.file(name)])
            #expect(r.status != 0, "\(name) should fail \(schema): \(r)")
        }
    }

    /// Each report's JSON, and the sliced graph, against schemas/reports/NAME.schema.json
    /// (which forbid unknown fields, so a renamed field fails).
    @Test(arguments: ["participation", "coverage", "graph", "outcomes", "documents", "summary"])
    func reportJSONMatchesItsSchema(_ name: String) throws {
        let e = try Self.exports.get()
        let check = Self.root.appendingPathComponent("tools/check_schemas.py").path
        let r = try Self.run("python3", [check, "--report", name, e.file("\(name).json")] + (name == "graph" ? [e.file("sliced.json")] : []))
        #expect(r.status == 0, "\(r)")
    }

    /// A betweenness of 9.002e-05 made the old DOT unreadable (`badly delimited number`):
    /// every value is quoted now, and dot lays the graph out.
    @Test func dotQuotesSmallNumbersAndGraphvizAcceptsIt() throws {
        let node = { (id: String, b: Double) in
            GraphNode(id: id, name: "Trust \"\(id)\" \\ one", region: nil, networks: ["n1"], homeNetwork: "n1", degree: 1,
                      weightedDegree: 2, betweenness: b, clustering: 0, component: 0)
        }
        let g = CollaborationGraph(label: nil, period: year2025, kinds: TieKind.allCases, nodes: [node("a", 9.002e-05), node("b", 1e-300)],
                                   edges: [GraphTie(source: "a", target: "b", weight: 2, coAttendance: 2, document: 0, review: 0)],
                                   density: 1, components: 1, isolates: [], reciprocity: nil)
        let text = GraphExports.dot(g, networks: ["n1"])
        #expect(text.contains(#"betweenness="9.002e-05""#))
        #expect(text.contains(#"layout="sfdp""#))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-dot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("g.dot").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Self.run("dot", ["-Tsvg", path])
        #expect(r.status == 0 && r.out.contains("<svg"), "\(r)")
        let json = try Self.run("dot", ["-Tjson", path])
        let objects = ((try? JSONSerialization.jsonObject(with: Data(json.out.utf8))) as? [String: Any])?["objects"] as? [[String: Any]] ?? []
        #expect(objects.first { $0["name"] as? String == "a" }?["betweenness"] as? String == "9.002e-05", "\(json)")
        // The label as Graphviz holds it: `\\` is its escape for a backslash in a label.
        #expect(objects.first { $0["name"] as? String == "a" }?["label"] as? String == #"Trust "a" \\ one"#, "\(json)")
    }

    /// The CSV headers: ids first, one name per concept, and the scope in columns.
    @Test func csvHeadersUseOneNamePerConceptAndSayWhatTheyCover() throws {
        let e = try Self.exports.get()
        func header(_ name: String) throws -> [String] {
            let text = try String(contentsOfFile: e.file(name), encoding: .utf8)
            return text.split(separator: "\r\n", maxSplits: 1).first.map { $0.split(separator: ",").map(String.init) } ?? []
        }
        #expect(try header("nodes.csv") == ["id", "label", "region", "home_network", "networks", "degree", "weighted_degree", "betweenness",
                                            "clustering", "component", "slice_label", "period_from", "period_to", "ties", "scope_networks"])
        #expect(try header("edges.csv") == ["source", "target", "weight", "co_attendance", "document", "review",
                                            "slice_label", "period_from", "period_to", "ties", "scope_networks"])
        #expect(try header("coverage.csv") == ["on", "window_days", "window_from", "network_id", "member_count", "reviewed", "reviewer", "coverage",
                                               "reviewer_coverage", "overdue_count", "overdue_review_ids", "completed_in_window", "shared_in_window",
                                               "outcome_sharing_rate"])
        #expect(try header("summary.csv") == ["network_id", "name", "member_count", "meeting_count", "attendance_rate", "participation_rate",
                                              "coverage", "reviewer_coverage", "overdue_count", "outcome_sharing_rate", "on", "period_from", "period_to"])
        for name in ["participation.csv", "outcomes.csv", "documents.csv"] {
            #expect(try header(name).suffix(2) == ["period_from", "period_to"], "\(name)")
        }
    }
}
