/// An error a user can cause or meet, carrying what `trellis` says about it and the exit code
/// CLI.md gives it: 1 verification failed, 64 usage, 65 bad input (nothing was appended),
/// 66 missing input or ledger, 70 internal, 74 storage, 75 busy.
///
/// The library's error types adopt it where they are defined or next to them, so the one
/// place that turns errors into exit codes (the CLI's `main`) asks the error, never a list
/// of types.
///
/// ## Topics
/// - ``exitCode``
/// - ``diagnostic``
/// - ``details``
public protocol UserFacingError: Error {
    /// CLI.md's exit code for this error.
    var exitCode: Int32 { get }
    /// What went wrong, for standard error after `trellis: ` (one line where it can be).
    var diagnostic: String { get }
    /// Lines printed as they are before ``diagnostic``: a refused batch's per-line errors.
    var details: [String] { get }
}

extension UserFacingError {
    public var details: [String] { [] }
}

/// A failure with its message and exit code chosen where it happens (a usage problem found
/// after parsing, a file that cannot be written, a batch refused in some context).
public struct CommandFailure: UserFacingError, CustomStringConvertible, Sendable, Equatable {
    public var exitCode: Int32
    public var diagnostic: String
    public var details: [String]

    public init(exitCode: Int32, _ diagnostic: String, details: [String] = []) {
        self.exitCode = exitCode
        self.diagnostic = diagnostic
        self.details = details
    }

    /// A usage problem found once the command runs (exit 64).
    public static func usage(_ diagnostic: String) -> CommandFailure { CommandFailure(exitCode: 64, diagnostic) }

    /// Input that cannot be taken in (exit 65).
    public static func badInput(_ diagnostic: String) -> CommandFailure { CommandFailure(exitCode: 65, diagnostic) }

    public var description: String { diagnostic }
}

extension LedgerError: UserFacingError {
    public var diagnostic: String { description }
}

extension AppendRejected: UserFacingError {
    public var exitCode: Int32 { 65 }
    public var details: [String] { [description] }
    public var diagnostic: String {
        "nothing was appended (\(errors.count)\(truncated ? "+" : "") error\(errors.count == 1 ? "" : "s"))"
    }
}

extension LineReader.Failure: UserFacingError {
    public var diagnostic: String { description }
}

extension KeyFile.Failure: UserFacingError {
    public var diagnostic: String { description }
}

extension ScratchFailure: UserFacingError {
    /// The scratch copy could not be written: storage (74); the ledger is untouched.
    public var exitCode: Int32 { 74 }
    public var diagnostic: String { description }
}

extension ArchiveDivergence: UserFacingError {
    public var exitCode: Int32 { 65 }
    public var diagnostic: String { description }
}
