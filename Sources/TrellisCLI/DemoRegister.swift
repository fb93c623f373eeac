import TrellisLedger
import TrellisRegisters
import TrellisSheets
import TrellisCore

/// `trellis demo`'s spreadsheet step: a register for a new meeting of the first network,
/// filled in as a lead would, written to DIR/register.csv and imported like any register.
enum DemoRegister {
    /// Returns the register's network, nil when the region has no meetings to follow.
    @discardableResult
    static func run(dir: String, ledger: Ledger) throws -> String? {
        let path = dir + "/register.csv"
        let outcome: (network: String, appended: Int, cells: Int)? = try { () throws -> (network: String, appended: Int, cells: Int)? in
            guard let network = try LedgerPicture.memberships(ledger: ledger, on: "9999-12-31").networkIDs.first else { return nil }
            let picture = try LedgerPicture.load(ledger: ledger, network: network)
            guard let last = picture.meetings.last.flatMap({ Timestamp.parseDate($0.day) }) else { return nil }
            let day = Timestamp.dateText(days: last + 7)
            let template = RegisterTemplate.build(network: network, picture: picture, from: nil, to: nil, dates: [day])
            let codes = ["P", "P", "Apols", "P", "A", "Present", "", "✓", "Y", "P"]
            var rows = template.csvRows
            for r in 2..<rows.count { rows[r][2] = codes[(r - 2) % codes.count] }
            try CSVWriter.write(rows, to: path)
            let workbook = try SheetReader.read(path: path)
            guard let sheet = workbook.sheets.first else { return nil }
            let plan = RegisterImport.plan(sheet: sheet, workbook: workbook, network: network, picture: picture, createMeetings: true)
            let appended = try plan.append(to: ledger)?.appended ?? 0
            return (network, appended, rows.count - 2)
        }()
        guard let outcome else { return nil }
        Console.out("\nwrote \(path): a filled-in register of \(outcome.network) (\(outcome.cells) organisations, one new meeting)")
        Console.out("imported it: appended \(outcome.appended) events (trellis register import \(path) --network \(outcome.network) --create-meetings)")
        return outcome.network
    }
}
