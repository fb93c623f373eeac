import CTrellisSQLite
#if canImport(Glibc)
import Glibc
#endif
import TrellisCore
/// The last event of the log: its seq, stored hash and `recorded_at` (seq 0 and the genesis
/// hash when the log is empty).
public struct LedgerHead: Sendable, Equatable {
    public var seq: Int64
    public var hash: [UInt8]
    public var recordedAt: String?
    public var hashHex: String { Hex.encode(hash) }

    public init(seq: Int64, hash: [UInt8], recordedAt: String?) {
        self.seq = seq; self.hash = hash; self.recordedAt = recordedAt
    }
}

/// What `trellis status` shows: the number of events, the head, the span of `occurred_at`
/// and the bytes the log takes where it is stored.
public struct LedgerStatus: Sendable, Equatable {
    public var events: Int64
    public var head: LedgerHead
    public var firstOccurredAt: String?
    public var lastOccurredAt: String?
    /// For a SQLite ledger: the file plus its WAL.
    public var storageBytes: Int64

    public init(events: Int64, head: LedgerHead, firstOccurredAt: String?, lastOccurredAt: String?, storageBytes: Int64) {
        self.events = events; self.head = head; self.firstOccurredAt = firstOccurredAt
        self.lastOccurredAt = lastOccurredAt; self.storageBytes = storageBytes
    }
}

/// How a batch is appended.
public struct AppendOptions: Sendable {
    /// Stop after this many errors.
    public var maxErrors = 100
    /// For tests: into an empty log, insert `events` rows one at a time (as into any other)
    /// rather than many to a statement (``PendingEvents``), or with an id filter of this many
    /// bits instead of 2²⁵ (a small one answers "maybe taken" for most ids).
    package var rowByRow = false
    package var idFilterBits: Int?
    public init() {}
}

/// One stored event's columns as UTF-8 bytes, borrowed: valid only inside the body of
/// ``LedgerStore/scanStored(from:through:_:)`` (copy what must outlive it).
public struct StoredEventBytes {
    public var seq: Int64
    public var id: UnsafeBufferPointer<UInt8>
    public var type: UnsafeBufferPointer<UInt8>
    public var v: Int64
    public var occurredAt: UnsafeBufferPointer<UInt8>
    public var recordedAt: UnsafeBufferPointer<UInt8>
    public var actor: UnsafeBufferPointer<UInt8>?
    /// Stored `data`: canonical JSON, personal fields sealed.
    public var data: UnsafeBufferPointer<UInt8>
    public var hash: UnsafeBufferPointer<UInt8>

    public init(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) {
        self.seq = seq; self.id = id; self.type = type; self.v = v; self.occurredAt = occurredAt
        self.recordedAt = recordedAt; self.actor = actor; self.data = data; self.hash = hash
    }
}

extension StoredEventBytes {
    /// The row as a ``RecordedEvent`` (its texts copied out).
    public var recorded: RecordedEvent {
        func text(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        return RecordedEvent(seq: seq, id: text(id), type: text(type), v: v, occurredAt: text(occurredAt),
                             recordedAt: text(recordedAt), actor: actor.map(text), data: data.isEmpty ? "{}" : text(data),
                             hash: Array(hash))
    }

    /// Whether the stored type is `name`, compared byte for byte.
    @inline(__always) public func isType(_ name: ByteText) -> Bool { name.equals(type) }

    /// Whether `data` holds `needle` (``ByteText/quoted(_:)``: a string value or key of that
    /// text, as canonical JSON writes an identifier). A test before parsing, never instead.
    @inline(__always) public func dataMentions(_ needle: ByteText) -> Bool { needle.occurs(in: data) }
}

/// The log: the only source of truth. Everything a user reads is derived from it.
///
/// The interface is deliberately narrow, as in the `eventsourcing` library's recorders:
/// append a batch, scan from a position, the head, the stored hashes, the retractions the
/// log records, `recorded_at` bounds and the rule-state look-ups. ``Ledger`` (one SQLite
/// file) implements it; a second backend is a second conforming type, not a rewrite of the
/// modules above. The read models live on the read side (TrellisProjections), never here.
///
/// ## Topics
/// - ``location``
/// - ``head()``
/// - ``status()``
/// - ``append(options:_:)``
/// - ``appendArchived(_:)``
/// - ``scan(from:through:_:)``
/// - ``event(id:)``
/// - ``retractions()``
/// - ``personKeys()``
/// - ``lastSeq(recordedAtOrBefore:)``
/// - ``knows(_:_:)``
/// - ``hashes(from:through:_:)``
/// - ``recordedAtBounds()``
/// - ``scanStored(from:through:_:)``
public protocol LedgerStore: AnyObject, Sendable {
    /// Where the log lives, for messages: a file path, or a PostgreSQL URL with no password.
    var location: String { get }
    func head() throws(LedgerError) -> LedgerHead
    func status() throws(LedgerError) -> LedgerStatus
    /// One batch, all or nothing, rules checked against the state as of the writer's lock.
    func append(options: AppendOptions,
                _ feed: (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void) throws -> AppendOutcome
    /// Archive import: already-chained events, every rule re-checked, hashes must match.
    func appendArchived(_ feed: (_ visit: (ChainedEvent) throws -> Void) throws -> Void) throws -> AppendOutcome
    /// Events with from ≤ seq ≤ through in seq order, in one consistent read; body returns false to stop.
    func scan(from: Int64, through: Int64, _ body: (RecordedEvent) throws -> Bool) throws
    func event(id: String) throws(LedgerError) -> RecordedEvent?
    /// Retracted seq → retraction seq, from the log's EventRetracted events.
    func retractions() throws(LedgerError) -> [Int64: Int64]
    func personKeys() throws(LedgerError) -> [String: [UInt8]]
    /// Last seq with recorded_at ≤ text (`--known-at`); recorded_at never goes backwards.
    func lastSeq(recordedAtOrBefore text: String) throws(LedgerError) -> Int64
    /// Whether the id was ever used for an entity of that kind (rule tables, no scan).
    func knows(_ kind: EntityKind, _ key: String) throws(LedgerError) -> Bool
    /// The stored hash of each event with from ≤ seq ≤ through, in order (proofs, archive bounds).
    func hashes(from: Int64, through: Int64, _ body: (Int64, [UInt8]) throws -> Void) throws
    /// recorded_at of the first and last event (nil when empty).
    func recordedAtBounds() throws(LedgerError) -> (first: String, last: String)?
    /// Takes persons' keys from another store holding the same log (a ledger moved from a
    /// laptop to the shared server by its archive, which never carries keys): only for persons
    /// this log registered and has not erased, only where it holds no key; 32 bytes each.
    /// Returns how many were taken.
    func adoptKeys(_ keys: [String: [UInt8]]) throws -> Int
    /// ``scan(from:through:_:)`` with the columns borrowed as bytes, for a caller that only
    /// copies them out (the archive export). Has a default (``scan(from:through:_:)``); a
    /// store that can lend its rows' bytes without building strings implements it.
    func scanStored(from: Int64, through: Int64, _ body: (StoredEventBytes) throws -> Bool) throws
    /// ``scanStored(from:through:_:)`` of the rows `filter` lets through, at least (a store may
    /// let the rest through too: the caller still tests each row). Has a default, which tests
    /// each row's bytes; a store whose query can leave rows out (SQLite's) does so, and the
    /// rows left out cost nothing beyond SQLite's own scan.
    func scanStored(from: Int64, through: Int64, matching filter: StoredRowFilter, _ body: (StoredEventBytes) throws -> Bool) throws
}

/// The rows a scan needs: those of one of `types`, and those whose data mentions one of
/// `mentioning` (the text in double quotes, as canonical JSON writes an identifier). Both
/// empty: every row.
public struct StoredRowFilter: Sendable {
    public var types: [String]
    public var mentioning: [String]

    public init(types: [String] = [], mentioning: [String] = []) {
        self.types = types; self.mentioning = mentioning
    }

    var isEverything: Bool { types.isEmpty && mentioning.isEmpty }

    /// The test a store makes when its query cannot.
    func admits(_ row: StoredEventBytes, types: [ByteText], mentions: [ByteText]) -> Bool {
        isEverything || types.contains(where: { row.isType($0) }) || mentions.contains(where: { row.dataMentions($0) })
    }
}

extension LedgerStore {
    /// ``append(options:_:)`` with the default options.
    public func append(_ feed: (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void) throws -> AppendOutcome {
        try append(options: AppendOptions(), feed)
    }

    /// Appends one envelope given as text (the `append` command).
    public func append(json: String) throws -> AppendOutcome {
        var text = json
        return try append(options: AppendOptions()) { visit in
            _ = try text.withUTF8 { try visit($0, 0, nil) }
        }
    }

    public func scanStored(from: Int64, through: Int64, matching filter: StoredRowFilter, _ body: (StoredEventBytes) throws -> Bool) throws {
        let types = filter.types.map(ByteText.init), mentions = filter.mentioning.map(ByteText.quoted)
        try scanStored(from: from, through: through) { row in
            filter.admits(row, types: types, mentions: mentions) ? try body(row) : true
        }
    }

    public func scanStored(from: Int64, through: Int64, _ body: (StoredEventBytes) throws -> Bool) throws {
        try scan(from: from, through: through) { e in
            var (id, type, occurredAt, recordedAt, data) = (e.id, e.type, e.occurredAt, e.recordedAt, e.data)
            return try id.withUTF8 { id in try type.withUTF8 { type in try occurredAt.withUTF8 { occurredAt in
                try recordedAt.withUTF8 { recordedAt in try data.withUTF8 { data in try e.hash.withUnsafeBufferPointer { hash in
                    let stored = { (actor: UnsafeBufferPointer<UInt8>?) in
                        StoredEventBytes(seq: e.seq, id: id, type: type, v: e.v, occurredAt: occurredAt, recordedAt: recordedAt,
                                         actor: actor, data: data, hash: hash)
                    }
                    if var actor = e.actor { return try actor.withUTF8 { try body(stored($0)) } }
                    return try body(stored(nil))
                } } }
            } } }
        }
    }

    /// The stored hash of the event at `seq`, nil when there is none.
    public func hash(at seq: Int64) throws -> [UInt8]? {
        var found: [UInt8]?
        try hashes(from: seq, through: seq) { _, h in found = h }
        return found
    }
}

/// Text to find in or compare with stored bytes, its UTF-8 laid out once (a scan tests a
/// million rows against the same few texts).
public struct ByteText: Sendable, Hashable {
    public let utf8: [UInt8]

    public init(_ text: String) { utf8 = Array(text.utf8) }

    /// The text in double quotes: how canonical JSON writes it as a string.
    public static func quoted(_ text: String) -> ByteText { ByteText("\"" + text + "\"") }

    /// The same bytes.
    @inline(__always) public func equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == utf8.count else { return false }
        return utf8.withUnsafeBufferPointer { t in
            guard let a = t.baseAddress, let b = bytes.baseAddress else { return true }   // both empty
            return memcmp(a, b, t.count) == 0
        }
    }

    /// Somewhere in `bytes`.
    @inline(__always) public func occurs(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= utf8.count, let haystack = bytes.baseAddress else { return false }
        return utf8.withUnsafeBufferPointer { n in
            guard let needle = n.baseAddress else { return true }
            return ctrellis_memmem(haystack, bytes.count, needle, n.count) != nil
        }
    }
}
