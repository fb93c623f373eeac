import Foundation
import Testing
@testable import TrellisLedger
@testable import TrellisCore

/// The import computes each event's chain step off the writer, in log order, as if every
/// event before it is appended (see `ChainSpeculation`, linked chunk by chunk on whichever
/// thread is free). These pin that whatever the writer does with a line (append, skip a re-send, skip one only the insert detects,
/// assign an id), every stored hash is SHA-256(previous ‖ canonical envelope of the stored
/// columns), recomputed here from `scan` as well as by the ledger's verifier.
@Suite struct ImportChainTests {
    /// Recomputes the chain from the stored columns; returns the seqs in order and the head.
    func recomputedChain(_ ledger: Ledger) throws -> (seqs: [Int64], head: [UInt8], mismatches: [Int64]) {
        var previous = [UInt8](repeating: 0, count: 32)
        var seqs: [Int64] = [], mismatches: [Int64] = []
        try ledger.scan { e in
            let hash = CanonicalEnvelope.bytes(e).withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
            if hash != e.hash { mismatches.append(e.seq) }
            previous = e.hash
            seqs.append(e.seq)
            return true
        }
        return (seqs, previous, mismatches)
    }

    func expectIntact(_ ledger: Ledger, events: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let chain = try recomputedChain(ledger)
        #expect(chain.mismatches.isEmpty, "hashes that do not chain: \(chain.mismatches.prefix(5))", sourceLocation: sourceLocation)
        #expect(chain.seqs == Array(1...Int64(events)), sourceLocation: sourceLocation)
        #expect(try ledger.head().hash == chain.head, sourceLocation: sourceLocation)
        #expect(try ledger.verify().ok, sourceLocation: sourceLocation)
    }

    static func attendance(_ k: Int, id: String?) -> String {
        envelope("AttendanceRecorded", id: id, at: "2025-09-15", ["meeting_id": "m1", "org_id": k % 2 == 0 ? "oak" : "ash", "status": "present"])
    }

    /// Several decode chunks (1,024 lines each), ids given and assigned, one batch.
    @Test func aLongBatchChainsOverEveryChunk() throws {
        let dir = try ScratchDir("import-chain")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        let lines = (0..<3000).map { k in Self.attendance(k, id: k % 3 == 0 ? nil : "att-\(k)") }
        let outcome = try ledger.appendLines(lines)
        #expect(outcome.appended == 3000)
        #expect(outcome.head.seq == Int64(Fixture.count + 3000))
        try expectIntact(ledger, events: Fixture.count + 3000)
    }

    /// Skips in the middle of a batch (a re-sent event the rules refuse, one they accept and
    /// only the insert finds known, a duplicate within the batch) shift every later seq: the
    /// speculative steps after them are wrong, and the writer must chain those itself.
    @Test func skipsInTheMiddleOfABatchRechainTheRest() throws {
        let dir = try ScratchDir("import-chain")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        try ledger.appendLines([Self.attendance(0, id: "att-known")])
        var lines: [String] = []
        for k in 1...2500 {
            lines.append(Self.attendance(k, id: k % 2 == 0 ? nil : "att-new-\(k)"))
            if k == 5 { lines.append(Fixture.lines[1]) }                    // rules refuse it: a known org
            if k == 700 { lines.append(Self.attendance(0, id: "att-known")) } // rules pass: the insert finds the id
            if k == 1500 { lines.append(Self.attendance(1499, id: "att-new-1499")) } // a re-send within the batch
        }
        let outcome = try ledger.appendLines(lines)
        #expect(outcome.appended == 2500)
        #expect(outcome.skipped == 3)
        try expectIntact(ledger, events: Fixture.count + 1 + 2500)

        // The next batch starts from the head the writer ended on.
        let more = try ledger.appendLines((0..<10).map { Self.attendance($0, id: nil) })
        #expect(more.appended == 10)
        try expectIntact(ledger, events: Fixture.count + 1 + 2500 + 10)
    }

    /// A refused line does not leave a guessed hash behind: nothing is stored, and the next
    /// batch chains onto the head as it was.
    @Test func aRefusedBatchLeavesTheChainAsItWas() throws {
        let dir = try ScratchDir("import-chain")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        let head = try ledger.head()
        #expect(rejection { try ledger.appendLines([Self.attendance(1, id: nil), Self.attendance(2, id: nil).replacingOccurrences(of: "m1", with: "m9")]) } != nil)
        #expect(try ledger.head() == head)
        try ledger.appendLines([Self.attendance(3, id: nil)])
        try expectIntact(ledger, events: Fixture.count + 1)
    }

    /// After a batch that erased people, the files are checked for every destroyed key in one
    /// pass (`fileContainsAny`), not one pass per key. It must find exactly what the per-key
    /// search finds: keys at the start, across the 4 MiB read boundary, at the very end, two
    /// keys sharing their first two bytes, and none when none is there.
    @Test func oneScanForManyKeysFindsWhatOneScanPerKeyFinds() throws {
        let dir = try ScratchDir("import-chain")
        defer { dir.remove() }
        var rng = SystemRandomNumberGenerator()
        func key() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let size = (4 << 20) * 2 + 1000
        var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let absent = (0..<200).map { _ in key() }
        var twin = key(); twin[0] = absent[0][0]; twin[1] = absent[0][1]   // same two-byte prefix as an absent key
        let placed: [(Int, [UInt8])] = [(0, key()), ((4 << 20) - 13, key()), (size - 32, key()), (5_000_000, twin)]
        for (at, k) in placed { bytes.replaceSubrange(at..<(at + 32), with: k) }
        let path = try dir.write("file", Data(bytes))

        #expect(!searchFile(path, absent))
        for (_, k) in placed {
            #expect(searchFile(path, [k]), "one key alone")
            #expect(searchFile(path, absent + [k]), "a key placed in the file")
            #expect(searchFile(path, [k] + absent))
        }
        #expect(!searchFile(path, []))
        #expect(!searchFile(dir.file("missing"), placed.map(\.1)))
    }
}
