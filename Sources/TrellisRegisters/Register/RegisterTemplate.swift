import TrellisReports
import TrellisSheets

/// A register ready to fill in: a row per organisation that is a member of the network on
/// any of the register's dates (`org_id`, `name`), a column per meeting (header: its date and
/// title, `2026-03-12 Spring network meeting`), or per given date with no meeting recorded yet
/// (header: the date alone; importing it needs `--create-meetings`).
///
/// ## Topics
/// - ``build(network:picture:from:to:dates:)``
/// - ``instructions``
public struct RegisterTemplate: Sendable {
    public struct Column: Sendable, Equatable {
        public var header: String
        public var day: String
        /// nil for a date with no meeting recorded yet.
        public var meetingID: String?
    }

    public var network: String
    public var columns: [Column]
    /// (org_id, name), by name.
    public var organisations: [(id: String, name: String)]

    /// Meetings of the network in `[from, to)`, or on each of `dates` (a meeting on that day,
    /// else a column for the bare date).
    public static func build(network: String, picture: LedgerPicture, from: String?, to: String?, dates: [String]) -> RegisterTemplate {
        var columns: [Column] = []
        if let from, let to {
            for m in picture.meetings where m.day >= from && m.day < to { columns.append(column(m, among: picture.meetings)) }
        }
        for d in dates.sorted() {
            let held = picture.meetings.filter { $0.day == d }
            if held.isEmpty { columns.append(Column(header: d, day: d, meetingID: nil)) }
            for m in held where !columns.contains(where: { $0.meetingID == m.id }) { columns.append(column(m, among: picture.meetings)) }
        }
        let days = Set(columns.map(\.day))
        var ids = Set<String>()
        for d in days { ids.formUnion(picture.membership.members(of: network, on: d)) }
        let orgs = ids.map { id in (id: id, name: picture.organisations[id]?.name ?? id) }
            .sorted { ($0.name.lowercased(), $0.id) < ($1.name.lowercased(), $1.id) }
        return RegisterTemplate(network: network, columns: columns, organisations: orgs)
    }

    /// The header names a meeting by date and title; by id when another meeting that day has the same title.
    static func column(_ m: LedgerPicture.Meeting, among all: [LedgerPicture.Meeting]) -> Column {
        let twins = all.filter { $0.day == m.day && SheetColumns.key($0.title) == SheetColumns.key(m.title) }
        let header = twins.count > 1 ? m.id : "\(m.day) \(m.title)"
        return Column(header: header, day: m.day, meetingID: m.id)
    }

    public var header: [String] { ["org_id", "name"] + columns.map(\.header) }

    public var rows: [[String]] { organisations.map { [$0.id, $0.name] + Array(repeating: "", count: columns.count) } }

    /// What the lead needs to know to fill it in.
    public var instructions: [String] {
        ["Fill in one cell per organisation and meeting, then run: trellis register import THIS-FILE --network \(network)",
         "Accepted codes (any case): " + AttendanceCode.codes.map { "\($0.status) = " + $0.codes.joined(separator: " ") }.joined(separator: "; "),
         "An empty cell records nothing: the organisation counts as absent at that meeting.",
         "A column headed by a date alone is a meeting not yet recorded: import with --create-meetings to record it.",
         "Add a guest organisation as a new row (org_id or name); keep the header row as it is."]
    }

    /// CSV: an instructions row, then the header and the organisations. Cells a spreadsheet
    /// would run as a formula (a name starting with `=`, `+`, `-`, `@`) get a leading `'`, as
    /// in every CSV Trellis writes; the import reads them back without it.
    public var csvRows: [[String]] {
        [["Instructions: " + instructions.joined(separator: " ")]] + ([header] + rows).map { $0.map(TrellisReports.Table.spreadsheetSafe) }
    }

    /// xlsx: the register sheet (all text) and an Instructions sheet.
    public func tables(sheetName: String) -> [TrellisSheets.Table] {
        let register = TrellisSheets.Table(
            sheetName: sheetName,
            columns: header.map { (name: $0, kind: ColumnKind.text) },
            rows: organisations.map { [.text($0.id), .text($0.name)] + Array(repeating: CellValue.empty, count: columns.count) })
        let help = TrellisSheets.Table(
            sheetName: "Instructions",
            columns: [(name: "Instructions", kind: .text)],
            rows: instructions.map { [.text($0)] } + AttendanceCode.codes.map { [.text("\($0.status): " + $0.codes.joined(separator: ", "))] })
        return [register, help]
    }
}
