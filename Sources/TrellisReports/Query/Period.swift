import TrellisLedger
import TrellisCore

/// A closed-open period of days, `[from, to)`, the unit every report is computed over
/// (DOMAIN.md, "Figures": periods are closed-open in `occurred_at` date).
///
/// Days are counted since 1970-01-01 (as ``Timestamp`` does); the `YYYY-MM-DD` texts are
/// kept alongside because read models store days as text, and text order is date order.
///
/// ## Topics
/// - ``academicYear(startingIn:)``
/// - ``academicYear(containing:)``
/// - ``parseAcademicYear(_:)``
/// - ``slices(by:)``
public struct Period: Sendable, Hashable, CustomStringConvertible {
    /// First day, inclusive.
    public let from: Int
    /// Day after the last, exclusive.
    public let to: Int

    /// `from` as `YYYY-MM-DD` (kept: day texts are compared in every figure's inner loop).
    public let fromText: String
    /// `to` as `YYYY-MM-DD`.
    public let toText: String

    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
        fromText = Timestamp.dateText(days: from)
        toText = Timestamp.dateText(days: to)
    }

    /// The last day of the period (inclusive), as text.
    public var lastDayText: String { Timestamp.dateText(days: to - 1) }
    public var dayCount: Int { max(0, to - from) }
    public var isEmpty: Bool { to <= from }

    public func contains(day: Int) -> Bool { day >= from && day < to }

    /// `day` given as `YYYY-MM-DD` text: compared as text, which is date order.
    public func contains(_ dayText: String) -> Bool { dayText >= fromText && dayText < toText }

    public func intersection(_ other: Period) -> Period? {
        let p = Period(from: max(from, other.from), to: min(to, other.to))
        return p.isEmpty ? nil : p
    }

    public var description: String { "[\(fromText), \(toText))" }

    // MARK: - Academic years

    /// The academic year `Y/Y+1`: `[Y-09-01, Y+1-09-01)`.
    public static func academicYear(startingIn year: Int) -> Period {
        Period(from: Timestamp.days(year: year, month: 9, day: 1), to: Timestamp.days(year: year + 1, month: 9, day: 1))
    }

    /// The year in which the academic year containing `day` starts (2026-03-12 → 2025).
    public static func academicYearStart(containing day: Int) -> Int {
        let c = Timestamp.civil(days: day)
        return c.month >= 9 ? c.year : c.year - 1
    }

    public static func academicYear(containing day: Int) -> Period {
        academicYear(startingIn: academicYearStart(containing: day))
    }

    /// `2025/26` (or `2025/2026`, `2025-26`) → `[2025-09-01, 2026-09-01)`; nil when malformed
    /// or when the second year does not follow the first.
    public static func parseAcademicYear(_ text: String) -> Period? {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "-" }
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2 || parts[1].count == 4,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let first = Int(parts[0]), let second = Int(parts[1]), first >= 1000 else { return nil }
        let expected = parts[1].count == 2 ? (first + 1) % 100 : first + 1
        guard second == expected else { return nil }
        return academicYear(startingIn: first)
    }

    /// `2025/26` for the academic year starting in 2025.
    public static func academicYearLabel(startingIn year: Int) -> String {
        let next = (year + 1) % 100
        return "\(year)/" + (next < 10 ? "0\(next)" : "\(next)")
    }

    // MARK: - Slices

    /// How `--slice` cuts a period: academic years, or terms within them.
    public enum Slicing: String, Sendable, CaseIterable {
        /// Academic years (1 September to 31 August).
        case year
        /// Autumn (September–December), spring (January–March), summer (April–August).
        case term
    }

    /// The period cut into academic years or terms, each clipped to the period; in order.
    public func slices(by slicing: Slicing) -> [Slice] {
        guard !isEmpty else { return [] }
        var out: [Slice] = []
        var year = Self.academicYearStart(containing: from)
        while Timestamp.days(year: year, month: 9, day: 1) < to {
            let label = Self.academicYearLabel(startingIn: year)
            let pieces: [(String, Period)]
            switch slicing {
            case .year:
                pieces = [(label, Self.academicYear(startingIn: year))]
            case .term:
                let autumn = Timestamp.days(year: year, month: 9, day: 1)
                let spring = Timestamp.days(year: year + 1, month: 1, day: 1)
                let summer = Timestamp.days(year: year + 1, month: 4, day: 1)
                let end = Timestamp.days(year: year + 1, month: 9, day: 1)
                pieces = [("\(label) autumn", Period(from: autumn, to: spring)),
                          ("\(label) spring", Period(from: spring, to: summer)),
                          ("\(label) summer", Period(from: summer, to: end))]
            }
            for (name, p) in pieces {
                if let clipped = p.intersection(self) { out.append(Slice(label: name, period: clipped)) }
            }
            year += 1
        }
        return out
    }
}

/// One part of a sliced period: a labelled sub-period (`2025/26 autumn`).
public struct Slice: Sendable, Hashable {
    public let label: String
    public let period: Period

    public init(label: String, period: Period) {
        self.label = label
        self.period = period
    }
}
