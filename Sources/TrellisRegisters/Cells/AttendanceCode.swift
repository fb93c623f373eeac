import TrellisCore
import TrellisSheets

/// The codes a register may hold for a status, one vocabulary for the template's
/// instructions and the import. Matched case-insensitively after trimming.
///
/// ## Topics
/// - ``status(of:)``
/// - ``instructions``
public enum AttendanceCode {
    /// Status (as `AttendanceRecorded.status` spells it) → the codes that mean it.
    public static let codes: [(status: String, codes: [String])] = [
        (AttendanceStatus.present.rawValue, ["P", "Present", "Y", "Yes", "✓", "/", "1"]),
        (AttendanceStatus.apologies.rawValue, ["Apols", "Apologies", "Apol", "AP", "Sent apologies"]),
        (AttendanceStatus.absent.rawValue, ["A", "Absent", "N", "No", "0", "X"]),
    ]

    private static let byCode: [String: String] = {
        var out: [String: String] = [:]
        for (status, codes) in codes { for c in codes { out[c.lowercased()] = status } }
        // Other tick marks people type for "there".
        for tick in ["✔", "☑", "✅"] { out[tick] = AttendanceStatus.present.rawValue }
        return out
    }()

    /// What a cell says.
    public enum Reading: Sendable, Equatable {
        case empty
        case status(String)
        /// Not a status; the text as shown in the error.
        case invalid(String)
    }

    public static func status(of value: CellValue) -> Reading {
        switch value {
        case .empty: return .empty
        case .bool(let b): return .status((b ? AttendanceStatus.present : .absent).rawValue)
        case .number(let n):
            if n == 1 { return .status(AttendanceStatus.present.rawValue) }
            if n == 0 { return .status(AttendanceStatus.absent.rawValue) }
            return .invalid(CellText.shown(value))
        case .date: return .invalid(CellText.shown(value))
        case .text(let t):
            let key = CellText.trimmed(t).lowercased()
            if key.isEmpty { return .empty }
            if let s = byCode[key] { return .status(s) }
            // "Sent apologies." / "P " and the like: ignore a trailing full stop.
            if key.hasSuffix("."), let s = byCode[String(key.dropLast())] { return .status(s) }
            return .invalid(t)
        }
    }

    /// The hint an error ends with.
    public static let hint = "use P, Apols or A"

    /// One line per status for the template's instructions.
    public static var instructions: [String] {
        codes.map { "\($0.status): " + $0.codes.joined(separator: ", ") }
    }
}

/// Cell values as text, for headers, names and messages.
enum CellText {
    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let a = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let b = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[a...b])
    }

    /// The cell as a person would read it; "" when empty.
    static func plain(_ v: CellValue) -> String {
        switch v {
        case .empty: return ""
        case .text(let t): return trimmed(t)
        case .bool(let b): return b ? "TRUE" : "FALSE"
        case .number(let n):
            if n.rounded() == n, abs(n) < 1e15 { return String(Int64(n)) }
            return String(n)
        case .date(let y, let m, let d): return SheetDate.iso(y, m, d)
        }
    }

    /// Without the `'` that guards a would-be formula (`'=Oak` → `=Oak`), as Trellis writes CSV.
    static func unquoted(_ s: String) -> String {
        guard s.hasPrefix("'"), let second = s.dropFirst().first, "=+-@".contains(second) else { return s }
        return String(s.dropFirst())
    }

    /// Quoted for an error message, clipped.
    static func shown(_ v: CellValue) -> String {
        let p = plain(v)
        return p.count > 60 ? String(p.prefix(59)) + "…" : p
    }
}
