import ArgumentParser
import TrellisLedger
import enum TrellisReports.XLSXReports

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "How many events the ledger holds, its head hash and the period it covers.")

    @OptionGroup var ledger: LedgerOptions

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let l = try ledger.open()
        let s = try Failure.guarded { try l.status() }
        if format == .json {
            Console.out(JSONValue.object(JSONObject([
                ("events", .int(s.events)), ("head_seq", .int(s.head.seq)), ("head_hash", .string(s.head.hashHex)),
                ("first_occurred_at", .optional(s.firstOccurredAt)), ("last_occurred_at", .optional(s.lastOccurredAt)),
                ("file_bytes", .int(s.fileBytes)),
            ])).rendered(pretty: true))
        } else {
            Console.out("""
                ledger     \(l.path)
                events     \(s.events)
                head       seq \(s.head.seq), \(s.head.hashHex)
                occurred   \(s.firstOccurredAt.map { String($0.prefix(10)) } ?? "–") to \(s.lastOccurredAt.map { String($0.prefix(10)) } ?? "–")
                file       \(s.fileBytes) bytes
                """)
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and every piece of derived state: exit 0 if all agree with the log, 1 naming what differs.",
        discussion: """
            Publish the head hash it prints (in a board paper, say): anyone can later check that the log still leads to it. \
            Besides the chain, the log is replayed into a scratch file in $TMPDIR (every event re-checked against the append \
            rules) and the rule tables, retractions, person keys, triggers, checkpoints and read models are compared with \
            what it implies. --chain-only does the quick check: the chain and the triggers.
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("Check an archive written by 'trellis export' instead of the ledger.", valueName: "file"))
    var archive: String?

    @OptionGroup var anchor: CheckpointOptions

    @Flag(help: "Only the hash chain and the append-only triggers (quick): not the derived state.")
    var chainOnly = false

    @OptionGroup var projections: ProjectionOptions

    func run() throws {
        let anchor = try self.anchor.load()
        if let archive { try ArchiveCommands.verify(path: archive); try anchor?.verify(archive: archive, ledger: ledger); return }
        if PostgresCLI.isURL(ledger.path), anchor == nil { try PostgresCLI.verifyChain(url: ledger.path, chainOnly: chainOnly); return }
        let l = try ledger.open()
        let bar = ProgressBar("verifying")
        let report = try Failure.guarded { try l.verify { done, total in bar.update(done, of: total, unit: "events") } }
        bar.finish()
        for w in report.warnings { Console.err("warning: \(w)") }
        if let broken = report.broken {
            Console.out("broken at seq \(broken.seq): \(broken.why)")
            throw ExitCode(1)
        }
        if !report.warnings.isEmpty {
            Console.out("broken: the ledger's schema is not the one Trellis creates (\(report.events) events chain correctly, head \(Hex.encode(report.head)))")
            throw ExitCode(1)
        }
        // Every check runs, so one verify names every problem; any failure is exit 1.
        var derivedDiffers = false
        if chainOnly {
            Console.out("ok: \(report.events) events, head \(Hex.encode(report.head))")
        } else {
            do { try DerivedStateCheck.run(l, chain: report, engine: projections.engine(l)) } catch let e as ExitCode where e == ExitCode(1) {
                derivedDiffers = true
            }
        }
        try anchor?.verify(archive: nil, ledger: ledger)
        if derivedDiffers { throw ExitCode(1) }
    }
}

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List events, oldest first, with filters.",
        discussion: """
            --format ndjson prints each event exactly as the chain records it (personal fields
            sealed), with seq, recorded_at and hash: one verifiable line per event.
            Examples:
              trellis log --type AttendanceRecorded --org oak-trust --from 2025-09-01 --to 2026-09-01
              trellis log --since-seq 1200 --format ndjson
            """)

    @OptionGroup var ledger: LedgerOptions
    @Option(help: "Only events of this type (repeatable).") var type: [String] = []
    @Option(help: "Only events that name this organisation.") var org: String?
    @Option(help: "Only events of this network (its meetings, documents, reviews, members).") var network: String?
    @Option(help: "Only events that occurred on or after this date.", transform: DateArgument.parse) var from: DateArgument?
    @Option(help: "Only events that occurred before this date.", transform: DateArgument.parse) var to: DateArgument?
    @Option(help: "Only events after this seq.") var sinceSeq: Int64 = 0
    @Option(help: "At most this many events.") var limit: Int?
    @Option(help: "table or ndjson (default: table on a terminal, ndjson in a pipe).") var format: OutputFormat?

    func validate() throws {
        for t in type where EventType(rawValue: t) == nil {
            throw ValidationError("unknown event type \(t); one of " + EventType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
        if let format, ![.table, .ndjson].contains(format) { throw ValidationError("--format must be table or ndjson") }
        if let limit, limit < 0 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        let l = try ledger.open()
        var filter = LogFilter()
        filter.types = Set(type)
        filter.org = org
        filter.network = network
        filter.fromDay = from?.days
        filter.toDay = to?.days
        filter.sinceSeq = sinceSeq
        filter.limit = limit
        var sink = Sink(fd: 1)
        if (format ?? (Console.stdoutIsTTY ? .table : .ndjson)) == .ndjson {
            // Streamed: memory stays flat whatever the number of events.
            try Failure.guarded { try l.log(filter) { e in sink.write(bytes: CanonicalEnvelope.bytes(e.event, withHash: true)); sink.write("\n") } }
        } else {
            let entries = try Failure.guarded { try l.log(filter) }
            let names = try Failure.guarded { try PersonNames(ledger: l) }
            var table = TextTable(headers: ["seq", "occurred", "type", "what"])
            table.rightAligned = [0]
            for e in entries {
                var what = EventSummary.line(type: e.event.type, data: e.data, names: names.lookup)
                if let by = e.retractedBy { what = "[retracted by \(by)] " + what }
                table.rows.append([String(e.event.seq), String(e.event.occurredAt.prefix(10)), e.event.type, what.clipped(100)])
            }
            sink.line(table.render())
            if entries.isEmpty { sink.line("(no events)") }
        }
        sink.flush()
    }
}

/// Person names for display: decrypted while the key exists, "(erased)" after.
struct PersonNames {
    private var names: [String: String] = [:]
    private let keys: [String: [UInt8]]

    init(ledger: Ledger) throws {
        keys = try ledger.personKeys()
        try ledger.scan { e in
            if e.type == EventType.personRegistered.rawValue, let data = (try? JSONParser.parse(e.data))?.object,
               let person = data.string("person_id") {
                let open = PersonalData.opening(data, of: .personRegistered, key: keys[person])
                names[person] = open.string("name")
            }
            return true
        }
    }

    func lookup(_ person: String) -> String? { names[person] }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "An organisation's engagement timeline: every event about it, in the order things happened.",
        discussion: """
            Lists every event that names the organisation, the follow-ups of its reviews and
            documents, and retractions of any of these, with seq, recorded_at and actor.
            The organisation is given by id or by name ("St Mary's" = "st marys"); an unknown
            or ambiguous one exits 64 and lists the closest names with their ids.
            Example: trellis audit oak-trust --from 2025-09-01 --format md > oak-trust.md
            --format xlsx --out FILE.xlsx writes a workbook: an About sheet (organisation,
            period, log position, head hash), then the timeline with real dates.
            """)

    @OptionGroup var ledger: LedgerOptions
    @Argument(help: ArgumentHelp("The organisation: its id, or its name (case, spaces and punctuation ignored).", valueName: "org"))
    var org: String
    @Option(help: "From this date (inclusive).", transform: DateArgument.parse) var from: DateArgument?
    @Option(help: "To this date (exclusive).", transform: DateArgument.parse) var to: DateArgument?
    @Option(help: "table, json, md or xlsx (default: from --out's extension, else table).") var format: OutputFormat?
    @Option(help: ArgumentHelp("Write to this file instead of standard output (xlsx needs it).", valueName: "file")) var out: String?

    /// Explicit, else from --out's extension (.xlsx, .json, .md, .txt), else table.
    var chosenFormat: OutputFormat { Output.format(format, out: out) }

    func validate() throws {
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
        if ![.table, .json, .md, .xlsx].contains(chosenFormat) { throw ValidationError("--format must be table, json, md or xlsx") }
        try ReportFormat.checkOut(out, against: format.flatMap { ReportFormat(rawValue: $0.rawValue) })
        try Output.refuseBinaryOnTerminal(xlsx: chosenFormat == .xlsx, out: out)
    }

    func run() throws {
        let l = try ledger.open()
        let orgID = try OrganisationArgument.resolve(org, in: l)
        let entries = try Failure.guarded { try l.audit(org: orgID, fromDay: from?.days, toDay: to?.days) }
        let names = try Failure.guarded { try PersonNames(ledger: l) }
        let format = chosenFormat
        if format == .xlsx {
            let head = try Failure.guarded { try l.head() }
            let rows = entries.map { e in
                (occurred: String(e.event.occurredAt.prefix(10)), seq: e.event.seq, recorded: String(e.event.recordedAt.prefix(10)),
                 type: e.event.type, summary: EventSummary.line(type: e.event.type, data: e.data, names: names.lookup),
                 actor: e.event.actor, retractedBySeq: e.retractedBy)
            }
            let bytes: [UInt8]
            do {
                bytes = try XLSXReports.audit(org: orgID, from: from?.text, to: to?.text, rows: rows, headSeq: head.seq,
                                              headHash: head.hashHex, commandLine: ReportRun.commandLine())
            } catch {
                Console.err("trellis: cannot build the workbook: \(error)")
                throw ExitCode(70)
            }
            try Output.emit(bytes, to: out)
            return
        }
        // Human text is neutralised (control characters shown as escapes) whether it goes to
        // the terminal or to --out.
        var text = ""
        func line(_ s: String) { text += TerminalText.neutralised(s, keepingLineBreaks: true) + "\n" }
        switch format {
        case .json:
            let items: [JSONValue] = entries.map { e in
                .object(JSONObject([
                    ("seq", .int(e.event.seq)), ("id", .string(e.event.id)), ("type", .string(e.event.type)),
                    ("occurred_at", .string(e.event.occurredAt)), ("recorded_at", .string(e.event.recordedAt)),
                    ("actor", .optional(e.event.actor)),
                    ("summary", .string(EventSummary.line(type: e.event.type, data: e.data, names: names.lookup))),
                    ("retracted_by_seq", e.retractedBy.map(JSONValue.int) ?? .null),
                ]))
            }
            line(JSONValue.object(JSONObject([("org_id", .string(orgID)), ("from", .optional(from?.text)), ("to", .optional(to?.text)), ("events", .array(items))])).rendered(pretty: true))
        case .md, .table:
            var table = TextTable(headers: ["occurred", "seq", "recorded", "event", "actor"])
            table.rightAligned = [1]
            for e in entries {
                var what = EventSummary.line(type: e.event.type, data: e.data, names: names.lookup)
                if let by = e.retractedBy { what = "~~" + what + "~~ (retracted at seq \(by))" }
                if format == .table { what = what.replacingOccurrences(of: "~~", with: "").clipped(60) }
                table.rows.append([String(e.event.occurredAt.prefix(10)), String(e.event.seq), String(e.event.recordedAt.prefix(10)), what, e.event.actor ?? ""])
            }
            if format == .md {
                line("# Engagement timeline: \(orgID)\n")
                line(table.markdown())
            } else {
                line(table.render())
            }
            line("\n\(entries.count) events; \(entries.filter { $0.retractedBy != nil }.count) retracted")
        default:
            break
        }
        if let out { try Output.write(text, to: out) } else {
            var sink = Sink(fd: 1)
            sink.write(raw: text)
            sink.flush()
        }
    }
}

