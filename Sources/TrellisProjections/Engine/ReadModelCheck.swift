import Crypto
import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// How one read model compares with a rebuild from the log (`trellis verify`).
public struct ReadModelVerdict: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Equal to a rebuild through its checkpoint: every table's digest and the schema.
        case consistent
        /// Never built in this file: nothing to compare (not an error).
        case notBuilt
        /// Built by another version of its definition: the next read rebuilds it (not an error).
        case otherDefinition
        /// Built in this file by a definition this engine was not given (`--projection`): not compared.
        case definitionNotGiven
        /// Its checkpoint is not within the log (reported with the ledger's derived state).
        case checkpointOutsideLog
        /// Differs from the rebuild: what differs.
        case differs(String)
    }
    public var name: String
    public var checkpoint: Int64?
    public var state: State
}

extension ProjectionEngine {
    /// The SQL of what the definition owns, and of every trigger and index on its tables,
    /// sorted. Names are matched as SQLite matches them, ignoring case: a trigger made
    /// `ON ATTENDANCE` is on `attendance`. An index the definition does not declare counts:
    /// a partial UNIQUE one would make its `INSERT OR IGNORE` drop rows at the next catch-up.
    private static func schema(of d: ProjectionDefinition, db: Database) throws -> [String] {
        let objects = CompiledProjection.objects(of: d)
        let names = objects.map { $0.name.lowercased() }
        let tables = objects.filter { $0.kind == "TABLE" }.map { $0.name.lowercased() }
        guard !names.isEmpty else { return [] }
        let list = { (xs: [String]) in xs.map { _ in "?" }.joined(separator: ", ") }
        let rows = try Row.fetchAll(db, sql: """
            SELECT type, name, tbl_name, sql FROM main.sqlite_master
            WHERE lower(name) IN (\(list(names))) OR (type IN ('trigger', 'index') AND lower(tbl_name) IN (\(tables.isEmpty ? "NULL" : list(tables))))
            """, arguments: StatementArguments(names + tables))
        return rows.map { row -> String in
            let type: String = row[0], name: String = row[1], table: String = row[2]
            let sql: String? = row[3]
            return "\(type) \(name) on \(table): \(sql ?? "")"
        }.sorted()
    }
}

extension ProjectionEngine {
    /// The part of full verify after the chain: the ledger's derived state against a replay of
    /// the log (``Ledger/verifyDerivedState(limit:chain:replayOnEveryCore:progress:)``) and every read model against a
    /// rebuild (``checkReadModels(progress:)``). The two are independent — each reads
    /// the ledger on its own connection and writes its own scratch file — so they run at once,
    /// the read models on a worker thread; `progress` follows the replay. Neither holds a whole
    /// table in memory (the tables are compared in key order, streamed). The first error (the
    /// replay's first) is thrown.
    /// `chain` is full verify's concurrent chain check (``Ledger/verify(alongside:parallelism:)``), for the replay.
    public func checkDerivedState(limit: Int = 20, chain: ChainCheckedRange? = nil, progress: ((Int64, Int64) -> Void)? = nil) throws -> (DerivedStateReport, [ReadModelVerdict]) {
        guard let ledger = store as? Ledger else {
            throw ProjectionError.internalError("derived state is checked for a SQLite ledger only (\(store.location))")
        }
        final class Box: @unchecked Sendable { var result: Result<[ReadModelVerdict], any Error>? }
        let box = Box()
        let worker: Pipeline.Worker?
        do {
            worker = try Pipeline.Worker { box.result = Result { try self.checkReadModels() } }
        } catch {
            worker = nil
        }
        // With read models to rebuild beside it, the replay keeps to this thread: spread over
        // both cores it took them from the rebuild, the longer of the two, and full verify of 1 M
        // events with its read models took 4.64 s instead of 4.14 (medians of five alternated
        // runs); with none, it takes 2.10 s instead of 3.57 on both cores.
        let alone = !((try? rebuildsSomeReadModel()) ?? true)
        let report = Result { try ledger.verifyDerivedState(limit: limit, chain: chain, replayOnEveryCore: alone, progress: progress) }
        worker?.join()
        let models = box.result ?? Result { try self.checkReadModels() }
        return (try report.get(), try models.get())
    }

    /// Whether ``checkReadModels(progress:)`` will rebuild a read model (``plan(_:)``).
    func rebuildsSomeReadModel() throws -> Bool {
        var config = Configuration()
        config.readonly = true
        let reader = try DatabaseQueue(path: readSide.path, configuration: config)
        defer { try? reader.close() }
        return try reader.read { db in try !plan(db).checkpoints.isEmpty }
    }

    /// What ``checkReadModels(progress:)`` does with each definition: the read models it
    /// rebuilds and compares (built here by the same definition, the checkpoint within the
    /// log), with their checkpoints; a verdict for each of the others; and every state.
    private func plan(_ db: Database) throws -> (checkpoints: [String: Int64], verdicts: [String: ReadModelVerdict], states: [String: State]) {
        let states = try self.states(db)
        let head = try ReadSide.position(db).seq
        var verdicts: [String: ReadModelVerdict] = [:]
        var checkpoints: [String: Int64] = [:]
        for d in definitions {
            guard let s = states[d.name] else { verdicts[d.name] = ReadModelVerdict(name: d.name, checkpoint: nil, state: .notBuilt); continue }
            if s.digest != d.digest {
                verdicts[d.name] = ReadModelVerdict(name: d.name, checkpoint: s.checkpoint, state: .otherDefinition)
            } else if s.checkpoint < 0 || s.checkpoint > head {
                verdicts[d.name] = ReadModelVerdict(name: d.name, checkpoint: s.checkpoint, state: .checkpointOutsideLog)
            } else {
                checkpoints[d.name] = s.checkpoint
            }
        }
        return (checkpoints, verdicts, states)
    }

    /// Compares every read model built in the ledger with a rebuild from the log through its
    /// checkpoint, in a scratch file (``build(through:occurredBy:progress:)``, deleted
    /// afterwards): its owned tables, and the SQL of its tables, views, indexes and triggers
    /// (a trigger added to a read-model table would rewrite its rows). It runs inside one read
    /// transaction on a read-only connection of its own (the ledger's connection stays free
    /// for the replay): the read models' states,
    /// the rebuild through each checkpoint, and the comparison all see one state of the read
    /// models. Each owned table is compared with the rebuild's row by row in primary-key order
    /// (all columns when it has none), streamed; only when that finds a difference are both
    /// tables' digests computed (as in the model digest), and they decide, so the verdicts are
    /// those of comparing digests.
    public func checkReadModels(progress: ((Int64, Int64) -> Void)? = nil) throws -> [ReadModelVerdict] {
        var config = Configuration()
        config.readonly = true
        let reader = try DatabaseQueue(path: readSide.path, configuration: config)
        defer { try? reader.close() }
        let definitions = self.definitions
        return try reader.read { db in
            let asOf = try db.tableExists("study_meta") ? String.fetchOne(db, sql: "SELECT value FROM study_meta WHERE key = 'as_of'") : nil
            let occurredBy = try asOf.map { t throws -> Int64 in
                guard let m = Timestamp.micros(t) else { throw ProjectionError.internalError("study_meta.as_of \(t) is not a date or date-time") }
                return m
            }
            let planned = try plan(db)
            let checkpoints = planned.checkpoints, states = planned.states
            var verdicts = planned.verdicts
            for checkpoint in Set(checkpoints.values).sorted() {
                let snapshot = try build(through: checkpoint, occurredBy: occurredBy, progress: progress)
                try snapshot.database.read { sdb in
                    for d in definitions where checkpoints[d.name] == checkpoint {
                        var state = ReadModelVerdict.State.consistent
                        for name in Self.tableNames(of: d) {
                            let inLedger = try db.tableExists(name), inRebuild = try sdb.tableExists(name)
                            if !inLedger && !inRebuild { continue }
                            if !inLedger { state = .differs("its table \(name) is missing"); break }
                            if inRebuild, try Self.sameRows(name, ledger: db, rebuild: sdb) { continue }
                            if inRebuild, try Self.tableDigest(name, db: db) == Self.tableDigest(name, db: sdb) { continue }
                            state = .differs("table \(name) differs from a rebuild through seq \(checkpoint)" + (asOf.map { " as of \($0)" } ?? ""))
                            break
                        }
                        if state == .consistent {
                            let expectedSchema = try Self.schema(of: d, db: sdb), mine = try Self.schema(of: d, db: db)
                            if expectedSchema != mine {
                                let extra = mine.first { !expectedSchema.contains($0) }
                                state = .differs("its schema differs from the definition's" + (extra.map { " (not in the definition: \($0.prefix(120)))" } ?? ""))
                            }
                        }
                        verdicts[d.name] = ReadModelVerdict(name: d.name, checkpoint: checkpoint, state: state)
                    }
                }
            }
            let known = Set(definitions.map(\.name))
            return definitions.compactMap { verdicts[$0.name] }
                + states.keys.filter { !known.contains($0) }.sorted().map { ReadModelVerdict(name: $0, checkpoint: states[$0]?.checkpoint, state: .definitionNotGiven) }
        }
    }

    private static func tableDigest(_ name: String, db: Database) throws -> String {
        var h = SHA256()
        _ = try hashTable(name, into: &h, db: db)
        return hex(h.finalize())
    }

    /// The table's rows in the ledger and in the rebuild are the same, in the same order of the
    /// rebuild's primary key (of all its columns when it has none), storage class and bytes of
    /// every column alike. False also when the ledger's table cannot be read that way (a column
    /// missing): the digests then decide.
    private static func sameRows(_ name: String, ledger db: Database, rebuild sdb: Database) throws -> Bool {
        func quoted(_ s: String) -> String { "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" }
        let info = try Row.fetchAll(sdb, sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY pk, cid", arguments: [name])
        var order = info.filter { ($0[1] as Int64) > 0 }.map { $0[0] as String }
        if order.isEmpty { order = info.map { $0[0] as String } }
        guard !order.isEmpty else { return false }
        let sql = "SELECT * FROM main.\(quoted(name)) ORDER BY " + order.map(quoted).joined(separator: ", ")
        let expected = try sdb.makeStatement(sql: sql)
        let found: Statement
        do { found = try db.makeStatement(sql: sql) } catch { return false }
        let e = expected.sqliteStatement, f = found.sqliteStatement
        defer { sqlite3_reset(e); sqlite3_reset(f) }
        let n = sqlite3_column_count(e)
        guard sqlite3_column_count(f) == n else { return false }
        while true {
            let re = sqlite3_step(e), rf = sqlite3_step(f)
            if re == SQLITE_DONE && rf == SQLITE_DONE { return true }
            guard re == SQLITE_ROW, rf == SQLITE_ROW else {
                if re != SQLITE_DONE && re != SQLITE_ROW { throw DatabaseError(resultCode: ResultCode(rawValue: re), message: String(cString: sqlite3_errmsg(sdb.sqliteConnection))) }
                if rf != SQLITE_DONE && rf != SQLITE_ROW { throw DatabaseError(resultCode: ResultCode(rawValue: rf), message: String(cString: sqlite3_errmsg(db.sqliteConnection))) }
                return false
            }
            guard StoredRow.same(e, f, columns: n) else { return false }
        }
    }
}
