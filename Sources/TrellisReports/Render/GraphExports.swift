/// The collaboration graph in the formats network tools open directly: GraphML, GEXF 1.3
/// (slices as spells), Pajek `.net`, Graphviz DOT, and CSV (edge list and node table).
///
/// Node ids are organisation ids (unique); display names go as `label` (not unique), regions
/// and every metric as attributes where the format has them, each with one name and one
/// type across formats (schemas/reports/README.md). Pajek has no attributes: its labels are
/// the organisation ids.
///
/// ## Topics
/// - ``graphML(_:)``
/// - ``graphML(_:networks:)``
/// - ``gexf(_:)``
/// - ``pajek(_:)``
/// - ``dot(_:)``
/// - ``dot(_:networks:)``
/// - ``edgesCSV(_:)``
/// - ``nodesCSV(_:)``
public enum GraphExports {

    /// Node attributes in every format that has them, with their one type (GraphML names;
    /// GEXF says `integer` for `int`). The display name is `label`, the organisation id is
    /// the node id: names are not unique (two organisations may share one), ids are.
    static let nodeAttributes: [(id: String, type: String)] = [
        ("label", "string"), ("region", "string"), ("home_network", "string"), ("networks", "string"),
        ("degree", "int"), ("weighted_degree", "int"), ("betweenness", "double"), ("clustering", "double"), ("component", "int"),
    ]

    static func nodeValues(_ n: GraphNode) -> [(String, String?)] {
        [("label", n.name), ("region", n.region), ("home_network", n.homeNetwork), ("networks", n.networks.joined(separator: " ")),
         ("degree", String(n.degree)), ("weighted_degree", String(n.weightedDegreeCount)),
         ("betweenness", Markup.number(n.betweenness)), ("clustering", Markup.number(n.clustering)), ("component", String(n.component))]
    }

    /// The tie kinds as one space-separated value.
    static func kindsText(_ kinds: [TieKind]) -> String { kinds.map(\.rawValue).joined(separator: " ") }

    // MARK: - GraphML

    /// GraphML of the report's whole period, with its chosen networks.
    public static func graphML(_ r: GraphReport) -> String { graphML(r.whole, networks: r.networks) }

    /// GraphML (undirected); the whole period (slices are in GEXF and JSON). Graph data:
    /// `period_from`, `period_to` (exclusive), `ties`, `scope_networks`.
    public static func graphML(_ g: CollaborationGraph, networks: [String] = []) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">

            """
        for k in ["period_from", "period_to", "ties", "scope_networks"] {
            out += "  <key id=\"\(k)\" for=\"graph\" attr.name=\"\(k)\" attr.type=\"string\"/>\n"
        }
        for k in nodeAttributes {
            out += "  <key id=\"\(k.id)\" for=\"node\" attr.name=\"\(k.id)\" attr.type=\"\(k.type)\"/>\n"
        }
        out += "  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"int\"/>\n"
        for k in TieKind.allCases {
            out += "  <key id=\"\(k.rawValue)\" for=\"edge\" attr.name=\"\(k.rawValue)\" attr.type=\"int\"/>\n"
        }
        out += "  <graph id=\"collaboration\" edgedefault=\"undirected\">\n"
        out += "    <data key=\"period_from\">\(g.period.fromText)</data>\n    <data key=\"period_to\">\(g.period.toText)</data>\n"
        out += "    <data key=\"ties\">\(kindsText(g.kinds))</data>\n"
        out += "    <data key=\"scope_networks\">\(Markup.escape(networks.joined(separator: " ")))</data>\n"
        for n in g.nodes {
            out += "    <node id=\"\(Markup.escape(n.id))\">\n"
            for (k, v) in nodeValues(n) { if let v { out += "      <data key=\"\(k)\">\(Markup.escape(v))</data>\n" } }
            out += "    </node>\n"
        }
        for e in g.edges {
            out += "    <edge source=\"\(Markup.escape(e.source))\" target=\"\(Markup.escape(e.target))\">"
            out += "<data key=\"weight\">\(e.weight)</data><data key=\"co_attendance\">\(e.coAttendance)</data>"
            out += "<data key=\"document\">\(e.document)</data><data key=\"review\">\(e.review)</data></edge>\n"
        }
        out += "  </graph>\n</graphml>\n"
        return out
    }

    // MARK: - GEXF 1.3

    /// GEXF 1.3. Without slices, a static graph of the whole period. With slices, a
    /// dynamic graph (`timeformat="date"`, inclusive `start`/`end` days as GEXF 1.3 has
    /// them): a node has one spell per slice in which it was a member, an edge one per slice
    /// in which it had a tie. An edge's weight per slice is the dynamic attribute `weight`
    /// (`<attvalue for="weight" value=".." start=".." end=".."/>`, declared in the dynamic
    /// edge attributes), which Gephi's importer (matching the column id `weight`) reads as the
    /// edge's weight over time for its timeline. The edge's static `weight` is the whole
    /// period's (the sum over the slices): networkx's reader treats `weight` as static
    /// whatever the declaration says, and keeps that. GEXF's edge weight is a float by the
    /// format's definition; every other count is declared `integer`.
    public static func gexf(_ r: GraphReport) -> String {
        let sliced = r.slicing != nil
        let g = r.whole
        let scope = r.networks.isEmpty ? "" : "; networks: " + r.networks.joined(separator: ", ")
        let slicing = r.slicing.map { "; sliced by \($0.rawValue)" } ?? ""
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">
              <meta>
                <creator>Trellis</creator>
                <description>Collaboration graph, \(Markup.escape(g.period.fromText)) to \(Markup.escape(g.period.lastDayText)); ties: \(g.kinds.map(\.rawValue).joined(separator: ", "))\(Markup.escape(scope))\(slicing)</description>
              </meta>

            """
        out += sliced
            ? "  <graph mode=\"dynamic\" defaultedgetype=\"undirected\" timeformat=\"date\" timerepresentation=\"interval\" start=\"\(g.period.fromText)\" end=\"\(g.period.lastDayText)\">\n"
            : "  <graph mode=\"static\" defaultedgetype=\"undirected\">\n"
        out += "    <attributes class=\"node\" mode=\"static\">\n"
        for k in nodeAttributes where k.id != "label" {
            out += "      <attribute id=\"\(k.id)\" title=\"\(k.id)\" type=\"\(k.type == "int" ? "integer" : k.type)\"/>\n"
        }
        out += "    </attributes>\n"
        out += "    <attributes class=\"edge\" mode=\"static\">\n"
        for k in TieKind.allCases { out += "      <attribute id=\"\(k.rawValue)\" title=\"\(k.rawValue)\" type=\"integer\"/>\n" }
        out += "    </attributes>\n"
        if sliced {
            out += "    <attributes class=\"node\" mode=\"dynamic\">\n"
            out += "      <attribute id=\"slice_degree\" title=\"slice_degree\" type=\"integer\"/>\n"
            out += "      <attribute id=\"slice_weighted_degree\" title=\"slice_weighted_degree\" type=\"integer\"/>\n"
            out += "      <attribute id=\"slice_betweenness\" title=\"slice_betweenness\" type=\"double\"/>\n"
            out += "    </attributes>\n"
            out += "    <attributes class=\"edge\" mode=\"dynamic\">\n"
            out += "      <attribute id=\"weight\" title=\"weight\" type=\"double\"/>\n"
            out += "    </attributes>\n"
        }
        // Per slice: node id → node, edge key → edge.
        let sliceNodes = r.slices.map { s in Dictionary(s.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }) }
        var edgeSlices: [String: [(Int, GraphTie)]] = [:]
        var edgeOrder: [(String, String)] = []
        if sliced {
            for (k, s) in r.slices.enumerated() {
                for e in s.edges {
                    let key = e.source + "\u{0}" + e.target
                    if edgeSlices[key] == nil { edgeOrder.append((e.source, e.target)) }
                    edgeSlices[key, default: []].append((k, e))
                }
            }
            edgeOrder.sort { $0 < $1 }
        }
        out += "    <nodes>\n"
        for n in g.nodes {
            out += "      <node id=\"\(Markup.escape(n.id))\" label=\"\(Markup.escape(n.name))\">\n        <attvalues>\n"
            for (k, v) in nodeValues(n) where k != "label" {
                if let v { out += "          <attvalue for=\"\(k)\" value=\"\(Markup.escape(v))\"/>\n" }
            }
            if sliced {
                for (k, s) in r.slices.enumerated() {
                    guard let sn = sliceNodes[k][n.id] else { continue }
                    let span = "start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\""
                    out += "          <attvalue for=\"slice_degree\" value=\"\(sn.degree)\" \(span)/>\n"
                    out += "          <attvalue for=\"slice_weighted_degree\" value=\"\(sn.weightedDegreeCount)\" \(span)/>\n"
                    out += "          <attvalue for=\"slice_betweenness\" value=\"\(Markup.number(sn.betweenness))\" \(span)/>\n"
                }
            }
            out += "        </attvalues>\n"
            if sliced {
                out += "        <spells>\n"
                for (k, s) in r.slices.enumerated() where sliceNodes[k][n.id] != nil {
                    out += "          <spell start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\"/>\n"
                }
                out += "        </spells>\n"
            }
            out += "      </node>\n"
        }
        out += "    </nodes>\n    <edges>\n"
        if sliced {
            for (i, pair) in edgeOrder.enumerated() {
                let list = edgeSlices[pair.0 + "\u{0}" + pair.1] ?? []
                let sum = list.reduce(into: (w: 0, c: 0, d: 0, r: 0)) { acc, x in
                    acc.w += x.1.weight; acc.c += x.1.coAttendance; acc.d += x.1.document; acc.r += x.1.review
                }
                out += "      <edge id=\"e\(i)\" source=\"\(Markup.escape(pair.0))\" target=\"\(Markup.escape(pair.1))\" weight=\"\(sum.w)\">\n"
                out += "        <attvalues>\n"
                out += "          <attvalue for=\"co_attendance\" value=\"\(sum.c)\"/>\n          <attvalue for=\"document\" value=\"\(sum.d)\"/>\n          <attvalue for=\"review\" value=\"\(sum.r)\"/>\n"
                for (k, e) in list {
                    let s = r.slices[k]
                    out += "          <attvalue for=\"weight\" value=\"\(e.weight)\" start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\"/>\n"
                }
                out += "        </attvalues>\n        <spells>\n"
                for (k, _) in list {
                    let s = r.slices[k]
                    out += "          <spell start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\"/>\n"
                }
                out += "        </spells>\n      </edge>\n"
            }
        } else {
            for (i, e) in g.edges.enumerated() {
                out += "      <edge id=\"e\(i)\" source=\"\(Markup.escape(e.source))\" target=\"\(Markup.escape(e.target))\" weight=\"\(e.weight)\">\n"
                out += "        <attvalues><attvalue for=\"co_attendance\" value=\"\(e.coAttendance)\"/><attvalue for=\"document\" value=\"\(e.document)\"/><attvalue for=\"review\" value=\"\(e.review)\"/></attvalues>\n"
                out += "      </edge>\n"
            }
        }
        out += "    </edges>\n  </graph>\n</gexf>\n"
        return out
    }

    // MARK: - Pajek

    /// Pajek `.net`: `*Vertices N` with the organisation ids as labels, then `*Edges` with
    /// 1-based vertex numbers and the weight.
    public static func pajek(_ g: CollaborationGraph) -> String {
        var number: [String: Int] = [:]
        var out = "*Vertices \(g.nodes.count)\r\n"
        for (i, n) in g.nodes.enumerated() {
            number[n.id] = i + 1
            out += "\(i + 1) \"\(n.id)\"\r\n"
        }
        out += "*Edges\r\n"
        for e in g.edges {
            guard let a = number[e.source], let b = number[e.target] else { continue }
            out += "\(a) \(b) \(e.weight)\r\n"
        }
        return out
    }

    // MARK: - DOT

    /// DOT of the report's whole period, with its chosen networks.
    public static func dot(_ r: GraphReport) -> String { dot(r.whole, networks: r.networks) }

    /// Graphviz DOT, undirected. Every attribute value is a quoted string (DOT's grammar
    /// has no exponent form, so `9.002e-05` unquoted is a syntax error); node labels are
    /// names, the node id is the organisation id. The graph asks for `layout="sfdp"`
    /// (force-directed, which suits an undirected collaboration graph and scales to
    /// thousands of nodes, where `dot`'s hierarchical layout does not): `dot -Tsvg` uses it,
    /// `-K` overrides it.
    public static func dot(_ g: CollaborationGraph, networks: [String] = []) -> String {
        func q(_ s: String) -> String { Markup.dot(s) }
        var out = "graph collaboration {\n"
        out += "  graph [label=\(q("Collaboration graph, \(g.period.fromText) to \(g.period.lastDayText)")), layout=\"sfdp\", overlap=\"false\", "
        out += "period_from=\(q(g.period.fromText)), period_to=\(q(g.period.toText)), ties=\(q(kindsText(g.kinds))), scope_networks=\(q(networks.joined(separator: " ")))];\n"
        out += "  node [shape=\"ellipse\", fontsize=\"10\"];\n"
        for n in g.nodes {
            out += "  \(q(n.id)) [" + nodeValues(n).compactMap { k, v in v.map { "\(k)=\(q($0))" } }.joined(separator: ", ") + "];\n"
        }
        for e in g.edges {
            out += "  \(q(e.source)) -- \(q(e.target)) [weight=\(q(String(e.weight))), co_attendance=\(q(String(e.coAttendance))), document=\(q(String(e.document))), review=\(q(String(e.review)))];\n"
        }
        return out + "}\n"
    }

    // MARK: - CSV

    /// What every row of a graph CSV covers, as trailing columns (a comment line is not
    /// CSV): the period (`period_to` exclusive), the tie kinds and the chosen networks
    /// (space-separated).
    static let scopeHeaders = ["slice_label", "period_from", "period_to", "ties", "scope_networks"]

    static func scopeCells(_ g: CollaborationGraph, _ networks: [String]) -> [String] {
        [g.label ?? "", g.period.fromText, g.period.toText, kindsText(g.kinds), networks.joined(separator: " ")]
    }

    /// The edge list: `source` and `target` first (what igraph's `Graph.DataFrame` and
    /// R's `graph_from_data_frame` expect), then the weights, then the scope columns; with
    /// slices, one block of rows per slice with its label in `slice_label`.
    public static func edgesCSV(_ r: GraphReport) -> Table {
        var t = Table(headers: ["source", "target", "weight", "co_attendance", "document", "review"] + scopeHeaders)
        for g in r.slicing != nil ? r.slices : [r.whole] {
            let scope = scopeCells(g, r.networks)
            for e in g.edges {
                t.rows.append([e.source, e.target, String(e.weight), String(e.coAttendance), String(e.document), String(e.review)] + scope)
            }
        }
        return t
    }

    /// The node table: the organisation id first (igraph's `Graph.DataFrame` takes the first
    /// column as the vertex name), the display name as `label`; with slices, one block of
    /// rows per slice.
    public static func nodesCSV(_ r: GraphReport) -> Table {
        var t = Table(headers: ["id"] + nodeAttributes.map(\.id) + scopeHeaders)
        for g in r.slicing != nil ? r.slices : [r.whole] {
            let scope = scopeCells(g, r.networks)
            for n in g.nodes { t.rows.append([n.id] + nodeValues(n).map { $0.1 ?? "" } + scope) }
        }
        return t
    }
}
