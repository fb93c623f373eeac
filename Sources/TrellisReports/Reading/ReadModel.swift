import GRDB

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
/// - ``documents(_:networks:)``
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
        let rows = try Row.fetchCursor(db, sql: "SELECT org_id, name, kind, region FROM organisations")
        while let r = try rows.next() {
            let id: String = r[0]
            out[id] = OrganisationRow(id: id, name: r[1], kind: r[2], region: r[3])
        }
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
            let rows = try Row.fetchCursor(stmt, arguments: [n])
            while let r = try rows.next() {
                out.append(MembershipEventRow(network: r[0], org: r[1], day: r[2], seq: r[3], joined: (r[4] as Int64) != 0))
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
            let rows = try Row.fetchCursor(stmt, arguments: [n, period.fromText, period.toText])
            while let r = try rows.next() {
                out.append(MeetingRow(id: r[0], network: r[1], title: r[2], day: r[3], occurredAt: r[4]))
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
            let rows = try Row.fetchCursor(stmt, arguments: [m])
            while let r = try rows.next() {
                byOrg[r[0]] = AttendanceStatus(rawValue: r[1]) ?? .absent
            }
            out[m] = byOrg
        }
        return out
    }

    /// Every review of the networks with its reviewers and first sharing day.
    public static func reviews(_ db: Database, networks: [String]) throws -> [ReviewRow] {
        var out: [ReviewRow] = []
        var position: [String: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT review_id, network_id, reviewee_org_id, due_by, committed_on, completed_on, withdrawn_on
            FROM reviews WHERE network_id IN (\(placeholders(networks.count)))
            """, arguments: StatementArguments(networks))
        while let r = try rows.next() {
            let id: String = r[0]
            position[id] = out.count
            out.append(ReviewRow(id: id, network: r[1], reviewee: r[2], reviewers: [], dueBy: r[3],
                                 committedOn: r[4], completedOn: r[5], withdrawnOn: r[6]))
        }
        // Whole tables in primary-key order, matched here: cheaper than joining on the
        // text key of `reviews` row by row.
        let reviewers = try Row.fetchCursor(db, sql: "SELECT review_id, org_id FROM review_reviewers")
        while let r = try reviewers.next() {
            if let i = position[r[0]] { out[i].reviewers.append(r[1]) }
        }
        let shares = try Row.fetchCursor(db, sql: "SELECT review_id, min(shared_on) FROM review_shares GROUP BY review_id")
        while let r = try shares.next() {
            if let i = position[r[0]] { out[i].firstSharedOn = r[1] }
        }
        return out.sorted { $0.id < $1.id }
    }

    /// Outcomes of the reviews, in review order then position (reviews not given are skipped).
    public static func outcomes(_ db: Database, reviews: Set<String>) throws -> [OutcomeRow] {
        var out: [OutcomeRow] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT review_id, area, judgement, actions FROM review_outcomes ORDER BY review_id, position")
        while let r = try rows.next() {
            let id: String = r[0]
            if reviews.contains(id) { out.append(OutcomeRow(review: id, area: r[1], judgement: r[2], actions: r[3])) }
        }
        return out
    }

    /// Documents shared in the networks.
    public static func documents(_ db: Database, networks: [String]) throws -> [DocumentRow] {
        var out: [DocumentRow] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT document_id, org_id, network_id, kind, shared_on FROM documents
            WHERE network_id IN (\(placeholders(networks.count)))
            """, arguments: StatementArguments(networks))
        while let r = try rows.next() {
            out.append(DocumentRow(id: r[0], sharer: r[1], network: r[2], kind: r[3], sharedOn: r[4]))
        }
        return out
    }

    /// Adoptions made in the period (of documents of any network: joined with
    /// ``documents(_:networks:)`` by the figures, which is cheaper than joining here).
    public static func adoptions(_ db: Database, period: Period) throws -> [AdoptionRow] {
        var out: [AdoptionRow] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT document_id, org_id, adopted_on FROM adoptions WHERE adopted_on >= ? AND adopted_on < ?
            """, arguments: [period.fromText, period.toText])
        while let r = try rows.next() { out.append(AdoptionRow(document: r[0], adopter: r[1], adoptedOn: r[2])) }
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

    static func placeholders(_ n: Int) -> String {
        n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",")
    }
}
