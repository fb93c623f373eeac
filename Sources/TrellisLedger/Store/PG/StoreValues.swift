import TrellisCore

// Constructors other stores of this package (PostgreSQL) need for the core's values.

extension EntityFact {
    /// For other stores of this package (the memberwise initialiser is internal).
    package static func make(seq: Int64, parent: String?, state: Int64) -> EntityFact {
        EntityFact(seq: seq, parent: parent, state: EntityFact.State(rawValue: state))
    }
}

extension RecordedEvent {
    /// For other stores of this package (the memberwise initialiser is internal).
    package static func make(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                             actor: String?, data: String, hash: [UInt8]) -> RecordedEvent {
        RecordedEvent(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor, data: data, hash: hash)
    }
}

extension LedgerHead {
    package static func make(seq: Int64, hash: [UInt8], recordedAt: String?) -> LedgerHead {
        LedgerHead(seq: seq, hash: hash, recordedAt: recordedAt)
    }
}
