import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisGenerator
import TrellisProjections
import TrellisReports
#if canImport(Glibc)
import Glibc
#endif

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a region, import it into a fresh ledger, build the read models, print a summary and write the board report.",
        discussion: "Writes DIR/region.ndjson, DIR/trellis.db, DIR/register.csv (a filled-in register, imported) and DIR/report.html (trellis report summary --format html of the latest academic year).")

    @Option(help: "Where to write region.ndjson, trellis.db and report.html.") var dir = "demo"
    @Option(help: "Seed of the synthetic region.") var seed: UInt64 = 1

    func run() throws {
        mkdir(dir, 0o755)
        let input = dir + "/region.ndjson"
        let dbPath = dir + "/trellis.db"
        for s in ["", "-wal", "-shm"] { unlink(dbPath + s) }
        let fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CommandFailure.usage("cannot write \(input): \(String(cString: strerror(errno)))") }
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 60, years: 3, seed: seed)).runChunks { chunk in
            _ = write(fd, chunk.baseAddress, chunk.count)
        }
        close(fd)
        Console.out("generated \(input)")
        let ledger = try Ledger.open(at: dbPath, create: true)
        let reader = try LineReader(path: input)
        let outcome = try ledger.append { visit in try reader.forEachLine { l, n, _ in try visit(l, n, nil) } }
        reader.close()
        Console.out("imported into \(dbPath): appended \(outcome.appended), skipped \(outcome.skipped)")
        let report = try ledger.verify()
        Console.out(report.ok ? "verified: \(report.events) events, head \(Hex.encode(report.head))" : "verification FAILED")
        let engine = try ProjectionEngine(ledger: ledger)
        let bar = ProgressBar("building the read models")
        try engine.catchUp { bar.update($0, of: $1, unit: "events") }
        bar.finish()
        let counts = try ReportSource(ledger: ledger, engine: engine).regionCounts()
        Console.out("\n" + Table(headers: ["in the region", "count"], rows: counts.map { [$0.what, String($0.count)] }, rightAligned: [1]).text())
        let registerNetwork = try DemoRegister.run(dir: dir, ledger: ledger)
        let reportPath = dir + "/report.html"
        // A new source: the register's events are caught up first.
        let board = try ReportSource(ledger: ledger, engine: engine).summary(ReportQuery(), commandLine: ReportRun.commandLine())
        try AtomicFile.write(HTMLSummary.render(board), to: reportPath)
        Console.out("\nwrote \(reportPath): the board report for \(Show.period(board.scope.period))")
        // Commands that work from here: this binary as the user can type it, the renderer only if present.
        let me = Provenance.shellLine([Here.executable()])
        let db = Provenance.shellLine([dbPath])
        Console.out("\nTry:  \(me) status --db \(db)")
        Console.out("      \(me) audit --db \(db) org0001")
        Console.out("      sqlite3 \(db) 'SELECT * FROM ties LIMIT 5'")
        Console.out("      \(me) report participation --db \(db)")
        if let n = registerNetwork {
            Console.out("      \(me) register import \(Provenance.shellLine([dir + "/register.csv"])) --db \(db) --network \(n) --dry-run")
        }
        if let renderer = Here.renderer() {
            Console.out("      " + Provenance.shellLine([renderer, reportPath, dir + "/report.png"]))
        }
    }
}
