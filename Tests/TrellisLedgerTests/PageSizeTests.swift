import Foundation
import GRDB
import Testing
@testable import TrellisLedger

/// A new ledger file is written in 16 KiB pages (``Ledger/pageSize``); a ledger made with
/// SQLite's default 4 KiB pages, as every ledger before session 24 was, keeps them and works
/// exactly as before: SQLite fixes a file's page size when its first page is written.
@Suite(.enabled(if: TestStore.isFile, "file store only: reads the SQLite ledger's header"))
struct PageSizeTests {
    /// The page size in the file's header (bytes 16–17, big-endian; 1 stands for 65,536).
    static func headerPageSize(_ path: String) throws -> Int {
        let h = try BulkLoadTests.header(path, 18)
        let size = Int(h[16]) << 8 | Int(h[17])
        return size == 1 ? 65_536 : size
    }

    @Test func aNewLedgerIsWrittenInSixteenKiBPages() throws {
        let dir = try ScratchDir("page-size")
        defer { dir.remove() }
        let lines = try BulkLoadTests.region()
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        #expect(try BulkLoadTests.append(lines, to: ledger).appended == lines.count)
        #expect(try Self.headerPageSize(dir.ledgerPath) == 16_384)
        #expect(try ledger.verify().ok)
        // The full verify's journal-off copy of the log is made in the same pages.
        let scratch = try ScratchFile(prefix: "trellis-page-size-test")
        defer { scratch.remove() }
        try Schema.migrator.migrate(scratch.queue)
        #expect(try Self.headerPageSize(scratch.path) == 16_384)
    }

    @Test func aLedgerInFourKiBPagesKeepsThemAndWorks() throws {
        let dir = try ScratchDir("page-size-old")
        defer { dir.remove() }
        // A ledger as an older Trellis made it: SQLite's default pages, WAL, the schema.
        do {
            var config = Configuration()
            config.journalMode = .wal
            let queue = try DatabaseQueue(path: dir.ledgerPath, configuration: config)
            try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA page_size = 4096") }
            try Schema.migrator.migrate(queue)
            try queue.close()
        }
        #expect(try Self.headerPageSize(dir.ledgerPath) == 4096)
        let lines = try BulkLoadTests.region()
        let half = lines.count / 2
        let ledger = try Ledger.open(at: dir.ledgerPath)
        // A first import (rollback journal), then one through the WAL, then the checks.
        #expect(try BulkLoadTests.append(lines[..<half], to: ledger).appended == half)
        #expect(try BulkLoadTests.append(lines[half...], to: ledger).appended == lines.count - half)
        #expect(try Self.headerPageSize(dir.ledgerPath) == 4096)
        #expect(try ledger.verify().ok)
        #expect(try ledger.verifyDerivedState().findings.isEmpty)
        // Reopened (the page size pragma runs on every open) it stays as it is.
        let again = try Ledger.open(at: dir.ledgerPath)
        #expect(try again.head().seq == Int64(lines.count))
        #expect(try Self.headerPageSize(dir.ledgerPath) == 4096)
    }
}
