import TrellisLedger
import TrellisCore

/// Review coverage of one network on one day.
public struct NetworkCoverage: Sendable, Hashable {
    public var network: NetworkRow
    /// Members of the network on the day, sorted.
    public var members: [String]
    /// Members that were the reviewee of a review of the network completed in the window.
    public var reviewed: [String]
    /// Members that were a reviewer of such a review.
    public var reviewers: [String]
    /// reviewed ÷ members; nil when the network had no member.
    public var coverage: Double?
    /// reviewers ÷ members; nil when the network had no member.
    public var reviewerCoverage: Double?
    /// Reviews committed by the day, due before it, neither completed nor withdrawn by it;
    /// by due date, then id.
    public var overdue: [ReviewRow]
    /// Reviews of the network completed in the window, by id.
    public var completedInWindow: [ReviewRow]
    /// Of those, the ones whose outcome was shared by the day.
    public var sharedInWindow: Int
    /// sharedInWindow ÷ completedInWindow; nil when none was completed.
    public var outcomeSharingRate: Double?

    /// Members not reviewed in the window, sorted.
    public var notReviewed: [String] { let r = Set(reviewed); return members.filter { !r.contains($0) } }
}

/// `trellis report coverage`: review coverage, reviewer coverage, overdue commitments and
/// outcome sharing on one day, with a window of W days `(d − W, d]`.
public struct CoverageReport: Sendable, Hashable {
    /// The day d.
    public var on: Int
    public var windowDays: Int
    public var networks: [NetworkCoverage]

    public var onText: String { Timestamp.dateText(days: on) }
    /// The first day inside the window, d − W + 1.
    public var windowStartText: String { Timestamp.dateText(days: on - windowDays + 1) }
}

/// The review figures of DOMAIN.md, as a pure function of rows.
public enum CoverageFigures {
    public static let defaultWindowDays = 365

    /// "By d" means on or before day d (DOMAIN.md).
    public static func compute(networks: [NetworkRow], on day: Int, windowDays: Int,
                               membership: MembershipTimeline, reviews: [ReviewRow]) -> CoverageReport {
        let d = Timestamp.dateText(days: day)
        let windowOpen = Timestamp.dateText(days: day - windowDays)   // exclusive
        var byNetwork: [String: [ReviewRow]] = [:]
        for r in reviews { byNetwork[r.network, default: []].append(r) }
        let result = networks.map { n -> NetworkCoverage in
            let members = membership.members(of: n.id, on: d)
            let memberSet = Set(members)
            let own = (byNetwork[n.id] ?? []).sorted { $0.id < $1.id }
            let completed = own.filter { r in r.completedOn.map { $0 > windowOpen && $0 <= d } ?? false }
            var reviewed = Set<String>()
            var reviewers = Set<String>()
            for r in completed {
                if memberSet.contains(r.reviewee) { reviewed.insert(r.reviewee) }
                for o in r.reviewers where memberSet.contains(o) { reviewers.insert(o) }
            }
            let overdue = own.filter { r in
                r.committedOn <= d && r.dueBy < d
                    && !(r.completedOn.map { $0 <= d } ?? false)
                    && !(r.withdrawnOn.map { $0 <= d } ?? false)
            }.sorted { ($0.dueBy, $0.id) < ($1.dueBy, $1.id) }
            let shared = completed.filter { r in r.firstSharedOn.map { $0 <= d } ?? false }.count
            return NetworkCoverage(network: n, members: members, reviewed: reviewed.sorted(), reviewers: reviewers.sorted(),
                                   coverage: Rate.of(reviewed.count, members.count),
                                   reviewerCoverage: Rate.of(reviewers.count, members.count),
                                   overdue: overdue, completedInWindow: completed, sharedInWindow: shared,
                                   outcomeSharingRate: Rate.of(shared, completed.count))
        }
        return CoverageReport(on: day, windowDays: windowDays, networks: result)
    }
}
