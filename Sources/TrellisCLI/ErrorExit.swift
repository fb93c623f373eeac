import ArgumentParser
import TrellisLedger

/// The one place where a failure becomes what the user sees: a ``UserFacingError`` prints its
/// details and `trellis: <diagnostic>` on stderr and exits with its own code (CLI.md); the
/// parser's errors and explicit exit codes pass through; anything else is an internal error
/// (exit 70). Never a stack trace.
enum ErrorExit {
    /// What `exit(withError:)` should end the process with, after printing the message.
    static func reported(_ error: Error) -> Error {
        switch error {
        case is ExitCode, is CleanExit, is ValidationError:
            return error
        case let e as UserFacingError:
            for line in e.details { Console.err(line) }
            Console.err("trellis: " + e.diagnostic)
            return ExitCode(e.exitCode)
        default:
            Console.err("trellis: internal error: \(error)")
            return ExitCode(70)
        }
    }
}
