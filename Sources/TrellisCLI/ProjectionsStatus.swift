import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports

extension ProjectionsCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether each read model is current, behind the log, or built by an older definition.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Option(help: "table or json.") var format: TableOrJSON = .table

        func run() throws { try showStatus(ledger: ledger, projections: projections, format: format, detailed: true) }
    }
}
