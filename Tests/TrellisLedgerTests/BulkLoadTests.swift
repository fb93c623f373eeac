import Foundation
import Testing
@testable import TrellisLedger

/// A batch into an empty log is written with a rollback journal (BulkLoad.swift): its pages
/// go into the database file once, not into the WAL and then the file, and the ledger is back
/// in WAL mode as soon as the batch ends, committed, refused or killed.
@Suite(.enabled(if: TestStore.isFile, "file store only: reads the SQLite ledger's files"))
struct BulkLoadTests {
    /// The file's journal, from its header (bytes 18 and 19: 2 for WAL, 1 for a rollback journal).
    static func headerSaysWAL(_ path: String) throws -> Bool {
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let header = try #require(try handle.read(upToCount: 20))
        return header.count == 20 && header[18] == 2 && header[19] == 2
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

    /// SIGKILL while the first import is being written leaves a hot journal: the next command
    /// rolls it back, finds an empty, intact ledger in WAL mode, and the import then goes in.
    @Test func aKilledFirstImportIsRolledBackByTheNextCommand() throws {
        let dir = try ScratchDir("bulk-load")
        defer { dir.remove() }
        let g = try runTrellis(["generate", "--networks", "6", "--orgs", "600", "--years", "3", "--seed", "8"])
        #expect(g.status == 0, "\(g)")
        let file = try dir.write("region.ndjson", g.stdout)
        #expect(try runTrellis(["init", "--db", dir.ledgerPath]).status == 0)
        let journal = dir.ledgerPath + "-journal"
        let p = try launchTrellis(["import", "--db", dir.ledgerPath, file])
        let deadline = Date().addingTimeInterval(60)
        while Self.size(journal) <= 0, p.process.isRunning, Date() < deadline { usleep(500) }
        #expect(p.process.isRunning, "the import ended before it could be killed: make the region bigger")
        kill(p.process.processIdentifier, SIGKILL)
        let r = p.finish()
        #expect(p.process.terminationReason == .uncaughtSignal && r.status == SIGKILL, "\(r)")
        #expect(Self.size(journal) > 0, "no hot journal after the kill")

        let v = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(v.status == 0, "\(v)")
        #expect(try runTrellis(["log", "--db", dir.ledgerPath]).stdout == "")
        #expect(Self.size(journal) == -1)
        #expect(try Self.headerSaysWAL(dir.ledgerPath))
        let again = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(again.status == 0, "\(again)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath]).status == 0)
        #expect(try runTrellis(["log", "--db", dir.ledgerPath]).stdoutLines.count == g.stdoutLines.count)
    }
}
