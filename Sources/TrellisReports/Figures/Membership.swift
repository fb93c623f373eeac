import TrellisLedger
import TrellisCore

/// Who was a member of which network on which day.
///
/// DOMAIN.md: an organisation is a member of N on day d when its latest `MemberJoined`/
/// `MemberLeft` for N with day ≤ d is a join; two on the same day are ordered by seq. So
/// what counts for a day is the state at the *end* of that day: joining and leaving on the
/// same day leaves the organisation a non-member that day.
///
/// ## Topics
/// - ``isMember(_:of:on:)``
/// - ``members(of:on:)``
/// - ``members(of:during:)``
/// - ``memberDays(_:of:during:)``
public struct MembershipTimeline: Sendable {
    /// The state at the end of `day`, for each day with at least one event.
    struct DayState: Sendable {
        let day: String
        let member: Bool
    }

    /// network → organisation → end-of-day states, ascending by day.
    private var states: [String: [String: [DayState]]] = [:]
    /// The day of the latest join or leave.
    public private(set) var latestDay: String?

    public init(events: [MembershipEventRow]) {
        latestDay = events.map(\.day).max()
        var grouped: [String: [String: [MembershipEventRow]]] = [:]
        for e in events { grouped[e.network, default: [:]][e.org, default: []].append(e) }
        for (network, byOrg) in grouped {
            var out: [String: [DayState]] = [:]
            for (org, list) in byOrg {
                let sorted = list.sorted { ($0.day, $0.seq) < ($1.day, $1.seq) }
                var days: [DayState] = []
                for e in sorted {
                    if let last = days.last, last.day == e.day { days.removeLast() }
                    days.append(DayState(day: e.day, member: e.joined))
                }
                out[org] = days
            }
            states[network] = out
        }
    }

    /// Every organisation that ever joined or left `network`, sorted.
    public func organisations(of network: String) -> [String] {
        (states[network] ?? [:]).keys.sorted()
    }

    public func isMember(_ org: String, of network: String, on day: String) -> Bool {
        guard let days = states[network]?[org] else { return false }
        return Self.state(days, on: day)
    }

    /// One organisation's membership of one network, for asking about many days.
    public struct Member: Sendable {
        fileprivate let days: [DayState]
        public func isMember(on day: String) -> Bool { MembershipTimeline.state(days, on: day) }
    }

    public func member(_ org: String, of network: String) -> Member {
        Member(days: states[network]?[org] ?? [])
    }

    /// Members of `network` on `day`, sorted.
    public func members(of network: String, on day: String) -> [String] {
        guard let byOrg = states[network] else { return [] }
        return byOrg.filter { Self.state($0.value, on: day) }.map(\.key).sorted()
    }

    /// Organisations that were members of `network` on at least one day of `period`, sorted.
    public func members(of network: String, during period: Period) -> [String] {
        guard let byOrg = states[network], !period.isEmpty else { return [] }
        let from = period.fromText, to = period.toText
        return byOrg.filter { _, days in
            if Self.state(days, on: from) { return true }
            // Or a day inside the period that ends with the organisation a member.
            return days.contains { $0.day > from && $0.day < to && $0.member }
        }.map(\.key).sorted()
    }

    /// How many days of `period` the organisation was a member of `network`.
    public func memberDays(_ org: String, of network: String, during period: Period) -> Int {
        guard let days = states[network]?[org], !period.isEmpty else { return 0 }
        var member = Self.state(days, on: period.fromText)
        var since = period.from
        var total = 0
        for s in days {
            guard let d = Timestamp.parseDate(s.day), d > period.from, d < period.to else { continue }
            if s.member != member {
                if member { total += d - since }
                member = s.member
                since = d
            }
        }
        if member { total += period.to - since }
        return total
    }

    /// The state at the end of the latest day ≤ `day` (binary search); not a member before
    /// the first event.
    fileprivate static func state(_ days: [DayState], on day: String) -> Bool {
        var lo = 0, hi = days.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if days[mid].day <= day { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && days[lo - 1].member
    }
}
