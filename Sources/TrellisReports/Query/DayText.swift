import TrellisLedger
import TrellisCore

/// Days typed by a person: on the command line (`--on`, `--from`, `--to`) and, later, in
/// spreadsheets.
///
/// Two forms are accepted, and nothing else:
/// - ISO 8601 `YYYY-MM-DD` (`2025-07-31`), the form every output uses;
/// - the UK form `DD/MM/YYYY` (`31/07/2025`; one-digit day and month allowed: `1/9/2025`).
///   Trellis is a UK product, so `03/04/2025` is 3 April, never 4 March.
///
/// A day that does not exist (`31/02/2025`) is refused, not rolled over.
public enum DayText {
    /// What an error message says is expected.
    public static let expected = "YYYY-MM-DD or DD/MM/YYYY (e.g. 2025-07-31 or 31/07/2025)"

    /// Days since 1970-01-01, or nil when `text` is not one of the two forms or not a real day.
    public static func parse(_ text: String) -> Int? {
        if let d = Timestamp.parseDate(text) { return d }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3,
              (1...2).contains(parts[0].count), (1...2).contains(parts[1].count), parts[2].count == 4,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let day = Int(parts[0]), let month = Int(parts[1]), let year = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day), year >= 1000 else { return nil }
        let days = Timestamp.days(year: year, month: month, day: day)
        let back = Timestamp.civil(days: days)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return days
    }

    /// `text` as `YYYY-MM-DD` when it is a day in either form; nil otherwise.
    public static func iso(_ text: String) -> String? { parse(text).map(Timestamp.dateText(days:)) }
}
