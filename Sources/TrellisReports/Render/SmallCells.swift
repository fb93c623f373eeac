import TrellisLedger
import TrellisCore

/// Small-cell suppression for reports computed from a study file (`trellis replay` of an
/// archive exported with `--min-count K`, or `--min-count K` given to a report).
///
/// In a report's JSON, every count of 1 to K − 1 becomes `null`, and so does every rate
/// computed from a suppressed count (so it cannot be multiplied back); zero stays zero (an
/// empty cell reveals no one). Counts that add up to a shown total (present, apologies and
/// absent to meetings expected; the four judgements to the total) are suppressed together
/// when one of them is, so the hidden one cannot be recovered by subtraction; likewise the
/// list of organisations not reviewed goes when the number reviewed does. The document gains `"suppression": {"min_count": K,
/// "cells_suppressed": N}`. Only JSON is produced under suppression: the other formats
/// would need the same rules in every renderer, so they are refused rather than risked.
public enum SmallCells {
    /// Keys whose integer values are counts of organisations, meetings, reviews, documents or ties.
    static let counts: Set<String> = [
        "expected", "present", "apologies", "absent", "member_count", "members", "reviewed", "reviewer",
        "completed_in_window", "shared_in_window", "reviews_completed", "actions", "strength", "secure",
        "developing", "concern", "total", "shared", "adopted", "adoptions_received", "weight",
        "co_attendance", "document", "review", "degree", "weighted_degree",
    ]
    /// Counts that partition a shown total: one hidden hides them all.
    static let partitions: [[String]] = [AttendanceStatus.allCases.map(\.rawValue), Vocabulary.judgements]
    /// Lists that would reveal a hidden count by their length.
    static let revealing: [String: [String]] = ["reviewed": ["not_reviewed"], "reviewer": []]

    /// Rates and the counts they are computed from.
    static let rates: [String: [String]] = [
        "rate": ["expected", "present"], "attendance_rate": ["expected", "present"],
        "coverage": ["members", "reviewed"], "reviewer_coverage": ["members", "reviewer"],
        "outcome_sharing_rate": ["completed_in_window", "shared_in_window"],
    ]

    public static func suppress(_ report: JSONValue, below k: Int64) -> JSONValue {
        var suppressed = 0
        var out = walk(report, k, &suppressed)
        if case .object(var o) = out {
            o["suppression"] = .object(JSONObject([("min_count", .int(k)), ("cells_suppressed", .int(Int64(suppressed)))]))
            out = .object(o)
        }
        return out
    }

    static func walk(_ v: JSONValue, _ k: Int64, _ n: inout Int) -> JSONValue {
        switch v {
        case .array(let a): return .array(a.map { walk($0, k, &n) })
        case .object(let o):
            var copy = JSONObject()
            var hidden = Set<String>()
            for (key, value) in o.pairs {
                if counts.contains(key), case .int(let c) = value, c > 0, c < k {
                    hidden.insert(key)
                    n += 1
                    copy[key] = .null
                } else if counts.contains(key), case .double(let c) = value, c > 0, c < Double(k) {
                    hidden.insert(key)
                    n += 1
                    copy[key] = .null
                } else {
                    copy[key] = walk(value, k, &n)
                }
            }
            for group in partitions where group.contains(where: hidden.contains) {
                for key in group where !hidden.contains(key) && copy[key] != nil {
                    hidden.insert(key)
                    n += 1
                    copy[key] = .null
                }
            }
            for (count, lists) in revealing where hidden.contains(count) {
                for list in lists where copy[list] != nil { copy[list] = .null }
            }
            for (rate, inputs) in rates where copy[rate] != nil && copy[rate] != .null && inputs.contains(where: hidden.contains) {
                copy[rate] = .null
                n += 1
            }
            return .object(copy)
        default: return v
        }
    }
}
