import GRDB
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// The built-in read models replayed into throw-away files, one per part (a part is a set of
/// definitions replayed on one thread), to be copied into the read side in one transaction
/// (``ProjectionEngine/buildScratch(_:through:retracted:progress:)``). The files are removed
/// when this is released.
final class ScratchRebuild {
    struct Part {
        var path: String
        var definitions: [ProjectionDefinition]
    }
    private(set) var parts: [Part] = []
    /// Every definition this rebuild stands for (the built-ins), and the head it was built to.
    /// Those without handlers (views only) have no part: they have no rows to copy.
    let definitions: [ProjectionDefinition]
    let head: Int64

    init(definitions: [ProjectionDefinition], head: Int64) {
        self.definitions = definitions
        self.head = head
    }

    func add(_ part: Part) { parts.append(part) }

    deinit { for p in parts { TemporaryFiles.remove(p.path) } }

    static func schema(_ i: Int) -> String { "trellis_rebuild_\(i)" }

    /// Attaches every part to the read side's connection (outside a transaction).
    func attach(to db: Database) throws {
        for (i, p) in parts.enumerated() { try db.execute(sql: "ATTACH DATABASE ? AS \(Self.schema(i))", arguments: [p.path]) }
    }

    func detach(from db: Database) {
        for i in parts.indices { try? db.execute(sql: "DETACH DATABASE \(Self.schema(i))") }
    }

    /// True when `group` (the built-ins a catch-up replays) is exactly what was built here,
    /// every one from seq 1 up to `head`.
    func covers(_ group: [(ProjectionDefinition, after: Int64)], head: Int64) -> Bool {
        head == self.head && group.allSatisfy { $0.after == 0 }
            && Set(group.map { "\($0.0.name) \($0.0.digest)" }) == Set(definitions.map { "\($0.name) \($0.digest)" })
    }

    /// Copies every table of every part from the attached files into `main`, whose tables the
    /// caller has just recreated (empty, with their indexes): `INSERT … SELECT *` between two
    /// tables of the same schema is SQLite's transfer optimisation, which copies the records
    /// and the index entries in key order without decoding them.
    func copy(into db: Database) throws {
        for (i, p) in parts.enumerated() {
            for d in p.definitions {
                for table in ProjectionEngine.tableNames(of: d) {
                    let q = "\"" + table.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
                    try db.execute(sql: "INSERT INTO main.\(q) SELECT * FROM \(Self.schema(i)).\(q)")
                }
            }
        }
    }
}

extension ProjectionEngine {
    /// The built-ins a write must rebuild from seq 1 whatever the read side holds (forced, never
    /// built, built by another definition, or a checkpoint it cannot trust), when that is every
    /// built-in; nil otherwise (then the replay runs inside the transaction, as for a catch-up).
    func scratchPlan(log: LogView, force: Set<String>) -> [ProjectionDefinition]? {
        guard log.head > 0 else { return nil }
        let builtIns = Set(Self.builtIns.map { "\($0.name) \($0.digest)" })
        let group = definitions.filter { builtIns.contains("\($0.name) \($0.digest)") }
        guard !group.isEmpty else { return nil }
        for d in group {
            if force.contains(d.name) { continue }
            guard let s = log.states[d.name], s.digest == d.digest, s.checkpoint >= 0, s.checkpoint <= log.head else { continue }
            return nil
        }
        return group
    }

    /// Replays `definitions` (the built-ins) from seq 1 to `head` into temporary files, before
    /// the read side's write lock is taken (the caller checks that nothing moved before it
    /// copies). The definitions are split into parts, one per core (at most two), balanced by
    /// how many handler statements the last 4 096 events would run; each part is replayed on
    /// its own thread and connection into its own file (journal off, no sync, 32 MB of cache),
    /// the read side attached as `ledger`, behind the gate as a snapshot is. A built-in's
    /// handlers and views read only its own tables, so parts do not need each other.
    /// Plain (non-UNIQUE) indexes are created after the load: the handlers never need them,
    /// and building one from sorted rows is cheaper than keeping it up to date row by row.
    /// `progress` follows the first part, on the calling thread.
    func buildScratch(_ definitions: [ProjectionDefinition], through head: Int64, retracted: Set<Int64>,
                      progress: ((Int64, Int64) -> Void)?) throws -> ScratchRebuild {
        let scratch = ScratchRebuild(definitions: definitions, head: head)
        let replayed = definitions.filter { !$0.handlers.isEmpty }
        let cores = min(2, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        let groups = cores > 1 ? try partition(replayed, into: cores) : [replayed]
        var paths: [String] = []
        for _ in groups {
            do { paths.append(try TemporaryFiles.makeSnapshotFile(prefix: "trellis-rebuild")) } catch {
                for p in paths { TemporaryFiles.remove(p) }
                throw ProjectionError.internalError(error.description)
            }
        }
        for (g, path) in zip(groups, paths) { scratch.add(.init(path: path, definitions: g)) }
        final class Box: @unchecked Sendable { var failure: (any Error)? }
        var workers: [(Pipeline.Worker, Box)] = []
        var firstFailure: (any Error)?
        for part in scratch.parts.dropFirst() {
            let box = Box()
            do {
                workers.append((try Pipeline.Worker { do { try self.replay(part, through: head, retracted: retracted, progress: nil) } catch { box.failure = error } }, box))
            } catch {
                // No thread to be had: this part runs here, after the first.
                do { try replay(part, through: head, retracted: retracted, progress: nil) } catch { firstFailure = firstFailure ?? error }
            }
        }
        if let first = scratch.parts.first {
            do { try replay(first, through: head, retracted: retracted, progress: progress) } catch { firstFailure = error }
        }
        for (worker, box) in workers {
            worker.join()
            if firstFailure == nil { firstFailure = box.failure }
        }
        if let firstFailure { throw firstFailure }
        return scratch
    }

    /// Groups `definitions` into at most `n` non-empty parts of about equal work: each
    /// definition weighs the handler statements it runs for the types of the last 4 096
    /// events (a sample: the split only balances threads, it never changes a result).
    private func partition(_ definitions: [ProjectionDefinition], into n: Int) throws -> [[ProjectionDefinition]] {
        let counts = try readSide.read { db in
            try Row.fetchAll(db, sql: "SELECT type, count(*) FROM (SELECT type FROM events ORDER BY seq DESC LIMIT 4096) GROUP BY type")
                .reduce(into: [String: Int]()) { $0[$1[0]] = $1[1] }
        }
        let weighed = definitions.enumerated().map { i, d in
            (i, d, d.handlers.reduce(0) { $0 + (counts[$1.key.rawValue] ?? 0) * $1.value.count })
        }.sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }
        var parts = Array(repeating: [(Int, ProjectionDefinition)](), count: n)
        var loads = Array(repeating: 0, count: n)
        for (i, d, w) in weighed {
            let k = loads.indices.min { loads[$0] != loads[$1] ? loads[$0] < loads[$1] : $0 < $1 } ?? 0
            parts[k].append((i, d))
            loads[k] += max(w, 1)
        }
        // Each part in the definitions' (dependency) order.
        return parts.filter { !$0.isEmpty }.map { $0.sorted { $0.0 < $1.0 }.map(\.1) }
    }

    /// Replays one part into its file.
    private func replay(_ part: ScratchRebuild.Part, through head: Int64, retracted: Set<Int64>,
                        progress: ((Int64, Int64) -> Void)?) throws {
        var config = Configuration()
        // The parts open the ledger at once: a reader can meet a brief lock (the WAL index
        // being set up by another connection) and must wait for it, as every connection does.
        config.busyMode = .timeout(Ledger.busyTimeout)
        config.prepareDatabase { db in
            // A throw-away file: durability buys nothing. `main.` only: the ledger attached
            // later keeps its own settings.
            try db.execute(sql: "PRAGMA main.journal_mode = OFF; PRAGMA main.synchronous = OFF; PRAGMA main.cache_size = -16384")
        }
        let queue = try DatabaseQueue(path: part.path, configuration: config)
        defer { try? queue.close() }
        let definitions = part.definitions
        let ledgerPath = readSide.path
        let budget = self.budget
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS ledger", arguments: [ledgerPath])
            try Gate.session(db: db, definitions: definitions, logSchema: "ledger", budget: budget) { gate in
                // DEFERRED: an IMMEDIATE transaction would take the write lock of every attached
                // file, the ledger's too, and make every writer wait for the replay.
                try db.inTransaction(.deferred) {
                    var deferred: [ProjectionDefinition] = []
                    for d in definitions {
                        var now = d, later = d
                        now.setup = d.setup.filter { !Self.isPlainIndex($0) }
                        later.setup = d.setup.filter(Self.isPlainIndex)
                        try gate.setUp(now, db: db)
                        if !later.setup.isEmpty { deferred.append(later) }
                    }
                    // From seq 1: a derived table is filled once at the end (`-- derive`)
                    // instead of by every event.
                    let compiled = try CompiledProjection.fromStart(definitions, db: db, gate: gate)
                    let window = EventWindow(table: "ledger.events", through: head, retracted: retracted, occurredBy: nil)
                    try Replay.run(compiled.map { (projection: $0, after: Int64(0)) }, window: window, db: db) { progress?($0, head) }
                    try Replay.derive(compiled)
                    for d in deferred { try gate.setUp(d, db: db) }
                    return .commit
                }
            }
            try db.execute(sql: "DETACH DATABASE ledger")
        }
    }

    /// `CREATE INDEX …` (not `CREATE UNIQUE INDEX`, which can refuse a row and so must be
    /// there while the handlers run).
    static func isPlainIndex(_ statement: ProjectionDefinition.Statement) -> Bool {
        let words = statement.sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).prefix(2).map { $0.uppercased() }
        return words == ["CREATE", "INDEX"]
    }
}
