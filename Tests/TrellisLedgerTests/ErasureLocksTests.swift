import Foundation
import Testing
import TrellisLedger

/// After an erasure, the ledger files are searched for the destroyed key. That search must not
/// open and close a descriptor of its own on the ledger: POSIX locks belong to the process and
/// go with any close, so this process would hold no lock on its open ledger, and another
/// process closing its last connection would checkpoint and delete the WAL and shared memory
/// under it (the next read: "database disk image is malformed"). Real file, real binary.
@Suite struct ErasureLocksTests {
    @Test(.enabled(if: TestStore.isFile, "file store only: looks at the SQLite ledger's WAL files"))
    func anotherProcessLeavesTheWALOfALedgerThatErasedSomeone() throws {
        let dir = try ScratchDir("erasure-locks")
        defer { dir.remove() }
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        let file = try dir.writeLines("region.ndjson", Fixture.lines)
        let reader = try LineReader(path: file)
        _ = try ledger.append { visit in try reader.forEachLine { line, n, _ in try visit(line, n, nil) } }
        reader.close()
        // The erasure, in this process, with the ledger kept open: the key search runs here.
        let erased = try ledger.append(json: envelope("PersonErased", id: "erase-p-oak", at: "2025-11-01", ["person_id": "p-oak"]))
        #expect(erased.appended == 1 && erased.erasureResidue == nil, "\(erased)")
        #expect(FileManager.default.fileExists(atPath: dir.ledgerPath + "-shm"))
        // Another process opens the ledger and exits.
        let other = try runTrellis(["verify", "--chain-only", "--db", dir.ledgerPath])
        #expect(other.status == 0, "\(other)")
        #expect(FileManager.default.fileExists(atPath: dir.ledgerPath + "-shm"), "the other process deleted this one's shared memory")
        // This process goes on: an append and a read, and the file is whole.
        let more = try ledger.append(json: envelope("MeetingHeld", id: "m-after", at: "2025-11-02", ["meeting_id": "m-after", "network_id": "npn", "title": "After", "format": "online"]))
        #expect(more.appended == 1)
        #expect(try ledger.verify().ok)
        let check = try sqlite3(dir.ledgerPath, "PRAGMA quick_check")
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check)")
    }
}
