import GRDB

/// The on-disk format: one SQLite file, created and upgraded by named migrations that are
/// never edited once released. ARCHITECTURE.md describes every table.
enum Schema {
    /// The format this build writes. A ledger whose `ledger_meta.format` is higher was written
    /// by a newer Trellis and is refused rather than misread.
    static let format = 1

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: event log, rule state, personal keys") { db in
            try db.execute(sql: v1)
        }
        m.registerMigration("v2: projection checkpoints") { db in
            try db.execute(sql: v2)
        }
        m.registerMigration("v3: cached read-model digests") { db in
            try db.execute(sql: v3)
        }
        m.registerMigration("v4: report cache") { db in
            try db.execute(sql: v4)
        }
        return m
    }

    static let v2 = """
        -- One row per read model built in this file: which definition built it (SHA-256 of the
        -- definition's text) and the last seq it has seen. Written in the same transaction as
        -- the read model's tables, so a checkpoint never runs ahead of its rows.
        CREATE TABLE projection_state (
            name              TEXT PRIMARY KEY,
            definition_digest TEXT NOT NULL,
            checkpoint_seq    INTEGER NOT NULL,
            built_at          TEXT NOT NULL
        ) WITHOUT ROWID;
        """

    static let v1 = """
        CREATE TABLE ledger_meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO ledger_meta(key, value) VALUES ('format', '1');

        -- The log. seq is the only order, gap-free by construction (head + 1 inside a
        -- BEGIN IMMEDIATE transaction) and checked by verify (a trigger checking it on every
        -- insert cost 40 % of the insert time); data is canonical JSON (personal fields as ciphertext);
        -- hash = SHA-256(previous hash || canonical envelope), 32 bytes.
        CREATE TABLE events (
            seq         INTEGER PRIMARY KEY,
            id          TEXT NOT NULL UNIQUE,
            type        TEXT NOT NULL,
            v           INTEGER NOT NULL,
            occurred_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            actor       TEXT,
            data        TEXT NOT NULL,
            hash        BLOB NOT NULL
        );
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;

        -- Rule state, written in the same transaction as the events that change it, so that
        -- appending to a ten-million-event ledger replays nothing.
        -- kind: network, organisation, person, meeting, document, review.
        -- parent: a person's org, a meeting's network, a document's sharer, a review's network.
        -- state: bit 1 retracted, 2 erased, 4 completed, 8 withdrawn.
        CREATE TABLE rule_entities (
            kind   TEXT NOT NULL,
            key    TEXT NOT NULL,
            seq    INTEGER NOT NULL,
            parent TEXT,
            state  INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID;
        -- Every non-retracted MemberJoined (joined = 1) and MemberLeft (0), by seq.
        CREATE TABLE rule_memberships (
            network_id TEXT NOT NULL,
            org_id     TEXT NOT NULL,
            seq        INTEGER NOT NULL,
            joined     INTEGER NOT NULL,
            PRIMARY KEY (network_id, org_id, seq)
        ) WITHOUT ROWID;
        -- Which events are retracted, and by which EventRetracted.
        CREATE TABLE retractions (
            target_seq     INTEGER PRIMARY KEY,
            retraction_seq INTEGER NOT NULL UNIQUE
        );
        -- One AES-256-GCM key per person; deleting the row (secure_delete on) is the erasure.
        CREATE TABLE person_keys (
            person_id TEXT PRIMARY KEY,
            key       BLOB NOT NULL
        ) WITHOUT ROWID;
        """

    static let v3 = """
        -- The digest of a read model's tables as computed at digest_seq (NULL once the model
        -- moves on), so that a report's provenance footer does not rehash a million rows.
        ALTER TABLE projection_state ADD COLUMN tables_digest TEXT;
        ALTER TABLE projection_state ADD COLUMN tables_rows INTEGER;
        ALTER TABLE projection_state ADD COLUMN digest_seq INTEGER;
        """

    static let v4 = """
        -- Reports as a cold run wrote them, for one log position (head_seq, head_hash), the
        -- read models' definitions and checkpoints, and the request (options, format, command
        -- line): key is SHA-256 of all of them, check SHA-256 of the key and the output.
        -- Derived state like a read model: a catch-up that moves the head makes every row
        -- unservable, a rebuild and a full verify empty the table. No definition may touch it.
        CREATE TABLE report_cache (
            key       BLOB PRIMARY KEY,
            head_seq  INTEGER NOT NULL,
            head_hash BLOB NOT NULL,
            request   TEXT NOT NULL,
            output    BLOB NOT NULL,
            check_sum BLOB NOT NULL
        );
        """
}

extension Ledger {
    /// Every table, index and trigger the migrations create, read back from an empty ledger
    /// migrated in memory: the objects no read model may own (the projection engine's gate
    /// reserves them, with whatever else the file holds on those tables).
    public static let schemaObjects: [(type: String, name: String, table: String)] = {
        do {
            let queue = try DatabaseQueue()
            try Schema.migrator.migrate(queue)
            return try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT type, name, tbl_name FROM sqlite_master").map { ($0[0], $0[1], $0[2]) }
            }
        } catch {
            return []
        }
    }()
}
