import Testing
import TrellisGraph

/// The E-I index is computed in one pass over the graph's own edge list, by node position
/// (``GraphMetrics/eiIndexes(_:group:)``): held here to the definition, written out over
/// ``WeightedGraph/edges`` by id, on graphs with ungrouped ends, repeated pairs (summed
/// weights) and weights that need their order to sum to the same bits.
@Suite struct EIIndexTests {
    /// DOMAIN.md's definition, directly.
    static func reference(_ g: WeightedGraph, _ group: [String: String]) -> (Double?, Double?) {
        var e = 0, i = 0, we = 0.0, wi = 0.0
        for edge in g.edges {
            guard let a = group[edge.source], let b = group[edge.target] else { continue }
            if a == b { i += 1; wi += edge.weight } else { e += 1; we += edge.weight }
        }
        guard e + i > 0 else { return (nil, nil) }
        let w = we + wi
        return (Double(e - i) / Double(e + i), w != 0 && w.isFinite ? (we - wi) / w : nil)
    }

    @Test func oneFigureForEachGroupingEqualsTheDefinition() {
        var g = WeightedGraph()
        let ids = (0..<40).map { "org\($0)" }
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for _ in 0..<300 {
            let a = ids[Int(next() % 40)], b = ids[Int(next() % 40)]
            g.addEdge(a, b, weight: Double(next() % 1000) / 7.0 + 0.1)
        }
        g.addNode("lonely")
        for groups in 1...5 {
            // Every fifth organisation has no group: its edges are left out.
            var group: [String: String] = [:]
            for (k, id) in ids.enumerated() where k % 5 != 0 { group[id] = "g\(k % groups)" }
            let (u, w) = Self.reference(g, group)
            let both = GraphMetrics.eiIndexes(g, group: group)
            #expect(both.unweighted == u && both.weighted == w, "\(groups) groups")
            #expect(GraphMetrics.eiIndex(g, group: group) == u && GraphMetrics.eiIndexWeighted(g, group: group) == w)
        }
        let none = GraphMetrics.eiIndexes(g, group: ["lonely": "x"])
        #expect(none.unweighted == nil && none.weighted == nil, "no edge with both ends grouped")
    }
}
