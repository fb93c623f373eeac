import TrellisSheets

/// Every report as an xlsx workbook: an "About" sheet (report, period, networks, log position,
/// head hash, moment, command), then one sheet per table. The columns are those of the CSV
/// (same names, same rows), typed: counts are integers, rates numbers shown `0.0%`, days real
/// dates, `member` a boolean; a spreadsheet sums and charts them without retyping anything.
///
/// ## Topics
/// - ``participation(_:provenance:)``
/// - ``coverage(_:provenance:)``
/// - ``graph(_:provenance:)``
/// - ``outcomes(_:provenance:)``
/// - ``documents(_:provenance:)``
/// - ``summary(_:)``
/// - ``audit(org:from:to:rows:headSeq:headHash:commandLine:)``
public enum XLSXReports {
    public static func participation(_ r: ParticipationReport, provenance: Provenance) throws(SheetError) -> [UInt8] {
        var networks = Table(headers: ["network_id", "name", "meeting_count", "member_count", "expected", "present",
                                       "attendance_rate", "participation_rate"] + TextReports.periodHeaders)
        for n in r.networks {
            networks.rows.append([n.network.id, n.network.name, String(n.meetings.count), String(n.memberCount), String(n.expected),
                                  String(n.present), TextReports.csvRate(n.attendanceRate), TextReports.csvRate(n.participationRate)]
                                 + TextReports.periodCells(r.period))
        }
        return try workbook([("Participation", TextReports.participationCSV(r)), ("Networks", networks)],
                            about: about("participation", period: r.period, networks: r.networks.map(\.network.id), provenance))
    }

    public static func coverage(_ r: CoverageReport, provenance: Provenance) throws(SheetError) -> [UInt8] {
        try workbook([("Coverage", TextReports.coverageCSV(r)), ("Overdue", overdue(r))],
                     about: about("coverage", period: nil, networks: r.networks.map(\.network.id), provenance,
                                  extra: [("On", r.onText), ("Window", "\(r.windowDays) days, from \(r.windowStartText)")]))
    }

    public static func graph(_ r: GraphReport, provenance: Provenance) throws(SheetError) -> [UInt8] {
        var extra = [("Ties", GraphExports.kindsText(r.kinds))]
        if let slicing = r.slicing { extra.append(("Slices", slicing.rawValue)) }
        return try workbook([("Nodes", GraphExports.nodesCSV(r)), ("Edges", GraphExports.edgesCSV(r))],
                            about: about("graph", period: r.period, networks: r.networks, provenance, extra: extra))
    }

    public static func outcomes(_ r: OutcomesReport, provenance: Provenance) throws(SheetError) -> [UInt8] {
        try workbook([("Outcomes", TextReports.outcomesCSV(r))],
                     about: about("outcomes", period: r.period, networks: r.networks.compactMap { $0.network?.id }, provenance))
    }

    public static func documents(_ r: DocumentsReport, provenance: Provenance) throws(SheetError) -> [UInt8] {
        try workbook([("Documents", TextReports.documentsCSV(r))],
                     about: about("documents", period: r.period, networks: r.networks.map(\.network.id), provenance))
    }

    /// One sheet per section of the summary.
    public static func summary(_ s: Summary) throws(SheetError) -> [UInt8] {
        let report = GraphReport(period: s.graph.period, kinds: s.graph.kinds, slicing: nil, whole: s.graph, slices: [],
                                 networks: s.scope.networkIDs.sorted())
        return try workbook([
            ("Summary", TextReports.summaryCSV(s)),
            ("Participation", TextReports.participationCSV(s.participation)),
            ("Coverage", TextReports.coverageCSV(s.coverage)),
            ("Overdue", overdue(s.coverage)),
            ("Nodes", GraphExports.nodesCSV(report)),
            ("Edges", GraphExports.edgesCSV(report)),
            ("Outcomes", TextReports.outcomesCSV(s.outcomes)),
            ("Documents", TextReports.documentsCSV(s.documents)),
        ], about: about("summary", period: s.scope.period, networks: s.scope.networkIDs, s.provenance,
                        extra: [("Review figures on", s.coverage.onText)]))
    }

    /// `trellis audit`: one row per event of the organisation's timeline.
    public static func audit(org: String, from: String?, to: String?,
                             rows: [(occurred: String, seq: Int64, recorded: String, type: String, summary: String, actor: String?, retractedBySeq: Int64?)],
                             headSeq: Int64, headHash: String, commandLine: String) throws(SheetError) -> [UInt8] {
        var t = Table(headers: ["occurred_on", "seq", "recorded_on", "type", "summary", "actor", "retracted_by_seq"])
        t.rows = rows.map { r in
            [r.occurred, String(r.seq), r.recorded, r.type, r.summary, r.actor ?? "", r.retractedBySeq.map { String($0) } ?? ""]
        }
        var about: [(String, String)] = [("Report", "audit (engagement timeline)"), ("Organisation", org)]
        about.append(("Period", "\(from ?? "the first event") to \(to.map { "\($0) (exclusive)" } ?? "the last event")"))
        about += [("Log position (head seq)", String(headSeq)), ("Head hash", headHash)]
        if !commandLine.isEmpty { about.append(("Command", commandLine)) }
        return try workbook([("Timeline", t)], about: about)
    }

    // MARK: - Typing the CSV columns

    /// Column name → kind; unnamed columns are text.
    static let kinds: [String: ColumnKind] = {
        var k: [String: ColumnKind] = [:]
        for name in ["rate", "attendance_rate", "participation_rate", "coverage", "reviewer_coverage", "outcome_sharing_rate"] {
            k[name] = .percent
        }
        for name in ["period_from", "period_to", "on", "window_from", "due_by", "occurred_on", "recorded_on"] { k[name] = .date }
        for name in ["expected", "present", "apologies", "absent", "meeting_count", "member_count", "reviewed", "reviewer",
                     "window_days", "overdue_count", "completed_in_window", "shared_in_window", "total", "actions", "shared",
                     "adopted", "adoptions_received", "degree", "weighted_degree", "component", "weight", "co_attendance",
                     "document", "review", "days_over", "seq", "retracted_by_seq"] + OutcomeFigures.judgements {
            k[name] = .integer
        }
        for name in ["betweenness", "clustering"] { k[name] = .decimal }
        return k
    }()

    /// A CSV table as a typed sheet: numbers parsed in numeric columns (text that does not
    /// parse is kept as text, never dropped), "true"/"false" in `member` as booleans.
    static func typed(_ name: String, _ table: Table) -> TrellisSheets.Table {
        let columns = table.headers.map { (name: $0, kind: kinds[$0] ?? ColumnKind.text) }
        let rows: [[CellValue]] = table.rows.map { row in
            row.enumerated().map { c, text -> CellValue in
                if text.isEmpty { return .empty }
                let column = c < columns.count ? columns[c] : (name: "", kind: ColumnKind.text)
                switch column.kind {
                case .integer, .decimal, .percent:
                    if let number = Double(text), number.isFinite { return .number(number) }
                    return .text(text)
                case .date, .text:
                    if column.name == "member", text == "true" || text == "false" { return .bool(text == "true") }
                    return .text(text)
                }
            }
        }
        return TrellisSheets.Table(sheetName: name, columns: columns, rows: rows)
    }

    static func overdue(_ r: CoverageReport) -> Table {
        var t = Table(headers: ["review_id", "network_id", "reviewee", "due_by", "days_over", "on"])
        for n in r.networks {
            for rv in n.overdue {
                t.rows.append([rv.id, n.network.id, rv.reviewee, rv.dueBy, String(JSONReports.daysBetween(rv.dueBy, r.on)), r.onText])
            }
        }
        return t
    }

    static func about(_ report: String, period: Period?, networks: [String], _ p: Provenance,
                      extra: [(String, String)] = []) -> [(String, String)] {
        var rows: [(String, String)] = [("Report", report)]
        if let period { rows.append(("Period", "\(period.fromText) to \(period.lastDayText) (inclusive)")) }
        rows.append(("Networks", networks.joined(separator: ", ")))
        rows += extra
        rows += [("Log position (head seq)", String(p.headSeq)), ("Head hash", p.headHash)]
        if let a = p.asOf { rows.append(("As of", a)) }
        if let k = p.knownAt { rows.append(("Known at", k)) }
        if !p.commandLine.isEmpty { rows.append(("Command", p.commandLine)) }
        return rows
    }

    static func workbook(_ sheets: [(String, Table)], about: [(String, String)]) throws(SheetError) -> [UInt8] {
        try XLSXWriter.data(sheets.map { typed($0.0, $0.1) }, about: about)
    }
}
