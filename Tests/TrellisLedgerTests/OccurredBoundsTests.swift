import Foundation
import GRDB
import Testing
@testable import TrellisLedger

/// `trellis status` finds the period covered in one pass, computing the sort key of
/// `occurred_at` from its bytes (``Ledger/occurredSortKey(_:into:)``) instead of evaluating
/// ``Ledger/occurredSortKey`` in SQL twice. Held here to SQLite's evaluation of that SQL key,
/// for dates, date-times, fractions of one to nine digits and short or odd texts.
@Suite struct OccurredBoundsTests {
    static let texts = [
        "2025-09-01", "2025-09-01T00:00:00Z", "2025-09-01T10:00:00Z", "2025-09-01T10:00:00.5Z",
        "2025-09-01T10:00:00.05Z", "2025-09-01T10:00:00.123456789Z", "2025-09-01T10:00:00.1234Z",
        "2025-12-31T23:59:59.999999999Z", "2026-01-01", "", "Z", "2025", "2025-09-01T10:00:00.Z",
        "2025-09-01T10:00:00.1234567891Z",
    ]

    @Test func theKeyIsTheSQLKey() throws {
        let db = try DatabaseQueue()
        for text in Self.texts {
            let sql = try db.read { db in try String.fetchOne(db, sql: "SELECT \(Ledger.occurredSortKey) FROM (SELECT ? AS occurred_at)", arguments: [text]) }
            var out = [UInt8](repeating: 0, count: 64)
            var t = text
            let n = t.withUTF8 { b in out.withUnsafeMutableBufferPointer { Ledger.occurredSortKey(b, into: $0) } }
            #expect(Array(out.prefix(n)) == Array((sql ?? "").utf8), "\(text)")
        }
    }

    @Test func oneScanFindsWhatTheTwoOrderedQueriesFind() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, occurred_at TEXT NOT NULL)")
            // In an order unlike time order, with the extremes in the middle.
            var rng = Seeded(7)
            for (k, text) in Self.texts.filter({ $0.count >= 10 }).shuffled(using: &rng).enumerated() {
                try db.execute(sql: "INSERT INTO events VALUES (?, ?)", arguments: [k + 1, text])
            }
        }
        try db.read { db in
            let bounds = try Ledger.occurredBounds(db)
            let first = try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(Ledger.occurredSortKey) LIMIT 1")
            let last = try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(Ledger.occurredSortKey) DESC LIMIT 1")
            #expect(bounds.first == first && bounds.last == last, "\(bounds) against \(String(describing: first)), \(String(describing: last))")
            #expect(first == "2025-09-01" && last == "2026-01-01")
        }
        // A tampered file: text Trellis never writes, not ASCII. SQLite's substr counts its
        // characters where bytes would be counted: nine bytes of these fractions stop before the
        // digit that tells them apart, nine characters do not. The SQL key must decide.
        try db.write { db in
            try db.execute(sql: "INSERT INTO events VALUES (100, '2024-01-01T00:00:00.\u{00E9}\u{00E9}\u{00E9}\u{00E9}\u{00E9}1Z')")
            try db.execute(sql: "INSERT INTO events VALUES (101, '2024-01-01T00:00:00.\u{00E9}\u{00E9}\u{00E9}\u{00E9}\u{00E9}0Z')")
        }
        try db.read { db in
            let bounds = try Ledger.occurredBounds(db)
            let first = try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(Ledger.occurredSortKey) LIMIT 1")
            let last = try String.fetchOne(db, sql: "SELECT occurred_at FROM events ORDER BY \(Ledger.occurredSortKey) DESC LIMIT 1")
            #expect(bounds.first == first && bounds.last == last, "\(bounds) against \(String(describing: first)), \(String(describing: last))")
            #expect(first?.hasSuffix("0Z") == true && first?.hasPrefix("2024-01-01") == true)
        }
        let empty = try DatabaseQueue()
        try empty.write { try $0.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, occurred_at TEXT NOT NULL)") }
        try empty.read { db in
            let bounds = try Ledger.occurredBounds(db)
            #expect(bounds.first == nil && bounds.last == nil)
        }
    }
}

/// A fixed shuffle.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state }
}
