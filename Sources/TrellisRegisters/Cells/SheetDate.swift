import TrellisLedger
import TrellisSheets
import TrellisCore

/// Days as people write them in registers: ISO `2026-03-12`, UK `12/03/2026` and `12/3/26`,
/// `12 March 2026` / `12 Mar 2026` / `Thursday 12 March 2026`, and xlsx date cells. Never US
/// order: `03/04/2026` is 3 April.
///
/// ## Topics
/// - ``day(of:)``
/// - ``leadingDay(_:)``
public enum SheetDate {
    static let months: [String: Int] = {
        let names = ["january", "february", "march", "april", "may", "june", "july", "august",
                     "september", "october", "november", "december"]
        var out: [String: Int] = [:]
        for (i, n) in names.enumerated() {
            out[n] = i + 1
            out[String(n.prefix(3))] = i + 1
        }
        out["sept"] = 9
        return out
    }()
    static let weekdays: Set<String> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                                        "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"]

    static func iso(_ y: Int, _ m: Int, _ d: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// A real day, or nil (31 February is refused, not rolled over).
    static func valid(_ y: Int, _ m: Int, _ d: Int) -> String? {
        guard (1000...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        let back = Timestamp.civil(days: Timestamp.days(year: y, month: m, day: d))
        guard back.year == y, back.month == m, back.day == d else { return nil }
        return iso(y, m, d)
    }

    /// The day a cell holds, as `YYYY-MM-DD`, or nil.
    public static func day(of value: CellValue) -> String? {
        switch value {
        case .date(let y, let m, let d): return valid(y, m, d)
        case .text(let t):
            guard let (day, rest) = leadingDay(t), CellText.trimmed(rest).isEmpty else { return nil }
            return day
        default: return nil
        }
    }

    /// A day at the start of `text` and what follows it (`2026-03-12 Spring meeting` →
    /// (`2026-03-12`, `Spring meeting`)), or nil when the text does not start with a day.
    public static func leadingDay(_ text: String) -> (day: String, rest: String)? {
        var words = CellText.trimmed(text).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard !words.isEmpty else { return nil }
        func rest(_ n: Int) -> String {
            var r = words.dropFirst(n).joined(separator: " ")
            // "2026-03-12 – Spring meeting", "12/03/2026: Spring"
            while let f = r.first, "-–—:,|".contains(f) { r.removeFirst(); r = CellText.trimmed(r) }
            return r
        }
        if weekdays.contains(words[0].lowercased().trimmingSuffix(",")) { words.removeFirst() }
        guard !words.isEmpty else { return nil }
        let first = words[0].trimmingSuffix(",").trimmingSuffix(":")
        if let d = numeric(first) { return (d, rest(1)) }
        // 12 March 2026, 12th March 2026
        if words.count >= 3, let d = Int(first.trimmingOrdinal()), let m = months[words[1].lowercased().trimmingSuffix(",").trimmingSuffix(".")],
           let y = Int(words[2].trimmingSuffix(",").trimmingSuffix(":")), let day = valid(y, m, d) {
            return (day, rest(3))
        }
        return nil
    }

    /// `2026-03-12`, `12/03/2026`, `12/3/26`, `12.03.2026`, `12-03-2026`.
    static func numeric(_ s: String) -> String? {
        if s.utf8.count == 10, let days = Timestamp.parseDate(s) { return Timestamp.dateText(days: days) }
        for sep: Character in ["/", ".", "-"] {
            let parts = s.split(separator: sep, omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  (1...2).contains(parts[0].count), (1...2).contains(parts[1].count),
                  parts[2].count == 4 || parts[2].count == 2,
                  let d = Int(parts[0]), let m = Int(parts[1]), var y = Int(parts[2]) else { continue }
            if parts[2].count == 2 { y += 2000 }
            return valid(y, m, d)
        }
        return nil
    }
}

extension String {
    func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
    func trimmingOrdinal() -> String {
        for s in ["st", "nd", "rd", "th"] where hasSuffix(s) && count > 2 { return String(dropLast(2)) }
        return self
    }
}
