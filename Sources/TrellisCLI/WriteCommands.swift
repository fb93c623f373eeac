import ArgumentParser
import TrellisLedger

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty ledger.",
        discussion: "Example: trellis init --db north-pennines.db")

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let existed = Ledger.exists(at: ledger.path)
        let l = try ledger.open(create: true)
        let head = try Failure.guarded { try l.head() }
        Console.out(existed ? "ledger \(l.path) already exists: \(head.seq) events, head \(head.hashHex)"
                            : "created empty ledger \(l.path)")
    }
}

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

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file to import (or - for standard input)") }
        if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let readers = try Failure.guarded { try files.map { try LineReader(path: $0) } }
        defer { readers.forEach { $0.close() } }
        // An archive from 'trellis export' (LZ4 frame magic) keeps its seq, recorded_at and hash.
        if try ArchiveCommands.importIfArchive(readers, ledger: ledger, format: format) { return }
        for r in readers where r.size == 0 {
            Console.err("trellis: \(r.name) is empty: there is nothing to import")
            throw ExitCode(65)
        }
        let l = try ledger.open(create: true)
        let total = readers.compactMap(\.size).reduce(0, +)
        let bar = ProgressBar("importing")
        let outcome = try Failure.guarded {
            try l.append { visit in
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
        }
        bar.finish()
        printOutcome(outcome, format: format)
    }
}

func printOutcome(_ o: AppendOutcome, format: OutputFormat) {
    if format == .json {
        Console.out(JSONValue.object(JSONObject([
            ("appended", .int(Int64(o.appended))), ("skipped", .int(Int64(o.skipped))),
            ("head_seq", .int(o.head.seq)), ("head_hash", .string(o.head.hashHex)),
        ])).rendered())
    } else {
        Console.out("appended \(o.appended), skipped \(o.skipped) (already recorded)")
    }
}

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, given as JSON or on standard input.",
        discussion: """
            Example:
              trellis append '{"type":"MemberJoined","occurred_at":"2026-01-15","data":{"network_id":"npn","org_id":"oak-trust"}}'
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The event envelope as JSON (default: read from standard input).", valueName: "json"))
    var json: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func run() throws {
        let text: String
        if let json { text = json } else {
            // Through the line reader: a line longer than 1 MiB is refused after its first
            // MiB instead of being read whole, and reading stops at a second line.
            var lines: [String] = []
            try Failure.guarded {
                let reader = try LineReader(path: "-")
                try reader.forEachLine { line, _, _ in
                    let l = String(decoding: line, as: UTF8.self).trimmingWhitespace()
                    if !l.isEmpty { lines.append(l) }
                    return lines.count < 2
                }
            }
            text = lines.joined(separator: "\n")
        }
        if text.isEmpty { throw Failure.usage("give the event as an argument or on standard input") }
        if text.contains("\n") {
            Console.err("trellis: append takes one event on one line; use 'trellis import' for several")
            throw ExitCode(65)
        }
        let l = try ledger.open(create: true)
        let outcome = try Failure.guarded { try l.append(json: text) }
        printOutcome(outcome, format: format)
    }
}

struct RetractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Retract an event: every figure then ignores it; the log keeps both.",
        discussion: """
            The usual correction is to retract the wrong event, then append the right one.
            Example: trellis retract reg-2026-03-12-ht --reason "recorded against the wrong meeting"
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The id of the event to retract.", valueName: "event-id"))
    var eventID: String

    @Option(help: "Why it is retracted (kept in the log).")
    var reason: String

    @Option(help: "Who is recording the retraction.")
    var actor: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func run() throws {
        let l = try ledger.open()
        let outcome = try appendNow(.eventRetracted, ["event_id": eventID, "reason": reason], actor: actor, to: l)
        printOutcome(outcome, format: format)
    }
}

/// Appends an event that happens now (a retraction, an erasure), through the same rules as any import.
func appendNow(_ type: EventType, _ fields: KeyValuePairs<String, String>, actor: String?, to ledger: Ledger) throws -> AppendOutcome {
    var env = JSONObject()
    env["type"] = .string(type.rawValue)
    env["occurred_at"] = .string(Timestamp.recordedText(micros: Timestamp.nowMicros()).prefix(19) + "Z")
    if let actor { env["actor"] = .string(actor) }
    env["data"] = .object(JSONObject(fields.map { ($0.key, JSONValue.string($0.value)) }))
    return try Failure.guarded { try ledger.append(json: JSONValue.object(env).rendered()) }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let a = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let b = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[a...b])
    }
}

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person's personal data (name, e-mail) for good, keeping the log verifiable.",
        discussion: """
            Appends PersonErased and destroys the person's encryption key. The sealed name and
            e-mail stay in the log (so every hash still verifies) but can never be read again:
            every output shows the person as (erased). This cannot be undone.
            Example: trellis erase p-jane --reason "right to erasure request 2026-04"
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The person id.", valueName: "person-id"))
    var personID: String

    @Option(help: "Why (kept in the log; do not put personal data here).")
    var reason: String

    @Option(help: "Who is recording the erasure.")
    var actor: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func run() throws {
        let l = try ledger.open()
        let outcome = try appendNow(.personErased, ["person_id": personID, "reason": reason], actor: actor, to: l)
        if format == .json {
            printOutcome(outcome, format: format)
        } else {
            Console.out("erased \(personID): key destroyed; the log still verifies (head seq \(outcome.head.seq))")
        }
    }
}
