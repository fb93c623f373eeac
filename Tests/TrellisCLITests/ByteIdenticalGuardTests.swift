import Foundation
import Testing
import TrellisTestSupport

/// Issue 12 changes no behaviour: a fixed ledger's `log --format ndjson`, its archives and its
/// HTML board summary must come out byte for byte as they did before the refactor.
///
/// Fixtures/guard.db was made by the main of 29 Nov 2026 (ba57252), see Fixtures/README.md.
/// It is a file, not a generated region, because `recorded_at` is the clock at import.
/// What still reads the clock:
/// - `log` and the HTML summary read none (the summary's --on and --year are pinned here, and
///   its footer's command line is kept the same by running in the copy's directory);
/// - an archive's manifest has `created_at`, documented as "When the export ran" (schemas/
///   archive-manifest.schema.json, ARCHITECTURE.md "Archives"): that one field is masked after
///   checking it is a timestamp taken during this run. So the archive is compared decompressed
///   (the LZ4 frame's bytes depend on that field); everything else in it is compared exactly.
@Suite struct ByteIdenticalGuardTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// SHA-256 of each output, recorded with the binary of ba57252.
    static let expected: [String: String] = [
        "log.ndjson": "27906f68fc234d480a49691511dc2919ccdbd5c49732a5e3bb33754161986815",
        "archive.ndjson": "6b86d6baf64aaa9f3790c63d97b98072f587ac3e940f4e03206bb5c759c243d5",
        "study-archive.ndjson": "4dd1488f5ff67c164ba716bc7280b9ee77e33e646227783bad18a4d14b9be810",
        "summary.html": "cdc2f56e6d52c11e0c8cccf9b9d2017bc5eb3591bee29e5302c7abddef37dc0c",
    ]

    /// Compares `data` with its pinned digest; on a mismatch keeps the bytes for a diff.
    func check(_ name: String, _ data: Data) throws {
        let digest = sha256Hex(data)
        if digest != Self.expected[name] {
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-guard-actual-\(UUID().uuidString)-\(name)").path
            try data.write(to: URL(fileURLWithPath: kept))
            Issue.record("\(name) changed: sha256 \(digest), pinned \(Self.expected[name] ?? "-"); the output is kept at \(kept)")
        }
    }

    /// The archive's NDJSON with the manifest's `created_at` replaced by "MASKED", after
    /// checking that it is a UTC timestamp between `from` and `to`.
    func maskedArchive(_ archive: String, from: Date, to: Date) throws -> Data {
        let plain = try runTool("lz4", ["-dc", archive])
        try #require(plain.status == 0, "lz4 -dc: \(plain)")
        var text = plain.stdout
        let firstLine = try #require(text.split(separator: "\n", maxSplits: 1).first.map(String.init))
        let key = #""created_at":""#
        let start = try #require(firstLine.range(of: key), "no created_at in the manifest: \(firstLine)")
        let end = try #require(firstLine[start.upperBound...].firstIndex(of: "\""))
        let stamp = String(firstLine[start.upperBound..<end])
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        #expect(stamp.count == 27 && stamp.hasSuffix("Z"), "created_at \(stamp)")
        let seconds = try #require(format.date(from: String(stamp.prefix(19))), "created_at \(stamp)")
        #expect(seconds >= from.addingTimeInterval(-1) && seconds <= to.addingTimeInterval(1), "created_at \(stamp) is not the time of the export")
        let masked = firstLine.replacingCharacters(in: start.upperBound..<end, with: "MASKED")
        text.replaceSubrange(text.startIndex..<text.index(text.startIndex, offsetBy: firstLine.count), with: masked)
        return Data(text.utf8)
    }

    @Test(.enabled(if: TestStore.isFile, "file store only: pins the outputs of a committed ledger file (Fixtures/guard.db; a file moved to PostgreSQL byte for byte: SharedLedgerCLITests)")) func logArchivesAndBoardSummaryOfAFixedLedgerAreByteIdentical() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-guard-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The fixture itself is the one ba57252 made (re-making it would move every recorded_at).
        let fixture = try Data(contentsOf: Self.fixtures.appendingPathComponent("guard.db"))
        #expect(sha256Hex(fixture) == "18e7f3f5fa7fd2e1511aed7252e8d3c3a5838e3ff8e6c2781a1e2178bd297bd5", "Fixtures/guard.db was changed")
        // A copy: reading builds the read models into the file.
        for f in ["guard.db", "study.key"] {
            try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent(f).path, toPath: dir + "/" + f)
        }
        func trellis(_ args: String...) throws -> ProcessResult {
            let r = try Trellis.run(args, cwd: dir, timeout: 120)
            try #require(r.status == 0, "trellis \(args.joined(separator: " ")): \(r)")
            return r
        }

        try check("log.ndjson", try trellis("log", "--db", "guard.db", "--format", "ndjson").stdoutData)

        let from = Date()
        _ = try trellis("export", "--db", "guard.db", "--out", "plain.lz4")
        _ = try trellis("export", "--db", "guard.db", "--out", "study.lz4", "--pseudonymise", "--key", "study.key", "--min-count", "3")
        let to = Date()
        try check("archive.ndjson", try maskedArchive(dir + "/plain.lz4", from: from, to: to))
        try check("study-archive.ndjson", try maskedArchive(dir + "/study.lz4", from: from, to: to))

        let html = try trellis("report", "summary", "--db", "guard.db", "--format", "html", "--year", "2022/23", "--on", "2023-07-01")
        try check("summary.html", html.stdoutData)
        #expect(html.stdout.contains("<svg") && html.stdout.contains("</html>"))

        // Reading built the read models; the log is still the same bytes.
        try check("log.ndjson", try trellis("log", "--db", "guard.db", "--format", "ndjson").stdoutData)
        // And the file verifies.
        _ = try trellis("verify", "--db", "guard.db")
    }
}
