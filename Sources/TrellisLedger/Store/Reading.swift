import GRDB
import GRDBSQLite
import TrellisCore

extension Ledger {
    /// Calls `body` for each event with `from ≤ seq ≤ through`, in seq order; `body` returns
    /// false to stop. One read transaction: a concurrent append is not seen half-way.
    public func scan(from: Int64 = 1, through: Int64 = .max, _ body: (RecordedEvent) throws -> Bool) throws {
        try scanStored(from: from, through: through) { e in try body(e.recorded) }
    }

    /// ``scan(from:through:_:)`` with each row's columns lent straight from SQLite (no
    /// strings built): what the archive export copies into its lines.
    public func scanStored(from: Int64, through: Int64, _ body: (StoredEventBytes) throws -> Bool) throws {
        try scanStored(from: from, through: through, matching: StoredRowFilter(), body)
    }

    /// The rows `filter` admits, left out by the query itself: SQLite compares the type and
    /// searches the data (`instr`, for the text in quotes, which is ASCII-led and so found at a
    /// character boundary as a byte search finds it) before any column reaches Swift.
    public func scanStored(from: Int64, through: Int64, matching filter: StoredRowFilter, _ body: (StoredEventBytes) throws -> Bool) throws {
        var conditions: [String] = []
        if !filter.types.isEmpty { conditions.append("type IN (" + filter.types.map { _ in "?" }.joined(separator: ", ") + ")") }
        for _ in filter.mentioning { conditions.append("instr(data, ?) > 0") }
        let narrowed = conditions.isEmpty ? "" : " AND (" + conditions.joined(separator: " OR ") + ")"
        do {
            try queue.read { db in
                let stmt = try db.makeStatement(sql: """
                    SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash
                    FROM events WHERE seq >= ? AND seq <= ?\(narrowed) ORDER BY seq
                    """)
                let s = stmt.sqliteStatement
                Raw.bind(s, 1, from)
                Raw.bind(s, 2, through)
                var k: Int32 = 3
                for t in filter.types { Raw.bind(s, k, t); k += 1 }
                for m in filter.mentioning { Raw.bind(s, k, "\"" + m + "\""); k += 1 }
                defer { sqlite3_reset(s) }
                let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
                while try Raw.step(s, db) {
                    let e = StoredEventBytes(seq: Raw.int(s, 0), id: Raw.column(s, 1) ?? empty, type: Raw.column(s, 2) ?? empty, v: Raw.int(s, 3),
                                             occurredAt: Raw.column(s, 4) ?? empty, recordedAt: Raw.column(s, 5) ?? empty,
                                             actor: Raw.column(s, 6), data: Raw.column(s, 7) ?? empty, hash: Raw.column(s, 8) ?? empty)
                    if try !body(e) { break }
                }
            }
        } catch let e as LedgerError { throw e } catch let e as DatabaseError { throw Ledger.translate(e, path: path) }
    }

    /// The event recorded under `id`, if any.
    public func event(id: String) throws(LedgerError) -> RecordedEvent? {
        let seq: Int64? = try read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE id = ?", arguments: [id]) }
        guard let seq else { return nil }
        var found: RecordedEvent?
        do { try scan(from: seq, through: seq) { found = $0; return false } } catch { throw Ledger.translate(error, path: path) }
        return found
    }

    /// Whether the id was ever used for an entity of that kind (retracted or not), from the
    /// rule tables: no scan of the log.
    public func knows(_ kind: EntityKind, _ key: String) throws(LedgerError) -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM rule_entities WHERE kind = ? AND key = ?", arguments: [kind.rawValue, key]) ?? false
        }
    }

    /// Retracted seq → the seq of the retraction, from the log's `EventRetracted` events
    /// (not the `retractions` table, which is derived state).
    public func retractions() throws(LedgerError) -> [Int64: Int64] {
        try read { db in
            var out: [Int64: Int64] = [:]
            for r in try Ledger.retractionsInLog(db, through: Int64.max) { out[r.target] = r.retraction }
            return out
        }
    }

    /// The persons whose keys still exist, with their keys (for showing names to the lead).
    public func personKeys() throws(LedgerError) -> [String: [UInt8]] {
        try read { db in
            var out: [String: [UInt8]] = [:]
            let stmt = try db.makeStatement(sql: "SELECT person_id, key FROM person_keys")
            let s = stmt.sqliteStatement
            while try Raw.step(s, db) {
                if let p = Raw.string(s, 0), let k = Raw.column(s, 1) { out[p] = Array(k) }
            }
            return out
        }
    }

    /// The last seq recorded at or before `micros` (`--known-at`): recorded_at never goes
    /// backwards, so this is a prefix of the log.
    public func lastSeq(recordedAtOrBefore text: String) throws(LedgerError) -> Int64 {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events WHERE recorded_at <= ?", arguments: [text]) ?? 0
        }
    }

    /// The stored hash of each event with `from ≤ seq ≤ through`, in seq order, in one read
    /// transaction (Merkle leaves, archive bounds).
    public func hashes(from: Int64, through: Int64, _ body: (Int64, [UInt8]) throws -> Void) throws {
        do {
            try queue.read { db in
                let stmt = try db.makeStatement(sql: "SELECT seq, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq")
                let s = stmt.sqliteStatement
                Raw.bind(s, 1, from)
                Raw.bind(s, 2, through)
                defer { sqlite3_reset(s) }
                while try Raw.step(s, db) {
                    try body(Raw.int(s, 0), Raw.column(s, 1).map { Array($0) } ?? [])
                }
            }
        } catch let e as DatabaseError { throw Ledger.translate(e, path: path) }
    }

    /// `recorded_at` of the first and the last event (nil when the log is empty).
    public func recordedAtBounds() throws(LedgerError) -> (first: String, last: String)? {
        try read { db in
            let first = try String.fetchOne(db, sql: "SELECT recorded_at FROM events ORDER BY seq LIMIT 1")
            let last = try String.fetchOne(db, sql: "SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1")
            guard let first, let last else { return nil }
            return (first, last)
        }
    }

    /// Every id ever used for an entity of `kind` (retracted included), from the rule tables:
    /// what a register or roster import must not reuse. Not part of ``LedgerStore`` yet.
    public func entityKeys(_ kind: EntityKind) throws(LedgerError) -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT key FROM rule_entities WHERE kind = ?", arguments: [kind.rawValue]))
        }
    }
}
