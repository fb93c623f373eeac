import GRDB
import GRDBSQLite
import TrellisCore

extension Ledger {
    /// Calls `body` for each event with `from ≤ seq ≤ through`, in seq order; `body` returns
    /// false to stop. One read transaction: a concurrent append is not seen half-way.
    public func scan(from: Int64 = 1, through: Int64 = .max, _ body: (RecordedEvent) throws -> Bool) throws {
        do {
            try queue.read { db in
                let stmt = try db.makeStatement(sql: """
                    SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash
                    FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq
                    """)
                let s = stmt.sqliteStatement
                Raw.bind(s, 1, from)
                Raw.bind(s, 2, through)
                while try Raw.step(s, db) {
                    let e = RecordedEvent(seq: Raw.int(s, 0), id: Raw.string(s, 1) ?? "", type: Raw.string(s, 2) ?? "",
                                          v: Raw.int(s, 3), occurredAt: Raw.string(s, 4) ?? "", recordedAt: Raw.string(s, 5) ?? "",
                                          actor: Raw.string(s, 6), data: Raw.string(s, 7) ?? "{}",
                                          hash: Raw.column(s, 8).map { Array($0) } ?? [])
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
}
