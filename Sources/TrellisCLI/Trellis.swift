import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
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
        main(nil)
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

/// `--db`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger file, or a postgresql:// URL (init, import, verify --chain-only) (default: $TRELLIS_DB, else ./trellis.db).", valueName: "path"))
    var db: String?

    var path: String {
        if let db { return db }
        if let env = getenv("TRELLIS_DB"), let s = String(validatingCString: env), !s.isEmpty { return s }
        return "trellis.db"
    }

    func open(create: Bool = false) throws -> Ledger {
        if PostgresCLI.isURL(path) { throw PostgresCLI.unsupported(path) }
        return try Failure.guarded { try Ledger.open(at: path, create: create) }
    }
}

/// Turns every failure a user can cause into a message on stderr and the exit code CLI.md
/// gives it; nothing reaches the user as a stack trace.
enum Failure {
    @discardableResult
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ExitCode {
            throw e
        } catch let e as LedgerError {
            Console.err("trellis: \(e)")
            throw ExitCode(e.exitCode)
        } catch let e as AppendRejected {
            Console.err(e.description)
            Console.err("trellis: nothing was appended (\(e.errors.count)\(e.truncated ? "+" : "") error\(e.errors.count == 1 ? "" : "s"))")
            throw ExitCode(65)
        } catch let e as LineReader.Failure {
            Console.err("trellis: \(e)")
            throw ExitCode(e.exitCode)
        } catch let e as ValidationError {
            throw e
        } catch let e as DefinitionError {
            Console.err("trellis: projection definition: \(e)")
            throw ExitCode(65)
        } catch let e as ProjectionError {
            Console.err("trellis: \(e)")
            if case .beforeFirstEvent = e { throw ExitCode(64) }
            if case .unknown = e { throw ExitCode(64) }
            throw ExitCode(70)
        } catch {
            Console.err("trellis: internal error: \(error)")
            throw ExitCode(70)
        }
    }

    /// A usage problem found after parsing (exit 64).
    static func usage(_ message: String) -> ExitCode {
        Console.err("trellis: \(message)")
        return ExitCode(64)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv, ndjson, md, html, xlsx
}

/// Dates given on the command line: `YYYY-MM-DD` or the UK `DD/MM/YYYY` (``DayText``);
/// `text` is always `YYYY-MM-DD`.
struct DateArgument: ExpressibleByArgument {
    var days: Int
    var text: String
    init?(argument: String) {
        guard let d = DayText.parse(argument) else { return nil }
        days = d
        text = Timestamp.dateText(days: d)
    }
    static var defaultValueDescription: String { "YYYY-MM-DD" }

    /// For `@Option(transform:)`: a refusal that names the accepted forms.
    @Sendable static func parse(_ argument: String) throws -> DateArgument {
        guard let d = DateArgument(argument: argument) else { throw DateFormatError(text: argument) }
        return d
    }
}

/// A date the user typed in neither accepted form.
struct DateFormatError: Error, CustomStringConvertible {
    var text: String
    var description: String { "not a date; use \(DayText.expected)" }
}
