import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import TrellisLedger
import TrellisRegisters
import TrellisReports
import TrellisSheets

struct RegisterTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Write a register to fill in: a row per member organisation, a column per meeting.",
        discussion: """
            The columns are the network's meetings between --from and --to (from included, to excluded), or the days given with --dates (a meeting held that day, else a column for a meeting not yet recorded). The rows are the organisations that are members on any of those days. Fill each cell with P, Apols or A and import it with 'trellis register import'.

            Examples:
              trellis register template --network npn --from 2025-09-01 --to 2026-09-01 --out autumn.xlsx
              trellis register template --network npn --dates 2026-03-12,2026-05-14 --out register.csv
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The network.", valueName: "id")) var network: String
    @Option(help: ArgumentHelp("First day of the range (included).", valueName: "date")) var from: DateArgument?
    @Option(help: ArgumentHelp("Day after the range (excluded).", valueName: "date")) var to: DateArgument?
    @Option(help: ArgumentHelp("Meeting days, comma-separated, instead of a range.", valueName: "date,date,…")) var dates: String?
    @Option(help: ArgumentHelp("The file to write: .csv or .xlsx.", valueName: "file")) var out: String
    @Flag(help: "Replace --out if it exists (a filled-in register would be lost).") var force = false

    var parsedDates: [String] {
        (dates ?? "").split(separator: ",").compactMap { DateArgument(argument: String($0).trimmingWhitespace())?.text }
    }

    func validate() throws {
        if dates == nil && (from == nil || to == nil) { throw ValidationError("give --from and --to, or --dates") }
        if dates != nil && (from != nil || to != nil) { throw ValidationError("give either --from and --to, or --dates, not both") }
        if let dates {
            for d in dates.split(separator: ",") where DateArgument(argument: String(d).trimmingWhitespace()) == nil {
                throw ValidationError("--dates: \"\(d)\" is not a date; use \(DayText.expected)")
            }
            if parsedDates.isEmpty { throw ValidationError("--dates: give at least one date") }
        }
        if let from, let to, from.days >= to.days { throw ValidationError("--to must be after --from") }
        if !(out.lowercased().hasSuffix(".csv") || out.lowercased().hasSuffix(".xlsx")) {
            throw ValidationError("--out must end in .csv or .xlsx")
        }
    }

    func run() throws {
        if !force && access(out, F_OK) == 0 {
            throw CommandFailure.usage("\(out) exists (perhaps a filled-in register); choose another name or add --force")
        }
        let l = try ledger.open()
        let picture = try LedgerPicture.load(ledger: l, network: network)
        let template = RegisterTemplate.build(network: network, picture: picture, from: from?.text, to: to?.text, dates: parsedDates)
        if template.columns.isEmpty {
            throw CommandFailure.usage("no meetings of \(network) from \(from?.text ?? "") to \(to?.text ?? ""); give --dates for meetings not yet recorded")
        }
        do {
            if out.lowercased().hasSuffix(".xlsx") {
                let head = try l.head()
                let about: [(String, String)] = [
                    ("register of", "\(network) (\(picture.networkName ?? network))"),
                    ("period", from.map { "\($0.text) to \(to?.text ?? "") (to excluded)" } ?? parsedDates.joined(separator: ", ")),
                    ("log position", "seq \(head.seq)"), ("head hash", head.hashHex), ("command", ReportRun.commandLine()),
                ]
                try XLSXWriter.write(template.tables(sheetName: "Register"), about: about, to: out)
            } else {
                try CSVWriter.write(template.csvRows, to: out)
            }
        }
        let unrecorded = template.columns.filter { $0.meetingID == nil }.count
        Console.out("wrote \(out): \(template.organisations.count) organisation\(template.organisations.count == 1 ? "" : "s") × \(template.columns.count) meeting\(template.columns.count == 1 ? "" : "s")"
                    + (unrecorded > 0 ? " (\(unrecorded) not yet recorded: import with --create-meetings)" : ""))
    }
}
