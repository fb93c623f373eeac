import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisResearch

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Build a study database from an archive: the events and every read model, in one SQLite file.",
        discussion: """
            Checks the archive, then writes a new SQLite file holding its events (table
            events), every built-in read model (attendance, membership, ties, reviews, …),
            the read models of your own definitions (--projection, format in
            projections/README.md) and study_meta (where it came from: archive head,
            pseudonymised or not, min_count). Open it with sqlite3, R (RSQLite) or Python
            (sqlite3); event fields are in events.data as JSON: json_extract(data,
            '$.org_id').

            The file is itself a Trellis ledger: 'trellis verify --db STUDY.db' re-checks
            it.

            Examples:
              trellis replay region.lz4 --out study.db
              trellis replay region.lz4 --out study.db --projection my_ties.sql --as-of 2025-08-31
              sqlite3 study.db "SELECT org_id, count(*) FROM attendance GROUP BY org_id"
            """)

    @Argument(help: ArgumentHelp("The archive written by 'trellis export'.", valueName: "archive"))
    var archive: String

    @Option(help: ArgumentHelp("The study database to create.", valueName: "study.db"))
    var out: String

    @Option(name: .customLong("projection"), help: ArgumentHelp("A projection definition of your own (repeatable); see projections/README.md.", valueName: "file.sql"))
    var projectionFiles: [String] = []

    @OptionGroup var time: TimeTravelOptions

    @Flag(help: "Replace the study database if it exists.")
    var force = false

    func run() throws {
        let definitions = try projectionFiles.map { try ProjectionDefinition.read(path: $0) }
        let bar = ProgressBar("replaying")
        let summary: StudySummary
        do {
            summary = try StudyBuilder.build(archive: archive, out: out,
                                             options: StudyOptions(definitions: definitions, knownAt: time.knownAt?.text, asOf: time.asOf?.text, force: force)) { _, done, total in
                bar.update(done, of: total, unit: "")
            }
        } catch {
            throw ArchiveCommands.failure(error, archive: archive, nothing: "written")
        }
        bar.finish()
        var when = ""
        if let k = time.knownAt { when += ", as known at \(k.text)" }
        if let a = time.asOf { when += ", read models as of \(a.text)" }
        Console.out("""
            built \(out): \(summary.events) events\(when), head \(summary.headHash)
            read models: \(summary.projections.joined(separator: ", ")); provenance in table study_meta
            open it with: sqlite3 \(out)
            """)
    }
}
