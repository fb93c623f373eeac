// Graph values for the collaboration network (DOMAIN.md, "Collaboration ties").
//
// Pure Swift, no Foundation. Node ids are Strings; "sorted" everywhere means by their
// UTF-8 bytes (= Unicode code-point order, the order Python's `sorted` gives), which for
// DOMAIN.md's ASCII ids is plain byte order. Every metric and the layout work on the
// nodes in sorted order, so results do not depend on the order nodes or edges were added.

/// One undirected edge of a `WeightedGraph`: endpoints as first added, weight summed over
/// every time the pair was added.
public struct GraphEdge: Sendable, Hashable {
    public let source: String
    public let target: String
    public let weight: Double

    public init(source: String, target: String, weight: Double = 1) {
        self.source = source
        self.target = target
        self.weight = weight
    }
}

/// Undirected weighted graph.
///
/// * Nodes keep their insertion order (`nodes`); `sortedNodes` gives them sorted.
/// * Adding an edge adds its endpoints as nodes.
/// * Self-loops are ignored (the node is still added): a tie is between two different
///   organisations.
/// * Adding the same pair again (either direction) sums the weights into one edge.
/// * An edge exists once added, whatever its weight (as in networkx); weights are only
///   used by `weightedDegree` and `eiIndexWeighted`. Callers should not add ties of
///   weight 0.
public struct WeightedGraph: Sendable {
    private var table = NodeTable()
    private var edgeSlot: [PairKey: Int] = [:]
    private var edgeEnds: [PairKey] = []      // (first-added source, target) as indices
    private var edgeWeights: [Double] = []

    public init() {}

    public init(nodes: [String] = [], edges: [GraphEdge]) {
        for id in nodes { addNode(id) }
        for e in edges { addEdge(e.source, e.target, weight: e.weight) }
    }

    public var nodeCount: Int { nodes.count }
    public var edgeCount: Int { edgeEnds.count }

    /// Node ids sorted by their UTF-8 bytes.
    public var sortedNodes: [String] { nodes.sorted(by: utf8Less) }

    public func contains(_ id: String) -> Bool { table.position[id] != nil }

    public mutating func addNode(_ id: String) {
        _ = index(for: id)
    }

    public mutating func addEdge(_ u: String, _ v: String, weight: Double = 1) {
        let a = index(for: u)
        let b = index(for: v)
        guard a != b else { return }
        let key = PairKey(min(a, b), max(a, b))
        if let slot = edgeSlot[key] {
            edgeWeights[slot] += weight
        } else {
            edgeSlot[key] = edgeEnds.count
            edgeEnds.append(PairKey(a, b))
            edgeWeights.append(weight)
        }
    }

    public mutating func addEdge(_ u: String, _ v: String, weight: Int) {
        addEdge(u, v, weight: Double(weight))
    }

    /// Edges in the order their pair was first added.
    public var edges: [GraphEdge] {
        var out: [GraphEdge] = []
        out.reserveCapacity(edgeEnds.count)
        for (i, e) in edgeEnds.enumerated() {
            out.append(GraphEdge(source: nodes[e.a], target: nodes[e.b], weight: edgeWeights[i]))
        }
        return out
    }

    /// Each edge's endpoints (as positions in ``nodes``) and weight, in ``edges``' order,
    /// without building an edge a call (``edges`` copies two ids an edge).
    func forEachEdge(_ body: (_ a: Int, _ b: Int, _ weight: Double) -> Void) {
        for i in edgeEnds.indices { body(edgeEnds[i].a, edgeEnds[i].b, edgeWeights[i]) }
    }

    /// The summed weight of {u, v}, or nil when there is no such edge.
    public func weight(_ u: String, _ v: String) -> Double? {
        guard let a = table.position[u], let b = table.position[v], a != b,
              let slot = edgeSlot[PairKey(min(a, b), max(a, b))] else { return nil }
        return edgeWeights[slot]
    }

    /// Neighbours of `id`, sorted; empty for an unknown id.
    public func neighbors(of id: String) -> [String] {
        guard let p = table.position[id] else { return [] }
        var out: [String] = []
        for e in edgeEnds {
            if e.a == p { out.append(nodes[e.b]) } else if e.b == p { out.append(nodes[e.a]) }
        }
        return out.sorted(by: utf8Less)
    }

    private mutating func index(for id: String) -> Int { table.index(for: id) }

    /// Node ids in insertion order.
    public var nodes: [String] { table.ids }

    /// Compressed adjacency over the nodes in sorted order, each node's neighbours sorted.
    func indexed() -> IndexedGraph {
        let n = nodes.count
        let order = (0..<n).sorted { utf8Less(nodes[$0], nodes[$1]) }
        var rank = [Int](repeating: 0, count: n)
        for (r, old) in order.enumerated() { rank[old] = r }
        let m = edgeEnds.count

        // Counting sort of the 2m half-edges by neighbour, then a stable pass by owner:
        // every adjacency slice comes out sorted by neighbour index, in O(n + m).
        var byNbrStart = [Int](repeating: 0, count: n + 1)
        var offsets = [Int](repeating: 0, count: n + 1)
        for e in edgeEnds {
            let a = rank[e.a], b = rank[e.b]
            byNbrStart[b + 1] += 1
            byNbrStart[a + 1] += 1
            offsets[a + 1] += 1
            offsets[b + 1] += 1
        }
        for i in 0..<n {
            byNbrStart[i + 1] += byNbrStart[i]
            offsets[i + 1] += offsets[i]
        }
        var halfOwner = [Int32](repeating: 0, count: 2 * m)
        var halfNbr = [Int32](repeating: 0, count: 2 * m)
        var halfW = [Double](repeating: 0, count: 2 * m)
        var fill = byNbrStart
        for (i, e) in edgeEnds.enumerated() {
            let a = rank[e.a], b = rank[e.b], w = edgeWeights[i]
            var s = fill[b]; fill[b] += 1
            halfOwner[s] = Int32(a); halfNbr[s] = Int32(b); halfW[s] = w
            s = fill[a]; fill[a] += 1
            halfOwner[s] = Int32(b); halfNbr[s] = Int32(a); halfW[s] = w
        }
        var adj = [Int32](repeating: 0, count: 2 * m)
        var weights = [Double](repeating: 0, count: 2 * m)
        fill = offsets
        for s in 0..<(2 * m) {
            let o = Int(halfOwner[s])
            let t = fill[o]; fill[o] += 1
            adj[t] = halfNbr[s]
            weights[t] = halfW[s]
        }
        return IndexedGraph(ids: order.map { nodes[$0] }, offsets: offsets, adj: adj,
                            weights: weights, edgeCount: m)
    }
}

/// One directed tie of `DirectedTies` (source → target), weight summed over every time it
/// was added: the same shape as an undirected `GraphEdge`.
public typealias DirectedTie = GraphEdge

/// Directed ties (e.g. review: reviewer → reviewee; document: adopter → sharer).
/// Same conventions as `WeightedGraph`: insertion-ordered nodes, self-loops ignored,
/// a repeated (source, target) sums into one tie; (a → b) and (b → a) are two ties.
public struct DirectedTies: Sendable {
    private var table = NodeTable()
    private var tieSlot: [PairKey: Int] = [:]
    private var tieEnds: [PairKey] = []
    private var tieWeights: [Double] = []

    public init() {}

    public init(nodes: [String] = [], ties: [DirectedTie]) {
        for id in nodes { addNode(id) }
        for t in ties { addTie(from: t.source, to: t.target, weight: t.weight) }
    }

    public var nodeCount: Int { nodes.count }
    public var tieCount: Int { tieEnds.count }
    public var sortedNodes: [String] { nodes.sorted(by: utf8Less) }

    public func contains(_ id: String) -> Bool { table.position[id] != nil }

    public mutating func addNode(_ id: String) {
        _ = index(for: id)
    }

    public mutating func addTie(from source: String, to target: String, weight: Double = 1) {
        let a = index(for: source)
        let b = index(for: target)
        guard a != b else { return }
        let key = PairKey(a, b)
        if let slot = tieSlot[key] {
            tieWeights[slot] += weight
        } else {
            tieSlot[key] = tieEnds.count
            tieEnds.append(key)
            tieWeights.append(weight)
        }
    }

    public mutating func addTie(from source: String, to target: String, weight: Int) {
        addTie(from: source, to: target, weight: Double(weight))
    }

    /// Ties in the order they were first added.
    public var ties: [DirectedTie] {
        var out: [DirectedTie] = []
        out.reserveCapacity(tieEnds.count)
        for (i, e) in tieEnds.enumerated() {
            out.append(DirectedTie(source: nodes[e.a], target: nodes[e.b], weight: tieWeights[i]))
        }
        return out
    }

    public func weight(from source: String, to target: String) -> Double? {
        guard let a = table.position[source], let b = table.position[target],
              let slot = tieSlot[PairKey(a, b)] else { return nil }
        return tieWeights[slot]
    }

    /// The undirected graph with the same nodes, weight of {a, b} = w(a → b) + w(b → a).
    public func undirected() -> WeightedGraph {
        var g = WeightedGraph()
        for id in nodes { g.addNode(id) }
        for (i, e) in tieEnds.enumerated() {
            g.addEdge(nodes[e.a], nodes[e.b], weight: tieWeights[i])
        }
        return g
    }

    /// (unordered pairs with a tie either way, of which with ties both ways)
    func pairCounts() -> (pairs: Int, mutual: Int) {
        var pairs = 0
        var mutual = 0
        for e in tieEnds {
            if tieSlot[PairKey(e.b, e.a)] != nil {
                // Count a mutual pair once, from its lower-index end.
                if e.a < e.b { pairs += 1; mutual += 1 }
            } else {
                pairs += 1
            }
        }
        return (pairs, mutual)
    }

    private mutating func index(for id: String) -> Int { table.index(for: id) }

    /// Node ids in insertion order.
    public var nodes: [String] { table.ids }
}

// MARK: - Internals

/// Node ids in insertion order, and each id's position: shared by both kinds of graph.
struct NodeTable: Sendable {
    private(set) var ids: [String] = []
    private(set) var position: [String: Int] = [:]

    mutating func index(for id: String) -> Int {
        if let p = position[id] { return p }
        let p = ids.count
        ids.append(id)
        position[id] = p
        return p
    }
}

struct PairKey: Hashable, Sendable {
    let a: Int
    let b: Int
    init(_ a: Int, _ b: Int) { self.a = a; self.b = b }
}

@inline(__always)
func utf8Less(_ x: String, _ y: String) -> Bool {
    x.utf8.lexicographicallyPrecedes(y.utf8)
}

/// CSR adjacency: node i (sorted order) has neighbours adj[offsets[i] ..< offsets[i+1]],
/// ascending, with the edge weights alongside.
struct IndexedGraph: Sendable {
    let ids: [String]
    let offsets: [Int]
    let adj: [Int32]
    let weights: [Double]
    let edgeCount: Int

    var count: Int { ids.count }

    @inline(__always)
    func degree(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }

    /// Connected components as sorted index lists, by size descending then first id.
    func components() -> [[Int32]] {
        let n = count
        var seen = [Bool](repeating: false, count: n)
        var comps: [[Int32]] = []
        var queue: [Int32] = []
        queue.reserveCapacity(n)
        for s in 0..<n where !seen[s] {
            seen[s] = true
            queue.removeAll(keepingCapacity: true)
            queue.append(Int32(s))
            var head = 0
            while head < queue.count {
                let v = Int(queue[head]); head += 1
                for e in offsets[v]..<offsets[v + 1] {
                    let w = Int(adj[e])
                    if !seen[w] { seen[w] = true; queue.append(Int32(w)) }
                }
            }
            comps.append(queue.sorted())
        }
        // Discovered in order of their smallest index, so a stable sort by size suffices.
        return stableSorted(comps) { $0.count > $1.count }
    }
}

/// Stable sort (Swift's `sort` is not documented as stable).
func stableSorted<T>(_ a: [T], by less: (T, T) -> Bool) -> [T] {
    let indexed = Array(a.enumerated())
    return indexed.sorted { x, y in
        if less(x.element, y.element) { return true }
        if less(y.element, x.element) { return false }
        return x.offset < y.offset
    }.map(\.element)
}
