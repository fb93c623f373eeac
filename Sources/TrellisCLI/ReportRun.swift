import TrellisLedger
import TrellisProjections
import TrellisReports

/// Opens the read models for a report (caught up, or a time-travel snapshot), with progress.
enum ReportRun {
    static func source(_ options: ReportOptions) throws -> ReportSource {
        let ledger = try options.ledger.open()
        let engine = try options.projections.engine(ledger)
        let bar = ProgressBar(options.time.knownAt != nil || options.time.asOf != nil ? "building the read models for that moment" : "catching up the read models")
        defer { bar.finish() }
        return try ReportSource(ledger: ledger, engine: engine, knownAt: options.time.knownAt?.text, asOf: options.time.asOf?.text) { done, total in
            bar.update(done, of: total, unit: "events")
        }
    }

    /// Computes a report's figures, with a ticker on a terminal when that takes a while.
    static func figures<T>(_ body: () throws -> T) throws -> T {
        try Ticker.run("computing the figures", body)
    }

    /// The command line as typed, program name as `trellis`.
    static func commandLine() -> String {
        Provenance.shellLine(["trellis"] + CommandLine.arguments.dropFirst())
    }
}
