import GRDB
import TrellisLedger

/// Every report, from a database holding the read models (the ledger after catch-up, or a
/// time-travel ``TrellisProjections/Snapshot``): loads the rows (``ReadModel``), then
/// computes the figures (`Figures/`). Call inside one read transaction:
///
/// ```swift
/// let report = try database.read { db in
///     let scope = try ReportScope.resolve(query, db)
///     return try Reports.participation(db, scope)
/// }
/// ```
///
/// ## Topics
/// - ``participation(_:_:)``
/// - ``coverage(_:_:on:windowDays:)``
/// - ``graph(_:_:kinds:slicing:)``
/// - ``outcomes(_:_:)``
/// - ``documents(_:_:)``
/// - ``summary(_:_:on:windowDays:kinds:provenance:)``
public enum Reports {

    public static func participation(_ db: Database, _ scope: ReportScope) throws -> ParticipationReport {
        var r = try ParticipationFigures.compute(RowCache(db, scope))
        let shown = Set(scope.organisations)
        if !shown.isEmpty {
            for i in r.networks.indices { r.networks[i].members.removeAll { !shown.contains($0.org) } }
        }
        return r
    }

    /// - Parameter on: the day d (default: ``ReportScope/defaultDay(latestActivity:)``).
    public static func coverage(_ db: Database, _ scope: ReportScope, on: Int? = nil,
                                windowDays: Int = CoverageFigures.defaultWindowDays) throws -> CoverageReport {
        let rows = RowCache(db, scope)
        return CoverageFigures.compute(networks: scope.networks, on: try on ?? rows.defaultDay(), windowDays: windowDays,
                                       membership: try rows.membership(), reviews: try rows.reviews())
    }

    public static func graph(_ db: Database, _ scope: ReportScope, kinds: [TieKind] = TieKind.allCases,
                             slicing: Period.Slicing? = nil) throws -> GraphReport {
        let rows = RowCache(db, scope)
        let whole = try graph(rows, label: nil, period: scope.period, kinds: kinds)
        let slices = try slicing.map { s in
            try scope.period.slices(by: s).map { try graph(rows, label: $0.label, period: $0.period, kinds: kinds) }
        } ?? []
        return GraphReport(period: scope.period, kinds: kinds.sorted(), slicing: slicing, whole: whole, slices: slices,
                           networks: scope.networkIDs.sorted())
    }

    public static func outcomes(_ db: Database, _ scope: ReportScope) throws -> OutcomesReport {
        let rows = RowCache(db, scope)
        return OutcomeFigures.compute(networks: scope.networks, period: scope.period, reviews: try rows.reviews(),
                                      outcomes: try rows.outcomes())
    }

    public static func documents(_ db: Database, _ scope: ReportScope) throws -> DocumentsReport {
        let rows = RowCache(db, scope)
        var r = DocumentFigures.compute(networks: scope.networks, period: scope.period, membership: try rows.membership(),
                                        documents: try rows.documents(), adoptions: try rows.adoptions(),
                                        organisations: try rows.organisations())
        let shown = Set(scope.organisations)
        if !shown.isEmpty {
            for i in r.networks.indices { r.networks[i].organisations.removeAll { !shown.contains($0.org) } }
        }
        return r
    }

    /// Every section of the board summary, sharing one load of the rows.
    public static func summary(_ db: Database, _ scope: ReportScope, on: Int? = nil,
                               windowDays: Int = CoverageFigures.defaultWindowDays,
                               kinds: [TieKind] = TieKind.allCases, provenance: Provenance) throws -> Summary {
        let rows = RowCache(db, scope)
        let membership = try rows.membership()
        let reviews = try rows.reviews()
        return Summary(
            scope: scope,
            participation: try ParticipationFigures.compute(rows),
            coverage: CoverageFigures.compute(networks: scope.networks, on: try on ?? rows.defaultDay(), windowDays: windowDays,
                                              membership: membership, reviews: reviews),
            graph: try graph(rows, label: nil, period: scope.period, kinds: kinds),
            outcomes: OutcomeFigures.compute(networks: scope.networks, period: scope.period, reviews: reviews,
                                             outcomes: try rows.outcomes()),
            documents: DocumentFigures.compute(networks: scope.networks, period: scope.period, membership: membership,
                                               documents: try rows.documents(), adoptions: try rows.adoptions(),
                                               organisations: try rows.organisations()),
            provenance: provenance,
            organisationNames: try rows.organisations().mapValues(\.name))
    }

    static func graph(_ rows: RowCache, label: String?, period: Period, kinds: [TieKind]) throws -> CollaborationGraph {
        let ids = rows.scope.networkIDs
        let members = GraphFigures.members(networks: ids, period: period, membership: try rows.membership())
        let needsMeetings = kinds.contains(.coAttendance)
        let meetings = needsMeetings ? try rows.meetings().filter { period.contains($0.day) } : []
        let tally = TieTally.count(nodes: members.nodes, period: period, networks: Set(ids), meetings: meetings,
                                   attendance: needsMeetings ? try rows.attendance() : [:],
                                   adoptions: try rows.adoptions(), reviews: try rows.reviews())
        return GraphFigures.compute(label: label, period: period, kinds: kinds, tally: tally,
                                    organisations: try rows.organisations(), networksOf: members.networksOf,
                                    homeNetwork: members.homeNetwork)
    }
}

extension ParticipationFigures {
    static func compute(_ rows: RowCache) throws -> ParticipationReport {
        compute(networks: rows.scope.networks, period: rows.scope.period, membership: try rows.membership(),
                meetings: try rows.meetings(), attendance: try rows.attendance(), organisations: try rows.organisations())
    }
}

/// The rows of one scope, each loaded once, on first use, inside the caller's transaction.
final class RowCache {
    let db: Database
    let scope: ReportScope
    private var cachedMembership: MembershipTimeline?
    private var cachedOrganisations: [String: OrganisationRow]?
    private var cachedMeetings: [MeetingRow]?
    private var cachedAttendance: [String: [String: AttendanceStatus]]?
    private var cachedReviews: [ReviewRow]?
    private var cachedDocuments: [DocumentRow]?
    private var cachedAdoptions: [AdoptionRow]?

    init(_ db: Database, _ scope: ReportScope) {
        self.db = db
        self.scope = scope
    }

    /// The default day of the review figures (``ReportScope/defaultDay(latestActivity:)``).
    func defaultDay() throws -> Int {
        let latest = Activity.latestDay(latestMeeting: try ReadModel.latestMeetingDay(db, networks: scope.networkIDs),
                                        membership: try membership(), reviews: try reviews())
        return scope.defaultDay(latestActivity: latest)
    }

    func membership() throws -> MembershipTimeline {
        if let m = cachedMembership { return m }
        let m = MembershipTimeline(events: try ReadModel.membershipEvents(db, networks: scope.networkIDs))
        cachedMembership = m
        return m
    }

    func organisations() throws -> [String: OrganisationRow] {
        if let o = cachedOrganisations { return o }
        let o = try ReadModel.organisations(db)
        cachedOrganisations = o
        return o
    }

    /// Meetings of the chosen networks in the scope's period.
    func meetings() throws -> [MeetingRow] {
        if let m = cachedMeetings { return m }
        let m = try ReadModel.meetings(db, networks: scope.networkIDs, period: scope.period)
        cachedMeetings = m
        return m
    }

    func attendance() throws -> [String: [String: AttendanceStatus]] {
        if let a = cachedAttendance { return a }
        let a = try ReadModel.attendance(db, meetings: try meetings().map(\.id))
        cachedAttendance = a
        return a
    }

    func reviews() throws -> [ReviewRow] {
        if let r = cachedReviews { return r }
        let r = try ReadModel.reviews(db, networks: scope.networkIDs)
        cachedReviews = r
        return r
    }

    /// Outcomes of the reviews completed in the period (the figures filter again).
    func outcomes() throws -> [OutcomeRow] {
        let ids = Set(try reviews().filter { r in r.completedOn.map(scope.period.contains) ?? false }.map(\.id))
        return ids.isEmpty ? [] : try ReadModel.outcomes(db, reviews: ids)
    }

    func documents() throws -> [DocumentRow] {
        if let d = cachedDocuments { return d }
        let d = try ReadModel.documents(db, networks: scope.networkIDs, period: scope.period)
        cachedDocuments = d
        return d
    }

    func adoptions() throws -> [AdoptionRow] {
        if let a = cachedAdoptions { return a }
        let a = try ReadModel.adoptions(db, period: scope.period)
        cachedAdoptions = a
        return a
    }
}

/// Everything the board summary shows.
public struct Summary: Sendable {
    public var scope: ReportScope
    public var participation: ParticipationReport
    public var coverage: CoverageReport
    public var graph: CollaborationGraph
    public var outcomes: OutcomesReport
    public var documents: DocumentsReport
    public var provenance: Provenance
    /// Every organisation's name by id, so that a person reads names (an overdue reviewer
    /// outside the period's members included), never ids.
    public var organisationNames: [String: String] = [:]

    /// The organisation's name, or its id when the ledger has none.
    public func name(of org: String) -> String { organisationNames[org] ?? org }
}
