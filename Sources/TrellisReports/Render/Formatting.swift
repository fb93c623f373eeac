import TrellisLedger
import TrellisCore

/// How numbers and dates are shown to people. Every function is deterministic (no locale,
/// no clock), so the same figures always print the same bytes.
public enum Show {
    /// `83%`, or `–` when undefined. Rounded half up to whole percent.
    public static func percent(_ r: Double?) -> String {
        guard let r, r.isFinite else { return "–" }
        return String(Int((r * 100).rounded())) + "%"
    }

    /// A number with at most `places` decimals, trailing zeros dropped (`0.25`, `3`).
    public static func decimal(_ x: Double?, places: Int = 3) -> String {
        guard let x, x.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        var whole = String(Int64(scaled / scale))
        var frac = String(Int64(scaled) % Int64(scale))
        frac = String(repeating: "0", count: max(0, places - frac.count)) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        if x < 0 && scaled != 0 { whole = "-" + whole }
        return frac.isEmpty ? whole : whole + "." + frac
    }

    /// A weight or count held as a double, as an integer when it is one.
    public static func count(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : decimal(x, places: 3)
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    /// `12 March 2026`.
    public static func longDate(_ day: Int) -> String {
        let c = Timestamp.civil(days: day)
        return "\(c.day) \(months[c.month - 1]) \(c.year)"
    }

    /// `12 Mar 2026`.
    public static func shortDate(_ day: Int) -> String {
        let c = Timestamp.civil(days: day)
        return "\(c.day) \(months[c.month - 1].prefix(3)) \(c.year)"
    }

    public static func shortDate(_ text: String) -> String {
        Timestamp.parseDate(text).map(shortDate) ?? text
    }

    public static func longDate(_ text: String) -> String {
        Timestamp.parseDate(text).map(longDate) ?? text
    }

    /// `2025/26 (1 September 2025 to 31 August 2026)` for an academic year, else
    /// `1 September 2025 to 31 March 2026`.
    public static func period(_ p: Period) -> String {
        let range = "\(longDate(p.from)) to \(longDate(p.to - 1))"
        let y = Period.academicYearStart(containing: p.from)
        if Period.academicYear(startingIn: y) == p { return "\(Period.academicYearLabel(startingIn: y)) (\(range))" }
        return range
    }

    /// `[2025-09-01, 2026-09-01)`-style text for machines and footers.
    public static func periodISO(_ p: Period) -> String { "\(p.fromText) to \(p.toText) (exclusive)" }

    /// `school_improvement` → `school improvement`.
    public static func words(_ id: String) -> String {
        String(id.map { $0 == "_" ? " " : $0 })
    }

    /// Truncated to `n` characters with an ellipsis.
    public static func clipped(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(max(0, n - 1))) + "…"
    }
}
