import Foundation
import TrellisLedger
import TrellisCore

// `trellis verify` against a PostgreSQL ledger checks what it checks in a ledger file: the
// server's own schema (the append-only triggers and the function they run, every table,
// constraint and index, no rule, policy or row-level security Trellis does not create, the
// triggers firing for this connection, `ledger_meta`) and its derived state (rule tables,
// `retractions`, `person_keys`, compared with what the log implies through the local cache,
// ``Ledger/compareDerivedState(with:limit:)``). The chain itself is ``PostgresStore/verifyChain(progress:)``.

extension PostgresStore {
    /// One object of the schema as the catalog shows it, with the schema's name stripped.
    struct CatalogObject: Equatable {
        var kind: String
        var name: String
        var table: String
        var definition: String
    }

    /// The body of `trellis_events_append_only` as the migration writes it.
    static let appendOnlyBody: String = {
        let v1 = PostgresSchema.v1
        guard let open = v1.range(of: "AS $$"), let close = v1.range(of: "$$;", range: open.upperBound..<v1.endIndex) else { return "" }
        return String(v1[open.upperBound..<close.lowerBound])
    }()

    /// What the migrations create, object by object (pinned: a fresh `init` verifies; a new
    /// migration adds its objects here).
    static let expectedCatalog: [CatalogObject] = {
        var out: [CatalogObject] = []
        func table(_ name: String, _ columns: String) { out.append(.init(kind: "table", name: name, table: name, definition: columns)) }
        func constraint(_ name: String, _ table: String, _ def: String) { out.append(.init(kind: "constraint", name: name, table: table, definition: def)) }
        func index(_ name: String, _ table: String, unique: Bool, _ columns: String) {
            out.append(.init(kind: "index", name: name, table: table,
                             definition: "CREATE \(unique ? "UNIQUE " : "")INDEX \(name) ON \(table) USING btree (\(columns))"))
        }
        func trigger(_ name: String, _ when: String, row: Bool) {
            out.append(.init(kind: "trigger", name: name, table: "events", definition:
                "CREATE TRIGGER \(name) BEFORE \(when) ON events FOR EACH \(row ? "ROW" : "STATEMENT") EXECUTE FUNCTION trellis_events_append_only()"))
        }
        table("ledger_meta", "key text collate C not null, value text collate default not null")
        table("ledger_migrations", "name text collate C not null, applied_at timestamp with time zone not null default now()")
        table("events", "seq bigint not null, id text collate C not null, type text collate C not null, v bigint not null, "
              + "occurred_at text collate C not null, recorded_at text collate C not null, actor text collate C, "
              + "data text collate C not null, hash bytea not null")
        table("rule_entities", "kind text collate C not null, key text collate C not null, seq bigint not null, parent text collate C, state bigint not null default 0")
        table("rule_memberships", "network_id text collate C not null, org_id text collate C not null, seq bigint not null, joined smallint not null")
        table("retractions", "target_seq bigint not null, retraction_seq bigint not null")
        table("person_keys", "person_id text collate C not null, key bytea not null")
        for (name, t, cols) in [("ledger_meta_pkey", "ledger_meta", "key"), ("ledger_migrations_pkey", "ledger_migrations", "name"),
                                ("events_pkey", "events", "seq"), ("rule_entities_pkey", "rule_entities", "kind, key"),
                                ("rule_memberships_pkey", "rule_memberships", "network_id, org_id, seq"),
                                ("retractions_pkey", "retractions", "target_seq"), ("person_keys_pkey", "person_keys", "person_id")] {
            constraint(name, t, "PRIMARY KEY (\(cols))")
            index(name, t, unique: true, cols)
        }
        for (name, t, col) in [("events_id_key", "events", "id"), ("retractions_retraction_seq_key", "retractions", "retraction_seq")] {
            constraint(name, t, "UNIQUE (\(col))")
            index(name, t, unique: true, col)
        }
        index("events_recorded_at", "events", unique: false, "recorded_at")
        trigger("events_no_update", "UPDATE", row: true)
        trigger("events_no_delete", "DELETE", row: true)
        trigger("events_no_truncate", "TRUNCATE", row: false)
        out.append(.init(kind: "function", name: "trellis_events_append_only", table: "events",
                         definition: "LANGUAGE plpgsql SECURITY INVOKER AS $$" + appendOnlyBody + "$$"))
        return out
    }()

    /// The catalog's view of the ledger's tables: their columns, constraints, indexes,
    /// triggers (with whether they fire), the functions the triggers run, rules, policies and
    /// row-level security; and every trigger on any other table of the database, and every
    /// event trigger (nothing Trellis runs creates one). Names are unqualified (the tables'
    /// schema is stripped).
    private static let catalogQuery = """
        WITH t AS (
            SELECT c.oid, c.relname::text AS relname, n.nspname::text AS nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid IN (SELECT to_regclass(x) FROM unnest($1::text[]) x)
        )
        SELECT 'table', t.relname, t.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || coalesce(' collate ' || co.collname, '') || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                   || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
          FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          GROUP BY t.relname
        UNION ALL
        SELECT 'constraint', co.conname::text, t.relname, pg_get_constraintdef(co.oid) FROM t JOIN pg_constraint co ON co.conrelid = t.oid
        UNION ALL
        SELECT 'index', i.relname::text, t.relname, replace(pg_get_indexdef(x.indexrelid), ' ON ' || quote_ident(t.nsp) || '.', ' ON ')
          FROM t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
        UNION ALL
        SELECT 'trigger', g.tgname::text, c.relname::text, replace(pg_get_triggerdef(g.oid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ')
                   || CASE g.tgenabled WHEN 'O' THEN '' ELSE ' [enabled ' || g.tgenabled::text || ']' END
          FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE NOT g.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT 'event trigger', e.evtname::text, '', e.evtevent::text FROM pg_event_trigger e
        UNION ALL
        SELECT DISTINCT 'function', p.proname::text, t.relname, 'LANGUAGE ' || l.lanname::text
                   || CASE WHEN p.prosecdef THEN ' SECURITY DEFINER' ELSE ' SECURITY INVOKER' END || ' AS $$' || p.prosrc || '$$'
          FROM t JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal JOIN pg_proc p ON p.oid = g.tgfoid JOIN pg_language l ON l.oid = p.prolang
        UNION ALL
        SELECT 'rule', r.rulename::text, t.relname, pg_get_ruledef(r.oid) FROM t JOIN pg_rewrite r ON r.ev_class = t.oid
        UNION ALL
        SELECT 'policy', p.polname::text, t.relname, '' FROM t JOIN pg_policy p ON p.polrelid = t.oid
        UNION ALL
        SELECT 'row-level security', t.relname, t.relname, '' FROM t JOIN pg_class c ON c.oid = t.oid WHERE c.relrowsecurity
        """

    /// Everything in the server's schema that is not as the migrations made it, one line each
    /// (the same words as a ledger file's `Ledger.triggerProblems`/`tableProblems`): empty when intact.
    private static func catalog(_ c: PGConnection) throws(LedgerError) -> [String: CatalogObject] {
        let r = try c.exec(Self.catalogQuery, [.text("{" + PostgresSchema.tables.joined(separator: ",") + "}")], during: "reading the schema")
        var found: [String: CatalogObject] = [:]
        for i in 0..<r.count {
            let o = CatalogObject(kind: r.string(i, 0) ?? "", name: r.string(i, 1) ?? "", table: r.string(i, 2) ?? "", definition: r.string(i, 3) ?? "")
            found[o.kind + " " + o.name + " " + o.table] = o
        }
        return found
    }

    /// Triggers, event triggers and rules the migrations do not create (`name on table`): any
    /// of them may have copied a key, in any encoding, before an erasure deleted it.
    public func foreignTriggers() throws(LedgerError) -> [String] {
        try withConnection { (c: PGConnection) throws(LedgerError) -> [String] in try Self.foreignTriggers(c) }
    }

    /// ``foreignTriggers()`` on a connection the caller holds (inside an append).
    static func foreignTriggers(_ c: PGConnection) throws(LedgerError) -> [String] {
        let expected = Set(Self.expectedCatalog.map { $0.kind + " " + $0.name + " " + $0.table })
        return try catalog(c).filter { !expected.contains($0.key) && ["trigger", "event trigger", "rule"].contains($0.value.kind) }
            .values.map { $0.table.isEmpty ? "\($0.kind) \($0.name)" : "\($0.name) on \($0.table)" }.sorted()
    }

    public func schemaProblems() throws(LedgerError) -> [String] {
        try withConnection { (c: PGConnection) throws(LedgerError) -> [String] in
            var found = try Self.catalog(c)
            let behind = "someone altered the schema behind Trellis's back"
            var problems: [String] = []
            for e in Self.expectedCatalog {
                guard let f = found.removeValue(forKey: e.kind + " " + e.name + " " + e.table) else {
                    problems.append(e.kind == "trigger" ? "the append-only trigger \(e.name) is missing: \(behind)" : "the \(e.kind) \(e.name) is missing: \(behind)")
                    continue
                }
                if f.definition != e.definition {
                    if e.kind == "trigger", f.definition.hasPrefix(e.definition + " [enabled ") {
                        problems.append("the append-only trigger \(e.name) is disabled (ALTER TABLE … DISABLE TRIGGER, or fires only in replica mode): \(behind)")
                    } else if e.kind == "trigger" {
                        problems.append("the trigger \(e.name) is not the one Trellis creates (its SQL was replaced): \(behind)")
                    } else if e.kind == "function" {
                        problems.append("the function \(e.name) the append-only triggers run is not the one Trellis creates (its body was replaced): \(behind)")
                    } else {
                        problems.append("the \(e.kind) \(e.name) is not the one Trellis creates (its SQL differs): \(behind)")
                    }
                }
            }
            for f in found.values.sorted(by: { ($0.kind, $0.name) < ($1.kind, $1.name) }) {
                switch f.kind {
                case "row-level security": problems.append("row-level security is on for \(f.table), which Trellis never turns on: \(behind)")
                case "function": problems.append("a trigger on \(f.table) runs the function \(f.name), which Trellis never creates: \(behind)")
                case "event trigger": problems.append("an event trigger \(f.name) (on \(f.definition)), which Trellis never creates: \(behind)")
                default: problems.append("an extra \(f.kind) \(f.name) on \(f.table), which Trellis never creates: \(behind)")
                }
            }
            // Set on the database or the role, `replica` silences every ordinary trigger.
            let role = try c.exec("SELECT current_setting('session_replication_role')", during: "reading the schema").string(0, 0) ?? ""
            if role != "origin" {
                problems.append("session_replication_role is \(role) for this connection (set on the database or a role): the append-only triggers do not fire; \(behind)")
            }
            let meta = try c.exec("SELECT key, value FROM ledger_meta ORDER BY key", during: "reading the schema")
            let have = (0..<meta.count).map { "\(meta.string($0, 0) ?? "NULL")=\(meta.string($0, 1) ?? "NULL")" }
            let want = ["format=\(PostgresSchema.format)"]
            if have != want {
                problems.append("ledger_meta holds \(have.isEmpty ? "nothing" : have.joined(separator: ", ")), not \(want.joined(separator: ", ")) as Trellis writes it: someone altered it behind Trellis's back")
            }
            return problems
        }
    }

    /// The server's rule tables, `retractions` and `person_keys`, in one snapshot, for
    /// ``Ledger/compareDerivedState(with:limit:)``.
    public func derivedState() throws(LedgerError) -> StoredDerivedState {
        try withConnection { (c: PGConnection) throws(LedgerError) -> StoredDerivedState in
            try c.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", during: "reading the rule tables")
            do throws(LedgerError) {
                var s = StoredDerivedState()
                let e = try c.exec("SELECT kind, key, seq, parent, state FROM rule_entities", during: "reading the rule tables")
                for i in 0..<e.count {
                    s.ruleEntities.append(.init(kind: e.string(i, 0) ?? "", key: e.string(i, 1) ?? "", seq: e.int(i, 2),
                                                parent: e.string(i, 3), state: e.int(i, 4)))
                }
                let m = try c.exec("SELECT network_id, org_id, seq, joined FROM rule_memberships", during: "reading the rule tables")
                for i in 0..<m.count {
                    s.memberships.append(.init(networkID: m.string(i, 0) ?? "", orgID: m.string(i, 1) ?? "", seq: m.int(i, 2), joined: m.int(i, 3)))
                }
                let r = try c.exec("SELECT target_seq, retraction_seq FROM retractions", during: "reading the rule tables")
                for i in 0..<r.count { s.retractions.append(.init(target: r.int(i, 0), retraction: r.int(i, 1))) }
                // A reader role may not read the keys (its grants leave them out): then they are not compared.
                if try c.exec("SELECT has_table_privilege('person_keys', 'SELECT')", during: "reading the person keys").string(0, 0) == "t" {
                    let k = try c.exec("SELECT person_id, key FROM person_keys", during: "reading the person keys")
                    s.personKeys = (0..<k.count).map { .init(person: k.string($0, 0) ?? "", key: k.bytes($0, 1) ?? []) }
                }
                try c.run("COMMIT", during: "reading the rule tables")
                return s
            } catch {
                if c.isOK { try? c.run("ROLLBACK") }
                throw error
            }
        }
    }
}

extension PostgresStore {
    /// After an erasure (`xid`: the erasing transaction's id) or for `erase --finish` (nil):
    /// `VACUUM FULL person_keys` rewrites the table into a new file, so the deleted key row's
    /// bytes leave its pages — plain VACUUM only marks the space free and the bytes stay (tested:
    /// `erasedPersonLeavesNoNameNoKeyAndAValidChain`). Nil when nothing is left that Trellis can
    /// reach; else what remains: a session holding a snapshot from before the erasure (the
    /// rewrite must keep the row for it: "another process is reading the ledger"), a role that
    /// does not own the table (only the owner may rewrite it), a foreign trigger or rule.
    static func purgeErasedKeys(_ c: PGConnection, erasedBy xid: String?) -> ErasureResidue? {
        var kept: [String] = []
        // Who may: the table's owner, the database's owner, a superuser (MAINTAIN from 17).
        let may = try? c.exec("""
            SELECT pg_get_userbyid(c.relowner),
                   pg_has_role(c.relowner, 'USAGE')
                   OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
                   OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                   OR CASE WHEN current_setting('server_version_num')::int >= 170000
                           THEN has_table_privilege(c.oid, 'MAINTAIN') ELSE false END
            FROM pg_class c WHERE c.oid = 'person_keys'::regclass
            """)
        let ownerName = may?.string(0, 0) ?? "the table's owner"
        var notOwner = false
        // The first transaction id that may be newer than the erasure: everything before it is
        // committed or aborted, the erasing transaction included (`erase --finish`: the next id).
        let bound: String? = {
            if let xid, let d = UInt64(xid) { return String(d + 1) }
            return try? c.exec("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", during: "looking for older snapshots").string(0, 0)
        }()
        if may?.string(0, 1) == "t" {
            // Holders (an ANALYZE, a report, another database's import) are waited for as long
            // as a writer waits for a lock (TRELLIS_BUSY_TIMEOUT, 60 s), so that the rewrite
            // need not keep the row: on a shared server some transaction from before the
            // erasure is often still running.
            var holders = bound.map { olderThanErasure(c, bound: $0) } ?? "the erasure's transaction id could not be read"
            var waited = 0
            let polls = Int(min(Ledger.busyTimeout, 24 * 3600) * 10)
            while holders != nil, waited < polls {
                usleep(100_000); waited += 1
                holders = bound.map { olderThanErasure(c, bound: $0) } ?? holders
            }
            // The rewrite needs the table to itself: a reader in a transaction that read it holds
            // it open. Waited for as long as a writer waits (TRELLIS_BUSY_TIMEOUT), then reported.
            do {
                try c.run("SET lock_timeout = \(PGConnection.lockTimeoutMillis)", during: "rewriting person_keys")
                defer { try? c.run("RESET lock_timeout") }
                try c.run("VACUUM FULL person_keys", during: "rewriting person_keys")
                // Nothing tells a client whether the rewrite kept a deleted row (reltuples counts
                // only live rows, measured): the check above is what decides. It is sound because
                // no transaction older than the bound can start once none is running, and no
                // snapshot taken after that can see the deleted row.
                if let holders {
                    kept.append(holders + ", so the rewrite had to keep the erased key's row: it is still in person_keys' pages")
                }
            } catch LedgerError.busy {
                kept.append("another process is reading the ledger (a transaction that read person_keys is still open), so person_keys could not be rewritten: the erased key's bytes are still in its pages")
            } catch {
                kept.append("rewriting person_keys failed (\(error)): the erased key's bytes may still be in the table's pages")
            }
        } else {
            notOwner = true
            kept.append("this role does not own person_keys, so it cannot rewrite it (VACUUM FULL): the erased key's bytes stay in the table's pages until its owner (\(ownerName)) or a superuser runs trellis erase --finish")
        }
        let foreign = (try? foreignTriggers(c)) ?? []
        return kept.isEmpty && foreign.isEmpty ? nil : ErasureResidue(foreignTriggers: foreign, serverKept: kept, notOwner: notOwner)
    }

    /// Why `VACUUM FULL` would have to keep a row deleted before transaction `bound` (a decimal
    /// xid8), as the start of a sentence; nil when nothing would. The rewrite keeps a deleted row
    /// while the cleanup horizon of this database is not past its deletion. That horizon is the
    /// oldest of: any snapshot of this database (or of none: a replication connection),
    /// including the rewriting session's own, whose oldest running transaction may be in any
    /// database (measured: a CREATE TABLE in another database made the rewrite keep the row);
    /// a replication slot; and `vacuum_defer_cleanup_age` (PostgreSQL 15 and before).
    static func olderThanErasure(_ c: PGConnection, bound: String) -> String? {
        let r = try? c.exec("""
            WITH b AS (SELECT ($1::text::numeric + coalesce(nullif(current_setting('vacuum_defer_cleanup_age', true), '')::numeric, 0))::text AS b)
            SELECT concat_ws('; ',
              (SELECT 'a transaction that began before the erasure is still running ('
                      || coalesce((SELECT 'server process ' || string_agg(pid::text || coalesce(' in database ' || datname, ''), ', ' ORDER BY pid)
                                   FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND age(backend_xid) > age((b::numeric % 4294967296)::text::xid)
                                   HAVING count(*) > 0), 'a prepared transaction, or one held back by vacuum_defer_cleanup_age') || ')'
               FROM b WHERE pg_snapshot_xmin(pg_current_snapshot()) < b::xid8),
              (SELECT 'another process is reading the ledger (server process ' || string_agg(pid::text, ', ' ORDER BY pid) || ' with a snapshot from before the erasure)'
               FROM pg_stat_activity, b WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datid IS NULL)
                 AND backend_xmin IS NOT NULL AND age(backend_xmin) > age((b::numeric % 4294967296)::text::xid) HAVING count(*) > 0),
              (SELECT 'replication slot ' || string_agg(slot_name::text, ', ') || ' holds back cleanup from before the erasure'
               FROM pg_replication_slots, b WHERE xmin IS NOT NULL AND age(xmin) > age((b::numeric % 4294967296)::text::xid) HAVING count(*) > 0))
            """, [.text(bound)], during: "looking for older snapshots")
        guard let r else { return "the server's transactions could not be listed" }
        let text = r.string(0, 0) ?? ""
        return text.isEmpty ? nil : text
    }

    /// `erase --finish`: ``purgeErasedKeys(_:erasedBy:)`` for every earlier erasure. Nil when done.
    public func finishErasure() throws(LedgerError) -> ErasureResidue? {
        try withConnection { (c: PGConnection) throws(LedgerError) -> ErasureResidue? in Self.purgeErasedKeys(c, erasedBy: nil) }
    }
}
