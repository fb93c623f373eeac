import GRDB
import GRDBSQLite
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// The result of an accepted batch.
public struct AppendOutcome: Sendable, Equatable {
    public var appended: Int
    /// Events already recorded with the same content.
    public var skipped: Int
    public var head: LedgerHead
    /// `PersonRegistered` lines under a known id whose person is erased: everything but the
    /// name and e-mail matched, and those can no longer be compared (the key is gone). Not appended.
    public var notComparedErased = 0
    /// Set when the batch erased someone but a copy of a destroyed key may remain on disk:
    /// the erasure is committed, `trellis erase --finish` completes it.
    public var erasureResidue: ErasureResidue?
    /// The head's recorded_at when it was ahead of this machine's clock by more than
    /// ``ArchiveChain/clockTolerance``: the batch was recorded at that time, not now.
    public var headAheadOfClock: String?

    public init(appended: Int, skipped: Int, head: LedgerHead, notComparedErased: Int = 0,
                erasureResidue: ErasureResidue? = nil, headAheadOfClock: String? = nil) {
        self.appended = appended; self.skipped = skipped; self.head = head; self.notComparedErased = notComparedErased
        self.erasureResidue = erasureResidue; self.headAheadOfClock = headAheadOfClock
    }
}

/// A batch was refused: nothing was appended.
public struct AppendRejected: Error, Sendable, CustomStringConvertible {
    public var errors: [InputError]
    /// More errors were found than are listed.
    public var truncated: Bool
    package init(errors: [InputError], truncated: Bool) { self.errors = errors; self.truncated = truncated }
    public var description: String {
        errors.map(\.description).joined(separator: "\n") + (truncated ? "\n(stopped after \(errors.count) errors)" : "")
    }
}

extension Ledger {
    public typealias AppendOptions = TrellisLedger.AppendOptions

    /// Appends every line that `feed` produces, all or nothing, in one `BEGIN IMMEDIATE`
    /// transaction: another writer waits for the whole batch, never interleaves inside it.
    ///
    /// `feed` is called with a visitor that takes one line at a time, so the input streams.
    public func append(options: AppendOptions = AppendOptions(),
                       _ feed: (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void) throws -> AppendOutcome {
        if let mirrorOf {
            throw LedgerError.database("\(path) is a cache of \(mirrorOf): append to the shared ledger (--db), never to its cache")
        }
        var outcome: AppendOutcome?
        var rejected: AppendRejected?
        do {
            try queue.writeWithoutTransaction { db in
                var destroyedKeys: [[UInt8]]?
                // Into an empty log with a rollback journal, each page written once (BulkLoad.swift).
                try Ledger.batchTransaction(db) {
                    // Into an empty log, rows many to a statement (PendingEvents.swift).
                    let storage = try SQLiteAppendStorage(db: db, bulk: !options.rowByRow && Ledger.logIsEmpty(db), idFilterBits: options.idFilterBits)
                    let batch = Batch(storage: storage, head: try Ledger.head(db), options: options)
                    try DecodePipeline.run(feed: feed, speculation: batch.speculation) { items, i in try batch.process(items, i) }
                    if let rejection = batch.rejection {
                        rejected = rejection
                        return .rollback
                    }
                    try storage.finish()
                    if batch.erasedSomeone { destroyedKeys = batch.destroyedKeys }
                    outcome = batch.outcome
                    return .commit
                }
                if let destroyedKeys {
                    // Committed: now make sure no earlier copy of a destroyed key survives on disk.
                    outcome?.erasureResidue = Ledger.purgeDestroyedKeys(db, path: path, keys: destroyedKeys)
                }
            }
        } catch let e as AppendRejected {
            throw e
        } catch let e as LineReader.Failure {
            throw e
        } catch {
            throw Ledger.translate(error, path: path)
        }
        if let rejected { throw rejected }
        guard let outcome else { throw LedgerError.database("the batch ended without an outcome") }
        return outcome
    }
}

/// What appending an event stores that needs no ledger state: its id (assigned when the line
/// has none), its `data` in canonical form, personal fields sealed under a fresh key, laid out
/// as the row's bytes. Prepared on a decoding thread; the speculative chain step
/// (``ChainStep``) is computed from it by whichever thread links the chunk, in log order
/// (``DecodePipeline``).
package struct PreparedData: Sendable {
    var id: String
    var key: [UInt8]?
    /// The row's texts and its stored `data`, back to back in one buffer: id, type,
    /// occurred_at, the actor when there is one, then data (`ends` marks where each ends), so
    /// that the writer binds them where they lie (see
    /// ``AppendStorage/insertEvent(seq:_:_:recordedAt:hash:)``) and an event costs one
    /// allocation for all of them.
    private(set) var row: [UInt8]
    private(set) var ends: (id: Int, type: Int, occurredAt: Int, actor: Int, data: Int)
    /// The event's version and whether it has an actor: with the row, all its envelope holds,
    /// so the link step reads no decoded event (binding one out of the item copied it).
    private let v: Int64
    private let hasActor: Bool
    /// The id's hash in a first import's id filter (``IdFilter/hash(_:)``), worked out here, off
    /// the writer.
    let idHash: UInt64

    /// The stored data's bytes: the line's own when canonical, else written anew.
    private enum StoredData {
        case bytes(UnsafeBufferPointer<UInt8>)
        case object(JSONObject)
    }

    /// The row is built in a local buffer and moved into place: appending to the property of
    /// a value under construction, through a closure for `data`, retained and released the
    /// buffer and the event's strings about a dozen times an event (perf: a fifth of preparing).
    private init(id: String, key: [UInt8]?, event: borrowing DecodedEvent, data: borrowing StoredData) {
        var row: [UInt8] = []
        let dataCount: Int
        switch data {
        case .bytes(let b): dataCount = b.count
        case .object: dataCount = key == nil ? 256 : 512
        }
        row.reserveCapacity(id.utf8.count + event.type.rawValue.utf8.count + event.occurredAt.utf8.count + (event.actor?.utf8.count ?? 0) + dataCount)
        Self.append(id, to: &row)
        let idEnd = row.count
        Self.append(event.type.rawValue, to: &row)
        let typeEnd = row.count
        Self.append(event.occurredAt, to: &row)
        let occurredEnd = row.count
        if let actor = event.actor { Self.append(actor, to: &row) }
        let actorEnd = row.count
        switch data {
        case .bytes(let b): row.append(contentsOf: b)
        case .object(let o): CanonicalJSON.write(.object(o), into: &row)
        }
        ends = (idEnd, typeEnd, occurredEnd, actorEnd, row.count)
        idHash = row.withUnsafeBufferPointer { IdFilter.hash(UnsafeBufferPointer(rebasing: $0[0..<idEnd])) }
        self.row = row
        self.id = id; self.key = key; v = event.v; hasActor = event.actor != nil
    }

    /// A string's UTF-8 bytes in one copy (appending the UTF-8 view went byte by byte).
    private static func append(_ s: String, to out: inout [UInt8]) {
        if s.utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil { out.append(contentsOf: s.utf8) }
    }

    /// `canonicalData`: the line's own bytes of `data`, when they are already in canonical form
    /// (``CanonicalForm/isCanonical(_:)``): stored as they came, the same bytes writing them anew gives.
    static func of(_ event: borrowing DecodedEvent, canonicalData: UnsafeBufferPointer<UInt8>? = nil) throws -> PreparedData {
        let id = event.id ?? Identifier.uuidV7()
        guard event.type == .personRegistered else {
            if let canonicalData { return PreparedData(id: id, key: nil, event: event, data: .bytes(canonicalData)) }
            return PreparedData(id: id, key: nil, event: event, data: .object(event.data))
        }
        let key = PersonalData.newKey()
        let sealed = try PersonalData.sealing(event.data, of: event.type, key: key)
        return PreparedData(id: id, key: key, event: event, data: .object(sealed))
    }

    /// The stored data, copied (for a store that takes it as an array: PostgreSQL's).
    var bytes: [UInt8] { Array(row[ends.actor..<ends.data]) }

    /// The canonical envelope of the event this row holds, at `seq`, recorded at `recordedAt`
    /// (its UTF-8 bytes), written from the row's bytes.
    func canonical(seq: Int64, recordedAt: UnsafeBufferPointer<UInt8>, into canonical: inout [UInt8]) {
        canonical.removeAll(keepingCapacity: true)
        canonical.reserveCapacity(row.count + recordedAt.count + 160)
        row.withUnsafeBufferPointer { r in
            func part(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: r[range]) }
            CanonicalEnvelope.write(seq: seq, id: part(0..<ends.id), type: part(ends.id..<ends.type), v: v,
                                    occurredAt: part(ends.type..<ends.occurredAt), recordedAt: recordedAt,
                                    actor: hasActor ? part(ends.occurredAt..<ends.actor) : nil,
                                    data: part(ends.actor..<ends.data), into: &canonical)
        }
    }

    /// The chain step computed speculatively: as the next event after `speculation`'s head. The
    /// envelope is written after the previous hash in one buffer and hashed in one call, as the
    /// chain check does (``ChainBuffer``).
    func chain(_ speculation: ChainSpeculation) -> ChainStep {
        let seq = speculation.nextSeq
        let hash = row.withUnsafeBufferPointer { r in
            speculation.recordedAt.withUnsafeBufferPointer { recordedAt in
                func part(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: r[range]) }
                return speculation.buffer.advance(seq: seq, id: part(0..<ends.id), type: part(ends.id..<ends.type), v: v,
                                                  occurredAt: part(ends.type..<ends.occurredAt), recordedAt: recordedAt,
                                                  actor: hasActor ? part(ends.occurredAt..<ends.actor) : nil,
                                                  data: part(ends.actor..<ends.data))
            }
        }
        let step = ChainStep(seq: seq, previous: speculation.previousHash, hash: hash)
        speculation.nextSeq += 1
        speculation.previousHash = step.hash
        return step
    }
}

/// An event's speculative chain step: its hash had it the seq `seq` after a head whose hash is
/// `previous`. Inline values (no arrays): written on the thread that links a chunk, read by
/// the writer, and neither keeps a reference to the other's memory. The writer uses the step
/// only when both match its head; `seq` 0 (no event has it) marks no step.
package struct ChainStep: Sendable {
    var seq: Int64 = 0
    var previous = Digest32()
    var hash = Digest32()
}

/// The decoding threads' guess at the chain: the batch's head and `recorded_at` are known
/// before the first line, so each decoded event's seq and hash can be computed off the
/// writer, in log order, assuming every event is appended. The writer takes a guess only when its seq
/// and previous hash are the head's; after a skip or a refused line it recomputes (the
/// guesses after that point no longer match).
///
/// Used by one thread at a time: the pipeline links one chunk at a time, in order, under its
/// lock's ordering (``Pipeline/runShared(capacity:helpers:read:link:consume:)``).
package final class ChainSpeculation: @unchecked Sendable {
    var nextSeq: Int64
    var previousHash: Digest32
    /// The batch's recorded_at, as UTF-8.
    let recordedAt: [UInt8]
    /// The previous hash, then the envelope being hashed.
    var buffer = ChainBuffer()

    init(nextSeq: Int64, previousHash: Digest32, recordedAt: String) {
        self.nextSeq = nextSeq; self.previousHash = previousHash; self.recordedAt = Array(recordedAt.utf8)
        previousHash.withUnsafeBufferPointer { buffer.setPrevious($0) }
    }
}

/// One import transaction: decodes, checks the rules against the log so far (the rule
/// tables plus what this batch already appended), encrypts personal fields, chains and
/// inserts. Rule state is cached per batch; the tables are written through. Backend-neutral:
/// the rows go through an ``AppendStorage`` (SQLite's, or PostgreSQL's in TrellisPostgres),
/// whose transaction and writer's lock the caller holds.
///
/// Used by one thread (the writer's), and no method touches a property while another access
/// to it is under way, so the properties read or written for every event are not checked for
/// exclusive access at run time (`@exclusivity(unchecked)`): those checks were ~0.6 k
/// instructions an event (callgrind), 3 % of the writer.
package final class Batch<Storage: AppendStorage>: LedgerFacts {
    package let storage: Storage
    let options: Ledger.AppendOptions
    package var errors: [InputError] = []
    package var truncated = false
    @exclusivity(unchecked) package var appended = 0
    package var skipped = 0
    @exclusivity(unchecked) package var linesSeen = 0
    package var notComparedErased = 0
    package var erasedSomeone = false
    /// The keys this batch deleted, held only until the files have been checked for them.
    package var destroyedKeys: [[UInt8]] = []
    @exclusivity(unchecked) package var headSeq: Int64
    @exclusivity(unchecked) package var headHash: [UInt8]
    /// The head's recorded_at: the batch's once it appends anything.
    @exclusivity(unchecked) package var headRecordedAt: String?
    package let recordedAt: String
    /// The head's recorded_at, when it is ahead of the clock (beyond the tolerance).
    package var headAheadOfClock: String?

    /// Scratch for an envelope the writer has to chain itself (the speculation missed).
    @exclusivity(unchecked) private var canonical: [UInt8] = []
    @exclusivity(unchecked) private var entities = EntityCache()
    /// The rule tables held no row when the batch began (under the writer's lock): an entity
    /// or membership not in the caches (which hold all the batch writes) does not exist, and is
    /// not looked up (a first import of 1 M events asked SQLite for some 60 k rows that could not
    /// be there). Asked of the tables themselves, not inferred from an empty log: the rules read
    /// the tables, whatever they hold (``DerivedStateTests`` tampers with them). Decided here
    /// for every store (the PostgreSQL store had inferred it from the log on its own).
    private let ruleTablesWereEmpty: Bool
    @exclusivity(unchecked) private var memberships: [String: [(seq: Int64, joined: Bool)]] = [:]

    /// `head` is the log's head as read under the writer's lock.
    package init(storage: Storage, head: Ledger.Head, options: Ledger.AppendOptions) {
        self.storage = storage
        self.options = options
        ruleTablesWereEmpty = (try? storage.ruleTablesEmpty()) ?? false
        headSeq = head.seq
        headHash = head.hash
        headRecordedAt = head.recordedAt
        // recorded_at never goes backwards, so `--known-at` always selects a prefix of the log.
        let nowMicros = Timestamp.nowMicros()
        let now = Timestamp.recordedText(micros: nowMicros)
        recordedAt = max(now, head.recordedAt ?? now)
        // A head far in the future (a wrong clock, an archive from before archives were checked
        // for it) would be inherited silently by every new event: say so instead.
        if let h = head.recordedAt, h > Timestamp.recordedText(micros: nowMicros + ArchiveChain.clockTolerance) { headAheadOfClock = h }
    }

    /// The speculation the decoding thread starts from: this batch's head and recorded_at
    /// (none when the head's stored hash is not 32 bytes: the writer chains every event itself,
    /// and verify reports the head).
    package var speculation: ChainSpeculation? {
        Digest32(headHash).map { ChainSpeculation(nextSeq: headSeq + 1, previousHash: $0, recordedAt: recordedAt) }
    }

    /// The refusal of a finished batch (its errors, or an empty input), nil when it may commit.
    package var rejection: AppendRejected? {
        if !errors.isEmpty { return AppendRejected(errors: errors, truncated: truncated) }
        if appended == 0 && skipped == 0 && linesSeen == 0 {
            return AppendRejected(errors: [InputError(line: 0, path: "", expected: "at least one event", found: "no lines (the input is empty)")], truncated: false)
        }
        return nil
    }

    package var outcome: AppendOutcome {
        AppendOutcome(appended: appended, skipped: skipped, head: .make(seq: headSeq, hash: headHash, recordedAt: headRecordedAt),
                      notComparedErased: notComparedErased, headAheadOfClock: headAheadOfClock)
    }

    /// Hands the decoded events of the next chunk to the storage (``AppendStorage/prefetch(_:)``).
    package func prefetch(_ items: [DecodePipeline.Item]) throws {
        try storage.prefetch(items.compactMap { if case .success(let e) = $0.decoded { e } else { nil } })
    }

    // MARK: Processing one line

    /// Takes one decoded line (decoding runs ahead on other threads, see ``DecodePipeline``).
    /// Returns false to stop reading (too many errors). The item is lent in place (`inout`, never
    /// written: its chunk holds it in an array), and its fields are
    /// read where they lie: passing them on by value copied the event and its prepared data
    /// (a dozen retains and releases of the decoding thread's buffers a line).
    private func process(_ item: inout DecodePipeline.Item) throws -> Bool {
        try process(item.decoded, prepared: item.prepared, chain: item.chain, number: item.number, source: item.source)
    }

    /// ``process(_:)`` of `items[index]`, having first asked for the rule-cache slots of the
    /// event ``lookahead`` places on (``EntityHints``): its look-ups then find them in cache.
    package func process(_ items: UnsafeMutableBufferPointer<DecodePipeline.Item>, _ index: Int) throws -> Bool {
        let ahead = index + Self.lookahead
        if ahead < items.count {
            entities.prefetch(items[ahead].hints)
            storage.prefetch(idHash: items[ahead].idHash)
        }
        return try process(&items[index])
    }

    /// Asks for the rule-cache slots of an event a few ahead (an archive's, ``ChainedEvent/ahead``).
    func prefetch(_ hints: EntityHints) { entities.prefetch(hints) }

    /// How many events ahead the writer asks for rule-cache slots: an event takes it about
    /// 2 µs, a cache miss about a tenth of a µs, so the next but one is far enough.
    static var lookahead: Int { 2 }

    private func process(_ decoded: borrowing DecodeResult, prepared: borrowing PreparedData?, chain: ChainStep,
                         number: Int, source: String?) throws -> Bool {
        linesSeen += 1
        switch decoded {
        case .failure(let errs):
            report(errs, source: source)
        case .success(let event):
            if event.type == .personRegistered {
                let personal = PersonalData.fields(of: event.type).compactMap { field in
                    event.data.string(field).flatMap(PersonalData.clearFieldProblem).map {
                        InputError(line: number, path: event.type.rawValue + "." + field,
                                   expected: "the \(field == "email" ? "e-mail address" : "name") itself (the ledger seals it)", found: $0)
                    }
                }
                if !personal.isEmpty { report(personal, source: source); return !truncated }
            }
            let ruleErrors = try Rules.check(event, against: self, line: number)
            if !ruleErrors.isEmpty {
                // A rule fails for a re-sent event too (its network already exists...): an
                // identical event under a known id is a skip, not an error.
                switch try event.id.map({ try compareWithRecorded(id: $0, event: event, line: number) }) ?? .unknown {
                case .same: skipped += 1
                case .personErased: notComparedErased += 1
                case .different(let error): report([error], source: source)
                case .unknown: report(ruleErrors, source: source)
                }
            } else {
                try appendChecked(event, prepared: prepared, chain: chain, line: number, source: source)
            }
        }
        return !truncated
    }

    /// Keeps the first `maxErrors`; finding one more marks the list truncated and stops the read.
    private func report(_ errs: [InputError], source: String?) {
        for var e in errs {
            guard errors.count < options.maxErrors else { truncated = true; return }
            e.source = source
            errors.append(e)
        }
    }

    private func appendChecked(_ event: DecodedEvent, prepared: borrowing PreparedData?, chain: ChainStep, line: Int, source: String?) throws {
        // Lent, not copied: `prepared ?? …` copied it (six retains and releases an event).
        switch prepared {
        case .some(let prepared): try appendChecked(event, stored: prepared, chain: chain, line: line, source: source)
        case .none: try appendChecked(event, stored: PreparedData.of(event), chain: chain, line: line, source: source)
        }
    }

    private func appendChecked(_ event: DecodedEvent, stored: PreparedData, chain: ChainStep, line: Int, source: String?) throws {
        let effects = try Rules.effects(of: event, against: self)
        let seq = headSeq + 1
        // A thread linking the chunk chained it onto this very head (the common case); else
        // the writer chains it itself. Either way the hash is inline, bound and copied into `headHash`.
        let hash: Digest32
        if chain.seq == seq && chain.previous.equals(headHash) {
            hash = chain.hash
        } else {
            var recordedAt = recordedAt
            recordedAt.withUTF8 { stored.canonical(seq: seq, recordedAt: $0, into: &canonical) }
            hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chainDigest(headHash, $0) }
        }
        let inserted = try hash.withUnsafeBufferPointer { try storage.insertEvent(seq: seq, event, stored, recordedAt: recordedAt, hash: $0) }
        if !inserted {
            // The id is taken: the same event again is skipped, anything else is an error.
            switch try compareWithRecorded(id: stored.id, event: event, line: line) {
            case .same: skipped += 1
            case .personErased: notComparedErased += 1
            case .different(let error): report([error], source: source)
            case .unknown: break
            }
            return
        }
        headSeq = seq
        hash.withUnsafeBufferPointer { Self.copy($0, into: &headHash) }
        if headRecordedAt != recordedAt { headRecordedAt = recordedAt }
        appended += 1
        if let key = stored.key, let person = event.data.string("person_id") {
            try storage.putPersonKey(person, key)
        }
        for effect in effects { try apply(effect, seq: seq) }
    }

    /// Byte equality with one `memcmp` (`==` on two arrays that are not the same buffer compared
    /// element by element through the generic path: 0.24 k instructions an event).
    @inline(__always) static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in
            x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
        } }
    }

    /// `hash` into `head` in place when both are 32 bytes and `head` is not shared (it is
    /// ours after the first event), so the writer keeps no reference to the source array.
    @inline(__always) static func copy(_ hash: UnsafeBufferPointer<UInt8>, into head: inout [UInt8]) {
        guard hash.count == 32, head.count == 32 else { head = Array(hash); return }
        head.withUnsafeMutableBufferPointer { h in
            guard let d = h.baseAddress, let b = hash.baseAddress else { return }
            d.update(from: b, count: 32)
        }
    }

    /// How an incoming event compares with the one already recorded under its id.
    /// `personErased`: everything but the personal fields matches, and those cannot be
    /// compared because the person's key is destroyed.
    enum Recorded { case unknown, same, personErased, different(InputError) }

    private func compareWithRecorded(id: String, event: DecodedEvent, line: Int) throws -> Recorded {
        guard let row = try storage.recordedEvent(id: id) else { return .unknown }
        let seq = row.seq
        var same = row.type == event.type.rawValue && row.v == event.v && row.occurredAt == event.occurredAt && row.actor == event.actor
        var uncomparable = false
        if same, case .object(var recorded) = (try? JSONParser.parse(row.dataText)) ?? .null {
            var incoming = event.data
            if event.type == .personRegistered {
                let person = recorded.string("person_id") ?? ""
                if let key = try storage.personKey(person) {
                    recorded = PersonalData.opening(recorded, of: event.type, key: key)
                } else {
                    // Erased: the personal fields can no longer be compared; the rest must match,
                    // and the line is reported as not compared rather than as the same.
                    let fields = PersonalData.fields(of: event.type)
                    uncomparable = fields.contains { recorded[$0] != nil || incoming[$0] != nil }
                    for f in fields { recorded[f] = nil; incoming[f] = nil }
                }
            }
            same = CanonicalJSON.bytes(.object(recorded)) == CanonicalJSON.bytes(.object(incoming))
        } else {
            same = false
        }
        if same { return uncomparable ? .personErased : .same }
        return .different(InputError(line: line, path: event.type.rawValue + ".id",
                                expected: "a new id, or the same content as the event already recorded under it",
                                found: JSONValue.string(id).described + " (recorded at seq \(seq) with different content)"))
    }

    // Internal, not private: the archive import (ArchiveAppend.swift) writes effects through it too.
    package func apply(_ effect: RuleEffect, seq: Int64) throws {
        switch effect {
        case .create(let kind, let key, let parent):
            try storage.createEntity(kind, key, seq: seq, parent: parent)
            entities.set(kind, key, EntityFact(seq: seq, parent: parent, state: []))
        case .setState(let kind, let key, let bits, let on):
            guard var fact = try entity(kind, key) else { return }
            if on { fact.state.insert(bits) } else { fact.state.remove(bits) }
            try storage.setEntityState(kind, key, state: fact.state.rawValue)
            entities.set(kind, key, fact)
        case .membership(let network, let org, let joined):
            _ = try membershipEvents(network, org)
            try storage.insertMembership(network: network, org: org, seq: seq, joined: joined)
            memberships[network + "\u{0}" + org, default: []].append((seq, joined))
        case .undoMembership(let network, let org, let target):
            _ = try membershipEvents(network, org)
            try storage.deleteMembership(network: network, org: org, seq: target)
            memberships[network + "\u{0}" + org]?.removeAll { $0.seq == target }
        case .retract(let target):
            try storage.insertRetraction(target: target, by: seq)
        case .erase(let person):
            try apply(.setState(.person, key: person, .erased, on: true), seq: seq)
            if let key = try storage.personKey(person) { destroyedKeys.append(key) }
            try storage.deletePersonKey(person)
            erasedSomeone = true
        }
    }

    // MARK: LedgerFacts

    package func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? {
        if let cached = entities[kind, key] { return cached }
        // Every entity this batch made or changed is in the cache (it writes them through), and
        // the tables held none when it began: nothing to read.
        if ruleTablesWereEmpty { return nil }
        let fact = try storage.entity(kind, key)
        entities.set(kind, key, fact)
        return fact
    }

    private func membershipEvents(_ network: String, _ org: String) throws -> [(seq: Int64, joined: Bool)] {
        let k = network + "\u{0}" + org
        if let cached = memberships[k] { return cached }
        let rows = ruleTablesWereEmpty ? [] : try storage.memberships(network: network, org: org)
        memberships[k] = rows
        return rows
    }

    package func isMember(network: String, org: String) throws -> Bool {
        try membershipEvents(network, org).last?.joined ?? false
    }

    package func event(id: String) throws -> RecordedEventRef? {
        guard let row = try storage.recordedEvent(id: id), let type = EventType(rawValue: row.type) else { return nil }
        let data = (try? JSONParser.parse(row.dataText))?.object ?? JSONObject()
        return RecordedEventRef(seq: row.seq, type: type, data: data)
    }

    package func isRetracted(seq: Int64) throws -> Bool {
        try storage.isRetracted(seq: seq)
    }
}
