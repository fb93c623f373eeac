import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports

extension ProjectionsCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name, definition digest, checkpoint seq and rows of each read model.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Option(help: "table or json.") var format: TableOrJSON = .table

        func run() throws { try showStatus(ledger: ledger, projections: projections, format: format, detailed: false) }
    }
}
