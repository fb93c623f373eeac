/// What `trellis --version` prints: the release, and the on-disk ledger format it writes
/// (an older Trellis refuses a ledger whose format is higher than its own).
public enum TrellisVersion {
    /// The release; the one place it is written.
    public static let release = "0.9.0"

    /// `ledger_meta.format` of the ledgers this build creates.
    public static var ledgerFormat: Int { Schema.format }

    /// `trellis 0.9.0 (ledger format 1)`.
    public static var line: String { "trellis \(release) (ledger format \(ledgerFormat))" }
}
