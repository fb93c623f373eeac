import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisReports

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
    @Option(help: "table or ndjson (default: table on a terminal, ndjson in a pipe).") var format: LogFormat?

    func validate() throws {
        for t in type where EventType(rawValue: t) == nil {
            throw ValidationError("unknown event type \(t); one of " + EventType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
        if let limit, limit < 0 { throw ValidationError("--limit must be positive") }
        if sinceSeq < 0 { throw ValidationError("--since-seq must be at least 0") }
    }

    func run() throws {
        let (l, keys) = try ledger.openForReading()
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
            try l.log(filter) { e in sink.write(bytes: CanonicalEnvelope.bytes(e.event, withHash: true)); sink.write("\n") }
        } else {
            // Two passes over the log, so that memory stays flat however many rows: the first
            // measures the columns, the second writes the rows.
            let names = try PersonNames(ledger: l, keys: keys)
            func row(_ e: LogEntry) -> [String] {
                var what = EventSummary.line(type: e.event.type, data: e.data, names: names.lookup)
                if let by = e.retractedBy { what = "[retracted by \(by)] " + what }
                return [String(e.event.seq), String(e.event.occurredAt.prefix(10)), e.event.type, Show.clipped(what, 100)]
            }
            var layout = Table.Layout(headers: ["seq", "occurred", "type", "what"], rightAligned: [0])
            var count = 0
            try l.log(filter) { e in layout.measure(row(e)); count += 1 }
            layout.fit(width: 80)
            sink.line(layout.header())
            var written = 0
            try l.log(filter) { e in
                // The log only grows: the second pass stops where the first did.
                guard written < count else { return }
                sink.line(layout.line(row(e)))
                written += 1
            }
            if count == 0 { sink.line("(no events)") }
        }
        sink.flush()
    }
}
