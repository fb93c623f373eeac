extension Period {
    /// The period a report's `--year` / `--from` / `--to` ask for, nil for the default (the
    /// academic year of the latest meeting). `--from` alone runs to the end of its academic
    /// year; `--to` alone (exclusive) starts at the start of the academic year of its eve.
    public static func requested(year: Period? = nil, from: Int? = nil, to: Int? = nil) -> Period? {
        if let year { return year }
        switch (from, to) {
        case let (f?, t?): return Period(from: f, to: t)
        case let (f?, nil): return Period(from: f, to: academicYear(containing: f).to)
        case let (nil, t?): return Period(from: academicYear(containing: t - 1).from, to: t)
        default: return nil
        }
    }
}
