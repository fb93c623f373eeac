import Foundation
import Testing
import TrellisLedger
import TrellisResearch

private let meetingsPerNetwork = """
    -- projection: study_meetings_per_network
    -- How many meetings each network held (a researcher's own read model).

    -- tables
    CREATE TABLE study_meetings_per_network (network_id TEXT PRIMARY KEY, meetings INTEGER NOT NULL);

    -- on MeetingHeld
    INSERT INTO study_meetings_per_network (network_id, meetings) VALUES (:network_id, 1)
      ON CONFLICT (network_id) DO UPDATE SET meetings = meetings + 1;
    """

@Suite("replay: study databases")
struct ReplayTests {
    @Test func replayBuildsAStudyFileWithEventsReadModelsOwnDefinitionsAndProvenance() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 31, orgs: 15)
        let archive = dir.file("a.lz4")
        try #require(try trellis("export", "--db", source, "--out", archive, "--min-count", "3").status == 0)
        try meetingsPerNetwork.write(toFile: dir.file("mine.sql"), atomically: true, encoding: .utf8)
        let study = dir.file("study.db")
        let r = try trellis("replay", archive, "--out", study, "--projection", dir.file("mine.sql"))
        try #require(r.status == 0, "\(r)")
        #expect(r.stdout.contains("study_meetings_per_network"))

        // One self-contained file.
        #expect(!FileManager.default.fileExists(atPath: study + "-wal"))
        #expect(try sqliteRows(study, "PRAGMA journal_mode") == "delete\n")

        // The raw events, queryable as they are.
        let events = try sqliteRows(source, "SELECT count(*) FROM events")
        #expect(try sqliteRows(study, "SELECT count(*) FROM events") == events)
        #expect(try sqliteRows(study, "SELECT count(*) FROM events WHERE json_extract(data, '$.status') = 'present'")
                == sqliteRows(source, "SELECT count(*) FROM events WHERE json_extract(data, '$.status') = 'present'"))

        // The built-in read models, digest for digest.
        let sourceDigests = try digests(source)
        let studyDigests = try digests(study)
        for (name, digest) in sourceDigests { #expect(studyDigests[name] == digest, "\(name)") }

        // The researcher's definition, against the built-in meetings read model.
        let own = try sqliteRows(study, "SELECT network_id, meetings FROM study_meetings_per_network ORDER BY network_id")
        let expected = try sqliteRows(source, "SELECT network_id, count(*) FROM meetings GROUP BY network_id ORDER BY network_id")
        #expect(!own.isEmpty)
        #expect(own == expected)

        // Provenance, min_count included (for the reports computed from the study).
        let status = try jsonObject(try trellis("status", "--db", source, "--format", "json").stdout)
        #expect(try sqliteRows(study, "SELECT value FROM study_meta WHERE key = 'archive_head_hash'") == "\(status["head_hash"] as? String ?? "")\n")
        #expect(try sqliteRows(study, "SELECT value, typeof(value) FROM study_meta WHERE key = 'min_count'") == "3|integer\n")
        #expect(try sqliteRows(study, "SELECT value FROM study_meta WHERE key = 'pseudonymised'") == "0\n")

        // The study file is a ledger: its chain checks out.
        #expect(try trellis("verify", "--db", study).status == 0)
    }

    @Test func replayKnownAtAndAsOfGiveTheFiguresOfThatMoment() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let gen = try trellis("generate", "--seed", "32", "--orgs", "12", "--years", "2")
        let all = gen.stdout.split(separator: "\n").map(String.init)
        try (all.prefix(300).joined(separator: "\n") + "\n").write(toFile: dir.file("first.ndjson"), atomically: true, encoding: .utf8)
        try (all.dropFirst(300).joined(separator: "\n") + "\n").write(toFile: dir.file("rest.ndjson"), atomically: true, encoding: .utf8)
        let source = dir.file("s.db")
        try #require(try trellis("import", "--db", source, dir.file("first.ndjson")).status == 0)
        usleep(2000)
        try #require(try trellis("import", "--db", source, dir.file("rest.ndjson")).status == 0)
        let knownAt = try #require(try jsonObject(try trellis("log", "--db", source, "--since-seq", "299", "--limit", "1", "--format", "ndjson").stdout)["recorded_at"] as? String)
        let archive = dir.file("a.lz4")
        try #require(try trellis("export", "--db", source, "--out", archive).status == 0)

        let known = dir.file("known.db")
        let k = try trellis("replay", archive, "--out", known, "--known-at", knownAt)
        try #require(k.status == 0, "\(k)")
        #expect(try sqliteRows(known, "SELECT count(*) FROM events") == "300\n")
        #expect(try digests(known) == digests(source, "--known-at", knownAt))

        let asOf = "2023-03-01"
        let past = dir.file("past.db")
        let a = try trellis("replay", archive, "--out", past, "--as-of", asOf)
        try #require(a.status == 0, "\(a)")
        #expect(try sqliteRows(past, "SELECT count(*) FROM events") == "\(all.count)\n")
        let pastDigests = try digests(past)
        #expect(try pastDigests == digests(source, "--as-of", asOf))
        #expect(try pastDigests != digests(source))
        #expect(try sqliteRows(past, "SELECT value FROM study_meta WHERE key = 'as_of'") == "\(asOf)\n")

        #expect(try trellis("replay", archive, "--out", dir.file("never.db"), "--known-at", "2001-01-01").status == 64)
        #expect(!FileManager.default.fileExists(atPath: dir.file("never.db")))
    }

    @Test func replayRefusesToReplaceAFileAndWritesNothingFromABrokenArchive() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 33, orgs: 8)
        let study = dir.file("study.db")
        try "my notes".write(toFile: study, atomically: true, encoding: .utf8)
        let refused = try trellis("replay", archive, "--out", study)
        #expect(refused.status == 64, "\(refused)")
        #expect(try String(contentsOfFile: study, encoding: .utf8) == "my notes")
        #expect(try trellis("replay", archive, "--out", study, "--force").status == 0)
        #expect(try sqliteRows(study, "SELECT count(*) > 0 FROM attendance") == "1\n")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes = bytes.prefix(bytes.count / 2)
        try bytes.write(to: URL(fileURLWithPath: dir.file("cut.lz4")))
        let broken = try trellis("replay", dir.file("cut.lz4"), "--out", dir.file("broken.db"))
        #expect(broken.status == 1, "\(broken)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!left.contains { $0.hasPrefix("broken.db") }, "\(left)")

        try "-- projection: attendance\n-- tables\nCREATE TABLE attendance (x);\n".write(toFile: dir.file("clash.sql"), atomically: true, encoding: .utf8)
        let clash = try trellis("replay", archive, "--out", dir.file("clash.db"), "--projection", dir.file("clash.sql"))
        #expect(clash.status == 65, "\(clash)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("clash.db")))
    }
}
