import Testing
import TrellisGraph

/// The layout of a component of more than 500 nodes shares each iteration out over two
/// workers by cell, attraction gathered node by node: the coordinates must be the very bits
/// the sequential loop (repulsion by cell, attraction edge by edge) gives, on graphs sparse and
/// dense, with several components, isolates and coincident starting points.
@Suite struct GraphLayoutTests {
    static func graph(nodes: Int, edges: Int, seed: UInt64, components: Int = 1) -> WeightedGraph {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var g = WeightedGraph()
        let per = nodes / components
        for c in 0..<components {
            let base = c * per
            // A path first, so that each part is one component.
            for i in 1..<per { g.addEdge("n\(base + i - 1)", "n\(base + i)", weight: 1) }
            for _ in 0..<(edges / components) {
                let a = base + next(per), b = base + next(per)
                g.addEdge("n\(a)", "n\(b)", weight: Double(1 + next(5)))
            }
        }
        for i in 0..<7 { g.addNode("isolate\(i)") }
        return g
    }

    @Test(arguments: [(900, 1_200, 1, 1), (1_300, 40_000, 2, 1), (1_600, 9_000, 3, 2), (520, 600, 4, 1)])
    func twoWorkersGiveTheSequentialLoopsBits(_ nodes: Int, _ edges: Int, _ seed: Int, _ components: Int) {
        let g = Self.graph(nodes: nodes, edges: edges, seed: UInt64(seed), components: components)
        let one = GraphLayout.forceDirected(g, width: 900, height: 700, iterations: 40, workers: 1)
        let two = GraphLayout.forceDirected(g, width: 900, height: 700, iterations: 40, workers: 2)
        let three = GraphLayout.forceDirected(g, width: 900, height: 700, iterations: 40, workers: 3)
        #expect(one.count == g.nodeCount)
        var differ = 0
        for (id, p) in one {
            guard let q = two[id], let r = three[id] else { differ += 1; continue }
            if p.x.bitPattern != q.x.bitPattern || p.y.bitPattern != q.y.bitPattern
                || p.x.bitPattern != r.x.bitPattern || p.y.bitPattern != r.y.bitPattern { differ += 1 }
        }
        #expect(differ == 0, "\(differ) of \(one.count) nodes placed differently")
    }
}
