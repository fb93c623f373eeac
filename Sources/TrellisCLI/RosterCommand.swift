import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisRegisters

struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Member lists as spreadsheets.",
        subcommands: [RosterImportCommand.self])
}

struct RosterImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register organisations and memberships from a member list (CSV or xlsx).",
        discussion: """
            Columns (by header, any order): name (required), org_id, kind (MAT, SAT, hub, school, local authority, provider, other), schools, region, joined, left. An organisation the ledger does not know is registered (its id derived from the name when org_id is empty: St Mary's Trust → st-marys-trust); one it knows (by id or name) is updated when schools or region differ; it joins the network (on joined, else today) unless already a member, and leaves it when left is filled in. All or nothing, safe to repeat; --dry-run shows what would be appended.

            Example:
              trellis roster import members.xlsx --network npn --dry-run
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The member list: .csv, .tsv, .txt or .xlsx.", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("The network they are members of.", valueName: "id")) var network: String
    @Option(help: ArgumentHelp("The sheet of an xlsx workbook.", valueName: "name")) var sheet: String?
    @Flag(help: "Check everything and show what would be appended; append nothing.") var dryRun = false
    @Option(help: "Output: table (sentences) or json.") var format: TableOrJSON = .table

    func run() throws {
        let (workbook, chosen) = try SheetCommands.open(file, sheet: sheet)
        let l = try ledger.open()
        let store = try ledger.isShared ? ledger.openStore() : l
        let picture = try LedgerPicture.load(ledger: l, network: network)
        let today = Timestamp.dateText(days: Int(Timestamp.nowMicros() / 86_400_000_000))
        let plan = RosterImport.plan(sheet: chosen, workbook: workbook, network: network, picture: picture, today: today)
        try SheetCommands.finish(plan, ledger: store, dryRun: dryRun, format: format)
    }
}
