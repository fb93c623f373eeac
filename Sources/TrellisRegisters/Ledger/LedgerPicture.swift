import TrellisCore
import GRDB
import TrellisLedger
import TrellisProjections
import TrellisReports

/// What a spreadsheet import needs to know about the ledger, read once from the read models
/// (caught up first; read through TrellisProjections' ``ReadSide`` and TrellisReports'
/// ``ReadModel``, this module runs no SQL): organisations, memberships, the network's
/// meetings, people and the attendance records that count now; and from the store, every
/// id ever used.
///
/// ## Topics
/// - ``load(ledger:network:)``
/// - ``Organisation``
/// - ``Meeting``
/// - ``CountingRecord``
public struct LedgerPicture: Sendable {
    public struct Organisation: Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: String
        public var schools: Int?
        public var region: String?
    }

    public struct Meeting: Sendable, Equatable {
        public var id: String
        public var day: String
        public var title: String
    }

    /// The attendance record that counts for (meeting, organisation, person): its status and seq.
    public struct CountingRecord: Sendable, Equatable {
        public var status: String
        public var seq: Int64
    }

    /// Attendance key: `person` is "" for a record about the organisation.
    public struct AttendanceKey: Sendable, Hashable {
        public var meeting: String
        public var org: String
        public var person: String
        public init(meeting: String, org: String, person: String) {
            self.meeting = meeting; self.org = org; self.person = person
        }
    }

    public var organisations: [String: Organisation] = [:]
    public var networkExists = false
    /// Every network id, for the message when `--network` names none of them.
    public var networkIDs: [String] = []
    public var networkName: String?
    /// Meetings of the network, by day then id.
    public var meetings: [Meeting] = []
    /// Every meeting id in the ledger (any network, retracted included), for choosing new ids.
    public var usedMeetingIDs: Set<String> = []
    /// Every organisation id ever used (retracted included), for choosing new ids.
    public var usedOrganisationIDs: Set<String> = []
    /// person id → organisation id.
    public var people: [String: String] = [:]
    public var membership: MembershipTimeline
    /// The network's membership events: org → the latest (seq, joined).
    public var latestMembership: [String: (seq: Int64, joined: Bool)] = [:]
    public var counting: [AttendanceKey: CountingRecord] = [:]

    /// Catches the read models up, then reads everything about `network` in one transaction.
    /// Throws ``UnknownNetwork`` when the ledger does not hold `network`.
    public static func load(ledger: Ledger, network: String) throws -> LedgerPicture {
        let engine = try ProjectionEngine(ledger: ledger)
        try engine.catchUp()
        var p = try engine.readSide.read { db in try read(db, network: network) }
        if !p.networkExists { throw UnknownNetwork(network: network, known: p.networkIDs) }
        // Ids are never reused, even after a retraction: the rule tables know them all.
        p.usedOrganisationIDs = try ledger.entityKeys(.organisation)
        p.usedMeetingIDs = try ledger.entityKeys(.meeting)
        return p
    }

    static func read(_ db: Database, network: String?) throws -> LedgerPicture {
        var latest: [String: (seq: Int64, joined: Bool)] = [:]
        let memberRows = try network.map { try ReadModel.membershipEventsInOrder(db, network: $0) } ?? []
        for r in memberRows { latest[r.org] = (r.seq, r.joined) }
        var p = LedgerPicture(membership: MembershipTimeline(events: memberRows))
        p.latestMembership = latest
        for r in try ReadModel.registerOrganisations(db) {
            p.organisations[r.id] = Organisation(id: r.id, name: r.name, kind: r.kind, schools: r.schools, region: r.region)
        }
        p.people = try ReadModel.personOrganisations(db)
        p.networkIDs = try ReadModel.networkIDs(db)
        guard let network else { return p }
        if let name = try ReadModel.networkName(db, id: network) {
            p.networkExists = true
            p.networkName = name
        }
        p.meetings = try ReadModel.meetingsByDay(db, network: network).map { Meeting(id: $0.id, day: $0.day, title: $0.title) }
        for r in try ReadModel.attendanceRecords(db, network: network) {
            p.counting[AttendanceKey(meeting: r.meeting, org: r.org, person: r.person)] = CountingRecord(status: r.status, seq: r.seq)
        }
        return p
    }

    /// Every network's members on `day` (for `trellis orgs`): org → sorted network ids.
    public static func memberships(ledger: Ledger, on day: String) throws -> (organisations: [Organisation], networks: [String: [String]], networkIDs: [String]) {
        let engine = try ProjectionEngine(ledger: ledger)
        try engine.catchUp()
        return try engine.readSide.read { db in
            let orgs = try ReadModel.registerOrganisations(db).map { Organisation(id: $0.id, name: $0.name, kind: $0.kind, schools: $0.schools, region: $0.region) }
            let networkIDs = try ReadModel.networkIDs(db)
            let timeline = MembershipTimeline(events: try ReadModel.membershipEventsInOrder(db, network: nil))
            var byOrg: [String: [String]] = [:]
            for n in networkIDs { for o in timeline.members(of: n, on: day) { byOrg[o, default: []].append(n) } }
            return (orgs, byOrg, networkIDs)
        }
    }
}
