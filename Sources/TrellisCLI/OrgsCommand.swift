import ArgumentParser
import TrellisLedger
import TrellisRegisters
import TrellisReports
import TrellisSheets
import TrellisCore

struct OrgsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "List organisations: id, name, kind, region and the networks each is a member of.",
        discussion: """
            Use it to find an organisation's id from its name (registers and --org take either). Membership is as on --on (default: today).

            Examples:
              trellis orgs
              trellis orgs --network npn --on 2026-03-12
              trellis orgs --format csv > organisations.csv
              trellis orgs --out organisations.xlsx
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("Only the members of this network.", valueName: "id"))
    var network: String?

    @Option(help: ArgumentHelp("The day memberships are shown for (default: today); YYYY-MM-DD or DD/MM/YYYY.", valueName: "date"))
    var on: DateArgument?

    @Option(help: "Output: table, json, csv or xlsx (default: from --out's extension, else table).")
    var format: OrganisationsFormat?

    @Option(help: ArgumentHelp("Write to this file instead of standard output (xlsx needs it).", valueName: "file"))
    var out: String?

    var chosenFormat: ReportFormat { Output.format(format, out: out) }

    func validate() throws {
        if !OrganisationsFormat.allowed.contains(chosenFormat) { throw ValidationError("--format must be \(OrganisationsFormat.listed)") }
        try ReportFormat.checkOut(out, against: format?.format)
        try Output.refuseBinaryOnTerminal(xlsx: chosenFormat == .xlsx, out: out)
    }

    func run() throws {
        let l = try ledger.open()
        let day = on?.text ?? Timestamp.dateText(days: Int(Timestamp.nowMicros() / 86_400_000_000))
        let directory = try OrganisationDirectory.load(ledger: l, on: day, network: network)
        let rows = directory.entries.map { e in
            [e.id, e.name, e.kind, e.schools.map(String.init) ?? "", e.region ?? "", e.networks.joined(separator: " ")]
        }
        switch chosenFormat {
        case .xlsx:
            let head = try l.head()
            let table = TrellisSheets.Table(
                sheetName: "Organisations",
                columns: [("org_id", .text), ("name", .text), ("kind", .text), ("schools", .integer), ("region", .text), ("networks", .text)],
                rows: directory.entries.map { e in
                    [.text(e.id), .text(e.name), .text(e.kind), e.schools.map { .number(Double($0)) } ?? .empty,
                     e.region.map(CellValue.text) ?? .empty, .text(e.networks.joined(separator: " "))]
                })
            let about = [("report", "organisations"), ("members of", network ?? "any network"), ("on", day),
                         ("head seq", String(head.seq)), ("head hash", head.hashHex), ("command", ReportRun.commandLine())]
            let bytes: [UInt8]
            do { bytes = try XLSXWriter.data([table], about: about) } catch {
                throw CommandFailure(exitCode: 70, "cannot build the workbook: \(error)")
            }
            try Output.emit(bytes, to: out)
        case .json:
            let orgs = directory.entries.map { e in
                JSONValue.object(JSONObject([
                    ("org_id", .string(e.id)), ("name", .string(e.name)), ("kind", .string(e.kind)),
                    ("schools", e.schools.map { .int(Int64($0)) } ?? .null), ("region", e.region.map(JSONValue.string) ?? .null),
                    ("networks", .array(e.networks.map(JSONValue.string))),
                ]))
            }
            let json = JSONValue.object(JSONObject([("on", .string(day)), ("organisations", .array(orgs))])).rendered()
            if out != nil { try Output.emit(Array((json + "\n").utf8), to: out) } else { Console.out(json) }
        case .csv:
            // A machine format: its bytes (CRLF included) exactly, not neutralised for a terminal.
            try Output.emit(Array(TrellisReports.Table(headers: ["org_id", "name", "kind", "schools", "region", "networks"], rows: rows).csv().utf8), to: out)
        default:
            if rows.isEmpty {
                Console.out(network.map { "no organisation is a member of \($0) on \(day)" } ?? "the ledger has no organisations yet")
                return
            }
            let t = TrellisReports.Table(headers: ["org_id", "name", "kind", "schools", "region", "member of (on \(day))"], rows: rows, rightAligned: [3])
            if out != nil { try Output.emit(Array((TerminalText.neutralised(t.text(), keepingLineBreaks: true) + "\n").utf8), to: out) } else { Console.out(t.text()) }
        }
    }
}
