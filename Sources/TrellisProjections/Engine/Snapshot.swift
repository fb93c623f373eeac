import GRDB
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// Read models built for a moment in the past, in a temporary database that is deleted when
/// the snapshot is released. Time travel belongs to the engine, so every report gets it:
/// - `knownAt`: what the ledger knew at T — the log prefix recorded by T, and only the
///   retractions recorded by T;
/// - `asOf`: the world as it was at T, as we know it now — events that occurred by T, with
///   every retraction known today.
public final class Snapshot {
    public let path: String
    public let database: DatabaseQueue
    /// The last seq the snapshot saw.
    public let throughSeq: Int64

    init(path: String, database: DatabaseQueue, throughSeq: Int64) {
        self.path = path
        self.database = database
        self.throughSeq = throughSeq
    }

    deinit {
        try? database.close()
        TemporaryFiles.remove(path)
    }
}

extension ProjectionEngine {
    /// Builds every read model from the log as it was known at `knownAt` and/or as the world
    /// was at `asOf` (both UTC dates or date-times; a date means 00:00Z).
    public func snapshot(knownAt: String? = nil, asOf: String? = nil, progress: ((Int64, Int64) -> Void)? = nil) throws -> Snapshot {
        var through = try store.head().seq
        if let knownAt {
            guard let micros = Timestamp.micros(knownAt) else { throw ProjectionError.internalError("bad --known-at \(knownAt)") }
            through = try store.lastSeq(recordedAtOrBefore: Timestamp.recordedText(micros: micros))
            if through == 0 { throw ProjectionError.beforeFirstEvent(knownAt) }
        }
        let occurredBy = try asOf.map { t throws -> Int64 in
            guard let m = Timestamp.micros(t) else { throw ProjectionError.internalError("bad --as-of \(t)") }
            return m
        }
        return try build(through: through, occurredBy: occurredBy, progress: progress)
    }

    /// Builds every definition from the log's events through `through` (optionally only those
    /// that occurred by `occurredBy`), skipping the events retracted by an `EventRetracted` at
    /// or before `through` — read from the log (``LedgerStore/retractions()``), not from the
    /// `retractions` table; the events themselves from the read side's copy. With every
    /// event through a read model's checkpoint, this is what catch-up must have built there.
    func build(through: Int64, occurredBy: Int64?, progress: ((Int64, Int64) -> Void)? = nil) throws -> Snapshot {
        // `$TMPDIR/trellis-snapshot-<pid>-XXXXXX`, removed on SIGINT/SIGTERM too; stale ones of
        // dead processes are removed here.
        let path: String
        do { path = try TemporaryFiles.makeSnapshotFile(prefix: "trellis-snapshot") } catch {
            throw ProjectionError.internalError(error.description)
        }
        var config = Configuration()
        config.prepareDatabase { db in
            // A throw-away file: durability buys nothing here.
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
        }
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch {
            TemporaryFiles.remove(path)
            throw error
        }
        let snapshot = Snapshot(path: path, database: queue, throughSeq: through)
        let ledgerPath = readSide.path
        let retracted = Set(try retractions(after: 0, through: through).map(\.target))
        let definitions = self.definitions
        let budget = self.budget
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS ledger", arguments: [ledgerPath])
            // The engine attached the ledger; the definitions, behind the gate, read only its
            // events' public columns and write only their own tables in the snapshot.
            try Gate.session(db: db, definitions: definitions, logSchema: "ledger", budget: budget) { gate in
                try db.inTransaction {
                    for d in definitions { try gate.setUp(d, db: db) }
                    // From seq 1: a derived table is filled once at the end (`-- derive`).
                    let compiled = try CompiledProjection.fromStart(definitions, db: db, gate: gate)
                    let window = EventWindow(table: "ledger.events", through: through, retracted: retracted, occurredBy: occurredBy)
                    try Replay.run(compiled.map { (projection: $0, after: Int64(0)) }, window: window, db: db) { progress?($0, through) }
                    try Replay.derive(compiled)
                    return .commit
                }
            }
            try db.execute(sql: "DETACH DATABASE ledger")
        }
        return snapshot
    }

    /// Copies a snapshot's read models into the read side under their own definitions, and
    /// records them as built at `headSeq`, so that a later catch-up keeps them as the
    /// snapshot froze them (a study file built `--as-of`).
    public func install(_ snapshot: Snapshot, asBuiltAt headSeq: Int64) throws {
        let definitions = self.definitions
        try readSide.queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS snapshot", arguments: [snapshot.path])
            try db.inTransaction {
                for d in definitions {
                    // The same statements already ran in the snapshot: they cannot fail here.
                    for stmt in d.setup { try db.execute(sql: stmt.sql) }
                }
                let tables = try String.fetchAll(db, sql: "SELECT name FROM snapshot.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                for t in tables {
                    let quoted = "\"" + t.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
                    try db.execute(sql: "INSERT INTO main.\(quoted) SELECT * FROM snapshot.\(quoted)")
                }
                let now = Timestamp.recordedText(micros: Timestamp.nowMicros())
                for d in definitions {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO projection_state (name, definition_digest, checkpoint_seq, built_at) VALUES (?, ?, ?, ?)
                        """, arguments: [d.name, d.digest, headSeq, now])
                }
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE snapshot")
        }
    }

    /// Digests of a snapshot's read models.
    public func digests(of snapshot: Snapshot) throws -> [Digest] {
        try snapshot.database.read { db in
            try self.definitions.map { d in
                let (digest, rows) = try Self.digest(of: d, db: db)
                return Digest(name: d.name, digest: digest, headSeq: snapshot.throughSeq, rows: rows)
            }
        }
    }
}
