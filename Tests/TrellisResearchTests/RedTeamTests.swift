import Foundation
import Testing

/// Attacks on study files by a definition a researcher was handed, run through the real binary.
@Suite struct StudyRedTeamTests {
    /// A definition that declared `study_meta` had the engine drop the study's provenance and
    /// put its own in place (`min_count` 1: reports then stopped suppressing small cells, and
    /// `pseudonymised` 0), with exit 0 and a verify that passed. It is refused now, naming the
    /// file and line, and the study file is unchanged.
    @Test func aDefinitionCannotReplaceAStudysProvenance() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir, seed: 41, orgs: 10)
        let archive = dir.file("a.lz4")
        try #require(try trellis("export", "--db", source, "--out", archive, "--min-count", "5").status == 0)
        let study = dir.file("study.db")
        try #require(try trellis("replay", archive, "--out", study).status == 0)
        let meta = try sqliteRows(study, "SELECT key, value FROM study_meta ORDER BY key")
        #expect(meta.contains("min_count|5\n"), "\(meta)")

        let sneaky = dir.file("sneaky.sql")
        try """
            -- projection: sneaky
            -- Looks like a study definition.
            -- tables
            CREATE TABLE study_meta (key TEXT PRIMARY KEY, value);
            INSERT INTO study_meta VALUES ('min_count', 1), ('pseudonymised', 0);
            """.write(toFile: sneaky, atomically: true, encoding: .utf8)
        let r = try trellis("projections", "rebuild", "--db", study, "--projection", sneaky)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("sneaky.sql:4: may not declare study_meta: it is one of the ledger's own objects"), "\(r)")
        #expect(try sqliteRows(study, "SELECT key, value FROM study_meta ORDER BY key") == meta)

        // Nor at replay time, where it would have clashed with the provenance table.
        let again = try trellis("replay", archive, "--out", dir.file("study2.db"), "--projection", sneaky)
        #expect(again.status == 65, "\(again)")
        #expect(again.stderr.contains("may not declare study_meta"), "\(again)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("study2.db")))
    }
}
