import Foundation
import GRDB
import Testing
@testable import TrellisLedger
import TrellisCore

/// Into an empty log, `events` rows are held back and written many to a statement
/// (PendingEvents.swift). The ledger must come out as a row-by-row import leaves it, with the
/// same answers for a re-sent event, a re-used id and a retraction of an event still held.
@Suite(.enabled(if: TestStore.isFile, "file store only: the held rows are the SQLite store's"))
struct BulkInsertTests {
    /// A generated region, erasures and retractions included (a few thousand events: more
    /// than one statement of 256 rows, and reads of held rows).
    static let region: [String] = {
        guard let g = try? runTrellis(["generate", "--networks", "3", "--orgs", "60", "--years", "2", "--seed", "5"]), g.status == 0 else { return [] }
        return g.stdoutLines
    }()

    /// `lines` into a new ledger in `dir`, as one batch with `options`: its outcome (or refusal)
    /// and what it stored.
    static func importInto(_ dir: ScratchDir, _ name: String, _ lines: [String], _ options: Ledger.AppendOptions) throws
        -> (outcome: AppendOutcome?, refusal: String?, stored: [String]) {
        let path = dir.file(name + ".db")
        let ledger = try Ledger.open(at: path, create: true)
        var outcome: AppendOutcome?, refusal: String?
        do {
            outcome = try ledger.append(options: options) { visit in
                for (k, line) in lines.enumerated() {
                    var text = line
                    guard try text.withUTF8({ try visit($0, k + 1, nil) }) else { return }
                }
            }
        } catch let e as AppendRejected {
            refusal = e.description
        }
        return (outcome, refusal, try stored(path))
    }

    /// Every row of the log and the rule tables, as text. Not a registration's `data` (its
    /// personal fields are sealed under a fresh key each time), nor `recorded_at` and `hash`
    /// (the batch's clock): `verify` checks those.
    static func stored(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try String.fetchAll(db, sql: """
                SELECT 'e|' || seq || '|' || id || '|' || type || '|' || v || '|' || occurred_at || '|' || ifnull(actor, '-') || '|'
                       || CASE type WHEN 'PersonRegistered' THEN '' ELSE data END FROM events
                UNION ALL SELECT 'r|' || kind || '|' || key || '|' || seq || '|' || ifnull(parent, '-') || '|' || state FROM rule_entities
                UNION ALL SELECT 'm|' || network_id || '|' || org_id || '|' || seq || '|' || joined FROM rule_memberships
                UNION ALL SELECT 'x|' || target_seq || '|' || retraction_seq FROM retractions
                UNION ALL SELECT 'k|' || person_id FROM person_keys
                ORDER BY 1
                """)
        }
    }

    static var rowByRow: Ledger.AppendOptions {
        var o = Ledger.AppendOptions()
        o.rowByRow = true
        return o
    }

    /// Held rows, then the same lines row by row: the same outcome and the same rows.
    static func expectSame(_ lines: [String], held options: Ledger.AppendOptions = Ledger.AppendOptions(),
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try ScratchDir("bulk-insert")
        defer { dir.remove() }
        let held = try importInto(dir, "held", lines, options)
        let single = try importInto(dir, "single", lines, rowByRow)
        #expect(held.outcome?.appended == single.outcome?.appended, sourceLocation: sourceLocation)
        #expect(held.outcome?.skipped == single.outcome?.skipped, sourceLocation: sourceLocation)
        #expect(held.refusal == single.refusal, sourceLocation: sourceLocation)
        #expect(held.stored.count == single.stored.count, sourceLocation: sourceLocation)
        if let k = held.stored.indices.first(where: { $0 < single.stored.count && held.stored[$0] != single.stored[$0] }) {
            Issue.record("the held rows stored something else: \(held.stored[k]) where row by row stored \(single.stored[k])", sourceLocation: sourceLocation)
        }
        if held.outcome != nil {
            let ledger = try Ledger.open(at: dir.file("held.db"))
            #expect(try ledger.verify().ok, sourceLocation: sourceLocation)
            #expect(try ledger.verifyDerivedState().findings.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test func aFirstImportStoresWhatARowByRowImportStores() throws {
        let lines = Self.region
        #expect(lines.count > 2 * PendingEvents.largeGroup)
        #expect(lines.contains { $0.contains(#""type":"EventRetracted""#) }, "the region retracts nothing: no held row is read back")
        #expect(lines.contains { $0.contains(#""type":"PersonErased""#) })
        try Self.expectSame(lines)
    }

    @Test func anEventSentTwiceInOneFirstImportIsSkippedAsRowByRow() throws {
        // Re-sent at once (its rules pass again: the id decides), and much later (its rules fail
        // first: the network exists; the event recorded under its id, still held, is compared).
        let lines = Self.region
        let attendance = try #require(lines.first { $0.contains(#""type":"AttendanceRecorded""#) })
        let formed = try #require(lines.first { $0.contains(#""type":"NetworkFormed""#) })
        var twice = lines
        let at = try #require(twice.firstIndex(of: attendance))
        twice.insert(attendance, at: at + 1)
        twice.insert(formed, at: twice.count / 2)
        try Self.expectSame(twice)
        let dir = try ScratchDir("bulk-insert")
        defer { dir.remove() }
        let held = try Self.importInto(dir, "held", twice, Ledger.AppendOptions())
        #expect(held.outcome?.skipped == 2)
    }

    @Test func anIdReusedForOtherContentInOneFirstImportIsRefusedAsRowByRow() throws {
        var lines = Self.region
        let attendance = try #require(lines.first { $0.contains(#""type":"AttendanceRecorded""#) && $0.contains(#""status":"present""#) })
        lines.insert(attendance.replacingOccurrences(of: #""status":"present""#, with: #""status":"absent""#), at: lines.count - 3)
        try Self.expectSame(lines)
        let dir = try ScratchDir("bulk-insert")
        defer { dir.remove() }
        let held = try Self.importInto(dir, "held", lines, Ledger.AppendOptions())
        #expect(held.refusal?.contains("with different content") == true, "\(held.refusal ?? "accepted")")
        #expect(held.stored.isEmpty, "a refused batch left rows")
    }

    /// A filter of 64 bits answers "maybe taken" for almost every id after the first few: rows
    /// then go in one at a time after a write of what is held, mixed with held runs.
    /// With an event sent again at once, its original still held: only the held rows can say
    /// its id is taken (the table cannot yet).
    @Test func aFilterThatMostlySaysMaybeChangesNothing() throws {
        var options = Ledger.AppendOptions()
        options.idFilterBits = 64
        try Self.expectSame(Self.region, held: options)
        var twice = Self.region
        let attendance = try #require(twice.lastIndex { $0.contains(#""type":"AttendanceRecorded""#) })
        twice.insert(twice[attendance], at: attendance + 1)
        try Self.expectSame(twice, held: options)
    }

    @Test func theIdFilterNeverForgetsAnId() {
        var filter = IdFilter(bits: 1 << 12)
        let ids = (0..<5000).map { "id-\($0)" }
        for id in ids {
            var text = id
            _ = text.withUTF8 { filter.testAndAdd(hash: IdFilter.hash($0)) }
        }
        for id in ids {
            var text = id
            #expect(text.withUTF8 { filter.testAndAdd(hash: IdFilter.hash($0)) }, "\(id) was added but the filter says certainly new")
        }
    }

    /// An archived event under an id an earlier event of the same archive holds (still held
    /// back when it comes): refused naming where that id was recorded, nothing written.
    @Test func anArchivedIdUsedTwiceIsRefusedNamingTheFirst() throws {
        let dir = try ScratchDir("bulk-insert")
        defer { dir.remove() }
        let source = try Ledger.open(at: dir.file("source.db"), create: true)
        try source.appendLines(Self.region)
        var events: [RecordedEvent] = []
        try source.scan { events.append($0); return true }
        let attendances = events.indices.filter { events[$0].type == "AttendanceRecorded" }
        let first = try #require(attendances.first), last = try #require(attendances.last)
        // The last attendance takes the first one's id; the chain is made again from there on.
        events[last].id = events[first].id
        var previous = last == 0 ? CanonicalEnvelope.genesis : events[last - 1].hash
        for k in last..<events.count {
            var canonical: [UInt8] = []
            CanonicalEnvelope.write(events[k], into: &canonical)
            events[k].hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chainDigest(previous, $0) }.withUnsafeBufferPointer { Array($0) }
            previous = events[k].hash
        }
        let copy = try Ledger.open(at: dir.file("copy.db"), create: true)
        let refusal = rejection {
            _ = try copy.appendArchived { visit in
                var chain = ArchiveChain()
                for e in events { try visit(try chain.admit(e, line: Int(e.seq) + 1)) }
            }
        }
        #expect(refusal?.description.contains("an id not used before") == true, "\(String(describing: refusal))")
        #expect(refusal?.description.contains("(recorded at seq \(events[first].seq))") == true, "\(String(describing: refusal))")
        #expect(try copy.head().seq == 0)
    }

    /// An archive into an empty ledger: its rows held back too, and the ledger the same as the
    /// one exported, hashes and all.
    @Test func anArchiveIntoAnEmptyLedgerKeepsEveryRowAndHash() throws {
        let dir = try ScratchDir("bulk-insert")
        defer { dir.remove() }
        let source = dir.file("source.db"), copy = dir.file("copy.db"), archive = dir.file("region.trellis.lz4")
        #expect(try runTrellis(["import", "--db", source, "-"], stdin: Self.region.joined(separator: "\n") + "\n").status == 0)
        #expect(try runTrellis(["export", "--db", source, "--out", archive]).status == 0)
        let imported = try runTrellis(["import", "--db", copy, archive])
        #expect(imported.status == 0, "\(imported)")
        let dump = "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hex(hash) FROM events ORDER BY seq"
        let a = try sqlite3(source, dump), b = try sqlite3(copy, dump)
        #expect(a.stdout.count > 1000)
        #expect(a.stdout == b.stdout)
        #expect(try runTrellis(["verify", "--db", copy]).status == 0)
    }
}
