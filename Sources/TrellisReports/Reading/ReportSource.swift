import GRDB
import TrellisLedger
import TrellisCore
import TrellisProjections

/// A report with where its figures come from.
public struct Reported<Report> {
    public var report: Report
    public var provenance: Provenance
}

/// The read models a report is computed from: the read side's (``ReadSide``, for a SQLite
/// ledger the ledger file), caught up to the head of the log, or — with `knownAt`/`asOf` —
/// a time-travel ``Snapshot`` built for that moment.
/// Each report reads in one transaction, so it sees one consistent state, and comes with
/// its ``Provenance`` (the last seq the figures saw and its hash).
///
/// ## Topics
/// - ``init(ledger:engine:knownAt:asOf:progress:)``
/// - ``readModels(_:)``
/// - ``participation(_:)``
/// - ``coverage(_:on:windowDays:)``
/// - ``graph(_:kinds:slicing:)``
/// - ``outcomes(_:)``
/// - ``documents(_:)``
/// - ``summary(_:on:windowDays:kinds:commandLine:)``
public final class ReportSource {
    /// The log (provenance of a snapshot: the stored hash of its last seq).
    public let store: any LedgerStore
    public let engine: ProjectionEngine
    public let snapshot: Snapshot?
    public let knownAt: String?
    public let asOf: String?

    /// - Parameter progress: events replayed so far and the last seq to replay, while the
    ///   read models catch up or the snapshot is built.
    public init(ledger: any LedgerStore, engine: ProjectionEngine, knownAt: String? = nil, asOf: String? = nil,
                progress: ((Int64, Int64) -> Void)? = nil) throws {
        self.store = ledger
        self.engine = engine
        self.knownAt = knownAt
        self.asOf = asOf
        if knownAt != nil || asOf != nil {
            snapshot = try engine.snapshot(knownAt: knownAt, asOf: asOf, progress: progress)
        } else {
            try engine.catchUp(progress: progress)
            snapshot = nil
        }
    }

    /// One read transaction of the read models the reports read: the snapshot's, or the read side's.
    public func readModels<T>(_ body: (Database) throws -> T) throws -> T {
        if let snapshot { return try snapshot.database.read(body) }
        return try engine.readSide.read(body)
    }

    public func participation(_ query: ReportQuery) throws -> Reported<ParticipationReport> {
        try read(query) { db, scope in try Reports.participation(db, scope) }
    }

    public func coverage(_ query: ReportQuery, on: Int? = nil, windowDays: Int = CoverageFigures.defaultWindowDays) throws -> Reported<CoverageReport> {
        try read(query, fallbackDay: on) { db, scope in try Reports.coverage(db, scope, on: on, windowDays: windowDays) }
    }

    public func graph(_ query: ReportQuery, kinds: [TieKind] = TieKind.allCases, slicing: Period.Slicing? = nil) throws -> Reported<GraphReport> {
        try read(query) { db, scope in try Reports.graph(db, scope, kinds: kinds, slicing: slicing) }
    }

    public func outcomes(_ query: ReportQuery) throws -> Reported<OutcomesReport> {
        try read(query) { db, scope in try Reports.outcomes(db, scope) }
    }

    public func documents(_ query: ReportQuery) throws -> Reported<DocumentsReport> {
        try read(query) { db, scope in try Reports.documents(db, scope) }
    }

    /// Every section, with the read models' digests in the provenance.
    public func summary(_ query: ReportQuery, on: Int? = nil, windowDays: Int = CoverageFigures.defaultWindowDays,
                        kinds: [TieKind] = TieKind.allCases, commandLine: String) throws -> Summary {
        // Opened before the report's transaction begins: see `ReadSide.companion()`.
        let companion = snapshot == nil ? engine.readSide.companion() : nil
        return try read(query, fallbackDay: on) { db, scope in
            var p = try self.provenance(db)
            p.commandLine = commandLine
            // Hashed from the tables this report reads, never a cached digest: on a second
            // connection and thread, in a transaction that sees what this one sees, while the
            // figures are computed here (a second at 1 M events, on one core, that the figures
            // left idle for most of it); in this transaction when that cannot be had.
            let engine = self.engine, head = p.headSeq
            let job = companion.flatMap { c in
                try? BackgroundResult { try c.readIfUnchanged { db in try engine.digests(in: db, headSeq: head) } }
            }
            var summary: Summary
            do {
                summary = try Reports.summary(db, scope, on: on, windowDays: windowDays, kinds: kinds, provenance: p)
            } catch {
                _ = job?.join()
                throw error
            }
            // Not had on the companion (something committed in between, or its read failed):
            // hashed here, in this transaction.
            var digests: [ProjectionEngine.Digest]?
            if let job, case .success(let hashed) = job.join() { digests = hashed }
            summary.provenance.digests = try (digests ?? engine.digests(in: db, headSeq: head)).map {
                Provenance.Digest(name: $0.name, digest: $0.digest)
            }
            return summary
        }.report
    }

    func read<T>(_ query: ReportQuery, fallbackDay: Int? = nil, _ body: @escaping (Database, ReportScope) throws -> T) throws -> Reported<T> {
        let (value, provenance) = try readModels { db in
            let scope = try ReportScope.resolve(query, db, fallbackDay: fallbackDay)
            return (try body(db, scope), try self.provenance(db))
        }
        return Reported(report: value, provenance: provenance)
    }

    /// The last seq the figures saw and its hash: the snapshot's prefix (its hash from the
    /// log), or the read side's position in the same transaction as the figures.
    func provenance(_ db: Database) throws -> Provenance {
        let seq: Int64
        let hash: [UInt8]?
        if let snapshot {
            seq = snapshot.throughSeq
            hash = seq > 0 ? try store.hash(at: seq) : nil
        } else {
            let position = try ReadSide.position(db)
            seq = position.seq
            hash = seq > 0 ? position.hash : nil
        }
        let hex = hash.map { Hex.encode($0) }
        return Provenance(headSeq: seq, headHash: hex ?? String(repeating: "0", count: 64), asOf: asOf, knownAt: knownAt)
    }
}

/// A value worked out on a thread of its own, waited for with ``join()``.
final class BackgroundResult<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private var worker: Pipeline.Worker?

    init(_ work: @escaping () throws -> T) throws {
        worker = try Pipeline.Worker { [unowned self] in self.result = Result { try work() } }
    }

    deinit { worker?.join() }

    /// The value, or the error, once the thread has finished.
    func join() -> Result<T, any Error> {
        worker?.join()
        worker = nil
        return result ?? .failure(ProjectionError.internalError("a background job ended without a result"))
    }
}
