import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review coverage, reviewer coverage, overdue commitments and outcome sharing on a day.",
            discussion: """
                On day d with a window of W days: of the members on d, the share reviewed
                (reviewee of a review of the network completed in (d − W, d]) and the share
                that reviewed; overdue commitments (committed by d, due before d, neither
                completed nor withdrawn by d); completed reviews in the window whose outcome
                was shared by d. "By d" means on or before day d.
                Default d: the last day of the period, or, if earlier, the latest day with a
                meeting, a join or leave, or a review step in the chosen networks (so a
                report of the current year is "as of the latest news", not of a future day).
                Example: trellis report coverage --on 2025-07-31 --window-days 365
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "The day d (default: see above).", transform: DateArgument.parse) var on: DateArgument?
        @Option(help: "The window W in days.") var windowDays: Int = CoverageFigures.defaultWindowDays
        @Option(help: "table, json, csv, md or xlsx.") var format: FiguresFormat?

        func validate() throws {
            try options.check(format)
            if windowDays < 1 { throw ValidationError("--window-days must be at least 1") }
        }

        func run() throws {
            try ReportRun.cached(options) { source in
                let (report, provenance) = try ReportRun.figures { try source.coverage(options.query, on: on?.days, windowDays: windowDays) }.pair
                if try options.writeXLSX(format?.format, { () throws(SheetError) in try XLSXReports.coverage(report, provenance: provenance) }, day: on?.days) { return }
                try options.emit(options.format(format?.format), json: { JSONReports.coverage(report, provenance: provenance) },
                                 sections: { TextReports.coverage(report) }, heading: "Review coverage",
                                 csv: { TextReports.coverageCSV(report) }, day: on?.days)
            }
        }
    }
}
