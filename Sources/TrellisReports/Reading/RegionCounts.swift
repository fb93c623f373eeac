import TrellisLedger
import GRDB

/// How much the read models hold, for `trellis demo`'s glance at the region.
public struct RegionCount: Sendable, Equatable {
    /// What is counted ("meetings", "reviews completed").
    public var what: String
    public var count: Int
}

extension ReportSource {
    /// Networks, organisations, meetings, attendance, documents, reviews and retractions in
    /// the read models, in that order (one read transaction).
    public func regionCounts() throws -> [RegionCount] {
        let queries: [(String, String)] = [
            ("networks", "SELECT count(*) FROM networks"),
            ("organisations", "SELECT count(*) FROM organisations"),
            ("meetings", "SELECT count(*) FROM meetings"),
            ("counting attendance records", "SELECT count(*) FROM attendance"),
            ("documents shared", "SELECT count(*) FROM documents"),
            ("adoptions", "SELECT count(*) FROM adoptions"),
            ("reviews committed", "SELECT count(*) FROM reviews"),
            ("reviews completed", "SELECT count(*) FROM reviews WHERE completed_on IS NOT NULL"),
            ("reviews withdrawn", "SELECT count(*) FROM reviews WHERE withdrawn_on IS NOT NULL"),
            ("outcomes shared", "SELECT count(DISTINCT review_id) FROM review_shares"),
        ]
        let counts = try readModels { db in
            try queries.map { RegionCount(what: $0.0, count: try Int.fetchOne(db, sql: $0.1) ?? 0) }
        }
        // Retractions are the log's, not a read model's.
        return counts + [RegionCount(what: "retracted events", count: try store.retractions().count)]
    }

    /// The id of the organisation `text` names, by id or by name (``OrganisationMatcher``);
    /// ``ReportError`` (exit 64) when it names none or several.
    public func organisation(named text: String) throws -> String {
        try readModels { db in try ReportScope.resolveOrganisation(text, ReportScope.organisationMatcher(db)) }
    }
}
