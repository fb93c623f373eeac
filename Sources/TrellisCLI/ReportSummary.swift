import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every report in one: a board-ready HTML page for trustees, or table/json/md/csv.",
            discussion: """
                --format html writes one self-contained file (no scripts, nothing fetched;
                charts and the collaboration graph as inline SVG), print-ready on A4, with a
                provenance footer: head seq and hash, read-model digests, the command line,
                --as-of/--known-at. It shows no clock time, so the same ledger and options give
                the same bytes: run it again with --known-at to reproduce a past report.
                Example: trellis report summary --year 2024/25 --format html --out board-2024-25.html
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "The day of the review figures (default: as report coverage).", transform: DateArgument.parse) var on: DateArgument?
        @Option(help: "The review window in days.") var windowDays: Int = CoverageFigures.defaultWindowDays
        @Option(help: "html, table, json, md, csv or xlsx (one sheet per section).") var format: SummaryFormat?
        @Option(help: ArgumentHelp("With --format html: sign a checkpoint of the tree at the report's head with this key (from 'trellis checkpoint keygen') and print it in the footer.", valueName: "NAME.key"))
        var checkpointKey: String?

        func validate() throws {
            try options.check(format)
            if checkpointKey != nil && options.format(format?.format) != .html { throw ValidationError("--checkpoint-key is used with --format html") }
            if windowDays < 1 { throw ValidationError("--window-days must be at least 1") }
        }

        func run() throws {
            // A signed checkpoint is made afresh each time, never cached.
            try ReportRun.cached(options, cacheable: checkpointKey == nil) { source in
                let summary = try ReportRun.figures {
                    try source.summary(options.query, on: on?.days, windowDays: windowDays, commandLine: ReportRun.commandLine())
                }
                let f = options.format(format?.format)
                try options.refuseUnlessJSON(f)
                if try options.writeXLSX(f, { () throws(SheetError) in try XLSXReports.summary(summary) }, day: on?.days) { return }
                if f == .html {
                    _ = try options.warnings(day: on?.days)
                    let checkpoint = try checkpointKey.map { try Anchors.summaryCheckpoint(keyPath: $0, ledger: options.ledger, size: summary.provenance.headSeq) }
                    try options.write(HTMLSummary.render(summary, checkpoint: checkpoint))
                } else {
                    try options.emit(f, json: { JSONReports.summary(summary) }, sections: { TextReports.summary(summary) },
                                     heading: "Network summary", csv: { TextReports.summaryCSV(summary) }, day: on?.days)
                }
            }
        }
    }
}
