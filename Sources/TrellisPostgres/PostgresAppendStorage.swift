import Dispatch
import TrellisLedger
import TrellisCore

/// The append primitives over one PostgreSQL transaction that holds the append lock.
///
/// Inserts are buffered in COPY text form and sent in bulk (`COPY … FROM STDIN`, one round
/// trip per table per flush) rather than a statement per row, when the buffers pass
/// ``flushBytes`` (and the sending thread is free) and before COMMIT. Nothing else forces a flush: every read answers from what
/// this batch has buffered first and asks the server only about the rest, which the server
/// already holds (rows sent earlier in the batch, or in the log before the lock). A retraction,
/// a person key, a left membership or a state change therefore costs no flush: 179 k
/// generated events took ~1,000 flushes (each five COPYs) and 2,300 single-row UPDATEs before.
///
/// What is kept in memory for that: the unsent rows of `events` by id (bounded by the flush
/// size), the retracted seqs, and the person keys this batch wrote or erased (small).
/// Entity and membership reads need nothing more: ``Batch`` caches both and writes them
/// through, so it only asks for rows this batch never wrote, and none at all when the rule
/// tables were empty as the batch began (``ruleTablesEmpty()``).
///
/// Whether an id is taken must be known at once (a skipped event takes no seq): ids this batch
/// inserted are in ``batchIDs``; ids already in the log are looked up (in bulk, a chunk at a
/// time, see ``prefetch(_:)``) unless the log was empty when the batch took the lock. An id
/// generated for the event (a fresh UUIDv7) is neither remembered nor looked up.
final class PostgresAppendStorage: AppendStorage {
    let c: PGConnection
    /// Flush the buffers once they hold this many bytes.
    static let flushBytes = 2 << 20
    private let flushBytes: Int
    /// No event in the log under the lock (the head is read from `events` itself, so no id is
    /// taken but this batch's).
    private let logWasEmpty: Bool
    /// The head seq under the lock: a seq above it is an event of this batch.
    private let startSeq: Int64
    /// The highest seq `retractions` marked as the batch began (read when first needed): no seq
    /// above it was retracted but by this batch. Taken from the table itself, not from the log,
    /// which a tampered ledger may not match (``isRetracted(seq:)``).
    private var retractedBound: Int64?
    private var batchIDs: Set<String> = []
    private var events: [UInt8] = []
    /// The rows in `events` (not yet sent), by id: where each row starts in `events`, read
    /// back from there when ``recordedEvent(id:)`` asks for one (nothing else kept per row,
    /// so a flush frees no per-row values).
    private var unsentEvents: [String: Int] = [:]
    private var retractions: [UInt8] = []
    /// Every seq this batch retracted (sent or not).
    private var retractedInBatch: Set<Int64> = []
    /// Person keys this batch wrote and has not sent yet.
    private var unsentKeys: [String: [UInt8]] = [:]
    /// Every person key this batch wrote (sent or not); nil marks one this batch erased.
    private var keysInBatch: [String: [UInt8]?] = [:]
    /// Memberships not yet sent, in insertion order; a deleted one is marked dead and not sent.
    private var unsentMemberships: [(network: String, org: String, seq: Int64, joined: Bool, live: Bool)] = []
    private var unsentMembershipIndex: [String: Int] = [:]
    /// Entities created in this batch and not yet sent, by kind and key, in creation order.
    private var entities: [(kind: EntityKind, key: String, seq: Int64, parent: String?, state: Int64)] = []
    private var pendingEntity: [EntityKind: [String: Int]] = [:]
    /// State changes of entities already on the server, applied in one UPDATE a flush.
    private var stateUpdates: [EntityKind: [String: Int64]] = [:]
    private var unsentBytes = 0
    private(set) var rowsSent = 0
    private let sender = ParcelSender()

    init(connection: PGConnection, head: LedgerHead, flushBytes: Int = PostgresAppendStorage.flushBytes) {
        c = connection
        self.flushBytes = flushBytes
        logWasEmpty = head.seq == 0
        startSeq = head.seq
    }

    private var buffered: Int { events.count + retractions.count + unsentBytes + entities.count * 64 }

    /// Hands every buffered row, and the buffered state changes, to the sending thread (the
    /// previous parcel must have gone first), then goes back to checking rules: the server
    /// stores one parcel while the writer prepares the next.
    func flush() throws(LedgerError) {
        var parcel: [ParcelStep] = []
        if !events.isEmpty {
            CopyBinary.trailer(&events)
            parcel.append(.copy("COPY events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) FROM STDIN (FORMAT binary)",
                                events, "appending events"))
            events = []
            events.reserveCapacity(flushBytes + flushBytes / 8)
            unsentEvents.removeAll(keepingCapacity: true)
        }
        if !entities.isEmpty {
            var rows: [UInt8] = []
            rows.reserveCapacity(entities.count * 64)
            for e in entities {
                CopyText.field(e.kind.rawValue, &rows); CopyText.tab(&rows)
                CopyText.field(e.key, &rows); CopyText.tab(&rows)
                CopyText.int(e.seq, &rows); CopyText.tab(&rows)
                CopyText.field(e.parent, &rows); CopyText.tab(&rows)
                CopyText.int(e.state, &rows); CopyText.newline(&rows)
            }
            parcel.append(.copy("COPY rule_entities (kind, key, seq, parent, state) FROM STDIN", rows, "writing the rule state"))
            entities.removeAll(keepingCapacity: true)
            pendingEntity.removeAll(keepingCapacity: true)
        }
        if !stateUpdates.isEmpty {
            var states: [String] = []
            var kindList: [String] = [], keyList: [String] = []
            for (kind, updates) in stateUpdates {
                for (key, state) in updates { kindList.append(kind.rawValue); keyList.append(key); states.append(String(state)) }
            }
            parcel.append(.exec("""
                UPDATE rule_entities e SET state = u.state
                FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u (kind, key, state)
                WHERE e.kind = u.kind AND e.key = u.key
                """, [.text(Self.array(kindList)), .text(Self.array(keyList)), .text("{" + states.joined(separator: ",") + "}")],
                "writing the rule state"))
            stateUpdates.removeAll(keepingCapacity: true)
        }
        if !unsentMemberships.isEmpty {
            var rows: [UInt8] = []
            for m in unsentMemberships where m.live {
                CopyText.field(m.network, &rows); CopyText.tab(&rows)
                CopyText.field(m.org, &rows); CopyText.tab(&rows)
                CopyText.int(m.seq, &rows); CopyText.tab(&rows)
                CopyText.int(m.joined ? 1 : 0, &rows); CopyText.newline(&rows)
            }
            if !rows.isEmpty {
                parcel.append(.copy("COPY rule_memberships (network_id, org_id, seq, joined) FROM STDIN", rows, "writing the rule state"))
            }
            unsentMemberships.removeAll(keepingCapacity: true)
            unsentMembershipIndex.removeAll(keepingCapacity: true)
        }
        if !retractions.isEmpty {
            parcel.append(.copy("COPY retractions (target_seq, retraction_seq) FROM STDIN", retractions, "writing the rule state"))
            retractions = []
        }
        if !unsentKeys.isEmpty {
            var rows: [UInt8] = []
            for (person, key) in unsentKeys {
                CopyText.field(person, &rows); CopyText.tab(&rows)
                CopyText.bytea(key, &rows); CopyText.newline(&rows)
            }
            parcel.append(.copy("COPY person_keys (person_id, key) FROM STDIN", rows, "writing person keys"))
            unsentKeys.removeAll(keepingCapacity: true)
        }
        unsentBytes = 0
        guard !parcel.isEmpty else { return }
        try sender.send(parcel, on: c)
    }

    /// Sends what is buffered and waits until the server has it all (before COMMIT).
    func finish() throws(LedgerError) {
        try flush()
        try sender.wait()
    }

    /// Waits for the sending thread to let go of the connection, ignoring its failure (before
    /// ROLLBACK: the failure is already being reported, or the batch is being abandoned).
    func abandon() {
        try? sender.wait()
    }

    /// One statement on the connection from this thread, once the sending thread is done with it.
    @discardableResult
    private func query(_ sql: String, _ params: [PGConnection.Param] = [], during what: String) throws(LedgerError) -> PGResult {
        try sender.wait()
        return try c.exec(sql, params, during: what)
    }

    /// Sends once the buffers pass ``flushBytes`` and the sending thread is free; while it is
    /// still busy with the previous parcel, the writer keeps buffering (up to four times as
    /// much) rather than wait for it.
    private func flushIfFull() throws(LedgerError) {
        let n = buffered
        if n >= flushBytes && (n >= 4 * flushBytes || sender.isIdle) { try flush() }
    }

    func insertEvent(seq: Int64, id: String, fresh: Bool, type: String, v: Int64, occurredAt: String,
                     recordedAt: String, actor: String?, data: [UInt8], hash: [UInt8]) throws -> Bool {
        if !fresh && batchIDs.contains(id) { return false }
        if !fresh && !logWasEmpty && (!prefetchedIDs.contains(id) || existingIDs.contains(id)) {
            let r = try query("SELECT 1 FROM events WHERE id = $1", [.text(id)], during: "looking up an event id")
            if r.count > 0 { return false }
        }
        if events.isEmpty { CopyBinary.header(&events) }
        if !fresh {
            batchIDs.insert(id)
            // Kept until sent: a retraction or a re-sent line in the same batch reads it back.
            unsentEvents[id] = events.count
        }
        CopyBinary.tuple(9, &events)
        CopyBinary.int(seq, &events)
        CopyBinary.field(id, &events)
        CopyBinary.field(type, &events)
        CopyBinary.int(v, &events)
        CopyBinary.field(occurredAt, &events)
        CopyBinary.field(recordedAt, &events)
        CopyBinary.field(actor, &events)
        CopyBinary.bytes(data, &events)
        CopyBinary.bytes(hash, &events)
        rowsSent += 1
        try flushIfFull()
        return true
    }

    func recordedEvent(id: String) throws -> StoredEventRow? {
        if let offset = unsentEvents[id] { return CopyBinary.eventRow(events, at: offset) }
        if let row = prefetchedEvents[id] { return row }
        // Not buffered: in the log before the lock, or sent earlier in this batch, or nowhere.
        if logWasEmpty && !batchIDs.contains(id) { return nil }
        let r = try query("SELECT seq, type, v, occurred_at, actor, data FROM events WHERE id = $1", [.text(id)], during: "reading an event")
        guard r.count > 0 else { return nil }
        return Self.row(r, 0)
    }

    private static func row(_ r: PGResult, _ i: Int) -> StoredEventRow {
        StoredEventRow(seq: r.int(i, 0), type: r.string(i, 1) ?? "", v: r.int(i, 2), occurredAt: r.string(i, 3) ?? "",
                       actor: r.string(i, 4), dataText: r.string(i, 5) ?? "{}")
    }

    func hash(at seq: Int64) throws -> [UInt8]? {
        // The archive import asks only about events before its own; a later seq may be buffered.
        if seq > startSeq { try flush() }
        let r = try query("SELECT hash FROM events WHERE seq = $1", [.int(seq)], during: "reading a hash")
        return r.count > 0 ? r.bytes(0, 0) ?? [] : nil
    }

    // MARK: Prefetching

    /// Entity ids (every `…_id` text in the prefetched events' data) looked up in bulk, with
    /// the rows found; a key in `prefetchedKeys` but not in `prefetched` has no row.
    private var prefetchedKeys: Set<String> = []
    private var prefetched: [EntityKind: [String: EntityFact]] = [:]
    /// (network, org) pairs whose memberships were fetched in bulk, with their rows.
    private var prefetchedPairs: [String: [(seq: Int64, joined: Bool)]] = [:]
    /// Event ids looked up in bulk; `existingIDs` holds those the log has.
    private var prefetchedIDs: Set<String> = []
    private var existingIDs: Set<String> = []
    /// The events the current chunk names by `event_id` (retraction targets), already on the
    /// server; replaced a chunk at a time.
    private var prefetchedEvents: [String: StoredEventRow] = [:]
    /// Seqs of events before the batch known to be retracted (`retractedChecked` were looked up).
    private var retractedBefore: Set<Int64> = []
    private var retractedChecked: Set<Int64> = []

    /// A few queries a chunk instead of one a rule look-up: what the log holds for the ids
    /// the chunk's events name. The answers stay true for the batch: the append lock keeps
    /// other writers out, and what this batch writes, ``Batch`` caches or this storage keeps.
    func prefetch(_ events: [DecodedEvent]) throws {
        // Retraction targets already on the server (before the batch, or sent in it).
        prefetchedEvents.removeAll(keepingCapacity: true)
        var targets: Set<String> = []
        for e in events {
            if let t = e.data.string("event_id"), unsentEvents[t] == nil, !logWasEmpty || batchIDs.contains(t) { targets.insert(t) }
        }
        if !targets.isEmpty {
            let r = try query("SELECT seq, type, v, occurred_at, actor, data, id FROM events WHERE id = ANY($1::text[])",
                               [.text(Self.array(targets))], during: "checking the rules")
            var before: Set<Int64> = []
            for i in 0..<r.count {
                guard let id = r.string(i, 6) else { continue }
                let row = Self.row(r, i)
                prefetchedEvents[id] = row
                if !retractedChecked.contains(row.seq) { before.insert(row.seq) }
            }
            if !before.isEmpty {
                let bound = try retractionsBound()
                before = before.filter { $0 <= bound }
            }
            if !before.isEmpty {
                let q = try query("SELECT target_seq FROM retractions WHERE target_seq = ANY($1::bigint[])",
                                   [.text("{" + before.map(String.init).joined(separator: ",") + "}")], during: "checking the rules")
                for i in 0..<q.count { retractedBefore.insert(q.int(i, 0)) }
                retractedChecked.formUnion(before)
            }
        }
        guard !logWasEmpty else { return }
        var keys: Set<String> = [], networks: Set<String> = [], orgs: Set<String> = [], ids: Set<String> = []
        for e in events {
            if let id = e.id, !batchIDs.contains(id), !prefetchedIDs.contains(id) { ids.insert(id) }
            for (field, value) in e.data.pairs where field.hasSuffix("_id") && field != "event_id" {
                if case .string(let s) = value, !prefetchedKeys.contains(s) { keys.insert(s) }
            }
            if let n = e.data.string("network_id"), let o = e.data.string("org_id"), prefetchedPairs[n + "\u{0}" + o] == nil {
                networks.insert(n); orgs.insert(o)
            }
        }
        if !keys.isEmpty {
            let r = try query("SELECT kind, key, seq, parent, state FROM rule_entities WHERE key = ANY($1::text[])",
                               [.text(Self.array(keys))], during: "checking the rules")
            for i in 0..<r.count {
                guard let kind = EntityKind(rawValue: r.string(i, 0) ?? ""), let key = r.string(i, 1) else { continue }
                prefetched[kind, default: [:]][key] = EntityFact.make(seq: r.int(i, 2), parent: r.string(i, 3), state: r.int(i, 4))
            }
            prefetchedKeys.formUnion(keys)
        }
        if !networks.isEmpty {
            let r = try query("""
                SELECT network_id, org_id, seq, joined FROM rule_memberships
                WHERE network_id = ANY($1::text[]) AND org_id = ANY($2::text[]) ORDER BY seq
                """, [.text(Self.array(networks)), .text(Self.array(orgs))], during: "checking the rules")
            for n in networks { for o in orgs { prefetchedPairs[n + "\u{0}" + o] = prefetchedPairs[n + "\u{0}" + o] ?? [] } }
            var fetched: [String: [(seq: Int64, joined: Bool)]] = [:]
            for i in 0..<r.count {
                fetched[(r.string(i, 0) ?? "") + "\u{0}" + (r.string(i, 1) ?? ""), default: []].append((r.int(i, 2), r.int(i, 3) != 0))
            }
            for (k, rows) in fetched { prefetchedPairs[k] = rows }
        }
        if !ids.isEmpty {
            let r = try query("SELECT id FROM events WHERE id = ANY($1::text[])", [.text(Self.array(ids))], during: "looking up event ids")
            for i in 0..<r.count { if let id = r.string(i, 0) { existingIDs.insert(id) } }
            prefetchedIDs.formUnion(ids)
        }
    }

    /// A PostgreSQL array literal of texts: `{"a","b"}`, with `"` and `\` escaped.
    static func array<S: Sequence<String>>(_ items: S) -> String {
        var out = "{"
        var first = true
        for s in items {
            if !first { out += "," }
            first = false
            out += "\""
            for ch in s.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? {
        if let i = pendingEntity[kind]?[key] {
            let e = entities[i]
            return EntityFact.make(seq: e.seq, parent: e.parent, state: e.state)
        }
        if prefetchedKeys.contains(key) { return prefetched[kind]?[key] }
        let r = try query("SELECT seq, parent, state FROM rule_entities WHERE kind = $1 AND key = $2",
                           [.text(kind.rawValue), .text(key)], during: "checking the rules")
        guard r.count > 0 else { return nil }
        return EntityFact.make(seq: r.int(0, 0), parent: r.string(0, 1), state: r.int(0, 2))
    }

    func memberships(network: String, org: String) throws -> [(seq: Int64, joined: Bool)] {
        if let rows = prefetchedPairs[network + "\u{0}" + org] { return rows }
        let r = try query("SELECT seq, joined FROM rule_memberships WHERE network_id = $1 AND org_id = $2 ORDER BY seq",
                           [.text(network), .text(org)], during: "checking the rules")
        return (0..<r.count).map { (r.int($0, 0), r.int($0, 1) != 0) }
    }

    func ruleTablesEmpty() throws -> Bool {
        let r = try query("SELECT (NOT EXISTS (SELECT 1 FROM rule_entities) AND NOT EXISTS (SELECT 1 FROM rule_memberships))::int",
                          during: "checking the rules")
        return r.count > 0 && r.int(0, 0) == 1
    }

    func isRetracted(seq: Int64) throws -> Bool {
        if retractedInBatch.contains(seq) { return true }
        // Above every seq the table marked: only this batch could have retracted it.
        if seq > (try retractionsBound()) { return false }
        if retractedChecked.contains(seq) { return retractedBefore.contains(seq) }
        return try query("SELECT 1 FROM retractions WHERE target_seq = $1", [.int(seq)], during: "checking the rules").count > 0
    }

    /// ``retractedBound``, read once a batch. Read after this batch sent retractions of its own,
    /// it counts them too: a higher bound only sends more look-ups to the server, which answers
    /// them truly.
    private func retractionsBound() throws(LedgerError) -> Int64 {
        if let b = retractedBound { return b }
        let r = try query("SELECT coalesce(max(target_seq), 0) FROM retractions", during: "checking the rules")
        let b = r.count > 0 ? r.int(0, 0) : 0
        retractedBound = b
        return b
    }

    func createEntity(_ kind: EntityKind, _ key: String, seq: Int64, parent: String?) throws {
        pendingEntity[kind, default: [:]][key] = entities.count
        entities.append((kind, key, seq, parent, 0))
        try flushIfFull()
    }

    func setEntityState(_ kind: EntityKind, _ key: String, state: Int64) throws {
        if let i = pendingEntity[kind]?[key] { entities[i].state = state; return }
        // On the server already: one UPDATE for all of them at the next flush (``Batch`` caches
        // the new state, so nothing reads the row before then).
        stateUpdates[kind, default: [:]][key] = state
        unsentBytes += 64
        try flushIfFull()
    }

    func insertMembership(network: String, org: String, seq: Int64, joined: Bool) throws {
        unsentMembershipIndex[network + "\u{0}" + org + "\u{0}" + String(seq)] = unsentMemberships.count
        unsentMemberships.append((network, org, seq, joined, true))
        unsentBytes += network.utf8.count + org.utf8.count + 24
        try flushIfFull()
    }

    func deleteMembership(network: String, org: String, seq: Int64) throws {
        if let i = unsentMembershipIndex[network + "\u{0}" + org + "\u{0}" + String(seq)], unsentMemberships[i].live {
            unsentMemberships[i].live = false
            return
        }
        try query("DELETE FROM rule_memberships WHERE network_id = $1 AND org_id = $2 AND seq = $3",
                   [.text(network), .text(org), .int(seq)], during: "writing the rule state")
    }

    func insertRetraction(target: Int64, by seq: Int64) throws {
        CopyText.int(target, &retractions); CopyText.tab(&retractions)
        CopyText.int(seq, &retractions); CopyText.newline(&retractions)
        retractedInBatch.insert(target)
    }

    func personKey(_ person: String) throws -> [UInt8]? {
        if let known = keysInBatch[person] { return known }
        let r = try query("SELECT key FROM person_keys WHERE person_id = $1", [.text(person)], during: "reading a person key")
        return r.count > 0 ? r.bytes(0, 0) : nil
    }

    func putPersonKey(_ person: String, _ key: [UInt8]) throws {
        unsentKeys[person] = key
        keysInBatch[person] = .some(key)
        unsentBytes += person.utf8.count + 72
    }

    func deletePersonKey(_ person: String) throws {
        keysInBatch[person] = .some(nil)
        // A key never sent never reaches the server: nothing to delete, no dead tuple to vacuum.
        if unsentKeys.removeValue(forKey: person) != nil { return }
        try query("DELETE FROM person_keys WHERE person_id = $1", [.text(person)], during: "erasing a person key")
    }
}

/// A step of a parcel the sending thread runs: a COPY with its rows, or a plain one.
enum ParcelStep {
    case copy(String, [UInt8], String)
    case exec(String, [PGConnection.Param], String)
}

/// Runs parcels of statements on a thread of its own, one parcel at a time, so that the
/// server stores a batch's rows while the writer checks and chains the next ones (on two
/// cores the writer and the server otherwise take turns). The connection is the sender's
/// from ``send(_:on:)`` until ``wait()`` returns: every other use of it waits first. A
/// parcel's failure is thrown by the next ``wait()`` (or ``send(_:on:)``), and stays: the
/// transaction is lost anyway.
final class ParcelSender: @unchecked Sendable {
    private let queue = DispatchQueue(label: "trellis.postgres.copy")
    private let done = DispatchSemaphore(value: 0)
    /// Touched by the writer's thread only.
    private var inFlight = false
    /// Written by the sending thread before it signals `done`, read after the wait.
    private var failure: LedgerError?

    func wait() throws(LedgerError) {
        if inFlight { done.wait(); inFlight = false }
        if let failure { throw failure }
    }

    /// Whether no parcel is in flight (never blocks).
    var isIdle: Bool {
        if inFlight && done.wait(timeout: .now()) == .success { inFlight = false }
        return !inFlight
    }

    func send(_ parcel: [ParcelStep], on connection: PGConnection) throws(LedgerError) {
        try wait()
        inFlight = true
        let work = UncheckedParcel(parcel: parcel, connection: connection)
        queue.async {
            do throws(LedgerError) {
                for statement in work.parcel {
                    switch statement {
                    case .copy(let sql, let rows, let what): try work.connection.copy(sql, rows, during: what)
                    case .exec(let sql, let params, let what): try work.connection.exec(sql, params, during: what)
                    }
                }
            } catch {
                self.failure = error
            }
            self.done.signal()
        }
    }
}

/// A parcel and the connection it goes on, handed to the sending thread; the writer does not
/// touch either until ``ParcelSender/wait()`` returns.
private struct UncheckedParcel: @unchecked Sendable {
    let parcel: [ParcelStep]
    let connection: PGConnection
}

/// COPY's binary format (`FORMAT binary`): a signature and two zero words, then per row a
/// 16-bit field count and per field a 32-bit length (-1 for NULL) and the value's bytes
/// (bigint as 8 bytes big-endian; text and bytea as they are), then -1 as the trailer. Nothing
/// is escaped on this side or unescaped on the server's; the server still checks that text is
/// valid in its encoding, as it does for the text format.
enum CopyBinary {
    static func header(_ out: inout [UInt8]) {
        out.append(contentsOf: [80, 71, 67, 79, 80, 89, 10, 255, 13, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    static func trailer(_ out: inout [UInt8]) { out.append(contentsOf: [255, 255]) }

    static func tuple(_ fields: Int16, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: fields >> 8)); out.append(UInt8(truncatingIfNeeded: fields))
    }

    private static func int32(_ v: Int32, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    static func int(_ v: Int64, _ out: inout [UInt8]) {
        int32(8, &out)
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    static func field(_ s: String?, _ out: inout [UInt8]) {
        guard var s else { int32(-1, &out); return }
        s.withUTF8 { b in
            int32(Int32(b.count), &out)
            out.append(contentsOf: b)
        }
    }

    static func bytes(_ b: [UInt8], _ out: inout [UInt8]) {
        int32(Int32(b.count), &out)
        out.append(contentsOf: b)
    }

    /// Reads back the `events` row written at `offset` (by ``PostgresAppendStorage``, in the
    /// column order of its COPY: seq, id, type, v, occurred_at, recorded_at, actor, data, hash).
    static func eventRow(_ buffer: [UInt8], at offset: Int) -> StoredEventRow {
        var o = offset + 2
        func length() -> Int {
            let n = buffer[o..<o + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            o += 4
            return Int(Int32(bitPattern: n))
        }
        func int() -> Int64 {
            _ = length()
            let v = buffer[o..<o + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            o += 8
            return Int64(bitPattern: v)
        }
        func text() -> String? {
            let n = length()
            guard n >= 0 else { return nil }
            defer { o += n }
            return String(decoding: buffer[o..<o + n], as: UTF8.self)
        }
        let seq = int()
        _ = text()
        let type = text() ?? ""
        let v = int()
        let occurredAt = text() ?? ""
        _ = text()
        let actor = text()
        let data = text() ?? "{}"
        return StoredEventRow(seq: seq, type: type, v: v, occurredAt: occurredAt, actor: actor, dataText: data)
    }
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes for `\`, newline,
/// carriage return and tab; bytea as `\\x` and hex.
enum CopyText {
    static func tab(_ out: inout [UInt8]) { out.append(9) }
    static func newline(_ out: inout [UInt8]) { out.append(10) }

    static func int(_ v: Int64, _ out: inout [UInt8]) {
        guard v > 0 else { out.append(contentsOf: String(v).utf8); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0, x = UInt64(v)
        withUnsafeMutableBytes(of: &digits) { d in
            while x > 0 { d[19 - n] = UInt8(48 + x % 10); x /= 10; n += 1 }
            out.append(contentsOf: d[(20 - n)...])
        }
    }

    static func field(_ s: String?, _ out: inout [UInt8]) {
        guard var s else { out.append(contentsOf: [92, 78]); return }
        s.withUTF8 { bytes(UnsafeBufferPointer(rebasing: $0[...]), &out) }
    }

    static func bytes(_ b: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        var start = 0
        for (i, c) in b.enumerated() where c == 92 || c == 10 || c == 13 || c == 9 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
            out.append(92)
            out.append(c == 92 ? 92 : c == 10 ? 110 : c == 13 ? 114 : 116)
            start = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start...]))
    }

    static func bytea(_ b: [UInt8], _ out: inout [UInt8]) {
        out.append(contentsOf: [92, 92, 120])
        let digits = Array("0123456789abcdef".utf8)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
    }
}
