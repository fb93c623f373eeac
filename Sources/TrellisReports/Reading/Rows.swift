// The rows reports read from the read models (projections/*.sql), typed. Days are
// `YYYY-MM-DD` text, as the read models store them; text order is date order.

/// A network as formed (`networks`).
public struct NetworkRow: Sendable, Hashable {
    public var id: String
    public var name: String
    public var region: String?

    public init(id: String, name: String, region: String? = nil) {
        self.id = id
        self.name = name
        self.region = region
    }
}

/// An organisation with its current name, kind and region (`organisations`).
public struct OrganisationRow: Sendable, Hashable {
    public var id: String
    public var name: String
    public var kind: String
    public var region: String?

    public init(id: String, name: String, kind: String = "mat", region: String? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.region = region
    }
}

/// One `MemberJoined` (joined) or `MemberLeft` (not joined), by day (`membership_events`).
public struct MembershipEventRow: Sendable, Hashable {
    public var network: String
    public var org: String
    public var day: String
    public var seq: Int64
    public var joined: Bool

    public init(network: String, org: String, day: String, seq: Int64, joined: Bool) {
        self.network = network
        self.org = org
        self.day = day
        self.seq = seq
        self.joined = joined
    }
}

/// A meeting of a network (`meetings`).
public struct MeetingRow: Sendable, Hashable {
    public var id: String
    public var network: String
    public var title: String
    public var day: String
    public var occurredAt: String

    public init(id: String, network: String, title: String, day: String, occurredAt: String? = nil) {
        self.id = id
        self.network = network
        self.title = title
        self.day = day
        self.occurredAt = occurredAt ?? day + "T00:00:00Z"
    }
}

/// An organisation's standing at one meeting, as `attendance_by_org` derives it from its
/// counting records: present if any is present, else apologies if any, else absent.
public enum AttendanceStatus: String, Sendable, Hashable, CaseIterable {
    case present, apologies, absent
}

/// A review commitment and what became of it (`reviews`, `review_reviewers`,
/// `review_shares`).
public struct ReviewRow: Sendable, Hashable {
    public var id: String
    public var network: String
    public var reviewee: String
    /// Reviewer organisations (sorted when built by the initialiser).
    public var reviewers: [String]
    public var dueBy: String
    public var committedOn: String
    public var completedOn: String?
    public var withdrawnOn: String?
    /// The day its outcome was first shared (any audience); nil when never shared.
    public var firstSharedOn: String?

    public init(id: String, network: String, reviewee: String, reviewers: [String], dueBy: String, committedOn: String,
                completedOn: String? = nil, withdrawnOn: String? = nil, firstSharedOn: String? = nil) {
        self.id = id
        self.network = network
        self.reviewee = reviewee
        self.reviewers = reviewers.sorted()
        self.dueBy = dueBy
        self.committedOn = committedOn
        self.completedOn = completedOn
        self.withdrawnOn = withdrawnOn
        self.firstSharedOn = firstSharedOn
    }
}

/// One area's outcome of a completed review (`review_outcomes`).
public struct OutcomeRow: Sendable, Hashable {
    public var review: String
    public var area: String
    public var judgement: String
    public var actions: Int

    public init(review: String, area: String, judgement: String, actions: Int) {
        self.review = review
        self.area = area
        self.judgement = judgement
        self.actions = actions
    }
}

/// A document shared in a network (`documents`).
public struct DocumentRow: Sendable, Hashable {
    public var id: String
    public var sharer: String
    public var network: String
    public var kind: String
    public var sharedOn: String

    public init(id: String, sharer: String, network: String, kind: String, sharedOn: String) {
        self.id = id
        self.sharer = sharer
        self.network = network
        self.kind = kind
        self.sharedOn = sharedOn
    }
}

/// An adoption of a shared document (`adoptions` joined with `documents`).
public struct AdoptionRow: Sendable, Hashable {
    public var document: String
    public var adopter: String
    public var adoptedOn: String
    /// The organisation that shared the document.
    public var sharer: String
    /// The network it was shared in.
    public var network: String
    public var kind: String

    public init(document: String, adopter: String, adoptedOn: String, sharer: String, network: String, kind: String) {
        self.document = document
        self.adopter = adopter
        self.adoptedOn = adoptedOn
        self.sharer = sharer
        self.network = network
        self.kind = kind
    }
}

/// An organisation as a register import needs it (with its number of schools).
public struct RegisterOrganisationRow: Sendable, Hashable {
    public var id: String
    public var name: String
    public var kind: String
    public var schools: Int?
    public var region: String?
}

/// One attendance record that counts: `person` is "" for a record about the organisation.
public struct AttendanceRecordRow: Sendable, Hashable {
    public var meeting: String
    public var org: String
    public var person: String
    public var status: String
    public var seq: Int64
}
