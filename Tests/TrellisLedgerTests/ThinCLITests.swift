import Foundation
import Testing
import TrellisLedger

/// The thin CLI (issue 12): each command's --format takes only what it writes, ranges are
/// refused by validate() before the ledger is touched, and library errors reach the user
/// through one mapping with their own exit codes and messages.
@Suite struct ThinCLITests {
    func fixture() throws -> ScratchDir {
        let dir = try ScratchDir("thin-cli")
        let file = try dir.write("fixture.ndjson", Fixture.ndjson)
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 0, "\(r)")
        return dir
    }

    func headSeq(_ db: String) throws -> Int {
        let r = try runTrellis(["status", "--db", db, "--format", "json"])
        return try parseJSONObject(r.stdout)["head_seq"] as? Int ?? -1
    }

    func firstEventID(_ db: String) throws -> String {
        let r = try runTrellis(["log", "--db", db, "--format", "ndjson", "--limit", "1"])
        return try parseJSONObject(r.stdout)["id"] as? String ?? ""
    }

    @Test func retractWithAFormatItCannotWriteIsAUsageErrorAndAppendsNothing() throws {
        let dir = try fixture()
        defer { dir.remove() }
        let before = try headSeq(dir.ledgerPath)
        let id = try firstEventID(dir.ledgerPath)
        let r = try runTrellis(["retract", id, "--reason", "wrong meeting", "--format", "csv", "--db", dir.ledgerPath])
        #expect(r.status == 64, "\(r)")
        #expect(r.stdout.isEmpty, "\(r)")
        #expect(r.stderr.contains("'csv' is invalid for '--format"), "\(r)")
        #expect(try headSeq(dir.ledgerPath) == before, "a refused command must not retract")
    }

    @Test(arguments: [
        ["projections", "list", "--format", "html"],
        ["projections", "status", "--format", "csv"],
        ["projections", "digest", "--format", "md"],
        ["status", "--format", "ndjson"],
        ["log", "--format", "json"],
        ["import", "x.ndjson", "--format", "csv"],
        ["append", "{}", "--format", "md"],
        ["erase", "--finish", "--format", "html"],
        ["export", "--out", "x.lz4", "--format", "csv"],
        ["audit", "oak", "--format", "csv"],
        ["orgs", "--format", "md"],
        ["register", "import", "x.csv", "--network", "n", "--format", "csv"],
        ["roster", "import", "x.csv", "--network", "n", "--format", "xlsx"],
        ["report", "participation", "--format", "html"],
        ["report", "coverage", "--format", "graphml"],
        ["report", "outcomes", "--format", "dot"],
        ["report", "documents", "--format", "gexf"],
        ["report", "summary", "--format", "pajek"],
        ["report", "graph", "--format", "html"],
    ])
    func aFormatACommandCannotWriteIsRefusedBeforeAnythingRuns(_ command: [String]) throws {
        let dir = try fixture()
        defer { dir.remove() }
        let r = try runTrellis(command + ["--db", dir.ledgerPath], cwd: dir.url)
        #expect(r.status == 64, "\(command): \(r)")
        #expect(r.stdout.isEmpty, "\(command): \(r)")
        #expect(r.stderr.contains("is invalid for '--format"), "\(command): \(r)")
    }

    @Test func helpListsOnlyTheFormatsTheCommandWrites() throws {
        let cases: [([String], String)] = [
            (["retract"], "(values: table, json;"),
            (["projections", "list"], "(values: table, json;"),
            (["log"], "(values: table, ndjson)"),
            (["audit"], "(values: table, json, md, xlsx)"),
            (["orgs"], "(values: table, json, csv, xlsx)"),
            (["report", "participation"], "(values: table, json, csv, md, xlsx)"),
            (["report", "summary"], "(values: html, table, json, md, csv, xlsx)"),
        ]
        for (command, values) in cases {
            let r = try runTrellis(command + ["--help"])
            #expect(r.status == 0, "\(command): \(r)")
            // The help text wraps; compare without line breaks and indentation.
            let flat = r.stdout.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            #expect(flat.contains(values), "\(command): \(r.stdout)")
        }
        let report = try runTrellis(["report", "participation", "--help"])
        #expect(!report.stdout.contains("graphml"), "\(report.stdout)")
    }

    /// validate() runs before the ledger is opened: a bad range is a usage error even when the
    /// ledger does not exist (the old run()-time checks answered 66, "no ledger").
    @Test(arguments: [
        (["proof", "inclusion", "0"], "seq must be at least 1"),
        (["proof", "inclusion", "5", "--size", "3"], "seq 5 is not in a tree of 3 events"),
        (["proof", "root", "--size=-1"], "--size must be at least 0"),
        (["proof", "consistency", "0"], "no consistency proof from size 0"),
        (["proof", "consistency", "5", "3"], "the old size must be from 1 to the new size (3), got 5"),
        (["log", "--since-seq=-1"], "--since-seq must be at least 0"),
    ])
    func rangesAreRefusedBeforeTheLedgerIsOpened(_ command: [String], _ message: String) throws {
        let dir = try ScratchDir("thin-cli")
        defer { dir.remove() }
        let r = try runTrellis(command + ["--db", dir.file("nowhere.db")])
        #expect(r.status == 64, "\(command): \(r)")
        #expect(r.stderr.contains(message), "\(command): \(r)")
    }

    @Test func helpAndVersionStillExitZero() throws {
        for command in [["log", "--help"], ["help", "report", "graph"], ["--version"], ["--help"]] {
            let r = try runTrellis(command)
            #expect(r.status == 0, "\(command): \(r)")
            #expect(!r.stderr.contains("internal error"), "\(command): \(r)")
            #expect(!r.stdout.isEmpty, "\(command): \(r)")
        }
    }

    /// Every library error type reaches the user through one mapping: its own exit code and
    /// message, prefixed `trellis: `, never "internal error".
    @Test func libraryErrorsKeepTheirExitCodesAndMessages() throws {
        let dir = try fixture()
        defer { dir.remove() }
        let db = dir.ledgerPath
        let bad = try dir.write("bad.ndjson", "{\"type\":\"MemberJoined\"\n")
        let badDefinition = try dir.write("bad.sql", "this is not a projection\n")
        let badCheckpoint = try dir.write("cp.txt", "not a checkpoint\n")
        let cases: [([String], Int32, String)] = [
            (["import", bad, "--db", db], 65, "trellis: nothing was appended (1 error)"),
            (["status", "--db", dir.file("nowhere.db")], 66, "trellis: no ledger at"),
            (["import", dir.file("missing.ndjson"), "--db", db], 66, "trellis: no such file"),
            (["projections", "list", "--projection", badDefinition, "--db", db], 65, "trellis: projection definition: "),
            (["projections", "rebuild", "no_such_model", "--db", db], 64, "trellis: no projection named no_such_model"),
            (["report", "participation", "--network", "nowhere", "--db", db], 64, "trellis: no network nowhere"),
            (["verify", "--checkpoint", badCheckpoint, "--db", db], 65, "not a checkpoint"),
            (["export", "--out", dir.file("k.lz4"), "--pseudonymise", "--key", dir.file("nokey"), "--db", db], 66, "trellis: no key file at"),
            (["register", "import", dir.file("none.csv"), "--network", "n", "--db", db], 66, "none.csv: no such file"),
        ]
        for (command, code, message) in cases {
            let r = try runTrellis(command)
            #expect(r.status == code, "\(command): \(r)")
            #expect(r.stderr.contains(message), "\(command): \(r)")
            #expect(!r.stderr.contains("internal error"), "\(command): \(r)")
        }
    }

    /// `trellis log` in a table shows person names (decrypted: PersonNames, now in the library),
    /// and "(erased)" once the person is erased.
    @Test func logTableShowsNamesUntilThePersonIsErased() throws {
        let dir = try fixture()
        defer { dir.remove() }
        let people = try runTrellis(["log", "--type", "PersonRegistered", "--format", "ndjson", "--db", dir.ledgerPath])
        let first = try #require(people.stdoutLines.first)
        let person = try #require((try parseJSONObject(first)["data"] as? [String: Any])?["person_id"] as? String)
        let shown = try runTrellis(["log", "--type", "PersonRegistered", "--format", "table", "--db", dir.ledgerPath])
        #expect(shown.status == 0, "\(shown)")
        #expect(!shown.stdout.contains("(erased)"), "\(shown)")
        let erased = try runTrellis(["erase", person, "--reason", "request", "--db", dir.ledgerPath])
        #expect(erased.status == 0, "\(erased)")
        let after = try runTrellis(["log", "--type", "PersonRegistered", "--format", "table", "--db", dir.ledgerPath])
        #expect(after.stdout.contains("(erased)"), "\(after)")
    }
}
