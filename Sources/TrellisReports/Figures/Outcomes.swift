/// Judgement counts of one review area.
public struct AreaOutcomes: Sendable, Hashable {
    public var area: String
    /// Per judgement, in ``OutcomeFigures/judgements`` order.
    public var counts: [Int]
    /// Actions agreed in this area.
    public var actions: Int

    public var total: Int { counts.reduce(0, +) }
    public func count(_ judgement: String) -> Int {
        OutcomeFigures.judgements.firstIndex(of: judgement).map { counts[$0] } ?? 0
    }
}

/// Outcomes of the reviews of one network (or of all chosen networks) completed in the period.
public struct NetworkOutcomes: Sendable, Hashable {
    /// nil for the total over the chosen networks.
    public var network: NetworkRow?
    public var reviewsCompleted: Int
    public var actions: Int
    /// Areas with at least one outcome, in DOMAIN.md's order of areas.
    public var areas: [AreaOutcomes]
}

/// `trellis report outcomes`: over the period, the count of each judgement per area among
/// completed reviews, and the actions agreed.
public struct OutcomesReport: Sendable, Hashable {
    public var period: Period
    public var networks: [NetworkOutcomes]
    public var total: NetworkOutcomes
}

public enum OutcomeFigures {
    public static let judgements = ["strength", "secure", "developing", "concern"]
    public static let areas = ["governance", "finance", "school_improvement", "conflicts_of_interest", "growth",
                               "recruitment", "curriculum", "safeguarding", "other"]

    /// - Parameters:
    ///   - reviews: reviews (any network, any state); only those of the networks completed in
    ///     the period count.
    ///   - outcomes: outcomes of those reviews; outcomes of other reviews are ignored.
    public static func compute(networks: [NetworkRow], period: Period, reviews: [ReviewRow], outcomes: [OutcomeRow]) -> OutcomesReport {
        let chosen = Set(networks.map(\.id))
        var networkOf: [String: String] = [:]
        for r in reviews where chosen.contains(r.network) {
            if let done = r.completedOn, period.contains(done) { networkOf[r.id] = r.network }
        }
        var completed: [String: Int] = [:]
        for n in networkOf.values { completed[n, default: 0] += 1 }
        var byNetwork: [String: [OutcomeRow]] = [:]
        for o in outcomes { if let n = networkOf[o.review] { byNetwork[n, default: []].append(o) } }
        let per = networks.map { n in
            tally(network: n, reviews: completed[n.id] ?? 0, outcomes: byNetwork[n.id] ?? [])
        }
        let total = tally(network: nil, reviews: networkOf.count, outcomes: networks.flatMap { byNetwork[$0.id] ?? [] })
        return OutcomesReport(period: period, networks: per, total: total)
    }

    static func tally(network: NetworkRow?, reviews: Int, outcomes: [OutcomeRow]) -> NetworkOutcomes {
        var byArea: [String: AreaOutcomes] = [:]
        for o in outcomes {
            var a = byArea[o.area] ?? AreaOutcomes(area: o.area, counts: Array(repeating: 0, count: judgements.count), actions: 0)
            if let j = judgements.firstIndex(of: o.judgement) { a.counts[j] += 1 }
            a.actions += o.actions
            byArea[o.area] = a
        }
        let order = areas + byArea.keys.filter { !areas.contains($0) }.sorted()
        let list = order.compactMap { byArea[$0] }
        return NetworkOutcomes(network: network, reviewsCompleted: reviews, actions: list.reduce(0) { $0 + $1.actions }, areas: list)
    }
}
