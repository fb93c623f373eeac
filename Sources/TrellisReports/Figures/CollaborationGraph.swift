import TrellisGraph

/// One organisation in the collaboration graph, with its network figures.
public struct GraphNode: Sendable, Hashable {
    public var id: String
    public var name: String
    public var region: String?
    /// The chosen networks it was a member of during the period, sorted.
    public var networks: [String]
    /// Its group for the E-I index across networks: the chosen network it was a member of
    /// on the most days of the period (ties: the smallest network id).
    public var homeNetwork: String?
    public var degree: Int
    public var weightedDegree: Double
    /// Unweighted, normalised as networkx does for undirected graphs.
    public var betweenness: Double
    /// Local clustering coefficient, unweighted.
    public var clustering: Double
    /// Index of its connected component (0 = the largest).
    public var component: Int

    /// `weightedDegree` as the integer it is (a sum of integer tie weights): the type every
    /// export declares for `weighted_degree`.
    public var weightedDegreeCount: Int {
        weightedDegree.isFinite && abs(weightedDegree) < 9e15 ? Int(weightedDegree.rounded()) : 0
    }
}

/// One undirected edge {source, target} (source < target): the weight of each kind summed
/// over both directions; `weight` is the sum over the chosen kinds (a kind not chosen
/// counts 0).
public struct GraphTie: Sendable, Hashable {
    public var source: String
    public var target: String
    public var weight: Int
    public var coAttendance: Int
    public var document: Int
    public var review: Int
}

/// The collaboration graph of the chosen networks over one period (DOMAIN.md).
public struct CollaborationGraph: Sendable {
    /// The slice label (`2025/26 autumn`), nil for the whole period.
    public var label: String?
    public var period: Period
    public var kinds: [TieKind]
    /// By id.
    public var nodes: [GraphNode]
    /// By (source, target).
    public var edges: [GraphTie]
    /// 2E / (N(N−1)); nil with fewer than two nodes.
    public var density: Double?
    /// Connected components, isolates included.
    public var components: Int
    /// Members with no tie, sorted.
    public var isolates: [String]
    /// Of the directed review ties among the nodes: pairs with ties both ways ÷ pairs with
    /// any tie; nil when there is no review tie (whatever kinds are chosen).
    public var reciprocity: Double?
    /// Krackhardt & Stern's E-I index, edges counted once, groups = home networks.
    public var eiIndexNetwork: Double?
    public var eiIndexNetworkWeighted: Double?
    /// The same with groups = the organisations' regions (organisations without one left out).
    public var eiIndexRegion: Double?
    public var eiIndexRegionWeighted: Double?

    /// The graph as TrellisGraph sees it (for layout), nodes sorted.
    public var weightedGraph: WeightedGraph {
        WeightedGraph(nodes: nodes.map(\.id), edges: edges.map { GraphEdge(source: $0.source, target: $0.target, weight: Double($0.weight)) })
    }
}

/// `trellis report graph`: the graph over the period, and one per slice when asked.
public struct GraphReport: Sendable {
    public var period: Period
    public var kinds: [TieKind]
    public var slicing: Period.Slicing?
    /// The whole period.
    public var whole: CollaborationGraph
    /// One graph per slice (empty when not sliced).
    public var slices: [CollaborationGraph]
    /// The chosen networks (ids, sorted): what the exports name as `scope_networks`.
    public var networks: [String] = []
}

/// The graph figures of DOMAIN.md, from tie counts, computed with TrellisGraph (checked
/// against networkx).
public enum GraphFigures {

    /// - Parameters:
    ///   - tally: tie counts among the nodes (its `nodes` are the graph's nodes).
    ///   - networksOf: node → chosen networks it was a member of during the period.
    ///   - homeNetwork: node → its group for the E-I index across networks.
    public static func compute(label: String? = nil, period: Period, kinds: [TieKind], tally: TieTally,
                               organisations: [String: OrganisationRow], networksOf: [String: [String]],
                               homeNetwork: [String: String]) -> CollaborationGraph {
        let chosen = Set(kinds)
        var edges: [GraphTie] = []
        for p in tally.pairs() {
            let co = chosen.contains(.coAttendance) ? p.co : 0
            let doc = chosen.contains(.document) ? p.document : 0
            let rev = chosen.contains(.review) ? p.review : 0
            let w = co + doc + rev
            guard w > 0 else { continue }
            edges.append(GraphTie(source: tally.nodes[p.i], target: tally.nodes[p.j], weight: w, coAttendance: co, document: doc, review: rev))
        }
        var g = WeightedGraph()
        for n in tally.nodes { g.addNode(n) }
        for e in edges { g.addEdge(e.source, e.target, weight: e.weight) }
        let metrics = GraphMetrics.nodeMetrics(g)
        let nodes = metrics.map { m in
            GraphNode(id: m.id, name: organisations[m.id]?.name ?? m.id, region: organisations[m.id]?.region,
                      networks: networksOf[m.id] ?? [], homeNetwork: homeNetwork[m.id],
                      degree: m.degree, weightedDegree: m.weightedDegree, betweenness: m.betweenness,
                      clustering: m.clustering, component: m.component)
        }
        var review = DirectedTies()
        for t in tally.directedReviewTies() { review.addTie(from: t.from, to: t.to, weight: t.weight) }
        var region: [String: String] = [:]
        for n in nodes { if let r = n.region { region[n.id] = r } }
        let acrossNetworks = GraphMetrics.eiIndexes(g, group: homeNetwork), acrossRegions = GraphMetrics.eiIndexes(g, group: region)
        return CollaborationGraph(
            label: label, period: period, kinds: kinds.sorted(), nodes: nodes, edges: edges,
            density: GraphMetrics.density(g),
            components: (metrics.map(\.component).max() ?? -1) + 1,
            isolates: nodes.filter { $0.degree == 0 }.map(\.id),
            reciprocity: GraphMetrics.reciprocity(review),
            eiIndexNetwork: acrossNetworks.unweighted, eiIndexNetworkWeighted: acrossNetworks.weighted,
            eiIndexRegion: acrossRegions.unweighted, eiIndexRegionWeighted: acrossRegions.weighted)
    }

    /// The graph's nodes: organisations that were a member of any chosen network on any day
    /// of the period, with the networks they were in and their home network (most member
    /// days in the period; ties to the smallest id).
    public static func members(networks: [String], period: Period, membership: MembershipTimeline)
        -> (nodes: [String], networksOf: [String: [String]], homeNetwork: [String: String]) {
        var networksOf: [String: [String]] = [:]
        for n in networks.sorted() {
            for o in membership.members(of: n, during: period) { networksOf[o, default: []].append(n) }
        }
        var home: [String: String] = [:]
        for (o, ns) in networksOf {
            if ns.count == 1 { home[o] = ns[0]; continue }
            var best: (days: Int, id: String)?
            for n in ns {
                let days = membership.memberDays(o, of: n, during: period)
                if best == nil || days > best!.days { best = (days, n) }
            }
            home[o] = best?.id
        }
        return (networksOf.keys.sorted(), networksOf, home)
    }
}
