import Crypto
import GRDB
import GRDBSQLite
import TrellisLedger
#if canImport(Glibc)
import Glibc
#endif

/// What `projections list|status` shows for one read model.
public struct ProjectionStatus: Sendable, Equatable {
    public var name: String
    public var source: String
    public var definitionDigest: String
    /// nil when never built in this file.
    public var checkpointSeq: Int64?
    /// The digest of the definition that built the tables (differs after an edit).
    public var builtWith: String?
    public var rows: Int64
    public var headSeq: Int64
    public var isCurrent: Bool { checkpointSeq == headSeq && builtWith == definitionDigest }
}

/// Builds and keeps current the read models of a ledger, by replaying its log.
///
/// Every read catches up first (``catchUp(progress:)``): events after each projection's
/// checkpoint are applied in log order, in one transaction with the checkpoint. A projection
/// is rebuilt from seq 1 when it was never built, when its definition changed, or when an
/// event it had already applied was retracted since — so every read model always equals a
/// replay that never saw the retracted events. A rebuild drops and recreates the tables and
/// replays inside one write transaction: in WAL mode other readers keep seeing the previous
/// tables until the commit swaps in the new ones, never a half-built model.
///
/// ## Topics
/// - ``builtIns``
/// - ``catchUp(progress:)``
/// - ``rebuild(_:progress:)``
/// - ``status()``
/// - ``digests()``
/// - ``snapshot(knownAt:asOf:)``
public final class ProjectionEngine {
    public let ledger: Ledger
    public let definitions: [ProjectionDefinition]
    /// Seconds of run time each user definition may use per catch-up or rebuild (the gate
    /// stops it past that; built-ins are exempt): ``defaultBudget`` unless given.
    public let budget: Double

    /// 60 s, or `$TRELLIS_PROJECTION_BUDGET` seconds.
    public static var defaultBudget: Double {
        if let v = getenv("TRELLIS_PROJECTION_BUDGET").flatMap({ String(validatingCString: $0) }).flatMap(Double.init), v > 0 { return v }
        return 60
    }

    /// Tables of the ledger itself, which no projection may own.
    static let reserved: Set<String> = ["events", "rule_entities", "rule_memberships", "retractions", "person_keys",
                                        "ledger_meta", "projection_state", "grdb_migrations"]

    /// The built-in definitions (`projections/*.sql`), in dependency order.
    public static var builtIns: [ProjectionDefinition] {
        BuiltinProjections.sources.compactMap { try? ProjectionDefinition.parse($0.text, source: "projections/\($0.file)") }
    }

    /// `extra`: the user's own definitions (`--projection FILE.sql`), after the built-ins.
    public init(ledger: Ledger, extra: [ProjectionDefinition] = [], budget: Double? = nil) throws(DefinitionError) {
        self.ledger = ledger
        self.budget = budget ?? Self.defaultBudget
        var all = Self.builtIns
        var owners: [String: String] = [:]
        for d in all { for o in CompiledProjection.objects(of: d) { owners[o.name] = d.name } }
        for d in extra {
            if all.contains(where: { $0.name == d.name }) {
                throw DefinitionError(file: d.source, line: 1, statement: nil, message: "a projection named \(d.name) already exists; choose another name")
            }
            for o in CompiledProjection.objects(of: d) {
                if Self.reserved.contains(o.name) || o.name.hasPrefix("sqlite_") {
                    throw DefinitionError(file: d.source, line: d.setup.first?.line ?? 1, statement: nil, message: "\(o.name) is one of the ledger's own tables")
                }
                if let owner = owners[o.name] {
                    throw DefinitionError(file: d.source, line: d.setup.first?.line ?? 1, statement: nil, message: "\(o.name) belongs to projection \(owner)")
                }
                owners[o.name] = d.name
            }
            all.append(d)
        }
        definitions = all
    }

    // MARK: - Catch-up and rebuild

    /// Brings every read model up to the head of the log. Returns the names rebuilt.
    @discardableResult
    public func catchUp(progress: ((Int64, Int64) -> Void)? = nil) throws -> [String] {
        try write { db, gate in try self.catchUp(db: db, gate: gate, force: [], progress: progress) }
    }

    /// Rebuilds the named read models (all when empty) from seq 1.
    public func rebuild(_ names: [String] = [], progress: ((Int64, Int64) -> Void)? = nil) throws {
        for n in names where !definitions.contains(where: { $0.name == n }) {
            throw ProjectionError.unknown(n, known: definitions.map(\.name))
        }
        let force = Set(names.isEmpty ? definitions.map(\.name) : names)
        try write { db, gate in _ = try self.catchUp(db: db, gate: gate, force: force, progress: progress) }
    }

    /// One write transaction with the definitions behind the gate (``Gate``).
    private func write<T>(_ body: @escaping (Database, Gate) throws -> T) throws -> T {
        do {
            var result: T?
            try ledger.database.writeWithoutTransaction { db in
                // A rebuild touches every page of the read models; a 64 MB page cache keeps it
                // from spilling dirty pages to the WAL mid-transaction (RSS stays < 150 MB).
                try db.execute(sql: "PRAGMA cache_size = -65536")
                try Gate.session(db: db, definitions: self.definitions, budget: self.budget) { gate in
                    try db.inTransaction(.immediate) {
                        result = try body(db, gate)
                        return .commit
                    }
                }
            }
            guard let result else { throw ProjectionError.internalError("no result") }
            return result
        } catch let e as DefinitionError { throw e } catch let e as ProjectionError { throw e } catch {
            throw Ledger.translate(error, path: ledger.path)
        }
    }

    struct State { var digest: String; var checkpoint: Int64 }

    private func states(_ db: Database) throws -> [String: State] {
        var out: [String: State] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, definition_digest, checkpoint_seq FROM projection_state") {
            out[row[0]] = State(digest: row[1], checkpoint: row[2])
        }
        return out
    }

    private func catchUp(db: Database, gate: Gate, force: Set<String>, progress: ((Int64, Int64) -> Void)?) throws -> [String] {
        let head = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
        let states = try states(db)
        let retracted = Set(try Int64.fetchAll(db, sql: "SELECT target_seq FROM retractions"))
        var plan: [(ProjectionDefinition, after: Int64)] = []
        var rebuilt: [String] = []
        // Retractions recorded after the oldest checkpoint, with their targets' seq and type.
        let oldest = definitions.compactMap { states[$0.name]?.checkpoint }.min() ?? head
        var lateRetractions: [(retraction: Int64, target: Int64, type: String)] = []
        if oldest < head {
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.retraction_seq, r.target_seq, (SELECT type FROM events WHERE seq = r.target_seq)
                FROM retractions r WHERE r.retraction_seq > ?
                """, arguments: [oldest])
            lateRetractions = rows.map { ($0[0], $0[1], $0[2]) }
        }
        for d in definitions {
            let objects = CompiledProjection.objects(of: d)
            let missing = try objects.contains { try !db.tableExists($0.name) && !db.viewExists($0.name) && $0.kind != "INDEX" && $0.kind != "TRIGGER" }
            if force.contains(d.name) || missing || states[d.name]?.digest != d.digest {
                plan.append((d, 0))
                rebuilt.append(d.name)
            } else if let state = states[d.name], state.checkpoint < head {
                // An event this projection already applied was retracted since: rebuild it.
                let undone = lateRetractions.contains { r in
                    r.retraction > state.checkpoint && r.target <= state.checkpoint
                        && (EventType(rawValue: r.type).map(d.handledTypes.contains) ?? false)
                }
                if undone {
                    plan.append((d, 0))
                    rebuilt.append(d.name)
                } else {
                    plan.append((d, state.checkpoint))
                }
            }
        }
        guard !plan.isEmpty else { return [] }
        for (d, after) in plan where after == 0 { try recreate(d, db: db, gate: gate) }
        // Built-ins replay together; each user definition on its own, so a broken one
        // fails alone and names itself.
        let builtInNames = Set(Self.builtIns.map(\.name))
        let window = EventWindow(through: head, retracted: retracted, occurredBy: nil)
        let groups = [plan.filter { builtInNames.contains($0.0.name) }] + plan.filter { !builtInNames.contains($0.0.name) }.map { [$0] }
        for group in groups where !group.isEmpty {
            let compiled = try group.map { (try CompiledProjection($0.0, db: db, gate: gate), $0.after) }
            try Replay.run(compiled.map { (projection: $0.0, after: $0.1) }, window: window, db: db) { progress?($0, head) }
        }
        let now = Timestamp.recordedText(micros: Timestamp.nowMicros())
        for (d, _) in plan {
            try db.execute(sql: """
                INSERT INTO projection_state (name, definition_digest, checkpoint_seq, built_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET definition_digest = excluded.definition_digest,
                    checkpoint_seq = excluded.checkpoint_seq,
                    tables_digest = NULL, tables_rows = NULL, digest_seq = NULL,
                    built_at = CASE WHEN projection_state.definition_digest = excluded.definition_digest AND ? = 0
                                    THEN projection_state.built_at ELSE excluded.built_at END
                """, arguments: [d.name, d.digest, head, now, rebuilt.contains(d.name) ? 1 : 0])
        }
        return rebuilt
    }

    /// Drops what the definition owns and runs its setup again, both behind the gate: the
    /// engine never drops what is not the definition's own.
    private func recreate(_ d: ProjectionDefinition, db: Database, gate: Gate) throws {
        let scope = try gate.scope(for: d)
        for (stmt, o) in CompiledProjection.declarations(of: d).reversed() {
            // Drop what is there under that name, whatever an earlier definition made it.
            if let kind = try String.fetchOne(db, sql: "SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view', 'index', 'trigger')", arguments: [o.name]) {
                do { try gate.confined(scope, shaping: true) { try db.execute(sql: "DROP \(kind) IF EXISTS main.\"\(o.name)\"") } } catch {
                    throw gate.failure(error, in: scope, line: stmt.line, statement: stmt.sql)
                }
            }
        }
        try gate.setUp(d, db: db)
    }

    // MARK: - Status and digests

    public func status() throws -> [ProjectionStatus] {
        try ledger.database.read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
            let states = try self.states(db)
            return try self.definitions.map { d in
                var rows: Int64 = 0
                for o in CompiledProjection.objects(of: d) where o.kind == "TABLE" {
                    if try db.tableExists(o.name) || db.viewExists(o.name) {
                        rows += try Int64.fetchOne(db, sql: "SELECT count(*) FROM \"\(o.name)\"") ?? 0
                    }
                }
                return ProjectionStatus(name: d.name, source: d.source, definitionDigest: d.digest,
                                        checkpointSeq: states[d.name]?.checkpoint, builtWith: states[d.name]?.digest,
                                        rows: rows, headSeq: head)
            }
        }
    }

    public struct Digest: Sendable, Equatable {
        public var name: String
        public var digest: String
        public var headSeq: Int64
        public var rows: Int64
    }

    /// SHA-256 of each read model's canonical dump (catch up first for current figures).
    ///
    /// - Parameter recompute: hash the tables again (`trellis projections digest` does, to
    ///   show the truth); otherwise a digest cached at the current checkpoint is reused (a
    ///   report's provenance footer). Either way a freshly computed digest is cached.
    public func digests(recompute: Bool = true) throws -> [Digest] {
        let (head, computed): (Int64, [(Digest, fresh: Bool)]) = try ledger.database.read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
            var cached: [String: (digest: String, rows: Int64)] = [:]
            if !recompute {
                for row in try Row.fetchAll(db, sql: """
                    SELECT name, tables_digest, tables_rows FROM projection_state
                    WHERE tables_digest IS NOT NULL AND digest_seq = checkpoint_seq AND checkpoint_seq = ?
                    """, arguments: [head]) {
                    cached[row[0]] = (row[1], row[2])
                }
            }
            let out = try self.definitions.map { d -> (Digest, fresh: Bool) in
                if let c = cached[d.name] { return (Digest(name: d.name, digest: c.digest, headSeq: head, rows: c.rows), false) }
                let (digest, rows) = try Self.digest(of: d, db: db)
                return (Digest(name: d.name, digest: digest, headSeq: head, rows: rows), true)
            }
            return (head, out)
        }
        // Cache what was computed; a read-only ledger simply does not cache.
        try? ledger.database.write { db in
            for (d, fresh) in computed where fresh {
                try db.execute(sql: """
                    UPDATE projection_state SET tables_digest = ?, tables_rows = ?, digest_seq = checkpoint_seq
                    WHERE name = ? AND checkpoint_seq = ?
                    """, arguments: [d.digest, d.rows, d.name, head])
            }
        }
        return computed.map(\.0)
    }

    /// Tables (not views: they are functions of the tables) sorted by name; each as its name, its column names, then its rows
    /// encoded as canonical JSON arrays (integers as numbers, text as strings, reals as
    /// `{"real":"<%.17g>"}`, blobs as `{"hex":…}`, null) and sorted bytewise: so the digest
    /// depends on the contents only, never on insertion order or rowids.
    static func digest(of d: ProjectionDefinition, db: Database) throws -> (String, Int64) {
        var h = SHA256()
        var total: Int64 = 0
        let objects = CompiledProjection.objects(of: d).filter { $0.kind == "TABLE" }.map(\.name).sorted()
        for name in objects {
            let stmt = try db.makeStatement(sql: "SELECT * FROM \"\(name)\"")
            let s = stmt.sqliteStatement
            let columns = (0..<sqlite3_column_count(s)).map { String(cString: sqlite3_column_name(s, $0)) }
            var rows: [[UInt8]] = []
            while try Raw.step(s, db) {
                var values: [JSONValue] = []
                for i in 0..<Int32(columns.count) {
                    switch sqlite3_column_type(s, i) {
                    case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(s, i)))
                    case SQLITE_FLOAT:
                        values.append(.object(JSONObject([("real", .string(formatReal(sqlite3_column_double(s, i))))])))
                    case SQLITE_TEXT: values.append(.string(Raw.string(s, i) ?? ""))
                    case SQLITE_BLOB: values.append(.object(JSONObject([("hex", .string(Hex.encode(Raw.column(s, i).map { Array($0) } ?? [])))])))
                    default: values.append(.null)
                    }
                }
                rows.append(CanonicalJSON.bytes(.array(values)))
            }
            sqlite3_reset(s)
            rows.sort { $0.lexicographicallyPrecedes($1) }
            total += Int64(rows.count)
            h.update(data: Array((name + "\n").utf8))
            h.update(data: CanonicalJSON.bytes(.array(columns.map(JSONValue.string))) + [0x0A])
            for r in rows { h.update(data: r + [0x0A]) }
        }
        return (h.finalize().map { String($0, radix: 16).leftPadded(2) }.joined(), total)
    }

    static func formatReal(_ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 40)
        _ = withVaList([d]) { vsnprintf(&buf, 40, "%.17g", $0) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

public enum ProjectionError: Error, CustomStringConvertible, Sendable {
    case unknown(String, known: [String])
    case beforeFirstEvent(String)
    case internalError(String)

    public var description: String {
        switch self {
        case .unknown(let n, let known): return "no projection named \(n); known: " + known.joined(separator: ", ")
        case .beforeFirstEvent(let t): return "--known-at \(t) is before the first event was recorded: the ledger knew nothing then"
        case .internalError(let m): return "internal error: \(m)"
        }
    }
}
