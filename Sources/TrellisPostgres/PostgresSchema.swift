import TrellisLedger
import TrellisCore

/// The PostgreSQL form of the ledger: the same tables and meanings as the SQLite file's
/// (ARCHITECTURE.md), created and upgraded by named migrations that are never edited once
/// released, recorded in `ledger_migrations`. A database whose `ledger_meta.format` is higher,
/// or that lists a migration this build does not know, was written by a newer Trellis and is
/// refused (``LedgerError/newerFormat(path:format:)``, exit 65).
///
/// Text columns use the "C" collation: `recorded_at <= …` (`--known-at`) and the id index
/// compare bytes, as SQLite does, whatever the database's default collation.
public enum PostgresSchema {
    /// The format this build writes (the same number as the SQLite file's).
    public static let format = 1

    /// Every migration, in order: (name, SQL).
    static let migrations: [(name: String, sql: String)] = [("v1: event log, rule state, personal keys", v1)]

    /// The advisory-lock key every writer takes first (`pg_advisory_xact_lock`): "trellis" in ASCII.
    static let appendLock: Int64 = 0x74_72_65_6C_6C_69_73
    /// The key migrations take, so that two `init`s at once do not race.
    static let migrationLock: Int64 = 0x74_72_65_6C_6C_69_74

    /// The tables of the log and its rule state (everything a writer touches).
    public static let tables = ["ledger_meta", "ledger_migrations", "events", "rule_entities", "rule_memberships", "retractions", "person_keys"]

    static let v1 = """
        CREATE TABLE ledger_meta (
            key   text COLLATE "C" PRIMARY KEY,
            value text NOT NULL
        );
        INSERT INTO ledger_meta (key, value) VALUES ('format', '1');

        -- The log. seq is gap-free: every writer takes pg_advisory_xact_lock(appendLock) before
        -- reading the head, and appends head + 1, … in one transaction (ARCHITECTURE.md).
        -- data is canonical JSON (personal fields as ciphertext); hash = SHA-256(previous hash ||
        -- canonical envelope), 32 bytes.
        CREATE TABLE events (
            seq         bigint PRIMARY KEY,
            id          text COLLATE "C" NOT NULL UNIQUE,
            type        text COLLATE "C" NOT NULL,
            v           bigint NOT NULL,
            occurred_at text COLLATE "C" NOT NULL,
            recorded_at text COLLATE "C" NOT NULL,
            actor       text COLLATE "C",
            data        text COLLATE "C" NOT NULL,
            hash        bytea NOT NULL
        );
        CREATE INDEX events_recorded_at ON events (recorded_at);
        CREATE FUNCTION trellis_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the event log is append-only: events cannot be %', lower(TG_OP) || 'd'
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION trellis_events_append_only();
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION trellis_events_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION trellis_events_append_only();

        -- Rule state, written in the same transaction as the events that change it.
        CREATE TABLE rule_entities (
            kind   text COLLATE "C" NOT NULL,
            key    text COLLATE "C" NOT NULL,
            seq    bigint NOT NULL,
            parent text COLLATE "C",
            state  bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (kind, key)
        );
        CREATE TABLE rule_memberships (
            network_id text COLLATE "C" NOT NULL,
            org_id     text COLLATE "C" NOT NULL,
            seq        bigint NOT NULL,
            joined     smallint NOT NULL,
            PRIMARY KEY (network_id, org_id, seq)
        );
        CREATE TABLE retractions (
            target_seq     bigint PRIMARY KEY,
            retraction_seq bigint NOT NULL UNIQUE
        );
        -- One AES-256-GCM key per person; deleting the row is the erasure (then VACUUM, see
        -- ARCHITECTURE.md for what PostgreSQL may still hold).
        CREATE TABLE person_keys (
            person_id text COLLATE "C" PRIMARY KEY,
            key       bytea NOT NULL
        );
        """

    /// Creates or upgrades the schema in the connection's database, in one transaction under
    /// the migration lock; refuses a newer one.
    static func migrate(_ c: PGConnection) throws(LedgerError) {
        // Up to date already: no DDL at all, so that a writer role (which may not CREATE in the
        // schema) can `trellis import` into the ledger its owner created.
        let present = try c.exec("SELECT to_regclass('ledger_migrations') IS NOT NULL", during: "reading the schema version")
        if present.string(0, 0) == "t" {
            let applied = try appliedMigrations(c)
            try checkNotNewer(c, applied: applied)
            if applied.isSuperset(of: migrations.map(\.name)) { return }
        }
        try c.run("BEGIN", during: "creating the schema")
        do {
            try c.exec("SELECT pg_advisory_xact_lock($1)", [.int(migrationLock)], during: "creating the schema")
            try c.run("""
                CREATE TABLE IF NOT EXISTS ledger_migrations (
                    name       text COLLATE "C" PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, during: "creating the schema")
            let applied = try appliedMigrations(c)
            try checkNotNewer(c, applied: applied)
            for m in migrations where !applied.contains(m.name) {
                try c.run(m.sql, during: "applying the migration \(m.name)")
                try c.exec("INSERT INTO ledger_migrations (name) VALUES ($1)", [.text(m.name)], during: "applying the migration \(m.name)")
            }
            try c.run("COMMIT", during: "creating the schema")
        } catch {
            try? c.run("ROLLBACK")
            throw error
        }
    }

    static func appliedMigrations(_ c: PGConnection) throws(LedgerError) -> Set<String> {
        let r = try c.exec("SELECT name FROM ledger_migrations", during: "reading the schema version")
        return Set((0..<r.count).compactMap { r.string($0, 0) })
    }

    /// Refuses a database that is not a Trellis ledger, or one written by a newer Trellis.
    static func check(_ c: PGConnection) throws(LedgerError) {
        let exists = try c.exec("SELECT to_regclass('ledger_migrations') IS NOT NULL, to_regclass('events') IS NOT NULL", during: "opening the ledger")
        guard exists.string(0, 0) == "t", exists.string(0, 1) == "t" else {
            throw LedgerError.missing(path: c.location)
        }
        try checkNotNewer(c, applied: try appliedMigrations(c))
    }

    private static func checkNotNewer(_ c: PGConnection, applied: Set<String>) throws(LedgerError) {
        let meta = try c.exec("SELECT to_regclass('ledger_meta') IS NOT NULL", during: "reading the schema version")
        if meta.string(0, 0) == "t" {
            let f = try c.exec("SELECT value FROM ledger_meta WHERE key = 'format'", during: "reading the schema version")
            if f.count > 0, let text = f.string(0, 0), (Int(text) ?? Int.max) > format {
                throw LedgerError.newerFormat(path: c.location, format: text)
            }
        }
        let known = Set(migrations.map(\.name))
        if !applied.subtracting(known).isEmpty {
            throw LedgerError.newerFormat(path: c.location, format: "with migrations unknown to this build")
        }
    }

    /// The GRANTs that give `writer` what appending needs and `reader` what reading needs, as
    /// SQL (`trellis init` prints them). The writer may INSERT and SELECT; the log itself it
    /// can never UPDATE, DELETE or TRUNCATE (no privilege, and the triggers refuse it for the
    /// owner too). Rule state is derived and mutable: UPDATE on rule_entities (a state bit),
    /// DELETE on rule_memberships (a retracted join) and on person_keys (erasure).
    public static func grants(writer: String, reader: String) -> String {
        let w = quoteIdentifier(writer), r = quoteIdentifier(reader)
        return """
            GRANT SELECT ON ledger_meta, ledger_migrations TO \(w), \(r);
            GRANT SELECT, INSERT ON events, rule_entities, rule_memberships, retractions, person_keys TO \(w);
            GRANT UPDATE (state) ON rule_entities TO \(w);
            GRANT DELETE ON rule_memberships, person_keys TO \(w);
            GRANT SELECT ON events, rule_entities, rule_memberships, retractions TO \(r);
            """
    }

    /// Creates `writer` and `reader` as roles that cannot log in (members or `ALTER ROLE … LOGIN`
    /// give them to people) when they do not exist, and grants them ``grants(writer:reader:)``.
    static func createRoles(_ c: PGConnection, writer: String, reader: String) throws(LedgerError) {
        try c.run("BEGIN", during: "creating the roles")
        do {
            for role in [writer, reader] {
                let exists = try c.exec("SELECT 1 FROM pg_roles WHERE rolname = $1", [.text(role)], during: "creating the roles")
                if exists.count == 0 { try c.run("CREATE ROLE \(quoteIdentifier(role)) NOLOGIN", during: "creating the role \(role)") }
            }
            try c.run(grants(writer: writer, reader: reader), during: "granting the roles their privileges")
            try c.run("COMMIT", during: "creating the roles")
        } catch {
            try? c.run("ROLLBACK")
            throw error
        }
    }

    /// A SQL identifier in double quotes.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
