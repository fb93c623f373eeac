import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

@main
struct Trellis: ParsableCommand {
    static func main() {
        // A file-size limit (ulimit -f) must surface as "disk full", not kill the process:
        // SQLite then rolls the transaction back and nothing is half-written.
        signal(SIGXFSZ, SIG_IGN)
        Interruption.install()
        if let typo = CommandTypos.check(Array(CommandLine.arguments.dropFirst())) {
            Console.err("trellis: " + typo)
            Glibc.exit(64)
        }
        // Parsing (with validate()) first: its errors print the usage and exit 64.
        let parsed: ParsableCommand
        do { parsed = try parseAsRoot() } catch { exit(withError: error) }
        var command = parsed
        // The parser's own commands (help, completions) end as the parser says.
        let ours = String(reflecting: type(of: parsed)).hasPrefix("TrellisCLI.")
        do { try command.run() } catch { exit(withError: ours ? ErrorExit.reported(error) : error) }
    }

    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "An append-only, verifiable record of who takes part in a network of school trusts.",
        discussion: """
            Trellis records memberships, meetings and attendance, shared documents and peer
            reviews as events in a hash-chained log, and turns them into reports.

            Start with:  trellis init   then  trellis import events.ndjson   then  trellis status
            The ledger is ./trellis.db unless --db PATH or $TRELLIS_DB says otherwise.
            Dates are YYYY-MM-DD or, the UK way, DD/MM/YYYY (03/04/2026 is 3 April 2026).
            """,
        version: TrellisVersion.line,
        subcommands: [
            InitCommand.self, ImportCommand.self, AppendCommand.self, RetractCommand.self, EraseCommand.self,
            StatusCommand.self, LogCommand.self, VerifyCommand.self, AuditCommand.self,
            ProjectionsCommand.self, GenerateCommand.self, DemoCommand.self, ReportCommand.self,
            ExportCommand.self, ReplayCommand.self, ProofCommand.self, CheckpointCommand.self,
            OrgsCommand.self, RegisterCommand.self, RosterCommand.self,
        ])
}
