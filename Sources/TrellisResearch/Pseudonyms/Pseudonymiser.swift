import Crypto
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// The secret that pseudonyms are keyed with: 32 bytes from a key file the study keeps to
/// itself (``KeyFile``: raw or hex, bounded read, weak keys refused). The same key gives the
/// same pseudonyms, so two exports for one study join up; another key gives unrelated ones.
///
/// ## Topics
/// - ``init(path:)``
/// - ``fingerprint``
public struct PseudonymKey: Sendable {
    public let bytes: [UInt8]

    /// A missing key file is exit 66; a file that is not a usable key, exit 64.
    public typealias Failure = KeyFile.Failure

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The key material of the file at `path` (see ``KeyFile``).
    public init(path: String) throws(Failure) {
        bytes = try KeyFile.read(path: path)
    }

    /// Names the key without revealing it: equal fingerprints mean the same key.
    public var fingerprint: String {
        var h = SHA256()
        h.update(data: Array("trellis pseudonym key fingerprint v1\u{0}".utf8))
        h.update(data: bytes)
        return String(Hex.encode(Array(h.finalize())).prefix(16))
    }
}

/// Replaces what identifies organisations and people in an event by keyed pseudonyms, and
/// withholds free text that can name them. ARCHITECTURE.md ("Pseudonymised archives") lists
/// every field's fate.
///
/// A pseudonym is `<prefix>-` and the first 16 hex digits of HMAC-SHA-256(key, kind ‖ ":" ‖ id):
/// `org-3f2a9c0d1e2b4a5c`. The kind keeps the spaces apart (an organisation and a network
/// sharing an id get different pseudonyms). 64 bits: for a million ids the chance that any
/// two collide is about 3 in 100 million.
///
/// ## Topics
/// - ``pseudonym(_:_:)``
/// - ``transform(type:id:data:)``
public struct Pseudonymiser: Sendable {
    /// The identifier spaces, with the prefix their pseudonyms carry.
    public enum Kind: String, Sendable, CaseIterable {
        case network = "net", organisation = "org", person = "person", meeting = "meeting"
        case document = "doc", review = "review", event = "evt", region = "region"

        var label: String {
            switch self {
            case .network: return "network"
            case .organisation: return "organisation"
            case .person: return "person"
            case .meeting: return "meeting"
            case .document: return "document"
            case .review: return "review"
            case .event: return "event"
            case .region: return "region"
            }
        }
    }

    /// What happens to one `data` field.
    enum Rule: Sendable {
        case keep
        /// Removed (optional free text).
        case drop
        /// Replaced by ``withheldText`` (required free text).
        case withhold
        case id(Kind)
        case ids(Kind)
        /// Replaced by the pseudonym of the entity named in another field (an organisation's name).
        case nameOf(Kind, field: String)
        /// The text itself pseudonymised: equal texts stay equal (regions group organisations).
        case text(Kind)
        /// A count coarsened to the lower bound of its band (``schoolsBands``).
        case band
    }

    /// The bands `schools` is coarsened to, by lower bound: 0, 1, 2–5, 6–10, 11–20, 21+. A
    /// pseudonymised archive carries the band's lower bound, still an integer ≥ 0, so it stays
    /// a valid archive that imports and replays; the exact count of a trust's schools, with its
    /// kind and region, would single many trusts out.
    public static let schoolsBands: [Int64] = [0, 1, 2, 6, 11, 21]

    /// The lower bound of the band `schools` falls in.
    public static func schoolsBand(_ schools: Int64) -> Int64 {
        schoolsBands.last { $0 <= schools } ?? 0
    }

    /// What required free text becomes.
    public static let withheldText = "(withheld)"

    static let rules: [EventType: [String: Rule]] = [
        .networkFormed: ["network_id": .id(.network), "name": .nameOf(.network, field: "network_id"), "region": .text(.region),
                         "convenor_org_id": .id(.organisation), "partners": .drop],
        .organisationRegistered: ["org_id": .id(.organisation), "name": .nameOf(.organisation, field: "org_id"), "kind": .keep,
                                  "schools": .band, "region": .text(.region)],
        .organisationUpdated: ["org_id": .id(.organisation), "name": .nameOf(.organisation, field: "org_id"), "schools": .band,
                               "region": .text(.region)],
        .personRegistered: ["person_id": .id(.person), "org_id": .id(.organisation), "role": .drop, "name": .withhold, "email": .drop],
        .memberJoined: ["network_id": .id(.network), "org_id": .id(.organisation)],
        .memberLeft: ["network_id": .id(.network), "org_id": .id(.organisation), "reason": .drop],
        .meetingHeld: ["meeting_id": .id(.meeting), "network_id": .id(.network), "title": .withhold, "format": .keep, "elements": .keep],
        .attendanceRecorded: ["meeting_id": .id(.meeting), "org_id": .id(.organisation), "person_id": .id(.person), "status": .keep],
        .documentShared: ["document_id": .id(.document), "org_id": .id(.organisation), "network_id": .id(.network),
                          "title": .withhold, "kind": .keep],
        .documentAdopted: ["document_id": .id(.document), "org_id": .id(.organisation)],
        .reviewCommitted: ["review_id": .id(.review), "network_id": .id(.network), "reviewer_org_ids": .ids(.organisation),
                           "reviewee_org_id": .id(.organisation), "areas": .keep, "due_by": .keep, "moderator": .drop],
        .reviewCompleted: ["review_id": .id(.review), "outcomes": .keep],
        .reviewOutcomeShared: ["review_id": .id(.review), "audience": .keep],
        .reviewWithdrawn: ["review_id": .id(.review), "reason": .drop],
        .eventRetracted: ["event_id": .id(.event), "reason": .withhold],
        .personErased: ["person_id": .id(.person), "reason": .drop],
    ]

    /// Fields that leave the archive or lose their text, for the manifest.
    public static var withheldFields: [String] {
        var out = ["actor"]
        for type in EventType.allCases {
            for (field, rule) in (rules[type] ?? [:]).sorted(by: { $0.key < $1.key }) {
                switch rule {
                case .drop: out.append("\(type.rawValue).\(field) (dropped)")
                case .withhold: out.append("\(type.rawValue).\(field) (replaced by \(withheldText))")
                case .nameOf(let kind, _): out.append("\(type.rawValue).\(field) (replaced by the \(kind.label)'s pseudonym)")
                case .text: out.append("\(type.rawValue).\(field) (replaced by a keyed pseudonym of the text)")
                case .band: out.append("\(type.rawValue).\(field) (coarsened to the lower bound of its band: 0, 1, 2-5, 6-10, 11-20, 21+)")
                default: break
                }
            }
        }
        return out
    }

    private let key: SymmetricKey
    public let fingerprint: String

    public init(key: PseudonymKey) {
        self.key = SymmetricKey(data: key.bytes)
        fingerprint = key.fingerprint
    }

    public func pseudonym(_ kind: Kind, _ id: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array((kind.label + ":" + id).utf8), using: key)
        return kind.rawValue + "-" + String(Hex.encode(Array(mac)).prefix(16))
    }

    /// The pseudonymised event id and `data`. The actor is always withheld. Fields the rules
    /// do not name are dropped: whatever a later version adds stays out until decided.
    public func transform(type: EventType, id: String, data: JSONObject) -> (id: String, data: JSONObject) {
        let rules = Self.rules[type] ?? [:]
        var out = JSONObject()
        for (field, value) in data.pairs {
            switch rules[field] ?? .drop {
            case .keep: out[field] = value
            case .drop: continue
            case .withhold: out[field] = .string(Self.withheldText)
            case .id(let kind):
                out[field] = value.string.map { .string(pseudonym(kind, $0)) } ?? value
            case .ids(let kind):
                out[field] = .array((value.array ?? []).map { v in v.string.map { .string(pseudonym(kind, $0)) } ?? v })
            case .nameOf(let kind, let idField):
                out[field] = .string(pseudonym(kind, data.string(idField) ?? ""))
            case .text(let kind):
                out[field] = value.string.map { .string(pseudonym(kind, $0)) } ?? value
            case .band:
                out[field] = value.int.map { .int(Self.schoolsBand($0)) } ?? value
            }
        }
        return (pseudonym(.event, id), out)
    }
}

/// How many organisations of a pseudonymised archive stand alone by what it still says about
/// them: (kind, schools band, region pseudonym). An organisation unique by those can be picked
/// out by anyone who knows which trust in a region has that many schools. Each organisation is
/// taken as its events leave it (updates applied in log order), retracted or not.
///
/// ## Topics
/// - ``observe(type:data:)``
/// - ``organisations``
/// - ``unique``
public struct OrganisationUniqueness: Sendable, Equatable {
    private struct Traits: Hashable, Sendable { var kind: String?; var schools: Int64?; var region: String? }
    private var traits: [String: Traits] = [:]

    public init() {}

    /// Takes one pseudonymised event's `data`.
    public mutating func observe(type: EventType, data: JSONObject) {
        guard type == .organisationRegistered || type == .organisationUpdated, let org = data.string("org_id") else { return }
        var t = traits[org] ?? Traits()
        if type == .organisationRegistered { t.kind = data.string("kind") }
        if let n = data.int("schools") { t.schools = n }
        if let r = data.string("region") { t.region = r }
        traits[org] = t
    }

    public var organisations: Int { traits.count }

    /// Organisations alone in their (kind, schools band, region) class.
    public var unique: Int {
        var sizes: [Traits: Int] = [:]
        for t in traits.values { sizes[t, default: 0] += 1 }
        return sizes.values.filter { $0 == 1 }.count
    }
}
