import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisPostgres
import TrellisCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and every piece of derived state: exit 0 if all agree with the log, 1 naming what differs.",
        discussion: """
            Publish the head hash it prints (in a board paper, say): anyone can later check that the log still leads to it. \
            Besides the chain, the log is replayed into a scratch file in $TMPDIR (every event re-checked against the append \
            rules) and the rule tables, retractions, person keys, triggers, checkpoints and read models are compared with \
            what it implies, and SQLite checks the structure of every page of the file (a damaged page of an index \
            no row of the log crosses is named too). --chain-only does the quick check: the chain and the triggers.
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("Check an archive written by 'trellis export' instead of the ledger.", valueName: "file"))
    var archive: String?

    @OptionGroup var anchor: CheckpointOptions

    @Flag(help: "Only the hash chain and the append-only triggers (quick): not the derived state.")
    var chainOnly = false

    @OptionGroup var projections: ProjectionOptions

    func run() throws {
        let anchor = try self.anchor.load()
        if let archive { try ArchiveCommands.verify(path: archive); try anchor?.verify(archive: archive, ledger: ledger); return }
        var server: PostgresStore?
        var sharedChain: PostgresStore.ChainReport?
        if ledger.isShared {
            // The shared log's own rows first; then its local cache, caught up (each event
            // copied is re-hashed and re-checked), is verified in full like a ledger file.
            let store = try PostgresStore.open(url: ledger.path)
            let shared = try SharedLedger.verifyChain(store)
            try SharedLedger.verifySchema(store, chain: shared)
            server = store
            sharedChain = shared
            if chainOnly {
                Console.out("ok: \(shared.events) events, head \(shared.head.hashHex)")
                try anchor?.verify(archive: nil, ledger: ledger)
                return
            }
        }
        let l: Ledger
        do { l = try ledger.open() } catch let v as SharedLogRuleViolation {
            // The cache cannot follow the shared log past an event the rules refuse: named as
            // a ledger file's verify names it.
            let chain = sharedChain.map { "\($0.events) events, head \($0.head.hashHex)" } ?? ""
            Console.out("broken: derived state differs from what the log implies (\(chain) chain correctly)")
            Console.out("derived state: the log breaks an append rule at \(v.violation); the rule tables were not compared")
            throw ExitCode(1)
        }
        let report: VerifyReport
        var derived: Result<(DerivedStateReport, [ReadModelVerdict]), any Error>?
        if chainOnly {
            let bar = ProgressBar("verifying")
            report = try l.verify { done, total in bar.update(done, of: total, unit: "events") }
            bar.finish()
        } else {
            // The chain is checked on another thread while the derived state is (each on its own
            // connections, over the same head); what is printed, and in which order, is as if one
            // ran after the other: a broken chain is reported alone (`derived` is then nil).
            (report, derived) = try l.verify(alongside: { chain in try DerivedStateCheck.check(engine: try projections.engine(l), chain: chain) })
        }
        for w in report.warnings { Console.err("warning: \(w)") }
        if let broken = report.broken {
            Console.out("broken at seq \(broken.seq): \(broken.why)")
            throw ExitCode(1)
        }
        if !report.damage.isEmpty {
            Console.out("broken: the file is damaged (SQLite's structural check of every page; \(report.events) events chain correctly, head \(Hex.encode(report.head)))")
            for line in report.damage { Console.out("damage: " + line) }
            throw ExitCode(1)
        }
        if !report.warnings.isEmpty {
            Console.out("broken: the ledger's schema is not the one Trellis creates (\(report.events) events chain correctly, head \(Hex.encode(report.head)))")
            throw ExitCode(1)
        }
        // Every check runs, so one verify names every problem; any failure is exit 1.
        var derivedDiffers = false
        if let derived {
            // A shared ledger's server keeps rule tables and keys of its own: compared with the cache's.
            let shared = server.map { store in { () throws -> Findings in try l.compareDerivedState(with: try store.derivedState()) } }
            do { try DerivedStateCheck.report(try derived.get(), chain: report, shared: shared) } catch let e as ExitCode where e == ExitCode(1) {
                derivedDiffers = true
            }
            try ReportCacheCheck.discard(projections.engine(l))
        } else {
            Console.out("ok: \(report.events) events, head \(Hex.encode(report.head))")
        }
        try anchor?.verify(archive: nil, ledger: ledger)
        if derivedDiffers { throw ExitCode(1) }
    }
}
