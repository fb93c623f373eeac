import TrellisLedger
import TrellisCore
import TrellisReports

/// The one-line warnings a report adds when what was asked for lies where nothing is
/// recorded (stderr, and `"warnings"` in JSON); the figures themselves are unchanged.
enum ReportWarnings {
    /// `period` (explicit, nil for the default) or `day` lying wholly before the first or
    /// after the last event's `occurred_at` day.
    static func outside(ledger: Ledger, period: Period?, day: Int?) throws -> [String] {
        guard period != nil || day != nil else { return [] }
        let status = try ledger.status()
        guard let first = status.firstOccurredAt.flatMap({ Timestamp.parseDate(String($0.prefix(10))) }),
              let last = status.lastOccurredAt.flatMap({ Timestamp.parseDate(String($0.prefix(10))) }) else {
            return ["the ledger holds no events: every figure is empty"]
        }
        let span = "\(Timestamp.dateText(days: first)) to \(Timestamp.dateText(days: last))"
        var out: [String] = []
        if let period {
            let shown = "\(period.fromText) to \(period.lastDayText)"
            if period.to <= first {
                out.append("the period \(shown) ends before the ledger's first event (events occurred \(span)): every figure is empty")
            } else if period.from > last {
                out.append("the period \(shown) starts after the ledger's last event (events occurred \(span)): every figure is empty")
            }
        }
        if let day, day < first || day > last {
            out.append("the day \(Timestamp.dateText(days: day)) lies outside the ledger's events (they occurred \(span))")
        }
        return out
    }
}
