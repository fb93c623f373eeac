import Dispatch
// Graph figures of DOMAIN.md ("Collaboration ties"), as pure functions.
//
// Agreement with networkx 3.x (checked by tools/graph-check/compare.py to 1e-9):
// degree, weighted degree (`G.degree(weight=...)`), density, connected components,
// isolates, betweenness (`betweenness_centrality`, unweighted, endpoints=False, both
// normalisations) and clustering (`clustering`, unweighted). Reciprocity is DOMAIN.md's
// pair-based definition, deliberately not networkx's edge-based `overall_reciprocity`.

/// Every per-node figure of one graph, computed from a single adjacency build.
public struct NodeMetrics: Sendable, Hashable {
    public let id: String
    public let degree: Int
    public let weightedDegree: Double
    /// Normalised as networkx does for undirected graphs.
    public let betweenness: Double
    public let clustering: Double
    /// Index into `GraphMetrics.components(_:)`.
    public let component: Int
}

public enum GraphMetrics {

    /// Number of distinct neighbours (self-loops are never stored).
    public static func degree(_ g: WeightedGraph) -> [String: Int] {
        let c = g.indexed()
        var out: [String: Int] = [:]
        out.reserveCapacity(c.count)
        for i in 0..<c.count { out[c.ids[i]] = c.degree(i) }
        return out
    }

    /// Sum of the weights of a node's edges.
    public static func weightedDegree(_ g: WeightedGraph) -> [String: Double] {
        let c = g.indexed()
        let wd = weightedDegrees(c)
        var out: [String: Double] = [:]
        out.reserveCapacity(c.count)
        for i in 0..<c.count { out[c.ids[i]] = wd[i] }
        return out
    }

    /// 2E / (N(N−1)); nil when N < 2.
    public static func density(_ g: WeightedGraph) -> Double? {
        let n = g.nodeCount
        guard n >= 2 else { return nil }
        return 2 * Double(g.edgeCount) / (Double(n) * Double(n - 1))
    }

    /// Connected components, each sorted, ordered by size descending then first id.
    /// Isolates are components of size one.
    public static func components(_ g: WeightedGraph) -> [[String]] {
        let c = g.indexed()
        return c.components().map { $0.map { c.ids[Int($0)] } }
    }

    /// Node → index of its component in `components(_:)`.
    public static func componentIndex(_ g: WeightedGraph) -> [String: Int] {
        let c = g.indexed()
        var out: [String: Int] = [:]
        out.reserveCapacity(c.count)
        for (k, comp) in c.components().enumerated() {
            for v in comp { out[c.ids[Int(v)]] = k }
        }
        return out
    }

    /// Nodes with no edge, sorted.
    public static func isolates(_ g: WeightedGraph) -> [String] {
        let c = g.indexed()
        return (0..<c.count).filter { c.degree($0) == 0 }.map { c.ids[$0] }
    }

    /// Betweenness centrality (Brandes), unweighted, endpoints excluded, as
    /// `networkx.betweenness_centrality(G, normalized=...)` for an undirected graph:
    /// with B(v) the sum over ordered pairs (s, t), s ≠ v ≠ t, of σ_st(v)/σ_st,
    /// normalised = B(v) / ((n−1)(n−2)) (equivalently the unordered-pair sum divided by
    /// (n−1)(n−2)/2), not normalised = B(v) / 2; n ≤ 2 gives 0 everywhere. n counts
    /// every node, isolates included.
    public static func betweenness(_ g: WeightedGraph, normalized: Bool = true) -> [String: Double] {
        let c = g.indexed()
        let b = betweennessScores(c, normalized: normalized)
        var out: [String: Double] = [:]
        out.reserveCapacity(c.count)
        for i in 0..<c.count { out[c.ids[i]] = b[i] }
        return out
    }

    /// Local clustering coefficient, unweighted, as `networkx.clustering`:
    /// 2T(v) / (deg(v)(deg(v)−1)), 0 when deg(v) < 2.
    public static func clustering(_ g: WeightedGraph) -> [String: Double] {
        let c = g.indexed()
        let cc = clusteringScores(c)
        var out: [String: Double] = [:]
        out.reserveCapacity(c.count)
        for i in 0..<c.count { out[c.ids[i]] = cc[i] }
        return out
    }

    /// DOMAIN.md's reciprocity: unordered pairs {a, b} with ties both ways ÷ unordered
    /// pairs with a tie either way; nil when there is no tie. (networkx's
    /// `overall_reciprocity` counts edges instead: 2·mutual ÷ ties.)
    public static func reciprocity(_ d: DirectedTies) -> Double? {
        let (pairs, mutual) = d.pairCounts()
        guard pairs > 0 else { return nil }
        return Double(mutual) / Double(pairs)
    }

    /// Krackhardt & Stern's E-I index over edges, each undirected edge counted once,
    /// unweighted: (E − I) / (E + I), E = edges between different groups, I = edges
    /// within a group. Edges with an endpoint that has no group are left out; nil when
    /// no edge is left.
    public static func eiIndex(_ g: WeightedGraph, group: [String: String]) -> Double? {
        eiIndexes(g, group: group).unweighted
    }

    /// The E-I index with edge weights in place of counts: (ΣwE − ΣwI) / (ΣwE + ΣwI);
    /// nil when no edge is left or their weights sum to 0.
    public static func eiIndexWeighted(_ g: WeightedGraph, group: [String: String]) -> Double? {
        eiIndexes(g, group: group).weighted
    }

    /// ``eiIndex(_:group:)`` and ``eiIndexWeighted(_:group:)`` in one pass over the edges, in
    /// their order (so the weights are summed as before, to the last bit), each node's group
    /// looked up once rather than once an edge end.
    public static func eiIndexes(_ g: WeightedGraph, group: [String: String]) -> (unweighted: Double?, weighted: Double?) {
        // Each node's group as a number (-1: none); equal numbers, equal groups.
        var numbers: [String: Int] = [:]
        let groupOf = g.nodes.map { id -> Int in
            guard let name = group[id] else { return -1 }
            if let k = numbers[name] { return k }
            numbers[name] = numbers.count
            return numbers.count - 1
        }
        var external = 0, internalCount = 0
        var externalWeight = 0.0, internalWeight = 0.0
        g.forEachEdge { a, b, w in
            let x = groupOf[a], y = groupOf[b]
            guard x >= 0, y >= 0 else { return }
            if x == y { internalCount += 1; internalWeight += w } else { external += 1; externalWeight += w }
        }
        let total = external + internalCount
        guard total > 0 else { return (nil, nil) }
        let unweighted = Double(external - internalCount) / Double(total)
        let weightSum = externalWeight + internalWeight
        let weighted = weightSum != 0 && weightSum.isFinite ? (externalWeight - internalWeight) / weightSum : nil
        return (unweighted, weighted)
    }

    /// Every per-node figure in one pass over one adjacency build, nodes sorted by id.
    public static func nodeMetrics(_ g: WeightedGraph) -> [NodeMetrics] {
        let c = g.indexed()
        let wd = weightedDegrees(c)
        let b = betweennessScores(c, normalized: true)
        let cc = clusteringScores(c)
        var comp = [Int](repeating: 0, count: c.count)
        for (k, members) in c.components().enumerated() {
            for v in members { comp[Int(v)] = k }
        }
        return (0..<c.count).map { i in
            NodeMetrics(id: c.ids[i], degree: c.degree(i), weightedDegree: wd[i],
                        betweenness: b[i], clustering: cc[i], component: comp[i])
        }
    }

    // MARK: - Kernels over the CSR adjacency

    static func weightedDegrees(_ c: IndexedGraph) -> [Double] {
        var out = [Double](repeating: 0, count: c.count)
        for i in 0..<c.count {
            var s = 0.0
            for e in c.offsets[i]..<c.offsets[i + 1] { s += c.weights[e] }
            out[i] = s
        }
        return out
    }

    /// The Brandes sums of the sources `firstSource, firstSource + step, …` into `bc`.
    static func accumulate(_ c: IndexedGraph, firstSource: Int, step: Int, into bc: UnsafeMutableBufferPointer<Double>) {
        let n = c.count
        var sigma = [Double](repeating: 0, count: n)
        var dist = [Int32](repeating: -1, count: n)
        var delta = [Double](repeating: 0, count: n)
        var order = [Int32](repeating: 0, count: n)

        c.offsets.withUnsafeBufferPointer { off in
        c.adj.withUnsafeBufferPointer { adj in
        sigma.withUnsafeMutableBufferPointer { sigma in
        dist.withUnsafeMutableBufferPointer { dist in
        delta.withUnsafeMutableBufferPointer { delta in
        order.withUnsafeMutableBufferPointer { order in
            for s in Swift.stride(from: firstSource, to: n, by: step) where off[s + 1] > off[s] {
                var head = 0
                var tail = 1
                order[0] = Int32(s)
                dist[s] = 0
                sigma[s] = 1
                while head < tail {
                    let v = Int(order[head])
                    head += 1
                    let next = dist[v] + 1
                    let sv = sigma[v]
                    for e in off[v]..<off[v + 1] {
                        let w = Int(adj[e])
                        let dw = dist[w]
                        if dw < 0 {
                            dist[w] = next
                            sigma[w] = sv
                            order[tail] = Int32(w)
                            tail += 1
                        } else if dw == next {
                            sigma[w] += sv
                        }
                    }
                }
                // Reverse BFS order. δ(v) = σ(v) Σ_w (1 + δ(w)) / σ(w) over successors w;
                // `delta` holds (1 + δ(w)) / σ(w) once w is done, so each edge costs an add.
                var i = tail - 1
                while i > 0 {
                    let v = Int(order[i])
                    let next = dist[v] + 1
                    var acc = 0.0
                    for e in off[v]..<off[v + 1] {
                        let w = Int(adj[e])
                        if dist[w] == next { acc += delta[w] }
                    }
                    let sv = sigma[v]
                    let dv = sv * acc
                    bc[v] += dv
                    delta[v] = (1 + dv) / sv
                    i -= 1
                }
                for j in 0..<tail {
                    let v = Int(order[j])
                    dist[v] = -1
                    sigma[v] = 0
                    delta[v] = 0
                }
            }
        }}}}}}
    }

    /// Brandes' algorithm, one BFS per source; predecessors are not stored: in the
    /// accumulation a node's successors are its neighbours one level further out. Sources
    /// are shared out over two workers (every other source), each with its own buffers; the
    /// partial sums are added in a fixed order, so the result is the same on every run.
    static func betweennessScores(_ c: IndexedGraph, normalized: Bool) -> [Double] {
        let n = c.count
        var bc = [Double](repeating: 0, count: n)
        guard n >= 3 else { return bc }
        // Two workers whatever the machine: the partition, and so every bit of the result,
        // must not depend on the core count (a report is reproduced byte for byte elsewhere).
        let workers = n >= 256 ? 2 : 1
        let partials = UnsafeMutableBufferPointer<Double>.allocate(capacity: n * workers)
        partials.initialize(repeating: 0)
        defer { partials.deallocate() }
        let shared = SharedBuffer(partials)
        DispatchQueue.concurrentPerform(iterations: workers) { k in
            accumulate(c, firstSource: k, step: workers, into: UnsafeMutableBufferPointer(rebasing: shared.buffer[(k * n)..<((k + 1) * n)]))
        }
        for k in 0..<workers { for i in 0..<n { bc[i] += partials[k * n + i] } }

        // networkx `_rescale` with endpoints=False: N = n − 1 (here ≥ 2).
        let scale = normalized ? 1 / (Double(n - 1) * Double(n - 2)) : 0.5
        for i in 0..<n { bc[i] *= scale }
        return bc
    }

    /// Each node's local clustering: its triangles ÷ d(d − 1)/2. Nodes are independent, so
    /// they are shared out over two workers (every other node, as betweenness shares its
    /// sources), each with its own marks; the result does not depend on the split (each score
    /// is computed whole by one worker, its triangles counted in integers).
    static func clusteringScores(_ c: IndexedGraph) -> [Double] {
        let n = c.count
        var out = [Double](repeating: 0, count: n)
        let workers = n >= 256 ? 2 : 1
        out.withUnsafeMutableBufferPointer { out in
            let shared = SharedBuffer(out)
            DispatchQueue.concurrentPerform(iterations: workers) { k in
                clustering(c, nodes: Swift.stride(from: k, to: n, by: workers), into: shared.buffer)
            }
        }
        return out
    }

    /// The clustering of `nodes` into their places in `out`.
    static func clustering(_ c: IndexedGraph, nodes: StrideTo<Int>, into out: UnsafeMutableBufferPointer<Double>) {
        var mark = [Int32](repeating: -1, count: c.count)
        c.offsets.withUnsafeBufferPointer { off in
        c.adj.withUnsafeBufferPointer { adj in
        mark.withUnsafeMutableBufferPointer { mark in
            for v in nodes {
                let d = off[v + 1] - off[v]
                guard d >= 2 else { continue }
                for e in off[v]..<off[v + 1] { mark[Int(adj[e])] = Int32(v) }
                // Each triangle at v is seen twice (u→w and w→u).
                var t = 0
                for e in off[v]..<off[v + 1] {
                    let u = Int(adj[e])
                    for f in off[u]..<off[u + 1] where mark[Int(adj[f])] == Int32(v) { t += 1 }
                }
                out[v] = t == 0 ? 0 : Double(t) / (Double(d) * Double(d - 1))
            }
        }}}
    }
}

/// A buffer whose disjoint slices are written by different workers of one
/// `concurrentPerform`, which returns only when all of them are done.
struct SharedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    init(_ buffer: UnsafeMutableBufferPointer<Double>) { self.buffer = buffer }
}
