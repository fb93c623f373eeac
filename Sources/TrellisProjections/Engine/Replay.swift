import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisCore

/// Which events a replay sees: a range of the log, minus retracted events, optionally only
/// those that occurred by a given instant (`--as-of`).
struct EventWindow {
    /// `events` of the ledger (`main.events`), or of an attached ledger (`ledger.events`).
    var table = "events"
    var through: Int64
    var retracted: Set<Int64>
    /// Microseconds since the epoch: only events with `occurred_at` ≤ this.
    var occurredBy: Int64?
}

/// The replay loop: one scan of the log, each event parsed once and handed to every
/// projection that handles its type and has not seen it yet.
enum Replay {
    static func run(_ targets: [(projection: CompiledProjection, after: Int64)], window: EventWindow, db: Database,
                    progress: ((Int64) -> Void)? = nil) throws {
        guard let start = targets.map(\.after).min(), start < window.through else { return }
        let handled = targets.reduce(into: Set<String>()) { $0.formUnion($1.projection.handlers.keys.map(\.rawValue)) }
        guard !handled.isEmpty else { return }
        let scan = try db.makeStatement(sql: """
            SELECT seq, id, type, v, occurred_at, recorded_at, actor, data FROM \(window.table)
            WHERE seq > ? AND seq <= ? ORDER BY seq
            """)
        let s = scan.sqliteStatement
        Raw.bind(s, 1, start)
        Raw.bind(s, 2, window.through)
        defer { sqlite3_reset(s) }
        progress?(start)  // also lets a caller observe the read models mid-rebuild
        // Per event type, the handlers to run, in the targets' order, looked up once per run
        // of events of one type (the log comes in runs: a meeting, then its register), not per
        // projection per event.
        var byType: [String: (type: EventType, handlers: [Bound])] = [:]
        for name in handled {
            guard let type = EventType(rawValue: name) else { continue }
            var list: [Bound] = []
            for target in targets {
                for h in target.projection.handlers[type] ?? [] {
                    let names = h.plan.map { p -> [UInt8] in if case .field(let f) = p { return Array(f.utf8) } else { return [] } }
                    list.append(Bound(projection: target.projection, after: target.after, statement: h.statement, plan: h.plan, names: names, line: h.line))
                }
            }
            byType[name] = (type, list)
        }
        var lastType: [UInt8] = []
        var flatFields = FlatFields()
        var current: (type: EventType, handlers: [Bound])?
        while try Raw.step(s, db) {
            let seq = Raw.int(s, 0)
            if seq & 0xFFFF == 0 { progress?(seq) }
            guard let typeBytes = Raw.column(s, 2) else { continue }
            if !typeBytes.elementsEqual(lastType) {
                lastType = Array(typeBytes)
                current = byType[String(decoding: typeBytes, as: UTF8.self)]
            }
            guard let entry = current else { continue }
            if !window.retracted.isEmpty, window.retracted.contains(seq) { continue }
            if let limit = window.occurredBy, (Timestamp.micros(Raw.string(s, 4) ?? "") ?? .max) > limit { continue }
            // `data`'s fields found in place when it has the common flat shape, else parsed.
            let column = Raw.column(s, 7)
            let flat = flatFields.scan(column ?? UnsafeBufferPointer(start: nil, count: 0))
            let data = flat ? JSONObject() : column.flatMap { try? JSONParser.parse($0) }?.object ?? JSONObject()
            // Envelope fields are bound straight from the scan's columns, only when a handler asks.
            let envelope = Envelope(row: s, seq: seq)
            for h in entry.handlers where seq > h.after {
                let p = h.projection
                do {
                    try p.gate.confined(p.scope) {
                        try execute(h.statement, plan: h.plan, names: h.names, envelope: envelope, flat: flat ? flatFields : nil, data: data, db: db)
                    }
                } catch {
                    throw p.gate.failure(error, in: p.scope, line: h.line, statement: h.statement.sql,
                                         during: "failed on event seq \(seq) (\(entry.type.rawValue)): ")
                }
            }
        }
    }

    /// Runs the `-- derive` statements of the projections compiled `deriving`, after the last
    /// event of a replay from seq 1, each confined to its definition.
    static func derive(_ projections: [CompiledProjection]) throws {
        for p in projections {
            for (statement, line) in p.derive {
                do { try p.gate.confined(p.scope) { try statement.execute() } } catch {
                    throw p.gate.failure(error, in: p.scope, line: line, statement: statement.sql, during: "-- derive, after the last event: ")
                }
            }
        }
    }

    /// One handler statement of one target, ready to run.
    struct Bound {
        var projection: CompiledProjection
        var after: Int64
        var statement: Statement
        var plan: [Parameter]
        /// For each `.field` of `plan`, its name's UTF-8 bytes.
        var names: [[UInt8]]
        var line: Int
    }

    /// The current row of the scan (`seq, id, type, v, occurred_at, recorded_at, actor, data`):
    /// its columns stay valid until the next step, which comes after every handler has run.
    struct Envelope {
        var row: SQLiteStatement
        var seq: Int64

        func bindColumn(_ column: Int32, to s: SQLiteStatement, at i: Int32, prefix: Int? = nil) {
            guard let bytes = Raw.column(row, column) else { sqlite3_bind_null(s, i); return }
            let n = min(bytes.count, prefix ?? bytes.count)
            guard let base = bytes.baseAddress, n > 0 else { sqlite3_bind_text(s, i, "", 0, Raw.transient); return }
            // SQLITE_STATIC: the scan's row outlives every execution of the handlers for it, and
            // each execution binds every parameter again before it steps.
            sqlite3_bind_text(s, i, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(n), nil)
        }
    }

    /// Binds `plan` and runs the statement. `flat`: `data`'s fields found in place (then
    /// `data` is unused), else nil and `data` is the parsed object.
    static func execute(_ statement: Statement, plan: [Parameter], names: [[UInt8]], envelope e: Envelope, flat: FlatFields?,
                        data: JSONObject, db: Database) throws {
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        for (k, p) in plan.enumerated() {
            let i = Int32(k + 1)
            switch p {
            case .seq: Raw.bind(s, i, e.seq)
            case .id: e.bindColumn(1, to: s, at: i)
            case .type: e.bindColumn(2, to: s, at: i)
            case .v: Raw.bind(s, i, Raw.int(e.row, 3))
            case .occurredAt: e.bindColumn(4, to: s, at: i)
            case .recordedAt: e.bindColumn(5, to: s, at: i)
            case .actor: e.bindColumn(6, to: s, at: i)
            case .day: e.bindColumn(4, to: s, at: i, prefix: 10)
            case .data: e.bindColumn(7, to: s, at: i)
            case .field(let name):
                if let flat {
                    flat.bind(flat.field(names[k]), to: s, at: i)
                    continue
                }
                guard let value = data[name] else { sqlite3_bind_null(s, i); continue }
                switch value {
                case .string(let v): Raw.bind(s, i, v)
                case .int(let v): Raw.bind(s, i, v)
                case .bool(let v): Raw.bind(s, i, v ? 1 : 0)
                case .double(let v): sqlite3_bind_double(s, i, v)
                case .array, .object: Raw.bind(s, i, CanonicalJSON.string(value))
                case .null: sqlite3_bind_null(s, i)
                }
            }
        }
        while try Raw.step(s, db) {}
    }
}
