import Foundation
import GRDB
import Testing
import TrellisLedger
import TrellisCore
import TrellisGenerator

/// The log used only through `any LedgerStore` (import, scan, hashes, retractions, bounds),
/// each answer held against the SQL the callers ran on the ledger's connection before the
/// store interface existed (archive export's bounds and scan, Merkle leaves, projections'
/// retractions and `--known-at`), read here on a connection of the test's own.
@Suite struct LedgerStoreTests {
    static func region() -> Data {
        var bytes = Data()
        RegionGenerator(GeneratorOptions(networks: 2, orgs: 30, years: 2, seed: 11, maxEvents: 1_500)).runChunks { bytes.append(contentsOf: $0) }
        return bytes
    }

    @Test func aLedgerUsedOnlyAsALedgerStoreReadsWhatDirectSQLReads() throws {
        let dir = try ScratchDir("ledger-store")
        defer { dir.remove() }
        let input = try dir.write("region.ndjson", Self.region())
        let store: any LedgerStore = try Ledger.open(at: dir.ledgerPath, create: true)
        #expect(store.location == dir.ledgerPath)
        #expect(try store.recordedAtBounds() == nil)

        // Import: the generated region in one batch…
        let reader = try LineReader(path: input)
        defer { reader.close() }
        let first = try store.append(options: AppendOptions()) { visit in try reader.forEachLine { line, n, _ in try visit(line, n, nil) } }
        #expect(first.appended > 1_000)
        // …and three of its attendance records retracted in a second one.
        var targets: [RecordedEvent] = []
        try store.scan(from: 1, through: .max) { e in
            if e.type == "AttendanceRecorded" { targets.append(e) }
            return targets.count < 3
        }
        #expect(targets.count == 3)
        let generated = try store.retractions()
        #expect(!generated.isEmpty)
        let retractions = targets.enumerated().map { i, t in
            envelope("EventRetracted", id: "retract-\(i)", at: "2026-01-0\(i + 1)", ["event_id": .string(t.id), "reason": "recorded in error"])
        }
        let lines = retractions.map { Array($0.utf8) }
        let second = try store.append(options: AppendOptions()) { visit in
            for i in lines.indices { _ = try lines[i].withUnsafeBufferPointer { try visit($0, i + 1, nil) } }
        }
        #expect(second.appended == 3)

        let sql = try DatabaseQueue(path: dir.ledgerPath)
        defer { try? sql.close() }

        // The head and the status.
        let head = try store.head()
        let sqlHead = try sql.read { db in try Row.fetchOne(db, sql: "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1") }
        #expect(head.seq == sqlHead?["seq"])
        #expect(head.hash == (sqlHead?["hash"] as Data?).map { Array($0) })
        #expect(head.recordedAt == sqlHead?["recorded_at"])
        #expect(head == second.head)
        #expect(try store.status().events == head.seq)

        // The scan (archive export's plain lines): every column of every row, in seq order.
        var scanned: [RecordedEvent] = []
        try store.scan(from: 1, through: head.seq) { scanned.append($0); return true }
        let rows = try sql.read { db in try Row.fetchAll(db, sql: "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq") }
        #expect(scanned.count == rows.count)
        func text(_ e: RecordedEvent) -> String {
            "\(e.seq)|\(e.id)|\(e.type)|\(e.v)|\(e.occurredAt)|\(e.recordedAt)|\(e.actor ?? "nil")|\(e.data)|\(e.hashHex)"
        }
        #expect(scanned.map(text) == rows.map { r in
            let actor: String? = r["actor"]
            let hash: Data = r["hash"]
            return "\(r["seq"] as Int64)|\(r["id"] as String)|\(r["type"] as String)|\(r["v"] as Int64)|\(r["occurred_at"] as String)|"
                + "\(r["recorded_at"] as String)|\(actor ?? "nil")|\(r["data"] as String)|\(Hex.encode(Array(hash)))"
        })
        // The same rows lent as bytes (archive export's plain lines).
        var lent: [String] = []
        try store.scanStored(from: 1, through: head.seq) { b in
            func t(_ p: UnsafeBufferPointer<UInt8>) -> String { String(decoding: p, as: UTF8.self) }
            lent.append("\(b.seq)|\(t(b.id))|\(t(b.type))|\(b.v)|\(t(b.occurredAt))|\(t(b.recordedAt))|\(b.actor.map(t) ?? "nil")|\(t(b.data))|\(Hex.encode(Array(b.hash)))")
            return true
        }
        #expect(lent == scanned.map(text))
        // A range, and a body that stops.
        var window: [Int64] = []
        try store.scan(from: 10, through: 14) { window.append($0.seq); return $0.seq < 12 }
        #expect(window == [10, 11, 12])

        // The hashes (Merkle leaves, archive bounds).
        var hashes: [(Int64, [UInt8])] = []
        try store.hashes(from: 1, through: head.seq) { hashes.append(($0, $1)) }
        let sqlHashes = try sql.read { db in try Row.fetchAll(db, sql: "SELECT seq, hash FROM events WHERE seq <= ? ORDER BY seq", arguments: [head.seq]) }
        #expect(hashes.map(\.0) == sqlHashes.map { $0["seq"] as Int64 })
        #expect(hashes.map(\.1) == sqlHashes.map { Array($0["hash"] as Data) })
        #expect(try store.hash(at: 7) == hashes[6].1)
        #expect(try store.hash(at: head.seq + 1) == nil)

        // The retractions: the log's EventRetracted events, as the projections' SQL read them,
        // and as the derived `retractions` table holds them.
        let retracted = try store.retractions()
        let fromLog = try sql.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.seq, r.seq FROM events r JOIN events t ON t.id = json_extract(r.data, '$.event_id')
                WHERE r.type = 'EventRetracted' AND t.seq < r.seq
                """)
        }
        #expect(retracted.count == generated.count + 3)
        #expect(retracted == Dictionary(uniqueKeysWithValues: fromLog.map { ($0[0] as Int64, $0[1] as Int64) }))
        #expect(Set(retracted.keys).subtracting(generated.keys) == Set(targets.map(\.seq)))
        #expect(targets.map { retracted[$0.seq] } == [head.seq - 2, head.seq - 1, head.seq])
        let table = try sql.read { db in try Row.fetchAll(db, sql: "SELECT target_seq, retraction_seq FROM retractions") }
        #expect(retracted == Dictionary(uniqueKeysWithValues: table.map { ($0[0] as Int64, $0[1] as Int64) }))

        // The recorded_at bounds (archive manifest) and --known-at.
        let bounds = try store.recordedAtBounds()
        let sqlFirst = try sql.read { db in try String.fetchOne(db, sql: "SELECT recorded_at FROM events WHERE seq = 1") }
        #expect(bounds?.first == sqlFirst)
        #expect(bounds?.last == head.recordedAt)
        #expect(bounds?.first != bounds?.last)
        let knownAtFirst = try store.lastSeq(recordedAtOrBefore: bounds?.first ?? "")
        #expect(knownAtFirst == Int64(first.appended))
        #expect(knownAtFirst == (try sql.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events WHERE recorded_at <= ?", arguments: [sqlFirst]) }))
        #expect(try store.lastSeq(recordedAtOrBefore: "2000-01-01T00:00:00Z") == 0)

        // Look-ups by id and in the rule tables.
        #expect(try store.event(id: targets[0].id) == targets[0])
        #expect(try store.event(id: "no-such-event") == nil)
        let meeting = try #require(try sql.read { db in try String.fetchOne(db, sql: "SELECT key FROM rule_entities WHERE kind = 'meeting' LIMIT 1") })
        #expect(try store.knows(.meeting, meeting))
        #expect(try !store.knows(.meeting, "no-such-meeting"))
        #expect(try !store.knows(.organisation, meeting))
    }
}
