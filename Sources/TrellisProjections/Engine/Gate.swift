import GRDB
import GRDBSQLite
import TrellisLedger
#if canImport(Glibc)
import Glibc
#endif

/// The confinement of projection definitions, enforced by SQLite itself.
///
/// A definition (`--projection FILE.sql`) is user input run on the ledger's write connection.
/// For a whole projection session the gate is that connection's authorizer
/// (`sqlite3_set_authorizer`) and progress handler. The engine's own statements run with the
/// gate open; a definition's statements are prepared *and stepped* inside
/// ``confined(_:shaping:_:)``, where every action SQLite reports is checked against the definition's
/// ``Scope``. SQLite authorizes when it prepares, and re-prepares an expired statement inside
/// `sqlite3_step`, which also runs confined: a re-prepare cannot escape.
///
/// A definition may create, write and drop only the tables, views and indexes it declares,
/// and read only `events`' public columns, the other read models and its own objects. No
/// triggers, temporary or virtual tables, `ATTACH`, transactions, `PRAGMA` beyond a read-only
/// few, or functions outside SQLite's core set. Each user definition also has a budget of run
/// time per session and a bound on memory (built-ins are trusted to finish); past either the
/// progress handler interrupts the statement and the engine's transaction is rolled back.
/// Memory: while a user definition runs, no string or blob may exceed ``valueLimit``
/// (`SQLITE_LIMIT_LENGTH`), and SQLite's allocator (Trellis's own, ``SQLiteAllocator``) counts
/// what the definition's thread allocates and refuses an allocation past ``memoryAllowance``
/// of live bytes: the statement fails with SQLITE_NOMEM wherever it is, even in straight-line
/// code that the progress handler never interrupts. One line of SQL doubling a string had
/// taken a rebuild to 4.5 GB, and 200 columns of 4 MB blobs to 850 MB.
///
/// The gate replaces GRDB's own authorizer on the connection (GRDB uses it only for
/// transaction observation, which Trellis does not use, and for its schema cache, which the
/// session clears on both ends).
///
/// ## Topics
/// - ``session(db:definitions:logSchema:budget:_:)``
/// - ``Scope``
/// - ``confined(_:shaping:_:)``
/// - ``setUp(_:db:)``
/// - ``failure(_:in:line:statement:during:)``
final class Gate {
    /// What one definition may create, write, drop and read, and the time it has used.
    final class Scope {
        let definition: ProjectionDefinition
        /// Lowercased names of what it declares.
        let tables: Set<String>
        let views: Set<String>
        let indexes: Set<String>
        /// Nanoseconds spent confined in this session, and how many it may spend.
        fileprivate(set) var spent: UInt64 = 0
        let budget: UInt64
        /// A built-in as shipped: no budget, no memory bound.
        let trusted: Bool

        init(_ definition: ProjectionDefinition, tables: Set<String>, views: Set<String>, indexes: Set<String>, budget: UInt64, trusted: Bool) {
            self.definition = definition
            self.budget = budget
            self.trusted = trusted
            self.tables = tables
            self.views = views
            self.indexes = indexes
        }

        func owns(_ name: String) -> Bool { tables.contains(name) || views.contains(name) || indexes.contains(name) }
    }

    /// `events`' columns a definition may read.
    static let publicColumns: Set<String> = ["seq", "id", "type", "v", "occurred_at", "recorded_at", "actor", "data", "hash", "rowid", ""]
    /// The ledger's tables, should the schema not be readable: the reserved set is computed
    /// from the migrations and the file (``reservedNames(db:logSchema:)``) on top of these.
    /// `study_meta` is the one table Trellis makes outside the migrations (a study file's
    /// provenance, whose `min_count` reports obey): a definition declaring it would have the
    /// engine drop and replace it.
    static let ledgerTables: Set<String> = ["events", "rule_entities", "rule_memberships", "retractions", "person_keys",
                                            "ledger_meta", "projection_state", "grdb_migrations", "study_meta"]
    /// Read-only pragmas, each only about an object the definition may read.
    static let pragmas: Set<String> = ["table_info", "table_xinfo", "index_list", "index_info", "index_xinfo"]
    /// Table-valued functions a definition may read from.
    static let tableFunctions: Set<String> = ["json_each", "json_tree"]
    /// SQLite's core scalar, aggregate, window, date, math and JSON functions: nothing that
    /// loads code, reaches the file system or reads another connection's state.
    static let functions: Set<String> = [
        "abs", "changes", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif", "instr",
        "last_insert_rowid", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
        "octet_length", "printf", "quote", "random", "randomblob", "replace", "round", "rtrim", "sign", "soundex",
        "substr", "substring", "total_changes", "trim", "typeof", "unhex", "unicode", "unlikely", "upper", "zeroblob",
        "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff",
        "avg", "count", "group_concat", "string_agg", "sum", "total",
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
        "last_value", "nth_value",
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh", "degrees", "exp",
        "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians", "sin", "sinh", "sqrt", "tan",
        "tanh", "trunc",
        "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object", "json_patch",
        "json_remove", "json_replace", "json_set", "json_type", "json_valid", "json_quote", "json_group_array",
        "json_group_object", "json_each", "json_tree", "->", "->>",
    ]

    let connection: SQLiteConnection
    /// Where `events` is: `main`, or `ledger` when a snapshot attached it.
    let logSchema: String
    /// Lowercased names of every object of every known definition.
    let readModels: Set<String>
    /// Lowercased names no definition may declare, create or drop (``reservedNames(db:logSchema:)``).
    let reserved: Set<String>
    /// Lowercased names of every object in the file when the session began, and every declared one.
    private let objects: Set<String>
    /// Seconds of run time each definition may use per session.
    let budget: Double
    private var scopes: [String: Scope] = [:]
    private var current: Scope?
    private var enteredAt: UInt64 = 0
    /// The first action refused since the last ``confined(_:shaping:_:)`` began.
    private(set) var refusal: String?
    /// While ``recording(_:)`` runs: the tables of `main` SQLite reports a statement reads and writes.
    private var record: (reads: Set<String>, writes: Set<String>)?
    /// The scope whose budget ran out.
    private var overran: Scope?
    /// The scope that went past its memory bound.
    private var overMemory: Scope?

    /// The longest string or blob a user definition may make: 4 MiB (a `data` object is at
    /// most 1 MiB, an NDJSON line's limit).
    static let valueLimit: Int32 = 4 << 20
    /// VM operations between two calls of the progress handler (the run-time budget).
    static let tickOps: Int32 = 1000
    /// The live memory SQLite may hold for a user definition's statements while it runs:
    /// 512 MiB, or `$TRELLIS_PROJECTION_MEMORY` MiB.
    static var memoryAllowance: UInt64 {
        if let v = getenv("TRELLIS_PROJECTION_MEMORY").flatMap({ String(validatingCString: $0) }).flatMap(Double.init), v > 0 {
            return UInt64(min(v, Double(1 << 40)) * 1_048_576)
        }
        return 512 << 20
    }
    private let allowance = Gate.memoryAllowance

    /// Set by an allowed DROP: SQLite's own follow-up reads of `sqlite_master` are allowed
    /// until the statement's next SELECT.
    private var dropping = false
    /// True while a `-- tables` section (or the engine's drops before it) runs: only then may
    /// a definition create or drop its objects, so a handler cannot swap a validated view
    /// for one that reads what it may not.
    private var shaping = false

    /// Installs a gate on `db` for the duration of `body`: the engine's statements run open,
    /// definitions' run confined. Call it outside any transaction (installing an authorizer
    /// expires the connection's prepared statements).
    static func session<T>(db: Database, definitions: [ProjectionDefinition], logSchema: String = "main", budget: Double,
                           _ body: (Gate) throws -> T) throws -> T {
        let gate = try Gate(db: db, definitions: definitions, logSchema: logSchema, budget: budget)
        let context = Unmanaged.passUnretained(gate).toOpaque()
        sqlite3_set_authorizer(gate.connection, { context, code, a, b, c, d in
            guard let context else { return SQLITE_DENY }
            return Unmanaged<Gate>.fromOpaque(context).takeUnretainedValue().authorize(code, a, b, c, d)
        }, context)
        sqlite3_progress_handler(gate.connection, tickOps, { context in
            guard let context else { return 0 }
            return Unmanaged<Gate>.fromOpaque(context).takeUnretainedValue().tick()
        }, context)
        db.clearSchemaCache()
        defer {
            sqlite3_progress_handler(gate.connection, 0, nil, nil)
            sqlite3_set_authorizer(gate.connection, nil, nil)
            db.clearSchemaCache()
        }
        return try withExtendedLifetime(gate) { try body(gate) }
    }

    private init(db: Database, definitions: [ProjectionDefinition], logSchema: String, budget: Double) throws {
        guard let connection = db.sqliteConnection else { throw ProjectionError.internalError("the ledger's connection is closed") }
        self.connection = connection
        self.logSchema = logSchema
        self.budget = budget
        let budgetNanos = budget >= 1e9 ? UInt64.max : UInt64(max(0, budget) * 1e9)
        // The budget stops runaway user SQL; the built-ins (the same text as shipped) are
        // trusted to finish, however large the ledger.
        let builtIns = Set(ProjectionEngine.builtIns.map { "\($0.name) \($0.digest)" })
        reserved = try Self.reservedNames(db: db, logSchema: logSchema)
        var objects = Set(try String.fetchAll(db, sql: "SELECT lower(name) FROM main.sqlite_master"))
        objects.formUnion(try String.fetchAll(db, sql: "SELECT lower(name) FROM \"\(logSchema)\".sqlite_master"))
        var readModels = Set<String>()
        var owners: [String: String] = [:]
        for d in definitions {
            var tables = Set<String>(), views = Set<String>(), indexes = Set<String>()
            for (stmt, object) in CompiledProjection.declarations(of: d) {
                let name = object.name.lowercased()
                let refuse = { (why: String) in DefinitionError(file: d.source, line: stmt.line, statement: stmt.sql, message: why) }
                if object.kind == "TRIGGER" {
                    throw refuse("may not create triggers (\(object.name)): a definition owns only tables, views and indexes")
                }
                if reserved.contains(name) || name.hasPrefix("sqlite_") {
                    throw refuse("may not declare \(object.name): it is one of the ledger's own objects")
                }
                // SQLite's names ignore case: Attendance is attendance.
                if let owner = owners[name], owner != d.name {
                    throw refuse("may not declare \(object.name): it belongs to projection \(owner)")
                }
                owners[name] = d.name
                switch object.kind {
                case "TABLE": tables.insert(name)
                case "VIEW": views.insert(name)
                default: indexes.insert(name)
                }
            }
            let trusted = builtIns.contains("\(d.name) \(d.digest)")
            scopes[d.name] = Scope(d, tables: tables, views: views, indexes: indexes,
                                   budget: trusted ? .max : budgetNanos, trusted: trusted)
            readModels.formUnion(tables.union(views))
            objects.formUnion(tables.union(views).union(indexes))
        }
        self.readModels = readModels
        self.objects = objects
    }

    /// The ledger's own objects, from its schema rather than a list: every table, index and
    /// trigger the migrations create (``Ledger/schemaObjects``), every index and trigger on
    /// those tables in the file, every trigger at all, and SQLite's `sqlite_*`.
    static func reservedNames(db: Database, logSchema: String) throws -> Set<String> {
        var names = ledgerTables
        for o in Ledger.schemaObjects { names.insert(o.name.lowercased()) }
        let tables = names
        for row in try Row.fetchAll(db, sql: "SELECT type, name, tbl_name FROM \"\(logSchema)\".sqlite_master") {
            let type: String = row[0], name = (row[1] as String).lowercased(), table = (row[2] as String).lowercased()
            if type == "trigger" || tables.contains(table) || name.hasPrefix("sqlite_") { names.insert(name) }
        }
        return names
    }

    /// The scope of a definition this gate was made for.
    func scope(for definition: ProjectionDefinition) throws -> Scope {
        guard let scope = scopes[definition.name] else { throw ProjectionError.internalError("no gate scope for \(definition.name)") }
        return scope
    }

    /// Runs `body` with the gate closed to all but what `scope` allows, and its time charged
    /// to `scope`'s budget. `shaping`: it is the definition's setup, which alone may create
    /// and drop its objects.
    func confined<T>(_ scope: Scope, shaping: Bool = false, _ body: () throws -> T) rethrows -> T {
        current = scope
        self.shaping = shaping
        refusal = nil
        dropping = false
        var lengthBefore: Int32 = -1
        if !scope.trusted {
            lengthBefore = sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, Self.valueLimit)
            SQLiteAllocator.confine(toBytes: Int64(clamping: allowance))
        }
        enteredAt = Self.now()
        defer {
            scope.spent &+= Self.now() &- enteredAt
            if !scope.trusted {
                if SQLiteAllocator.release() { overMemory = scope }
                sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, lengthBefore)
            }
            current = nil
            self.shaping = false
        }
        return try body()
    }

    /// Runs `body` (which prepares statements) and returns, with its result, the lowercased
    /// names of the tables of `main` that SQLite reported reading and writing while it
    /// authorized them: SQLite's own account, not a reading of the text.
    func recording<T>(_ body: () throws -> T) rethrows -> (T, reads: Set<String>, writes: Set<String>) {
        record = ([], [])
        defer { record = nil }
        let value = try body()
        return (value, record?.reads ?? [], record?.writes ?? [])
    }

    /// Runs a definition's `-- tables` section confined, one statement at a time, then checks
    /// what it made: every declared view is prepared confined (SQLite authorizes the reads
    /// behind a view only when a statement using it is prepared), and no table of its may
    /// hold a foreign key to a table it does not own (one could block an erasure).
    func setUp(_ definition: ProjectionDefinition, db: Database) throws {
        let scope = try scope(for: definition)
        for stmt in definition.setup {
            do {
                try confined(scope, shaping: true) {
                    let statements = try db.allStatements(sql: stmt.sql)
                    while let s = try statements.next() {
                        try s.execute()
                        dropping = false
                    }
                }
            } catch {
                throw failure(error, in: scope, line: stmt.line, statement: stmt.sql)
            }
        }
        for (stmt, object) in CompiledProjection.declarations(of: definition) {
            if object.kind == "VIEW" {
                do {
                    try confined(scope) { _ = try db.makeStatement(sql: "SELECT * FROM main.\"\(object.name)\"") }
                } catch {
                    throw failure(error, in: scope, line: stmt.line, statement: stmt.sql, during: "view \(object.name): ")
                }
            }
            if object.kind == "TABLE" {
                let parents = try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list(?, 'main')", arguments: [object.name])
                for parent in parents where !scope.tables.contains(parent.lowercased()) {
                    throw DefinitionError(file: definition.source, line: stmt.line, statement: stmt.sql,
                                          message: "may not reference \(parent) from \(object.name): a foreign key may point only to a table of the same definition")
                }
            }
        }
    }

    /// The error to report for a statement of `scope`'s definition that failed: the gate's
    /// refusal or budget when one was the cause, SQLite's message otherwise.
    func failure(_ error: any Error, in scope: Scope, line: Int, statement: String?, during prefix: String = "") -> DefinitionError {
        let message: String
        if let refusal {
            message = prefix + refusal
        } else if overran === scope {
            let seconds = budget == budget.rounded() ? String(Int(budget)) : String(budget)
            message = prefix + "ran longer than \(seconds) s, the run-time budget of a definition (TRELLIS_PROJECTION_BUDGET); nothing was changed"
        } else if overMemory === scope {
            message = prefix + "used more than \(allowance >> 20) MiB of memory, the bound of a definition (TRELLIS_PROJECTION_MEMORY); nothing was changed"
        } else if !scope.trusted, (error as? DatabaseError)?.resultCode == .SQLITE_TOOBIG {
            message = prefix + "made a string or blob longer than \(Self.valueLimit >> 20) MiB, the longest a definition may make; nothing was changed"
        } else {
            message = prefix + CompiledProjection.message(error)
        }
        return DefinitionError(file: scope.definition.source, line: line, statement: statement, message: message)
    }

    // MARK: - SQLite callbacks

    private func tick() -> Int32 {
        guard let scope = current, scope.budget != .max else { return 0 }
        if scope.spent &+ (Self.now() &- enteredAt) > scope.budget {
            overran = scope
            return 1
        }
        return 0
    }

    private func authorize(_ code: Int32, _ a: UnsafePointer<CChar>?, _ b: UnsafePointer<CChar>?,
                           _ c: UnsafePointer<CChar>?, _ d: UnsafePointer<CChar>?) -> Int32 {
        guard let scope = current else { return SQLITE_OK }
        let first = a.map { String(cString: $0) }
        let second = b.map { String(cString: $0) }
        let schema = c.map { String(cString: $0).lowercased() }
        if record != nil, let first, schema == nil || schema == "main" {
            switch code {
            case SQLITE_READ: record?.reads.insert(first.lowercased())
            case SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE: record?.writes.insert(first.lowercased())
            default: break
            }
        }
        guard let why = refusal(code, first, second, schema, scope) else { return SQLITE_OK }
        if refusal == nil { refusal = why }
        return SQLITE_DENY
    }

    /// Why `scope` may not do what SQLite reports (`sqlite3_set_authorizer`'s action code and
    /// arguments), or nil when it may.
    private func refusal(_ code: Int32, _ first: String?, _ second: String?, _ schema: String?, _ scope: Scope) -> String? {
        let name = first?.lowercased() ?? ""
        let inMain = schema == nil || schema == "main"
        if schema == "temp" {
            return "may not create or use temporary objects" + (name == "sqlite_temp_master" ? "" : " (\(first ?? ""))")
        }
        if !shaping, [SQLITE_CREATE_TABLE, SQLITE_CREATE_VIEW, SQLITE_CREATE_INDEX, SQLITE_DROP_TABLE, SQLITE_DROP_VIEW, SQLITE_DROP_INDEX].contains(code) {
            let verb = [SQLITE_CREATE_TABLE, SQLITE_CREATE_VIEW, SQLITE_CREATE_INDEX].contains(code) ? "create" : "drop"
            return "may not \(verb) \(first ?? "") from a handler: a definition's objects are made by its -- tables section"
        }
        switch code {
        case SQLITE_SELECT:
            dropping = false
            return nil
        case SQLITE_RECURSIVE:
            return nil
        case SQLITE_READ:
            let column = second?.lowercased() ?? ""
            if name == "events", schema == nil || schema == logSchema {
                return Self.publicColumns.contains(column) ? nil : "may not read events.\(second ?? "") (not one of the log's public columns)"
            }
            if name == "sqlite_master", inMain, column == "rowid" || dropping { return nil }
            if inMain, scope.owns(name) || readModels.contains(name) || Self.tableFunctions.contains(name) { return nil }
            if inMain, name.hasPrefix("pragma_"), Self.pragmas.contains(String(name.dropFirst(7))) { return nil }
            // `count(*)` over a CTE or subquery is reported as a read of its name with no
            // column: allowed when no table, view or virtual table has that name.
            if column.isEmpty, schema == nil, !objects.contains(name), !name.hasPrefix("sqlite_"), !name.hasPrefix("pragma_"),
               name != "dbstat" { return nil }
            return "may not read \(describe(first, schema)); a definition reads events' public columns, other read models and its own tables"
        case SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE:
            // SQLite writes its schema table itself while creating or dropping an allowed
            // object; a statement of the definition's own cannot (without writable_schema,
            // a PRAGMA the gate refuses, SQLite refuses to modify sqlite_master).
            if name == "sqlite_master", schema == "main" { return nil }
            if inMain, scope.tables.contains(name) || (code == SQLITE_DELETE && dropping && scope.views.contains(name)) { return nil }
            return "may not write \(describe(first, schema)); a definition writes only the tables it declares"
        case SQLITE_CREATE_INDEX where name.hasPrefix("sqlite_autoindex_"):
            // The index SQLite makes for a PRIMARY KEY or UNIQUE constraint of the table being created.
            return inMain && scope.tables.contains(second?.lowercased() ?? "") ? nil : "may not create \(first ?? "") on \(second ?? "")"
        case SQLITE_CREATE_TABLE, SQLITE_CREATE_VIEW, SQLITE_CREATE_INDEX:
            let declared = code == SQLITE_CREATE_TABLE ? scope.tables : code == SQLITE_CREATE_VIEW ? scope.views : scope.indexes
            guard inMain, declared.contains(name), !reserved.contains(name) else {
                if name == "sqlite_sequence" { return "may not create sqlite_sequence (AUTOINCREMENT): use INTEGER PRIMARY KEY" }
                return "may not create \(describe(first, schema)): a definition creates only the tables, views and indexes its -- tables section declares"
            }
            if code == SQLITE_CREATE_INDEX, !scope.tables.contains(second?.lowercased() ?? "") {
                return "may not create index \(first ?? "") on \(second ?? ""): a definition indexes only its own tables"
            }
            return nil
        case SQLITE_DROP_TABLE, SQLITE_DROP_VIEW, SQLITE_DROP_INDEX:
            guard inMain, scope.owns(name), !reserved.contains(name),
                  code != SQLITE_DROP_INDEX || !reserved.contains(second?.lowercased() ?? "") else {
                return "may not drop \(describe(first, schema)): a definition drops only its own objects"
            }
            dropping = true
            return nil
        case SQLITE_REINDEX:
            return inMain && scope.indexes.contains(name) ? nil : "may not reindex \(first ?? "")"
        case SQLITE_CREATE_TRIGGER, SQLITE_CREATE_TEMP_TRIGGER:
            return "may not create triggers (\(first ?? "")): a definition owns only tables, views and indexes"
        case SQLITE_DROP_TRIGGER, SQLITE_DROP_TEMP_TRIGGER:
            return "may not drop trigger \(first ?? "")"
        case SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TEMP_INDEX,
             SQLITE_DROP_TEMP_TABLE, SQLITE_DROP_TEMP_VIEW, SQLITE_DROP_TEMP_INDEX:
            return "may not create or use temporary objects (\(first ?? ""))"
        case SQLITE_CREATE_VTABLE, SQLITE_DROP_VTABLE:
            return "may not create or drop virtual tables (\(first ?? ""))"
        case SQLITE_ATTACH:
            return "may not attach a database"
        case SQLITE_DETACH:
            return "may not detach a database"
        case SQLITE_PRAGMA:
            let argument = second?.lowercased() ?? ""
            if Self.pragmas.contains(name), inMain, scope.owns(argument) || readModels.contains(argument) || argument == "events" { return nil }
            return "may not run PRAGMA \(first ?? "")\(second.map { "(\($0))" } ?? ""): a definition may only read table_info and index lists of what it can read"
        case SQLITE_FUNCTION:
            let function = second?.lowercased() ?? ""
            return Self.functions.contains(function) ? nil : "may not call \(second ?? "")(): a definition uses SQLite's core functions only"
        case SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            return "may not begin, commit or roll back a transaction or savepoint: the engine runs each definition inside its own"
        case SQLITE_ALTER_TABLE:
            return "may not alter \(second ?? "a table")"
        case SQLITE_ANALYZE:
            return "may not run ANALYZE"
        default:
            return "may not perform SQLite action \(code)"
        }
    }

    private func describe(_ name: String?, _ schema: String?) -> String {
        let name = name ?? "?"
        let qualified = schema.map { $0 == "main" || $0 == logSchema && name.lowercased() == "events" ? name : "\($0).\(name)" } ?? name
        let lower = name.lowercased()
        if schema == "temp" { return "\(qualified) (a temporary object)" }
        if lower == "events" { return "\(qualified) (the event log)" }
        if lower == "sqlite_master" || lower == "sqlite_schema" || lower == "sqlite_temp_master" { return "\(qualified) (the schema)" }
        if reserved.contains(lower) { return "\(qualified) (a ledger table)" }
        if readModels.contains(lower) { return "\(qualified) (another read model)" }
        return "\(qualified) (not a read model of this ledger)"
    }

    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}
