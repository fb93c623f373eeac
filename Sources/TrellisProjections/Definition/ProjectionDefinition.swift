import Crypto
import GRDBSQLite
import TrellisLedger
import TrellisCore

/// A read model, as a researcher writes it: a `.sql` file naming the tables (and views) it
/// owns and what each event type does to them, with the event's fields bound as named
/// parameters. The format is described in `projections/README.md`.
///
/// ## Topics
/// - ``parse(_:source:)``
/// - ``DefinitionError``
public struct ProjectionDefinition: Sendable, Equatable {
    /// One SQL statement and the line of the file it starts on.
    public struct Statement: Sendable, Equatable {
        public var sql: String
        public var line: Int
    }

    public var name: String
    /// The comment lines under the `-- projection:` line.
    public var summary: String
    /// Where it came from: a file path, or `built-in`.
    public var source: String
    /// SHA-256 of the text: a changed definition is rebuilt on next use.
    public var digest: String
    /// `-- tables`: creates the tables, views and indexes it owns.
    public var setup: [Statement]
    /// `-- on <Type>`: run for each event of that type, in log order.
    public var handlers: [EventType: [Statement]]
    /// `-- derive <table>`: statements that fill one of its tables at once from its other
    /// tables, which a replay from seq 1 may run after the last event instead of the handler
    /// statements that write that table (see ``Derivation``).
    public var derivations: [Derivation] = []

    /// A table of the definition that is a function of its other tables once every event is
    /// applied (the definition promises it): a replay from seq 1 (the full rebuild of the
    /// built-ins, a snapshot) in which no other definition's handler reads it skips each
    /// handler statement that writes it and runs `statements` once at the end instead, on the
    /// empty table. The engine checks, with SQLite's own account of each prepared statement,
    /// that a skipped statement writes nothing else and that no statement it keeps reads the
    /// table. A catch-up always runs every handler.
    public struct Derivation: Sendable, Equatable {
        public var table: String
        public var line: Int
        public var statements: [Statement]
    }

    public var handledTypes: Set<EventType> { Set(handlers.keys) }

    /// Envelope fields every handler may use, besides the `data` fields of its type.
    public static let envelopeParameters = ["seq", "id", "type", "v", "occurred_at", "recorded_at", "actor", "day", "data"]

    public static func parse(_ text: String, source: String) throws(DefinitionError) -> ProjectionDefinition {
        var name: String?
        var summary: [String] = []
        var setup: [Statement] = []
        var handlers: [EventType: [Statement]] = [:]
        var derivations: [Derivation] = []
        enum Section { case header, tables, handler(EventType), derive }
        var section = Section.header
        var pending = ""
        var pendingLine = 0

        func finish(_ lineNo: Int) throws(DefinitionError) {
            let sql = pending.trimmingCharacters()
            guard !sql.isEmpty else { pending = ""; return }
            let stmt = Statement(sql: sql, line: pendingLine)
            switch section {
            case .header:
                throw DefinitionError(file: source, line: pendingLine, statement: sql, message: "SQL before any '-- tables' or '-- on <EventType>' section")
            case .tables: setup.append(stmt)
            case .handler(let t): handlers[t, default: []].append(stmt)
            case .derive: derivations[derivations.count - 1].statements.append(stmt)
            }
            pending = ""
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        for (index, raw) in lines.enumerated() {
            let lineNo = index + 1
            let line = raw.trimmingCharacters()
            if pending.isEmpty, line.hasPrefix("--") {
                let comment = String(line.dropFirst(2)).trimmingCharacters()
                if comment.hasPrefix("projection:") {
                    let n = String(comment.dropFirst("projection:".count)).trimmingCharacters()
                    guard isName(n) else {
                        throw DefinitionError(file: source, line: lineNo, statement: nil, message: "projection name must be lowercase letters, digits and _ (got \"\(n)\")")
                    }
                    name = n
                    continue
                }
                if comment == "tables" { section = .tables; continue }
                if comment.hasPrefix("derive ") {
                    let table = String(comment.dropFirst("derive ".count)).trimmingCharacters()
                    guard isName(table.lowercased()) else {
                        throw DefinitionError(file: source, line: lineNo, statement: nil, message: "'-- derive' names one table of the definition (got \"\(table)\")")
                    }
                    if derivations.contains(where: { $0.table.lowercased() == table.lowercased() }) {
                        throw DefinitionError(file: source, line: lineNo, statement: nil, message: "\(table) is derived twice")
                    }
                    derivations.append(Derivation(table: table, line: lineNo, statements: []))
                    section = .derive
                    continue
                }
                if comment.hasPrefix("on ") {
                    let typeName = String(comment.dropFirst(3)).trimmingCharacters()
                    guard let t = EventType(rawValue: typeName) else {
                        throw DefinitionError(file: source, line: lineNo, statement: nil,
                                              message: "unknown event type \"\(typeName)\"; one of " + EventType.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    guard t != .eventRetracted else {
                        throw DefinitionError(file: source, line: lineNo, statement: nil,
                                              message: "EventRetracted cannot be handled: the engine replays as if retracted events were never appended")
                    }
                    section = .handler(t)
                    continue
                }
                if case .header = section, name != nil, setup.isEmpty, handlers.isEmpty { summary.append(comment) }
                continue
            }
            if line.isEmpty && pending.isEmpty { continue }
            if pending.isEmpty { pendingLine = lineNo }
            pending += raw + "\n"
            if isComplete(pending) { try finish(lineNo) }
        }
        if !pending.trimmingCharacters().isEmpty {
            throw DefinitionError(file: source, line: pendingLine, statement: pending.trimmingCharacters(), message: "statement is not terminated by ';'")
        }
        guard let name else {
            throw DefinitionError(file: source, line: 1, statement: nil, message: "missing '-- projection: <name>' line")
        }
        if setup.isEmpty {
            throw DefinitionError(file: source, line: 1, statement: nil, message: "no '-- tables' section: a projection must create the tables or views it owns")
        }
        if let empty = derivations.first(where: { $0.statements.isEmpty }) {
            throw DefinitionError(file: source, line: empty.line, statement: nil, message: "'-- derive \(empty.table)' has no statement")
        }
        var h = SHA256()
        h.update(data: Array(text.utf8))
        let digest = h.finalize().map { String($0, radix: 16).leftPadded(2) }.joined()
        return ProjectionDefinition(name: name, summary: summary.joined(separator: " ").trimmingCharacters(), source: source,
                                    digest: digest, setup: setup, handlers: handlers, derivations: derivations)
    }

    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isComplete(_ sql: String) -> Bool {
        sql.withCString { sqlite3_complete($0) != 0 }
    }
}

/// A definition that cannot be used, with the file, line and statement at fault.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var statement: String?
    public var message: String

    public var description: String {
        var s = "\(file):\(line): \(message)"
        if let statement {
            let first = statement.split(separator: "\n").first.map(String.init) ?? statement
            s += "\n    in: \(first.count > 100 ? String(first.prefix(99)) + "…" : first)"
        }
        return s
    }
}

extension String {
    func trimmingCharacters() -> String {
        let scalars = unicodeScalars
        guard let a = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let b = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[a...b])
    }

    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
