import TrellisLedger
import TrellisCore

/// The append primitives over one PostgreSQL transaction that holds the append lock.
///
/// Inserts are buffered in COPY text form and sent in bulk (`COPY … FROM STDIN`, one round
/// trip per table per flush) rather than a statement per row: a flush happens when the buffers
/// pass ``flushBytes``, before any read that could depend on a buffered row (an event by id or
/// seq, a retraction, a person key), before an UPDATE or DELETE, and before COMMIT. Entity and
/// membership reads need no flush: ``Batch`` caches both and writes them through, so it only
/// asks for rows this batch never wrote (and into a log that was empty under the lock, there
/// are none: those reads cost no round trip).
///
/// Whether an id is taken must be known at once (a skipped event takes no seq): ids this batch
/// inserted are in ``batchIDs``; ids already in the log are looked up, one round trip per event
/// that carries an id, unless the log was empty when the batch took the lock. An id generated
/// for the event (a fresh UUIDv7) is neither remembered nor looked up.
final class PostgresAppendStorage: AppendStorage {
    let c: PGConnection
    /// Flush the buffers once they hold this many bytes.
    static let flushBytes = 8 << 20
    private let logWasEmpty: Bool
    private var batchIDs: Set<String> = []
    private var events: [UInt8] = []
    private var memberships: [UInt8] = []
    private var retractions: [UInt8] = []
    private var keys: [UInt8] = []
    /// Entities created in this batch and not yet sent, by kind and key, in creation order.
    private var entities: [(kind: EntityKind, key: String, seq: Int64, parent: String?, state: Int64)] = []
    private var pendingEntity: [EntityKind: [String: Int]] = [:]
    private(set) var rowsSent = 0

    init(connection: PGConnection, head: LedgerHead) {
        c = connection
        logWasEmpty = head.seq == 0
    }

    private var buffered: Int { events.count + memberships.count + retractions.count + keys.count + entities.count * 64 }

    /// Sends every buffered row.
    func flush() throws(LedgerError) {
        if !events.isEmpty {
            try c.copy("COPY events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) FROM STDIN", events, during: "appending events")
            events.removeAll(keepingCapacity: true)
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
            try c.copy("COPY rule_entities (kind, key, seq, parent, state) FROM STDIN", rows, during: "writing the rule state")
            entities.removeAll(keepingCapacity: true)
            pendingEntity.removeAll(keepingCapacity: true)
        }
        if !memberships.isEmpty {
            try c.copy("COPY rule_memberships (network_id, org_id, seq, joined) FROM STDIN", memberships, during: "writing the rule state")
            memberships.removeAll(keepingCapacity: true)
        }
        if !retractions.isEmpty {
            try c.copy("COPY retractions (target_seq, retraction_seq) FROM STDIN", retractions, during: "writing the rule state")
            retractions.removeAll(keepingCapacity: true)
        }
        if !keys.isEmpty {
            try c.copy("COPY person_keys (person_id, key) FROM STDIN", keys, during: "writing person keys")
            keys.removeAll(keepingCapacity: true)
        }
    }

    private func flushIfFull() throws(LedgerError) {
        if buffered >= Self.flushBytes { try flush() }
    }

    func insertEvent(seq: Int64, id: String, fresh: Bool, type: String, v: Int64, occurredAt: String,
                     recordedAt: String, actor: String?, data: [UInt8], hash: [UInt8]) throws -> Bool {
        if !fresh && batchIDs.contains(id) { return false }
        if !fresh && !logWasEmpty && (!prefetchedIDs.contains(id) || existingIDs.contains(id)) {
            let r = try c.exec("SELECT 1 FROM events WHERE id = $1", [.text(id)], during: "looking up an event id")
            if r.count > 0 { return false }
        }
        if !fresh { batchIDs.insert(id) }
        CopyText.int(seq, &events); CopyText.tab(&events)
        CopyText.field(id, &events); CopyText.tab(&events)
        CopyText.field(type, &events); CopyText.tab(&events)
        CopyText.int(v, &events); CopyText.tab(&events)
        CopyText.field(occurredAt, &events); CopyText.tab(&events)
        CopyText.field(recordedAt, &events); CopyText.tab(&events)
        CopyText.field(actor, &events); CopyText.tab(&events)
        CopyText.bytes(data, &events); CopyText.tab(&events)
        CopyText.bytea(hash, &events); CopyText.newline(&events)
        rowsSent += 1
        try flushIfFull()
        return true
    }

    func recordedEvent(id: String) throws -> StoredEventRow? {
        try flush()
        let r = try c.exec("SELECT seq, type, v, occurred_at, actor, data FROM events WHERE id = $1", [.text(id)], during: "reading an event")
        guard r.count > 0 else { return nil }
        return StoredEventRow(seq: r.int(0, 0), type: r.string(0, 1) ?? "", v: r.int(0, 2), occurredAt: r.string(0, 3) ?? "",
                              actor: r.string(0, 4), dataText: r.string(0, 5) ?? "{}")
    }

    func hash(at seq: Int64) throws -> [UInt8]? {
        try flush()
        let r = try c.exec("SELECT hash FROM events WHERE seq = $1", [.int(seq)], during: "reading a hash")
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

    /// Three queries a chunk instead of one a rule look-up: what the log holds for the ids
    /// the chunk's events name. The answers stay true for the batch: the append lock keeps
    /// other writers out, and what this batch writes, ``Batch`` caches and asks no more.
    func prefetch(_ events: [DecodedEvent]) throws {
        guard !logWasEmpty else { return }
        var keys: Set<String> = [], networks: Set<String> = [], orgs: Set<String> = [], ids: Set<String> = []
        for e in events {
            if let id = e.id, !batchIDs.contains(id), !prefetchedIDs.contains(id) { ids.insert(id) }
            for (field, value) in zip(e.data.keys, e.data.values) where field.hasSuffix("_id") {
                if case .string(let s) = value, !prefetchedKeys.contains(s) { keys.insert(s) }
            }
            if let n = e.data.string("network_id"), let o = e.data.string("org_id"), prefetchedPairs[n + "\u{0}" + o] == nil {
                networks.insert(n); orgs.insert(o)
            }
        }
        if !keys.isEmpty {
            let r = try c.exec("SELECT kind, key, seq, parent, state FROM rule_entities WHERE key = ANY($1::text[])",
                               [.text(Self.array(keys))], during: "checking the rules")
            for i in 0..<r.count {
                guard let kind = EntityKind(rawValue: r.string(i, 0) ?? ""), let key = r.string(i, 1) else { continue }
                prefetched[kind, default: [:]][key] = EntityFact.make(seq: r.int(i, 2), parent: r.string(i, 3), state: r.int(i, 4))
            }
            prefetchedKeys.formUnion(keys)
        }
        if !networks.isEmpty {
            let r = try c.exec("""
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
            let r = try c.exec("SELECT id FROM events WHERE id = ANY($1::text[])", [.text(Self.array(ids))], during: "looking up event ids")
            for i in 0..<r.count { if let id = r.string(i, 0) { existingIDs.insert(id) } }
            prefetchedIDs.formUnion(ids)
        }
    }

    /// A PostgreSQL array literal of texts: `{"a","b"}`, with `"` and `\` escaped.
    static func array(_ items: Set<String>) -> String {
        var out = "{"
        for (i, s) in items.enumerated() {
            if i > 0 { out += "," }
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
        // Batch caches what it wrote: a miss on a log that was empty under the lock is no row.
        if logWasEmpty { return nil }
        if prefetchedKeys.contains(key) { return prefetched[kind]?[key] }
        let r = try c.exec("SELECT seq, parent, state FROM rule_entities WHERE kind = $1 AND key = $2",
                           [.text(kind.rawValue), .text(key)], during: "checking the rules")
        guard r.count > 0 else { return nil }
        return EntityFact.make(seq: r.int(0, 0), parent: r.string(0, 1), state: r.int(0, 2))
    }

    func memberships(network: String, org: String) throws -> [(seq: Int64, joined: Bool)] {
        if logWasEmpty { return [] }
        if let rows = prefetchedPairs[network + "\u{0}" + org] { return rows }
        let r = try c.exec("SELECT seq, joined FROM rule_memberships WHERE network_id = $1 AND org_id = $2 ORDER BY seq",
                           [.text(network), .text(org)], during: "checking the rules")
        return (0..<r.count).map { (r.int($0, 0), r.int($0, 1) != 0) }
    }

    func isRetracted(seq: Int64) throws -> Bool {
        try flush()
        return try c.exec("SELECT 1 FROM retractions WHERE target_seq = $1", [.int(seq)], during: "checking the rules").count > 0
    }

    func createEntity(_ kind: EntityKind, _ key: String, seq: Int64, parent: String?) throws {
        pendingEntity[kind, default: [:]][key] = entities.count
        entities.append((kind, key, seq, parent, 0))
        try flushIfFull()
    }

    func setEntityState(_ kind: EntityKind, _ key: String, state: Int64) throws {
        if let i = pendingEntity[kind]?[key] { entities[i].state = state; return }
        try c.exec("UPDATE rule_entities SET state = $1 WHERE kind = $2 AND key = $3",
                   [.int(state), .text(kind.rawValue), .text(key)], during: "writing the rule state")
    }

    func insertMembership(network: String, org: String, seq: Int64, joined: Bool) throws {
        CopyText.field(network, &memberships); CopyText.tab(&memberships)
        CopyText.field(org, &memberships); CopyText.tab(&memberships)
        CopyText.int(seq, &memberships); CopyText.tab(&memberships)
        CopyText.int(joined ? 1 : 0, &memberships); CopyText.newline(&memberships)
        try flushIfFull()
    }

    func deleteMembership(network: String, org: String, seq: Int64) throws {
        try flush()
        try c.exec("DELETE FROM rule_memberships WHERE network_id = $1 AND org_id = $2 AND seq = $3",
                   [.text(network), .text(org), .int(seq)], during: "writing the rule state")
    }

    func insertRetraction(target: Int64, by seq: Int64) throws {
        CopyText.int(target, &retractions); CopyText.tab(&retractions)
        CopyText.int(seq, &retractions); CopyText.newline(&retractions)
    }

    func personKey(_ person: String) throws -> [UInt8]? {
        try flush()
        let r = try c.exec("SELECT key FROM person_keys WHERE person_id = $1", [.text(person)], during: "reading a person key")
        return r.count > 0 ? r.bytes(0, 0) : nil
    }

    func putPersonKey(_ person: String, _ key: [UInt8]) throws {
        CopyText.field(person, &keys); CopyText.tab(&keys)
        CopyText.bytea(key, &keys); CopyText.newline(&keys)
    }

    func deletePersonKey(_ person: String) throws {
        try flush()
        try c.exec("DELETE FROM person_keys WHERE person_id = $1", [.text(person)], during: "erasing a person key")
    }
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes for `\`, newline,
/// carriage return and tab; bytea as `\\x` and hex.
enum CopyText {
    static func tab(_ out: inout [UInt8]) { out.append(9) }
    static func newline(_ out: inout [UInt8]) { out.append(10) }

    static func int(_ v: Int64, _ out: inout [UInt8]) {
        out.append(contentsOf: String(v).utf8)
    }

    static func field(_ s: String?, _ out: inout [UInt8]) {
        guard var s else { out.append(contentsOf: [92, 78]); return }
        s.withUTF8 { bytes(UnsafeBufferPointer(rebasing: $0[...]), &out) }
    }

    static func bytes(_ b: [UInt8], _ out: inout [UInt8]) {
        b.withUnsafeBufferPointer { bytes($0, &out) }
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
