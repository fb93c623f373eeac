/// The one definition of a rate: a share in [0, 1], undefined (nil; `–` or JSON `null`)
/// when there is nothing to divide by, never 0 or 100 %.
public enum Rate {
    public static func of(_ part: Int, _ whole: Int) -> Double? {
        whole > 0 ? Double(part) / Double(whole) : nil
    }

    /// The mean of the defined rates; nil when none is defined.
    public static func mean(_ rates: [Double?]) -> Double? {
        let defined = rates.compactMap { $0 }
        guard !defined.isEmpty else { return nil }
        return defined.reduce(0, +) / Double(defined.count)
    }
}
