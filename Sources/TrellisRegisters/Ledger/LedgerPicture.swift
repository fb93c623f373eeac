import GRDB
import TrellisLedger
import TrellisProjections
import TrellisReports

/// What a spreadsheet import needs to know about the ledger, read once from the read models
/// (caught up first): organisations, memberships, the network's meetings, people and the
/// attendance records that count now. Every SQL statement of this module is here.
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
        let p = try ledger.database.read { db in try read(db, network: network) }
        if !p.networkExists { throw UnknownNetwork(network: network, known: p.networkIDs) }
        return p
    }

    static func read(_ db: Database, network: String?) throws -> LedgerPicture {
        var memberRows: [MembershipEventRow] = []
        var latest: [String: (seq: Int64, joined: Bool)] = [:]
        if let network {
            let rows = try Row.fetchCursor(db, sql: "SELECT org_id, day, seq, joined FROM membership_events WHERE network_id = ? ORDER BY seq", arguments: [network])
            while let r = try rows.next() {
                let org: String = r[0], seq: Int64 = r[2], joined = (r[3] as Int64) != 0
                memberRows.append(MembershipEventRow(network: network, org: org, day: r[1], seq: seq, joined: joined))
                latest[org] = (seq, joined)
            }
        }
        var p = LedgerPicture(membership: MembershipTimeline(events: memberRows))
        p.latestMembership = latest
        let orgs = try Row.fetchCursor(db, sql: "SELECT org_id, name, kind, schools, region FROM organisations")
        while let r = try orgs.next() {
            let o = Organisation(id: r[0], name: r[1], kind: r[2], schools: r[3], region: r[4])
            p.organisations[o.id] = o
        }
        // Ids are never reused, even after a retraction: the rule tables know them all.
        p.usedOrganisationIDs = Set(try String.fetchAll(db, sql: "SELECT key FROM rule_entities WHERE kind = 'organisation'"))
        p.usedMeetingIDs = Set(try String.fetchAll(db, sql: "SELECT key FROM rule_entities WHERE kind = 'meeting'"))
        let people = try Row.fetchCursor(db, sql: "SELECT person_id, org_id FROM people")
        while let r = try people.next() { p.people[r[0]] = r[1] }
        p.networkIDs = try String.fetchAll(db, sql: "SELECT network_id FROM networks ORDER BY network_id")
        guard let network else { return p }
        if let name = try String.fetchOne(db, sql: "SELECT name FROM networks WHERE network_id = ?", arguments: [network]) {
            p.networkExists = true
            p.networkName = name
        }
        let meetings = try Row.fetchCursor(db, sql: "SELECT meeting_id, held_on, title FROM meetings WHERE network_id = ? ORDER BY held_on, meeting_id", arguments: [network])
        while let r = try meetings.next() { p.meetings.append(Meeting(id: r[0], day: r[1], title: r[2])) }
        let records = try Row.fetchCursor(db, sql: """
            SELECT a.meeting_id, a.org_id, a.person_id, a.status, a.seq FROM attendance a
            JOIN meetings m ON m.meeting_id = a.meeting_id WHERE m.network_id = ?
            """, arguments: [network])
        while let r = try records.next() {
            p.counting[AttendanceKey(meeting: r[0], org: r[1], person: r[2])] = CountingRecord(status: r[3], seq: r[4])
        }
        return p
    }

    /// Every network's members on `day` (for `trellis orgs`): org → sorted network ids.
    public static func memberships(ledger: Ledger, on day: String) throws -> (organisations: [Organisation], networks: [String: [String]], networkIDs: [String]) {
        let engine = try ProjectionEngine(ledger: ledger)
        try engine.catchUp()
        return try ledger.database.read { db in
            var orgs: [Organisation] = []
            let cursor = try Row.fetchCursor(db, sql: "SELECT org_id, name, kind, schools, region FROM organisations ORDER BY org_id")
            while let r = try cursor.next() { orgs.append(Organisation(id: r[0], name: r[1], kind: r[2], schools: r[3], region: r[4])) }
            let networkIDs = try String.fetchAll(db, sql: "SELECT network_id FROM networks ORDER BY network_id")
            var rows: [MembershipEventRow] = []
            let events = try Row.fetchCursor(db, sql: "SELECT network_id, org_id, day, seq, joined FROM membership_events")
            while let r = try events.next() {
                rows.append(MembershipEventRow(network: r[0], org: r[1], day: r[2], seq: r[3], joined: (r[4] as Int64) != 0))
            }
            let timeline = MembershipTimeline(events: rows)
            var byOrg: [String: [String]] = [:]
            for n in networkIDs { for o in timeline.members(of: n, on: day) { byOrg[o, default: []].append(n) } }
            return (orgs, byOrg, networkIDs)
        }
    }
}
