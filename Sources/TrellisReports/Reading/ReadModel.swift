import GRDB
import TrellisLedger

/// Every SQL statement the reports run, in one place: typed reads of the read models
/// defined in `projections/*.sql` (and the ledger's `events` for provenance).
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
/// - ``eventHashHex(_:seq:)``
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

    /// The last seq of the ledger's log (0 when empty).
    public static func headSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
    }

    /// The hash of the event at `seq` in the ledger's log, as lowercase hex (provenance).
    public static func eventHashHex(_ db: Database, seq: Int64) throws -> String? {
        guard seq > 0 else { return nil }
        return try String.fetchOne(db, sql: "SELECT lower(hex(hash)) FROM events WHERE seq = ?", arguments: [seq])
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
