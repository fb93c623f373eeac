import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisProjections
import TrellisReports

extension ProjectionsCommand {
    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild read models from seq 1 (all, or the ones named).",
            discussion: "Readers see the previous tables until the rebuilt ones are swapped in, in one transaction.")
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @Argument(help: "Projection names (default: all).") var names: [String] = []

        func run() throws {
            let l = try ledger.open()
            let engine = try projections.engine(l)
            let bar = ProgressBar("rebuilding")
            let started = Timestamp.monotonic()
            try engine.rebuild(names) { bar.update($0, of: $1, unit: "events") }
            bar.finish()
            let head = try l.head()
            Console.out("rebuilt \(names.isEmpty ? engine.definitions.map(\.name).joined(separator: ", ") : names.joined(separator: ", ")) at seq \(head.seq) in \(String(format2(Timestamp.monotonic() - started))) s")
        }
    }
}
