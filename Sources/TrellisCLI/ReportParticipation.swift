import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Participation: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Meetings expected, present, apologies, absent and the participation rate of every member.",
            discussion: """
                Lists every organisation that was a member of the network on any day of the
                period. Meetings expected: the network's meetings in the period held on a day
                the organisation was a member. Rate: present ÷ expected, '–' (JSON null) when
                nothing was expected. The network's participation rate is the mean of its
                members' rates; its attendance rate is total present ÷ total expected.
                Example: trellis report participation --network n01 --year 2024/25 --format csv > n01.csv
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: FiguresFormat?

        func validate() throws { try options.check(format) }

        func run() throws {
            try ReportRun.cached(options) { source in
                let (report, provenance) = try ReportRun.figures { try source.participation(options.query) }.pair
                if try options.writeXLSX(format?.format, { () throws(SheetError) in try XLSXReports.participation(report, provenance: provenance) }) { return }
                try options.emit(options.format(format?.format), json: { JSONReports.participation(report, provenance: provenance) },
                                 sections: { TextReports.participation(report) }, heading: "Participation",
                                 csv: { TextReports.participationCSV(report) })
            }
        }
    }
}
