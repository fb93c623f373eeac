import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Participation, review coverage, the collaboration graph, outcomes, documents, and a board summary.",
        discussion: """
            Every figure is computed from the read models; docs/figures.md (installed in
            share/doc/trellis) gives each one's exact definition. In a sentence each:
              participation rate  present / meetings expected while a member; a
                                  network's is the mean of its members' rates, its
                                  attendance rate total present / total expected
              review coverage     share of the members on day d reviewed in (d - W, d]
              reviewer coverage   share of them that reviewed in that window
              overdue             committed by d, due before d, not completed or
                                  withdrawn by d
              outcome sharing     share of the window's completed reviews whose
                                  outcome was shared by d
              graph figures       density, betweenness, clustering, components,
                                  reciprocity, E-I index (see report graph --help)
              documents           shared, adopted, and adoptions received, in the period

            Which networks: --network ID (repeatable); default every network. An unknown id
            exits 64 and lists the known ones. --org ID-or-NAME (repeatable) narrows the
            rows of participation and documents to some organisations.
            Which period (closed-open, by the day things occurred):
              --year 2025/26            1 September 2025 to 31 August 2026
              --from D --to D           [D, D); --from alone runs to the end of that
                                        academic year, --to alone from its start
              (default)                 the academic year of the latest meeting of the
                                        chosen networks (with --as-of T: the latest by T)
            When: --as-of T (the world as it was at T) and/or --known-at T (what the ledger
            knew at T: reproduces an earlier report byte for byte).
            Output: --format table (default on a terminal) | json (default otherwise) |
            csv | md | xlsx (a workbook: an About sheet, then typed sheets), and more per
            report; --out FILE writes to a file (format from its extension when --format is
            not given; an extension that contradicts --format is refused).

            Examples:
              trellis report participation --network n01 --year 2024/25
              trellis report coverage --on 2025-07-31 --format json
              trellis report graph --slice term --format gexf --out waves.gexf
              trellis report summary --format html --out board-report.html

            Exit codes: 64 usage (unknown network or organisation, bad or backward dates,
            --known-at before the first event), 66 no ledger or --out cannot be written.
            --org takes an id or a name (case, spaces and punctuation ignored); a period or
            --on day where the ledger has no events still reports (all empty) but warns on
            stderr and in JSON ("warnings": [...]). Dates: YYYY-MM-DD or DD/MM/YYYY.
            """,
        subcommands: [Participation.self, Coverage.self, Graph.self, Outcomes.self, Documents.self, Summary.self])

    struct Participation: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Meetings expected, present, apologies, absent and the participation rate of every member.",
            discussion: """
                Lists every organisation that was a member of the network on any day of the
                period. Meetings expected: the network's meetings in the period held on a day
                the organisation was a member. Rate: present ÷ expected, '–' (JSON null) when
                nothing was expected. The network's participation rate is the mean of its
                members' rates; its attendance rate is total present ÷ total expected.
                Example: trellis report participation --network n01 --year 2024/25 --format csv > n01.csv
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: ReportFormat?

        func validate() throws { try options.check(format, allowed: [.table, .json, .csv, .md, .xlsx]) }

        func run() throws {
            let source = try ReportRun.source(options)
            let (report, provenance) = try ReportRun.figures { try source.participation(options.query) }.pair
            if try options.writeXLSX(format, { () throws(SheetError) in try XLSXReports.participation(report, provenance: provenance) }) { return }
            try options.emit(options.format(format), json: { JSONReports.participation(report, provenance: provenance) },
                             sections: { TextReports.participation(report) }, heading: "Participation",
                             csv: { TextReports.participationCSV(report) })
        }
    }

    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review coverage, reviewer coverage, overdue commitments and outcome sharing on a day.",
            discussion: """
                On day d with a window of W days: of the members on d, the share reviewed
                (reviewee of a review of the network completed in (d − W, d]) and the share
                that reviewed; overdue commitments (committed by d, due before d, neither
                completed nor withdrawn by d); completed reviews in the window whose outcome
                was shared by d. "By d" means on or before day d.
                Default d: the last day of the period, or, if earlier, the latest day with a
                meeting, a join or leave, or a review step in the chosen networks (so a
                report of the current year is "as of the latest news", not of a future day).
                Example: trellis report coverage --on 2025-07-31 --window-days 365
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "The day d (default: see above).", transform: DateArgument.parse) var on: DateArgument?
        @Option(help: "The window W in days.") var windowDays: Int = CoverageFigures.defaultWindowDays
        @Option(help: "table, json, csv, md or xlsx.") var format: ReportFormat?

        func validate() throws {
            try options.check(format, allowed: [.table, .json, .csv, .md, .xlsx])
            if windowDays < 1 { throw ValidationError("--window-days must be at least 1") }
        }

        func run() throws {
            let source = try ReportRun.source(options)
            let (report, provenance) = try ReportRun.figures { try source.coverage(options.query, on: on?.days, windowDays: windowDays) }.pair
            if try options.writeXLSX(format, { () throws(SheetError) in try XLSXReports.coverage(report, provenance: provenance) }, day: on?.days) { return }
            try options.emit(options.format(format), json: { JSONReports.coverage(report, provenance: provenance) },
                             sections: { TextReports.coverage(report) }, heading: "Review coverage",
                             csv: { TextReports.coverageCSV(report) }, day: on?.days)
        }
    }

    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The collaboration graph and its network figures; exports for Gephi, networkx, Pajek, Graphviz.",
            discussion: """
                Nodes: organisations that were members of the chosen networks on any day of the
                period. Edge weight: ties of the chosen kinds in the period, both directions
                summed (co_attendance: meetings both attended; document: adoptions; review:
                completed reviews, per reviewer). An edge's columns for kinds not chosen are 0.
                Per node: degree, weighted degree, betweenness (unweighted, normalised as
                networkx), clustering, component. Reciprocity is of the directed review ties
                among the nodes, whatever --ties says. E-I index across networks counts an
                organisation in several networks in the one it was a member of on most days
                of the period (ties: the smallest id); across regions, by its region.

                --slice year|term: one graph per academic year, or per term (autumn
                September–December, spring January–March, summer April–August), each
                clipped to the period; in json, csv, table, md and gexf (as spells).

                Formats: table, json, csv (edge list; --nodes FILE writes the node table),
                md, graphml, gexf (1.3), pajek (.net, labels are organisation ids), dot,
                xlsx (Nodes and Edges sheets).
                Examples:
                  trellis report graph --format graphml --out region.graphml
                  trellis report graph --ties review --format csv --nodes n.csv --out e.csv
                  trellis report graph --slice term --format gexf --out waves.gexf
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: ArgumentHelp("Kinds of tie, comma-separated: co_attendance, document, review (default: all).", valueName: "kinds"))
        var ties: String?
        @Option(help: ArgumentHelp("One graph per year or per term.", valueName: "year|term")) var slice: String?
        @Option(help: ArgumentHelp("With --format csv: also write the node table to this file.", valueName: "file")) var nodes: String?
        @Option(help: "table, json, csv, md, graphml, gexf, pajek, dot or xlsx.") var format: ReportFormat?

        func validate() throws {
            try options.check(format, allowed: [.table, .json, .csv, .md, .graphml, .gexf, .pajek, .dot, .xlsx])
            _ = try kinds()
            if let slice, Period.Slicing(rawValue: slice) == nil { throw ValidationError("--slice must be year or term") }
            let f = options.format(format)
            if slice != nil, [.graphml, .pajek, .dot].contains(f) {
                throw ValidationError("--slice works with --format json, csv, table, md or gexf (GEXF keeps the slices as spells)")
            }
            if nodes != nil, f != .csv { throw ValidationError("--nodes goes with --format csv") }
        }

        func kinds() throws -> [TieKind] {
            guard let ties else { return TieKind.allCases }
            var out: [TieKind] = []
            for part in ties.split(separator: ",") {
                let name = String(part).trimmingWhitespace()
                guard let k = TieKind(rawValue: name) else {
                    throw ValidationError("unknown kind of tie '\(name)'; one of " + TieKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                if !out.contains(k) { out.append(k) }
            }
            if out.isEmpty { throw ValidationError("--ties needs at least one kind") }
            return out
        }

        func run() throws {
            let source = try ReportRun.source(options)
            let kinds = try kinds()
            let slicing = slice.flatMap(Period.Slicing.init(rawValue:))
            let (report, provenance) = try ReportRun.figures { try source.graph(options.query, kinds: kinds, slicing: slicing) }.pair
            let f = options.format(format)
            try options.refuseUnlessJSON(f)
            if ![.table, .json, .md].contains(f) { _ = try options.warnings(day: nil) }
            switch f {
            case .graphml: try options.write(GraphExports.graphML(report))
            case .gexf: try options.write(GraphExports.gexf(report))
            case .pajek: try options.write(GraphExports.pajek(report.whole))
            case .dot: try options.write(GraphExports.dot(report))
            case .xlsx: _ = try options.writeXLSX(f, { () throws(SheetError) in try XLSXReports.graph(report, provenance: provenance) }, warned: true)
            case .csv:
                if let nodes { try Output.write(GraphExports.nodesCSV(report).csv(), to: nodes) }
                try options.write(GraphExports.edgesCSV(report).csv())
            default:
                try options.emit(f, json: { JSONReports.graph(report, provenance: provenance) },
                                 sections: { TextReports.graph(report) }, heading: "Collaboration graph",
                                 csv: { GraphExports.edgesCSV(report) })
            }
        }
    }

    struct Outcomes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review outcomes by area: judgement counts and actions agreed, among reviews completed in the period.",
            discussion: "Example: trellis report outcomes --year 2024/25 --format md > outcomes.md")
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: ReportFormat?

        func validate() throws { try options.check(format, allowed: [.table, .json, .csv, .md, .xlsx]) }

        func run() throws {
            let source = try ReportRun.source(options)
            let (report, provenance) = try ReportRun.figures { try source.outcomes(options.query) }.pair
            if try options.writeXLSX(format, { () throws(SheetError) in try XLSXReports.outcomes(report, provenance: provenance) }) { return }
            try options.emit(options.format(format), json: { JSONReports.outcomes(report, provenance: provenance) },
                             sections: { TextReports.outcomes(report) }, heading: "Review outcomes",
                             csv: { TextReports.outcomesCSV(report) })
        }
    }

    struct Documents: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Documents shared and adopted, per organisation and kind.",
            discussion: """
                Shared: documents an organisation shared in the network in the period. Adopted:
                adoptions it made in the period of documents shared in the network. Received:
                adoptions by others in the period of documents it shared. Every member in the
                period is listed, with zeros when it did nothing.
                Example: trellis report documents --network n02 --format csv > documents.csv
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "table, json, csv, md or xlsx.") var format: ReportFormat?

        func validate() throws { try options.check(format, allowed: [.table, .json, .csv, .md, .xlsx]) }

        func run() throws {
            let source = try ReportRun.source(options)
            let (report, provenance) = try ReportRun.figures { try source.documents(options.query) }.pair
            if try options.writeXLSX(format, { () throws(SheetError) in try XLSXReports.documents(report, provenance: provenance) }) { return }
            try options.emit(options.format(format), json: { JSONReports.documents(report, provenance: provenance) },
                             sections: { TextReports.documents(report) }, heading: "Documents",
                             csv: { TextReports.documentsCSV(report) })
        }
    }

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every report in one: a board-ready HTML page for trustees, or table/json/md/csv.",
            discussion: """
                --format html writes one self-contained file (no scripts, nothing fetched;
                charts and the collaboration graph as inline SVG), print-ready on A4, with a
                provenance footer: head seq and hash, read-model digests, the command line,
                --as-of/--known-at. It shows no clock time, so the same ledger and options give
                the same bytes: run it again with --known-at to reproduce a past report.
                Example: trellis report summary --year 2024/25 --format html --out board-2024-25.html
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: "The day of the review figures (default: as report coverage).", transform: DateArgument.parse) var on: DateArgument?
        @Option(help: "The review window in days.") var windowDays: Int = CoverageFigures.defaultWindowDays
        @Option(help: "html, table, json, md, csv or xlsx (one sheet per section).") var format: ReportFormat?
        @Option(help: ArgumentHelp("With --format html: sign a checkpoint of the tree at the report's head with this key (from 'trellis checkpoint keygen') and print it in the footer.", valueName: "NAME.key"))
        var checkpointKey: String?

        func validate() throws {
            try options.check(format, allowed: [.html, .table, .json, .md, .csv, .xlsx])
            if checkpointKey != nil && options.format(format) != .html { throw ValidationError("--checkpoint-key is used with --format html") }
            if windowDays < 1 { throw ValidationError("--window-days must be at least 1") }
        }

        func run() throws {
            let source = try ReportRun.source(options)
            let summary = try ReportRun.figures {
                try source.summary(options.query, on: on?.days, windowDays: windowDays, commandLine: ReportRun.commandLine())
            }
            let f = options.format(format)
            try options.refuseUnlessJSON(f)
            if try options.writeXLSX(f, { () throws(SheetError) in try XLSXReports.summary(summary) }, day: on?.days) { return }
            if f == .html {
                _ = try options.warnings(day: on?.days)
                let checkpoint = try checkpointKey.map { try Anchors.summaryCheckpoint(keyPath: $0, ledger: options.ledger, size: summary.provenance.headSeq) }
                try options.write(HTMLSummary.render(summary, checkpoint: checkpoint))
            } else {
                try options.emit(f, json: { JSONReports.summary(summary) }, sections: { TextReports.summary(summary) },
                                 heading: "Network summary", csv: { TextReports.summaryCSV(summary) }, day: on?.days)
            }
        }
    }
}

extension Reported {
    var pair: (Report, Provenance) { (report, provenance) }
}

/// Output formats of the reports (a superset of `OutputFormat`: the graph formats).
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv, md, html, graphml, gexf, pajek, dot, xlsx

    /// From a file name's extension.
    init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), !fileName[dot...].contains("/") else { return nil }
        switch fileName[fileName.index(after: dot)...].lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        case "md", "markdown": self = .md
        case "html", "htm": self = .html
        case "graphml": self = .graphml
        case "gexf": self = .gexf
        case "net", "pajek": self = .pajek
        case "dot", "gv": self = .dot
        case "txt": self = .table
        case "xlsx": self = .xlsx
        default: return nil
        }
    }
}

/// What every report takes: the ledger, networks, period, moment, projections, output.
struct ReportOptions: ParsableArguments {
    @OptionGroup var ledger: LedgerOptions
    @Option(name: .customLong("network"), help: ArgumentHelp("A network id (repeatable; default: every network).", valueName: "id"))
    var networks: [String] = []
    @Option(name: .customLong("org"), help: ArgumentHelp("Show only this organisation, by id or name (repeatable; participation and documents). The network's own figures stay those of all its members.", valueName: "id|name"))
    var organisations: [String] = []
    @Option(help: "First day of the period (inclusive).", transform: DateArgument.parse) var from: DateArgument?
    @Option(help: "The day after the period (exclusive): --to 2026-09-01 ends on 31 August.", transform: DateArgument.parse) var to: DateArgument?
    @Option(help: ArgumentHelp("An academic year: 2025/26 is 1 September 2025 to 31 August 2026.", valueName: "YYYY/YY"))
    var year: AcademicYearArgument?
    @OptionGroup var time: TimeTravelOptions
    @OptionGroup var projections: ProjectionOptions
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out: String?
    @Option(help: ArgumentHelp("Suppress counts below K (and rates computed from them) in the JSON output; a study file built from an archive exported with --min-count applies its own K, which this cannot lower.", valueName: "K"))
    var minCount: Int64?

    func validate() throws {
        if year != nil && (from != nil || to != nil) { throw ValidationError("give either --year or --from/--to, not both") }
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
    }

    func check(_ format: ReportFormat?, allowed: [ReportFormat]) throws {
        let f = self.format(format)
        if !allowed.contains(f) {
            throw ValidationError("--format must be " + allowed.map(\.rawValue).joined(separator: ", ") + (format == nil ? " (--out \(out ?? "") suggests \(f.rawValue))" : ""))
        }
        try ReportFormat.checkOut(out, against: format)
        try Output.refuseBinaryOnTerminal(xlsx: f == .xlsx, out: out)
    }

    /// With `--format xlsx` (or an `.xlsx` --out): writes the workbook and returns true.
    func writeXLSX(_ format: ReportFormat?, _ workbook: () throws(SheetError) -> [UInt8], day: Int? = nil, warned: Bool = false) throws -> Bool {
        guard self.format(format) == .xlsx else { return false }
        try refuseUnlessJSON(.xlsx)
        if !warned { _ = try warnings(day: day) }
        let bytes: [UInt8]
        do { bytes = try workbook() } catch {
            Console.err("trellis: cannot build the workbook: \(error)")
            throw ExitCode(70)
        }
        try Output.emit(bytes, to: out)
        return true
    }

    /// The period asked for, nil for the default.
    var period: Period? {
        if let year { return year.period }
        switch (from, to) {
        case let (f?, t?): return Period(from: f.days, to: t.days)
        case let (f?, nil): return Period(from: f.days, to: Period.academicYear(containing: f.days).to)
        case let (nil, t?): return Period(from: Period.academicYear(containing: t.days - 1).from, to: t.days)
        default: return nil
        }
    }

    var query: ReportQuery { ReportQuery(networks: networks, period: period, organisations: organisations) }

    /// Explicit, else from --out's extension, else table on a terminal and json otherwise.
    func format(_ explicit: ReportFormat?) -> ReportFormat {
        if let explicit { return explicit }
        if let out, let f = ReportFormat(fileName: out) { return f }
        return out == nil && Console.stdoutIsTTY ? .table : .json
    }

    /// `humanText` (table, Markdown): control characters neutralised on a terminal; other
    /// formats are written exactly (JSON escapes them itself).
    func write(_ text: String, humanText: Bool = false) throws {
        if let out { try Output.write(text, to: out) } else {
            var sink = Sink(fd: 1)
            if humanText { sink.write(text) } else { sink.write(raw: text) }
            sink.flush()
        }
    }

    /// K when small cells must be suppressed: the larger of `--min-count` and the study
    /// file's own `study_meta.min_count`.
    func smallCellThreshold() throws -> Int64? {
        let path = ledger.path
        let studyK: Int64? = Ledger.exists(at: path) ? try Failure.guarded {
            try Ledger.open(at: path).database.read { db -> Int64? in
                guard try db.tableExists("study_meta") else { return nil }
                return try Int64.fetchOne(db, sql: "SELECT value FROM study_meta WHERE key = 'min_count'")
            }
        } : nil
        switch (minCount, studyK) {
        case let (a?, b?): return max(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }

    /// Under suppression only JSON is written (see ``SmallCells``).
    func refuseUnlessJSON(_ format: ReportFormat) throws {
        if format != .json, let k = try smallCellThreshold(), k > 1 {
            throw Failure.usage("counts below \(k) must be suppressed here (--min-count or the study file's min_count): use --format json, where they are null")
        }
    }

    /// ``ReportWarnings`` for the period asked for and `day`, printed on stderr.
    func warnings(day: Int?) throws -> [String] {
        let found = try ReportWarnings.outside(ledger: ledger.open(), period: period, day: day)
        for w in found { Console.err("trellis: warning: " + w) }
        return found
    }

    func emit(_ format: ReportFormat, json: () -> JSONValue, sections: () -> [Section], heading: String, csv: () -> Table,
              day: Int? = nil) throws {
        try refuseUnlessJSON(format)
        let warnings = try self.warnings(day: day)
        switch format {
        case .json:
            var document = json()
            if !warnings.isEmpty, case .object(var o) = document {
                o["warnings"] = .array(warnings.map(JSONValue.string))
                document = .object(o)
            }
            if let k = try smallCellThreshold(), k > 1 { document = SmallCells.suppress(document, below: k) }
            try write(document.rendered(pretty: true) + "\n")
        case .csv: try write(csv().csv())
        case .md: try write(TextReports.markdown(sections(), heading: heading), humanText: true)
        default: try write(TextReports.text(sections(), width: out == nil ? Terminal.columns() : 80), humanText: true)
        }
    }
}

extension ReportFormat {
    /// `--out x.xlsx --format json` is refused: the file would not be what its name says.
    static func checkOut(_ out: String?, against explicit: ReportFormat?) throws {
        guard let out, let explicit, let implied = ReportFormat(fileName: out), implied != explicit else { return }
        // .txt names plain text, which table and md both are.
        if implied == .table && explicit == .md { return }
        let ext = out[out.index(after: out.lastIndex(of: ".") ?? out.startIndex)...]
        throw ValidationError("--out \(out) but --format \(explicit.rawValue): use --format \(implied.rawValue) or a .\(explicit.fileExtension) name (not .\(ext))")
    }

    var fileExtension: String {
        switch self {
        case .table: "txt"
        case .pajek: "net"
        default: rawValue
        }
    }
}

/// `2025/26`.
struct AcademicYearArgument: ExpressibleByArgument {
    var period: Period
    init?(argument: String) {
        guard let p = Period.parseAcademicYear(argument) else { return nil }
        period = p
    }
    static var defaultValueDescription: String { "YYYY/YY, e.g. 2025/26" }
}

/// Files written by reports: all or nothing (a temporary file renamed into place).
enum Output {
    /// Machine bytes (xlsx, CSV, JSON) to `--out` (all or nothing) or standard output, exactly.
    static func emit(_ bytes: [UInt8], to out: String?) throws {
        if let out { try write(bytes: bytes, to: out); return }
        var sink = Sink(fd: 1)
        sink.write(bytes: bytes)
        sink.flush()
    }

    /// A workbook is binary: never to a terminal (exit 64).
    static func refuseBinaryOnTerminal(xlsx: Bool, out: String?) throws {
        if xlsx && out == nil && Console.stdoutIsTTY {
            throw ValidationError("xlsx is a binary file: give --out FILE.xlsx (or redirect standard output to a file)")
        }
    }

    /// `--format` as given, else what `--out`'s extension names (`.xlsx`, `.json`, `.csv`, …), else table.
    static func format(_ explicit: OutputFormat?, out: String?) -> OutputFormat {
        explicit ?? out.flatMap { ReportFormat(fileName: $0) }.flatMap { OutputFormat(rawValue: $0.rawValue) } ?? .table
    }

    static func write(_ text: String, to path: String) throws {
        try write(bytes: Array(text.utf8), to: path)
    }

    static func write(bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        TemporaryFiles.register(tmp)  // removed on SIGINT/SIGTERM
        defer { TemporaryFiles.release(tmp) }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            Console.err("trellis: cannot write \(path): \(why)")
            throw ExitCode(66)
        }
        var ok = true
        var bytes = bytes
        bytes.withUnsafeMutableBytes { p in
            var off = 0
            while off < p.count {
                let n = Glibc.write(fd, p.baseAddress! + off, p.count - off)
                if n <= 0 { if errno == EINTR { continue }; ok = false; break }
                off += n
            }
        }
        if close(fd) != 0 { ok = false }
        if !ok || rename(tmp, path) != 0 {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            Console.err("trellis: cannot write \(path): \(why)")
            throw ExitCode(66)
        }
    }
}

/// Opens the read models for a report (caught up, or a time-travel snapshot) and turns
/// every failure into CLI.md's message and exit code.
enum ReportRun {
    static func source(_ options: ReportOptions) throws -> ReportSource {
        let ledger = try options.ledger.open()
        let engine = try options.projections.engine(ledger)
        let bar = ProgressBar(options.time.knownAt != nil || options.time.asOf != nil ? "building the read models for that moment" : "catching up the read models")
        defer { bar.finish() }
        return try guarded {
            try ReportSource(ledger: ledger, engine: engine, knownAt: options.time.knownAt?.text, asOf: options.time.asOf?.text) { done, total in
                bar.update(done, of: total, unit: "events")
            }
        }
    }

    /// Computes a report's figures, with a ticker on a terminal when that takes a while.
    static func figures<T>(_ body: () throws -> T) throws -> T {
        try Ticker.run("computing the figures") { try guarded(body) }
    }

    /// ReportError → its exit code with the message; everything else as every command does.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        try Failure.guarded {
            do { return try body() } catch let e as ReportError {
                Console.err("trellis: \(e)")
                throw ExitCode(e.exitCode)
            }
        }
    }

    /// The command line as typed, program name as `trellis`.
    static func commandLine() -> String {
        Provenance.shellLine(["trellis"] + CommandLine.arguments.dropFirst())
    }
}
