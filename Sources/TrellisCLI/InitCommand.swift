import ArgumentParser
import TrellisLedger

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty ledger.",
        discussion: "Example: trellis init --db north-pennines.db")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var postgres: PostgresInitOptions

    func run() throws {
        if ledger.isShared { try SharedLedger.initLedger(url: ledger.path, options: postgres); return }
        let existed = Ledger.exists(at: ledger.path)
        let l = try ledger.open(create: true)
        let head = try l.head()
        Console.out(existed ? "ledger \(l.path) already exists: \(head.seq) events, head \(head.hashHex)"
                            : "created empty ledger \(l.path)")
    }
}
