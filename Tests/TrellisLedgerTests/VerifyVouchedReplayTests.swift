import Foundation
import Testing
import TrellisCore
import TrellisLedger

/// Full verify's replay takes the stored hashes of the rows its concurrent chain check covers
/// as given (``Ledger/verify(alongside:parallelism:)``): a tampered hash must still be named,
/// by the chain check alone, and never be hidden behind a derived-state verdict; a tampered
/// event body whose chain was recomputed must still be caught by the replay; and a column the
/// chain check hashes as other bytes than the replay reads (not valid UTF-8) is still hashed
/// by the replay. Real SQLite files, tampered with the sqlite3 shell; the real binary too.
@Suite struct VerifyVouchedReplayTests {
    /// Runs `sql` with the append-only triggers dropped, then puts them back as they were, so
    /// that only the rows differ (the schema check has nothing to say).
    func tamper(_ dir: ScratchDir, _ sql: String) throws {
        let saved = try sqlite3(dir.ledgerPath, "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name IN ('events_no_update', 'events_no_delete')")
        #expect(saved.status == 0 && saved.stdout.contains("events_no_update"), "\(saved)")
        let r = try sqlite3(dir.ledgerPath, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; " + sql + "; " + saved.stdout)
        #expect(r.status == 0, "\(r)")
    }

    /// Full verify as `trellis verify` runs it: the chain check and the vouched replay at once.
    func fullVerify(_ ledger: Ledger) throws -> (report: VerifyReport, derived: Result<DerivedStateReport, any Error>?) {
        try ledger.verify(alongside: { chain in try ledger.verifyDerivedState(chain: chain) })
    }

    /// Rewrites the stored hashes of seq `from`…head so that the chain holds again over the
    /// tampered rows, as an attacker who knows the format would. `rawData` replaces the `data`
    /// bytes of one seq in the envelope (text read through Swift would repair invalid UTF-8).
    func rechain(_ dir: ScratchDir, _ ledger: Ledger, from: Int64, rawData: (seq: Int64, bytes: [UInt8])? = nil) throws {
        var previous = CanonicalEnvelope.genesis
        var updates: [String] = []
        try ledger.scan(from: 1) { e in
            guard e.seq >= from else { previous = e.hash; return true }
            var canonical: [UInt8] = []
            if let raw = rawData, raw.seq == e.seq {
                let id = Array(e.id.utf8), type = Array(e.type.utf8), occurred = Array(e.occurredAt.utf8), recorded = Array(e.recordedAt.utf8)
                let actor = e.actor.map { Array($0.utf8) }
                id.withUnsafeBufferPointer { id in type.withUnsafeBufferPointer { type in occurred.withUnsafeBufferPointer { occurred in
                    recorded.withUnsafeBufferPointer { recorded in raw.bytes.withUnsafeBufferPointer { data in
                        if let actor {
                            actor.withUnsafeBufferPointer { actor in
                                CanonicalEnvelope.write(seq: e.seq, id: id, type: type, v: e.v, occurredAt: occurred, recordedAt: recorded,
                                                        actor: actor, data: data, into: &canonical)
                            }
                        } else {
                            CanonicalEnvelope.write(seq: e.seq, id: id, type: type, v: e.v, occurredAt: occurred, recordedAt: recorded,
                                                    actor: nil, data: data, into: &canonical)
                        }
                    } }
                } } }
            } else {
                canonical = CanonicalEnvelope.bytes(e)
            }
            let hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
            updates.append("UPDATE events SET hash = X'\(Hex.encode(hash))' WHERE seq = \(e.seq);")
            previous = hash
            return true
        }
        try tamper(dir, updates.joined(separator: " "))
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: builds and tampers with a SQLite ledger file in process, then runs the binary on that file")) func aTamperedHashIsNamedByFullVerifyAsByTheChainCheckAndNoDerivedVerdictIsGiven() throws {
        let dir = try ScratchDir("vouched-hash")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        // Seq 5's hash replaced by the next row's: 32 bytes, so only the chain can tell.
        try tamper(dir, "UPDATE events SET hash = (SELECT hash FROM events WHERE seq = 6) WHERE seq = 5")
        let chain = try ledger.verify()
        #expect(chain.broken?.seq == 5, "\(chain)")
        let full = try fullVerify(ledger)
        #expect(full.report == chain)
        // The replay took seq 5's hash as given: its result is withheld, not reported.
        #expect(full.derived == nil)
        let r = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.hasPrefix("broken at seq 5: the stored hash does not match"), "\(r)")
        #expect(!r.stdout.contains("derived state"), "\(r)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"]).stdout == r.stdout)
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: builds and tampers with a SQLite ledger file in process, then runs the binary on that file")) func aTamperedBodyWithARecomputedChainIsStillCaughtByTheReplay() throws {
        let dir = try ScratchDir("vouched-body")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        // Seq 8 (ash joins npn) now says elm joined: valid JSON, canonical, allowed by the
        // rules; the chain recomputed from it, so the chain check passes.
        try tamper(dir, "UPDATE events SET data = replace(data, '\"ash\"', '\"elm\"') WHERE seq = 8")
        try rechain(dir, ledger, from: 8)
        let chain = try ledger.verify()
        #expect(chain.ok, "\(chain)")
        let full = try fullVerify(ledger)
        #expect(full.report == chain)
        let derived = try #require(try full.derived?.get())
        #expect(derived.findings.lines.contains("rule_memberships: elm joining npn at seq 8 is missing"), "\(derived.findings.lines)")
        #expect(derived.findings.lines.contains { $0.hasPrefix("rule_memberships: ash joining npn at seq 8 is recorded") }, "\(derived.findings.lines)")
        let r = try runTrellis(["verify", "--db", dir.ledgerPath])
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.hasPrefix("broken: derived state differs"), "\(r)")
        #expect(r.stdout.contains("derived state: rule_memberships: elm joining npn at seq 8 is missing"), "\(r)")
        #expect(try runTrellis(["verify", "--db", dir.ledgerPath, "--chain-only"]).status == 0)
    }

    /// Bytes that are not UTF-8: the chain check hashes them as stored, the replay reads text
    /// (repaired), so the stored hash cannot vouch for what the replay parsed; it is recomputed,
    /// and the event is named as the replay without the chain check's help names it.
    @Test func aColumnThatIsNotUTF8IsHashedByTheReplayAsWithoutTheChainCheck() throws {
        let dir = try ScratchDir("vouched-utf8")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        var original: [UInt8] = []
        try ledger.scan(from: 9, through: 9) { e in original = Array(e.data.utf8); return false }
        let text = String(decoding: original, as: UTF8.self)
        let cut = try #require(text.range(of: "Autumn"))
        let raw = Array(text[..<cut.lowerBound].utf8) + Array("Aut".utf8) + [0xFF] + Array("umn".utf8) + Array(text[cut.upperBound...].utf8)
        try tamper(dir, "UPDATE events SET data = CAST(X'\(Hex.encode(raw))' AS TEXT) WHERE seq = 9")
        try rechain(dir, ledger, from: 9, rawData: (9, raw))
        let chain = try ledger.verify()
        #expect(chain.ok, "the chain over the stored bytes holds: \(chain)")
        let alone = try ledger.verifyDerivedState()
        let full = try #require(try fullVerify(ledger).derived?.get())
        #expect(!alone.findings.isEmpty)
        #expect(full.findings == alone.findings, "vouched: \(full.findings.lines) vs recomputed: \(alone.findings.lines)")
        #expect(full.findings.lines.first?.contains("seq 9 (MeetingHeld)") == true, "\(full.findings.lines)")
    }
}
