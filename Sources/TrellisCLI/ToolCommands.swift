import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisCore
import TrellisGenerator
#if canImport(Glibc)
import Glibc
#endif

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic synthetic region as NDJSON on standard output (deterministic for a seed).",
        discussion: """
            Several networks of trusts over English academic years: half-termly meetings and
            registers (some typed up weeks late), trusts drifting into isolation, document
            shares and adoptions, review triads (some overdue or withdrawn), members joining
            and leaving, a few retractions. About 42 events per organisation per year.
            Examples:
              trellis generate --seed 7 | trellis import -
              trellis generate --networks 12 --orgs 2500 --years 10 --events 1000000 > big.ndjson
            """)

    @Option(help: "Number of networks.") var networks = 3
    @Option(help: "Number of organisations in the region.") var orgs = 60
    @Option(help: "Academic years to cover.") var years = 3
    @Option(help: "Seed: the same options and seed give the same bytes.") var seed: UInt64 = 1
    @Option(help: "Stop after this many events.") var events: Int?
    @Option(help: "First academic year (2022 means 2022/23).") var startYear = 2022

    func validate() throws {
        if networks < 1 { throw ValidationError("--networks must be at least 1") }
        if orgs < 1 { throw ValidationError("--orgs must be at least 1") }
        if years < 1 || years > 100 { throw ValidationError("--years must be from 1 to 100") }
        if let events, events < 1 { throw ValidationError("--events must be at least 1") }
    }

    func run() throws {
        let generator = RegionGenerator(GeneratorOptions(networks: networks, orgs: orgs, years: years, seed: seed, maxEvents: events, startYear: startYear))
        var broken = false
        generator.runChunks { chunk in
            guard !broken else { return }
            var off = 0
            while off < chunk.count {
                let n = write(1, chunk.baseAddress! + off, chunk.count - off)
                if n <= 0 { if errno == EINTR { continue }; broken = true; return }  // reader went away (| head)
                off += n
            }
        }
    }
}

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
        guard fd >= 0 else { throw Failure.usage("cannot write \(input): \(String(cString: strerror(errno)))") }
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 60, years: 3, seed: seed)).runChunks { chunk in
            _ = write(fd, chunk.baseAddress, chunk.count)
        }
        close(fd)
        Console.out("generated \(input)")
        let ledger = try Failure.guarded { try Ledger.open(at: dbPath, create: true) }
        let reader = try Failure.guarded { try LineReader(path: input) }
        let outcome = try Failure.guarded { try ledger.append { visit in try reader.forEachLine { l, n, _ in try visit(l, n, nil) } } }
        reader.close()
        Console.out("imported into \(dbPath): appended \(outcome.appended), skipped \(outcome.skipped)")
        let report = try Failure.guarded { try ledger.verify() }
        Console.out(report.ok ? "verified: \(report.events) events, head \(Hex.encode(report.head))" : "verification FAILED")
        let engine = try Failure.guarded { try ProjectionEngine(ledger: ledger) }
        let bar = ProgressBar("building the read models")
        try Failure.guarded { try engine.catchUp { bar.update($0, of: $1, unit: "events") } }
        bar.finish()
        let summary = try Failure.guarded { try DemoSummary(ledger: ledger) }
        Console.out("\n" + summary.text)
        let registerNetwork = try DemoRegister.run(dir: dir, ledger: ledger)
        let reportPath = dir + "/report.html"
        let board = try ReportRun.guarded {
            try ReportSource(ledger: ledger, engine: engine).summary(ReportQuery(), commandLine: ReportRun.commandLine())
        }
        try Output.write(HTMLSummary.render(board), to: reportPath)
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

/// What `demo` prints: the region at a glance, from the read models.
struct DemoSummary {
    var text: String

    init(ledger: Ledger) throws {
        let counts: [(String, Int)] = try ledger.database.read { db in
            try [
                ("networks", "SELECT count(*) FROM networks"),
                ("organisations", "SELECT count(*) FROM organisations"),
                ("meetings", "SELECT count(*) FROM meetings"),
                ("counting attendance records", "SELECT count(*) FROM attendance"),
                ("documents shared", "SELECT count(*) FROM documents"),
                ("adoptions", "SELECT count(*) FROM adoptions"),
                ("reviews committed", "SELECT count(*) FROM reviews"),
                ("reviews completed", "SELECT count(*) FROM reviews WHERE completed_on IS NOT NULL"),
                ("reviews withdrawn", "SELECT count(*) FROM reviews WHERE withdrawn_on IS NOT NULL"),
                ("outcomes shared", "SELECT count(DISTINCT review_id) FROM review_shares"),
                ("retracted events", "SELECT count(*) FROM retractions"),
            ].map { ($0.0, try Int.fetchOne(db, sql: $0.1) ?? 0) }
        }
        var t = TextTable(headers: ["in the region", "count"])
        t.rightAligned = [1]
        t.rows = counts.map { [$0.0, String($0.1)] }
        text = t.render()
    }
}
