import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisCore

/// `--projection FILE.sql`, and opening the engine over a ledger.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("projection"), help: ArgumentHelp("A projection definition of your own (repeatable); see projections/README.md.", valueName: "file.sql"))
    var files: [String] = []

    func engine(_ ledger: Ledger) throws -> ProjectionEngine {
        try ProjectionEngine(ledger: ledger, extra: files.map { try ProjectionDefinition.read(path: $0) })
    }
}

struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "The read models rebuilt from the log: list, status, rebuild, digest.",
        discussion: """
            Every figure Trellis reports is computed from read models defined in SQL under
            projections/ (how each figure is derived is written there). They are kept
            current automatically; these commands show and check them.
            """,
        subcommands: [List.self, Status.self, Rebuild.self, Digest.self])
}

func showStatus(ledger: LedgerOptions, projections: ProjectionOptions, format: TableOrJSON, detailed: Bool) throws {
    let l = try ledger.open()
    let engine = try projections.engine(l)
    let status = try engine.status()
    func state(_ s: ProjectionStatus) -> String {
        guard let cp = s.checkpointSeq else { return "never built" }
        if s.builtWith != s.definitionDigest { return "definition changed: rebuilt on next use" }
        if cp < s.headSeq { return "\(s.headSeq - cp) events behind: caught up on next use" }
        return "current"
    }
    if format == .json {
        Console.out(JSONValue.array(status.map { s in
            .object(JSONObject([
                ("name", .string(s.name)), ("source", .string(s.source)), ("definition_digest", .string(s.definitionDigest)),
                ("checkpoint_seq", s.checkpointSeq.map(JSONValue.int) ?? .null), ("rows", .int(s.rows)),
                ("head_seq", .int(s.headSeq)), ("state", .string(state(s))),
            ]))
        }).rendered(pretty: true))
        return
    }
    var t = Table(headers: detailed ? ["projection", "checkpoint", "rows", "state"] : ["projection", "definition", "checkpoint", "rows"],
                  rightAligned: detailed ? [1, 2] : [2, 3])
    for s in status {
        let cp = s.checkpointSeq.map(String.init) ?? "–"
        t.rows.append(detailed ? [s.name, cp, String(s.rows), state(s)] : [s.name, String(s.definitionDigest.prefix(12)), cp, String(s.rows)])
    }
    Console.out(t.text())
}
