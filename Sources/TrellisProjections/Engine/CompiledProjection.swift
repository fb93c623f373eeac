import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisCore

/// What a handler's named parameter is bound to.
enum Parameter: Equatable {
    case seq, id, type, v, occurredAt, recordedAt, actor, day, data
    case field(String)

    init(name: String) {
        switch name {
        case "seq": self = .seq
        case "id": self = .id
        case "type": self = .type
        case "v": self = .v
        case "occurred_at": self = .occurredAt
        case "recorded_at": self = .recordedAt
        case "actor": self = .actor
        case "day": self = .day
        case "data": self = .data
        default: self = .field(name)
        }
    }
}

/// A definition whose handler statements are prepared on one connection, with a binding
/// plan per statement (parameter index → envelope or data field).
final class CompiledProjection {
    let definition: ProjectionDefinition
    let handlers: [EventType: [(statement: Statement, plan: [Parameter], line: Int)]]
    /// When compiled `deriving`, the `-- derive` statements, prepared, in order, to run once
    /// after the last event (``Replay/derive(_:)``; `handlers` then lacks the statements that
    /// write a derived table); else empty.
    let derive: [(statement: Statement, line: Int)]
    /// Lowercased names of the tables of `main` its handler statements read (SQLite's account).
    let handlerReads: Set<String>
    /// The session's gate and this definition's place in it: handlers are prepared and run confined.
    let gate: Gate
    let scope: Gate.Scope

    var name: String { definition.name }

    /// `deriving`: the replay starts at seq 1 and will run ``derive`` after its last event, so
    /// the handler statements that write a derived table are left out of ``handlers``.
    init(_ definition: ProjectionDefinition, db: Database, gate: Gate, deriving: Bool = false) throws {
        self.definition = definition
        self.gate = gate
        let scope = try gate.scope(for: definition)
        self.scope = scope
        let derived = Set(definition.derivations.map { $0.table.lowercased() })
        for d in definition.derivations where !scope.tables.contains(d.table.lowercased()) {
            throw DefinitionError(file: definition.source, line: d.line, statement: nil,
                                  message: "derives \(d.table), which is not a table its -- tables section declares")
        }
        var handlers: [EventType: [(statement: Statement, plan: [Parameter], line: Int)]] = [:]
        var handlerReads = Set<String>()
        // In file order, so the first fault reported is the first in the file.
        for (type, statements) in definition.handlers.sorted(by: { ($0.value.first?.line ?? 0) < ($1.value.first?.line ?? 0) }) {
            let fields = Set(type.fields.map(\.name))
            for stmt in statements {
                let prepared: Statement
                let reads: Set<String>, writes: Set<String>
                do {
                    (prepared, reads, writes) = try gate.confined(scope) { try gate.recording { try db.makeStatement(sql: stmt.sql) } }
                } catch {
                    throw gate.failure(error, in: scope, line: stmt.line, statement: stmt.sql)
                }
                handlerReads.formUnion(reads)
                let writesDerived = !writes.isDisjoint(with: derived)
                if writesDerived, let other = writes.subtracting(derived).sorted().first {
                    throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                          message: "writes the derived table \(writes.intersection(derived).sorted()[0]) and \(other) too: a statement that writes a derived table may write nothing else")
                }
                if !writesDerived, let table = reads.intersection(derived).sorted().first {
                    throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                          message: "reads \(table), which '-- derive \(table)' fills only after the last event of a rebuild")
                }
                let s = prepared.sqliteStatement
                var plan: [Parameter] = []
                let count = sqlite3_bind_parameter_count(s)
                if count > 0 {
                    for i in 1...count {
                        guard let cName = sqlite3_bind_parameter_name(s, i) else {
                            throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                                  message: "use named parameters (:field), not ?")
                        }
                        let name = String(String(cString: cName).dropFirst())
                        let p = Parameter(name: name)
                        if case .field(let f) = p, !fields.contains(f) {
                            throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                                  message: "unknown parameter :\(name) for \(type.rawValue); it has "
                                                    + (ProjectionDefinition.envelopeParameters + type.fields.map(\.name)).map { ":" + $0 }.joined(separator: " "))
                        }
                        plan.append(p)
                    }
                }
                if deriving && writesDerived { continue }
                handlers[type, default: []].append((prepared, plan, stmt.line))
            }
        }
        self.handlers = handlers
        self.handlerReads = handlerReads
        var derive: [(statement: Statement, line: Int)] = []
        for d in definition.derivations {
            for stmt in d.statements {
                let prepared: Statement
                do { prepared = try gate.confined(scope) { try db.makeStatement(sql: stmt.sql) } } catch {
                    throw gate.failure(error, in: scope, line: stmt.line, statement: stmt.sql)
                }
                guard sqlite3_bind_parameter_count(prepared.sqliteStatement) == 0 else {
                    throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                          message: "a -- derive statement runs once, for no event: it has no parameters")
                }
                derive.append((prepared, stmt.line))
            }
        }
        self.derive = deriving ? derive : []
    }

    /// `definitions` compiled for one replay from seq 1 (a full rebuild, a snapshot): each one
    /// `deriving` its `-- derive` tables, unless a handler of another definition in the same
    /// replay reads one of them (it would find it unfilled), as SQLite reports.
    static func fromStart(_ definitions: [ProjectionDefinition], db: Database, gate: Gate) throws -> [CompiledProjection] {
        let perEvent = try definitions.map { try CompiledProjection($0, db: db, gate: gate) }
        return try perEvent.map { p in
            let derived = Set(p.definition.derivations.map { $0.table.lowercased() })
            guard !derived.isEmpty, !perEvent.contains(where: { $0 !== p && !$0.handlerReads.isDisjoint(with: derived) }) else { return p }
            return try CompiledProjection(p.definition, db: db, gate: gate, deriving: true)
        }
    }

    static func message(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e)" }
        return "\(error)"
    }

    /// Names of the tables, views, indexes and triggers the setup creates, in order.
    static func objects(of definition: ProjectionDefinition) -> [(kind: String, name: String)] {
        declarations(of: definition).map(\.object)
    }

    /// Each object the setup declares, with the statement that declares it.
    static func declarations(of definition: ProjectionDefinition) -> [(statement: ProjectionDefinition.Statement, object: (kind: String, name: String))] {
        definition.setup.compactMap { stmt -> (statement: ProjectionDefinition.Statement, object: (kind: String, name: String))? in
            var words = stmt.sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" }).map { $0.uppercased() == $0.lowercased() ? String($0) : String($0) }
            guard words.first?.uppercased() == "CREATE" else { return nil }
            words.removeFirst()
            while let w = words.first?.uppercased(), ["TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL"].contains(w) { words.removeFirst() }
            guard let kind = words.first?.uppercased(), ["TABLE", "VIEW", "INDEX", "TRIGGER"].contains(kind) else { return nil }
            words.removeFirst()
            if words.count >= 3, words[0].uppercased() == "IF", words[1].uppercased() == "NOT", words[2].uppercased() == "EXISTS" { words.removeFirst(3) }
            guard var name = words.first else { return nil }
            name = name.trimmingCharacters()
            if let q = name.first, q == "\"" || q == "`" || q == "[" { name = String(name.dropFirst().dropLast()) }
            return (stmt, (kind, name))
        }
    }
}
