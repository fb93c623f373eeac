import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Outcomes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review outcomes by area: judgement counts and actions agreed, among reviews completed in the period.",
            discussion: "Example: trellis report outcomes --year 2024/25 --format md > outcomes.md")
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: FiguresFormat?

        func validate() throws { try options.check(format) }

        func run() throws {
            try ReportRun.cached(options) { source in
                let (report, provenance) = try ReportRun.figures { try source.outcomes(options.query) }.pair
                if try options.writeXLSX(format?.format, { () throws(SheetError) in try XLSXReports.outcomes(report, provenance: provenance) }) { return }
                try options.emit(options.format(format?.format), json: { JSONReports.outcomes(report, provenance: provenance) },
                                 sections: { TextReports.outcomes(report) }, heading: "Review outcomes",
                                 csv: { TextReports.outcomesCSV(report) })
            }
        }
    }
}
