import TrellisCore
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import TrellisLedger
import TrellisRegisters
import TrellisReports
import TrellisSheets

/// What the spreadsheet commands share: reading the file, choosing the sheet, printing a
/// plan, appending it.
enum SheetCommands {
    /// Reads the workbook and picks the sheet: `--sheet`, else the only one that is not an
    /// About or Instructions sheet.
    static func open(_ file: String, sheet: String?) throws -> (Workbook, Sheet) {
        if access(file, F_OK) != 0 {
            throw CommandFailure(exitCode: 66, "\(file): no such file")
        }
        let workbook = try SheetReader.read(path: file)
        let names = workbook.sheets.map(\.name)
        if let sheet {
            guard let s = workbook.sheets.first(where: { $0.name == sheet }) ?? workbook.sheets.first(where: { $0.name.lowercased() == sheet.lowercased() }) else {
                throw CommandFailure.usage("\(file) has no sheet \"\(sheet)\"; its sheets: \(names.joined(separator: ", "))")
            }
            return (workbook, s)
        }
        let data = workbook.sheets.filter { !["about", "instructions"].contains($0.name.lowercased()) }
        if data.count > 1 {
            throw CommandFailure.usage("\(file) has \(data.count) sheets (\(data.map(\.name).joined(separator: ", "))); choose one with --sheet")
        }
        guard let s = data.first ?? workbook.sheets.first else {
            throw CommandFailure.badInput("\(file) has no sheets")
        }
        return (workbook, s)
    }

    /// Prints the plan; unless a dry run, appends it as one batch.
    static func finish(_ plan: ImportPlan, ledger: any LedgerStore, dryRun: Bool, format: TableOrJSON) throws {
        if !plan.errors.isEmpty {
            if format == .json { Console.out(plan.summaryJSON(extra: [("dry_run", .bool(dryRun)), ("appended", .int(0))])) }
            throw SheetRejected(problems: plan.errors, truncated: plan.truncated)
        }
        if dryRun {
            Console.out(format == .json ? plan.summaryJSON(extra: [("dry_run", .bool(true))]) : plan.summaryText(dryRun: true))
            return
        }
        let outcome = try plan.append(to: ledger)
        if format == .json {
            let head = try outcome.map(\.head) ?? ledger.head()
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
                try printOutcome(outcome, format: .table, ledger: ledger.location)
            } else {
                Console.out("nothing to append: the ledger already holds everything the sheet says")
            }
        }
    }
}
