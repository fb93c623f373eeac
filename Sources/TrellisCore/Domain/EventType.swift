/// The sixteen event types of the catalogue (DOMAIN.md, v1).
///
/// The raw value is the `type` string on the wire and in the `events.type` column.
public enum EventType: String, CaseIterable, Sendable, Hashable {
    case networkFormed = "NetworkFormed"
    case organisationRegistered = "OrganisationRegistered"
    case organisationUpdated = "OrganisationUpdated"
    case personRegistered = "PersonRegistered"
    case memberJoined = "MemberJoined"
    case memberLeft = "MemberLeft"
    case meetingHeld = "MeetingHeld"
    case attendanceRecorded = "AttendanceRecorded"
    case documentShared = "DocumentShared"
    case documentAdopted = "DocumentAdopted"
    case reviewCommitted = "ReviewCommitted"
    case reviewCompleted = "ReviewCompleted"
    case reviewOutcomeShared = "ReviewOutcomeShared"
    case reviewWithdrawn = "ReviewWithdrawn"
    case eventRetracted = "EventRetracted"
    case personErased = "PersonErased"

    /// The versions of `data` this build can read; v1 is the only one so far.
    public static let knownVersions: ClosedRange<Int64> = 1...1

    /// The data fields of version 1, as `schemas/events/<Type>.v1.schema.json` has them.
    /// From a sixteen-entry array, not the dictionary: looking a type up there hashed its name
    /// with SipHash, ~0.45 k instructions a decoded line (callgrind).
    public var fields: [FieldSpec] {
        let all = Catalogue.fieldsInOrder
        for i in all.indices where all[i].type == self { return all[i].fields }
        return []
    }

    /// The type named `name`, as `init(rawValue:)` but cheaper (the import decodes one per
    /// line): its bytes are compared with the names' of the same length (``named(utf8:)``).
    public static func named(_ name: String) -> EventType? {
        var name = name
        return name.withUTF8 { named(utf8: $0) }
    }

    /// ``named(_:)`` from the name's UTF-8 bytes, without making a string of them.
    public static func named(utf8 name: UnsafeBufferPointer<UInt8>) -> EventType? {
        let t = nameTable
        guard let given = name.baseAddress else { return nil }
        var start = 0
        for k in 0..<t.ends.count {
            let end = t.ends[k]
            if end - start == name.count {
                var j = 0
                while j < name.count && t.bytes[start + j] == given[j] { j += 1 }
                if j == name.count { return allCases[k] }
            }
            start = end
        }
        return nil
    }

    /// Every name's bytes back to back, in `allCases` order; name `k` ends at `ends[k]`. Built
    /// once and never freed: plain pointers, so a look-up retains nothing (comparing with each
    /// `rawValue`'s UTF-8 view went through the generic path, byte by byte).
    private struct NameTable: @unchecked Sendable {
        let bytes: UnsafeMutableBufferPointer<UInt8>
        let ends: UnsafeMutableBufferPointer<Int>
    }

    private static let nameTable: NameTable = {
        var bytes: [UInt8] = [], ends: [Int] = []
        for type in allCases {
            bytes.append(contentsOf: type.rawValue.utf8)
            ends.append(bytes.count)
        }
        let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = b.initialize(from: bytes)
        let e = UnsafeMutableBufferPointer<Int>.allocate(capacity: ends.count)
        _ = e.initialize(from: ends)
        return NameTable(bytes: b, ends: e)
    }()

}

/// What one `data` field may hold. The same decisions as the JSON Schemas under `schemas/`.
public struct FieldSpec: Sendable {
    public enum Kind: Sendable {
        /// `[A-Za-z0-9._:-]{1,128}`
        case identifier
        /// Free text of `min...max` Unicode scalars, no NUL.
        case text(min: Int, max: Int)
        case email
        case oneOf([String])
        /// `YYYY-MM-DD`, a real calendar date.
        case date
        case integer(min: Int64, max: Int64)
        case identifiers(min: Int, max: Int)
        case texts(max: Int)
        case subset(of: [String], min: Int)
        case outcomes
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    /// Personal data: stored encrypted, destroyed on erasure.
    public var personal: Bool

    init(_ name: String, _ kind: Kind, required: Bool = true, personal: Bool = false) {
        self.name = name; self.kind = kind; self.required = required; self.personal = personal
    }
}

/// `AttendanceRecorded.status`: the one definition, used by the decoder, the generator,
/// registers and reports (in this order: present, apologies, absent).
public enum AttendanceStatus: String, Sendable, CaseIterable {
    case present, apologies, absent
}

/// Enumerations of the catalogue.
public enum Vocabulary {
    public static let organisationKinds = ["mat", "sat", "hub", "school", "local_authority", "provider", "other"]
    public static let meetingFormats = ["in_person", "online", "hybrid"]
    public static let meetingElements = ["research", "perspectives", "leadership", "solutions"]
    public static let attendanceStatuses = AttendanceStatus.allCases.map(\.rawValue)
    public static let documentKinds = ["scheme_of_delegation", "job_description", "skills_matrix", "policy", "improvement_plan", "other"]
    public static let reviewAreas = ["governance", "finance", "school_improvement", "conflicts_of_interest", "growth", "recruitment", "curriculum", "safeguarding", "other"]
    public static let judgements = ["strength", "secure", "developing", "concern"]
    public static let audiences = ["network", "public"]
}

enum Catalogue {
    static let text = FieldSpec.Kind.text(min: 0, max: 500)
    static let title = FieldSpec.Kind.text(min: 1, max: 500)

    /// ``fields`` in the order of `EventType.allCases`, with each type beside its fields.
    static let fieldsInOrder: [(type: EventType, fields: [FieldSpec])] = EventType.allCases.map { ($0, fields[$0] ?? []) }

    static let fields: [EventType: [FieldSpec]] = [
        .networkFormed: [
            FieldSpec("network_id", .identifier), FieldSpec("name", title),
            FieldSpec("region", text, required: false), FieldSpec("convenor_org_id", .identifier, required: false),
            FieldSpec("partners", .texts(max: 100), required: false),
        ],
        .organisationRegistered: [
            FieldSpec("org_id", .identifier), FieldSpec("name", title),
            FieldSpec("kind", .oneOf(Vocabulary.organisationKinds)),
            FieldSpec("schools", .integer(min: 0, max: 1_000_000), required: false),
            FieldSpec("region", text, required: false),
        ],
        .organisationUpdated: [
            FieldSpec("org_id", .identifier), FieldSpec("name", title, required: false),
            FieldSpec("schools", .integer(min: 0, max: 1_000_000), required: false),
            FieldSpec("region", text, required: false),
        ],
        .personRegistered: [
            FieldSpec("person_id", .identifier), FieldSpec("org_id", .identifier),
            FieldSpec("role", text, required: false),
            FieldSpec("name", title, personal: true),
            FieldSpec("email", .email, required: false, personal: true),
        ],
        .memberJoined: [FieldSpec("network_id", .identifier), FieldSpec("org_id", .identifier)],
        .memberLeft: [
            FieldSpec("network_id", .identifier), FieldSpec("org_id", .identifier),
            FieldSpec("reason", text, required: false),
        ],
        .meetingHeld: [
            FieldSpec("meeting_id", .identifier), FieldSpec("network_id", .identifier), FieldSpec("title", title),
            FieldSpec("format", .oneOf(Vocabulary.meetingFormats), required: false),
            FieldSpec("elements", .subset(of: Vocabulary.meetingElements, min: 0), required: false),
        ],
        .attendanceRecorded: [
            FieldSpec("meeting_id", .identifier), FieldSpec("org_id", .identifier),
            FieldSpec("person_id", .identifier, required: false),
            FieldSpec("status", .oneOf(Vocabulary.attendanceStatuses)),
        ],
        .documentShared: [
            FieldSpec("document_id", .identifier), FieldSpec("org_id", .identifier),
            FieldSpec("network_id", .identifier), FieldSpec("title", title),
            FieldSpec("kind", .oneOf(Vocabulary.documentKinds)),
        ],
        .documentAdopted: [FieldSpec("document_id", .identifier), FieldSpec("org_id", .identifier)],
        .reviewCommitted: [
            FieldSpec("review_id", .identifier), FieldSpec("network_id", .identifier),
            FieldSpec("reviewer_org_ids", .identifiers(min: 1, max: 50)),
            FieldSpec("reviewee_org_id", .identifier),
            FieldSpec("areas", .subset(of: Vocabulary.reviewAreas, min: 1)),
            FieldSpec("due_by", .date),
            FieldSpec("moderator", text, required: false),
        ],
        .reviewCompleted: [FieldSpec("review_id", .identifier), FieldSpec("outcomes", .outcomes)],
        .reviewOutcomeShared: [FieldSpec("review_id", .identifier), FieldSpec("audience", .oneOf(Vocabulary.audiences))],
        .reviewWithdrawn: [FieldSpec("review_id", .identifier), FieldSpec("reason", text, required: false)],
        .eventRetracted: [FieldSpec("event_id", .identifier), FieldSpec("reason", title)],
        .personErased: [FieldSpec("person_id", .identifier), FieldSpec("reason", text, required: false)],
    ]
}
