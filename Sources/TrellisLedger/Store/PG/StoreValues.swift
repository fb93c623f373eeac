// Stand-ins for the store interface's value types (STORE-PROTOCOL.md), until the branch that
// creates `LedgerStore` lands: then `LedgerHead`/`LedgerStatus` are its, and this file goes.

/// The log's head: its last seq and hash (the genesis hash when empty).
public typealias LedgerHead = Ledger.Head

/// What `trellis status` shows of a store.
public struct LedgerStatus: Sendable, Equatable {
    public var events: Int64
    public var head: LedgerHead
    public var firstOccurredAt: String?
    public var lastOccurredAt: String?
    /// The bytes the log takes on disk (file and WAL; for PostgreSQL, the database's size).
    public var storageBytes: Int64

    public init(events: Int64, head: LedgerHead, firstOccurredAt: String?, lastOccurredAt: String?, storageBytes: Int64) {
        self.events = events; self.head = head; self.firstOccurredAt = firstOccurredAt
        self.lastOccurredAt = lastOccurredAt; self.storageBytes = storageBytes
    }
}

extension Ledger.Head {
    /// For other stores of this package (the memberwise initialiser is internal).
    package static func make(seq: Int64, hash: [UInt8], recordedAt: String?) -> Ledger.Head {
        Ledger.Head(seq: seq, hash: hash, recordedAt: recordedAt)
    }
}

extension EntityFact {
    /// For other stores of this package (the memberwise initialiser is internal).
    package static func make(seq: Int64, parent: String?, state: Int64) -> EntityFact {
        EntityFact(seq: seq, parent: parent, state: State(rawValue: state))
    }
}

extension RecordedEvent {
    /// For other stores of this package (the memberwise initialiser is internal).
    package static func make(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                             actor: String?, data: String, hash: [UInt8]) -> RecordedEvent {
        RecordedEvent(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor, data: data, hash: hash)
    }
}
