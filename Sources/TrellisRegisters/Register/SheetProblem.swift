import TrellisLedger
import TrellisCore

/// A problem with a spreadsheet, naming where it is: `register.xlsx, sheet Autumn, C7: "late"
/// is not a status; use P, Apols or A`. Used for errors (nothing is appended) and warnings.
public struct SheetProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// nil for CSV files, whose one sheet has no name of its own.
    public var sheet: String?
    /// A cell (`C7`), a column (`column D`), a row (`row 7`), or nil for the whole sheet.
    public var place: String?
    public var message: String

    public init(file: String, sheet: String?, place: String?, message: String) {
        self.file = file; self.sheet = sheet; self.place = place; self.message = message
    }

    public var description: String {
        var s = file
        if let sheet { s += ", sheet \(sheet)" }
        if let place { s += ", \(place)" }
        return s + ": " + message
    }
}

/// What importing a sheet would do, computed before anything is written: the events to append
/// (as NDJSON envelopes, each with the place in the sheet it comes from), what is already
/// recorded, new meetings, warnings and errors.
///
/// ## Topics
/// - ``lines``
/// - ``origins``
/// - ``summaryJSON(extra:)``
public struct ImportPlan: Sendable {
    public var file: String
    public var sheet: String?
    /// The workbook's format as the reader described it.
    public var format: String
    /// `wide`, `long` or `roster`.
    public var layout: String
    /// NDJSON envelopes, in append order.
    public var lines: [String] = []
    /// For each line, where in the sheet it comes from (`C7`, `row 12`).
    public var origins: [String] = []
    /// Cells or rows whose state the ledger already holds.
    public var unchanged = 0
    /// Meetings the import creates: id, day, title.
    public var newMeetings: [(id: String, day: String, title: String)] = []
    /// Lines per event type, for the summary.
    public var counts: [String: Int] = [:]
    public var warnings: [SheetProblem] = []
    public var errors: [SheetProblem] = []
    /// More than ``maxErrors`` errors were found.
    public var truncated = false

    public static let maxErrors = 100

    public init(file: String, sheet: String?, format: String, layout: String) {
        self.file = file; self.sheet = sheet; self.format = format; self.layout = layout
    }

    mutating func error(_ place: String?, _ message: String) {
        if errors.count >= Self.maxErrors { truncated = true; return }
        errors.append(SheetProblem(file: file, sheet: sheet, place: place, message: message))
    }

    mutating func warn(_ place: String?, _ message: String) {
        warnings.append(SheetProblem(file: file, sheet: sheet, place: place, message: message))
    }

    mutating func append(_ type: EventType, id: String, day: String, data: [(String, JSONValue)], from place: String) {
        let envelope: [(String, JSONValue)] = [
            ("id", .string(id)), ("type", .string(type.rawValue)), ("occurred_at", .string(day)),
            ("data", .object(JSONObject(data))),
        ]
        lines.append(JSONValue.object(JSONObject(envelope)).rendered())
        origins.append(place)
        counts[type.rawValue, default: 0] += 1
    }

    /// A line already in envelope form (see ``RegisterImport``'s attendance lines).
    mutating func appendLine(_ line: String, type: EventType, from place: String) {
        lines.append(line)
        origins.append(place)
        counts[type.rawValue, default: 0] += 1
    }

    /// `{"append": N, "unchanged": N, "new_meetings": […], "warnings": […], "errors": […]}`
    /// plus the layout, and `extra` (the append's outcome) when given.
    public func summaryJSON(extra: [(String, JSONValue)] = []) -> String {
        var fields: [(String, JSONValue)] = [
            ("file", .string(file)),
            ("sheet", sheet.map(JSONValue.string) ?? .null),
            ("format", .string(format)),
            ("layout", .string(layout)),
            ("append", .int(Int64(lines.count))),
            ("unchanged", .int(Int64(unchanged))),
            ("by_type", .object(JSONObject(counts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int(Int64($0.value))) }))),
            ("new_meetings", .array(newMeetings.map { .object(JSONObject([("meeting_id", .string($0.id)), ("date", .string($0.day)), ("title", .string($0.title))])) })),
            ("warnings", .array(warnings.map { .string($0.description) })),
            ("errors", .array(errors.map { .string($0.description) })),
        ]
        fields += extra
        return JSONValue.object(JSONObject(fields)).rendered()
    }

    /// The plan in sentences, for a person.
    public func summaryText(dryRun: Bool) -> String {
        var out: [String] = []
        let layoutText = switch layout {
        case "wide": "wide layout (a row per organisation, a column per meeting)"
        case "long": "long layout (a row per organisation per meeting)"
        default: "member list"
        }
        out.append("\(file)\(sheet.map { ", sheet \($0)" } ?? ""): \(format), \(layoutText)")
        let parts = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        let what = parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
        out.append("\(dryRun ? "would append" : "to append"): \(lines.count) event\(lines.count == 1 ? "" : "s") (\(what)); \(unchanged) already recorded")
        for m in newMeetings { out.append("new meeting: \(m.day) \"\(m.title)\" (\(m.id))") }
        for w in warnings { out.append("warning: \(w)") }
        return out.joined(separator: "\n")
    }
}
