import TrellisCore
import TrellisLedger
import TrellisProjections
import TrellisReports

/// An organisation named on the command line by id or by name (``OrganisationMatcher``);
/// unknown or ambiguous is a usage error (exit 64, ``ReportError``), as for `report --org`.
enum OrganisationArgument {
    static func resolve(_ text: String, in ledger: Ledger) throws -> String {
        if try ledger.knows(.organisation, text) { return text }
        let bar = ProgressBar("catching up the read models")
        defer { bar.finish() }
        let source = try ReportSource(ledger: ledger, engine: ProjectionEngine(ledger: ledger)) { bar.update($0, of: $1, unit: "events") }
        return try source.organisation(named: text)
    }
}
