import ArgumentParser
import TrellisLedger
import TrellisRegisters
import TrellisReports

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
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("Only the members of this network.", valueName: "id"))
    var network: String?

    @Option(help: ArgumentHelp("The day memberships are shown for (default: today); YYYY-MM-DD or DD/MM/YYYY.", valueName: "date"))
    var on: DateArgument?

    @Option(help: "Output: table, json or csv.")
    var format: OutputFormat = .table

    func validate() throws {
        if ![.table, .json, .csv].contains(format) { throw ValidationError("--format must be table, json or csv") }
    }

    func run() throws {
        let l = try ledger.open()
        let day = on?.text ?? Timestamp.dateText(days: Int(Timestamp.nowMicros() / 86_400_000_000))
        let directory = try SheetCommands.guarded { try OrganisationDirectory.load(ledger: l, on: day, network: network) }
        let rows = directory.entries.map { e in
            [e.id, e.name, e.kind, e.schools.map(String.init) ?? "", e.region ?? "", e.networks.joined(separator: " ")]
        }
        switch format {
        case .json:
            let orgs = directory.entries.map { e in
                JSONValue.object(JSONObject([
                    ("org_id", .string(e.id)), ("name", .string(e.name)), ("kind", .string(e.kind)),
                    ("schools", e.schools.map { .int(Int64($0)) } ?? .null), ("region", e.region.map(JSONValue.string) ?? .null),
                    ("networks", .array(e.networks.map(JSONValue.string))),
                ]))
            }
            Console.out(JSONValue.object(JSONObject([("on", .string(day)), ("organisations", .array(orgs))])).rendered())
        case .csv:
            // A machine format: its bytes (CRLF included) exactly, not neutralised for a terminal.
            var sink = Sink(fd: 1)
            sink.write(raw: TrellisReports.Table(headers: ["org_id", "name", "kind", "schools", "region", "networks"], rows: rows).csv())
            sink.flush()
        default:
            if rows.isEmpty {
                Console.out(network.map { "no organisation is a member of \($0) on \(day)" } ?? "the ledger has no organisations yet")
                return
            }
            var t = TextTable(headers: ["org_id", "name", "kind", "schools", "region", "member of (on \(day))"])
            t.rightAligned = [3]
            t.rows = rows
            Console.out(t.render())
        }
    }
}
