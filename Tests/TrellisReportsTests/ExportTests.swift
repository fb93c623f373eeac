import Foundation
import Testing
@testable import TrellisReports

/// Every graph export parses, and networkx reads it back with the right nodes, edges and
/// weights.
@Suite struct ExportTests {
    func report(slicing: Period.Slicing? = nil) throws -> (Scratch, GraphReport) {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        return (s, try s.source().graph(ReportQuery(networks: ["g1"], period: year2025), slicing: slicing).report)
    }

    func write(_ s: Scratch, _ name: String, _ text: String) throws -> String {
        let path = s.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func graphMLIsWellFormedWithTheKeysAndNetworkxReadsIt() throws {
        let (s, r) = try report()
        let path = try write(s, "g.graphml", GraphExports.graphML(r))
        let (status, out) = try python("""
            import sys, xml.etree.ElementTree as ET, networkx as nx
            ns = {'g': 'http://graphml.graphdrawing.org/xmlns'}
            root = ET.parse(sys.argv[1]).getroot()
            keys = sorted(k.get('attr.name') + '/' + k.get('for') for k in root.findall('g:key', ns))
            g = nx.read_graphml(sys.argv[1])
            print(len(g.nodes), len(g.edges), g['a']['b']['weight'], g['a']['c']['review'], g.nodes['a']['label'], g.nodes['a']['betweenness'])
            print(' '.join(keys))
            """, [path])
        #expect(status == 0, "\(out)")
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.first == "5 4 3 2 Ash & <Oak> Trust 0.3333333333333333")  // weight is an int key
        #expect(lines.count > 1 && !lines[1].contains("name/node"), "the display name is `label`, not `name`")
        for key in ["label/node", "degree/node", "weighted_degree/node", "betweenness/node", "clustering/node", "component/node",
                    "weight/edge", "co_attendance/edge", "document/edge", "review/edge"] {
            #expect(lines.count > 1 && lines[1].contains(key), "missing key \(key)")
        }
    }

    @Test func gexfIsVersion13AndNetworkxReadsIt() throws {
        let (s, r) = try report()
        let path = try write(s, "g.gexf", GraphExports.gexf(r))
        let (status, out) = try python("""
            import sys, xml.etree.ElementTree as ET, networkx as nx
            root = ET.parse(sys.argv[1]).getroot()
            assert root.tag == '{http://gexf.net/1.3}gexf' and root.get('version') == '1.3', root.tag
            g = nx.read_gexf(sys.argv[1])
            print(len(g.nodes), len(g.edges), g['a']['b']['weight'], g.nodes['a']['label'], g.nodes['e']['degree'])
            """, [path])
        #expect(status == 0, "\(out)")
        #expect(out == "5 4 3.0 Ash & <Oak> Trust 0\n")
    }

    @Test func slicedGexfKeepsTheSlicesAsSpells() throws {
        let (s, r) = try report(slicing: .term)
        let path = try write(s, "w.gexf", GraphExports.gexf(r))
        let (status, out) = try python("""
            import sys, networkx as nx
            g = nx.read_gexf(sys.argv[1])
            print(g.graph['mode'], len(g.nodes), len(g.edges))
            print(g.nodes['a']['spells'])
            print(g['a']['b']['spells'], g['a']['b']['weight'])
            print(g['b']['c']['spells'])
            import xml.etree.ElementTree as ET
            ns = {'x': 'http://gexf.net/1.3'}
            root = ET.parse(sys.argv[1]).getroot()
            e = [e for e in root.iterfind('x:graph/x:edges/x:edge', ns) if (e.get('source'), e.get('target')) == ('a', 'b')][0]
            print([(a.get('value'), a.get('start'), a.get('end')) for a in e.iterfind('x:attvalues/x:attvalue', ns) if a.get('for') == 'weight'])
            """, [path])
        #expect(status == 0, "\(out)")
        #expect(out == """
            dynamic 5 4
            [('2025-09-01', '2025-12-31'), ('2026-01-01', '2026-03-31'), ('2026-04-01', '2026-08-31')]
            [('2025-09-01', '2025-12-31'), ('2026-01-01', '2026-03-31'), ('2026-04-01', '2026-08-31')] 3.0
            [('2025-09-01', '2025-12-31')]
            [('1', '2025-09-01', '2025-12-31'), ('1', '2026-01-01', '2026-03-31'), ('1', '2026-04-01', '2026-08-31')]

            """)
    }

    @Test func pajekHasTheVertexAndEdgeCountsAndNetworkxReadsIt() throws {
        let (s, r) = try report()
        let text = GraphExports.pajek(r.whole)
        #expect(text.hasPrefix("*Vertices 5\r\n1 \"a\"\r\n"))
        let lines = text.split(separator: "\r\n")
        let edges = lines.drop { $0 != "*Edges" }.dropFirst()
        #expect(edges.count == 4)
        let path = try write(s, "g.net", text)
        let (status, out) = try python("""
            import sys, networkx as nx
            g = nx.Graph(nx.read_pajek(sys.argv[1]))
            print(len(g.nodes), len(g.edges), g['a']['b']['weight'], g['a']['d']['weight'])
            """, [path])
        #expect(status == 0, "\(out)")
        #expect(out == "5 4 3.0 2.0\n")
    }

    @Test func dotIsAnUndirectedGraphWithOneStatementPerNodeAndEdge() throws {
        let (_, r) = try report()
        let text = GraphExports.dot(r.whole)
        #expect(text.hasPrefix("graph collaboration {\n") && text.hasSuffix("}\n"))
        let lines = text.split(separator: "\n")
        #expect(lines.filter { $0.contains(" -- ") }.count == 4)
        #expect(lines.filter { $0.hasPrefix("  \"") && !$0.contains(" -- ") }.count == 5)
        #expect(text.contains(#""a" -- "b" [weight="3", co_attendance="2", document="1", review="0"];"#))
        #expect(text.contains(#"label="Ash & <Oak> Trust""#))
    }

    @Test func csvEdgeListAndNodeTableAreRFC4180() throws {
        let (s, r) = try report(slicing: .year)
        let edges = try write(s, "e.csv", GraphExports.edgesCSV(r).csv())
        let nodes = try write(s, "n.csv", GraphExports.nodesCSV(r).csv())
        let (status, out) = try python("""
            import sys, csv
            e = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))
            n = list(csv.DictReader(open(sys.argv[2], newline='', encoding='utf-8')))
            print(len(e), e[0]['slice_label'], e[0]['source'], e[0]['target'], e[0]['weight'])
            print(len(n), [x['label'] for x in n if x['id'] == 'a'][0])
            """, [edges, nodes])
        #expect(status == 0, "\(out)")
        #expect(out == "4 2025/26 a b 3\n5 Ash & <Oak> Trust\n")
        #expect(Table(headers: ["a"], rows: [["x,\"y\"\nz"]]).csv() == "a\r\n\"x,\"\"y\"\"\nz\"\r\n")
    }
}
