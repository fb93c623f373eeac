/// The collaboration graph in the formats network tools open directly: GraphML, GEXF 1.3
/// (slices as spells), Pajek `.net`, Graphviz DOT, and CSV (edge list and node table).
///
/// Node ids are organisation ids; names, regions and every metric go along as attributes
/// where the format has them. Pajek has no attributes: its labels are the organisation ids.
///
/// ## Topics
/// - ``graphML(_:)``
/// - ``gexf(_:)``
/// - ``pajek(_:)``
/// - ``dot(_:)``
/// - ``edgesCSV(_:)``
/// - ``nodesCSV(_:)``
public enum GraphExports {

    static let nodeAttributes: [(id: String, type: String)] = [
        ("name", "string"), ("region", "string"), ("home_network", "string"), ("networks", "string"),
        ("degree", "int"), ("weighted_degree", "double"), ("betweenness", "double"), ("clustering", "double"), ("component", "int"),
    ]

    static func nodeValues(_ n: GraphNode) -> [(String, String?)] {
        [("name", n.name), ("region", n.region), ("home_network", n.homeNetwork), ("networks", n.networks.joined(separator: " ")),
         ("degree", String(n.degree)), ("weighted_degree", Markup.number(n.weightedDegree)),
         ("betweenness", Markup.number(n.betweenness)), ("clustering", Markup.number(n.clustering)), ("component", String(n.component))]
    }

    // MARK: - GraphML

    /// GraphML (undirected); the whole period (slices are in GEXF and JSON).
    public static func graphML(_ g: CollaborationGraph) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">

            """
        for k in [("from", "string"), ("to", "string"), ("ties", "string")] {
            out += "  <key id=\"\(k.0)\" for=\"graph\" attr.name=\"\(k.0)\" attr.type=\"\(k.1)\"/>\n"
        }
        for k in nodeAttributes {
            out += "  <key id=\"\(k.id)\" for=\"node\" attr.name=\"\(k.id)\" attr.type=\"\(k.type)\"/>\n"
        }
        out += "  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n"
        for k in TieKind.allCases {
            out += "  <key id=\"\(k.rawValue)\" for=\"edge\" attr.name=\"\(k.rawValue)\" attr.type=\"int\"/>\n"
        }
        out += "  <graph id=\"collaboration\" edgedefault=\"undirected\">\n"
        out += "    <data key=\"from\">\(g.period.fromText)</data>\n    <data key=\"to\">\(g.period.toText)</data>\n"
        out += "    <data key=\"ties\">\(g.kinds.map(\.rawValue).joined(separator: ","))</data>\n"
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
    /// in which it had a tie, with its weight in that slice as the dynamic attribute
    /// `slice_weight`; its static `weight` is the sum over the slices.
    public static func gexf(_ r: GraphReport) -> String {
        let sliced = r.slicing != nil
        let g = r.whole
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">
              <meta>
                <creator>Trellis</creator>
                <description>Collaboration graph, \(Markup.escape(g.period.fromText)) to \(Markup.escape(g.period.lastDayText)); ties: \(g.kinds.map(\.rawValue).joined(separator: ", "))\(sliced ? "; sliced by \(r.slicing!.rawValue)" : "")</description>
              </meta>

            """
        out += sliced
            ? "  <graph mode=\"dynamic\" defaultedgetype=\"undirected\" timeformat=\"date\" timerepresentation=\"interval\" start=\"\(g.period.fromText)\" end=\"\(g.period.lastDayText)\">\n"
            : "  <graph mode=\"static\" defaultedgetype=\"undirected\">\n"
        out += "    <attributes class=\"node\" mode=\"static\">\n"
        for k in nodeAttributes where k.id != "name" {
            out += "      <attribute id=\"\(k.id)\" title=\"\(k.id)\" type=\"\(k.type == "int" ? "integer" : k.type)\"/>\n"
        }
        out += "    </attributes>\n"
        out += "    <attributes class=\"edge\" mode=\"static\">\n"
        for k in TieKind.allCases { out += "      <attribute id=\"\(k.rawValue)\" title=\"\(k.rawValue)\" type=\"integer\"/>\n" }
        out += "    </attributes>\n"
        if sliced {
            out += "    <attributes class=\"node\" mode=\"dynamic\">\n"
            out += "      <attribute id=\"slice_degree\" title=\"slice_degree\" type=\"integer\"/>\n"
            out += "      <attribute id=\"slice_weighted_degree\" title=\"slice_weighted_degree\" type=\"double\"/>\n"
            out += "      <attribute id=\"slice_betweenness\" title=\"slice_betweenness\" type=\"double\"/>\n"
            out += "    </attributes>\n"
            out += "    <attributes class=\"edge\" mode=\"dynamic\">\n"
            out += "      <attribute id=\"slice_weight\" title=\"slice_weight\" type=\"integer\"/>\n"
            out += "    </attributes>\n"
        }
        // Per slice: node id → node, edge key → edge.
        let sliceNodes = r.slices.map { s in Dictionary(uniqueKeysWithValues: s.nodes.map { ($0.id, $0) }) }
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
            for (k, v) in nodeValues(n) where k != "name" {
                if let v { out += "          <attvalue for=\"\(k)\" value=\"\(Markup.escape(v))\"/>\n" }
            }
            if sliced {
                for (k, s) in r.slices.enumerated() {
                    guard let sn = sliceNodes[k][n.id] else { continue }
                    let span = "start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\""
                    out += "          <attvalue for=\"slice_degree\" value=\"\(sn.degree)\" \(span)/>\n"
                    out += "          <attvalue for=\"slice_weighted_degree\" value=\"\(Markup.number(sn.weightedDegree))\" \(span)/>\n"
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
                    out += "          <attvalue for=\"slice_weight\" value=\"\(e.weight)\" start=\"\(s.period.fromText)\" end=\"\(s.period.lastDayText)\"/>\n"
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

    /// Graphviz DOT, undirected; node labels are names, edge `weight` and `penwidth` follow
    /// the tie weight.
    public static func dot(_ g: CollaborationGraph) -> String {
        var out = "graph collaboration {\n"
        out += "  graph [label=\(Markup.dot("Collaboration graph, \(g.period.fromText) to \(g.period.lastDayText)")), overlap=false];\n"
        out += "  node [shape=ellipse, fontsize=10];\n"
        for n in g.nodes {
            out += "  \(Markup.dot(n.id)) [label=\(Markup.dot(n.name)), degree=\(n.degree), weighted_degree=\(Markup.number(n.weightedDegree)), betweenness=\(Markup.number(n.betweenness))];\n"
        }
        for e in g.edges {
            out += "  \(Markup.dot(e.source)) -- \(Markup.dot(e.target)) [weight=\(e.weight), co_attendance=\(e.coAttendance), document=\(e.document), review=\(e.review)];\n"
        }
        return out + "}\n"
    }

    // MARK: - CSV

    /// The edge list; with slices, one block of rows per slice with its label in `slice`.
    public static func edgesCSV(_ r: GraphReport) -> Table {
        let sliced = r.slicing != nil
        var t = Table(headers: (sliced ? ["slice", "from", "to"] : []) + ["source", "target", "weight", "co_attendance", "document", "review"])
        for g in sliced ? r.slices : [r.whole] {
            let prefix = sliced ? [g.label ?? "", g.period.fromText, g.period.toText] : []
            for e in g.edges {
                t.rows.append(prefix + [e.source, e.target, String(e.weight), String(e.coAttendance), String(e.document), String(e.review)])
            }
        }
        return t
    }

    /// The node table; with slices, one block of rows per slice.
    public static func nodesCSV(_ r: GraphReport) -> Table {
        let sliced = r.slicing != nil
        var t = Table(headers: (sliced ? ["slice", "from", "to"] : []) + ["id"] + nodeAttributes.map(\.id))
        for g in sliced ? r.slices : [r.whole] {
            let prefix = sliced ? [g.label ?? "", g.period.fromText, g.period.toText] : []
            for n in g.nodes { t.rows.append(prefix + [n.id] + nodeValues(n).map { $0.1 ?? "" }) }
        }
        return t
    }
}
