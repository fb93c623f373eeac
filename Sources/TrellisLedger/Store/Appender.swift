import GRDB
import GRDBSQLite
import TrellisCore

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
        var outcome: AppendOutcome?
        var rejected: AppendRejected?
        do {
            try queue.writeWithoutTransaction { db in
                var destroyedKeys: [[UInt8]]?
                try db.inTransaction(.immediate) {
                    let batch = try Batch(db: db, options: options)
                    let speculation = ChainSpeculation(nextSeq: batch.headSeq + 1, previousHash: batch.headHash, recordedAt: batch.recordedAt)
                    try DecodePipeline.run(feed: feed, speculation: speculation) { item in
                        try batch.process(item.decoded, prepared: item.prepared, number: item.number, source: item.source)
                    }
                    if !batch.errors.isEmpty {
                        rejected = AppendRejected(errors: batch.errors, truncated: batch.truncated)
                        return .rollback
                    }
                    if batch.appended == 0 && batch.skipped == 0 && batch.linesSeen == 0 {
                        rejected = AppendRejected(errors: [InputError(line: 0, path: "", expected: "at least one event", found: "no lines (the input is empty)")], truncated: false)
                        return .rollback
                    }
                    if batch.erasedSomeone { destroyedKeys = batch.destroyedKeys }
                    outcome = AppendOutcome(appended: batch.appended, skipped: batch.skipped,
                                            head: Head(seq: batch.headSeq, hash: batch.headHash, recordedAt: batch.headRecordedAt),
                                            notComparedErased: batch.notComparedErased, headAheadOfClock: batch.headAheadOfClock)
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

    /// Appends one envelope given as text (the `append` command).
    public func append(json: String) throws -> AppendOutcome {
        var text = json
        return try append { visit in
            _ = try text.withUTF8 { try visit($0, 0, nil) }
        }
    }
}

/// What appending an event stores that needs no ledger state: its id (assigned when the line
/// has none), its `data` in canonical form, personal fields sealed under a fresh key, and,
/// when prepared with a ``ChainSpeculation``, its canonical envelope's chain step as if every
/// event before it in the batch is appended. Prepared on the decoding thread.
struct PreparedData: Sendable {
    var id: String
    var bytes: [UInt8]
    var key: [UInt8]?
    /// The seq and previous hash the speculative `hash` was computed for (`hash` is empty
    /// when there is no speculation). The writer uses it only when both match its head.
    var seq: Int64 = 0
    var previousHash: [UInt8] = []
    var hash: [UInt8] = []

    static func of(_ event: DecodedEvent) throws -> PreparedData {
        let id = event.id ?? Identifier.uuidV7()
        guard event.type == .personRegistered else { return PreparedData(id: id, bytes: CanonicalJSON.bytes(.object(event.data)), key: nil) }
        let key = PersonalData.newKey()
        let sealed = try PersonalData.sealing(event.data, of: event.type, key: key)
        return PreparedData(id: id, bytes: CanonicalJSON.bytes(.object(sealed)), key: key)
    }

    /// The canonical envelope of `event` stored as this data at `seq`, recorded at `recordedAt`.
    func canonical(_ event: DecodedEvent, seq: Int64, recordedAt: String, into canonical: inout [UInt8]) {
        canonical.removeAll(keepingCapacity: true)
        canonical.reserveCapacity(bytes.count + 200)
        CanonicalEnvelope.write(seq: seq, id: id, type: event.type.rawValue, v: event.v, occurredAt: event.occurredAt,
                                recordedAt: recordedAt, actor: event.actor, data: bytes, into: &canonical)
    }

    /// Computes the chain step speculatively: as the next event after `speculation`'s head.
    mutating func chain(_ event: DecodedEvent, _ speculation: inout ChainSpeculation) {
        canonical(event, seq: speculation.nextSeq, recordedAt: speculation.recordedAt, into: &speculation.scratch)
        seq = speculation.nextSeq
        previousHash = speculation.previousHash
        hash = speculation.scratch.withUnsafeBufferPointer { CanonicalEnvelope.chain(previousHash, $0) }
        speculation.nextSeq += 1
        speculation.previousHash = hash
    }
}

/// The decoding thread's guess at the chain: the batch's head and `recorded_at` are known
/// before the first line, so each decoded event's seq and hash can be computed there, in
/// log order, assuming every event is appended. The writer takes a guess only when its seq
/// and previous hash are the head's; after a skip or a refused line it recomputes (the
/// guesses after that point no longer match).
struct ChainSpeculation: Sendable {
    var nextSeq: Int64
    var previousHash: [UInt8]
    let recordedAt: String
    var scratch: [UInt8] = []

    init(nextSeq: Int64, previousHash: [UInt8], recordedAt: String) {
        self.nextSeq = nextSeq; self.previousHash = previousHash; self.recordedAt = recordedAt
    }
}

/// One import transaction: decodes, checks the rules against the log so far (the rule
/// tables plus what this batch already appended), encrypts personal fields, chains and
/// inserts. Rule state is cached per batch; the tables are written through.
final class Batch: LedgerFacts {
    let db: Database
    let options: Ledger.AppendOptions
    var errors: [InputError] = []
    var truncated = false
    var appended = 0
    var skipped = 0
    var linesSeen = 0
    var notComparedErased = 0
    var erasedSomeone = false
    /// The keys this batch deleted, held only until the files have been checked for them.
    var destroyedKeys: [[UInt8]] = []
    var headSeq: Int64
    var headHash: [UInt8]
    /// The head's recorded_at: the batch's once it appends anything.
    var headRecordedAt: String?
    let recordedAt: String
    /// The head's recorded_at, when it is ahead of the clock (beyond the tolerance).
    var headAheadOfClock: String?

    /// Scratch for an envelope the writer has to chain itself (the speculation missed).
    private var canonical: [UInt8] = []
    /// The bytes of the row being inserted (see ``insertRow``).
    private var rowBuffer: [UInt8] = []
    private var entities: [EntityKind: [String: EntityFact?]] = [:]
    private var memberships: [String: [(seq: Int64, joined: Bool)]] = [:]

    private let insertEvent: Statement
    private let findEvent: Statement
    private let findEntity: Statement
    private let insertEntity: Statement
    private let updateEntity: Statement
    private let findMemberships: Statement
    private let insertMembership: Statement
    private let deleteMembership: Statement
    private let insertRetraction: Statement
    private let findRetraction: Statement
    private let insertKey: Statement
    private let findKey: Statement
    private let deleteKey: Statement

    init(db: Database, options: Ledger.AppendOptions) throws {
        self.db = db
        self.options = options
        // Person keys are inserted and deleted only here: with secure_delete on, no page
        // split or deletion leaves a key's bytes behind in free space.
        try db.execute(sql: "PRAGMA secure_delete = ON")
        // A large batch otherwise spills dirty pages to the WAL and reads them back mid-way
        // (80 k writes and 40 k reads for 300 k events with the default 2 MB cache).
        try db.execute(sql: "PRAGMA cache_size = -65536")
        let head = try Ledger.head(db)
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
        insertEvent = try db.makeStatement(sql: """
            INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """)
        findEvent = try db.makeStatement(sql: "SELECT seq, type, v, occurred_at, actor, data FROM events WHERE id = ?")
        findEntity = try db.makeStatement(sql: "SELECT seq, parent, state FROM rule_entities WHERE kind = ? AND key = ?")
        insertEntity = try db.makeStatement(sql: "INSERT INTO rule_entities (kind, key, seq, parent, state) VALUES (?, ?, ?, ?, 0)")
        updateEntity = try db.makeStatement(sql: "UPDATE rule_entities SET state = ? WHERE kind = ? AND key = ?")
        findMemberships = try db.makeStatement(sql: "SELECT seq, joined FROM rule_memberships WHERE network_id = ? AND org_id = ? ORDER BY seq")
        insertMembership = try db.makeStatement(sql: "INSERT INTO rule_memberships (network_id, org_id, seq, joined) VALUES (?, ?, ?, ?)")
        deleteMembership = try db.makeStatement(sql: "DELETE FROM rule_memberships WHERE network_id = ? AND org_id = ? AND seq = ?")
        insertRetraction = try db.makeStatement(sql: "INSERT INTO retractions (target_seq, retraction_seq) VALUES (?, ?)")
        findRetraction = try db.makeStatement(sql: "SELECT 1 FROM retractions WHERE target_seq = ?")
        insertKey = try db.makeStatement(sql: "INSERT INTO person_keys (person_id, key) VALUES (?, ?)")
        findKey = try db.makeStatement(sql: "SELECT key FROM person_keys WHERE person_id = ?")
        deleteKey = try db.makeStatement(sql: "DELETE FROM person_keys WHERE person_id = ?")
    }

    // MARK: Processing one line

    /// Takes one decoded line (decoding runs ahead on another thread, see ``DecodePipeline``).
    /// Returns false to stop reading (too many errors).
    func process(_ decoded: DecodeResult, prepared: PreparedData? = nil, number: Int, source: String?) throws -> Bool {
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
                try appendChecked(event, prepared: prepared, line: number, source: source)
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

    private func appendChecked(_ event: DecodedEvent, prepared: PreparedData?, line: Int, source: String?) throws {
        let effects = try Rules.effects(of: event, against: self)
        let stored = try prepared ?? PreparedData.of(event)
        let dataBytes = stored.bytes
        let key = stored.key
        let id = stored.id
        let seq = headSeq + 1
        let hash: [UInt8]
        if !stored.hash.isEmpty, stored.seq == seq, stored.previousHash == headHash {
            // The decoding thread chained it onto this very head (the common case).
            hash = stored.hash
        } else {
            stored.canonical(event, seq: seq, recordedAt: recordedAt, into: &canonical)
            hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chain(headHash, $0) }
        }

        if try !insertRow(insertEvent, seq: seq, id: id, type: event.type.rawValue, v: event.v, occurredAt: event.occurredAt,
                          recordedAt: recordedAt, actor: event.actor, data: dataBytes, hash: hash) {
            // The id is taken: the same event again is skipped, anything else is an error.
            switch try compareWithRecorded(id: id, event: event, line: line) {
            case .same: skipped += 1
            case .personErased: notComparedErased += 1
            case .different(let error): report([error], source: source)
            case .unknown: break
            }
            return
        }
        headSeq = seq
        headHash = hash
        headRecordedAt = recordedAt
        appended += 1
        if let key, let person = event.data.string("person_id") {
            try exec(insertKey) { s in Raw.bind(s, 1, person); Raw.bind(s, 2, bytes: key, asText: false) }
        }
        for effect in effects { try apply(effect, seq: seq) }
    }

    /// Inserts one `events` row with `statement` (`INSERT … ON CONFLICT (id) DO NOTHING`);
    /// false when the id was already taken. The values are copied into one reused buffer and
    /// bound without SQLite copying them again (`SQLITE_STATIC`, cleared before returning):
    /// SQLite's own copy of each of the seven texts and blobs was a malloc, a memcpy and a
    /// free per column, about a tenth of the writer's instructions.
    func insertRow(_ statement: Statement, seq: Int64, id: String, type: String, v: Int64, occurredAt: String,
                   recordedAt: String, actor: String?, data: [UInt8], hash: [UInt8]) throws -> Bool {
        rowBuffer.removeAll(keepingCapacity: true)
        func put(_ text: String) -> Range<Int> {
            var text = text
            let start = rowBuffer.count
            text.withUTF8 { rowBuffer.append(contentsOf: $0) }
            return start..<rowBuffer.count
        }
        let idRange = put(id), typeRange = put(type), occurredRange = put(occurredAt), recordedRange = put(recordedAt)
        let actorRange = actor.map(put)
        let dataStart = rowBuffer.count
        rowBuffer.append(contentsOf: data)
        let dataRange = dataStart..<rowBuffer.count
        let hashStart = rowBuffer.count
        rowBuffer.append(contentsOf: hash)
        let hashRange = hashStart..<rowBuffer.count
        let s = statement.sqliteStatement
        return try rowBuffer.withUnsafeBufferPointer { b in
            let base = UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            func text(_ i: Int32, _ r: Range<Int>) {
                sqlite3_bind_text(s, i, (base + r.lowerBound).assumingMemoryBound(to: CChar.self), Int32(r.count), nil)
            }
            defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
            sqlite3_bind_int64(s, 1, seq)
            text(2, idRange)
            text(3, typeRange)
            sqlite3_bind_int64(s, 4, v)
            text(5, occurredRange)
            text(6, recordedRange)
            if let actorRange { text(7, actorRange) } else { sqlite3_bind_null(s, 7) }
            text(8, dataRange)
            sqlite3_bind_blob(s, 9, base + hashRange.lowerBound, Int32(hashRange.count), nil)
            _ = try Raw.step(s, db)
            return sqlite3_changes(db.sqliteConnection) != 0
        }
    }

    /// How an incoming event compares with the one already recorded under its id.
    /// `personErased`: everything but the personal fields matches, and those cannot be
    /// compared because the person's key is destroyed.
    enum Recorded { case unknown, same, personErased, different(InputError) }

    private func compareWithRecorded(id: String, event: DecodedEvent, line: Int) throws -> Recorded {
        let s = findEvent.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, id)
        guard try Raw.step(s, db) else { return .unknown }
        let seq = Raw.int(s, 0)
        let recordedType = Raw.string(s, 1) ?? ""
        let v = Raw.int(s, 2)
        let occurred = Raw.string(s, 3) ?? ""
        let actor = Raw.string(s, 4)
        let dataText = Raw.string(s, 5) ?? "{}"
        var same = recordedType == event.type.rawValue && v == event.v && occurred == event.occurredAt && actor == event.actor
        var uncomparable = false
        if same, case .object(var recorded) = (try? JSONParser.parse(dataText)) ?? .null {
            var incoming = event.data
            if event.type == .personRegistered {
                let person = recorded.string("person_id") ?? ""
                if let key = try personKey(person) {
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

    private func personKey(_ person: String) throws -> [UInt8]? {
        let s = findKey.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, person)
        guard try Raw.step(s, db), let k = Raw.column(s, 0) else { return nil }
        return Array(k)
    }

    private func exec(_ stmt: Statement, _ bind: (SQLiteStatement) -> Void) throws {
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        bind(s)
        _ = try Raw.step(s, db)
    }

    // Internal, not private: the archive import (ArchiveAppend.swift) writes effects through it too.
    func apply(_ effect: RuleEffect, seq: Int64) throws {
        switch effect {
        case .create(let kind, let key, let parent):
            try exec(insertEntity) { s in
                Raw.bind(s, 1, kind.rawValue); Raw.bind(s, 2, key); Raw.bind(s, 3, seq); Raw.bind(s, 4, parent)
            }
            entities[kind, default: [:]][key] = .some(EntityFact(seq: seq, parent: parent, state: []))
        case .setState(let kind, let key, let bits, let on):
            guard var fact = try entity(kind, key) else { return }
            if on { fact.state.insert(bits) } else { fact.state.remove(bits) }
            try exec(updateEntity) { s in Raw.bind(s, 1, fact.state.rawValue); Raw.bind(s, 2, kind.rawValue); Raw.bind(s, 3, key) }
            entities[kind, default: [:]][key] = .some(fact)
        case .membership(let network, let org, let joined):
            _ = try membershipEvents(network, org)
            try exec(insertMembership) { s in
                Raw.bind(s, 1, network); Raw.bind(s, 2, org); Raw.bind(s, 3, seq); Raw.bind(s, 4, joined ? 1 : 0)
            }
            memberships[network + "\u{0}" + org, default: []].append((seq, joined))
        case .undoMembership(let network, let org, let target):
            _ = try membershipEvents(network, org)
            try exec(deleteMembership) { s in Raw.bind(s, 1, network); Raw.bind(s, 2, org); Raw.bind(s, 3, target) }
            memberships[network + "\u{0}" + org]?.removeAll { $0.seq == target }
        case .retract(let target):
            try exec(insertRetraction) { s in Raw.bind(s, 1, target); Raw.bind(s, 2, seq) }
        case .erase(let person):
            try apply(.setState(.person, key: person, .erased, on: true), seq: seq)
            if let key = try personKey(person) { destroyedKeys.append(key) }
            try exec(deleteKey) { s in Raw.bind(s, 1, person) }
            erasedSomeone = true
        }
    }

    // MARK: LedgerFacts

    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? {
        if let cached = entities[kind]?[key] { return cached }
        let s = findEntity.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, kind.rawValue)
        Raw.bind(s, 2, key)
        var fact: EntityFact?
        if try Raw.step(s, db) {
            fact = EntityFact(seq: Raw.int(s, 0), parent: Raw.string(s, 1), state: .init(rawValue: Raw.int(s, 2)))
        }
        entities[kind, default: [:]][key] = .some(fact)
        return fact
    }

    private func membershipEvents(_ network: String, _ org: String) throws -> [(seq: Int64, joined: Bool)] {
        let k = network + "\u{0}" + org
        if let cached = memberships[k] { return cached }
        let s = findMemberships.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, network)
        Raw.bind(s, 2, org)
        var rows: [(seq: Int64, joined: Bool)] = []
        while try Raw.step(s, db) { rows.append((Raw.int(s, 0), Raw.int(s, 1) != 0)) }
        memberships[k] = rows
        return rows
    }

    func isMember(network: String, org: String) throws -> Bool {
        try membershipEvents(network, org).last?.joined ?? false
    }

    func event(id: String) throws -> RecordedEventRef? {
        let s = findEvent.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, id)
        guard try Raw.step(s, db), let type = EventType(rawValue: Raw.string(s, 1) ?? "") else { return nil }
        let data = (try? JSONParser.parse(Raw.string(s, 5) ?? "{}"))?.object ?? JSONObject()
        return RecordedEventRef(seq: Raw.int(s, 0), type: type, data: data)
    }

    func isRetracted(seq: Int64) throws -> Bool {
        let s = findRetraction.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, seq)
        return try Raw.step(s, db)
    }
}
