import ArgumentParser
import TrellisLedger

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append the events of NDJSON files, all or nothing.",
        discussion: """
            Each line is one event envelope (see schemas/envelope.schema.json):
              {"id":"reg-2026-03-12-ht","type":"AttendanceRecorded","occurred_at":"2026-03-12",
               "data":{"meeting_id":"m-2026-03","org_id":"oak-trust","status":"present"}}
            Every rule is checked in log order. If any line is invalid, nothing is appended and
            every error (up to 100) is printed with its line number; the exit code is 65.
            Re-importing the same file is safe: events with a known id and the same content
            are skipped.

            Examples:
              trellis import register-autumn.ndjson
              trellis generate --seed 7 | trellis import -
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("NDJSON files to import; - reads standard input.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("With an archive: the ledger it was exported from (a file or postgresql:// URL), whose persons' keys are carried over, so that names still show after a move. Archives never carry keys.", valueName: "ledger"))
    var keysFrom: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: TableOrJSON = .table

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file to import (or - for standard input)") }
    }

    func run() throws {
        let readers = try files.map { try LineReader(path: $0) }
        defer { readers.forEach { $0.close() } }
        // An archive from 'trellis export' (LZ4 frame magic) keeps its seq, recorded_at and hash.
        if try ArchiveCommands.importIfArchive(readers, ledger: ledger, keysFrom: keysFrom, format: format) { return }
        if keysFrom != nil { throw CommandFailure.usage("--keys-from goes with an archive (a file written by trellis export), not NDJSON") }
        for r in readers where r.size == 0 {
            throw CommandFailure.badInput("\(r.name) is empty: there is nothing to import")
        }
        let l = try ledger.openStore(create: true)
        let total = readers.compactMap(\.size).reduce(0, +)
        let bar = ProgressBar("importing")
        let outcome = try l.append { visit in
            var before: Int64 = 0
            for r in readers {
                let name = readers.count > 1 ? r.name : nil
                try r.forEachLine { line, number, read in
                    if number & 0x3FFF == 0 { bar.update(before + read, of: total > 0 ? total : nil, unit: "bytes") }
                    return try visit(line, number, name)
                }
                before += r.size ?? 0
            }
        }
        bar.finish()
        try printOutcome(outcome, format: format, ledger: l.location)
    }
}
