import Foundation
import GRDB
import Testing
@_spi(ReadSide) import TrellisLedger
import TrellisProjections
@testable import TrellisReports

/// The report cache (`report_cache`, `ReportCache`, `ReportRun.cached`): a repeated report
/// is the cold run's bytes, served only for the state it was computed from, never once
/// something it depends on moved, and never when its check fails; verify and rebuild empty it.
@Suite(.serialized)
struct ReportCacheTests {

    /// A generated region imported with the real binary.
    static func region() throws -> Scratch {
        let s = try Scratch()
        let g = try Trellis.run(["generate", "--seed", "3"])
        guard g.status == 0 else { throw SupportError("generate failed: \(g)") }
        let r = try Trellis.run(["import", "--db", s.path, "-"], stdin: .text(g.stdout))
        guard r.status == 0 else { throw SupportError("import failed: \(r)") }
        return s
    }

    static func report(_ s: Scratch, _ args: [String]) throws -> ProcessResult {
        let r = try Trellis.run(["report"] + args + ["--db", s.path])
        guard r.status == 0 else { throw SupportError("report \(args) failed: \(r)") }
        return r
    }

    static func entries(_ s: Scratch) throws -> [(request: String, output: [UInt8])] {
        try s.ledger.database.read { db in
            try Row.fetchAll(db, sql: "SELECT request, output FROM report_cache ORDER BY rowid").map { row in
                (row[0], ReportCache.bytes(row[1]).withUnsafeBytes { ReportCache.unpack($0) } ?? [])
            }
        }
    }

    static let requests: [[String]] = [
        ["participation", "--format", "json"], ["participation", "--format", "csv"],
        ["coverage", "--format", "json"], ["coverage", "--format", "md"],
        ["outcomes", "--format", "json"], ["documents", "--format", "csv"],
        ["graph", "--format", "json"], ["graph", "--format", "graphml"], ["graph", "--format", "gexf", "--slice", "term"],
        ["summary", "--format", "json"], ["summary", "--format", "html"],
    ]

    @Test func aRepeatedReportIsTheColdRunsBytesAndComesFromTheCache() throws {
        let s = try Self.region()
        for args in Self.requests {
            let cold = try Self.report(s, args)
            let again = try Self.report(s, args)
            #expect(again.stdoutData == cold.stdoutData, "\(args)")
            #expect(again.stderr == cold.stderr, "\(args)")
        }
        #expect(try Self.entries(s).count == Self.requests.count)
        // Without the cache the figures are the same (summary's footer names the command line,
        // which then says --no-cache, so it is compared on the other reports only).
        for args in Self.requests where args[0] != "summary" {
            #expect(try Self.report(s, args + ["--no-cache"]).stdoutData == Self.report(s, args).stdoutData, "\(args)")
        }
        // An xlsx to a file: the same bytes again.
        let book = s.file("p.xlsx")
        _ = try Self.report(s, ["participation", "--out", book])
        let first = try Data(contentsOf: URL(fileURLWithPath: book))
        try FileManager.default.removeItem(atPath: book)
        _ = try Self.report(s, ["participation", "--out", book])
        #expect(try Data(contentsOf: URL(fileURLWithPath: book)) == first)
    }

    /// A forged entry whose check sum is redone is served (that is what makes it a cache):
    /// shown here so the other tests' "recomputed" is known to mean something.
    static func forge(_ s: Scratch, _ args: [String], replacing old: String, with new: String) throws {
        let hit = try entries(s).first { $0.request.contains("report " + args.joined(separator: " ")) }
        guard let hit else { throw SupportError("no cache entry for \(args)") }
        // Byte for byte (the entry holds binary length fields), same length.
        var forged = hit.output
        let o = Array(old.utf8), n = Array(new.utf8)
        for i in 0...(forged.count - o.count) where Array(forged[i..<(i + o.count)]) == o { forged.replaceSubrange(i..<(i + o.count), with: n) }
        #expect(forged != hit.output)
        try s.ledger.database.write { db in
            let key: [UInt8] = ReportCache.bytes(try DatabaseValue.fetchOne(db, sql: "SELECT key FROM report_cache WHERE request = ?", arguments: [hit.request]) ?? .null)
            let packed = ReportCache.pack(forged)
            try db.execute(sql: "UPDATE report_cache SET output = ?, check_sum = ? WHERE request = ?",
                           arguments: [Data(packed), Data(ReportCache.checkSum(key: key, output: packed)), hit.request])
        }
    }

    @Test func aHandEditedEntryIsNotServedAndVerifyDiscardsEveryEntry() throws {
        let s = try Self.region()
        let args = ["graph", "--format", "json"]
        let cold = try Self.report(s, args).stdout
        // An edit that leaves the check sum (one byte of the packed entry): recomputed, with a warning.
        try s.ledger.database.write { db in
            try db.execute(sql: "UPDATE report_cache SET output = substr(output, 1, length(output) - 1) || x'7e'")
        }
        let edited = try Self.report(s, args)
        #expect(edited.stdout == cold)
        #expect(edited.stderr.contains("does not match its check sum"))
        #expect(try Self.report(s, args).stderr.isEmpty)   // the recomputation replaced the entry
        // A consistent forgery is served until verify, which discards every entry and says so.
        try Self.forge(s, args, replacing: "\"density\"", with: "\"densitx\"")
        #expect(try Self.report(s, args).stdout.contains("densitx"))
        let v = try Trellis.run(["verify", "--db", s.path])
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("report cache: 1 cached report discarded"))
        #expect(try Self.entries(s).isEmpty)
        #expect(try Self.report(s, args).stdout == cold)
    }

    /// Trellis never keeps an output over the limit, so a larger entry was put there by hand
    /// (a hostile ledger file): it is not read into memory or served, even with a check sum
    /// that matches, and the report is recomputed.
    @Test func anEntryLargerThanTrellisKeepsIsNotReadEvenWithAMatchingCheckSum() throws {
        let s = try Self.region()
        let source = try s.source()
        guard case .miss(let key) = try ReportCache.lookup(source, request: "r") else { Issue.record("expected a miss"); return }
        #expect(ReportCache.store(source, key: key, output: Array("figures".utf8)))
        #expect(!ReportCache.store(source, key: key, output: [UInt8](repeating: 0x20, count: ReportCache.largestOutput + 1)), "never kept")
        // Stored bytes beyond what Trellis ever stores: not read.
        let huge = [UInt8](repeating: 0x20, count: ReportCache.largestStored + 1)
        // A small entry that says it unpacks to more than Trellis keeps (a bomb), or to other
        // than it does, or is not LZ4 at all: each with a matching check sum, none served.
        var bomb = ReportCache.pack(Array("figures".utf8))
        bomb.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(ReportCache.largestOutput + 1).littleEndian) { Array($0) })
        var longer = ReportCache.pack(Array("figures".utf8))
        longer.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(8).littleEndian) { Array($0) })
        let garbage = withUnsafeBytes(of: UInt64(1000).littleEndian) { Array($0) } + [UInt8](repeating: 0xFF, count: 40)
        for stored in [huge, bomb, longer, garbage] {
            try s.ledger.database.write { db in
                try db.execute(sql: "UPDATE report_cache SET output = ?, check_sum = ?",
                               arguments: [Data(stored), Data(ReportCache.checkSum(key: key.bytes, output: stored))])
            }
            guard case .damaged = try ReportCache.lookup(source, request: "r") else { Issue.record("a hostile entry of \(stored.count) bytes was served"); return }
        }
        // And the honest entry is served, unpacked.
        #expect(ReportCache.store(source, key: key, output: Array("figures".utf8)))
        guard case .hit(let bytes, _) = try ReportCache.lookup(source, request: "r") else { Issue.record("the entry was not served"); return }
        #expect(bytes == Array("figures".utf8))
    }

    /// Entries are stored packed: what comes back is what went in, for every size up to the
    /// largest kept, and a large report takes a fraction of its size in the ledger file.
    @Test func packedEntriesUnpackToExactlyWhatWasStored() throws {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 7, 8, 9, 100, 65_536, 1 << 20] {
            let random = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Array(String(repeating: "{\"org_id\": \"org0001\", \"rate\": 0.5},\n", count: n / 30 + 1).utf8.prefix(n))
            for output in [random, text] {
                let packed = ReportCache.pack(output)
                #expect(packed.withUnsafeBytes { ReportCache.unpack($0) } == output, "\(n) bytes")
            }
        }
        let summary = Array(String(repeating: "{\"org_id\": \"org0001\", \"attendance_rate\": 0.5597405836867049},\n", count: 20_000).utf8)
        #expect(ReportCache.pack(summary).count * 5 < summary.count, "a JSON report packs to less than a fifth")
    }

    @Test func aHandEditedReadModelIsNamedByVerifyAndTheCacheGoesWithIt() throws {
        let s = try Self.region()
        let args = ["participation", "--format", "json"]
        let cold = try Self.report(s, args).stdout
        try s.ledger.database.write { db in try db.execute(sql: "DELETE FROM attendance WHERE status = 'present' AND seq % 3 = 0") }
        let v = try Trellis.run(["verify", "--db", s.path])
        #expect(v.status == 1)
        #expect(v.stdout.contains("read model attendance"))
        #expect(v.stdout.contains("report cache: 1 cached report discarded"))
        #expect(try Self.entries(s).isEmpty)
        // Rebuilt, the model is the log's again, and so is the report.
        #expect(try Trellis.run(["projections", "rebuild", "--db", s.path]).status == 0)
        #expect(try Self.report(s, args).stdout == cold)
    }

    @Test func anAppendOrARetractionMakesEveryEntryUnservable() throws {
        let s = try Self.region()
        let args = ["participation", "--format", "json"]
        let before = try Self.report(s, args).stdout
        let latest = try #require(try s.ledger.database.read { db in
            try Row.fetchOne(db, sql: "SELECT network_id, held_on FROM meetings ORDER BY held_on DESC LIMIT 1")
        })
        let network: String = latest[0], day: String = latest[1]
        // One more meeting of that network on that day: one more meeting expected of its members.
        try s.importWithCLI([E.meeting("cache-m", String(day.prefix(10)), n: network)])
        let appended = try Self.report(s, args).stdout
        #expect(appended != before)
        #expect(appended == (try Self.report(s, args + ["--no-cache"]).stdout))
        #expect(try Self.entries(s).count == 1)   // the old position's entry is gone
        // The retraction of that record: the figures are the first run's again (but not its head).
        try s.importWithCLI([E.retract("cache-r1", "mh-cache-m", day: "2099-01-01")])
        let retracted = try Self.report(s, args).stdout
        #expect(retracted == (try Self.report(s, args + ["--no-cache"]).stdout))
        #expect(retracted != appended)
    }

    @Test func aRebuildEmptiesTheCacheAndTimeTravelIsNeverCached() throws {
        let s = try Self.region()
        _ = try Self.report(s, ["outcomes", "--format", "json"])
        _ = try Self.report(s, ["documents", "--format", "json", "--known-at", "2100-01-01T00:00:00Z"])
        #expect(try Self.entries(s).count == 1)
        #expect(try Trellis.run(["projections", "rebuild", "--db", s.path]).status == 0)
        #expect(try Self.entries(s).isEmpty)
    }

    @Test func aChangedDefinitionOrCheckpointChangesTheKey() throws {
        let s = try Self.region()
        let source = try s.source()
        guard case .miss(let key) = try ReportCache.lookup(source, request: "r") else { Issue.record("expected a miss"); return }
        #expect(ReportCache.store(source, key: key, output: Array("figures".utf8)))
        guard case .hit(let bytes, _) = try ReportCache.lookup(source, request: "r") else { Issue.record("expected a hit"); return }
        #expect(bytes == Array("figures".utf8))
        if case .hit = try ReportCache.lookup(source, request: "r2") { Issue.record("another request was served") }
        // Another definition digest for one model (what a changed definition leaves): not served.
        try s.ledger.database.write { db in try db.execute(sql: "UPDATE projection_state SET definition_digest = 'x' WHERE name = 'attendance'") }
        guard case .miss = try ReportCache.lookup(source, request: "r") else { Issue.record("served under another definition"); return }
        try s.ledger.database.write { db in try db.execute(sql: "UPDATE projection_state SET definition_digest = ? WHERE name = 'attendance'",
                                                             arguments: [ProjectionEngine.builtIns.first { $0.name == "attendance" }?.digest]) }
        guard case .hit = try ReportCache.lookup(source, request: "r") else { Issue.record("expected a hit again"); return }
        try s.ledger.database.write { db in try db.execute(sql: "UPDATE projection_state SET checkpoint_seq = checkpoint_seq - 1 WHERE name = 'meetings'") }
        guard case .miss = try ReportCache.lookup(source, request: "r") else { Issue.record("served at another checkpoint"); return }
    }

    @Test(arguments: [
        ("create it", "CREATE TABLE report_cache (x);", nil as String?),
        ("read it", "", "INSERT INTO loot SELECT output FROM report_cache;"),
        ("empty it", "", "DELETE FROM report_cache;"),
        ("forge an entry", "", "UPDATE report_cache SET output = x'00';"),
    ])
    func theGateKeepsDefinitionsOffTheCache(_ what: String, _ setup: String, _ handler: String?) throws {
        let s = try Self.region()
        _ = try Self.report(s, ["coverage", "--format", "json"])
        let text = "-- projection: evil\n-- tables\nCREATE TABLE loot (x);\n" + setup + "\n"
            + (handler.map { "-- on MeetingHeld\n" + $0 + "\n" } ?? "")
        let d = try ProjectionDefinition.parse(text, source: "evil.sql")
        var refused: DefinitionError?
        do { try ProjectionEngine(ledger: s.ledger, extra: [d]).rebuild(["evil"]) } catch let e as DefinitionError { refused = e }
        let e = try #require(refused, "\(what) was allowed")
        #expect(e.message.contains("report_cache"), "\(e.message)")
        #expect(try Self.entries(s).count == 1)
    }
}
