import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisReports
import TrellisResearch
import struct TrellisSheets.SheetError

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
    @Flag(help: "Compute the report afresh: neither read nor keep a cached copy (a repeated report on an unchanged ledger is otherwise written from the copy kept in the ledger).")
    var noCache = false

    func validate() throws {
        if year != nil && (from != nil || to != nil) { throw ValidationError("give either --year or --from/--to, not both") }
        if let f = from, let t = to, f.days >= t.days { throw ValidationError("--from \(f.text) must be before --to \(t.text)") }
    }

    /// The format (explicit, or from --out's extension) must be one the command writes.
    func check<F: FormatOption>(_ format: F?) throws {
        let f = self.format(format?.format)
        if !F.allowed.contains(f) {
            throw ValidationError("--format must be " + F.allowed.map(\.rawValue).joined(separator: ", ") + (format == nil ? " (--out \(out ?? "") suggests \(f.rawValue))" : ""))
        }
        try ReportFormat.checkOut(out, against: format?.format)
        try Output.refuseBinaryOnTerminal(xlsx: f == .xlsx, out: out)
    }

    /// With `--format xlsx` (or an `.xlsx` --out): writes the workbook and returns true.
    func writeXLSX(_ format: ReportFormat?, _ workbook: () throws(SheetError) -> [UInt8], day: Int? = nil, warned: Bool = false) throws -> Bool {
        guard self.format(format) == .xlsx else { return false }
        try refuseUnlessJSON(.xlsx)
        if !warned { _ = try warnings(day: day) }
        let bytes: [UInt8]
        do { bytes = try workbook() } catch {
            throw CommandFailure(exitCode: 70, "cannot build the workbook: \(error)")
        }
        if let capture = ReportCapture.current { capture.add(.bytes, bytes); return true }
        try Output.emit(bytes, to: out)
        return true
    }

    /// The period asked for, nil for the default.
    var period: Period? { Period.requested(year: year?.period, from: from?.days, to: to?.days) }

    var query: ReportQuery { ReportQuery(networks: networks, period: period, organisations: organisations) }

    /// Explicit, else from --out's extension, else table on a terminal and json otherwise.
    func format(_ explicit: ReportFormat?) -> ReportFormat {
        if let explicit { return explicit }
        if let out, let f = ReportFormat(fileName: out) { return f }
        return out == nil && Console.stdoutIsTTY ? .table : .json
    }

    /// `humanText` (table, Markdown): control characters neutralised on a terminal; other
    /// formats are written exactly (JSON escapes them itself).
    /// A machine format's bytes, written as they are (``write(_:humanText:)`` without the
    /// `String`).
    func write(bytes: [UInt8]) throws {
        if let capture = ReportCapture.current { capture.add(.text, bytes); return }
        if let out { try AtomicFile.write(bytes, to: out) } else { bytes.withUnsafeBytes { Sink.writeAll(fd: 1, $0) } }
    }

    func write(_ text: String, humanText: Bool = false) throws {
        if let capture = ReportCapture.current { capture.add(humanText ? .humanText : .text, Array(text.utf8)); return }
        if let out { try AtomicFile.write(text, to: out) } else {
            var sink = Sink(fd: 1)
            if humanText { sink.write(text) } else { sink.write(raw: text) }
            sink.flush()
        }
    }

    /// K when small cells must be suppressed: the larger of `--min-count` and the study
    /// file's own `study_meta.min_count`.
    func smallCellThreshold() throws -> Int64? {
        let studyK = try StudyMeta.minCount(atPath: ledger.path)
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
            throw CommandFailure.usage("counts below \(k) must be suppressed here (--min-count or the study file's min_count): use --format json, where they are null")
        }
    }

    /// ``ReportWarnings`` for the period asked for and `day`, printed on stderr.
    func warnings(day: Int?) throws -> [String] {
        let found = try ReportWarnings.outside(ledger: ledger.open(), period: period, day: day)
        for w in found {
            if let capture = ReportCapture.current { capture.add(.warning, Array(w.utf8)) } else { Console.err("trellis: warning: " + w) }
        }
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
            var bytes = document.renderedBytes(pretty: true)
            bytes.append(0x0A)
            try write(bytes: bytes)
        case .csv: try write(csv().csv())
        case .md: try write(TextReports.markdown(sections(), heading: heading), humanText: true)
        default: try write(TextReports.text(sections(), width: out == nil ? Terminal.columns() : 80), humanText: true)
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
