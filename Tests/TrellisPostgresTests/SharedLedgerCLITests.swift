import Foundation
import Testing
import TrellisCore
import TrellisGenerator
import TrellisTestSupport

extension PostgreSQLServer {
    /// The CLI on either store: a ledger file, or a shared PostgreSQL ledger read through a local
    /// cache. The same commands, the same rules, the same figures; a ledger moved from a laptop to
    /// the shared server (an archive) gives byte-identical logs, reports and archives.
    @Suite("Shared ledger through the CLI", .serialized)
    struct SharedLedgerCLITests {
        enum Store: String, CaseIterable, CustomTestStringConvertible {
            case file, postgresql
            var testDescription: String { rawValue }
        }

        /// A ledger of one kind for one test: where it is (`TRELLIS_DB`, so that commands, and the
        /// HTML footer's command line, are the same for both) and its cache.
        final class Target {
            let dir: String
            let db: String
            let env: [String: String?]
            private let database: PG.Database?

            init(_ store: Store, name: String = "ledger") throws {
                dir = NSTemporaryDirectory() + "trellis-shared-" + UUID().uuidString
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                switch store {
                case .file:
                    database = nil
                    db = dir + "/" + name + ".db"
                case .postgresql:
                    let d = try PG.Database()
                    database = d
                    db = d.url
                }
                env = ["TRELLIS_DB": db, "TRELLIS_CACHE": dir + "/cache.db"]
            }

            func run(_ args: [String], stdin: ChildInput = .none, cache: String? = nil, cwd: String? = nil) throws -> ProcessResult {
                var env = self.env
                if let cache { env["TRELLIS_CACHE"] = cache }
                return try Trellis.run(args, stdin: stdin, env: env, cwd: cwd ?? dir)
            }

            /// Runs and expects exit 0; returns stdout.
            @discardableResult
            func ok(_ args: [String], stdin: ChildInput = .none, cache: String? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
                let r = try run(args, stdin: stdin, cache: cache)
                #expect(r.status == 0, "\(args): \(r)", sourceLocation: sourceLocation)
                return r.stdout
            }

            func file(_ name: String) -> String { dir + "/" + name }

            deinit {
                database?.drop()
                try? FileManager.default.removeItem(atPath: dir)
            }
        }

        static func region(seed: UInt64 = 7, events: Int = 4_000) -> Data {
            var bytes = Data()
            RegionGenerator(GeneratorOptions(networks: 3, orgs: 60, years: 3, seed: seed, maxEvents: events)).runChunks { bytes.append(contentsOf: $0) }
            return bytes
        }

        /// Everything a lead or researcher reads, byte for byte (the archive decompressed, its
        /// manifest's `created_at` aside: it is when the export ran).
        static func outputs(_ t: Target) throws -> [String: String] {
            var out: [String: String] = [:]
            out["log"] = try t.ok(["log", "--format", "ndjson"])
            out["log table"] = try t.ok(["log", "--format", "table"])
            out["status"] = try t.ok(["status", "--format", "json"]).split(separator: "\n").filter { !$0.contains("file_bytes") }.joined(separator: "\n")
            for report in ["participation", "coverage", "outcomes", "documents", "graph"] {
                out[report] = try t.ok(["report", report, "--format", "json", "--year", "2023/24"])
            }
            out["summary"] = try t.ok(["report", "summary", "--format", "html", "--year", "2023/24", "--on", "2024-07-01"])
            out["audit"] = try t.ok(["audit", "org0004", "--format", "json"])
            out["as-of"] = try t.ok(["report", "participation", "--format", "json", "--as-of", "2023-06-01"])
            _ = try t.ok(["export", "--out", t.file("a.lz4")])
            let lines = try runTool("lz4", ["-dc", t.file("a.lz4")]).stdout.split(separator: "\n")
            out["archive events"] = lines.dropFirst().joined(separator: "\n")
            out["archive manifest"] = lines.first.map { String($0).replacingOccurrences(of: #""created_at":"[^"]*""#, with: "", options: .regularExpression) }
            out["verify"] = try t.ok(["verify"])
            return out
        }

        @Test func aLaptopLedgerMovedToTheSharedServerAndBackReadsTheSame() throws {
            let laptop = try Target(.file)
            try Self.region().write(to: URL(fileURLWithPath: laptop.file("region.ndjson")))
            try laptop.ok(["import", laptop.file("region.ndjson")])
            // History with a retraction and an erasure, as a real ledger has.
            let log = try laptop.ok(["log", "--format", "ndjson"]).split(separator: "\n")
            let attendance = try #require(log.first { $0.contains(#""type":"AttendanceRecorded""#) })
            let id = try #require(try parseJSON(String(attendance))["id"] as? String)
            try laptop.ok(["retract", id, "--reason", "recorded twice"])
            let person = try #require(log.first { $0.contains(#""type":"PersonRegistered""#) })
            let personID = try #require((try parseJSON(String(person))["data"] as? [String: Any])?["person_id"] as? String)
            try laptop.ok(["erase", personID, "--reason", "asked to be forgotten"])
            try laptop.ok(["export", "--out", laptop.file("move.lz4")])

            let shared = try Target(.postgresql)
            try shared.ok(["init"])
            // The keys go store to store (an archive never carries them), so names still show.
            let moved = try shared.run(["import", laptop.file("move.lz4"), "--keys-from", laptop.db, "--format", "json"])
            #expect(moved.status == 0 && moved.stdout.contains(#""appended":"#), "\(moved)")
            #expect(moved.stderr.contains("person keys carried over from \(laptop.db)"), "\(moved.stderr)")
            let before = try Self.outputs(laptop), after = try Self.outputs(shared)
            #expect(before.keys.sorted() == after.keys.sorted())
            for key in before.keys.sorted() {
                #expect(before[key] == after[key], "\(key) differs between the ledger file and the shared ledger")
            }
            #expect(before["log table"]?.contains("(erased)") == true)

            // And back to a laptop: the shared ledger's archive gives the same log again.
            let back = try Target(.file, name: "back")
            try back.ok(["import", shared.file("a.lz4"), "--keys-from", shared.db])
            #expect(try back.ok(["log", "--format", "ndjson"]) == before["log"])
            #expect(try back.ok(["audit", "org0004", "--format", "json"]) == before["audit"])
        }

        /// The same NDJSON imported into either store: the same events line for line, apart from
        /// what is rightly different per import (recorded_at, hashes, sealed personal fields).
        @Test(arguments: Store.allCases) func theWritePathBehavesTheSameOnEitherStore(_ store: Store) throws {
            let t = try Target(store)
            try Self.region(events: 1_500).write(to: URL(fileURLWithPath: t.file("region.ndjson")))
            try t.ok(["init"])
            let first = try t.ok(["import", t.file("region.ndjson"), "--format", "json"])
            #expect(first.contains(#""appended":1500"#), "\(first)")
            // Re-importing is safe: everything is skipped.
            let again = try t.ok(["import", t.file("region.ndjson"), "--format", "json"])
            #expect(again.contains(#""appended":0"#) && again.contains(#""skipped":1500"#), "\(again)")
            // A bad line: exit 65, the line and field named, nothing appended.
            let bad = try t.run(["import", "-"], stdin: .text(#"{"type":"MeetingHeld","occurred_at":"2025-01-01","data":{"meeting_id":"m1","network_id":"nope","title":"x"}}"# + "\n"))
            #expect(bad.status == 65 && bad.stderr.contains("line 1"), "\(bad)")
            #expect(try t.ok(["status", "--format", "json"]).contains(#""events": 1500"#))
            // Append, retract and erase, then verify.
            try t.ok(["append", #"{"id":"org-new-registered","type":"OrganisationRegistered","occurred_at":"2025-01-01","data":{"org_id":"org-new","name":"New Trust","kind":"mat"}}"#])
            let lines = try t.ok(["log", "--format", "ndjson"]).split(separator: "\n")
            let target = try #require(lines.first { $0.contains(#""type":"DocumentShared""#) })
            try t.ok(["retract", try #require(try parseJSON(String(target))["id"] as? String), "--reason", "wrong file"])
            let person = try #require(lines.first { $0.contains(#""type":"PersonRegistered""#) })
            let personID = try #require((try parseJSON(String(person))["data"] as? [String: Any])?["person_id"] as? String)
            try t.ok(["erase", personID, "--reason", "asked"])
            let verified = try t.ok(["verify"])
            #expect(verified.hasPrefix("ok: 1503 events"), "\(verified)")
            #expect(try t.ok(["audit", "org-new"]).contains("org-new registered: New Trust"))

            // Comparable with the other store: each line without recorded_at and hash, and a
            // registration's sealed name and e-mail.
            let comparable = try t.ok(["log", "--format", "ndjson"]).split(separator: "\n").map { line -> String in
                var o = try parseJSON(String(line))
                o["recorded_at"] = nil
                o["hash"] = nil
                // Recorded now, under an id made now: the retraction and the erasure.
                if ["EventRetracted", "PersonErased"].contains(o["type"] as? String) { o["id"] = nil; o["occurred_at"] = nil }
                if o["type"] as? String == "PersonRegistered", var d = o["data"] as? [String: Any] { d["name"] = nil; d["email"] = nil; o["data"] = d }
                return String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
            }
            let digest = sha256Hex(Data(comparable.joined(separator: "\n").utf8))
            Self.comparableLogs.record(store, digest)
            if let other = Self.comparableLogs.other(than: store) {
                #expect(digest == other, "the same input gave different events on the two stores")
            }
        }

        /// Both parameterised runs leave their digest here; the second compares.
        final class Digests: @unchecked Sendable {
            private let lock = NSLock()
            private var byStore: [Store: String] = [:]
            func record(_ s: Store, _ d: String) { lock.withLock { byStore[s] = d } }
            func other(than s: Store) -> String? { lock.withLock { byStore.first { $0.key != s }?.value } }
        }
        static let comparableLogs = Digests()

        @Test func twoReadersWithTheirOwnCachesGiveByteIdenticalReportsAndBothSeeNewEvents() throws {
            let shared = try Target(.postgresql)
            try Self.region(events: 3_000).write(to: URL(fileURLWithPath: shared.file("region.ndjson")))
            try shared.ok(["import", shared.file("region.ndjson")])
            let alice = shared.file("alice.db"), bob = shared.file("bob.db")
            func reports(_ cache: String) throws -> [String] {
                try ["participation", "coverage", "graph"].map { try shared.ok(["report", $0, "--format", "json", "--year", "2023/24"], cache: cache) }
                    + [try shared.ok(["report", "summary", "--format", "html", "--year", "2023/24", "--on", "2024-07-01"], cache: cache)]
            }
            #expect(try reports(alice) == (try reports(bob)))
            // A third office appends: both readers catch up before their next read.
            try shared.ok(["append", #"{"type":"NetworkFormed","occurred_at":"2024-05-01","data":{"network_id":"n-late","name":"Late Network"}}"#])
            let a = try shared.ok(["status", "--format", "json"], cache: alice)
            #expect(a.contains(#""events": 3001"#), "\(a)")
            let aliceLog = try shared.ok(["log", "--format", "ndjson"], cache: alice)
            let bobLog = try shared.ok(["log", "--format", "ndjson"], cache: bob)
            #expect(aliceLog == bobLog)
            #expect(aliceLog.contains("n-late"))
            #expect(try reports(alice) == (try reports(bob)))
        }

    /// `--keys-from` naming a ledger of another log (or a file that is no ledger): refused
    /// before anything is imported, on either store: the destination is not even created,
    /// the keys source is left as it was. With the right source the move then goes through.
    @Test(arguments: SharedLedgerCLITests.Store.allCases)
    func keysFromAnotherLogAreRefusedBeforeAnythingIsImported(_ store: SharedLedgerCLITests.Store) throws {
        let laptop = try SharedLedgerCLITests.Target(.file)
        try SharedLedgerCLITests.region(events: 400).write(to: URL(fileURLWithPath: laptop.file("r.ndjson")))
        try laptop.ok(["import", laptop.file("r.ndjson")])
        try laptop.ok(["export", "--out", laptop.file("move.lz4")])
        let stranger = try SharedLedgerCLITests.Target(.file, name: "stranger")
        try SharedLedgerCLITests.region(seed: 3, events: 400).write(to: URL(fileURLWithPath: stranger.file("s.ndjson")))
        try stranger.ok(["import", stranger.file("s.ndjson")])
        let strangerKeys = try sqliteCount(stranger.db, "SELECT count(*) FROM person_keys")

        let destination = try SharedLedgerCLITests.Target(store)
        /// Nothing written: no ledger file, no schema in the database (`status` says there is no ledger).
        func untouched(sourceLocation: SourceLocation = #_sourceLocation) throws {
            if store == .file { #expect(!FileManager.default.fileExists(atPath: destination.db), sourceLocation: sourceLocation) }
            let status = try destination.run(["status"])
            #expect(status.status == 66, "\(status)", sourceLocation: sourceLocation)
        }
        let r = try destination.run(["import", laptop.file("move.lz4"), "--keys-from", stranger.db])
        #expect(r.status == 64 && r.stderr.contains("does not hold the log of the archive") && r.stderr.contains("nothing was imported"), "\(r)")
        try untouched()
        #expect(try sqliteCount(stranger.db, "SELECT count(*) FROM person_keys") == strangerKeys)
        let junk = laptop.file("junk.db")
        try Data("not a ledger at all".utf8).write(to: URL(fileURLWithPath: junk))
        let j = try destination.run(["import", laptop.file("move.lz4"), "--keys-from", junk])
        #expect(j.status == 65, "\(j)")
        try untouched()
        let missing = try destination.run(["import", laptop.file("move.lz4"), "--keys-from", laptop.file("nowhere.db")])
        #expect(missing.status == 66, "\(missing)")
        try untouched()

        // The ledger it came from: the events and the keys, names shown as on the laptop.
        try destination.ok(["import", laptop.file("move.lz4"), "--keys-from", laptop.db])
        #expect(try destination.ok(["log", "--format", "table"]) == (try laptop.ok(["log", "--format", "table"])))
    }

    /// `--cache` pointed at a real ledger by mistake: refused (66), its log left as it was
    /// (SQLite may fold its WAL into the file on opening: the log, not the bytes, is compared).
    @Test func aCacheThatIsARealLedgerIsRefusedAndLeftUntouched() throws {
        let shared = try Target(.postgresql)
        try Self.region(events: 300).write(to: URL(fileURLWithPath: shared.file("region.ndjson")))
        try shared.ok(["import", shared.file("region.ndjson")])
        let laptop = try Target(.file)
        try Self.region(seed: 9, events: 200).write(to: URL(fileURLWithPath: laptop.file("l.ndjson")))
        try laptop.ok(["import", laptop.file("l.ndjson")])
        let before = try laptop.ok(["log", "--format", "ndjson"])
        let r = try shared.run(["report", "participation"], cache: laptop.db)
        #expect(r.status == 66, "\(r)")
        #expect(r.stderr.contains("not a cache of"), "\(r.stderr)")
        #expect(try laptop.ok(["log", "--format", "ndjson"]) == before)
        #expect(try laptop.ok(["verify"]).hasPrefix("ok: 200 events"))
    }

    /// A cache holds no keys (names come from the shared store, so erasure there is erasure
        /// everywhere), and one that no longer matches the shared log is rebuilt from it.
        @Test func aCacheHoldsNoKeysAndOneThatDivergedIsRebuilt() throws {
            let shared = try Target(.postgresql)
            try Self.region(events: 800).write(to: URL(fileURLWithPath: shared.file("region.ndjson")))
            try shared.ok(["import", shared.file("region.ndjson")])
            let table = try shared.ok(["log", "--format", "table"])
            let cache = shared.env["TRELLIS_CACHE"]!!
            #expect(try sqliteCount(cache, "SELECT count(*) FROM person_keys") == 0)
            #expect(try sqliteCount(cache, "SELECT count(*) FROM events") == 800)
            // Names are shown: read with the shared store's keys.
            #expect(!table.contains("(erased)"), "\(table.prefix(2_000))")

            // The cache is replaced by a ledger of another log (the shared one restored elsewhere).
            let other = try Target(.file)
            try Self.region(seed: 9, events: 300).write(to: URL(fileURLWithPath: other.file("o.ndjson")))
            try other.ok(["import", other.file("o.ndjson")])
            for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cache + s) }
            try FileManager.default.copyItem(atPath: other.db, toPath: cache)
            let r = try shared.run(["status", "--format", "json"])
            #expect(r.status == 0)
            let after = try shared.run(["log", "--format", "ndjson"])
            #expect(after.status == 0 && after.stderr.contains("was rebuilt"), "\(after.stderr)")
            #expect(after.stdout.split(separator: "\n").count == 800)
            #expect(try shared.ok(["verify"]).hasPrefix("ok: 800 events"))
        }
    }
}

/// libpq is loaded only when a PostgreSQL ledger is opened: the binary does not link it (or
/// the ~20 libraries it brings), so commands on a ledger file start as fast as before.
@Test func theBinaryDoesNotLinkLibpq() throws {
    let linked = try runTool("ldd", [try Trellis.path()])
    #expect(linked.status == 0, "\(linked)")
    #expect(!linked.stdout.contains("libpq"), "\(linked.stdout)")
    #expect(!linked.stdout.contains("libldap") && !linked.stdout.contains("libgssapi"), "\(linked.stdout)")
}

func parseJSON(_ text: String) throws -> [String: Any] {
    guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw SupportError("not a JSON object: \(text.prefix(200))") }
    return o
}

func sqliteCount(_ file: String, _ sql: String) throws -> Int {
    let r = try runTool("sqlite3", [file, sql])
    guard r.status == 0, let n = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw SupportError("sqlite3: \(r)") }
    return n
}
