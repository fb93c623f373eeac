import GRDB
import GRDBSQLite
import TrellisLedger

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
        var typeCache: [String: EventType] = [:]
        while try Raw.step(s, db) {
            let seq = Raw.int(s, 0)
            if seq & 0xFFFF == 0 { progress?(seq) }
            guard let typeBytes = Raw.column(s, 2) else { continue }
            let typeName = String(decoding: typeBytes, as: UTF8.self)
            guard handled.contains(typeName) else { continue }
            if window.retracted.contains(seq) { continue }
            let occurredAt = Raw.string(s, 4) ?? ""
            if let limit = window.occurredBy, (Timestamp.micros(occurredAt) ?? .max) > limit { continue }
            let type: EventType
            if let t = typeCache[typeName] { type = t } else {
                guard let t = EventType(rawValue: typeName) else { continue }
                typeCache[typeName] = t
                type = t
            }
            let dataText = Raw.string(s, 7) ?? "{}"
            let data = (try? JSONParser.parse(dataText))?.object ?? JSONObject()
            let envelope = Envelope(seq: seq, id: Raw.string(s, 1) ?? "", type: typeName, v: Raw.int(s, 3),
                                    occurredAt: occurredAt, recordedAt: Raw.string(s, 5) ?? "", actor: Raw.string(s, 6), dataText: dataText)
            for target in targets where seq > target.after {
                guard let statements = target.projection.handlers[type] else { continue }
                for h in statements {
                    do {
                        try execute(h.statement, plan: h.plan, envelope: envelope, data: data, db: db)
                    } catch {
                        throw DefinitionError(file: target.projection.definition.source, line: h.line, statement: h.statement.sql,
                                              message: "failed on event seq \(seq) (\(typeName)): " + CompiledProjection.message(error))
                    }
                }
            }
        }
    }

    struct Envelope {
        var seq: Int64
        var id: String
        var type: String
        var v: Int64
        var occurredAt: String
        var recordedAt: String
        var actor: String?
        var dataText: String
    }

    static func execute(_ statement: Statement, plan: [Parameter], envelope e: Envelope, data: JSONObject, db: Database) throws {
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        for (k, p) in plan.enumerated() {
            let i = Int32(k + 1)
            switch p {
            case .seq: Raw.bind(s, i, e.seq)
            case .id: Raw.bind(s, i, e.id)
            case .type: Raw.bind(s, i, e.type)
            case .v: Raw.bind(s, i, e.v)
            case .occurredAt: Raw.bind(s, i, e.occurredAt)
            case .recordedAt: Raw.bind(s, i, e.recordedAt)
            case .actor: Raw.bind(s, i, e.actor)
            case .day: Raw.bind(s, i, String(e.occurredAt.prefix(10)))
            case .data: Raw.bind(s, i, e.dataText)
            case .field(let name):
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
