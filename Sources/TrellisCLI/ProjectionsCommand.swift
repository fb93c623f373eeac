import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisCore

/// `--projection FILE.sql`, and opening the engine over a ledger.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("projection"), help: ArgumentHelp("A projection definition of your own (repeatable); see projections/README.md.", valueName: "file.sql"))
    var files: [String] = []

    func engine(_ ledger: Ledger) throws -> ProjectionEngine {
        try Failure.guarded {
            let extra = try files.map { path -> ProjectionDefinition in
                let reader = try LineReader(path: path)
                var text = ""
                try reader.forEachLine { line, _, _ in text += String(decoding: line, as: UTF8.self) + "\n"; return true }
                reader.close()
                return try ProjectionDefinition.parse(text, source: path)
            }
            return try ProjectionEngine(ledger: ledger, extra: extra)
        }
    }
}

struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "The read models rebuilt from the log: list, status, rebuild, digest.",
        discussion: """
            Every figure Trellis reports is computed from read models defined in SQL under
            projections/ (how each figure is derived is written there). They are kept
            current automatically; these commands show and check them.
            """,
        subcommands: [List.self, Status.self, Rebuild.self, Digest.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name, definition digest, checkpoint seq and rows of each read model.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() throws { try showStatus(ledger: ledger, projections: projections, format: format, detailed: false) }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether each read model is current, behind the log, or built by an older definition.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() throws { try showStatus(ledger: ledger, projections: projections, format: format, detailed: true) }
    }

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild read models from seq 1 (all, or the ones named).",
            discussion: "Readers see the previous tables until the rebuilt ones are swapped in, in one transaction.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Argument(help: "Projection names (default: all).") var names: [String] = []

        func run() throws {
            let l = try ledger.open()
            let engine = try projections.engine(l)
            let bar = ProgressBar("rebuilding")
            let started = Timestamp.monotonic()
            try Failure.guarded { try engine.rebuild(names) { bar.update($0, of: $1, unit: "events") } }
            bar.finish()
            let head = try Failure.guarded { try l.head() }
            Console.out("rebuilt \(names.isEmpty ? engine.definitions.map(\.name).joined(separator: ", ") : names.joined(separator: ", ")) at seq \(head.seq) in \(String(format2(Timestamp.monotonic() - started))) s")
        }
    }

    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SHA-256 of each read model's canonical dump, to compare read models across machines.",
            discussion: """
                Rebuild and catch-up give the same digest. With --known-at or --as-of the read
                models are built for that moment in a temporary database.
                Example: trellis projections digest --known-at 2026-07-31 --format json
                """)
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @OptionGroup var time: TimeTravelOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func validate() throws {
            if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
        }

        func run() throws {
            let l = try ledger.open()
            let engine = try projections.engine(l)
            let bar = ProgressBar(time.isSet ? "building the read models for that moment" : "catching up the read models")
            let digests: [ProjectionEngine.Digest] = try Failure.guarded {
                defer { bar.finish() }
                if time.isSet {
                    let snapshot = try engine.snapshot(knownAt: time.knownAt?.text, asOf: time.asOf?.text) { bar.update($0, of: $1, unit: "events") }
                    return try engine.digests(of: snapshot)
                }
                try engine.catchUp { bar.update($0, of: $1, unit: "events") }
                return try Ticker.run("computing the digests") { try engine.digests() }
            }
            if format == .json {
                Console.out(JSONValue.object(JSONObject([
                    ("head_seq", .int(digests.first?.headSeq ?? 0)),
                    ("known_at", .optional(time.knownAt?.text)), ("as_of", .optional(time.asOf?.text)),
                    ("projections", .array(digests.map { d in
                        .object(JSONObject([("name", .string(d.name)), ("digest", .string(d.digest)), ("rows", .int(d.rows)), ("head_seq", .int(d.headSeq))]))
                    })),
                ])).rendered(pretty: true))
            } else {
                var t = TextTable(headers: ["projection", "rows", "digest (SHA-256)"])
                t.rightAligned = [1]
                for d in digests { t.rows.append([d.name, String(d.rows), d.digest]) }
                Console.out(t.render() + "\n\nat seq \(digests.first?.headSeq ?? 0)")
            }
        }
    }
}

/// `--known-at` and `--as-of`, for every command that reads figures.
struct TimeTravelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("What the ledger knew at T: only events recorded by then (a date means 00:00Z).", valueName: "T"), transform: InstantArgument.parse)
    var knownAt: InstantArgument?
    @Option(help: ArgumentHelp("The world as it was at T, as we know it now: only events that occurred by then.", valueName: "T"), transform: InstantArgument.parse)
    var asOf: InstantArgument?

    var isSet: Bool { knownAt != nil || asOf != nil }
}

/// A UTC date or date-time on the command line.
struct InstantArgument: ExpressibleByArgument {
    var text: String
    init?(argument: String) {
        let text = DayText.iso(argument) ?? argument  // DD/MM/YYYY as YYYY-MM-DD
        guard Timestamp.micros(text) != nil else { return nil }
        self.text = text
    }
    static var defaultValueDescription: String { "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ" }

    /// For `@Option(transform:)`: a refusal that names the accepted forms.
    @Sendable static func parse(_ argument: String) throws -> InstantArgument {
        guard let t = InstantArgument(argument: argument) else {
            throw ValidationError("not a moment; use YYYY-MM-DD, DD/MM/YYYY (00:00Z) or YYYY-MM-DDTHH:MM:SSZ")
        }
        return t
    }
}

func format2(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }

private func showStatus(ledger: LedgerOptions, projections: ProjectionOptions, format: OutputFormat, detailed: Bool) throws {
    let l = try ledger.open()
    let engine = try projections.engine(l)
    let status = try Failure.guarded { try engine.status() }
    func state(_ s: ProjectionStatus) -> String {
        guard let cp = s.checkpointSeq else { return "never built" }
        if s.builtWith != s.definitionDigest { return "definition changed: rebuilt on next use" }
        if cp < s.headSeq { return "\(s.headSeq - cp) events behind: caught up on next use" }
        return "current"
    }
    if format == .json {
        Console.out(JSONValue.array(status.map { s in
            .object(JSONObject([
                ("name", .string(s.name)), ("source", .string(s.source)), ("definition_digest", .string(s.definitionDigest)),
                ("checkpoint_seq", s.checkpointSeq.map(JSONValue.int) ?? .null), ("rows", .int(s.rows)),
                ("head_seq", .int(s.headSeq)), ("state", .string(state(s))),
            ]))
        }).rendered(pretty: true))
        return
    }
    var t = TextTable(headers: detailed ? ["projection", "checkpoint", "rows", "state"] : ["projection", "definition", "checkpoint", "rows"])
    t.rightAligned = detailed ? [1, 2] : [2, 3]
    for s in status {
        let cp = s.checkpointSeq.map(String.init) ?? "–"
        t.rows.append(detailed ? [s.name, cp, String(s.rows), state(s)] : [s.name, String(s.definitionDigest.prefix(12)), cp, String(s.rows)])
    }
    Console.out(t.render())
}
