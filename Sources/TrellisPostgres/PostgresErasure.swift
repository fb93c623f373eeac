import TrellisLedger
import TrellisCore

// Erasure in PostgreSQL deletes the person's `person_keys` row in the batch's transaction.
// A deleted row is a dead tuple, and even after a plain VACUUM its bytes stay in the page's
// free space (measured: the 32 key bytes were still in the table's file after DELETE, VACUUM
// and CHECKPOINT). `VACUUM FULL person_keys` writes the live rows into a new file and
// truncates the old one at commit, so no erased key is left in the table's files. The table
// holds one small row per person: the rewrite takes milliseconds, under an ACCESS EXCLUSIVE
// lock that is waited for only briefly. Only the table's owner (or the database's owner, or a
// superuser) may run it; a writer role's erasure is recorded without it, and the owner
// completes it with `trellis erase --finish`.

/// Whether `person_keys` was rewritten after an erasure.
public enum KeyTableRewrite: Sendable, Equatable {
    /// `VACUUM FULL person_keys` ran: no erased key is left in the table's files.
    case rewritten
    /// This role may not rewrite the table; `owner` (its owner) may.
    case notOwner(owner: String)
    /// Another transaction held `person_keys` (a long import registering persons) past the wait.
    case busy
}

/// What `trellis erase --finish` did on a PostgreSQL ledger, and where PostgreSQL may still
/// hold copies of erased keys: outside the tables, beyond what a client can remove.
public struct PostgresErasureFinish: Sendable, Equatable {
    /// Keys of erased persons still in `person_keys` (0 unless something bypassed Trellis).
    public var erasedKeysLeft: Int
    /// The WAL position when the table was rewritten: WAL before it may hold erased keys.
    public var walPosition: String
    /// `archive_mode` (off, on, always).
    public var archiveMode: String
    /// Standbys streaming from this server now, and replication slots (each keeps WAL).
    public var standbys: Int
    public var replicationSlots: Int

    /// One line per place PostgreSQL may still hold an erased key, for the person who asks.
    public var stillHeld: [String] {
        var out = ["WAL in pg_wal written before \(walPosition): segments stay until checkpoints recycle and overwrite them"]
        out.append(archiveMode == "off"
            ? "WAL archive: none (archive_mode is off)"
            : "WAL archive: archive_mode is \(archiveMode): every archived segment before \(walPosition), until the archive's retention removes it")
        out.append(standbys + replicationSlots == 0
            ? "replicas: none stream from this server now (a standby elsewhere, or a logical copy, holds what it received)"
            : "replicas: \(standbys) standby(s) streaming, \(replicationSlots) replication slot(s): each holds the same table history and WAL until it replays and recycles them")
        out.append("base backups and dumps taken before the erasure, until the region's backup retention removes them")
        return out
    }
}

extension PostgresStore {
    /// `trellis erase --finish`: rewrites `person_keys` (`VACUUM FULL`) so that no erased key is
    /// left in the table's files, checks that no erased person's key is held, and says what
    /// PostgreSQL may still hold elsewhere. A role that may not rewrite the table gets
    /// ``LedgerError/storage(path:reason:)`` (exit 74) naming the owner; a table held by
    /// another transaction past the wait, ``LedgerError/busy(path:seconds:)`` (exit 75).
    public func finishErasure() throws(LedgerError) -> PostgresErasureFinish {
        try lock.run { () throws(LedgerError) in
            switch try rewritePersonKeys(wait: "10s") {
            case .rewritten: break
            case .notOwner(let owner):
                throw LedgerError.storage(path: location, reason: "this role may not rewrite person_keys, so erased keys may still be in its files: "
                                          + "run 'trellis erase --finish' as its owner (\(owner)) or a superuser")
            case .busy:
                throw LedgerError.busy(path: location, seconds: 10)
            }
            let left = try connection.exec("""
                SELECT count(*) FROM person_keys k JOIN rule_entities e ON e.kind = 'person' AND e.key = k.person_id
                WHERE e.state & 2 <> 0
                """, during: "checking the erased keys").int(0, 0)
            let facts = try connection.exec("""
                SELECT pg_current_wal_lsn()::text, current_setting('archive_mode'),
                       (SELECT count(*) FROM pg_stat_replication), (SELECT count(*) FROM pg_replication_slots)
                """, during: "reading where PostgreSQL keeps copies")
            return PostgresErasureFinish(erasedKeysLeft: Int(left), walPosition: facts.string(0, 0) ?? "?", archiveMode: facts.string(0, 1) ?? "?",
                                         standbys: Int(facts.int(0, 2)), replicationSlots: Int(facts.int(0, 3)))
        }
    }

    /// How the last erasure this store committed left `person_keys` (nil before any).
    public var lastErasureRewrite: KeyTableRewrite? { lock.run { erasureRewrite } }

    /// `VACUUM FULL person_keys` when this role may (the table's or the database's owner, a
    /// superuser, or MAINTAIN from PostgreSQL 17), waiting at most `wait` for the table's lock.
    func rewritePersonKeys(wait: String) throws(LedgerError) -> KeyTableRewrite {
        let may = try connection.exec("""
            SELECT pg_get_userbyid(c.relowner),
                   pg_has_role(c.relowner, 'USAGE')
                   OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
                   OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                   OR CASE WHEN current_setting('server_version_num')::int >= 170000
                           THEN has_table_privilege(c.oid, 'MAINTAIN') ELSE false END
            FROM pg_class c WHERE c.oid = 'person_keys'::regclass
            """, during: "checking who may rewrite person_keys")
        guard may.string(0, 1) == "t" else { return .notOwner(owner: may.string(0, 0) ?? "the table's owner") }
        try connection.run("SET lock_timeout = '\(wait)'", during: "rewriting person_keys")
        defer { try? connection.run("RESET lock_timeout") }
        do {
            try connection.run("VACUUM FULL person_keys", during: "rewriting person_keys")
        } catch LedgerError.busy {
            return .busy
        }
        return .rewritten
    }
}
