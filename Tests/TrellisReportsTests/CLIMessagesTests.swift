import Foundation
import Testing
import TrellisLedger
@testable import TrellisReports
@testable import TrellisCore

/// The CLI explaining itself (issue 14): each message through the real binary, with its exit
/// code and its text.
@Suite struct CLIMessagesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built `trellis` (TrellisTestSupport finds it next to the test bundle).
    static let bin: String = (try? Trellis.path()) ?? "trellis-binary-not-found"

    struct Run: CustomStringConvertible {
        var status: Int32
        var out: String
        var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
        var description: String { "exit \(status)\nstdout: \(out.prefix(2000))\nstderr: \(err.prefix(2000))" }
    }

    /// Runs the binary with stdout and stderr piped; `env` replaces variables (nil removes).
    func trellis(_ args: [String], env: [String: String?] = [:], cwd: String? = nil) throws -> Run {
        var environment: [String: String?] = ["COLUMNS": nil]
        for (k, v) in env { environment[k] = v }
        let r = try Trellis.run(args, env: environment, cwd: cwd)
        return Run(status: r.status, out: r.stdout, err: r.stderr)
    }

    static let longName = "The Very Long Named Multi Academy Trust of the North Pennines"

    /// A network of five trusts with names that people type differently, two of them alike.
    func ledger() throws -> Scratch {
        let s = try Scratch()
        try s.importWithCLI([
            E.network("npn", name: "North Pennines"),
            E.org("oak", name: "Oak Learning Trust"), E.org("stm", name: "St. Mary's Academy Trust"),
            E.org("rv1", name: "Riverside Trust"), E.org("rv2", name: "Riverside  Trust"),
            E.org("lng", name: Self.longName),
            E.join("oak"), E.join("stm"), E.join("rv1"), E.join("rv2"), E.join("lng"),
            E.meeting("m1", "2025-10-01"), E.meeting("m2", "2026-03-01"),
            E.attend("a1", "m1", "oak", "present", day: "2025-10-01"),
            E.attend("a2", "m1", "stm", "present", day: "2025-10-01"),
            E.attend("a3", "m2", "lng", "present", day: "2026-03-01"),
        ])
        return s
    }

    // MARK: - --version

    @Test func versionPrintsTheReleaseAndTheLedgerFormat() throws {
        let r = try trellis(["--version"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == TrellisVersion.line + "\n", "\(r)")
        #expect(r.out.hasPrefix("trellis \(TrellisVersion.release) (ledger format 1)"), "\(r)")
    }

    // MARK: - Mistyped subcommands

    @Test func aMistypedReportNamesTheReportMeant() throws {
        let s = try ledger()
        let r = try trellis(["report", "participaton", "--db", s.path])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("unknown report 'participaton'; did you mean 'participation'?"), "\(r)")
        #expect(!r.err.contains("Unknown option"), "\(r)")
    }

    @Test func aMistypedCommandNamesTheCommandMeant() throws {
        let top = try trellis(["reprot", "summary"])
        #expect(top.status == 64 && top.err.contains("unknown command 'reprot'; did you mean 'report'?"), "\(top)")
        let nested = try trellis(["projections", "rebiuld", "--db", "x.db"])
        #expect(nested.status == 64 && nested.err.contains("unknown 'projections' command 'rebiuld'; did you mean 'rebuild'?"), "\(nested)")
        let far = try trellis(["report", "zzzzzz"])
        #expect(far.status == 64 && far.err.contains("unknown report 'zzzzzz'; one of participation, coverage, graph, outcomes, documents, summary"), "\(far)")
    }

    // MARK: - A period where nothing is recorded

    @Test func aPeriodAfterTheLedgerWarnsOnStderrAndInJSON() throws {
        let s = try ledger()
        let r = try trellis(["report", "participation", "--db", s.path, "--year", "2030/31", "--format", "json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.err.contains("warning: the period 2030-09-01 to 2031-08-31 starts after the ledger's last event (events occurred 2025-09-01 to 2026-03-01)"), "\(r)")
        let warnings = try #require(r.json["warnings"] as? [String], "\(r)")
        #expect(warnings.count == 1 && warnings[0].contains("starts after the ledger's last event"), "\(r)")
        #expect(r.json["networks"] != nil, "the report's own keys stay")

        let before = try trellis(["report", "documents", "--db", s.path, "--from", "2001-01-01", "--to", "2002-01-01", "--format", "table"])
        #expect(before.status == 0 && before.err.contains("warning: the period 2001-01-01 to 2001-12-31 ends before the ledger's first event"), "\(before)")

        let day = try trellis(["report", "coverage", "--db", s.path, "--on", "2040-01-01", "--format", "json"])
        #expect(day.status == 0 && day.err.contains("the day 2040-01-01 lies outside the ledger's events"), "\(day)")
        #expect((day.json["warnings"] as? [String])?.count == 1, "the default period has events: \(day)")
    }

    @Test func aPeriodWithEventsHasNoWarnings() throws {
        let s = try ledger()
        let r = try trellis(["report", "participation", "--db", s.path, "--year", "2025/26", "--format", "json"])
        #expect(r.status == 0 && r.err.isEmpty, "\(r)")
        #expect(r.json["warnings"] == nil, "\(r)")
    }

    // MARK: - Dates

    @Test func ukDatesAreAcceptedAndBadDatesNameTheFormat() throws {
        let s = try ledger()
        let uk = try trellis(["report", "coverage", "--db", s.path, "--on", "31/07/2026", "--format", "json"])
        #expect(uk.status == 0, "\(uk)")
        #expect(uk.json["on"] as? String == "2026-07-31", "\(uk)")
        let range = try trellis(["report", "participation", "--db", s.path, "--from", "1/9/2025", "--to", "01/09/2026", "--format", "json"])
        #expect(range.status == 0 && range.json["from"] as? String == "2025-09-01" && range.json["to"] as? String == "2026-09-01", "\(range)")
        let asOf = try trellis(["report", "participation", "--db", s.path, "--as-of", "15/10/2025", "--format", "json"])
        #expect(asOf.status == 0, "\(asOf)")

        for bad in ["31/02/2026", "2026/07/31", "07-31-2026", "31.07.2026"] {
            let r = try trellis(["report", "coverage", "--db", s.path, "--on", bad])
            #expect(r.status == 64, "\(bad): \(r)")
            #expect(r.err.contains("YYYY-MM-DD or DD/MM/YYYY"), "\(bad): \(r)")
        }
        let log = try trellis(["log", "--db", s.path, "--from", "2026-13-01"])
        #expect(log.status == 64 && log.err.contains("YYYY-MM-DD or DD/MM/YYYY"), "\(log)")
        let knownAt = try trellis(["report", "participation", "--db", s.path, "--known-at", "yesterday"])
        #expect(knownAt.status == 64 && knownAt.err.contains("DD/MM/YYYY"), "\(knownAt)")
    }

    // MARK: - Organisations

    @Test func anUnknownOrganisationIsAUsageErrorInReportAndAudit() throws {
        let s = try ledger()
        let report = try trellis(["report", "participation", "--db", s.path, "--org", "Oak Lerning Trust"])
        let audit = try trellis(["audit", "--db", s.path, "Oak Lerning Trust"])
        for r in [report, audit] {
            #expect(r.status == 64, "\(r)")
            #expect(r.err.contains("no organisation 'Oak Lerning Trust' in this ledger, by id or name (it has 5); closest: Oak Learning Trust (oak)"), "\(r)")
        }
    }

    @Test func organisationsAreFoundByNameWhateverTheCaseSpacingAndPunctuation() throws {
        let s = try ledger()
        let r = try trellis(["report", "participation", "--db", s.path, "--year", "2025/26", "--org", "st marys  academy TRUST", "--org", "OAK learning trust", "--format", "json"])
        #expect(r.status == 0, "\(r)")
        let members = (r.json["networks"] as? [[String: Any]])?.first?["members"] as? [[String: Any]]
        #expect(members?.compactMap { $0["org_id"] as? String } == ["oak", "stm"], "\(r)")

        let audit = try trellis(["audit", "--db", s.path, "St Mary's Academy Trust", "--format", "json"])
        #expect(audit.status == 0 && audit.json["org_id"] as? String == "stm", "\(audit)")
    }

    @Test func anAmbiguousNameListsTheCandidatesWithTheirIDs() throws {
        let s = try ledger()
        let r = try trellis(["report", "documents", "--db", s.path, "--org", "riverside trust"])
        #expect(r.status == 64, "\(r)")
        #expect(r.err.contains("'riverside trust' names 2 organisations: Riverside Trust (rv1); Riverside  Trust (rv2); give the id"), "\(r)")
    }

    // MARK: - Tables as wide as the terminal

    @Test func tablesUseTheTerminalWidth() throws {
        let s = try ledger()
        let args = ["report", "participation", "--db", s.path, "--year", "2025/26", "--format", "table"]
        let wide = try trellis(args, env: ["COLUMNS": "160"])
        #expect(wide.status == 0 && wide.out.contains(Self.longName), "\(wide)")
        let piped = try trellis(args)
        #expect(piped.status == 0, "\(piped)")
        #expect(!piped.out.contains(Self.longName) && piped.out.contains("The Very Long Named"), "80 columns when piped: \(piped)")
        #expect(piped.out.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(piped)")
    }

    // MARK: - Help and figure definitions

    @Test func reportHelpPointsToTheProjectsOwnFigureDefinitions() throws {
        let r = try trellis(["report", "--help"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("docs/figures.md") && !r.out.contains("DOMAIN.md"), "\(r)")
        for figure in ["participation rate", "review coverage", "reviewer coverage", "overdue", "outcome sharing"] {
            #expect(r.out.contains(figure), "\(figure)")
        }
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/figures.md"), encoding: .utf8)
        for heading in ["Participation rate", "Review coverage", "Reviewer coverage", "Overdue", "Outcome sharing rate",
                        "density", "betweenness", "Reciprocity", "E-I index", "DD/MM/YYYY"] {
            #expect(doc.contains(heading), "docs/figures.md defines \(heading)")
        }
    }

    // MARK: - demo's suggestions work from where the user is

    @Test(.enabled(if: TestStore.isFile, "file store only: `demo` makes its own ledger file (DIR/trellis.db) by design")) func demoSuggestsCommandsThatWorkFromTheCurrentDirectory() throws {
        let s = try Scratch()
        let r = try trellis(["demo", "--dir", "d"], cwd: s.dir.path)
        #expect(r.status == 0, "\(r)")
        #expect(!r.out.contains("Try:  .build/debug/trellis"), "not a path relative to the checkout: \(r)")
        let tryLine = try #require(r.out.split(separator: "\n").first { $0.hasPrefix("Try:  ") }, "\(r)")
        let program = String(tryLine.dropFirst(6).split(separator: " ")[0])
        let resolved = program.hasPrefix("/") ? program : s.dir.appendingPathComponent(program).path
        #expect(FileManager.default.isExecutableFile(atPath: resolved), "\(program) from \(s.dir.path)")
        // It is this very binary, and the status it suggests runs from here.
        #expect(URL(fileURLWithPath: resolved).resolvingSymlinksInPath().path == URL(fileURLWithPath: Self.bin).resolvingSymlinksInPath().path)
        let status = try trellis(["status", "--db", "d/trellis.db"], cwd: s.dir.path)
        #expect(status.status == 0, "\(status)")
        // The renderer is suggested by a path that exists from here.
        let render = try #require(r.out.split(separator: "\n").first { $0.contains("render-report.sh") }, "\(r)")
        let script = String(render.split(separator: " ")[0])
        let scriptPath = script.hasPrefix("/") ? script : s.dir.appendingPathComponent(script).path
        #expect(FileManager.default.isExecutableFile(atPath: scriptPath), "\(script)")
    }

    // MARK: - log streams

    /// `log --format ndjson` used to collect every entry before printing: its peak memory
    /// grew with the log (236 MB at 184 k events). Streamed, it stays near that of `status`.
    @Test func logNDJSONStreamsWithFlatMemory() throws {
        let s = try Scratch()
        let region = s.file("region.ndjson")
        let gen = try trellis(["generate", "--networks", "4", "--orgs", "200", "--years", "4", "--events", "40000"])
        #expect(gen.status == 0)
        try gen.out.write(toFile: region, atomically: true, encoding: .utf8)
        #expect(try trellis(["import", "--db", s.path, region]).status == 0)

        func peakKB(_ args: [String]) throws -> Int {
            let r = try runProcess("/bin/sh", ["-c", #"exec /usr/bin/time -f "peak %M" "$@" >/dev/null"#, "sh"] + (try TestStore.commandWords(args)))
            let e = r.stderr
            #expect(r.status == 0, "\(e)")
            let line = e.split(separator: "\n").last { $0.hasPrefix("peak ") } ?? ""
            return Int(line.dropFirst(5)) ?? Int.max
        }
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "needs GNU time")
        // On PostgreSQL (TestStore) the first read catches the local cache up (in bounded chunks of
        // 50,000 events): done here first, so that what is measured is the log's streaming alone.
        #expect(try trellis(["log", "--db", s.path, "--format", "ndjson"]).status == 0)
        let baseline = try peakKB(["status", "--db", s.path])
        let log = try peakKB(["log", "--db", s.path, "--format", "ndjson"])
        #expect(log - baseline < 16_000, "log --format ndjson peaked at \(log) KB, status at \(baseline) KB")
    }
}

/// The library halves of the above: dates and organisation names as people type them.
@Suite struct TypedInputTests {
    @Test func dayTextAcceptsISOAndUKFormsOnly() {
        #expect(DayText.parse("2025-07-31") == Timestamp.parseDate("2025-07-31"))
        #expect(DayText.parse("31/07/2025") == Timestamp.parseDate("2025-07-31"))
        #expect(DayText.parse("3/4/2026") == Timestamp.parseDate("2026-04-03"), "UK: day first")
        #expect(DayText.parse("29/02/2024") == Timestamp.parseDate("2024-02-29"))
        for bad in ["29/02/2025", "31/04/2025", "00/01/2025", "1/13/2025", "01/01/25", "1/1/+202", "2025/07/31", "", "//"] {
            #expect(DayText.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func organisationMatcherMatchesIDsNamesAndSuggests() {
        let m = OrganisationMatcher([
            .init(id: "org0001", name: "St. Mary's C of E Trust"), .init(id: "org0002", name: "Oak Learning Trust"),
            .init(id: "org0003", name: "Oakwood Trust"), .init(id: "org0004", name: "St Marys C of E Trust"),
            .init(id: "org0005", name: "Birch Academies"),
        ])
        #expect(m.match("org0002") == .found("org0002"))
        #expect(m.match("ORG0002") == .found("org0002"))
        #expect(m.match("oak   learning-trust") == .found("org0002"))
        #expect(m.match("st marys c of e trust") == .ambiguous([.init(id: "org0001", name: "St. Mary's C of E Trust"), .init(id: "org0004", name: "St Marys C of E Trust")]))
        guard case .unknown(let closest) = m.match("Oak Lerning Trust") else { Issue.record("expected unknown"); return }
        #expect(closest.first?.id == "org0002")
        guard case .unknown(let prefixed) = m.match("Birch") else { Issue.record("expected unknown"); return }
        #expect(prefixed.first?.id == "org0005", "a name that starts with the text comes first")
        #expect(OrganisationMatcher.editDistance("kitten", "sitting") == 3)
        #expect(OrganisationMatcher.key("St. Mary's  C of E") == "stmaryscofe")
    }
}
