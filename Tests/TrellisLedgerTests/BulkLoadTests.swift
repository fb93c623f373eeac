import Foundation
import GRDB
import Testing
@testable import TrellisLedger

/// A batch into an empty log is written with a rollback journal (BulkLoad.swift): its pages
/// go into the database file once, not into the WAL and then the file, and the ledger is back
/// in WAL mode as soon as the batch ends, committed, refused or killed.
@Suite(.enabled(if: TestStore.isFile, "file store only: reads the SQLite ledger's files"))
struct BulkLoadTests {
    /// The first `count` bytes of the SQLite file at `path` (its header).
    static func header(_ path: String, _ count: Int) throws -> [UInt8] {
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let header = try #require(try handle.read(upToCount: count))
        try #require(header.count == count, "\(path) is shorter than a header")
        return Array(header)
    }

    /// The file's journal, from its header (bytes 18 and 19: 2 for WAL, 1 for a rollback journal).
    static func headerSaysWAL(_ path: String) throws -> Bool {
        let h = try header(path, 20)
        return h[18] == 2 && h[19] == 2
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    /// A generated region without its erasures: an erasure ends its batch with a checkpoint
    /// that empties the WAL, which would hide where the batch's pages went.
    static func region() throws -> [String] {
        let g = try runTrellis(["generate", "--networks", "3", "--orgs", "60", "--years", "2", "--seed", "3"])
        #expect(g.status == 0, "\(g)")
        return g.stdoutLines.filter { !$0.contains(#""type":"PersonErased""#) }
    }

    static func append(_ lines: some Collection<String>, to ledger: Ledger) throws -> AppendOutcome {
        try ledger.append { visit in
            for (n, line) in lines.enumerated() {
                var text = line
                guard try text.withUTF8({ try visit($0, n + 1, nil) }) else { return }
            }
        }
    }

    @Test func aBatchIntoAnEmptyLogGoesIntoTheFileAndTheNextThroughTheWAL() throws {
        let dir = try ScratchDir("bulk-load")
        defer { dir.remove() }
        let lines = try Self.region()
        let half = lines.count / 2
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        let first = try Self.append(lines[..<half], to: ledger)
        #expect(first.appended == half)
        // Every page went into the file: the WAL is back but holds nothing, no journal is left.
        #expect(Self.size(dir.ledgerPath + "-wal") <= 0, "the first batch went through the WAL")
        #expect(Self.size(dir.ledgerPath + "-journal") == -1)
        #expect(try Self.headerSaysWAL(dir.ledgerPath), "the ledger was not switched back to WAL")
        // Onto a log that holds events: through the WAL, as always.
        let second = try Self.append(lines[half...], to: ledger)
        #expect(second.appended == lines.count - half)
        #expect(Self.size(dir.ledgerPath + "-wal") > 0, "the second batch did not go through the WAL")
        #expect(try ledger.verify().ok)
        #expect(try ledger.head().seq == Int64(lines.count))
    }

    @Test func aRefusedBatchIntoAnEmptyLogLeavesItEmptyAndInWAL() throws {
        let dir = try ScratchDir("bulk-load")
        defer { dir.remove() }
        var lines = try Self.region()
        // The last line names a network nobody formed: the whole batch is refused.
        lines.append(envelope("MemberJoined", id: "bulk-refused", ["network_id": "no-such-network", "org_id": "org0001"]))
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        #expect(throws: AppendRejected.self) { try Self.append(lines, to: ledger) }
        #expect(try ledger.head().seq == 0)
        #expect(Self.size(dir.ledgerPath + "-journal") == -1)
        #expect(try Self.headerSaysWAL(dir.ledgerPath))
        // And the same region, without the bad line, then goes in whole.
        #expect(try Self.append(lines.dropLast(), to: ledger).appended == lines.count - 1)
        #expect(try ledger.verify().ok)
    }

    /// A file not in WAL mode (full verify's scratch copy of the log is journal off) is left in
    /// its own mode: only a WAL ledger is switched for a bulk load, and back.
    @Test func aFileInAnotherJournalModeKeepsIt() throws {
        let scratch = try ScratchFile(prefix: "trellis-bulk-test")
        defer { scratch.remove() }
        try Schema.migrator.migrate(scratch.queue)
        let ledger = Ledger(path: scratch.path, queue: scratch.queue)
        #expect(try Self.append(Self.region(), to: ledger).appended > 0)
        #expect(try scratch.queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "off")
    }

    /// The first byte of the file at `path`, or nil when there is none.
    static func firstByte(_ path: String) -> UInt8? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 1))?.first
    }

    /// Imports `file` into a new ledger and kills the import with SIGKILL once `ready` says so;
    /// false when the import ended first.
    static func killedImport(_ dir: ScratchDir, _ file: String, when ready: () -> Bool) throws -> Bool {
        for s in ["", "-wal", "-shm", "-journal"] { unlink(dir.ledgerPath + s) }
        #expect(try runTrellis(["init", "--db", dir.ledgerPath]).status == 0)
        let p = try launchTrellis(["import", "--db", dir.ledgerPath, file])
        let deadline = Date().addingTimeInterval(60)
        while !ready(), p.process.isRunning, Date() < deadline { usleep(200) }
        guard p.process.isRunning else { _ = p.finish(); return false }
        kill(p.process.processIdentifier, SIGKILL)
        let r = p.finish()
        return p.process.terminationReason == .uncaughtSignal && r.status == SIGKILL
    }

    /// After a killed first import: `verify` passes, the log is empty, the ledger is in WAL
    /// mode, and the same import then goes in whole, leaving no journal.
    static func expectRecovered(_ dir: ScratchDir, _ file: String, lines: Int) throws {
        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 0, "\(v)")
        #expect(try runTrellis(["log", "--db", dir.ledgerPath]).stdout == "")
        #expect(try Self.headerSaysWAL(dir.ledgerPath))
        let again = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(again.status == 0, "\(again)")
        #expect(Self.size(dir.ledgerPath + "-journal") == -1)
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        #expect(try runTrellis(["log", "--db", dir.ledgerPath]).stdoutLines.count == lines)
    }

    static func bigRegion(_ dir: ScratchDir) throws -> (file: String, lines: Int) {
        let g = try runTrellis(["generate", "--networks", "6", "--orgs", "600", "--years", "3", "--seed", "8"])
        #expect(g.status == 0, "\(g)")
        return (try dir.write("region.ndjson", g.stdout), g.stdoutLines.count)
    }

    /// SIGKILL while the commit writes the file: a hot journal (its header synced, so its
    /// first byte is set) and a file holding part of the batch. The next command rolls the
    /// journal back and finds an empty, intact ledger. The kill must land inside the commit,
    /// after the file has grown: tried up to five times.
    @Test func aFirstImportKilledWhileItsCommitWritesIsRolledBack() throws {
        let dir = try ScratchDir("bulk-load")
        defer { dir.remove() }
        let (file, lines) = try Self.bigRegion(dir)
        var hot = false
        for _ in 0..<5 where !hot {
            var initial = -1
            let killed = try Self.killedImport(dir, file) {
                if initial < 0 { initial = Self.size(dir.ledgerPath) }
                return Self.size(dir.ledgerPath) > initial + (1 << 20)
            }
            hot = killed && (Self.firstByte(dir.ledgerPath + "-journal") ?? 0) != 0
        }
        #expect(hot, "no kill landed inside the commit in five tries")
        try Self.expectRecovered(dir, file, lines: lines)
    }

    /// SIGKILL just after the journal appears, before anything reached the file: the journal's
    /// header is not synced yet (its first byte 0), so it is not hot and SQLite ignores it; the
    /// ledger is empty and intact all the same.
    @Test func aFirstImportKilledBeforeItWritesLeavesAnEmptyLedger() throws {
        let dir = try ScratchDir("bulk-load")
        defer { dir.remove() }
        let (file, lines) = try Self.bigRegion(dir)
        let journal = dir.ledgerPath + "-journal"
        #expect(try Self.killedImport(dir, file) { Self.size(journal) > 0 }, "the import ended before it could be killed")
        try Self.expectRecovered(dir, file, lines: lines)
    }
}
