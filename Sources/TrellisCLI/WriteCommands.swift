import ArgumentParser
import TrellisLedger

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty ledger.",
        discussion: "Example: trellis init --db north-pennines.db")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var postgres: PostgresInitOptions

    func run() throws {
        if PostgresCLI.isURL(ledger.path) { try PostgresCLI.initLedger(url: ledger.path, options: postgres); return }
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
        if PostgresCLI.isURL(ledger.path) { try PostgresCLI.importFiles(url: ledger.path, readers: readers, format: format); return }
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
        try printOutcome(outcome, format: format, ledger: l.path)
    }
}

/// Prints what a batch did; then warns about a head ahead of the clock, and exits 75 when an
/// erasure in the batch left a copy of a key behind (the batch itself is committed).
func printOutcome(_ o: AppendOutcome, format: OutputFormat, ledger: String, sentence: String? = nil) throws {
    if format == .json {
        var fields: [(String, JSONValue)] = [
            ("appended", .int(Int64(o.appended))), ("skipped", .int(Int64(o.skipped))),
            ("head_seq", .int(o.head.seq)), ("head_hash", .string(o.head.hashHex)),
        ]
        // Only when there are such lines: the keys above are CLI.md's contract.
        if o.notComparedErased > 0 { fields.append(("not_compared_erased", .int(Int64(o.notComparedErased)))) }
        if o.erasureResidue != nil { fields.append(("erasure_complete", .bool(false))) }
        Console.out(JSONValue.object(JSONObject(fields)).rendered())
    } else if let sentence {
        Console.out(sentence)
    } else {
        let erased = o.notComparedErased > 0 ? ", \(o.notComparedErased) could not be compared (person erased)" : ""
        Console.out("appended \(o.appended), skipped \(o.skipped) (already recorded)\(erased)")
    }
    if o.notComparedErased > 0, format != .json {
        Console.err("trellis: \(o.notComparedErased) PersonRegistered line\(o.notComparedErased == 1 ? " matches" : "s match") an erased person's event in everything but the name and e-mail, which can no longer be compared (the key is destroyed): whether they differ is unknown; nothing was appended for them")
    }
    if let ahead = o.headAheadOfClock {
        Console.err("trellis: warning: the ledger's head was recorded at \(ahead), ahead of this machine's clock; recorded_at never goes backwards, so these events were recorded at \(o.head.recordedAt ?? ahead) too. Check the clock, and how an event from the future got into the ledger")
    }
    if let residue = o.erasureResidue {
        Console.err("trellis: the erasure is recorded (PersonErased is committed, head seq \(o.head.seq)), but not complete: \(residue)")
        Console.err(residue.foreignTriggers.isEmpty
            ? "trellis: when that process has finished, run: trellis erase --finish --db \(ledger)"
            : "trellis: then run: trellis erase --finish --db \(ledger)")
        throw ExitCode(75)
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
        try printOutcome(outcome, format: format, ledger: l.path)
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
        try printOutcome(outcome, format: format, ledger: l.path)
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
            Appends PersonErased and destroys the person's encryption key. The
            sealed name and e-mail stay in the log (so every hash still verifies)
            but can never be read again: every output shows the person as
            (erased). This cannot be undone. A person whose registration was
            retracted can (and should) still be erased.

            The old page holding the key stays on disk until SQLite checkpoints
            its WAL, which cannot happen while another process reads the ledger.
            Then erase exits 75: the erasure is recorded, and 'trellis erase
            --finish' completes it once that reader is gone.

            Examples:
              trellis erase p-jane --reason "right to erasure request 2026-04"
              trellis erase --finish
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The person id.", valueName: "person-id"))
    var personID: String?

    @Option(help: "Why (kept in the log; do not put personal data here).")
    var reason: String?

    @Flag(help: "Complete earlier erasures: checkpoint and truncate the WAL so that no copy of a destroyed key remains.")
    var finish = false

    @Option(help: "Who is recording the erasure.")
    var actor: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if finish {
            if personID != nil || reason != nil { throw ValidationError("--finish takes no person id or --reason: it completes earlier erasures") }
        } else {
            if personID == nil { throw ValidationError("name the person to erase (or give --finish)") }
            if reason == nil { throw ValidationError("give --reason (kept in the log; no personal data)") }
        }
    }

    func run() throws {
        let l = try ledger.open()
        if finish {
            let residue = l.finishErasure()
            if let residue {
                Console.err("trellis: the erasure is still not complete: \(residue)"
                            + (residue.foreignTriggers.isEmpty ? "; try again when no other process has the ledger open" : ""))
                throw ExitCode(75)
            }
            if format == .json {
                Console.out(JSONValue.object(JSONObject([("erasure_complete", .bool(true))])).rendered())
            } else {
                Console.out("erasure complete: the WAL is checkpointed and truncated; no earlier copy of a destroyed key remains in \(l.path) or its -wal")
            }
            return
        }
        guard let personID, let reason else { throw Failure.usage("name the person to erase and give --reason (or --finish)") }
        let outcome = try appendNow(.personErased, ["person_id": personID, "reason": reason], actor: actor, to: l)
        try printOutcome(outcome, format: format, ledger: l.path, sentence: outcome.erasureResidue == nil
            ? "erased \(personID): key destroyed, no copy left in the database or its WAL; the log still verifies (head seq \(outcome.head.seq))"
            : "erased \(personID): PersonErased recorded at seq \(outcome.head.seq), key row deleted")
    }
}
