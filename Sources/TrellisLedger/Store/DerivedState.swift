import Foundation
import GRDB
import GRDBSQLite
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

// Derived state checked against the log (`trellis verify`): the rule tables and `retractions`
// are recomputed by replaying the log, in seq order, into a scratch ledger through the archive
// import path (every event re-checked against the append rules, its effects written with its
// own seq), then compared row by row with the ledger's; `person_keys` must not hold a key for a
// person the log erased or never registered; checkpoints must not be above the head. The
// triggers are compared in full by ``Ledger/verify(progress:)``.

/// Problems found, one line each, capped: the first `limit` are kept and the rest counted.
public struct Findings: Sendable, Equatable {
    public var limit: Int
    public private(set) var lines: [String] = []
    public private(set) var total = 0
    public init(limit: Int = 20) { self.limit = limit }
    public mutating func add(_ line: String) {
        total += 1
        if lines.count < limit { lines.append(line) }
    }
    /// Adds `other`'s lines after these (up to the limit) and counts all of its problems.
    public mutating func merge(_ other: Findings) {
        for line in other.lines { add(line) }
        total += other.unlisted
    }
    public var isEmpty: Bool { total == 0 }
    /// How many were found beyond those listed.
    public var unlisted: Int { total - lines.count }
}

/// What ``Ledger/verifyDerivedState(limit:chain:replayOnEveryCore:progress:)`` found.
public struct DerivedStateReport: Sendable, Equatable {
    /// The head the check saw (the events it replayed).
    public var headSeq: Int64
    public var findings: Findings
    /// What was compared, for the summary line.
    public var checked: [String]
}

/// The scratch copy verify builds in `$TMPDIR` could not be made or written (exit 74): the
/// ledger itself is untouched.
public struct ScratchFailure: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String {
        "could not build the scratch copy verify compares with at \(path): \(reason) (set TMPDIR to a directory with room); the ledger was not touched"
    }
}

/// A temporary SQLite file for a throw-away build (journal off, synchronous off), deleted by
/// ``remove()`` — callers `defer` it, so it goes on error too — and on SIGINT/SIGTERM/SIGHUP
/// (``TemporaryFiles/makeSnapshotFile(prefix:)``: `$TMPDIR/<prefix>-<pid>-XXXXXX`, registered;
/// stale ones of dead processes are removed by the next run).
final class ScratchFile {
    let path: String
    let queue: DatabaseQueue

    init(prefix: String) throws {
        let dir = (getenv("TMPDIR").flatMap { String(validatingCString: $0) }).flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        do { path = try TemporaryFiles.makeSnapshotFile(prefix: prefix) } catch {
            throw ScratchFailure(path: dir, reason: error.description)
        }
        var config = Configuration()
        config.prepareDatabase { db in
            // A throw-away file: durability buys nothing here.
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = \(Ledger.pageSize)")
        }
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch {
            TemporaryFiles.remove(path)
            throw error
        }
    }

    func remove() {
        try? queue.close()
        TemporaryFiles.remove(path)
    }
}

extension Ledger {
    /// The triggers the migrations create (name → table and full SQL), read from an in-memory
    /// database migrated by ``Schema``: the text to compare with is the migrations' own.
    static func migrationTriggers() throws -> [String: (table: String, sql: String)] {
        let memory = try DatabaseQueue()
        try Schema.migrator.migrate(memory)
        return try memory.read { db in
            var out: [String: (table: String, sql: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'") {
                out[row[0]] = (row[1], row[2])
            }
            return out
        }
    }

    /// Triggers that differ from the migrations': missing, with other SQL (a no-op under the
    /// same name), or extra. Every trigger in the file counts, on whatever table and however
    /// its name is spelt (`ON PERSON_KEYS` is `person_keys` to SQLite): nothing but the
    /// migrations creates one (the projection gate refuses them), so any other is tampering.
    static func triggerProblems(_ db: Database) throws -> [String] {
        let expected = try migrationTriggers()
        var found: [String: (table: String, sql: String?)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, tbl_name, sql FROM main.sqlite_master WHERE type = 'trigger'") {
            found[row[0]] = (row[1], row[2])
        }
        var problems: [String] = []
        for name in expected.keys.sorted() {
            let e = expected[name]!
            guard let f = found[name] else {
                problems.append("the append-only trigger \(name) is missing: someone altered the schema behind Trellis's back")
                continue
            }
            if f.table != e.table || f.sql != e.sql {
                problems.append("the trigger \(name) is not the one Trellis creates (its SQL was replaced): someone altered the schema behind Trellis's back")
            }
        }
        for name in found.keys.sorted() where expected[name] == nil {
            problems.append("an extra trigger \(name) on \(found[name]!.table), which Trellis never creates: someone altered the schema behind Trellis's back")
        }
        return problems + (try tableProblems(db))
    }

    /// The ledger's own tables and their indexes compared in full SQL with the migrations',
    /// and any other index on those tables named: an added UNIQUE index (on `events`, one
    /// `PersonErased` only, say) would refuse appends the rules allow, and a changed table
    /// definition could do anything. `grdb_migrations` is GRDB's own and is left out.
    static func tableProblems(_ db: Database) throws -> [String] {
        let memory = try DatabaseQueue()
        try Schema.migrator.migrate(memory)
        typealias Object = (type: String, name: String, table: String, sql: String?)
        let select = { (db: Database, tables: [String]) throws -> [String: Object] in
            let list = tables.map { _ in "?" }.joined(separator: ", ")
            var out: [String: Object] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT type, name, tbl_name, sql FROM main.sqlite_master
                WHERE type IN ('table', 'index') AND lower(tbl_name) IN (\(list))
                """, arguments: StatementArguments(tables)) {
                let o: Object = (row[0], row[1], row[2], row[3])
                out[o.name.lowercased()] = o
            }
            return out
        }
        let (tables, expected) = try memory.read { mdb -> ([String], [String: Object]) in
            let tables = try String.fetchAll(mdb, sql: """
                SELECT lower(name) FROM sqlite_master WHERE type = 'table' AND name <> 'grdb_migrations' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                """)
            return (tables, try select(mdb, tables))
        }
        guard !tables.isEmpty else { return [] }
        let found = try select(db, tables)
        var problems: [String] = []
        for key in expected.keys.sorted() {
            guard let e = expected[key] else { continue }
            guard let f = found[key] else {
                problems.append("the \(e.type) \(e.name) is missing: someone altered the schema behind Trellis's back")
                continue
            }
            if f.type != e.type || f.table.lowercased() != e.table.lowercased() || f.sql != e.sql {
                problems.append("the \(e.type) \(e.name) is not the one Trellis creates (its SQL differs): someone altered the schema behind Trellis's back")
            }
        }
        for key in found.keys.sorted() where expected[key] == nil {
            guard let f = found[key] else { continue }
            problems.append("an extra \(f.type) \(f.name) on \(f.table), which Trellis never creates: someone altered the schema behind Trellis's back")
        }
        // ledger_meta holds what the migrations insert (the format), nothing else: a lowered
        // `format` would let an older build write a ledger it cannot read correctly.
        if expected["ledger_meta"] != nil, found["ledger_meta"] != nil {
            let meta = "SELECT key, value FROM ledger_meta ORDER BY key"
            let want = try memory.read { mdb in try Row.fetchAll(mdb, sql: meta).map { "\($0[0] as String? ?? "NULL")=\($0[1] as String? ?? "NULL")" } }
            let have = try Row.fetchAll(db, sql: meta).map { "\($0[0] as String? ?? "NULL")=\($0[1] as String? ?? "NULL")" }
            if want != have {
                problems.append("ledger_meta holds \(have.isEmpty ? "nothing" : have.joined(separator: ", ")), not \(want.joined(separator: ", ")) as Trellis writes it: someone altered it behind Trellis's back")
            }
        }
        return problems
    }

    /// Recomputes the rule tables and `retractions` from the log and compares them with the
    /// ledger's; checks `person_keys` and the read models' checkpoints. Run after
    /// ``verify(progress:)`` found the chain intact (or while it checks it). Everything is read
    /// in one read transaction, on a connection of its own, so a concurrent append does not
    /// make a difference appear.
    ///
    /// A rule violation in the log itself (an event the append rules refuse given the events
    /// before it) is reported with its seq; the tables are then not compared (they cannot
    /// agree with a log the rules do not accept).
    ///
    /// `chain`, given only by ``verify(alongside:parallelism:)`` while it checks the chain over
    /// seq 1…`chain.head`, lets the replay take the stored hashes of those rows as given (the
    /// chain check recomputes them; this report is used only if it finds them right); rows after
    /// it, a `data` that is not canonical, or a column that is not valid UTF-8 are hashed as
    /// without it. Without `chain` every hash is recomputed.
    ///
    /// `replayOnEveryCore`: the replay reads and examines the log on other threads too (false
    /// when other work keeps every core busy meanwhile: then it runs on this thread alone).
    public func verifyDerivedState(limit: Int = 20, chain: ChainCheckedRange? = nil, replayOnEveryCore: Bool = true,
                                   progress: ((Int64, Int64) -> Void)? = nil) throws -> DerivedStateReport {
        let scratch: ScratchFile
        do { scratch = try ScratchFile(prefix: "trellis-verify") } catch let e as ScratchFailure { throw e } catch {
            throw ScratchFailure(path: Ledger.temporaryDirectory(), reason: "\(Ledger.translate(error, path: ""))")
        }
        defer { scratch.remove() }
        func failed(_ error: any Error) -> ScratchFailure {
            let reason: String
            switch Ledger.translate(error, path: scratch.path) {
            case .storage(_, let r), .cannotOpen(_, let r), .corrupt(_, let r): reason = r
            case let other: reason = "\(other)"
            }
            return ScratchFailure(path: scratch.path, reason: reason)
        }
        do { try Schema.migrator.migrate(scratch.queue) } catch { throw failed(error) }
        do {
            let copy = Ledger(path: scratch.path, queue: scratch.queue)
            // The log is read on a read-only connection of its own: the ledger's stays free
            // for the chain check, which `trellis verify` runs at the same time.
            var config = Configuration()
            config.readonly = true
            let reader = try DatabaseQueue(path: path, configuration: config)
            defer { try? reader.close() }
            return try reader.read { db in
                let head = try Ledger.head(db).seq
                var findings = Findings(limit: limit)
                var checked = ["rule tables", "retractions", "person keys"]
                let violation = try Ledger.replay(db, into: copy, head: head, chain: chain, pipelined: replayOnEveryCore, progress: progress)
                if let violation {
                    findings.add("the log breaks an append rule at " + violation + "; the rule tables were not compared")
                    checked = []
                } else {
                    try scratch.queue.read { sdb in
                        try Ledger.compareRuleTables(db, sdb, into: &findings)
                        try Ledger.checkPersonKeys(db, sdb, into: &findings)
                    }
                }
                if try db.tableExists("projection_state") {
                    for row in try Row.fetchAll(db, sql: "SELECT name, checkpoint_seq FROM projection_state WHERE checkpoint_seq > ? OR checkpoint_seq < 0 ORDER BY name", arguments: [head]) {
                        let name: String = row[0], seq: Int64 = row[1]
                        findings.add("projection_state: the checkpoint of \(name) is seq \(seq), "
                                     + (seq < 0 ? "below 0" : "above the head \(head): events after it would be left out of its figures"))
                    }
                    checked.append("checkpoints")
                }
                return DerivedStateReport(headSeq: head, findings: findings, checked: checked)
            }
        } catch let e as LedgerError {
            // Errors of the scratch copy name its path: they are not the ledger's.
            switch e {
            case .storage(let p, _), .cannotOpen(let p, _), .corrupt(let p, _): if p == scratch.path { throw failed(e) }
            default: break
            }
            throw e
        } catch {
            throw Ledger.translate(error, path: path)
        }
    }

    private static func temporaryDirectory() -> String {
        getenv("TMPDIR").flatMap { String(validatingCString: $0) } ?? "/tmp"
    }

    /// Streams the log through the archive import path into `copy` (rules checked, effects
    /// written with each event's own seq), read and examined on every core when `pipelined`
    /// (``replayRows(_:connection:vouchedThrough:pipelined:helpers:chain:before:visit:)``). Returns the
    /// first rule violation, or nil. Rows `chain` covers keep their stored hash unless a column
    /// is not valid UTF-8 (read as text, it would not be the bytes the chain check hashed).
    private static func replay(_ db: Database, into copy: Ledger, head: Int64, chain vouched: ChainCheckedRange?, pipelined: Bool,
                               progress: ((Int64, Int64) -> Void)?) throws -> String? {
        let stmt = try db.makeStatement(sql: "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq")
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        guard let connection = db.sqliteConnection else { throw LedgerError.database("the log's connection is closed") }
        var current: (seq: Int64, type: String) = (0, "")
        do {
            _ = try copy.appendArchived { visit in
                var chain = ArchiveChain()
                // Read, examined and appended on every core (ReplayPipeline.swift).
                try replayRows(s, connection: connection, vouchedThrough: vouched?.head, pipelined: pipelined, chain: &chain,
                               before: { seq, type in current = (seq, type) }) { event in
                    try visit(event)
                    let seq = event.seq
                    if let vouched, seq == vouched.head { vouched.replayed(headHash: event.hash) }
                    if seq & 0xFFFF == 0 { progress?(seq, head) }
                }
            }
        } catch let e as AppendRejected {
            guard let first = e.errors.first else { return "seq \(current.seq) (\(current.type))" }
            return "seq \(first.line) (\(current.type)): " + (first.path.isEmpty ? "" : first.path + ": ")
                + first.expected + (first.found.map { ", got " + $0 } ?? "")
        } catch let e as ArchiveEventError {
            return "seq \(e.seq) (\(current.type)): \(e.why)"
        } catch let e as ArchiveDivergence {
            return "seq \(e.seq) (\(current.type)): \(e.description)"
        }
        return nil
    }

    // MARK: Comparing tables

    /// One derived table: its rows in primary-key order, the first `keys` columns the key.
    private struct DerivedTable {
        var name: String
        var select: String
        var keys: Int
        /// A missing row (in the log, not the table), an extra one, or one with other values.
        var missing: ([DatabaseValue]) -> String
        var extra: ([DatabaseValue]) -> String
        var differs: (_ expected: [DatabaseValue], _ found: [DatabaseValue]) -> String
    }

    private static func text(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return "null"
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .blob(let b): return "x'" + Hex.encode(Array(b)) + "'"
        }
    }

    private static func stateText(_ v: DatabaseValue) -> String {
        guard case .int64(let bits) = v.storage else { return text(v) }
        let names = [(1, "retracted"), (2, "erased"), (4, "completed"), (8, "withdrawn")].filter { bits & Int64($0.0) != 0 }.map(\.1)
        return "\(bits)" + (names.isEmpty ? "" : " (" + names.joined(separator: ", ") + ")")
    }

    private static var tables: [DerivedTable] { [
        DerivedTable(
            name: "rule_entities", select: "SELECT kind, key, seq, parent, state FROM rule_entities ORDER BY kind, key", keys: 2,
            missing: { r in "rule_entities: \(text(r[0])) \(text(r[1])), which the log creates at seq \(text(r[2])), is missing" },
            extra: { r in "rule_entities: \(text(r[0])) \(text(r[1])) (seq \(text(r[2]))) is recorded, but no event in the log creates it" },
            differs: { e, f in
                var parts: [String] = []
                if e[2] != f[2] { parts.append("seq \(text(e[2])) expected, found \(text(f[2]))") }
                if e[3] != f[3] { parts.append("parent \(text(e[3])) expected, found \(text(f[3]))") }
                if e[4] != f[4] { parts.append("state \(stateText(e[4])) expected, found \(stateText(f[4]))") }
                return "rule_entities: \(text(e[0])) \(text(e[1])): " + parts.joined(separator: "; ")
            }),
        DerivedTable(
            name: "rule_memberships", select: "SELECT network_id, org_id, seq, joined FROM rule_memberships ORDER BY network_id, org_id, seq", keys: 3,
            missing: { r in "rule_memberships: \(text(r[1])) \(text(r[3]) == "1" ? "joining" : "leaving") \(text(r[0])) at seq \(text(r[2])) is missing" },
            extra: { r in "rule_memberships: \(text(r[1])) \(text(r[3]) == "1" ? "joining" : "leaving") \(text(r[0])) at seq \(text(r[2])) is recorded, but the log has no such event (or it was retracted)" },
            differs: { e, f in "rule_memberships: \(text(e[1])) in \(text(e[0])) at seq \(text(e[2])): joined \(text(e[3])) expected, found \(text(f[3]))" }),
        DerivedTable(
            name: "retractions", select: "SELECT target_seq, retraction_seq FROM retractions ORDER BY target_seq", keys: 1,
            missing: { r in "retractions: seq \(text(r[0])) is retracted by seq \(text(r[1])), but the table does not say so" },
            extra: { r in "retractions: seq \(text(r[0])) marked retracted by \(text(r[1])), but no EventRetracted says so" },
            differs: { e, f in "retractions: seq \(text(e[0])) is retracted by seq \(text(e[1])), but the table says by \(text(f[1]))" }),
    ] }

    /// SQLite's order of values in a key: NULL, numbers, text (bytewise), blobs.
    private static func compareKeys(_ a: [DatabaseValue], _ b: [DatabaseValue], count: Int) -> Int {
        func rank(_ v: DatabaseValue) -> Int {
            switch v.storage { case .null: 0; case .int64, .double: 1; case .string: 2; case .blob: 3 }
        }
        for i in 0..<count {
            let x = a[i], y = b[i]
            if rank(x) != rank(y) { return rank(x) < rank(y) ? -1 : 1 }
            switch (x.storage, y.storage) {
            case (.int64(let p), .int64(let q)): if p != q { return p < q ? -1 : 1 }
            case (.string(let p), .string(let q)):
                let pu = Array(p.utf8), qu = Array(q.utf8)
                if pu != qu { return pu.lexicographicallyPrecedes(qu) ? -1 : 1 }
            default:
                let p = text(x), q = text(y)
                if p != q { return p < q ? -1 : 1 }
            }
        }
        return 0
    }

    /// A sorted merge of each table in the ledger (`db`) and the replayed copy (`sdb`). Rows
    /// whose columns are byte for byte the same (the usual case) are passed over on the raw
    /// statements; only a pair that may differ is read into values and compared as before,
    /// so the finding and its words are those of a row-by-row comparison.
    private static func compareRuleTables(_ db: Database, _ sdb: Database, into findings: inout Findings) throws {
        for t in tables {
            let foundStatement = try db.makeStatement(sql: t.select), expectedStatement = try sdb.makeStatement(sql: t.select)
            let fs = foundStatement.sqliteStatement, es = expectedStatement.sqliteStatement
            defer { sqlite3_reset(fs); sqlite3_reset(es) }
            let n = sqlite3_column_count(fs)
            func values(_ s: SQLiteStatement) -> [DatabaseValue] { (0..<n).map { DatabaseValue(sqliteStatement: s, index: $0) } }
            var fHas = try Raw.step(fs, db), eHas = try Raw.step(es, sdb)
            while fHas || eHas {
                if fHas && eHas && StoredRow.same(fs, es, columns: n) {
                    fHas = try Raw.step(fs, db)
                    eHas = try Raw.step(es, sdb)
                    continue
                }
                let f = fHas ? values(fs) : nil, e = eHas ? values(es) : nil
                let order: Int
                if let fr = f, let er = e { order = compareKeys(er, fr, count: t.keys) } else { order = f == nil ? -1 : 1 }
                if order < 0, let er = e {
                    findings.add(t.missing(er))
                    eHas = try Raw.step(es, sdb)
                } else if order > 0, let fr = f {
                    findings.add(t.extra(fr))
                    fHas = try Raw.step(fs, db)
                } else if let er = e, let fr = f {
                    if er != fr { findings.add(t.differs(er, fr)) }
                    eHas = try Raw.step(es, sdb)
                    fHas = try Raw.step(fs, db)
                }
            }
        }
    }


    /// No key for a person the log erased or never registered. A missing key is fine: a
    /// ledger imported from an archive has none. The three look-ups are prepared once.
    /// `events` is where the persons' `PersonRegistered` events are read (`db` unless the keys
    /// are a copy of another store's).
    private static func checkPersonKeys(_ db: Database, _ sdb: Database, events: Database? = nil, into findings: inout Findings) throws {
        let person = try sdb.makeStatement(sql: "SELECT seq, state FROM rule_entities WHERE kind = 'person' AND key = ?")
        let registration = try (events ?? db).makeStatement(sql: "SELECT data FROM events WHERE seq = ?")
        let keys = try db.makeStatement(sql: "SELECT person_id, length(key), typeof(key), key FROM person_keys ORDER BY person_id")
        let ks = keys.sqliteStatement, ps = person.sqliteStatement, rs = registration.sqliteStatement
        defer { sqlite3_reset(ks); sqlite3_reset(ps); sqlite3_reset(rs) }
        while try Raw.step(ks, db) {
            let id = Raw.string(ks, 0) ?? ""
            let length = sqlite3_column_int64(ks, 1)
            let type = Raw.string(ks, 2) ?? ""
            sqlite3_reset(ps)
            try person.setArguments([id])
            guard try Raw.step(ps, sdb) else {
                findings.add("person_keys: a key for \(id), a person the log never registered")
                continue
            }
            let seq = sqlite3_column_int64(ps, 0), state = sqlite3_column_int64(ps, 1)
            if state & EntityFact.State.erased.rawValue != 0 {
                findings.add("person_keys: a key for \(id), whom the log erased (PersonErased): the key should have been destroyed")
            } else if type != "blob" || length != 32 {
                findings.add("person_keys: the key for \(id) is not 32 bytes")
            } else if let key = Raw.column(ks, 3).map({ Array($0) }),
                      let field = try unopenedField(events ?? db, registration, person: id, key: key, registeredAt: seq) {
                findings.add("person_keys: the key for \(id) does not open the sealed \(field) of its PersonRegistered (seq \(seq)): "
                             + "another person's or a made-up key, which makes every output show the person as erased")
            }
        }
    }

    /// The first sealed personal field of the person's `PersonRegistered` (at `seq`, read with
    /// `registration`) that `key` does not open (AES-GCM authenticates it), or nil. A
    /// pseudonymised archive's `(withheld)` is not sealed and not checked.
    private static func unopenedField(_ db: Database, _ registration: Statement, person: String, key: [UInt8], registeredAt seq: Int64) throws -> String? {
        let s = registration.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, seq)
        defer { sqlite3_reset(s) }
        guard try Raw.step(s, db), let data = Raw.column(s, 0),
              let object = (try? JSONParser.parse(data))?.object else { return nil }
        for field in PersonalData.fields(of: .personRegistered) {
            guard let sealed = object.string(field), PersonalData.isSealed(sealed) else { continue }
            if PersonalData.open(sealed, key: key, person: person, field: field) == nil { return field }
        }
        return nil
    }
}

/// A retraction as the log says it: the `EventRetracted` at `retraction` names (by id) the event at `target`.
struct LoggedRetraction: Sendable, Equatable {
    var retraction: Int64
    var target: Int64
    var targetType: String
}

extension Ledger {
    /// The retractions recorded at seq `after` + 1 … `through`, read from the log's
    /// `EventRetracted` events (their `data.event_id`, joined to the target's seq by the id
    /// index), never from the `retractions` table: derived state is not trusted on its own.
    /// `schema` is `main`, or the name a ledger is attached under.
    static func retractionsInLog(_ db: Database, schema: String = "main", after: Int64 = 0, through: Int64) throws -> [LoggedRetraction] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.seq, t.seq, t.type FROM "\(schema)".events r JOIN "\(schema)".events t ON t.id = json_extract(r.data, '$.event_id')
            WHERE r.seq > ? AND r.seq <= ? AND r.type = 'EventRetracted' AND t.seq < r.seq
            """, arguments: [after, through])
        return rows.map { LoggedRetraction(retraction: $0[0], target: $0[1], targetType: $0[2]) }
    }
}

/// The derived state another store keeps for the same log (a shared ledger's server): its
/// rule tables, `retractions` and `person_keys` (nil when the reader may not read them).
public struct StoredDerivedState: Sendable {
    public struct Entity: Sendable { public var kind, key: String; public var seq: Int64; public var parent: String?; public var state: Int64
        public init(kind: String, key: String, seq: Int64, parent: String?, state: Int64) { self.kind = kind; self.key = key; self.seq = seq; self.parent = parent; self.state = state } }
    public struct Membership: Sendable { public var networkID, orgID: String; public var seq, joined: Int64
        public init(networkID: String, orgID: String, seq: Int64, joined: Int64) { self.networkID = networkID; self.orgID = orgID; self.seq = seq; self.joined = joined } }
    public struct Retraction: Sendable { public var target, retraction: Int64
        public init(target: Int64, retraction: Int64) { self.target = target; self.retraction = retraction } }
    public struct PersonKey: Sendable { public var person: String; public var key: [UInt8]
        public init(person: String, key: [UInt8]) { self.person = person; self.key = key } }
    public var ruleEntities: [Entity] = []
    public var memberships: [Membership] = []
    public var retractions: [Retraction] = []
    public var personKeys: [PersonKey]?
    public init() {}
}

extension Ledger {
    /// Compares another store's derived state for this same log with this ledger's — a
    /// shared ledger's cache, whose rule tables its catch-up re-derived event by event and
    /// which ``verifyDerivedState(limit:chain:replayOnEveryCore:progress:)`` checks against the log — in the words a
    /// ledger file's own check uses ("rule_entities: … is missing", "person_keys: a key for …").
    /// The rows go into a scratch ledger in `$TMPDIR` (removed afterwards), compared by the same
    /// sorted merge; the keys are checked against this ledger's persons and their sealed fields.
    public func compareDerivedState(with stored: StoredDerivedState, limit: Int = 20) throws -> Findings {
        let scratch: ScratchFile
        do { scratch = try ScratchFile(prefix: "trellis-verify") } catch let e as ScratchFailure { throw e } catch {
            throw ScratchFailure(path: Ledger.temporaryDirectory(), reason: "\(Ledger.translate(error, path: ""))")
        }
        defer { scratch.remove() }
        do {
            try Schema.migrator.migrate(scratch.queue)
            try scratch.queue.write { sdb in
                for e in stored.ruleEntities {
                    try sdb.execute(sql: "INSERT INTO rule_entities (kind, key, seq, parent, state) VALUES (?, ?, ?, ?, ?)", arguments: [e.kind, e.key, e.seq, e.parent, e.state])
                }
                for m in stored.memberships {
                    try sdb.execute(sql: "INSERT INTO rule_memberships (network_id, org_id, seq, joined) VALUES (?, ?, ?, ?)", arguments: [m.networkID, m.orgID, m.seq, m.joined])
                }
                for r in stored.retractions {
                    try sdb.execute(sql: "INSERT INTO retractions (target_seq, retraction_seq) VALUES (?, ?)", arguments: [r.target, r.retraction])
                }
                for k in stored.personKeys ?? [] {
                    try sdb.execute(sql: "INSERT INTO person_keys (person_id, key) VALUES (?, ?)", arguments: [k.person, Data(k.key)])
                }
            }
        } catch {
            throw ScratchFailure(path: scratch.path, reason: "\(Ledger.translate(error, path: scratch.path))")
        }
        var findings = Findings(limit: limit)
        try queue.read { db in
            try scratch.queue.read { sdb in
                try Ledger.compareRuleTables(sdb, db, into: &findings)
                if stored.personKeys != nil { try Ledger.checkPersonKeys(sdb, db, events: db, into: &findings) }
            }
        }
        return findings
    }
}

/// Comparing two stepped statements' current rows as SQLite stores them, without reading them
/// into values: the fast path of both derived-state checks (the rule tables here, the read
/// models in TrellisProjections' `ReadModelCheck`).
public enum StoredRow {
    /// The current rows of `a` and `b` hold the same storage class and bytes in every column
    /// (reals by bit pattern). False only means "compare them another way".
    public static func same(_ a: SQLiteStatement, _ b: SQLiteStatement, columns: Int32) -> Bool {
        for i in 0..<columns {
            let type = sqlite3_column_type(a, i)
            guard type == sqlite3_column_type(b, i) else { return false }
            switch type {
            case SQLITE_NULL: continue
            case SQLITE_INTEGER: if sqlite3_column_int64(a, i) != sqlite3_column_int64(b, i) { return false }
            case SQLITE_FLOAT: if sqlite3_column_double(a, i).bitPattern != sqlite3_column_double(b, i).bitPattern { return false }
            default:
                let p = sqlite3_column_blob(a, i), q = sqlite3_column_blob(b, i)
                let m = sqlite3_column_bytes(a, i)
                guard m == sqlite3_column_bytes(b, i) else { return false }
                if m > 0 { guard let p, let q, memcmp(p, q, Int(m)) == 0 else { return false } }
            }
        }
        return true
    }
}
