import GRDB
import GRDBSQLite
import TrellisCore

// Appending events carried over from an archive (`trellis export`): unlike a normal import,
// each event keeps its seq, recorded_at and hash. Two stages, the first in two parts so that
// the pure work can run on any thread (see TrellisResearch's archive reader):
//
// 1. ``ArchiveExaminer/examine(_:line:envelope:)`` checks one archived event on its own: every
//    envelope field is in the form the ledger writes, `data` passes the decoder (personal
//    fields are checked only as sealed text), and writes the canonical envelope the hash
//    covers. ``ArchiveChain/link(_:envelope:hashVouchedFor:chainedOnPrevious:)`` then checks, in log order, that
//    seq follows the one before, recorded_at never goes backwards, and the hash is
//    SHA-256(previous ‖ canonical). It returns a ``ChainedEvent``, which only this module can
//    make. ``ArchiveChain/admit(_:line:)`` does both for one event.
// 2. ``Ledger/appendArchived(_:)`` takes chained events in one transaction: an event the
//    ledger already holds must have the same hash (it is skipped); the next one must chain
//    onto the ledger's head; then the append rules are checked and their effects written
//    exactly as for a normal import, so the ledger accepts further appends correctly.

/// An archived event that ``ArchiveChain`` has checked: it chains onto `previousHash`.
/// Only this module makes them, so ``Ledger/appendArchived(_:)`` can trust the hash.
/// A class of constants (so still a value): the writer reads the fields where the checking
/// thread left them, where a struct was copied out of each chunk (atomic retains and
/// releases of that thread's strings and arrays, each a cache line taken from the other core).
///
/// Made by ``ArchiveExaminer`` with no previous hash, which ``ArchiveChain/link(_:envelope:hashVouchedFor:chainedOnPrevious:)``
/// sets once it has checked the hash, before the event leaves it: nothing else ever sees one
/// unlinked (building it once, where a struct was built and then copied into it, saved 0.5 k
/// instructions an event of the full verify's replay: callgrind, 50 k events, 2.887 G → 2.863 G).
public final class ChainedEvent: @unchecked Sendable {
    /// The event as it is stored and hashed (`data` canonical).
    public let event: RecordedEvent
    /// Written once, by the link, before any other thread sees the event: not checked for
    /// exclusive access at run time (the check cost 0.16 k instructions an event of the full
    /// verify's replay: callgrind, 50 k events, 2.863 G → 2.855 G).
    @exclusivity(unchecked) public internal(set) var previousHash: [UInt8]
    /// The line of the archive it came from (1 is the manifest), for messages.
    public let line: Int
    package let decoded: DecodedEvent
    /// Its id's hash in a first import's id filter (``IdFilter/hash(_:)``), worked out where it
    /// was examined.
    package let idHash: UInt64
    /// Where the rule checks and the id filter of the event ``Batch/lookahead`` places on will
    /// look (zero for none), set where the chunk was examined (``ArchiveExaminer/setLookahead(_:)``)
    /// and before any other thread sees the event: the writer asks for those places as it
    /// takes this event, so they are in cache when it gets there, as a normal import's writer
    /// does (``Batch/process(_:_:)``).
    @exclusivity(unchecked) package internal(set) var ahead = Lookahead()

    package struct Lookahead: Sendable {
        package var hints = EntityHints()
        package var idHash: UInt64 = 0
    }

    init(event: RecordedEvent, previousHash: [UInt8], line: Int, decoded: DecodedEvent) {
        self.event = event; self.previousHash = previousHash; self.line = line; self.decoded = decoded
        var id = event.id
        idHash = id.withUTF8(IdFilter.hash)
    }

    // Read-through accessors for the insert (plain properties: a key-path dynamic member
    // lookup cost the archive import's writer a third more CPU).
    public var seq: Int64 { event.seq }
    public var id: String { event.id }
    /// The decoded type (the record holds its text).
    public var type: EventType { decoded.type }
    public var v: Int64 { event.v }
    public var occurredAt: String { event.occurredAt }
    public var recordedAt: String { event.recordedAt }
    public var actor: String? { event.actor }
    public var hash: [UInt8] { event.hash }
}

/// Why an archived event fails on its own: the archive is broken at `seq` (its chain or form
/// is wrong), or `refused` (it verifies, but carries what a ledger must not take in: personal
/// fields in clear, a recorded_at in the future).
public struct ArchiveEventError: Error, Sendable, CustomStringConvertible {
    public var seq: Int64
    public var line: Int
    public var why: String
    /// Bad content rather than a broken chain (exit 65 rather than 1).
    public var refused = false
    public var description: String { refused ? "line \(line) (seq \(seq)): \(why)" : "broken at seq \(seq): \(why)" }
}

/// The ledger already holds a different event at `seq`: it is not a prefix of the archive.
public struct ArchiveDivergence: Error, Sendable, CustomStringConvertible {
    public var seq: Int64
    public var ledgerHash: String
    public var archiveHash: String
    public var description: String {
        "the ledger and the archive differ at seq \(seq) (ledger \(ledgerHash.prefix(16))…, archive \(archiveHash.prefix(16))…): "
            + "the ledger holds other events than the archive, so the archive cannot be added to it"
    }
}

/// Recomputes an archive's hash chain event by event, from seq 1 and the zero hash.
public struct ArchiveChain: Sendable {
    /// How far a recorded_at may be ahead of this machine's clock (5 minutes): clocks differ a
    /// little between machines; a time beyond that would be inherited by every later append
    /// (recorded_at never goes backwards) and make `--known-at` meaningless.
    public static let clockTolerance: Int64 = 5 * 60 * 1_000_000

    public private(set) var previousHash: [UInt8] = CanonicalEnvelope.genesis
    public private(set) var lastSeq: Int64 = 0
    public private(set) var lastRecordedAt: String?
    /// For ``admit(_:line:)``: the checks of one event on its own, and the envelope's buffer.
    private var examiner = ArchiveExaminer()
    private var canonical: [UInt8] = []
    /// recorded_at texts above this are in the future.
    private let latestAcceptable: String

    /// `now` (microseconds since 1970) is the clock recorded_at is checked against.
    public init(now: Int64 = Timestamp.nowMicros()) {
        latestAcceptable = Timestamp.recordedText(micros: now + Self.clockTolerance)
    }

    /// A chain that continues after `head` (a mirror catching up from a shared log), with
    /// no bound on recorded_at: the log already holds what it mirrors.
    public init(after head: LedgerHead) {
        latestAcceptable = "9999"
        previousHash = head.hash
        lastSeq = head.seq
        lastRecordedAt = head.recordedAt
    }

    /// Checks `e` and moves the chain on; throws naming the seq and what is wrong.
    /// `line` is where `e` was read (the archive's line, or the seq when replaying a ledger), for messages.
    public mutating func admit(_ e: RecordedEvent, line: Int) throws(ArchiveEventError) -> ChainedEvent {
        examiner.envelopes.removeAll(keepingCapacity: true)
        let examined = examiner.examine(e, line: line)
        return try examiner.envelopes.withUnsafeBufferPointer { b throws(ArchiveEventError) in
            try link(examined, envelope: UnsafeBufferPointer(rebasing: b[examined.envelope]))
        }
    }

    /// The checks that need the events before this one, in log order: seq follows the last,
    /// recorded_at never goes backwards nor beyond the clock, and the hash is
    /// SHA-256(previous ‖ canonical envelope). The examination's own problems are thrown in
    /// the order a single pass makes its checks. `envelope` is the stored form's canonical
    /// envelope (``ArchiveExaminer``); nil to have it written here when it is needed.
    ///
    /// With `hashVouchedFor` the stored hash is taken as given instead of recomputed: for full
    /// verify's replay only (``ReplayChunk``), and only for rows a concurrent chain check of the
    /// same verify covers, whose result is reported only if that check finds the chain intact.
    /// Every other check is made; `data` that is not canonical is still hashed (the hash
    /// decides which form counts). An archive import and a cache catch-up never pass it.
    ///
    /// `chainedOnPrevious`: the caller found the event's hash to be SHA-256 of the hash the
    /// event it links just before carries ‖ `envelope` (an archive's chunk, checked on the
    /// thread that examined it). Once that event is linked, its hash is the chain's head, so
    /// the hash need not be computed again here; with any other event before it, the caller
    /// must not say so.
    package mutating func link(_ x: ExaminedEvent, envelope: UnsafeBufferPointer<UInt8>?, hashVouchedFor: Bool = false,
                               chainedOnPrevious: Bool = false) throws(ArchiveEventError) -> ChainedEvent {
        let seq = x.seq
        func broken(_ why: String) -> ArchiveEventError { ArchiveEventError(seq: seq, line: x.line, why: why) }
        guard seq == lastSeq + 1 else {
            if seq <= lastSeq { throw broken("seq \(seq) comes after seq \(lastSeq): out of order") }
            throw broken(seq == lastSeq + 2 ? "event \(lastSeq + 1) is missing" : "events \(lastSeq + 1)–\(seq - 1) are missing")
        }
        if let early = x.early { throw early }
        // A batch shares one recorded_at: only a new value needs checking.
        let recordedAt = x.recordedAt
        if recordedAt != lastRecordedAt {
            guard Self.isRecordedAt(recordedAt) else {
                throw broken("recorded_at \(JSONValue.string(recordedAt).described) is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
            }
            if let last = lastRecordedAt, recordedAt < last {
                throw broken("recorded_at \(recordedAt) is before the previous event's \(last): the log's recorded_at never goes backwards")
            }
            if recordedAt > latestAcceptable {
                var refusal = broken("recorded_at \(recordedAt) is in the future (this machine's clock allows up to \(latestAcceptable), 5 minutes ahead): "
                                     + "every later append would inherit it and --known-at would stop meaning anything")
                refusal.refused = true
                throw refusal
            }
        }
        if let late = x.late { throw late }
        guard let chained = x.pending else { throw broken("the event was not examined") }
        // The event's fields are read where they lie, and the hash it carries becomes the
        // chain's once the recomputed one matches it: nothing is copied, nothing allocated.
        if !(hashVouchedFor && x.isCanonical) && !(chainedOnPrevious && envelope != nil) {
            let hash: Digest32
            if let envelope {
                hash = CanonicalEnvelope.chainDigest(previousHash, envelope)
            } else {
                canonical.removeAll(keepingCapacity: true)
                CanonicalEnvelope.write(chained.event, into: &canonical)
                hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chainDigest(previousHash, $0) }
            }
            guard hash.equals(chained.event.hash) else {
                throw broken("the hash does not match the event's content and the chain before it (changed, inserted or reordered?)")
            }
        }
        chained.previousHash = previousHash
        previousHash = chained.event.hash
        lastSeq = seq
        lastRecordedAt = recordedAt
        return chained
    }

    /// For each of `examined` (events in log order, their canonical envelopes in `envelopes`):
    /// whether its hash is SHA-256(the hash the event before it carries ‖ its envelope), for
    /// ``link(_:envelope:hashVouchedFor:chainedOnPrevious:)`` to skip computing again once that
    /// event is linked. Pure, for any thread. False for the first, for an event with a problem
    /// of its own or after one, and where the hashes differ: the link then recomputes, so that
    /// every refusal is made, and named, where and as it was before.
    package static func chainedOnPrevious(_ examined: UnsafeBufferPointer<ExaminedEvent>, envelopes: UnsafeBufferPointer<UInt8>) -> [Bool] {
        var chained = [Bool](repeating: false, count: examined.count)
        guard examined.count > 1 else { return chained }
        for i in 1..<examined.count {
            guard let event = examined[i].pending, let before = examined[i - 1].pending,
                  examined[i].early == nil, examined[i].late == nil else { continue }
            let hash = CanonicalEnvelope.chainDigest(before.event.hash, UnsafeBufferPointer(rebasing: envelopes[examined[i].envelope]))
            chained[i] = hash.equals(event.event.hash)
        }
        return chained
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, a real date and time: the only form the ledger writes.
    static func isRecordedAt(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 27, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              u[19] == UInt8(ascii: "."), u[26] == UInt8(ascii: "Z"), Timestamp.parseDate(String(decoding: u[0..<10], as: UTF8.self)) != nil
        else { return false }
        for i in [11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25] where !(0x30...0x39).contains(u[i]) { return false }
        let hh = Int(u[11] - 0x30) * 10 + Int(u[12] - 0x30), mm = Int(u[14] - 0x30) * 10 + Int(u[15] - 0x30)
        let ss = Int(u[17] - 0x30) * 10 + Int(u[18] - 0x30)
        return hh < 24 && mm < 60 && ss < 60
    }
}

/// An archived event's `data`, parsed where its line was read (``ArchiveExaminer/examine(_:data:line:envelope:)``).
package struct ParsedData: Sendable {
    package var object: JSONObject
    /// Known to be in canonical form (``JSONParser/parseValue(_:at:depth:)``); false may be too cautious.
    package var canonical: Bool

    package init(object: JSONObject, canonical: Bool) { self.object = object; self.canonical = canonical }
}

/// One archived event checked on its own, by ``ArchiveExaminer`` on any thread; linked into
/// the chain, in log order, by ``ArchiveChain/link(_:envelope:hashVouchedFor:chainedOnPrevious:)``.
package struct ExaminedEvent: Sendable {
    package let line: Int
    /// As read (the stored form differs only in `data`).
    package let seq: Int64
    package let recordedAt: String
    /// The first problem among id, type, version and occurred_at (checked before recorded_at
    /// in a single pass), and among actor, hash and data (after it).
    package let early: ArchiveEventError?
    package let late: ArchiveEventError?
    /// With no problem: the event as stored and hashed (`data` canonical), decoded for the
    /// rules, waiting for its previous hash.
    package let pending: ChainedEvent?
    package let isCanonical: Bool
    /// Where the stored form's canonical envelope lies in the examiner's ``ArchiveExaminer/envelopes``.
    package let envelope: Range<Int>
}

/// The checks of an archived event that need no event before it: every envelope field in the
/// form the ledger writes, `data` valid JSON made canonical and passing the decoder (personal
/// fields only as sealed text), and the canonical envelope the hash covers, written into
/// `envelopes`. Pure, so any thread may examine any chunk of an archive.
package struct ArchiveExaminer: Sendable {
    /// The last occurred_at checked, and its day: events of one meeting share it.
    private var lastOccurred: (text: String, day: Int)?
    /// Canonical envelopes of the examined events, back to back.
    package var envelopes: [UInt8] = []

    package init() {}

    /// Tells each examined event where the rule checks and the id filter of the event
    /// ``Batch/lookahead`` places after it will look (``ChainedEvent/ahead``); the last ones of
    /// a chunk are told nothing.
    package static func setLookahead(_ examined: UnsafeBufferPointer<ExaminedEvent>) {
        let n = Batch<SQLiteAppendStorage>.lookahead
        guard examined.count > n else { return }
        for i in 0..<(examined.count - n) {
            guard let event = examined[i].pending, let later = examined[i + n].pending else { continue }
            event.ahead = ChainedEvent.Lookahead(hints: EntityHints(later.decoded), idHash: later.idHash)
        }
    }

    /// Takes the event (`consuming`): it becomes the checked event's record as it is, where a
    /// borrowed one was copied (seven retains) and the caller's released (seven releases).
    /// callgrind, 50 k archived events: copies of a record 3 → 1 an event, 2.724 G → 2.672 G.
    package mutating func examine(_ e: consuming RecordedEvent, data parsedData: ParsedData? = nil, line: Int, envelope: Bool = true) -> ExaminedEvent {
        let seq = e.seq, recordedAt = e.recordedAt
        func broken(_ why: String) -> ArchiveEventError { ArchiveEventError(seq: seq, line: line, why: why) }
        func failed(early: ArchiveEventError? = nil, late: ArchiveEventError? = nil) -> ExaminedEvent {
            ExaminedEvent(line: line, seq: seq, recordedAt: recordedAt, early: early, late: late, pending: nil,
                          isCanonical: false, envelope: envelopes.count..<envelopes.count)
        }
        guard EventDecoder.isIdentifier(e.id) else { return failed(early: broken("id \(JSONValue.string(e.id).described) is not an identifier")) }
        guard let type = EventType.named(e.type) else { return failed(early: broken("unknown event type \(JSONValue.string(e.type).described)")) }
        guard EventType.knownVersions.contains(e.v) else { return failed(early: broken("\(e.type) v\(e.v) is a version this build does not know")) }
        let day: Int
        if let last = lastOccurred, last.text == e.occurredAt {
            day = last.day
        } else {
            guard let occurred = Timestamp.parseOccurredAt(e.occurredAt), occurred.text == e.occurredAt else {
                return failed(early: broken("occurred_at \(JSONValue.string(e.occurredAt).described) is not in the form the ledger writes"))
            }
            day = occurred.day
            lastOccurred = (e.occurredAt, day)
        }
        if let actor = e.actor, let problem = EventDecoder.textProblem(actor, min: 0, max: 200) {
            return failed(late: broken("actor: \(problem)"))
        }
        guard e.hash.count == 32 else { return failed(late: broken("the hash is not 32 bytes")) }

        // `data` as stored must be canonical JSON: a line Trellis wrote has it so already (the
        // common case, checked without rewriting); anything else is rewritten, and the hash decides.
        var isCanonical = false
        let data: JSONObject
        if let parsedData {
            // Parsed where the line was read, from the same bytes.
            data = parsedData.object
            isCanonical = parsedData.canonical || e.data.withUTF8(CanonicalForm.isCanonical)
        } else {
            let result: Result<JSONValue, JSONParser.Failure> = e.data.withUTF8 { b in
                do throws(JSONParser.Failure) {
                    // Parsing shows most canonical data so; only the rest is read again to find out.
                    let (value, known) = try JSONParser.parseNoticingCanonical(b)
                    isCanonical = known || CanonicalForm.isCanonical(b)
                    return .success(value)
                } catch { return .failure(error) }
            }
            switch result {
            case .success(.object(let o)): data = o
            case .success: return failed(late: broken("data is not an object"))
            case .failure(let f): return failed(late: broken("data is not valid JSON (\(f.message))"))
            }
        }
        if !isCanonical { e.data = CanonicalJSON.string(.object(data)) }

        // Personal fields must be sealed (or, for a name, withheld): a line carrying them in
        // clear would put personal data in the ledger beyond the reach of erasure, however
        // valid its chain. The decoder then checks the rest, with them standing in as valid text.
        var checked = data
        if type == .personRegistered {
            for field in PersonalData.fields(of: type) {
                guard let s = checked.string(field) else { continue }
                if let problem = PersonalData.archivedFieldProblem(field, s) {
                    var refusal = broken("\(e.type).\(field): personal data must be \(problem)")
                    refusal.refused = true
                    return failed(late: refusal)
                }
                checked[field] = .string(field == "email" ? "x@x" : "x")
            }
        }
        var errors: [InputError] = []
        EventDecoder.validate(data: checked, of: type, path: e.type + ".", into: &errors, line: line)
        if let first = errors.first {
            return failed(late: broken((first.path.isEmpty ? "" : first.path + ": ") + first.expected + (first.found.map { ", got " + $0 } ?? "")))
        }
        let decoded = DecodedEvent(id: e.id, type: type, v: e.v, occurredAt: e.occurredAt, day: day, actor: e.actor, data: data)
        let start = envelopes.count
        if envelope { CanonicalEnvelope.write(e, into: &envelopes) }
        return ExaminedEvent(line: line, seq: seq, recordedAt: recordedAt, early: nil, late: nil,
                             pending: ChainedEvent(event: e, previousHash: [], line: line, decoded: decoded),
                             isCanonical: isCanonical, envelope: start..<envelopes.count)
    }
}

extension Ledger {
    /// Appends the events `feed` produces, keeping their seq, recorded_at and hash, all or
    /// nothing, in one `BEGIN IMMEDIATE` transaction.
    ///
    /// Events the ledger already holds must have the same hash and are skipped (counted in
    /// `skipped`); the first new one must chain onto the ledger's head. Each new event is
    /// checked against the append rules and its effects written to the rule tables, as for a
    /// normal import. Personal fields are kept as they are (the chain covers the ciphertext);
    /// no person keys come with them, so those persons show as `(erased)` here.
    ///
    /// Throws ``ArchiveDivergence`` when the ledger holds other events, ``AppendRejected``
    /// when an event breaks a rule, and whatever `feed` throws; nothing is appended then.
    public func appendArchived(_ feed: (_ visit: (ChainedEvent) throws -> Void) throws -> Void) throws -> AppendOutcome {
        var outcome: AppendOutcome?
        do {
            try queue.writeWithoutTransaction { db in
                var destroyedKeys: [[UInt8]]?
                // Into an empty log with a rollback journal, each page written once (BulkLoad.swift).
                try Ledger.batchTransaction(db) {
                    // Into an empty log, rows many to a statement (PendingEvents.swift).
                    let storage = try SQLiteAppendStorage(db: db, bulk: Ledger.logIsEmpty(db))
                    let batch = Batch(storage: storage, head: try Ledger.head(db), options: AppendOptions())
                    let archive = ArchiveBatch(batch: batch)
                    try feed { try archive.append($0) }
                    try storage.finish()
                    if batch.erasedSomeone { destroyedKeys = batch.destroyedKeys }
                    outcome = AppendOutcome(appended: batch.appended, skipped: batch.skipped,
                                            head: Head(seq: batch.headSeq, hash: batch.headHash, recordedAt: batch.headRecordedAt))
                    return .commit
                }
                if let destroyedKeys { outcome?.erasureResidue = Ledger.purgeDestroyedKeys(db, path: path, keys: destroyedKeys) }
            }
        } catch let e as DatabaseError {
            throw Ledger.translate(e, path: path)
        }
        guard let outcome else { throw LedgerError.database("the archive import ended without an outcome") }
        return outcome
    }
}

/// The archive side of an import transaction: the normal ``Batch`` answers the rules and
/// writes their effects; this adds the insert that keeps the archive's seq, recorded_at and hash.
package final class ArchiveBatch<Storage: AppendStorage> {
    package let batch: Batch<Storage>
    /// The ledger's head when the transaction began: events up to it are compared, not appended.
    let existingHead: Int64

    package init(batch: Batch<Storage>) {
        self.batch = batch
        existingHead = batch.headSeq
    }

    package func append(_ e: ChainedEvent) throws {
        batch.prefetch(e.ahead.hints)
        batch.storage.prefetch(idHash: e.ahead.idHash)
        if e.seq <= existingHead {
            let local = try batch.storage.hash(at: e.seq) ?? []
            guard local == e.hash else {
                throw ArchiveDivergence(seq: e.seq, ledgerHash: Hex.encode(local), archiveHash: Hex.encode(e.hash))
            }
            batch.skipped += 1
            return
        }
        // The chain checked e against the archive's previous event; this ties it to the ledger.
        guard e.seq == batch.headSeq + 1, Batch<Storage>.same(e.previousHash, batch.headHash) else {
            throw ArchiveDivergence(seq: e.seq, ledgerHash: Hex.encode(batch.headHash), archiveHash: Hex.encode(e.previousHash))
        }
        if let head = batch.headRecordedAt, e.event.recordedAt < head {
            throw AppendRejected(errors: [InputError(line: e.line, path: e.type.rawValue + ".recorded_at",
                                                     expected: "a time at or after the ledger head's \(head)", found: e.recordedAt)], truncated: false)
        }
        let ruleErrors = try Rules.check(e.decoded, against: batch, line: e.line)
        if !ruleErrors.isEmpty { throw AppendRejected(errors: ruleErrors, truncated: false) }
        let effects = try Rules.effects(of: e.decoded, against: batch)

        if try !batch.storage.insertArchived(e) {
            let recorded = try batch.event(id: e.id)
            throw AppendRejected(errors: [InputError(line: e.line, path: e.type.rawValue + ".id", expected: "an id not used before",
                                                     found: JSONValue.string(e.id).described + " (recorded at seq \(recorded?.seq ?? 0))")],
                                 truncated: false)
        }
        batch.headSeq = e.seq
        // Copied, not shared: the reading thread's array and string are not retained here.
        e.event.hash.withUnsafeBufferPointer { Batch<Storage>.copy($0, into: &batch.headHash) }
        if batch.headRecordedAt != e.event.recordedAt { batch.headRecordedAt = e.event.recordedAt }
        batch.appended += 1
        for effect in effects { try batch.apply(effect, seq: e.seq) }
    }
}
