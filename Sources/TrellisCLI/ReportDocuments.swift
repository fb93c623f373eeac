import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Documents: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Documents shared and adopted, per organisation and kind.",
            discussion: """
                Shared: documents an organisation shared in the network in the period. Adopted:
                adoptions it made in the period of documents shared in the network. Received:
                adoptions by others in the period of documents it shared. Every member in the
                period is listed, with zeros when it did nothing.
                Example: trellis report documents --network n02 --format csv > documents.csv
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: FiguresFormat?

        func validate() throws { try options.check(format) }

        func run() throws {
            try ReportRun.cached(options) { source in
                let (report, provenance) = try ReportRun.figures { try source.documents(options.query) }.pair
                if try options.writeXLSX(format?.format, { () throws(SheetError) in try XLSXReports.documents(report, provenance: provenance) }) { return }
                try options.emit(options.format(format?.format), json: { JSONReports.documents(report, provenance: provenance) },
                                 sections: { TextReports.documents(report) }, heading: "Documents",
                                 csv: { TextReports.documentsCSV(report) })
            }
        }
    }
}
