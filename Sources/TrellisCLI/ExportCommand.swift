import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisResearch

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log (or a prefix of it) to a verifiable archive for researchers.",
        discussion: """
            An archive is one LZ4 frame (read it with: lz4 -dc FILE | head) of NDJSON: a
            manifest line, then every event exactly as 'trellis log --format ndjson'
            prints it, with seq, recorded_at and hash. Anyone can check it with 'trellis
            verify --archive FILE', and 'trellis import FILE' rebuilds a ledger with the
            same head hash.

            Personal fields stay sealed and no keys are exported, so people show as
            (erased) wherever the archive is imported.

            --pseudonymise replaces every organisation, person, network, meeting, document,
            review and event id by a keyed pseudonym (org-3f2a…), drops personal fields
            and withholds free text that can name people or organisations (actor, titles,
            reasons, names, roles, partners, moderators). The same key file gives the same
            pseudonyms, so two exports for one study join up. Make a key once and keep it
            secret:
              head -c 32 /dev/urandom > study.key

            Examples:
              trellis export --out region-2026.trellis.lz4
              trellis export --out autumn.lz4 --known-at 2025-12-31 --hc
              trellis export --out study.lz4 --pseudonymise --key study.key --min-count 5
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The archive file to write.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Export events 1 to S only.", valueName: "S"))
    var untilSeq: Int64?

    @Option(help: ArgumentHelp("Export what the ledger knew at T (events recorded by then; a date means 00:00Z).", valueName: "T"))
    var knownAt: InstantArgument?

    @Flag(help: "LZ4 HC (level 9): a smaller file, several times slower to write, as fast to read.")
    var hc = false

    @Flag(help: "Replace identifiers by keyed pseudonyms and withhold personal data and free text (needs --key).")
    var pseudonymise = false

    @Option(help: ArgumentHelp("The secret key file for --pseudonymise: 32 random bytes, or 64 hex digits.", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("Recorded in the manifest: reports computed from the archive suppress cells counting fewer than K.", valueName: "K"))
    var minCount: Int64?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    @Option(help: "Output: table (a sentence) or json.")
    var format: TableOrJSON = .table

    func validate() throws {
        if untilSeq != nil && knownAt != nil { throw ValidationError("give --until-seq or --known-at, not both") }
        if let untilSeq, untilSeq < 1 { throw ValidationError("--until-seq must be at least 1") }
        if pseudonymise && key == nil { throw ValidationError("--pseudonymise needs --key FILE (make one with: head -c 32 /dev/urandom > study.key)") }
        if !pseudonymise && key != nil { throw ValidationError("--key is only used with --pseudonymise") }
        if let minCount, minCount < 1 { throw ValidationError("--min-count must be at least 1") }
    }

    func run() throws {
        let pseudonymiser = try key.map { Pseudonymiser(key: try PseudonymKey(path: $0)) }
        let l = try ledger.open()
        let options = ExportOptions(untilSeq: untilSeq, knownAt: knownAt?.text, highCompression: hc,
                                    pseudonymiser: pseudonymiser, minCount: minCount, force: force)
        let bar = ProgressBar("exporting")
        let started = Timestamp.monotonic()
        let summary = try ArchiveExporter.export(from: l, to: out, options: options) { done, total in bar.update(done, of: total, unit: "events") }
        bar.finish()
        let seconds = Timestamp.monotonic() - started
        let m = summary.manifest
        if let k = summary.uniqueness {
            Console.err("k-anonymity: \(k.unique) of \(k.organisations) organisations are unique by (kind, schools band, region)")
        }
        if format == .json {
            Console.out(JSONValue.object(JSONObject([
                ("out", .string(out)), ("events", .int(m.events)), ("first_seq", m.firstSeq.map(JSONValue.int) ?? .null),
                ("last_seq", m.lastSeq.map(JSONValue.int) ?? .null), ("head_hash", .string(m.headHash)),
                ("pseudonymised", .bool(m.options.pseudonymised)), ("ndjson_bytes", .int(summary.ndjsonBytes)),
                ("archive_bytes", .int(summary.archiveBytes)), ("seconds", .double(seconds)),
            ])).rendered(pretty: true))
        } else {
            let ratio = summary.archiveBytes > 0 ? Double(summary.ndjsonBytes) / Double(summary.archiveBytes) : 0
            Console.out("""
                exported \(m.events) events (seq 1–\(m.lastSeq ?? 0)\(m.options.pseudonymised ? ", pseudonymised" : "")) to \(out)
                head \(m.headHash)
                \(summary.ndjsonBytes) bytes of NDJSON in \(summary.archiveBytes) bytes (ratio \(format2(ratio))), \(format2(seconds)) s
                """)
        }
    }
}
