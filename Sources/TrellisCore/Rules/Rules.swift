/// The kinds of thing an event can create, each with its own identifier space.
public enum EntityKind: String, Sendable, Hashable, CaseIterable {
    case network, organisation, person, meeting, document, review
}

/// What the ledger knows of one entity, as the append rules need it.
public struct EntityFact: Sendable, Equatable {
    public struct State: OptionSet, Sendable, Hashable {
        public let rawValue: Int64
        public init(rawValue: Int64) { self.rawValue = rawValue }
        /// The event that created it was retracted: it does not exist, but its id stays used.
        public static let retracted = State(rawValue: 1)
        public static let erased = State(rawValue: 2)
        public static let completed = State(rawValue: 4)
        public static let withdrawn = State(rawValue: 8)
    }
    /// The seq of the event that created it.
    public var seq: Int64
    /// A person's organisation, a meeting's network, a document's sharing organisation.
    public var parent: String?
    public var state: State

    public init(seq: Int64, parent: String?, state: State) {
        self.seq = seq; self.parent = parent; self.state = state
    }

    public var exists: Bool { !state.contains(.retracted) }
}

/// An event already in the log, as a retraction sees its target.
public struct RecordedEventRef: Sendable, Equatable {
    public var seq: Int64
    public var type: EventType
    public var data: JSONObject

    public init(seq: Int64, type: EventType, data: JSONObject) {
        self.seq = seq; self.type = type; self.data = data
    }
}

/// What the append rules may ask of the log so far. The store answers from its rule
/// tables (kept in the same transaction as the log), tests from memory.
public protocol LedgerFacts {
    /// nil when the id was never used for that kind.
    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact?
    /// The org's latest non-retracted join/leave for the network (in log order) is a join.
    func isMember(network: String, org: String) throws -> Bool
    func event(id: String) throws -> RecordedEventRef?
    func isRetracted(seq: Int64) throws -> Bool
}

/// A change to the rule state that appending an event makes.
public enum RuleEffect: Sendable, Equatable {
    case create(EntityKind, key: String, parent: String?)
    case setState(EntityKind, key: String, EntityFact.State, on: Bool)
    case membership(network: String, org: String, joined: Bool)
    case undoMembership(network: String, org: String, seq: Int64)
    case retract(targetSeq: Int64)
    case erase(person: String)
}

/// An entity a rule check looks up: its kind, and the `data` field that names it.
public struct EntityLookup: Sendable, Equatable {
    public let kind: EntityKind
    public let field: String
}

/// The append rules of DOMAIN.md, checked against the log so far in `seq` order.
///
/// ## Topics
/// - ``check(_:against:line:)``
/// - ``effects(of:against:)``
public enum Rules {
    /// The rule violations of `event`, empty when it may be appended.
    public static func check(_ event: DecodedEvent, against facts: some LedgerFacts, line: Int) throws -> [InputError] {
        var errors: [InputError] = []
        let d = event.data
        func fail(_ field: String, _ expected: String, _ found: String) {
            errors.append(InputError(line: line, path: event.type.rawValue + "." + field, expected: expected, found: found))
        }
        func quoted(_ s: String) -> String { JSONValue.string(s).described }

        /// The id must never have been used for this kind, even by a retracted event.
        func unused(_ kind: EntityKind, _ field: String) throws {
            guard let key = d.string(field) else { return }
            if let fact = try facts.entity(kind, key) {
                fail(field, "a \(kind.rawValue) id not used before",
                     quoted(key) + (fact.exists ? " (recorded at seq \(fact.seq))" : " (used at seq \(fact.seq), since retracted; ids are never reused)"))
            }
        }
        @discardableResult
        func existing(_ kind: EntityKind, _ field: String, key: String? = nil) throws -> EntityFact? {
            guard let key = key ?? d.string(field) else { return nil }
            guard let fact = try facts.entity(kind, key) else {
                fail(field, "a \(kind.rawValue) recorded in the ledger", quoted(key) + " (unknown)")
                return nil
            }
            guard fact.exists else {
                fail(field, "a \(kind.rawValue) recorded in the ledger", quoted(key) + " (its event at seq \(fact.seq) was retracted)")
                return nil
            }
            return fact
        }

        switch event.type {
        case .networkFormed:
            // The convenor is kept as given: networks are usually formed before their members register.
            try unused(.network, "network_id")
        case .organisationRegistered:
            try unused(.organisation, "org_id")
        case .organisationUpdated:
            try existing(.organisation, "org_id")
        case .personRegistered:
            try unused(.person, "person_id")
            try existing(.organisation, "org_id")
        case .memberJoined, .memberLeft:
            let network = try existing(.network, "network_id")
            let org = try existing(.organisation, "org_id")
            if network != nil, org != nil, let n = d.string("network_id"), let o = d.string("org_id") {
                let member = try facts.isMember(network: n, org: o)
                if event.type == .memberJoined, member {
                    fail("org_id", "an organisation not already a member of \(n)", quoted(o) + " (already a member)")
                } else if event.type == .memberLeft, !member {
                    fail("org_id", "an organisation that is a member of \(n)", quoted(o) + " (not a member)")
                }
            }
        case .meetingHeld:
            try unused(.meeting, "meeting_id")
            try existing(.network, "network_id")
        case .attendanceRecorded:
            try existing(.meeting, "meeting_id")
            let org = try existing(.organisation, "org_id")
            if let personID = d.string("person_id"), let person = try existing(.person, "person_id"),
               org != nil, let orgID = d.string("org_id"), person.parent != orgID {
                fail("person_id", "a person of organisation \(orgID)", quoted(personID) + " (belongs to \(person.parent ?? "another organisation"))")
            }
        case .documentShared:
            try unused(.document, "document_id")
            try existing(.organisation, "org_id")
            try existing(.network, "network_id")
        case .documentAdopted:
            // DOMAIN.md: the document exists and the adopter is not the sharer. The adopter need
            // not be registered (a guest trust may adopt); figures only count members anyway.
            if let document = try existing(.document, "document_id"), let orgID = d.string("org_id"), document.parent == orgID {
                fail("org_id", "an organisation other than the one that shared the document", quoted(orgID) + " (the sharer)")
            }
        case .reviewCommitted:
            try unused(.review, "review_id")
            try existing(.network, "network_id")
            let reviewee = d.string("reviewee_org_id")
            if reviewee != nil { try existing(.organisation, "reviewee_org_id") }
            for (k, reviewer) in d.strings("reviewer_org_ids").enumerated() {
                try existing(.organisation, "reviewer_org_ids[\(k)]", key: reviewer)
                if reviewer == reviewee {
                    fail("reviewer_org_ids[\(k)]", "a reviewer other than the reviewee", quoted(reviewer) + " (the reviewee)")
                }
            }
        case .reviewCompleted, .reviewWithdrawn:
            if let review = try existing(.review, "review_id") {
                if review.state.contains(.completed) {
                    fail("review_id", "a review that is committed, not completed or withdrawn", quoted(d.string("review_id") ?? "") + " (already completed)")
                } else if review.state.contains(.withdrawn) {
                    fail("review_id", "a review that is committed, not completed or withdrawn", quoted(d.string("review_id") ?? "") + " (withdrawn)")
                }
            }
        case .reviewOutcomeShared:
            if let review = try existing(.review, "review_id"), !review.state.contains(.completed) {
                fail("review_id", "a completed review", quoted(d.string("review_id") ?? "") + (review.state.contains(.withdrawn) ? " (withdrawn)" : " (not completed)"))
            }
        case .eventRetracted:
            guard let targetID = d.string("event_id") else { break }
            guard let target = try facts.event(id: targetID) else {
                fail("event_id", "the id of an event in the ledger", quoted(targetID) + " (unknown)")
                break
            }
            if target.type == .eventRetracted {
                fail("event_id", "an event that is not itself a retraction", quoted(targetID) + " (a retraction, seq \(target.seq))")
            } else if try facts.isRetracted(seq: target.seq) {
                fail("event_id", "an event not already retracted", quoted(targetID) + " (seq \(target.seq), already retracted)")
            }
        case .personErased:
            // Erasure is a legal duty: a person whose registration was retracted still has a
            // sealed name in the log, so "exists" here means "was registered", retracted or not.
            guard let key = d.string("person_id") else { break }
            guard let person = try facts.entity(.person, key) else {
                fail("person_id", "a person recorded in the ledger", quoted(key) + " (unknown)")
                break
            }
            if person.state.contains(.erased) {
                fail("person_id", "a person not already erased", quoted(key) + " (already erased)")
            }
        }
        return errors
    }

    /// The entities ``check(_:against:line:)`` asks its facts for first, in the order it asks,
    /// for an event of `type` (at most three; a field the event lacks is not asked for). Written
    /// beside the checks so that the two change together, for a caller that wants them ahead of
    /// the check: the import's writer asks for their rule-cache slots events ahead. A tuple of
    /// literals, so that asking costs no allocation. `EntityHintsTests` holds the two in step.
    public static func firstLookups(of type: EventType) -> (EntityLookup?, EntityLookup?, EntityLookup?) {
        func l(_ kind: EntityKind, _ field: String) -> EntityLookup { EntityLookup(kind: kind, field: field) }
        switch type {
        case .attendanceRecorded: return (l(.meeting, "meeting_id"), l(.organisation, "org_id"), l(.person, "person_id"))
        case .documentAdopted: return (l(.document, "document_id"), nil, nil)
        case .documentShared: return (l(.document, "document_id"), l(.organisation, "org_id"), l(.network, "network_id"))
        case .personRegistered: return (l(.person, "person_id"), l(.organisation, "org_id"), nil)
        case .memberJoined, .memberLeft: return (l(.network, "network_id"), l(.organisation, "org_id"), nil)
        case .meetingHeld: return (l(.meeting, "meeting_id"), l(.network, "network_id"), nil)
        case .reviewCommitted: return (l(.review, "review_id"), l(.network, "network_id"), l(.organisation, "reviewee_org_id"))
        case .reviewCompleted, .reviewWithdrawn, .reviewOutcomeShared: return (l(.review, "review_id"), nil, nil)
        case .organisationRegistered, .organisationUpdated: return (l(.organisation, "org_id"), nil, nil)
        case .networkFormed: return (l(.network, "network_id"), nil, nil)
        case .personErased: return (l(.person, "person_id"), nil, nil)
        case .eventRetracted: return (nil, nil, nil)
        }
    }

    /// What appending `event` (already checked) changes in the rule state.
    public static func effects(of event: DecodedEvent, against facts: some LedgerFacts) throws -> [RuleEffect] {
        let d = event.data
        func s(_ key: String) -> String { d.string(key) ?? "" }
        switch event.type {
        case .networkFormed: return [.create(.network, key: s("network_id"), parent: nil)]
        case .organisationRegistered: return [.create(.organisation, key: s("org_id"), parent: nil)]
        case .personRegistered: return [.create(.person, key: s("person_id"), parent: s("org_id"))]
        case .meetingHeld: return [.create(.meeting, key: s("meeting_id"), parent: s("network_id"))]
        case .documentShared: return [.create(.document, key: s("document_id"), parent: s("org_id"))]
        case .reviewCommitted: return [.create(.review, key: s("review_id"), parent: s("network_id"))]
        case .memberJoined: return [.membership(network: s("network_id"), org: s("org_id"), joined: true)]
        case .memberLeft: return [.membership(network: s("network_id"), org: s("org_id"), joined: false)]
        case .reviewCompleted: return [.setState(.review, key: s("review_id"), .completed, on: true)]
        case .reviewWithdrawn: return [.setState(.review, key: s("review_id"), .withdrawn, on: true)]
        case .personErased: return [.erase(person: s("person_id"))]
        case .organisationUpdated, .attendanceRecorded, .documentAdopted, .reviewOutcomeShared: return []
        case .eventRetracted:
            guard let target = try facts.event(id: s("event_id")) else { return [] }
            return [.retract(targetSeq: target.seq)] + undo(target)
        }
    }

    /// What retracting `target` undoes: as if it had never been appended, but its id stays used.
    static func undo(_ target: RecordedEventRef) -> [RuleEffect] {
        let d = target.data
        func s(_ key: String) -> String { d.string(key) ?? "" }
        switch target.type {
        case .networkFormed: return [.setState(.network, key: s("network_id"), .retracted, on: true)]
        case .organisationRegistered: return [.setState(.organisation, key: s("org_id"), .retracted, on: true)]
        case .personRegistered: return [.setState(.person, key: s("person_id"), .retracted, on: true)]
        case .meetingHeld: return [.setState(.meeting, key: s("meeting_id"), .retracted, on: true)]
        case .documentShared: return [.setState(.document, key: s("document_id"), .retracted, on: true)]
        case .reviewCommitted: return [.setState(.review, key: s("review_id"), .retracted, on: true)]
        case .memberJoined, .memberLeft: return [.undoMembership(network: s("network_id"), org: s("org_id"), seq: target.seq)]
        case .reviewCompleted: return [.setState(.review, key: s("review_id"), .completed, on: false)]
        case .reviewWithdrawn: return [.setState(.review, key: s("review_id"), .withdrawn, on: false)]
        // A retracted erasure lets the person be erased again, but nothing brings the key
        // back: the personal fields stay unreadable ("(erased)") for good.
        case .personErased: return [.setState(.person, key: s("person_id"), .erased, on: false)]
        case .organisationUpdated, .attendanceRecorded, .documentAdopted, .reviewOutcomeShared, .eventRetracted: return []
        }
    }
}
