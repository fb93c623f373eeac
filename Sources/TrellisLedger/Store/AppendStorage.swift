import TrellisCore
import GRDB
import GRDBSQLite

/// What a ``Batch`` needs from a store, under the writer's lock and inside the batch's one
/// transaction: the backend-neutral append logic (rules, idempotency, sealing, speculation,
/// chain) lives in ``Batch`` and ``ArchiveBatch``; a store supplies only these primitives.
/// ``SQLiteAppendStorage`` is the SQLite file's; TrellisPostgres has the PostgreSQL one.
///
/// Reads must see every write made earlier through the same storage (a store that buffers
/// writes flushes before a read that could depend on them). ``Batch`` caches entities and
/// memberships itself, and writes both through, so those two reads only ever ask for rows
/// this batch has not written.
package protocol AppendStorage: AnyObject {
    /// Inserts one `events` row; false when `id` is already taken (nothing inserted).
    /// `fresh`: the id was generated for this event (a new UUIDv7), so the log cannot hold it;
    /// a store may skip looking it up (the unique index still refuses a duplicate).
    func insertEvent(seq: Int64, id: String, fresh: Bool, type: String, v: Int64, occurredAt: String,
                     recordedAt: String, actor: String?, data: [UInt8], hash: [UInt8]) throws -> Bool
    /// Inserts the `events` row of `event` with its prepared id, data and texts, as
    /// ``insertEvent(seq:id:fresh:type:v:occurredAt:recordedAt:actor:data:hash:)`` does (which
    /// it calls unless a store binds the prepared bytes itself, as SQLite's does).
    func insertEvent(seq: Int64, _ event: DecodedEvent, _ prepared: PreparedData, recordedAt: String, hash: UnsafeBufferPointer<UInt8>) throws -> Bool
    /// Inserts the `events` row of an archived event, with its own seq, recorded_at and hash,
    /// as ``insertEvent(seq:id:fresh:type:v:occurredAt:recordedAt:actor:data:hash:)`` does
    /// (which it calls unless a store binds the event's texts itself, as SQLite's does).
    func insertArchived(_ e: ChainedEvent) throws -> Bool
    /// The event recorded under `id`.
    func recordedEvent(id: String) throws -> StoredEventRow?
    /// The stored hash of the event at `seq` (nil when there is none).
    func hash(at seq: Int64) throws -> [UInt8]?
    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact?
    /// Every non-retracted join (true) / leave of `org` in `network`, in seq order.
    func memberships(network: String, org: String) throws -> [(seq: Int64, joined: Bool)]
    func isRetracted(seq: Int64) throws -> Bool
    func createEntity(_ kind: EntityKind, _ key: String, seq: Int64, parent: String?) throws
    func setEntityState(_ kind: EntityKind, _ key: String, state: Int64) throws
    func insertMembership(network: String, org: String, seq: Int64, joined: Bool) throws
    func deleteMembership(network: String, org: String, seq: Int64) throws
    func insertRetraction(target: Int64, by seq: Int64) throws
    func personKey(_ person: String) throws -> [UInt8]?
    func putPersonKey(_ person: String, _ key: [UInt8]) throws
    func deletePersonKey(_ person: String) throws
    /// Told about the next events before they are checked (a chunk at a time), so that a store
    /// whose every read is a round trip can fetch what their rule checks will ask for in one.
    func prefetch(_ events: [DecodedEvent]) throws
    /// Told the id hash (``PreparedData/idHash``) of an event a few ahead, so that a store that
    /// files ids in memory can have its place brought into the cache.
    func prefetch(idHash: UInt64)
    /// True when `rule_entities` and `rule_memberships` hold no row, as the batch begins: the
    /// batch then need not read them (``Batch`` caches all it writes). False when unsure.
    func ruleTablesEmpty() throws -> Bool
}

extension AppendStorage {
    package func prefetch(_ events: [DecodedEvent]) throws {}
    package func prefetch(idHash: UInt64) {}
    package func ruleTablesEmpty() throws -> Bool { false }

    package func insertEvent(seq: Int64, _ event: DecodedEvent, _ prepared: PreparedData, recordedAt: String, hash: UnsafeBufferPointer<UInt8>) throws -> Bool {
        try insertEvent(seq: seq, id: prepared.id, fresh: event.id == nil, type: event.type.rawValue, v: event.v, occurredAt: event.occurredAt,
                        recordedAt: recordedAt, actor: event.actor, data: prepared.bytes, hash: Array(hash))
    }

    package func insertArchived(_ e: ChainedEvent) throws -> Bool {
        try insertEvent(seq: e.seq, id: e.id, fresh: false, type: e.type.rawValue, v: e.v, occurredAt: e.occurredAt,
                        recordedAt: e.recordedAt, actor: e.actor, data: Array(e.event.data.utf8), hash: e.hash)
    }
}

/// An `events` row as the idempotency check reads it back.
package struct StoredEventRow {
    package var seq: Int64
    package var type: String
    package var v: Int64
    package var occurredAt: String
    package var actor: String?
    package var dataText: String

    package init(seq: Int64, type: String, v: Int64, occurredAt: String, actor: String?, dataText: String) {
        self.seq = seq; self.type = type; self.v = v; self.occurredAt = occurredAt; self.actor = actor; self.dataText = dataText
    }
}

/// The SQLite file's primitives: prepared statements stepped through ``Raw``, inside the
/// caller's `BEGIN IMMEDIATE` transaction.
final class SQLiteAppendStorage: AppendStorage {
    let db: Database
    /// The bytes of the row being inserted (see ``insertEvent``).
    private var rowBuffer: [UInt8] = []
    private let insertEventStatement: Statement
    private let findEvent: Statement
    private let hashAt: Statement
    private let findEntity: Statement
    private let insertEntity: Statement
    private let updateEntity: Statement
    private let findMemberships: Statement
    private let insertMembershipStatement: Statement
    private let deleteMembershipStatement: Statement
    private let insertRetractionStatement: Statement
    private let findRetraction: Statement
    private let insertKey: Statement
    private let findKey: Statement
    private let deleteKey: Statement
    /// Into an empty log: the rows held back, and the plain multi-row inserts that write them
    /// (``PendingEvents``: 256 rows, 32 rows, one row). Nil otherwise.
    private let pending: PendingEvents?
    private let insertHeld: (large: Statement, small: Statement, one: Statement)?
    private let idStored: Statement

    /// `bulk`: the batch begins on an empty `events` table (``Ledger/logIsEmpty(_:)``), so its
    /// rows may be held back and written many to a statement (``PendingEvents``).
    init(db: Database, bulk: Bool = false, idFilterBits: Int? = nil) throws {
        self.db = db
        if bulk {
            func insert(rows: Int) throws -> Statement {
                try db.makeStatement(sql: "INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) VALUES "
                                     + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
            }
            pending = PendingEvents(idFilterBits: idFilterBits)
            insertHeld = (try insert(rows: PendingEvents.largeGroup), try insert(rows: PendingEvents.smallGroup), try insert(rows: 1))
        } else {
            pending = nil
            insertHeld = nil
        }
        idStored = try db.makeStatement(sql: "SELECT 1 FROM events WHERE id = ?")
        // Person keys are inserted and deleted only here: with secure_delete on, no page
        // split or deletion leaves a key's bytes behind in free space.
        try db.execute(sql: "PRAGMA secure_delete = ON")
        // A large batch otherwise spills dirty pages to the WAL and reads them back mid-way
        // (80 k writes and 40 k reads for 300 k events with the default 2 MB cache).
        try db.execute(sql: "PRAGMA cache_size = -65536")
        insertEventStatement = try db.makeStatement(sql: """
            INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """)
        findEvent = try db.makeStatement(sql: "SELECT seq, type, v, occurred_at, actor, data FROM events WHERE id = ?")
        hashAt = try db.makeStatement(sql: "SELECT hash FROM events WHERE seq = ?")
        findEntity = try db.makeStatement(sql: "SELECT seq, parent, state FROM rule_entities WHERE kind = ? AND key = ?")
        insertEntity = try db.makeStatement(sql: "INSERT INTO rule_entities (kind, key, seq, parent, state) VALUES (?, ?, ?, ?, 0)")
        updateEntity = try db.makeStatement(sql: "UPDATE rule_entities SET state = ? WHERE kind = ? AND key = ?")
        findMemberships = try db.makeStatement(sql: "SELECT seq, joined FROM rule_memberships WHERE network_id = ? AND org_id = ? ORDER BY seq")
        insertMembershipStatement = try db.makeStatement(sql: "INSERT INTO rule_memberships (network_id, org_id, seq, joined) VALUES (?, ?, ?, ?)")
        deleteMembershipStatement = try db.makeStatement(sql: "DELETE FROM rule_memberships WHERE network_id = ? AND org_id = ? AND seq = ?")
        insertRetractionStatement = try db.makeStatement(sql: "INSERT INTO retractions (target_seq, retraction_seq) VALUES (?, ?)")
        findRetraction = try db.makeStatement(sql: "SELECT 1 FROM retractions WHERE target_seq = ?")
        insertKey = try db.makeStatement(sql: "INSERT INTO person_keys (person_id, key) VALUES (?, ?)")
        findKey = try db.makeStatement(sql: "SELECT key FROM person_keys WHERE person_id = ?")
        deleteKey = try db.makeStatement(sql: "DELETE FROM person_keys WHERE person_id = ?")
    }

    /// Inserts one `events` row (`INSERT … ON CONFLICT (id) DO NOTHING`); false when the id
    /// was already taken. The values are copied into one reused buffer and bound without
    /// SQLite copying them again (`SQLITE_STATIC`, cleared before returning): SQLite's own
    /// copy of each of the seven texts and blobs was a malloc, a memcpy and a free per
    /// column, about a tenth of the writer's instructions.
    func insertEvent(seq: Int64, id: String, fresh: Bool, type: String, v: Int64, occurredAt: String,
                     recordedAt: String, actor: String?, data: [UInt8], hash: [UInt8]) throws -> Bool {
        if let pending {
            try writeHeld()
            _ = Self.bytes(of: id) { pending.mayBeTaken($0) }
        }
        rowBuffer.removeAll(keepingCapacity: true)
        func put(_ text: String) -> Range<Int> {
            var text = text
            let start = rowBuffer.count
            text.withUTF8 { rowBuffer.append(contentsOf: $0) }
            return start..<rowBuffer.count
        }
        let idRange = put(id), typeRange = put(type), occurredRange = put(occurredAt), recordedRange = put(recordedAt)
        let actorRange = actor.map(put)
        let dataStart = rowBuffer.count
        rowBuffer.append(contentsOf: data)
        let dataRange = dataStart..<rowBuffer.count
        let hashStart = rowBuffer.count
        rowBuffer.append(contentsOf: hash)
        let hashRange = hashStart..<rowBuffer.count
        let s = insertEventStatement.sqliteStatement
        return try rowBuffer.withUnsafeBufferPointer { b in
            let base = UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            func text(_ i: Int32, _ r: Range<Int>) {
                sqlite3_bind_text(s, i, (base + r.lowerBound).assumingMemoryBound(to: CChar.self), Int32(r.count), nil)
            }
            defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
            sqlite3_bind_int64(s, 1, seq)
            text(2, idRange)
            text(3, typeRange)
            sqlite3_bind_int64(s, 4, v)
            text(5, occurredRange)
            text(6, recordedRange)
            if let actorRange { text(7, actorRange) } else { sqlite3_bind_null(s, 7) }
            text(8, dataRange)
            sqlite3_bind_blob(s, 9, base + hashRange.lowerBound, Int32(hashRange.count), nil)
            _ = try Raw.step(s, db)
            return sqlite3_changes(db.sqliteConnection) != 0
        }
    }

    /// The same insert from the bytes the decoding thread laid out (``PreparedData/row``),
    /// bound where they lie: no copy, no string bridging on the writer. Every parameter is
    /// bound on every call, so the `SQLITE_STATIC` pointers of the previous row are never read.
    func insertEvent(seq: Int64, _ event: DecodedEvent, _ prepared: PreparedData, recordedAt: String, hash h: UnsafeBufferPointer<UInt8>) throws -> Bool {
        let s = insertEventStatement.sqliteStatement
        let ends = prepared.ends
        let hasActor = event.actor != nil
        var recordedAt = recordedAt
        return try prepared.row.withUnsafeBufferPointer { t in
            try recordedAt.withUTF8 { r in
                if let pending {
                    func part(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: t[from..<to]) }
                    if try !isTaken(part(0, ends.id), pending, hash: prepared.idHash) {
                        pending.hold(seq: seq, v: event.v, hasActor: hasActor, part(0, ends.id), part(ends.id, ends.type),
                                     part(ends.type, ends.occurredAt), r, part(ends.occurredAt, ends.actor), part(ends.actor, ends.data), h)
                        if pending.isFull { try writeHeld() }
                        return true
                    }
                    try writeHeld()
                }
                let dummy = UnsafePointer<UInt8>(bitPattern: 1)!
                func text(_ i: Int32, _ p: UnsafePointer<UInt8>?, _ n: Int) {
                    sqlite3_bind_text(s, i, UnsafeRawPointer(p ?? dummy).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                }
                let tb = t.baseAddress ?? dummy
                defer { sqlite3_reset(s) }
                sqlite3_bind_int64(s, 1, seq)
                text(2, tb, ends.id)
                text(3, tb + ends.id, ends.type - ends.id)
                sqlite3_bind_int64(s, 4, event.v)
                text(5, tb + ends.type, ends.occurredAt - ends.type)
                text(6, r.baseAddress, r.count)
                if hasActor { text(7, tb + ends.occurredAt, ends.actor - ends.occurredAt) } else { sqlite3_bind_null(s, 7) }
                text(8, tb + ends.actor, ends.data - ends.actor)
                sqlite3_bind_blob(s, 9, UnsafeRawPointer(h.baseAddress ?? dummy), Int32(h.count), nil)
                _ = try Raw.step(s, db)
                return sqlite3_changes(db.sqliteConnection) != 0
            }
        }
    }

    /// The same insert for an archived event, its texts bound where they lie (`data` was
    /// copied into an array first: an allocation and a copy of every event on the writer), or
    /// held back into an empty log (``PendingEvents``) through the same columns.
    func insertArchived(_ e: ChainedEvent) throws -> Bool {
        let s = insertEventStatement.sqliteStatement
        let hasActor = e.event.actor != nil
        func text(_ i: Int32, _ b: UnsafeBufferPointer<UInt8>) {
            let p = UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            sqlite3_bind_text(s, i, p.assumingMemoryBound(to: CChar.self), Int32(b.count), nil)
        }
        // One nest of borrows, read through `e.event` each time: a helper lending the columns as
        // a struct copied the record (callgrind, 50 k archived events: +24 M instructions).
        return try Self.bytes(of: e.event.id) { idBytes in try Self.bytes(of: e.event.type) { typeBytes in try Self.bytes(of: e.event.occurredAt) { occurredBytes in
            try Self.bytes(of: e.event.recordedAt) { recordedBytes in try Self.bytes(of: e.event.actor ?? "") { actorBytes in try Self.bytes(of: e.event.data) { dataBytes in
                try e.event.hash.withUnsafeBufferPointer { h in
                    if let pending {
                        if try !isTaken(idBytes, pending, hash: e.idHash) {
                            pending.hold(seq: e.event.seq, v: e.event.v, hasActor: hasActor, idBytes, typeBytes, occurredBytes, recordedBytes,
                                         actorBytes, dataBytes, h)
                            if pending.isFull { try writeHeld() }
                            return true
                        }
                        try writeHeld()
                    }
                    defer { sqlite3_reset(s) }
                    sqlite3_bind_int64(s, 1, e.event.seq)
                    text(2, idBytes)
                    text(3, typeBytes)
                    sqlite3_bind_int64(s, 4, e.event.v)
                    text(5, occurredBytes)
                    text(6, recordedBytes)
                    if hasActor { text(7, actorBytes) } else { sqlite3_bind_null(s, 7) }
                    text(8, dataBytes)
                    sqlite3_bind_blob(s, 9, UnsafeRawPointer(h.baseAddress ?? UnsafePointer(bitPattern: 1)!), Int32(h.count), nil)
                    _ = try Raw.step(s, db)
                    return sqlite3_changes(db.sqliteConnection) != 0
                }
            } } }
        } } }
    }

    /// A string's UTF-8 bytes where they lie (a native string lends them without a copy).
    @inline(__always)
    private static func bytes<R>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = text
        return try copy.withUTF8(body)
    }

    /// Whether a row with `id` is held or stored: false at once when the filter says certainly
    /// not (counting it from now on); else the held rows and the table are asked.
    private func isTaken(_ id: UnsafeBufferPointer<UInt8>, _ pending: PendingEvents, hash: UInt64? = nil) throws -> Bool {
        guard pending.mayBeTaken(id, hash: hash) else { return false }
        if pending.holds(id) { return true }
        let s = idStored.sqliteStatement
        defer { sqlite3_reset(s) }
        sqlite3_bind_text(s, 1, UnsafeRawPointer(id.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), Int32(id.count), nil)
        return try Raw.step(s, db)
    }

    func prefetch(idHash: UInt64) {
        pending?.prefetch(idHash: idHash)
    }

    /// Writes the rows held back (``PendingEvents``), the most to a statement: before any read
    /// of `events`, and before the batch commits (``finish()``). A plain insert: an id taken
    /// after all fails the statement, and the batch with it.
    private func writeHeld() throws {
        guard let pending, let insertHeld, !pending.isEmpty else { return }
        defer { pending.removeAll() }
        let rows = pending.rows.count
        var done = 0
        try pending.bytes.withUnsafeBufferPointer { b in
            // Never empty while rows are held (each has an id and a hash).
            let base = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
            for (size, statement) in [(PendingEvents.largeGroup, insertHeld.large), (PendingEvents.smallGroup, insertHeld.small), (1, insertHeld.one)] {
                let s = statement.sqliteStatement
                while rows - done >= size {
                    pending.bind(done..<(done + size), to: s, base: base)
                    defer { sqlite3_reset(s) }
                    _ = try Raw.step(s, db)
                    done += size
                }
            }
        }
    }

    /// Writes what the batch still holds back; called once its last event is taken, before
    /// it commits.
    func finish() throws {
        try writeHeld()
    }

    func recordedEvent(id: String) throws -> StoredEventRow? {
        try writeHeld()
        let s = findEvent.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, id)
        guard try Raw.step(s, db) else { return nil }
        return StoredEventRow(seq: Raw.int(s, 0), type: Raw.string(s, 1) ?? "", v: Raw.int(s, 2), occurredAt: Raw.string(s, 3) ?? "",
                              actor: Raw.string(s, 4), dataText: Raw.string(s, 5) ?? "{}")
    }

    func hash(at seq: Int64) throws -> [UInt8]? {
        try writeHeld()
        let s = hashAt.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, seq)
        guard try Raw.step(s, db) else { return nil }
        return Raw.column(s, 0).map { Array($0) } ?? []
    }

    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? {
        let s = findEntity.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, kind.rawValue)
        Raw.bind(s, 2, key)
        guard try Raw.step(s, db) else { return nil }
        return EntityFact(seq: Raw.int(s, 0), parent: Raw.string(s, 1), state: .init(rawValue: Raw.int(s, 2)))
    }

    func memberships(network: String, org: String) throws -> [(seq: Int64, joined: Bool)] {
        let s = findMemberships.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, network)
        Raw.bind(s, 2, org)
        var rows: [(seq: Int64, joined: Bool)] = []
        while try Raw.step(s, db) { rows.append((Raw.int(s, 0), Raw.int(s, 1) != 0)) }
        return rows
    }

    func ruleTablesEmpty() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM rule_entities) AND NOT EXISTS (SELECT 1 FROM rule_memberships)") ?? false
    }

    func isRetracted(seq: Int64) throws -> Bool {
        let s = findRetraction.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, seq)
        return try Raw.step(s, db)
    }

    private func exec(_ stmt: Statement, _ bind: (SQLiteStatement) -> Void) throws {
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        bind(s)
        _ = try Raw.step(s, db)
    }

    func createEntity(_ kind: EntityKind, _ key: String, seq: Int64, parent: String?) throws {
        try exec(insertEntity) { s in Raw.bind(s, 1, kind.rawValue); Raw.bind(s, 2, key); Raw.bind(s, 3, seq); Raw.bind(s, 4, parent) }
    }

    func setEntityState(_ kind: EntityKind, _ key: String, state: Int64) throws {
        try exec(updateEntity) { s in Raw.bind(s, 1, state); Raw.bind(s, 2, kind.rawValue); Raw.bind(s, 3, key) }
    }

    func insertMembership(network: String, org: String, seq: Int64, joined: Bool) throws {
        try exec(insertMembershipStatement) { s in
            Raw.bind(s, 1, network); Raw.bind(s, 2, org); Raw.bind(s, 3, seq); Raw.bind(s, 4, joined ? 1 : 0)
        }
    }

    func deleteMembership(network: String, org: String, seq: Int64) throws {
        try exec(deleteMembershipStatement) { s in Raw.bind(s, 1, network); Raw.bind(s, 2, org); Raw.bind(s, 3, seq) }
    }

    func insertRetraction(target: Int64, by seq: Int64) throws {
        try exec(insertRetractionStatement) { s in Raw.bind(s, 1, target); Raw.bind(s, 2, seq) }
    }

    func personKey(_ person: String) throws -> [UInt8]? {
        let s = findKey.sqliteStatement
        defer { sqlite3_reset(s) }
        Raw.bind(s, 1, person)
        guard try Raw.step(s, db), let k = Raw.column(s, 0) else { return nil }
        return Array(k)
    }

    func putPersonKey(_ person: String, _ key: [UInt8]) throws {
        try exec(insertKey) { s in Raw.bind(s, 1, person); Raw.bind(s, 2, bytes: key, asText: false) }
    }

    func deletePersonKey(_ person: String) throws {
        try exec(deleteKey) { s in Raw.bind(s, 1, person) }
    }
}
