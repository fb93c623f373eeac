import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisReports

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
    @Option(help: "table, json, md or xlsx (default: from --out's extension, else table).") var format: AuditFormat?
    @Option(help: ArgumentHelp("Write to this file instead of standard output (xlsx needs it).", valueName: "file")) var out: String?

    /// Explicit, else from --out's extension (.xlsx, .json, .md, .txt), else table.
    var chosenFormat: ReportFormat { Output.format(format, out: out) }

    func validate() throws {
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
        if !AuditFormat.allowed.contains(chosenFormat) { throw ValidationError("--format must be \(AuditFormat.listed)") }
        try ReportFormat.checkOut(out, against: format?.format)
        try Output.refuseBinaryOnTerminal(xlsx: chosenFormat == .xlsx, out: out)
    }

    func run() throws {
        let (l, keys) = try ledger.openForReading()
        let orgID = try OrganisationArgument.resolve(org, in: l)
        let entries = try l.audit(org: orgID, fromDay: from?.days, toDay: to?.days)
        let names = try PersonNames(ledger: l, keys: keys)
        let format = chosenFormat
        if format == .xlsx {
            let head = try l.head()
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
                throw CommandFailure(exitCode: 70, "cannot build the workbook: \(error)")
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
            var table = Table(headers: ["occurred", "seq", "recorded", "event", "actor"], rightAligned: [1])
            for e in entries {
                var what = EventSummary.line(type: e.event.type, data: e.data, names: names.lookup)
                if let by = e.retractedBy { what = "~~" + what + "~~ (retracted at seq \(by))" }
                if format == .table { what = Show.clipped(what.replacingOccurrences(of: "~~", with: ""), 60) }
                table.rows.append([String(e.event.occurredAt.prefix(10)), String(e.event.seq), String(e.event.recordedAt.prefix(10)), what, e.event.actor ?? ""])
            }
            if format == .md {
                line("# Engagement timeline: \(orgID)\n")
                line(table.markdown())
            } else {
                line(table.text())
            }
            line("\n\(entries.count) events; \(entries.filter { $0.retractedBy != nil }.count) retracted")
        default:
            break
        }
        if let out { try AtomicFile.write(text, to: out) } else {
            var sink = Sink(fd: 1)
            sink.write(raw: text)
            sink.flush()
        }
    }
}
