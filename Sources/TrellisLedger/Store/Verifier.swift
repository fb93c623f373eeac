import GRDB
import GRDBSQLite

/// The result of recomputing the chain.
public struct VerifyReport: Sendable, Equatable {
    public var events: Int64
    public var head: [UInt8]
    /// The first bad position and why, or nil when the log is intact.
    public var broken: (seq: Int64, why: String)?
    /// Problems not tied to one event (an append-only trigger dropped or replaced, or an extra
    /// trigger on the ledger's own tables).
    public var warnings: [String]

    public var ok: Bool { broken == nil && warnings.isEmpty }

    public static func == (a: VerifyReport, b: VerifyReport) -> Bool {
        a.events == b.events && a.head == b.head && a.broken?.seq == b.broken?.seq && a.broken?.why == b.broken?.why && a.warnings == b.warnings
    }
}

extension Ledger {
    /// Recomputes every hash from seq 1 and checks that seq has no gap. Stops at the first
    /// bad position. Also compares the triggers on the ledger's own tables, in full SQL, with
    /// those the migrations create. `progress(seq, head)` is called every 64 k events.
    public func verify(progress: ((Int64, Int64) -> Void)? = nil) throws(LedgerError) -> VerifyReport {
        try read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
            let warnings = try Ledger.triggerProblems(db)
            let stmt = try db.makeStatement(sql: "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq")
            let s = stmt.sqliteStatement
            var previous = CanonicalEnvelope.genesis
            var expected: Int64 = 1
            var canonical: [UInt8] = []
            canonical.reserveCapacity(4096)
            let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            while try Raw.step(s, db) {
                let seq = Raw.int(s, 0)
                if seq != expected {
                    let why = seq > expected
                        ? (expected == seq - 1 ? "event \(expected) is missing (deleted?)" : "events \(expected)–\(seq - 1) are missing (deleted?)")
                        : "seq out of order"
                    return VerifyReport(events: expected - 1, head: previous, broken: (expected, why), warnings: warnings)
                }
                canonical.removeAll(keepingCapacity: true)
                CanonicalEnvelope.write(seq: seq, id: Raw.column(s, 1) ?? empty, type: Raw.column(s, 2) ?? empty, v: Raw.int(s, 3),
                                        occurredAt: Raw.column(s, 4) ?? empty, recordedAt: Raw.column(s, 5) ?? empty,
                                        actor: Raw.column(s, 6), data: Raw.column(s, 7) ?? empty, into: &canonical)
                let hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
                let stored = Raw.column(s, 8).map { Array($0) } ?? []
                if stored != hash {
                    let why = stored.count != 32
                        ? "the stored hash is not 32 bytes"
                        : "the stored hash does not match the event's content and the chain before it (changed or inserted?)"
                    return VerifyReport(events: seq - 1, head: previous, broken: (seq, why), warnings: warnings)
                }
                previous = hash
                expected += 1
                if seq & 0xFFFF == 0 { progress?(seq, head) }
            }
            return VerifyReport(events: expected - 1, head: previous, broken: nil, warnings: warnings)
        }
    }
}
