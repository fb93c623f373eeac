import GRDB
import TrellisLedger
import TrellisCore

/// A ``ReportQuery`` resolved against a ledger's read models: the networks (checked to
/// exist) and the period (the default filled in).
///
/// Defaults, chosen for a network lead who asks "how are we doing this year?":
/// - networks: every network, by id;
/// - period: the academic year of the latest meeting of the chosen networks (or, with no
///   meeting yet, of their latest ``Activity``); with `--as-of T` that is the latest
///   meeting by T;
/// - the day of `report coverage`: the last day of the period, or the latest ``Activity``
///   of the chosen networks if that is earlier (never before the period's start).
///
/// Nothing here reads the clock, so the same ledger and options give the same report.
public struct ReportScope: Sendable {
    public var networks: [NetworkRow]
    public var period: Period
    /// The organisations to show (empty: all), each known to exist.
    public var organisations: [String] = []
    /// True when no period was given and the default was chosen.
    public var periodIsDefault: Bool

    public var networkIDs: [String] { networks.map(\.id) }

    /// The default day for `report coverage`, given the latest ``Activity``.
    public func defaultDay(latestActivity: Int?) -> Int {
        let last = period.to - 1
        return max(period.from, min(last, latestActivity ?? last))
    }

    public init(networks: [NetworkRow], period: Period, periodIsDefault: Bool = false) {
        self.networks = networks
        self.period = period
        self.periodIsDefault = periodIsDefault
    }

    /// - Parameter fallbackDay: when no period is given and nothing is recorded, the
    ///   academic year of this day is used (e.g. `--on`); without one, that is an error.
    /// - Throws: ``ReportError/unknownNetwork(_:known:)``,
    ///   ``ReportError/unknownOrganisation(_:similar:count:)``, ``ReportError/nothingRecorded``.
    public static func resolve(_ query: ReportQuery, _ db: Database, fallbackDay: Int? = nil) throws -> ReportScope {
        let all = try ReadModel.networks(db)
        var chosen: [NetworkRow] = []
        if query.networks.isEmpty {
            chosen = all
        } else {
            var seen = Set<String>()
            for id in query.networks where seen.insert(id).inserted {
                guard let n = all.first(where: { $0.id == id }) else {
                    throw ReportError.unknownNetwork(id, known: all.map(\.id))
                }
                chosen.append(n)
            }
            chosen.sort { $0.id < $1.id }
        }
        var organisations = Set<String>()
        if !query.organisations.isEmpty {
            let matcher = try organisationMatcher(db)
            for o in query.organisations { organisations.insert(try resolveOrganisation(o, matcher)) }
        }
        var scope = try resolvePeriod(query, db, networks: chosen, fallbackDay: fallbackDay)
        scope.organisations = organisations.sorted()
        return scope
    }

    /// Every organisation of the read models, by id and name.
    public static func organisationMatcher(_ db: Database) throws -> OrganisationMatcher {
        OrganisationMatcher(try ReadModel.organisations(db).values.map { OrganisationMatcher.Candidate(id: $0.id, name: $0.name) })
    }

    /// The id `text` (an id or a name) stands for.
    /// - Throws: ``ReportError/unknownOrganisation(_:similar:count:)``, ``ReportError/ambiguousOrganisation(_:candidates:)``.
    public static func resolveOrganisation(_ text: String, _ matcher: OrganisationMatcher) throws -> String {
        switch matcher.match(text) {
        case .found(let id): return id
        case .ambiguous(let candidates): throw ReportError.ambiguousOrganisation(text, candidates: candidates.map(\.description))
        case .unknown(let closest): throw ReportError.unknownOrganisation(text, similar: closest.map(\.description), count: matcher.count)
        }
    }

    static func resolvePeriod(_ query: ReportQuery, _ db: Database, networks chosen: [NetworkRow], fallbackDay: Int?) throws -> ReportScope {
        let ids = chosen.map(\.id)
        if let period = query.period {
            return ReportScope(networks: chosen, period: period, periodIsDefault: false)
        }
        var anchor = try ReadModel.latestMeetingDay(db, networks: ids).flatMap(Timestamp.parseDate)
        if anchor == nil {
            // No meeting yet: the latest activity, if any.
            anchor = Activity.latestDay(latestMeeting: nil,
                                        membership: MembershipTimeline(events: try ReadModel.membershipEvents(db, networks: ids)),
                                        reviews: try ReadModel.reviews(db, networks: ids)) ?? fallbackDay
        }
        guard let anchor else { throw ReportError.nothingRecorded }
        return ReportScope(networks: chosen, period: Period.academicYear(containing: anchor), periodIsDefault: true)
    }
}
