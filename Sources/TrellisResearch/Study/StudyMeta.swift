import GRDB
import TrellisLedger

/// Reads a study file's `study_meta` (written by ``StudyBuilder``) back.
///
/// ## Topics
/// - ``minCount(atPath:)``
public enum StudyMeta {
    /// The study file's own `min_count` (reports computed from it suppress cells counting
    /// fewer); nil when there is no ledger at `path`, it is not a study file, or it sets none.
    public static func minCount(atPath path: String) throws(LedgerError) -> Int64? {
        guard Ledger.exists(at: path) else { return nil }
        do {
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: config)
            return try queue.read { db -> Int64? in
                guard try db.tableExists("study_meta") else { return nil }
                return try Int64.fetchOne(db, sql: "SELECT value FROM study_meta WHERE key = 'min_count'")
            }
        } catch {
            throw .database(String(describing: error))
        }
    }
}
