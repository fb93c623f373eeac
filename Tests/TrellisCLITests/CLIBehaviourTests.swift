import Foundation
import Testing
import TrellisTestSupport

/// Parses NDJSON into objects (fails the test on a bad line).
func ndjsonObjects(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
    }
}

/// A scratch directory, removed at the end of the test.
final class TempDir {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

@Suite struct GeneratorDeterminismTests {
    static let small = ["generate", "--seed", "5", "--orgs", "8", "--years", "1", "--networks", "2"]

    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws {
        let a = try Trellis.run(Self.small), b = try Trellis.run(Self.small)
        try #require(a.status == 0 && b.status == 0, "\(a)")
        #expect(a.stdoutData == b.stdoutData)
        #expect(a.stderr.isEmpty, "\(a)")
        // Pinned: the generator's output is part of the demo, the benchmarks and every reference figure.
        #expect(sha256Hex(a.stdoutData) == "6e0bfc1440a845d23739c6cc72f8814264740fa52467de5fbaf7394584a08fdf")
        #expect(a.stdoutLines.count == 502)

        var other = Self.small
        other[2] = "6"
        let c = try Trellis.run(other)
        try #require(c.status == 0, "\(c)")
        #expect(c.stdoutData != a.stdoutData)
        #expect(sha256Hex(c.stdoutData) == "4ea6ef156905d3319d568b790c736f74d4458f194df99cab579b75ffd3713b77")

        // --events N stops after N: the first N lines of the same region.
        let cut = try Trellis.run(Self.small + ["--events", "50"])
        try #require(cut.status == 0, "\(cut)")
        #expect(cut.stdoutLines == Array(a.stdoutLines.prefix(50)))
        // Every line is an event envelope the ledger accepts.
        let dir = try TempDir()
        try a.stdoutData.write(to: URL(fileURLWithPath: dir.file("r.ndjson")))
        let imported = try Trellis.run(["import", "--db", dir.file("t.db"), dir.file("r.ndjson")])
        #expect(imported.status == 0 && imported.stdout.contains("appended 502, skipped 0"), "\(imported)")
    }
}

@Suite struct LogNetworkTests {
    /// `log --network N` lists exactly the events of N: its formation, memberships, meetings,
    /// documents and reviews, and the attendance, adoptions and review steps that refer to
    /// them; worked out here from the whole log.
    @Test func logNetworkListsExactlyTheNetworksEvents() throws {
        let dir = try TempDir()
        let gen = try Trellis.run(["generate", "--seed", "3", "--orgs", "20", "--years", "2", "--networks", "3"])
        try #require(gen.status == 0, "\(gen)")
        try gen.stdoutData.write(to: URL(fileURLWithPath: dir.file("r.ndjson")))
        let db = dir.file("t.db")
        try #require(try Trellis.run(["import", "--db", db, dir.file("r.ndjson")]).status == 0)
        let all = try Trellis.run(["log", "--db", db, "--format", "ndjson"])
        try #require(all.status == 0, "\(all)")
        let events = try ndjsonObjects(all.stdout)

        func data(_ e: [String: Any]) -> [String: Any] { e["data"] as? [String: Any] ?? [:] }
        let own: Set<String> = ["NetworkFormed", "MemberJoined", "MemberLeft", "MeetingHeld", "DocumentShared", "ReviewCommitted"]
        var networks = Set<String>()
        for e in events where e["type"] as? String == "NetworkFormed" { networks.insert(data(e)["network_id"] as? String ?? "") }
        #expect(networks.count == 3)
        var total = 0
        for n in networks.sorted() {
            var meetings = Set<String>(), documents = Set<String>(), reviews = Set<String>()
            for e in events where own.contains(e["type"] as? String ?? "") && data(e)["network_id"] as? String == n {
                let d = data(e)
                switch e["type"] as? String {
                case "MeetingHeld": meetings.insert(d["meeting_id"] as? String ?? "")
                case "DocumentShared": documents.insert(d["document_id"] as? String ?? "")
                case "ReviewCommitted": reviews.insert(d["review_id"] as? String ?? "")
                default: break
                }
            }
            let expected = events.filter { e in
                let d = data(e)
                switch e["type"] as? String ?? "" {
                case let t where own.contains(t): return d["network_id"] as? String == n
                case "AttendanceRecorded": return meetings.contains(d["meeting_id"] as? String ?? "")
                case "DocumentAdopted": return documents.contains(d["document_id"] as? String ?? "")
                case "ReviewCompleted", "ReviewOutcomeShared", "ReviewWithdrawn": return reviews.contains(d["review_id"] as? String ?? "")
                default: return false
                }
            }.compactMap { $0["seq"] as? Int }
            let r = try Trellis.run(["log", "--db", db, "--network", n, "--format", "ndjson"])
            try #require(r.status == 0, "\(r)")
            let got = try ndjsonObjects(r.stdout)
            #expect(got.compactMap { $0["seq"] as? Int } == expected, "network \(n)")
            #expect(!meetings.isEmpty && got.contains { $0["type"] as? String == "AttendanceRecorded" })
            // Each line is the whole log's line for that event, byte for byte.
            let lines = Set(all.stdoutLines)
            #expect(r.stdoutLines.allSatisfy(lines.contains))
            // With --type, the two filters combine.
            let held = try Trellis.run(["log", "--db", db, "--network", n, "--type", "MeetingHeld", "--format", "ndjson"])
            #expect(held.stdoutLines.count == meetings.count, "\(held.stderr)")
            total += expected.count
        }
        // Retractions, people and organisations belong to no network.
        #expect(total < events.count)
    }
}

@Suite struct DemoTests {
    /// `trellis demo` builds a region and prints what is in it: each figure is checked against
    /// the generated NDJSON it wrote, counted here (retracted events left out).
    @Test(.enabled(if: TestStore.isFile, "file store only: `demo` makes its own ledger file (DIR/trellis.db) by design")) func demoRunsAndItsFiguresAreTheRegions() throws {
        let dir = try TempDir()
        let r = try Trellis.run(["demo", "--dir", "d", "--seed", "2"], cwd: dir.path, timeout: 300)
        try #require(r.status == 0, "\(r)")
        let region = try String(contentsOfFile: dir.file("d/region.ndjson"), encoding: .utf8)
        let events = try ndjsonObjects(region)
        #expect(r.stdout.contains("generated d/region.ndjson\n"), "\(r)")
        #expect(r.stdout.contains("imported into d/trellis.db: appended \(events.count), skipped 0\n"), "\(r)")
        #expect(r.stdout.contains("verified: \(events.count) events, head "), "\(r)")

        func data(_ e: [String: Any]) -> [String: Any] { e["data"] as? [String: Any] ?? [:] }
        let retracted = Set(events.filter { $0["type"] as? String == "EventRetracted" }.compactMap { data($0)["event_id"] as? String })
        let live = events.filter { !retracted.contains($0["id"] as? String ?? "") }
        func count(_ type: String) -> Int { live.filter { $0["type"] as? String == type }.count }
        func distinct(_ type: String, _ key: (([String: Any]) -> String)) -> Int { Set(live.filter { $0["type"] as? String == type }.map { key(data($0)) }).count }
        let figures: [(String, Int)] = [
            ("networks", count("NetworkFormed")),
            ("organisations", count("OrganisationRegistered")),
            ("meetings", count("MeetingHeld")),
            // One per meeting, organisation and person: a later record corrects an earlier one.
            ("counting attendance records", distinct("AttendanceRecorded") { "\($0["meeting_id"] ?? "")|\($0["org_id"] ?? "")|\($0["person_id"] ?? "")" }),
            ("documents shared", count("DocumentShared")),
            ("adoptions", count("DocumentAdopted")),
            ("reviews committed", count("ReviewCommitted")),
            ("reviews completed", count("ReviewCompleted")),
            ("reviews withdrawn", count("ReviewWithdrawn")),
            ("outcomes shared", distinct("ReviewOutcomeShared") { $0["review_id"] as? String ?? "" }),
            ("retracted events", retracted.count),
        ]
        let table = r.stdoutLines
        for (name, value) in figures {
            let row = table.first { $0.hasPrefix(name + "  ") }
            let shown = row.flatMap { Int($0.split(separator: " ").last ?? "") }
            #expect(shown == value, "\(name): demo says \(row ?? "nothing"), the region has \(value)")
        }
        #expect(figures.allSatisfy { $0.1 > 0 }, "\(figures)")

        // The register it wrote was imported: the ledger holds the region and those events.
        let line = try #require(table.first { $0.hasPrefix("imported it: appended ") }, "\(r)")
        let appended = try #require(Int(line.dropFirst("imported it: appended ".count).prefix { $0.isNumber }))
        let status = try Trellis.run(["status", "--db", "d/trellis.db", "--format", "json"], cwd: dir.path)
        let doc = try #require(try JSONSerialization.jsonObject(with: status.stdoutData) as? [String: Any], "\(status)")
        #expect(doc["events"] as? Int == events.count + appended)
        #expect(appended > 0)
        #expect(try Trellis.run(["verify", "--db", "d/trellis.db"], cwd: dir.path).status == 0)
        let html = try String(contentsOfFile: dir.file("d/report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.hasSuffix("</html>\n"), "\(html.prefix(200))")
        #expect(FileManager.default.fileExists(atPath: dir.file("d/register.csv")))
    }
}
