import TrellisLedger
import TrellisSheets

// TrellisSheets knows nothing of ledgers or exit codes; this module joins the two, so the
// sheet's reading error gets its exit code here.
extension SheetError: UserFacingError {
    /// A spreadsheet that cannot be read is bad input (65).
    public var exitCode: Int32 { 65 }
    public var diagnostic: String { description }
}

extension UnknownNetwork: UserFacingError {
    public var exitCode: Int32 { 64 }
    public var diagnostic: String { description }
}

extension SheetRejected: UserFacingError {
    public var exitCode: Int32 { 65 }
    public var details: [String] { [description] }
    public var diagnostic: String {
        "nothing was appended (\(problems.count)\(truncated ? "+" : "") error\(problems.count == 1 ? "" : "s"))"
    }
}
