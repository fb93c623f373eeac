import TrellisLedger
import TrellisCore

// Erasure in PostgreSQL deletes the person's `person_keys` row in the batch's transaction.
// A deleted row is a dead tuple, and even after a plain VACUUM its bytes stay in the page's
// free space (measured: the 32 key bytes were still in the table's file after DELETE, VACUUM
// and CHECKPOINT). `VACUUM FULL person_keys` writes the live rows into a new file and
// truncates the old one at commit, so no erased key is left in the table's files. The table
// holds one small row per person: the rewrite takes milliseconds, under an ACCESS EXCLUSIVE
// lock waited for as long as a writer waits (`purgeErasedKeys` in PostgresIntegrity.swift).
// Only the table's owner (or the database's owner, or a superuser) may run it; a writer
// role's erasure is recorded without it (exit 75, the residue named), and the owner
// completes it with `trellis erase --finish`, which then lists what the server may still hold.

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
    /// After `trellis erase --finish` rewrote `person_keys` (``finishErasure()``): checks that no
    /// erased person's key is held, and says where PostgreSQL may still hold copies elsewhere.
    public func erasureAftermath() throws(LedgerError) -> PostgresErasureFinish {
        try withConnection { (c: PGConnection) throws(LedgerError) -> PostgresErasureFinish in
            let left = try c.exec("""
                SELECT count(*) FROM person_keys k JOIN rule_entities e ON e.kind = 'person' AND e.key = k.person_id
                WHERE e.state & 2 <> 0
                """, during: "checking the erased keys").int(0, 0)
            let facts = try c.exec("""
                SELECT pg_current_wal_lsn()::text, current_setting('archive_mode'),
                       (SELECT count(*) FROM pg_stat_replication), (SELECT count(*) FROM pg_replication_slots)
                """, during: "reading where PostgreSQL keeps copies")
            return PostgresErasureFinish(erasedKeysLeft: Int(left), walPosition: facts.string(0, 0) ?? "?", archiveMode: facts.string(0, 1) ?? "?",
                                         standbys: Int(facts.int(0, 2)), replicationSlots: Int(facts.int(0, 3)))
        }
    }
}
