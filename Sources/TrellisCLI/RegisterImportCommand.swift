import ArgumentParser
import TrellisRegisters

struct RegisterImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append the attendance a filled-in register records (CSV or xlsx).",
        discussion: """
            Understands the layout 'register template' writes (a row per organisation, a column per meeting headed by its date) and a long list (a row per organisation per meeting, with date and status columns). Organisations are found by org_id or by name (case, spaces and punctuation do not matter). Statuses: P / Present / Y / Yes / ✓ / 1, Apols / Apologies / AP, A / Absent / N / No / X / 0; an empty cell records nothing.

            All or nothing: any bad cell, and nothing is appended (exit 65); every error names its cell. Importing the same sheet again appends nothing; correcting one cell appends one record. --dry-run shows exactly what would be appended.

            Examples:
              trellis register import autumn.xlsx --network npn --dry-run
              trellis register import register.csv --network npn --create-meetings
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The register: .csv, .tsv, .txt or .xlsx.", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("The network whose meetings the register records.", valueName: "id")) var network: String
    @Option(help: ArgumentHelp("The sheet of an xlsx workbook (default: its only register sheet).", valueName: "name")) var sheet: String?
    @Flag(help: "Record a meeting for each header date that matches none of the network's meetings.") var createMeetings = false
    @Flag(help: "Check everything and show what would be appended; append nothing.") var dryRun = false
    @Option(help: "Output: table (sentences) or json.") var format: TableOrJSON = .table

    func run() throws {
        let (workbook, chosen) = try SheetCommands.open(file, sheet: sheet)
        let l = try ledger.open()
        let store = try ledger.isShared ? ledger.openStore() : l
        let picture = try LedgerPicture.load(ledger: l, network: network)
        let plan = RegisterImport.plan(sheet: chosen, workbook: workbook, network: network, picture: picture, createMeetings: createMeetings)
        try SheetCommands.finish(plan, ledger: store, dryRun: dryRun, format: format)
    }
}
