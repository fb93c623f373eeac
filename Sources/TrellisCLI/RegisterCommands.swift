import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import TrellisLedger
import TrellisRegisters
import TrellisReports
import TrellisSheets
import TrellisCore

struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Attendance registers as spreadsheets: write a template, import a filled one.",
        subcommands: [RegisterTemplateCommand.self, RegisterImportCommand.self])
}

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
            throw Failure.usage("\(out) exists (perhaps a filled-in register); choose another name or add --force")
        }
        let l = try ledger.open()
        let picture = try SheetCommands.guarded { try LedgerPicture.load(ledger: l, network: network) }
        let template = RegisterTemplate.build(network: network, picture: picture, from: from?.text, to: to?.text, dates: parsedDates)
        if template.columns.isEmpty {
            throw Failure.usage("no meetings of \(network) from \(from?.text ?? "") to \(to?.text ?? ""); give --dates for meetings not yet recorded")
        }
        try SheetCommands.guarded {
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
    @Option(help: "Output: table (sentences) or json.") var format: OutputFormat = .table

    func validate() throws {
        if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let (workbook, chosen) = try SheetCommands.open(file, sheet: sheet)
        let l = try ledger.open()
        let picture = try SheetCommands.guarded { try LedgerPicture.load(ledger: l, network: network) }
        let plan = RegisterImport.plan(sheet: chosen, workbook: workbook, network: network, picture: picture, createMeetings: createMeetings)
        try SheetCommands.finish(plan, ledger: l, dryRun: dryRun, format: format)
    }
}

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
    @Option(help: "Output: table (sentences) or json.") var format: OutputFormat = .table

    func validate() throws {
        if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let (workbook, chosen) = try SheetCommands.open(file, sheet: sheet)
        let l = try ledger.open()
        let picture = try SheetCommands.guarded { try LedgerPicture.load(ledger: l, network: network) }
        let today = Timestamp.dateText(days: Int(Timestamp.nowMicros() / 86_400_000_000))
        let plan = RosterImport.plan(sheet: chosen, workbook: workbook, network: network, picture: picture, today: today)
        try SheetCommands.finish(plan, ledger: l, dryRun: dryRun, format: format)
    }
}

/// What the spreadsheet commands share: reading the file, choosing the sheet, printing a
/// plan, appending it, and their errors' exit codes.
enum SheetCommands {
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SheetError {
            Console.err("trellis: \(e)")
            throw ExitCode(65)
        } catch let e as UnknownNetwork {
            throw Failure.usage(e.description)
        } catch let e as SheetRejected {
            Console.err(e.description)
            Console.err("trellis: nothing was appended (\(e.problems.count)\(e.truncated ? "+" : "") error\(e.problems.count == 1 ? "" : "s"))")
            throw ExitCode(65)
        } catch {
            return try Failure.guarded { throw error }
        }
    }

    /// Reads the workbook and picks the sheet: `--sheet`, else the only one that is not an
    /// About or Instructions sheet.
    static func open(_ file: String, sheet: String?) throws -> (Workbook, Sheet) {
        if access(file, F_OK) != 0 {
            Console.err("trellis: \(file): no such file")
            throw ExitCode(66)
        }
        let workbook = try guarded { try SheetReader.read(path: file) }
        let names = workbook.sheets.map(\.name)
        if let sheet {
            guard let s = workbook.sheets.first(where: { $0.name == sheet }) ?? workbook.sheets.first(where: { $0.name.lowercased() == sheet.lowercased() }) else {
                throw Failure.usage("\(file) has no sheet \"\(sheet)\"; its sheets: \(names.joined(separator: ", "))")
            }
            return (workbook, s)
        }
        let data = workbook.sheets.filter { !["about", "instructions"].contains($0.name.lowercased()) }
        if data.count > 1 {
            throw Failure.usage("\(file) has \(data.count) sheets (\(data.map(\.name).joined(separator: ", "))); choose one with --sheet")
        }
        guard let s = data.first ?? workbook.sheets.first else {
            Console.err("trellis: \(file) has no sheets")
            throw ExitCode(65)
        }
        return (workbook, s)
    }

    /// Prints the plan; unless a dry run, appends it as one batch.
    static func finish(_ plan: ImportPlan, ledger: Ledger, dryRun: Bool, format: OutputFormat) throws {
        if !plan.errors.isEmpty {
            if format == .json { Console.out(plan.summaryJSON(extra: [("dry_run", .bool(dryRun)), ("appended", .int(0))])) }
            _ = try guarded { throw SheetRejected(problems: plan.errors, truncated: plan.truncated) }
        }
        if dryRun {
            Console.out(format == .json ? plan.summaryJSON(extra: [("dry_run", .bool(true))]) : plan.summaryText(dryRun: true))
            return
        }
        let outcome = try guarded { try plan.append(to: ledger) }
        if format == .json {
            let head = try outcome.map(\.head) ?? guarded { try ledger.head() }
            Console.out(plan.summaryJSON(extra: [
                ("dry_run", .bool(false)),
                ("appended", .int(Int64(outcome?.appended ?? 0))), ("skipped", .int(Int64(outcome?.skipped ?? 0))),
                ("head_seq", .int(head.seq)), ("head_hash", .string(head.hashHex)),
            ]))
        } else {
            var text = plan
            text.warnings = []
            Console.out(text.summaryText(dryRun: false))
            for w in plan.warnings { Console.err("trellis: warning: \(w)") }
            if let outcome {
                try printOutcome(outcome, format: .table, ledger: ledger.path)
            } else {
                Console.out("nothing to append: the ledger already holds everything the sheet says")
            }
        }
    }
}
