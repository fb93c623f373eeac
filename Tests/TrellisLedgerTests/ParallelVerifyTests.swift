import Foundation
import Testing
import TrellisGenerator
import TrellisLedger

/// The chain is checked in ranges of seq at once (``Ledger/verify(parallelism:minimumRange:progress:)``):
/// a tamper anywhere — in the second half, at either side of a range boundary, a deleted row
/// at a boundary — is named with the same seq and reason as one sequential pass names it,
/// whatever the number of ranges. Real SQLite files, tampered with the sqlite3 shell.
@Suite struct ParallelVerifyTests {
    /// A generated region of about 3,000 events, imported into a new ledger in a new directory.
    func region() throws -> (ScratchDir, Ledger) {
        let dir = try ScratchDir("parallel-verify")
        let input = dir.file("region.ndjson")
        var bytes = Data()
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 60, years: 3, seed: 7, maxEvents: 3_000)).runChunks { chunk in
            bytes.append(contentsOf: chunk)
        }
        try dir.write("region.ndjson", bytes)
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        let reader = try LineReader(path: input)
        defer { reader.close() }
        _ = try ledger.append { visit in try reader.forEachLine { line, n, _ in try visit(line, n, nil) } }
        return (dir, ledger)
    }

    /// The report with 1 range, after checking that 2, 3, 4 and 7 ranges give the same.
    func verifyEveryWay(_ ledger: Ledger, sourceLocation: SourceLocation = #_sourceLocation) throws -> VerifyReport {
        let sequential = try ledger.verify(parallelism: 1, minimumRange: 1)
        for parts in [2, 3, 4, 7] {
            let parallel = try ledger.verify(parallelism: parts, minimumRange: 1)
            #expect(parallel == sequential, "\(parts) ranges: \(parallel) vs 1 range: \(sequential)", sourceLocation: sourceLocation)
        }
        return sequential
    }

    func tamper(_ dir: ScratchDir, _ sql: String) throws {
        let r = try sqlite3(dir.ledgerPath, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; " + sql)
        #expect(r.status == 0, "\(r)")
    }

    @Test func anIntactLogGivesTheSameReportInAnyNumberOfRanges() throws {
        let (dir, ledger) = try region()
        defer { dir.remove() }
        let head = try ledger.head()
        #expect(head.seq > 2_000)
        let report = try verifyEveryWay(ledger)
        #expect(report.broken == nil && report.events == head.seq && report.head == head.hash, "\(report)")
    }

    @Test func aChangedEventInTheSecondHalfIsNamedAtItsSeq() throws {
        let (dir, ledger) = try region()
        defer { dir.remove() }
        let seq = try ledger.head().seq * 3 / 4
        try tamper(dir, "UPDATE events SET occurred_at = '2001-01-01' WHERE seq = \(seq)")
        let report = try verifyEveryWay(ledger)
        #expect(report.broken?.seq == seq, "\(report)")
        #expect(report.broken?.why.contains("does not match") == true, "\(report)")
        #expect(report.events == seq - 1)
    }

    /// Two ranges meet after seq `b` = head / 2: the last row of the first range carries the
    /// hash the second range starts from.
    @Test func aTamperOnEitherSideOfARangeBoundaryIsNamedAtItsSeq() throws {
        for (offset, what) in [(0, "hash"), (0, "data"), (1, "hash"), (1, "data")] {
            let (dir, ledger) = try region()
            defer { dir.remove() }
            let seq = try ledger.head().seq / 2 + Int64(offset)
            try tamper(dir, what == "hash" ? "UPDATE events SET hash = randomblob(32) WHERE seq = \(seq)"
                                          : "UPDATE events SET data = json_set(data, '$.forged', 1) WHERE seq = \(seq)")
            let report = try verifyEveryWay(ledger)
            #expect(report.broken?.seq == seq, "\(what) of seq \(seq): \(report)")
        }
    }

    @Test func aRowDeletedAtARangeBoundaryIsNamedAsMissing() throws {
        for offset in [Int64(0), 1] {
            let (dir, ledger) = try region()
            defer { dir.remove() }
            let seq = try ledger.head().seq / 2 + offset
            try tamper(dir, "DELETE FROM events WHERE seq = \(seq)")
            let report = try verifyEveryWay(ledger)
            #expect(report.broken?.seq == seq, "\(report)")
            #expect(report.broken?.why == "event \(seq) is missing (deleted?)", "\(report)")
        }
        // A run of deleted rows across the boundary is named from its first.
        let (dir, ledger) = try region()
        defer { dir.remove() }
        let b = try ledger.head().seq / 2
        try tamper(dir, "DELETE FROM events WHERE seq BETWEEN \(b - 2) AND \(b + 3)")
        let report = try verifyEveryWay(ledger)
        #expect(report.broken?.seq == b - 2, "\(report)")
        #expect(report.broken?.why == "events \(b - 2)–\(b + 3) are missing (deleted?)", "\(report)")
    }
}
