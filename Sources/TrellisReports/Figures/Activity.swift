import TrellisLedger
import TrellisCore

/// When the chosen networks last did something the reports count: the latest day of a
/// meeting, a join or leave, or a review step (committed, completed, withdrawn, outcome
/// shared). It anchors the defaults (``ReportScope``) so that they follow the ledger, not
/// the clock.
public enum Activity {
    public static func latestDay(latestMeeting: String?, membership: MembershipTimeline, reviews: [ReviewRow]) -> Int? {
        var latest = [latestMeeting, membership.latestDay].compactMap { $0 }.max()
        for r in reviews {
            for d in [r.committedOn, r.completedOn, r.withdrawnOn, r.firstSharedOn] {
                if let d, latest.map({ d > $0 }) ?? true { latest = d }
            }
        }
        return latest.flatMap(Timestamp.parseDate)
    }
}
