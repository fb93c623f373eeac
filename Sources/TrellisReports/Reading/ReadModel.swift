import GRDB
import TrellisLedger

/// Every SQL statement the reports run, in one place: typed reads of the read models
/// defined in `projections/*.sql`. Nothing here reads the log: provenance comes from
/// ``ReadSide/position(_:)`` and the ``LedgerStore``.
///
/// Each function reads inside the caller's transaction (`db`), so one report sees one
/// consistent state. Filters here only narrow what is loaded; the figures re-apply every
/// rule of DOMAIN.md themselves (`Figures/`), so a row loaded too many is harmless.
///
/// ## Topics
/// - ``networks(_:)``
/// - ``organisations(_:)``
/// - ``membershipEvents(_:networks:)``
/// - ``meetings(_:networks:period:)``
/// - ``attendance(_:meetings:)``
/// - ``reviews(_:networks:)``
/// - ``outcomes(_:reviews:)``
/// - ``documents(_:networks:period:)``
/// - ``adoptions(_:period:)``
/// - ``latestMeetingDay(_:networks:)``
/// - ``registerOrganisations(_:)``
/// - ``membershipEventsInOrder(_:network:)``
/// - ``personOrganisations(_:)``
/// - ``networkIDs(_:)``
/// - ``networkName(_:id:)``
/// - ``meetingsByDay(_:network:)``
/// - ``attendanceRecords(_:network:)``
public enum ReadModel {

    public static func networks(_ db: Database) throws -> [NetworkRow] {
        try Row.fetchAll(db, sql: "SELECT network_id, name, region FROM networks ORDER BY network_id").map {
            NetworkRow(id: $0[0], name: $0[1], region: $0[2])
        }
    }

    /// Every organisation, by id.
    public static func organisations(_ db: Database) throws -> [String: OrganisationRow] {
        var out: [String: OrganisationRow] = [:]
        try each(db, "SELECT org_id, name, kind, region FROM organisations") { s in
            let id = text(s, 0)
            out[id] = OrganisationRow(id: id, name: text(s, 1), kind: text(s, 2), region: Raw.string(s, 3))
        }
        return out
    }

    /// The id of every organisation.
    public static func organisationIDs(_ db: Database) throws -> Set<String> {
        var out = Set<String>()
        try each(db, "SELECT org_id FROM organisations") { s in out.insert(text(s, 0)) }
        return out
    }

    /// Joins and leaves of the networks, ordered by network, organisation, day, seq.
    public static func membershipEvents(_ db: Database, networks: [String]) throws -> [MembershipEventRow] {
        var out: [MembershipEventRow] = []
        // One indexed range per network (membership_events_by_org).
        let stmt = try db.cachedStatement(sql: """
            SELECT network_id, org_id, day, seq, joined FROM membership_events
            WHERE network_id = ? ORDER BY org_id, day, seq
            """)
        for n in networks {
            try each(stmt, [n], db) { s in
                out.append(MembershipEventRow(network: text(s, 0), org: text(s, 1), day: text(s, 2), seq: Raw.int(s, 3), joined: Raw.int(s, 4) != 0))
            }
        }
        return out
    }

    /// Meetings of the networks with day in the period, in the order they were held.
    public static func meetings(_ db: Database, networks: [String], period: Period) throws -> [MeetingRow] {
        var out: [MeetingRow] = []
        let stmt = try db.cachedStatement(sql: """
            SELECT meeting_id, network_id, title, held_on, occurred_at FROM meetings
            WHERE network_id = ? AND held_on >= ? AND held_on < ?
            """)
        for n in networks {
            try each(stmt, [n, period.fromText, period.toText], db) { s in
                out.append(MeetingRow(id: text(s, 0), network: text(s, 1), title: text(s, 2), day: text(s, 3), occurredAt: text(s, 4)))
            }
        }
        return out.sorted { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }
    }

    /// Each organisation's standing at each of the meetings, from `attendance_by_org`:
    /// meeting → organisation → status. Organisations without any record are absent.
    public static func attendance(_ db: Database, meetings: [String]) throws -> [String: [String: AttendanceStatus]] {
        var out: [String: [String: AttendanceStatus]] = [:]
        out.reserveCapacity(meetings.count)
        // One query per meeting: SQLite pushes `meeting_id = ?` into the view's GROUP BY,
        // so each is a primary-key range of `attendance` instead of grouping the whole table.
        let stmt = try db.cachedStatement(sql: "SELECT org_id, status FROM attendance_by_org WHERE meeting_id = ?")
        for m in meetings {
            var byOrg: [String: AttendanceStatus] = [:]
            try each(stmt, [m], db) { s in
                byOrg[text(s, 0)] = AttendanceStatus(rawValue: text(s, 1)) ?? .absent
            }
            out[m] = byOrg
        }
        return out
    }

    /// Every review of the networks with its reviewers and first sharing day.
    public static func reviews(_ db: Database, networks: [String]) throws -> [ReviewRow] {
        var out: [ReviewRow] = []
        var position: [String: Int] = [:]
        try each(db, """
            SELECT review_id, network_id, reviewee_org_id, due_by, committed_on, completed_on, withdrawn_on
            FROM reviews WHERE network_id IN (\(placeholders(networks.count)))
            """, StatementArguments(networks)) { s in
            let id = text(s, 0)
            position[id] = out.count
            out.append(ReviewRow(id: id, network: text(s, 1), reviewee: text(s, 2), reviewers: [], dueBy: text(s, 3),
                                 committedOn: text(s, 4), completedOn: Raw.string(s, 5), withdrawnOn: Raw.string(s, 6)))
        }
        // Whole tables in primary-key order, matched here: cheaper than joining on the
        // text key of `reviews` row by row.
        try each(db, "SELECT review_id, org_id FROM review_reviewers") { s in
            if let i = position[text(s, 0)] { out[i].reviewers.append(text(s, 1)) }
        }
        try each(db, "SELECT review_id, min(shared_on) FROM review_shares GROUP BY review_id") { s in
            if let i = position[text(s, 0)] { out[i].firstSharedOn = Raw.string(s, 1) }
        }
        return out.sorted { $0.id < $1.id }
    }

    /// Outcomes of the reviews, in review order then position (reviews not given are skipped).
    public static func outcomes(_ db: Database, reviews: Set<String>) throws -> [OutcomeRow] {
        var out: [OutcomeRow] = []
        try each(db, "SELECT review_id, area, judgement, actions FROM review_outcomes ORDER BY review_id, position") { s in
            let id = text(s, 0)
            if reviews.contains(id) { out.append(OutcomeRow(review: id, area: text(s, 1), judgement: text(s, 2), actions: Int(Raw.int(s, 3)))) }
        }
        return out
    }

    /// Documents shared in the networks during the period.
    public static func documents(_ db: Database, networks: [String], period: Period) throws -> [DocumentRow] {
        var out: [DocumentRow] = []
        try each(db, """
            SELECT document_id, org_id, network_id, kind, shared_on FROM documents
            WHERE shared_on >= ? AND shared_on < ? AND network_id IN (\(placeholders(networks.count)))
            """, [period.fromText, period.toText] + StatementArguments(networks)) { s in
            out.append(DocumentRow(id: text(s, 0), sharer: text(s, 1), network: text(s, 2), kind: text(s, 3), sharedOn: text(s, 4)))
        }
        return out
    }

    /// Adoptions made during the period, with the document's sharer, network and kind
    /// (documents of any network; an adoption of a document that does not exist, because
    /// its share was retracted, is not returned).
    public static func adoptions(_ db: Database, period: Period) throws -> [AdoptionRow] {
        var out: [AdoptionRow] = []
        try each(db, """
            SELECT a.document_id, a.org_id, a.adopted_on, d.org_id, d.network_id, d.kind
            FROM adoptions a JOIN documents d ON d.document_id = a.document_id
            WHERE a.adopted_on >= ? AND a.adopted_on < ?
            """, [period.fromText, period.toText]) { s in
            out.append(AdoptionRow(document: text(s, 0), adopter: text(s, 1), adoptedOn: text(s, 2), sharer: text(s, 3),
                                   network: text(s, 4), kind: text(s, 5)))
        }
        return out
    }

    /// The day of the latest meeting of the networks, if any.
    public static func latestMeetingDay(_ db: Database, networks: [String]) throws -> String? {
        try String.fetchOne(db, sql: "SELECT max(held_on) FROM meetings WHERE network_id IN (\(placeholders(networks.count)))",
                            arguments: StatementArguments(networks))
    }

    // MARK: - Registers (what a spreadsheet import checks its cells against)

    /// Every organisation with its number of schools, by id.
    public static func registerOrganisations(_ db: Database) throws -> [RegisterOrganisationRow] {
        var out: [RegisterOrganisationRow] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT org_id, name, kind, schools, region FROM organisations ORDER BY org_id")
        while let r = try cursor.next() { out.append(RegisterOrganisationRow(id: r[0], name: r[1], kind: r[2], schools: r[3], region: r[4])) }
        return out
    }

    /// Joins and leaves in seq order: of one network, or of all when `network` is nil.
    public static func membershipEventsInOrder(_ db: Database, network: String?) throws -> [MembershipEventRow] {
        var out: [MembershipEventRow] = []
        let rows = try network.map {
            try Row.fetchCursor(db, sql: "SELECT network_id, org_id, day, seq, joined FROM membership_events WHERE network_id = ? ORDER BY seq", arguments: [$0])
        } ?? Row.fetchCursor(db, sql: "SELECT network_id, org_id, day, seq, joined FROM membership_events ORDER BY seq")
        while let r = try rows.next() {
            out.append(MembershipEventRow(network: r[0], org: r[1], day: r[2], seq: r[3], joined: (r[4] as Int64) != 0))
        }
        return out
    }

    /// person id → organisation id.
    public static func personOrganisations(_ db: Database) throws -> [String: String] {
        var out: [String: String] = [:]
        let people = try Row.fetchCursor(db, sql: "SELECT person_id, org_id FROM people")
        while let r = try people.next() { out[r[0]] = r[1] }
        return out
    }

    /// Every network id, sorted.
    public static func networkIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT network_id FROM networks ORDER BY network_id")
    }

    /// The network's name, nil when there is no such network.
    public static func networkName(_ db: Database, id: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM networks WHERE network_id = ?", arguments: [id])
    }

    /// The network's meetings by day, then id.
    public static func meetingsByDay(_ db: Database, network: String) throws -> [MeetingRow] {
        var out: [MeetingRow] = []
        let meetings = try Row.fetchCursor(db, sql: "SELECT meeting_id, held_on, title FROM meetings WHERE network_id = ? ORDER BY held_on, meeting_id", arguments: [network])
        while let r = try meetings.next() { out.append(MeetingRow(id: r[0], network: network, title: r[2], day: r[1])) }
        return out
    }

    /// The attendance records that count now at the network's meetings (`person` is "" for a
    /// record about the organisation).
    public static func attendanceRecords(_ db: Database, network: String) throws -> [AttendanceRecordRow] {
        var out: [AttendanceRecordRow] = []
        let records = try Row.fetchCursor(db, sql: """
            SELECT a.meeting_id, a.org_id, a.person_id, a.status, a.seq FROM attendance a
            JOIN meetings m ON m.meeting_id = a.meeting_id WHERE m.network_id = ?
            """, arguments: [network])
        while let r = try records.next() {
            out.append(AttendanceRecordRow(meeting: r[0], org: r[1], person: r[2], status: r[3], seq: r[4]))
        }
        return out
    }

    // MARK: - Stepping

    /// Runs `sql` and calls `body` with the raw statement at each row (GRDB's row layer
    /// costs more than the query on the large reads; see `Raw` in TrellisLedger).
    static func each(_ db: Database, _ sql: String, _ arguments: StatementArguments = [],
                     _ body: (SQLiteStatement) throws -> Void) throws {
        try each(try db.makeStatement(sql: sql), arguments, db, body)
    }

    static func each(_ statement: Statement, _ arguments: StatementArguments, _ db: Database,
                     _ body: (SQLiteStatement) throws -> Void) throws {
        try statement.setArguments(arguments)   // resets the statement too
        let s = statement.sqliteStatement
        while try Raw.step(s, db) { try body(s) }
    }

    /// A text column that the schema declares NOT NULL.
    @inline(__always)
    static func text(_ s: SQLiteStatement, _ i: Int32) -> String { Raw.string(s, i) ?? "" }

    static func placeholders(_ n: Int) -> String {
        n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",")
    }
}
