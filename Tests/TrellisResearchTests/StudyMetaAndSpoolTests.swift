import Foundation
import Testing
import TrellisLedger
import TrellisResearch

/// `study_meta.min_count` read back by the library (it was SQL in the CLI), and an archive
/// on standard input spooled to a temporary file by the library (it was in the CLI).
@Suite struct StudyMetaAndSpoolTests {
    @Test func aStudyFilesMinCountIsReadBackAndAPlainLedgerHasNone() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let source = try regionLedger(in: dir)
        let archive = dir.file("k.lz4"), plain = dir.file("plain.lz4")
        try #require(try trellis("export", "--db", source, "--out", archive, "--min-count", "4").status == 0)
        try #require(try trellis("export", "--db", source, "--out", plain).status == 0)
        let study = dir.file("study.db"), plainStudy = dir.file("plain-study.db")
        try #require(try trellis("replay", archive, "--out", study).status == 0)
        try #require(try trellis("replay", plain, "--out", plainStudy).status == 0)
        #expect(try StudyMeta.minCount(atPath: study) == 4)
        #expect(try StudyMeta.minCount(atPath: plainStudy) == nil)
        #expect(try StudyMeta.minCount(atPath: source) == nil)
        #expect(try StudyMeta.minCount(atPath: dir.file("nowhere.db")) == nil)
        // And the CLI applies it: a table would show the small cells, so it is refused.
        let table = try trellis("report", "participation", "--db", study, "--format", "table")
        #expect(table.status == 64, "\(table)")
        #expect(table.stderr.contains("counts below 4 must be suppressed"), "\(table)")
    }

    @Test func anArchiveOnStandardInputImportsAndLeavesNoSpoolFile() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (source, archive) = try exportedRegion(in: dir)
        let target = dir.file("target.db")
        let spoolDir = dir.file("tmp")
        try FileManager.default.createDirectory(atPath: spoolDir, withIntermediateDirectories: true)
        let r = try run("/usr/bin/env", ["TMPDIR=" + spoolDir, Paths.trellis, "import", "-", "--db", target, "--format", "json"], stdinFile: archive)
        #expect(r.status == 0, "\(r)")
        let imported = try jsonObject(r.stdout)
        let head = try jsonObject(try trellis("status", "--db", source, "--format", "json").stdout)
        #expect(imported["head_hash"] as? String == head["head_hash"] as? String)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spoolDir).isEmpty, "the spooled copy is removed")

        // A damaged archive on standard input is named as such, and nothing is imported.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: archive)))
        bytes.removeLast(bytes.count / 3)
        let damaged = dir.file("damaged.lz4")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let fresh = dir.file("fresh.db")
        let bad = try run("/usr/bin/env", ["TMPDIR=" + spoolDir, Paths.trellis, "import", "-", "--db", fresh], stdinFile: damaged)
        #expect(bad.status != 0, "\(bad)")
        #expect(bad.stderr.contains("stdin"), "\(bad)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spoolDir).isEmpty, "the spooled copy is removed")
    }
}
