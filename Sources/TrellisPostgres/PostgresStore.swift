import CLibPQ
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// The ledger in a PostgreSQL database: the same log, rules, hash chain and archives as the
/// SQLite file, for a region whose writers are on many machines.
///
/// One connection, used by one call at a time (a lock serialises callers). Appends take
/// `pg_advisory_xact_lock` first, then read the head, then append head + 1, … in the same
/// transaction (ARCHITECTURE.md, "The PostgreSQL store", says why that keeps seq gap-free and
/// the chain unbroken under many writers). A lost connection or a server restart mid-batch
/// rolls the transaction back on the server: nothing is half-written, and the error is
/// ``LedgerError/unavailable(path:reason:)`` (exit 75, retrying may help).
public final class PostgresStore: @unchecked Sendable {
    /// The URL without a password, for messages.
    public let location: String
    let connection: PGConnection
    let lock = Lock()
    /// The append buffers' flush size; the tests make it small to send rows mid-batch.
    var flushBytes = PostgresAppendStorage.flushBytes

    /// Statements this store's connection has sent (the tests count an import's round trips).
    var statementsSent: Int { lock.run { connection.statements } }

    /// Runs `body` on the connection, holding the lock (for the store's other files).
    func withConnection<T>(_ body: (PGConnection) throws(LedgerError) -> T) throws(LedgerError) -> T {
        try lock.run { () throws(LedgerError) in try body(connection) }
    }

    private init(connection: PGConnection) {
        self.connection = connection
        location = connection.location
    }

    /// Whether `text` names a PostgreSQL database rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Opens an existing ledger; ``LedgerError/missing(path:)`` when the database has no
    /// Trellis schema, ``LedgerError/newerFormat(path:format:)`` when a newer Trellis wrote it.
    public static func open(url: String) throws(LedgerError) -> PostgresStore {
        let c = try PGConnection(url: url)
        try PostgresSchema.check(c)
        return PostgresStore(connection: c)
    }

    /// Creates the schema when absent, upgrades an older one, refuses a newer one.
    public static func create(url: String) throws(LedgerError) -> PostgresStore {
        let c = try PGConnection(url: url)
        try PostgresSchema.migrate(c)
        return PostgresStore(connection: c)
    }

    /// Creates the writer and reader roles (NOLOGIN) when missing and grants them
    /// ``PostgresSchema/grants(writer:reader:)``.
    public func createRoles(writer: String, reader: String) throws(LedgerError) {
        try lock.run { () throws(LedgerError) in try PostgresSchema.createRoles(connection, writer: writer, reader: reader) }
    }

    // MARK: Reading

    public func head() throws(LedgerError) -> LedgerHead {
        try lock.run { () throws(LedgerError) in try readHead() }
    }

    private func readHead() throws(LedgerError) -> LedgerHead {
        let r = try connection.exec("SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1", during: "reading the head")
        guard r.count > 0 else { return .make(seq: 0, hash: CanonicalEnvelope.genesis, recordedAt: nil) }
        return .make(seq: r.int(0, 0), hash: r.bytes(0, 1) ?? [], recordedAt: r.string(0, 2))
    }

    /// The same text sort key as the SQLite store's (fractions of a second padded to nine digits).
    private static let occurredSortKey = """
        substr(occurred_at, 1, 19) || substr(CASE WHEN length(occurred_at) > 20 THEN substr(occurred_at, 21, length(occurred_at) - 21) ELSE '' END || '000000000', 1, 9)
        """

    public func status() throws(LedgerError) -> LedgerStatus {
        try lock.run { () throws(LedgerError) in
            try inReadTransaction { () throws(LedgerError) in
                let head = try readHead()
                let first = try connection.exec("SELECT occurred_at FROM events ORDER BY \(Self.occurredSortKey) LIMIT 1", during: "reading the status")
                let last = try connection.exec("SELECT occurred_at FROM events ORDER BY \(Self.occurredSortKey) DESC LIMIT 1", during: "reading the status")
                let size = try connection.exec("SELECT " + PostgresSchema.tables.map { "pg_total_relation_size('\($0)')" }.joined(separator: " + "),
                                               during: "reading the status")
                return LedgerStatus(events: head.seq, head: head, firstOccurredAt: first.count > 0 ? first.string(0, 0) : nil,
                                    lastOccurredAt: last.count > 0 ? last.string(0, 0) : nil, storageBytes: size.int(0, 0))
            }
        }
    }

    /// Runs `body` in one REPEATABLE READ, READ ONLY transaction: one snapshot of the log.
    private func inReadTransaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", during: "reading the ledger")
        do {
            let value = try body()
            try connection.run("COMMIT", during: "reading the ledger")
            return value
        } catch {
            if connection.isOK { try? connection.run("ROLLBACK") }
            throw error
        }
    }

    /// Rows of `sql` through a cursor, `batch` at a time, in one snapshot; `body` returns false to stop.
    private func cursor(_ sql: String, _ params: [PGConnection.Param], batch: Int = 5000,
                        _ body: (PGResult, Int) throws -> Bool) throws {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", during: "reading the log")
        do {
            try connection.exec("DECLARE trellis_scan NO SCROLL CURSOR FOR " + sql, params, during: "reading the log")
            fetching: while true {
                let r = try connection.exec("FETCH \(batch) FROM trellis_scan", during: "reading the log")
                if r.count == 0 { break }
                for i in 0..<r.count where try !body(r, i) { break fetching }
            }
            try connection.run("COMMIT", during: "reading the log")
        } catch {
            if connection.isOK { try? connection.run("ROLLBACK") }
            throw error
        }
    }

    /// Events with from ≤ seq ≤ through in seq order, in one consistent read; `body` returns false to stop.
    public func scan(from: Int64 = 1, through: Int64 = .max, _ body: (RecordedEvent) throws -> Bool) throws {
        try lock.run {
            try cursor("SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
                       [.int(from), .int(through)]) { r, i in
                try body(.make(seq: r.int(i, 0), id: r.string(i, 1) ?? "", type: r.string(i, 2) ?? "", v: r.int(i, 3),
                               occurredAt: r.string(i, 4) ?? "", recordedAt: r.string(i, 5) ?? "", actor: r.string(i, 6),
                               data: r.string(i, 7) ?? "{}", hash: r.bytes(i, 8) ?? []))
            }
        }
    }

    public func event(id: String) throws(LedgerError) -> RecordedEvent? {
        try lock.run { () throws(LedgerError) in
            let r = try connection.exec("SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events WHERE id = $1",
                                        [.text(id)], during: "reading an event")
            guard r.count > 0 else { return nil }
            return .make(seq: r.int(0, 0), id: r.string(0, 1) ?? "", type: r.string(0, 2) ?? "", v: r.int(0, 3),
                         occurredAt: r.string(0, 4) ?? "", recordedAt: r.string(0, 5) ?? "", actor: r.string(0, 6),
                         data: r.string(0, 7) ?? "{}", hash: r.bytes(0, 8) ?? [])
        }
    }

    /// Retracted seq → retraction seq, from the log's EventRetracted events (not the derived table).
    public func retractions() throws(LedgerError) -> [Int64: Int64] {
        try lock.run { () throws(LedgerError) in
            let r = try connection.exec("""
                SELECT r.seq, t.seq FROM events r JOIN events t ON t.id = (r.data::jsonb ->> 'event_id')
                WHERE r.type = 'EventRetracted' AND t.seq < r.seq
                """, during: "reading the retractions")
            var out: [Int64: Int64] = [:]
            for i in 0..<r.count { out[r.int(i, 1)] = r.int(i, 0) }
            return out
        }
    }

    public func personKeys() throws(LedgerError) -> [String: [UInt8]] {
        try lock.run { () throws(LedgerError) in
            let r = try connection.exec("SELECT person_id, key FROM person_keys", during: "reading the person keys")
            var out: [String: [UInt8]] = [:]
            for i in 0..<r.count { if let p = r.string(i, 0), let k = r.bytes(i, 1) { out[p] = k } }
            return out
        }
    }

    /// Last seq with recorded_at ≤ text (`--known-at`); recorded_at never goes backwards.
    public func lastSeq(recordedAtOrBefore text: String) throws(LedgerError) -> Int64 {
        try lock.run { () throws(LedgerError) in
            try connection.exec("SELECT coalesce(max(seq), 0) FROM events WHERE recorded_at <= $1", [.text(text)], during: "reading the log").int(0, 0)
        }
    }

    /// Whether the id was ever used for an entity of that kind (rule tables, no scan).
    public func knows(_ kind: EntityKind, _ key: String) throws(LedgerError) -> Bool {
        try lock.run { () throws(LedgerError) in
            try connection.exec("SELECT 1 FROM rule_entities WHERE kind = $1 AND key = $2", [.text(kind.rawValue), .text(key)],
                                during: "reading the rule state").count > 0
        }
    }

    /// The stored hash of each event with from ≤ seq ≤ through, in order.
    public func hashes(from: Int64, through: Int64, _ body: (Int64, [UInt8]) throws -> Void) throws {
        try lock.run {
            try cursor("SELECT seq, hash FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq", [.int(from), .int(through)], batch: 20000) { r, i in
                try body(r.int(i, 0), r.bytes(i, 1) ?? [])
                return true
            }
        }
    }

    /// recorded_at of the first and last event (nil when empty).
    public func recordedAtBounds() throws(LedgerError) -> (first: String, last: String)? {
        try lock.run { () throws(LedgerError) in
            let r = try connection.exec("""
                SELECT (SELECT recorded_at FROM events ORDER BY seq LIMIT 1), (SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1)
                """, during: "reading the log")
            guard let first = r.string(0, 0), let last = r.string(0, 1) else { return nil }
            return (first, last)
        }
    }

    // MARK: Appending

    /// One batch, all or nothing, rules checked against the state as of the append lock.
    public func append(options: Ledger.AppendOptions = Ledger.AppendOptions(),
                       _ feed: (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void) throws -> AppendOutcome {
        try lock.run {
            try inAppendTransaction { storage, head in
                let batch = Batch(storage: storage, head: head, options: options)
                try DecodePipeline.run(feed: feed, speculation: batch.speculation, prepare: batch.prefetch) { items, i in
                    try batch.process(items, i)
                }
                if let rejection = batch.rejection { throw rejection }
                return (batch.outcome, batch.erasedSomeone)
            }
        }
    }

    /// Archive import: already-chained events, every rule re-checked, hashes must match.
    public func appendArchived(_ feed: (_ visit: (ChainedEvent) throws -> Void) throws -> Void) throws -> AppendOutcome {
        try lock.run {
            try inAppendTransaction { storage, head in
                let batch = Batch(storage: storage, head: head, options: Ledger.AppendOptions())
                let archive = ArchiveBatch(batch: batch)
                try feed { try archive.append($0) }
                return (AppendOutcome(appended: batch.appended, skipped: batch.skipped,
                                      head: .make(seq: batch.headSeq, hash: batch.headHash, recordedAt: batch.headRecordedAt)),
                        batch.erasedSomeone)
            }
        }
    }

    /// BEGIN; the append lock; the head (read after the lock: it sees every batch committed
    /// before); `body`; the buffered rows; COMMIT. Any error rolls back. When the batch erased
    /// someone, `person_keys` is rewritten after the commit (``purgeErasedKeys(_:erasedBy:)``).
    private func inAppendTransaction(_ body: (PostgresAppendStorage, LedgerHead) throws -> (AppendOutcome, Bool)) throws -> AppendOutcome {
        let c = connection
        try c.run("BEGIN", during: "starting the batch")
        var storage: PostgresAppendStorage?
        do {
            // As long as a ledger file's writer waits (TRELLIS_BUSY_TIMEOUT, 60 s), then busy (75).
            try c.run("SET LOCAL lock_timeout = \(PGConnection.lockTimeoutMillis)", during: "waiting for the append lock")
            try c.exec("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.appendLock)], during: "waiting for the append lock")
            let head = try readHead()
            let rows = PostgresAppendStorage(connection: c, head: head, flushBytes: flushBytes)
            storage = rows
            let (outcome, erased) = try body(rows, head)
            try rows.finish()
            let xid = erased ? try c.exec("SELECT pg_current_xact_id()::text", during: "committing the batch").string(0, 0) : nil
            try c.run("COMMIT", during: "committing the batch")
            if erased, let residue = Self.purgeErasedKeys(c, erasedBy: xid) {
                var o = outcome
                o.erasureResidue = residue
                return o
            }
            return outcome
        } catch {
            storage?.abandon()
            if c.isOK { try? c.run("ROLLBACK") }
            throw error
        }
    }

    // MARK: Verifying

    /// What ``verifyChain()`` found: the first break, if any.
    public struct ChainReport: Sendable, Equatable {
        public var events: Int64
        public var head: LedgerHead
        /// The first seq where the chain breaks, and why; nil when intact.
        public var broken: (seq: Int64, why: String)?
        public static func == (a: ChainReport, b: ChainReport) -> Bool {
            a.events == b.events && a.head == b.head && a.broken?.seq == b.broken?.seq && a.broken?.why == b.broken?.why
        }
    }

    /// Recomputes the hash chain over the whole log in one snapshot (`verify --chain-only`):
    /// seq gap-free from 1, each hash SHA-256(previous ‖ canonical envelope).
    public func verifyChain(progress: ((Int64) -> Void)? = nil) throws -> ChainReport {
        var previous = CanonicalEnvelope.genesis
        var expected: Int64 = 1
        var broken: (seq: Int64, why: String)?
        var last: RecordedEvent?
        try scan { e in
            if e.seq != expected {
                broken = (expected, e.seq > expected ? "events \(expected)–\(e.seq - 1) are missing" : "seq \(e.seq) is out of order")
                return false
            }
            let canonical = CanonicalEnvelope.bytes(e)
            let hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
            if hash != e.hash {
                broken = (e.seq, "the stored hash does not match the event's content and the chain before it")
                return false
            }
            previous = hash
            expected += 1
            last = e
            if e.seq & 0xFFFF == 0 { progress?(e.seq) }
            return true
        }
        let head: LedgerHead = last.map { .make(seq: $0.seq, hash: $0.hash, recordedAt: $0.recordedAt) }
            ?? .make(seq: 0, hash: CanonicalEnvelope.genesis, recordedAt: nil)
        return ChainReport(events: expected - 1, head: head, broken: broken)
    }
}

/// A mutex around the one connection (libpq connections are not thread-safe).
final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

extension PostgresStore {
    /// The server process serving this connection (`pg_stat_activity.pid`), for an operator
    /// who needs to find or end it.
    public func backendPID() throws(LedgerError) -> Int32 {
        try lock.run { () throws(LedgerError) in TPQbackendPID(connection.handle) }
    }
}

extension PostgresStore {
    public func adoptKeys(_ keys: [String: [UInt8]]) throws -> Int {
        try lock.run { () throws(LedgerError) -> Int in
            try connection.run("BEGIN", during: "taking person keys")
            do throws(LedgerError) {
                var taken = 0
                for (person, key) in keys.sorted(by: { $0.key < $1.key }) where key.count == 32 {
                    let r = try connection.exec("""
                        INSERT INTO person_keys (person_id, key)
                        SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM rule_entities WHERE kind = 'person' AND key = $1 AND state & 2 = 0)
                        ON CONFLICT DO NOTHING RETURNING 1
                        """, [.text(person), .bytes(key)], during: "taking person keys")
                    taken += r.count
                }
                try connection.run("COMMIT", during: "taking person keys")
                return taken
            } catch {
                try? connection.run("ROLLBACK", during: "taking person keys")
                throw error
            }
        }
    }
}

/// The shared log behind the same interface as the SQLite file: every command that reads or
/// appends through ``LedgerStore`` works on either.
extension PostgresStore: LedgerStore {}
