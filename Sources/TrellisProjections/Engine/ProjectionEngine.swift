import Crypto
import Foundation
import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisCore
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
/// The engine is built from the log (``store``, any ``LedgerStore``) and the read side
/// (``readSide``, the SQLite database that holds the read models and the read side's copy of
/// the log's `events`, which the definitions replay). The head, the retractions and the
/// `--known-at` bounds come from the store; the replay reads the read side's `events`.
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
/// - ``init(store:readSide:extra:budget:)``
/// - ``init(ledger:extra:budget:)``
/// - ``builtIns``
/// - ``catchUp(progress:)``
/// - ``rebuild(_:progress:)``
/// - ``status()``
/// - ``digests()``
/// - ``checkReadModels(progress:)``
/// - ``snapshot(knownAt:asOf:progress:)``
public final class ProjectionEngine {
    /// The log: the head, retractions and `recorded_at` bounds are read here.
    public let store: any LedgerStore
    /// Where the read models live (for a SQLite ledger: the ledger file).
    public let readSide: ReadSide
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
    public static var builtIns: [ProjectionDefinition] { parsedBuiltIns }
    /// Parsed once per process (the getter is called on every catch-up and by the gate).
    private static let parsedBuiltIns: [ProjectionDefinition] =
        BuiltinProjections.sources.compactMap { try? ProjectionDefinition.parse($0.text, source: "projections/\($0.file)") }

    /// The read models of a SQLite ledger, kept in the ledger file itself.
    /// `extra`: the user's own definitions (`--projection FILE.sql`), after the built-ins.
    public convenience init(ledger: Ledger, extra: [ProjectionDefinition] = [], budget: Double? = nil) throws(DefinitionError) {
        try self.init(store: ledger, readSide: ReadSide(ledger: ledger), extra: extra, budget: budget)
    }

    /// The read models of the log in `store`, kept in `readSide`.
    /// `extra`: the user's own definitions (`--projection FILE.sql`), after the built-ins.
    public init(store: any LedgerStore, readSide: ReadSide, extra: [ProjectionDefinition] = [], budget: Double? = nil) throws(DefinitionError) {
        self.store = store
        self.readSide = readSide
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
        try write(force: [], progress: progress) { db, gate, log, scratch in
            try self.catchUp(db: db, gate: gate, log: log, force: [], scratch: scratch, progress: progress)
        }
    }

    /// Rebuilds the named read models (all when empty) from seq 1.
    public func rebuild(_ names: [String] = [], progress: ((Int64, Int64) -> Void)? = nil) throws {
        for n in names where !definitions.contains(where: { $0.name == n }) {
            throw ProjectionError.unknown(n, known: definitions.map(\.name))
        }
        let force = Set(names.isEmpty ? definitions.map(\.name) : names)
        try write(force: force, progress: progress) { db, gate, log, scratch in
            _ = try self.catchUp(db: db, gate: gate, log: log, force: force, scratch: scratch, progress: progress)
        }
        // Cached reports (TrellisReports' `ReportCache`) go with the rebuild: the next report recomputes.
        try readSide.write { db in
            if try db.tableExists("report_cache") { try db.execute(sql: "DELETE FROM report_cache") }
        }
    }

    /// What a catch-up reads from the log (``store``) before it takes the read side's write
    /// lock: the checkpoints it planned from, the head, and the retractions recorded after the
    /// lowest checkpoint.
    struct LogView {
        var states: [String: State]
        var head: Int64
        /// `late` holds every retraction recorded after this seq.
        var after: Int64
        var late: [(retraction: Int64, target: Int64)]
    }

    /// Thrown inside the write transaction (which rolls it back) when the replay must start
    /// before the retractions read (a model is rebuilt because of a retraction).
    struct RetractionsNeeded: Error { var after: Int64 }

    private func logView(force: Set<String>, after floor: Int64) throws -> LogView {
        // Checkpoints first, then the head: a checkpoint is never above a head read after it.
        let states = try readSide.read { db in try self.states(db) }
        let head = try store.head().seq
        let lowest = definitions.map { d -> Int64 in
            guard !force.contains(d.name), let s = states[d.name], s.digest == d.digest, s.checkpoint >= 0, s.checkpoint <= head else { return 0 }
            return s.checkpoint
        }.min() ?? head
        let after = min(lowest, floor)
        return LogView(states: states, head: head, after: after, late: try retractions(after: after, through: head))
    }

    /// The retractions recorded at seq `after` + 1 … `through`, as the log says them (its
    /// `EventRetracted` events, never the derived `retractions` table): from the whole log
    /// for a replay from the start, else from a scan of the tail only.
    func retractions(after: Int64, through: Int64) throws -> [(retraction: Int64, target: Int64)] {
        guard after < through else { return [] }
        if after == 0 {
            return try store.retractions().filter { $0.value <= through }.map { (retraction: $0.value, target: $0.key) }.sorted { $0.retraction < $1.retraction }
        }
        var ids: [(retraction: Int64, id: String)] = []
        try store.scan(from: after + 1, through: through) { e in
            if e.type == EventType.eventRetracted.rawValue, let id = (try? JSONParser.parse(e.data))?.object?.string("event_id") {
                ids.append((e.seq, id))
            }
            return true
        }
        return try ids.compactMap { r in
            guard let target = try store.event(id: r.id), target.seq < r.retraction else { return nil }
            return (retraction: r.retraction, target: target.seq)
        }
    }

    /// One write transaction on the read side with the definitions behind the gate
    /// (``Gate``). The log is read first (``logView(force:after:)``); when another process moved
    /// a checkpoint in between, or the replay must start before the retractions read, the
    /// transaction is rolled back and the log read again.
    ///
    /// When every built-in is rebuilt from seq 1 (``scratchPlan(log:force:)``), they are first
    /// replayed into a scratch file before the lock is taken (``buildScratch(_:through:retracted:progress:)``),
    /// attached, and copied in inside the transaction.
    private func write<T>(force: Set<String>, progress: ((Int64, Int64) -> Void)?,
                          _ body: @escaping (Database, Gate, LogView, ScratchRebuild?) throws -> T) throws -> T {
        do {
            var floor = Int64.max
            for _ in 0..<8 {
                let log = try logView(force: force, after: floor)
                let scratch = try scratchPlan(log: log, force: force).map { group in
                    try buildScratch(group, through: log.head, retracted: Set(log.late.map(\.target)), progress: progress)
                }
                var result: T?
                do {
                    try readSide.queue.writeWithoutTransaction { db in
                        // ATTACH and DETACH only outside a transaction.
                        try scratch?.attach(to: db)
                        defer { scratch?.detach(from: db) }
                        // A rebuild touches every page of the read models; a 64 MB page cache keeps it
                        // from spilling dirty pages to the WAL mid-transaction (RSS stays < 150 MB).
                        // Copying every model from the scratch files (nothing else replayed here)
                        // writes each page once, in key order: spilling early costs nothing, 16 MB do.
                        let copyOnly = scratch.map { $0.definitions.count == self.definitions.count } ?? false
                        try db.execute(sql: "PRAGMA cache_size = \(copyOnly ? -16384 : -65536)")
                        try Gate.session(db: db, definitions: self.definitions, budget: self.budget) { gate in
                            try db.inTransaction(.immediate) {
                                guard try self.states(db) == log.states else { return .rollback }
                                result = try body(db, gate, log, scratch)
                                return .commit
                            }
                        }
                    }
                } catch let needed as RetractionsNeeded {
                    floor = needed.after
                    continue
                }
                if let result { return result }
            }
            throw ProjectionError.internalError("the read models kept changing under the catch-up (another process catching up?); try again")
        } catch let e as DefinitionError { throw e } catch let e as ProjectionError { throw e } catch let e as LedgerError { throw e } catch {
            throw Ledger.translate(error, path: readSide.path)
        }
    }

    struct State: Equatable { var digest: String; var checkpoint: Int64 }

    func states(_ db: Database) throws -> [String: State] {
        var out: [String: State] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, definition_digest, checkpoint_seq FROM projection_state") {
            out[row[0]] = State(digest: row[1], checkpoint: row[2])
        }
        return out
    }

    private func catchUp(db: Database, gate: Gate, log: LogView, force: Set<String>, scratch: ScratchRebuild?,
                         progress: ((Int64, Int64) -> Void)?) throws -> [String] {
        let head = log.head
        let states = log.states
        var plan: [(ProjectionDefinition, after: Int64)] = []
        var rebuilt: [String] = []
        var incremental: [(ProjectionDefinition, checkpoint: Int64)] = []
        for d in definitions {
            let objects = CompiledProjection.objects(of: d)
            let missing = try objects.contains { try !db.tableExists($0.name) && !db.viewExists($0.name) && $0.kind != "INDEX" && $0.kind != "TRIGGER" }
            // A checkpoint above the head (the log's tail truncated, or set by hand) is not
            // trusted: catching up from it would leave the events after the head out.
            if force.contains(d.name) || missing || states[d.name]?.digest != d.digest || (states[d.name].map { $0.checkpoint > head || $0.checkpoint < 0 } ?? true) {
                plan.append((d, 0))
                rebuilt.append(d.name)
            } else if let state = states[d.name], state.checkpoint < head {
                incremental.append((d, state.checkpoint))
            }
        }
        // Retractions come from the log (the store's EventRetracted events), never from the
        // `retractions` table (derived state, which verify checks but a read does not trust).
        // Those recorded after the lowest checkpoint are enough to see which models an undone
        // event concerns; the target's type comes from the read side's copy of the log.
        var targetTypes: [Int64: String] = [:]
        for (d, checkpoint) in incremental {
            // An event this projection already applied was retracted since: rebuild it.
            var undone = false
            for r in log.late where r.retraction > checkpoint && r.target <= checkpoint {
                if targetTypes[r.target] == nil {
                    targetTypes[r.target] = try String.fetchOne(db, sql: "SELECT type FROM events WHERE seq = ?", arguments: [r.target]) ?? ""
                }
                if EventType(rawValue: targetTypes[r.target] ?? "").map(d.handledTypes.contains) ?? false { undone = true; break }
            }
            if undone {
                plan.append((d, 0))
                rebuilt.append(d.name)
            } else {
                plan.append((d, checkpoint))
            }
        }
        guard !plan.isEmpty else { return [] }
        // A replay from seq `start` skips the events after it that are retracted: their
        // retractions come after them, so those recorded after `start` are all it needs.
        // `log.late` must start at or before it (an earlier retraction's target is ≤ `start`);
        // a rebuild decided above may need more: roll back and read the log again from there.
        if let start = plan.map(\.after).min(), start < log.after { throw RetractionsNeeded(after: start) }
        // In the definitions' (dependency) order.
        let order = Dictionary(uniqueKeysWithValues: definitions.enumerated().map { ($1.name, $0) })
        plan.sort { order[$0.0.name, default: 0] < order[$1.0.name, default: 0] }
        for (d, after) in plan where after == 0 { try recreate(d, db: db, gate: gate) }
        // Built-ins replay together; each user definition on its own, so a broken one
        // fails alone and names itself.
        let builtInNames = Set(Self.builtIns.map(\.name))
        let start = plan.map(\.after).min() ?? 0
        let retracted = Set(log.late.filter { $0.retraction > start }.map(\.target))
        let window = EventWindow(through: head, retracted: retracted, occurredBy: nil)
        let groups = [plan.filter { builtInNames.contains($0.0.name) }] + plan.filter { !builtInNames.contains($0.0.name) }.map { [$0] }
        for group in groups where !group.isEmpty {
            // Every built-in rebuilt from seq 1: already replayed into the scratch file.
            if let scratch, scratch.covers(group, head: head) {
                try scratch.copy(into: db)
                continue
            }
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
        let models = try readSide.read { db in
            let states = try self.states(db)
            return try self.definitions.map { d -> (ProjectionDefinition, State?, Int64) in
                var rows: Int64 = 0
                for o in CompiledProjection.objects(of: d) where o.kind == "TABLE" {
                    if try db.tableExists(o.name) || db.viewExists(o.name) {
                        rows += try Int64.fetchOne(db, sql: "SELECT count(*) FROM \"\(o.name)\"") ?? 0
                    }
                }
                return (d, states[d.name], rows)
            }
        }
        // After the checkpoints were read: none is above it.
        let head = try store.head().seq
        return models.map { d, state, rows in
            ProjectionStatus(name: d.name, source: d.source, definitionDigest: d.digest,
                             checkpointSeq: state?.checkpoint, builtWith: state?.digest, rows: rows, headSeq: head)
        }
    }

    public struct Digest: Sendable, Equatable {
        public var name: String
        public var digest: String
        public var headSeq: Int64
        public var rows: Int64
    }

    /// SHA-256 of each read model's canonical dump, hashed from the tables as they are now
    /// (catch up first for current figures). Never a cached value: the v3 migration's
    /// `tables_digest` columns are no longer read, since a digest that was not computed from
    /// the tables it vouches for attests to nothing (an edited row would keep the old digest).
    ///
    /// The definitions are shared out between this thread, in the read side's transaction,
    /// and a second connection on another thread (``ReadSide/companion()``), each taking the
    /// next one not yet taken: at 1 M events the attendance model alone is half the work. The
    /// companion hashes only if it sees what this transaction sees; otherwise this thread
    /// hashes everything.
    public func digests() throws -> [Digest] {
        let companion = definitions.count > 1 ? readSide.companion() : nil
        return try readSide.read { db in
            let head = try ReadSide.position(db).seq
            guard let companion else { return try self.digests(in: db, headSeq: head) }
            let work = DigestQueue(count: definitions.count)
            let definitions = self.definitions
            // The helper's failure, or a state it may not hash, leaves its definitions undone:
            // they are hashed below, in this transaction.
            let helper = try? Pipeline.Worker {
                _ = try? companion.readIfUnchanged { db in
                    while let k = work.next() { work.store(k, try Self.digest(of: definitions[k], db: db)) }
                }
            }
            var mine: (any Error)?
            do {
                while let k = work.next() { work.store(k, try Self.digest(of: definitions[k], db: db)) }
            } catch { mine = error; work.stop() }
            helper?.join()
            if let mine { throw mine }
            // What the companion could not do (it saw another state, or failed), done here.
            return try definitions.indices.map { k in
                let (digest, rows) = try work.result(k) ?? Self.digest(of: definitions[k], db: db)
                return Digest(name: definitions[k].name, digest: digest, headSeq: head, rows: rows)
            }
        }
    }

    /// The definitions still to hash, handed out in order to two threads, and their digests.
    final class DigestQueue: @unchecked Sendable {
        private let lock = NSLock()
        private var nextIndex = 0
        private var results: [(String, Int64)?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard nextIndex < results.count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        func stop() {
            lock.lock(); defer { lock.unlock() }
            nextIndex = results.count
        }

        func store(_ k: Int, _ r: (String, Int64)) {
            lock.lock(); defer { lock.unlock() }
            results[k] = r
        }

        func result(_ k: Int) -> (String, Int64)? {
            lock.lock(); defer { lock.unlock() }
            return results[k]
        }
    }

    /// The digests of the read models in `db` (the ledger or a snapshot), computed in the
    /// caller's transaction: a report hashes exactly the tables it reads.
    public func digests(in db: Database, headSeq: Int64? = nil) throws -> [Digest] {
        let head = try headSeq ?? ReadSide.position(db).seq
        return try definitions.map { d in
            let (digest, rows) = try Self.digest(of: d, db: db)
            return Digest(name: d.name, digest: digest, headSeq: head, rows: rows)
        }
    }

    /// Tables (not views: they are functions of the tables) sorted by name; each as its name, its column names, then its rows
    /// encoded as canonical JSON arrays (integers as numbers, text as strings, reals as
    /// `{"real":"<%.17g>"}`, blobs as `{"hex":…}`, null) and sorted bytewise: so the digest
    /// depends on the contents only, never on insertion order or rowids.
    static func digest(of d: ProjectionDefinition, db: Database) throws -> (String, Int64) {
        var h = SHA256()
        var total: Int64 = 0
        for name in tableNames(of: d) { total += try hashTable(name, into: &h, db: db) }
        return (hex(h.finalize()), total)
    }

    /// The tables a definition owns, sorted by name.
    static func tableNames(of d: ProjectionDefinition) -> [String] {
        CompiledProjection.objects(of: d).filter { $0.kind == "TABLE" }.map(\.name).sorted()
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// Feeds one table's canonical dump to `h`; returns its row count.
    static func hashTable(_ name: String, into h: inout SHA256, db: Database) throws -> Int64 {
        let stmt = try db.makeStatement(sql: "SELECT * FROM \"\(name)\"")
        let s = stmt.sqliteStatement
        let columns = (0..<sqlite3_column_count(s)).map { String(cString: sqlite3_column_name(s, $0)) }
        // The rows are sorted before hashing, so all of them are held: their canonical bytes
        // (each followed by a newline) packed into 1 MB chunks that never grow, and where each
        // row is, instead of one array per row (their headers, malloc overhead and spare
        // capacity cost as much again as the bytes at 1 M rows).
        var chunks: [UnsafeMutableBufferPointer<UInt8>] = []
        defer { for c in chunks { c.deallocate() } }
        var used = 0
        var places: [RowPlace] = []
        var buffer: [UInt8] = []
        let count = Int32(columns.count)
        while try Raw.step(s, db) {
            // The row as a canonical JSON array, written directly (the same bytes as
            // CanonicalJSON of the values, without building them).
            buffer.removeAll(keepingCapacity: true)
            buffer.append(UInt8(ascii: "["))
            for i in 0..<count {
                if i > 0 { buffer.append(UInt8(ascii: ",")) }
                switch sqlite3_column_type(s, i) {
                case SQLITE_INTEGER: CanonicalJSON.writeInt(sqlite3_column_int64(s, i), into: &buffer)
                case SQLITE_FLOAT:
                    buffer.append(contentsOf: #"{"real":"#.utf8)
                    CanonicalJSON.writeString(formatReal(sqlite3_column_double(s, i)), into: &buffer)
                    buffer.append(UInt8(ascii: "}"))
                case SQLITE_TEXT:
                    let text = Raw.column(s, i) ?? UnsafeBufferPointer(start: nil, count: 0)
                    // ASCII as it is, other valid UTF-8 through String. Text that is not valid
                    // UTF-8 is written as its bytes: repaired (each bad byte as U+FFFD), x'FF'
                    // and x'FE' would hash alike while SQLite groups and compares them apart.
                    if text.allSatisfy({ $0 < 0x80 }) {
                        CanonicalJSON.writeString(utf8: text, into: &buffer)
                    } else if let valid = String(validating: text, as: UTF8.self) {
                        CanonicalJSON.writeString(valid, into: &buffer)
                    } else {
                        buffer.append(contentsOf: #"{"text_bytes":"#.utf8)
                        CanonicalJSON.writeString(Hex.encode(Array(text)), into: &buffer)
                        buffer.append(UInt8(ascii: "}"))
                    }
                case SQLITE_BLOB:
                    buffer.append(contentsOf: #"{"hex":"#.utf8)
                    CanonicalJSON.writeString(Hex.encode(Raw.column(s, i).map { Array($0) } ?? []), into: &buffer)
                    buffer.append(UInt8(ascii: "}"))
                default: buffer.append(contentsOf: "null".utf8)
                }
            }
            buffer.append(UInt8(ascii: "]"))
            buffer.append(0x0A)
            let n = buffer.count
            if chunks.last.map({ used + n > $0.count }) ?? true {
                chunks.append(UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1 << 20, n)))
                used = 0
            }
            let chunk = chunks.count - 1
            _ = UnsafeMutableBufferPointer(rebasing: chunks[chunk][used..<(used + n)]).initialize(fromContentsOf: buffer)
            // The chunk never moves: the row is kept as where it starts and its length.
            places.append(RowPlace(start: UnsafePointer(chunks[chunk].baseAddress! + used), count: n))
            used += n
        }
        sqlite3_reset(s)
        h.update(data: Array((name + "\n").utf8))
        h.update(data: CanonicalJSON.bytes(.array(columns.map(JSONValue.string))) + [0x0A])
        // Sorted by their bytes without the newline, as the rows themselves sort (memcmp is
        // that order: unsigned bytes, a prefix first; the generic byte-by-byte comparison was
        // a third of a summary's digests, perf, 1.6 M read-model rows).
        places.sort(by: RowPlace.precedes)
        // Hashed 64 KiB at a time: a `SHA256.update` a row cost more than its bytes.
        let stageSize = 1 << 16
        let stage = UnsafeMutableRawBufferPointer.allocate(byteCount: stageSize, alignment: 16)
        defer { stage.deallocate() }
        var staged = 0
        for p in places {
            if staged + p.count > stageSize {
                h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: stage[0..<staged]))
                staged = 0
            }
            if p.count > stageSize {
                h.update(bufferPointer: UnsafeRawBufferPointer(start: p.start, count: p.count))
            } else {
                (stage.baseAddress! + staged).copyMemory(from: p.start, byteCount: p.count)
                staged += p.count
            }
        }
        if staged > 0 { h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: stage[0..<staged])) }
        return Int64(places.count)
    }

    /// Where one row of a table dump is (its canonical bytes and newline), in a chunk that
    /// stays put until the table is hashed.
    struct RowPlace {
        var start: UnsafePointer<UInt8>
        /// With the newline.
        var count: Int

        /// Byte order of the rows without their newlines.
        @inline(__always) static func precedes(_ a: RowPlace, _ b: RowPlace) -> Bool {
            let n = a.count - 1, m = b.count - 1
            let c = memcmp(a.start, b.start, min(n, m))
            return c != 0 ? c < 0 : n < m
        }
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
