import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisProjections
import TrellisReports

extension ProjectionsCommand {
    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SHA-256 of each read model's canonical dump, to compare read models across machines.",
            discussion: """
                Rebuild and catch-up give the same digest. With --known-at or --as-of the read
                models are built for that moment in a temporary database.
                Example: trellis projections digest --known-at 2026-07-31 --format json
                """)
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var projections: ProjectionOptions
        @OptionGroup var time: TimeTravelOptions
        @Option(help: "table or json.") var format: TableOrJSON = .table

        func run() throws {
            let l = try ledger.open()
            let engine = try projections.engine(l)
            let bar = ProgressBar(time.isSet ? "building the read models for that moment" : "catching up the read models")
            let digests: [ProjectionEngine.Digest] = try {
                defer { bar.finish() }
                if time.isSet {
                    let snapshot = try engine.snapshot(knownAt: time.knownAt?.text, asOf: time.asOf?.text) { bar.update($0, of: $1, unit: "events") }
                    return try engine.digests(of: snapshot)
                }
                try engine.catchUp { bar.update($0, of: $1, unit: "events") }
                return try Ticker.run("computing the digests") { try engine.digests() }
            }()
            if format == .json {
                Console.out(JSONValue.object(JSONObject([
                    ("head_seq", .int(digests.first?.headSeq ?? 0)),
                    ("known_at", .optional(time.knownAt?.text)), ("as_of", .optional(time.asOf?.text)),
                    ("projections", .array(digests.map { d in
                        .object(JSONObject([("name", .string(d.name)), ("digest", .string(d.digest)), ("rows", .int(d.rows)), ("head_seq", .int(d.headSeq))]))
                    })),
                ])).rendered(pretty: true))
            } else {
                var t = Table(headers: ["projection", "rows", "digest (SHA-256)"], rightAligned: [1])
                for d in digests { t.rows.append([d.name, String(d.rows), d.digest]) }
                Console.out(t.text() + "\n\nat seq \(digests.first?.headSeq ?? 0)")
            }
        }
    }
}
