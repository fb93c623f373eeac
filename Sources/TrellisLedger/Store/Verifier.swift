import CTrellisSQLite
import Crypto
import Foundation
import GRDB
import GRDBSQLite
import TrellisCore

/// The result of recomputing the chain.
public struct VerifyReport: Sendable, Equatable {
    public var events: Int64
    public var head: [UInt8]
    /// The first bad position and why, or nil when the log is intact.
    public var broken: (seq: Int64, why: String)?
    /// Problems not tied to one event (an append-only trigger dropped or replaced, or an extra
    /// trigger on the ledger's own tables).
    public var warnings: [String]
    /// What SQLite's structural check of the file found (``Ledger/fileStructureProblems(limit:)``):
    /// a damaged page the log's rows do not cross, such as one of an index. Full verify only.
    public var damage: [String] = []

    public var ok: Bool { broken == nil && warnings.isEmpty && damage.isEmpty }

    public static func == (a: VerifyReport, b: VerifyReport) -> Bool {
        a.events == b.events && a.head == b.head && a.broken?.seq == b.broken?.seq && a.broken?.why == b.broken?.why
            && a.warnings == b.warnings && a.damage == b.damage
    }
}

/// The rows a full verify's chain check covers (seq 1…`head`, the head read once), handed to
/// the replay of the same verify by ``Ledger/verify(alongside:parallelism:)`` — only it makes
/// one — so that the replay may take the stored hashes of exactly those rows as given. Valid
/// for that call only: its replay's result is returned only if the chain check passes.
public final class ChainCheckedRange: @unchecked Sendable {
    /// The last seq the chain check covers.
    public let head: Int64
    private let lock = NSLock()
    private var hashAtHead: [UInt8]?

    init(head: Int64) { self.head = head }

    /// The stored hash of seq `head` as the replay read it (nil: it did not reach it).
    var replayedHeadHash: [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        return hashAtHead
    }

    func replayed(headHash: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        hashAtHead = headHash
    }
}

extension Ledger {
    /// How many ranges of seq the chain is checked in at once: the cores online, at most 8.
    public static var verifyParallelism: Int {
        max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Recomputes every hash from seq 1 and checks that seq has no gap; reports the first bad
    /// position. Also compares the triggers on the ledger's own tables, in full SQL, with
    /// those the migrations create. `progress(done, head)` is called every 64 k events.
    ///
    /// The stored chain is checked in parallel: row n needs only the *stored* hash of n − 1,
    /// so the log (through the head read once, in this read transaction) is checked by up to
    /// `parallelism` threads, each on its own read-only connection, taking in seq order
    /// chunks of at least `minimumRange` events (up to 8 per thread, so that the threads
    /// finish together). Every chunk also looks at the first row past its end, so a gap at a
    /// boundary is named as a sequential pass names it; the lowest bad seq among the chunks
    /// is the one reported. The report does not depend on `parallelism`.
    ///
    /// `through` checks seq 1…`through` instead of 1…the head this read sees (full verify
    /// reads the head once and gives it to this check and to the replay, ``verify(alongside:parallelism:)``);
    /// rows missing up to it are named as gaps.
    public func verify(parallelism: Int = Ledger.verifyParallelism, minimumRange: Int64 = 32_768, through: Int64? = nil,
                       progress: ((Int64, Int64) -> Void)? = nil) throws(LedgerError) -> VerifyReport {
        // Normally done when the binary loaded (a C constructor); referenced here so that the
        // linker keeps it. Refused, harmlessly, once SQLite is initialised.
        _ = ctrellis_sqlite_memstatus_off()
        return try read { db in
            let head = try through ?? Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
            let warnings = try Ledger.triggerProblems(db)
            guard let connection = db.sqliteConnection else { throw LedgerError.database("the ledger's connection is closed") }
            // The log is cut into chunks (several per thread) that the threads take in turn, so
            // they finish together even when the rows are not alike or one core is busier.
            let threads = Int(min(Int64(max(1, parallelism)), max(1, head / max(1, minimumRange))))
            let chunks = threads == 1 ? 1 : Int(min(Int64(threads * 8), max(Int64(threads), head / max(1, minimumRange))))
            let bounds = (0...chunks).map { head * Int64($0) / Int64(chunks) }
            let work = ChunkQueue(count: chunks)
            let counter = VerifyCounter()
            // Threads 2… on workers, each with its own read-only connection and read
            // transaction; thread 1 on this connection.
            var workers: [(worker: Pipeline.Worker, box: RangeBox)] = []
            for _ in 1..<threads {
                let box = RangeBox()
                let path = self.path
                do {
                    let worker = try Pipeline.Worker {
                        box.error = Ledger.verifyChunks(path: path, bounds: bounds, head: head, work: work, counter: counter)
                    }
                    workers.append((worker, box))
                } catch {
                    // No thread: the others take its chunks.
                }
            }
            var firstError: (any Error)?
            do {
                try Ledger.verifyChunks(connection, bounds: bounds, head: head, work: work, counter: counter) { done in progress?(done, head) }
            } catch { firstError = error; work.stop() }
            for w in workers {
                w.worker.join()
                if firstError == nil, let e = w.box.error { firstError = e }
            }
            if let firstError { throw firstError }
            // A worker that could not open its connection took no chunk; one that failed
            // mid-way threw. Any chunk still unchecked is checked here.
            for k in 0..<chunks where work.outcome(k) == nil && !work.isBeyondBreak(k) {
                work.record(k, try Ledger.verifyRange(connection, after: bounds[k], through: bounds[k + 1], head: head, counter: counter, progress: nil))
            }
            var previousEnd = CanonicalEnvelope.genesis
            for k in 0..<chunks {
                switch work.outcome(k) {
                case .intact(let last)?:
                    previousEnd = last
                case .broken(let seq, let why, let before)?:
                    return VerifyReport(events: seq - 1, head: before, broken: (seq, why), warnings: warnings)
                case .cannotStart?, nil:
                    // Its first row's predecessor is missing: the range before names the gap.
                    // Reached only if the log changed under a read transaction.
                    return VerifyReport(events: bounds[k], head: previousEnd, broken: (bounds[k], "event \(bounds[k]) is missing (deleted?)"), warnings: warnings)
                }
            }
            return VerifyReport(events: head, head: previousEnd, broken: nil, warnings: warnings)
        }
    }

    /// Full verify's chain check and derived-state check at once, coupled: the head is read
    /// once and given to both as a ``ChainCheckedRange``; the chain over seq 1…head is checked
    /// on a worker thread (``verify(parallelism:minimumRange:through:progress:)``) while
    /// `derived` runs on this one (its replay takes the stored hashes of those rows as given
    /// rather than recomputing them: ``verifyDerivedState(limit:chain:replayOnEveryCore:progress:)``). Its result
    /// is returned only when the chain and schema check finds nothing: with a broken chain it is
    /// `nil`, so a broken chain is reported alone and nothing the replay trusted is reported.
    /// The replay's stored hash at the head must equal the chain check's head (both read the
    /// same rows), else the log changed under the verify (``LedgerError/corrupt(path:reason:)``).
    public func verify<T>(alongside derived: (ChainCheckedRange) throws -> T,
                          parallelism: Int = Ledger.verifyParallelism) throws -> (report: VerifyReport, derived: Result<T, any Error>?) {
        let head = try read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0 }
        let range = ChainCheckedRange(head: head)
        let box = ResultBox<VerifyReport>()
        let worker = try? Pipeline.Worker {
            box.result = Result { () throws(LedgerError) in try self.verify(parallelism: parallelism, through: head) }
        }
        // The file's structure, on a thread of its own: every page of every table and index,
        // including those no other check reads (a damaged page of the `id` index passed
        // unseen: the chain reads the table, the replay builds its own index).
        let structure = ResultBox<[String]>()
        let structureWorker = try? Pipeline.Worker {
            structure.result = Result { () throws(LedgerError) in try self.fileStructureProblems() }
        }
        let result = Result { try derived(range) }
        worker?.join()
        structureWorker?.join()
        var report = try (box.result ?? Result { () throws(LedgerError) in try verify(parallelism: parallelism, through: head) }).get()
        report.damage = try (structure.result ?? Result { () throws(LedgerError) in try fileStructureProblems() }).get()
        // A damaged file is reported alone, as a broken chain is: what the other checks read
        // from it is not to be trusted.
        guard report.ok else { return (report, nil) }
        if let seen = range.replayedHeadHash, seen != report.head {
            throw LedgerError.corrupt(path: path, reason: "the events up to seq \(head) changed while verify read them (the stored hash at seq \(head) is not the one the chain check read): something wrote to the log behind Trellis's back; run verify again")
        }
        return (report, result)
    }

    /// Takes chunks from `work` until none is left, checking each on `c` (inside the caller's
    /// read transaction).
    static func verifyChunks(_ c: OpaquePointer, bounds: [Int64], head: Int64, work: ChunkQueue, counter: VerifyCounter,
                             progress: ((Int64) -> Void)?) throws {
        while let k = work.next() {
            let outcome = try verifyRange(c, after: bounds[k], through: bounds[k + 1], head: head, counter: counter, progress: progress)
            work.record(k, outcome)
        }
    }

    /// The same on a new read-only connection to `path`, in its own read transaction; the
    /// error, if any (none when the connection cannot be opened: the other threads go on).
    static func verifyChunks(path: String, bounds: [Int64], head: Int64, work: ChunkQueue, counter: VerifyCounter) -> (any Error)? {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let c = connection else {
            sqlite3_close(connection)
            return nil
        }
        defer { sqlite3_close(c) }
        sqlite3_busy_timeout(c, Int32(min(Double(Int32.max), busyTimeout * 1000)))
        guard sqlite3_exec(c, "BEGIN", nil, nil, nil) == SQLITE_OK else { return nil }
        defer { sqlite3_exec(c, "COMMIT", nil, nil, nil) }
        do {
            try verifyChunks(c, bounds: bounds, head: head, work: work, counter: counter, progress: nil)
            return nil
        } catch {
            work.stop()
            return error
        }
    }

    /// The chunks of the log still to check, handed out in seq order, and their verdicts.
    /// Once a chunk is broken, no chunk after it is handed out: the lowest break is reported.
    final class ChunkQueue: @unchecked Sendable {
        private let lock = NSLock()
        private var nextChunk = 0
        private var stopped = false
        private var lowestBreak = Int.max
        private var outcomes: [RangeOutcome?]

        init(count: Int) { outcomes = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard !stopped, nextChunk < outcomes.count, nextChunk < lowestBreak else { return nil }
            nextChunk += 1
            return nextChunk - 1
        }

        func record(_ k: Int, _ outcome: RangeOutcome) {
            lock.lock(); defer { lock.unlock() }
            outcomes[k] = outcome
            if case .intact = outcome {} else { lowestBreak = min(lowestBreak, k) }
        }

        func outcome(_ k: Int) -> RangeOutcome? {
            lock.lock(); defer { lock.unlock() }
            return outcomes[k]
        }

        /// After a broken chunk: not needed for the report.
        func isBeyondBreak(_ k: Int) -> Bool {
            lock.lock(); defer { lock.unlock() }
            return k > lowestBreak
        }

        func stop() {
            lock.lock(); defer { lock.unlock() }
            stopped = true
        }
    }

    /// One range's verdict.
    enum RangeOutcome: Sendable {
        /// Every row checked; the stored (= computed) hash of the last.
        case intact([UInt8])
        /// The first bad seq in the range, why, and the hash of the row before it.
        case broken(Int64, String, [UInt8])
        /// The row before the range is not there (a gap the range before reports).
        case cannotStart
    }

    /// What a worker thread found, read once the thread is joined.
    final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, LedgerError>?
    }

    /// SQLite's structural check of the file, `PRAGMA quick_check`: every page of every table
    /// and index well formed, every cell in order, the free list sound (not whether each index
    /// agrees with its table: full verify's replay rebuilds what the rules read, and compares).
    /// The problems it names, at most `limit`; none when the file is sound. About 0.4 s for
    /// 1 M events, on one core.
    ///
    /// On a read-only connection of its own (as the chain check's other threads), so that it
    /// runs beside the checks that hold the ledger's connection instead of after them; on that
    /// connection when another cannot be opened.
    public func fileStructureProblems(limit: Int = 20) throws(LedgerError) -> [String] {
        let sql = "PRAGMA quick_check(\(max(1, limit)))"
        var rows: [String] = []
        var connection: OpaquePointer?
        if sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let c = connection {
            defer { sqlite3_close(c) }
            sqlite3_busy_timeout(c, Int32(min(Double(Int32.max), Ledger.busyTimeout * 1000)))
            var s: OpaquePointer?
            var rc = sqlite3_prepare_v2(c, sql, -1, &s, nil)
            if rc == SQLITE_OK, let s {
                defer { sqlite3_finalize(s) }
                repeat {
                    rc = sqlite3_step(s)
                    if rc == SQLITE_ROW, let text = Raw.string(s, 0) { rows.append(text) }
                } while rc == SQLITE_ROW
            }
            guard rc == SQLITE_DONE else {
                throw Ledger.translate(DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(c))), path: path)
            }
        } else {
            sqlite3_close(connection)
            rows = try read { db in try String.fetchAll(db, sql: sql) }
        }
        guard rows != ["ok"] else { return [] }
        // A row may hold several lines, the first naming the schema ("*** in database main ***").
        return rows.flatMap { $0.split(separator: "\n").map(String.init) }.filter { !$0.hasPrefix("*** in database") }
    }

    final class RangeBox: @unchecked Sendable {
        var error: (any Error)?
    }

    /// Events checked so far by every range, for the progress line.
    final class VerifyCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Int64 = 0
        func add(_ n: Int64) -> Int64 {
            lock.lock(); defer { lock.unlock() }
            value += n
            return value
        }
    }

    /// A value's bytes by pointer (valid while SQLite holds the value: during the function
    /// call that was given it); a NULL or empty value as an empty buffer.
    @inline(__always)
    static func bytes(_ v: OpaquePointer?) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_value_blob(v) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: Int(sqlite3_value_bytes(v)))
    }

    /// Checks that seq `after`+1 … `through` are all there and that each row's stored hash is
    /// SHA-256(stored hash of the row before ‖ its canonical envelope), the envelope built from
    /// the stored columns. Reads one row past `through` (up to `head`) for a gap at the end.
    static func verifyRange(_ c: OpaquePointer, after: Int64, through: Int64, head: Int64, counter: VerifyCounter,
                            progress: ((Int64) -> Void)?) throws -> RangeOutcome {
        func failure(_ rc: Int32) -> DatabaseError {
            DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(c)))
        }
        func prepare(_ sql: String) throws -> OpaquePointer {
            var s: OpaquePointer?
            let rc = sqlite3_prepare_v2(c, sql, -1, &s, nil)
            guard rc == SQLITE_OK, let s else { throw failure(rc) }
            return s
        }
        // The previous row's stored hash, then each row's envelope, in one buffer reused row
        // after row and hashed in one call.
        var buffer = ChainBuffer()
        if after > 0 {
            let s = try prepare("SELECT hash FROM events WHERE seq = ?")
            defer { sqlite3_finalize(s) }
            sqlite3_bind_int64(s, 1, after)
            let rc = sqlite3_step(s)
            guard rc == SQLITE_ROW else {
                if rc == SQLITE_DONE { return .cannotStart }
                throw failure(rc)
            }
            // Not 32 bytes: the range before reports it; anything chained on it differs anyway.
            buffer.setPrevious(Raw.column(s, 0) ?? UnsafeBufferPointer(start: nil, count: 0))
        } else {
            let genesis = CanonicalEnvelope.genesis
            genesis.withUnsafeBufferPointer { buffer.setPrevious($0) }
        }
        // Each row is checked by SQLite itself, calling `trellis_chain_step` as it scans: no
        // row comes back out of `sqlite3_step` but the one where the check stops, and the
        // columns reach the check as the values SQLite already holds (nine API calls a row
        // fewer). The function keeps the same state the loop did: the expected seq, the hash
        // to chain on, the verdict. It is registered on this connection only, and only for
        // statements run here (SQLITE_DIRECTONLY: no view or trigger in the file can call it).
        let check = RangeCheck(previous: buffer, expected: after + 1, through: through, counter: counter, progress: progress)
        // SQLite holds the check (released when the function is replaced or dropped, or the
        // connection closes), so the function never outlives what it points to.
        let registered = sqlite3_create_function_v2(c, RangeCheck.functionName, 9, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                                    Unmanaged.passRetained(check).toOpaque(), chainStep, nil, nil, releaseCheck)
        guard registered == SQLITE_OK else { throw failure(registered) }
        defer { sqlite3_create_function_v2(c, RangeCheck.functionName, 9, SQLITE_UTF8, nil, nil, nil, nil, nil) }
        let s = try prepare("""
            SELECT seq FROM events WHERE seq > ? AND seq <= ?
            AND NOT \(RangeCheck.functionName)(seq, id, type, v, occurred_at, recorded_at, actor, data, hash) ORDER BY seq LIMIT 1
            """)
        defer { sqlite3_finalize(s) }
        sqlite3_bind_int64(s, 1, after)
        sqlite3_bind_int64(s, 2, head)
        let rc = sqlite3_step(s)
        guard rc == SQLITE_ROW || rc == SQLITE_DONE else { throw failure(rc) }
        _ = counter.add(check.sinceReport)
        if let verdict = check.verdict { return verdict }
        // The rows of this range ended early: the gap runs to the range's end (the row after
        // it would have been read above had it been there, up to the head).
        let expected = check.expected
        if expected <= through {
            let why = expected == through ? "event \(expected) is missing (deleted?)" : "events \(expected)–\(through) are missing (deleted?)"
            return .broken(expected, why, check.buffer.previous)
        }
        return .intact(check.buffer.previous)
    }
}

/// One range's chain check as SQLite runs it, row by row in seq order (``chainStep``): checks
/// that seq follows the one before and that the stored hash is SHA-256(the stored hash of the
/// row before ‖ the canonical envelope of the stored columns). The step returns 0 where the
/// check stops: at the first bad row (``verdict`` says why), or at the first row past
/// `through`, read only to see a gap at the range's end.
///
/// Used by one thread, through one connection, during one `sqlite3_step`: its properties are
/// not checked for exclusive access at run time.
final class RangeCheck {
    static let functionName = "trellis_chain_step"
    @exclusivity(unchecked) var buffer: ChainBuffer
    @exclusivity(unchecked) var expected: Int64
    let through: Int64
    let counter: Ledger.VerifyCounter
    let progress: ((Int64) -> Void)?
    @exclusivity(unchecked) var verdict: Ledger.RangeOutcome?
    @exclusivity(unchecked) var sinceReport: Int64 = 0

    init(previous: consuming ChainBuffer, expected: Int64, through: Int64, counter: Ledger.VerifyCounter, progress: ((Int64) -> Void)?) {
        buffer = previous
        self.expected = expected; self.through = through; self.counter = counter; self.progress = progress
    }

    /// One row: 1 to go on, 0 to stop (with ``verdict`` set, unless the row is past `through`).
    func step(_ v: UnsafeMutablePointer<OpaquePointer?>) -> Int32 {
        let seq = sqlite3_value_int64(v[0])
        if seq != expected {
            let why = seq > expected
                ? (expected == seq - 1 ? "event \(expected) is missing (deleted?)" : "events \(expected)–\(seq - 1) are missing (deleted?)")
                : "seq out of order"
            verdict = .broken(expected, why, buffer.previous)
            return 0
        }
        // The row past the range was only looked at for a gap.
        if seq > through { return 0 }
        // Columns the schema makes NOT NULL read as bytes (a NULL as none), by pointer; only
        // `actor` asks for its type.
        let actor = v[6]
        let digest = buffer.hash(seq: seq, id: Ledger.bytes(v[1]), type: Ledger.bytes(v[2]), v: sqlite3_value_int64(v[3]),
                                 occurredAt: Ledger.bytes(v[4]), recordedAt: Ledger.bytes(v[5]),
                                 actor: sqlite3_value_type(actor) == SQLITE_NULL ? nil : Ledger.bytes(actor), data: Ledger.bytes(v[7]))
        let stored = Ledger.bytes(v[8])
        let same = digest.withUnsafeBufferPointer { d in
            guard stored.count == 32, d.count == 32, let a = d.baseAddress, let b = stored.baseAddress else { return false }
            return memcmp(a, b, 32) == 0
        }
        if !same {
            let why = stored.count != 32
                ? "the stored hash is not 32 bytes"
                : "the stored hash does not match the event's content and the chain before it (changed or inserted?)"
            verdict = .broken(seq, why, buffer.previous)
            return 0
        }
        buffer.setPrevious(stored)
        expected += 1
        sinceReport += 1
        if sinceReport == 4096 {
            let done = counter.add(sinceReport)
            sinceReport = 0
            if let progress, seq & 0xFFFF == 0 { progress(done) }
        }
        return 1
    }
}

/// Lets go of the ``RangeCheck`` SQLite held for `trellis_chain_step`.
private func releaseCheck(_ check: UnsafeMutableRawPointer?) {
    guard let check else { return }
    Unmanaged<RangeCheck>.fromOpaque(check).release()
}

/// `trellis_chain_step(seq, id, type, v, occurred_at, recorded_at, actor, data, hash)`: the
/// ``RangeCheck`` registered with it takes the row (borrowed: SQLite holds it).
private func chainStep(_ context: OpaquePointer?, _ count: Int32, _ values: UnsafeMutablePointer<OpaquePointer?>?) {
    guard let context, count == 9, let values, let check = sqlite3_user_data(context) else {
        sqlite3_result_error(context, "trellis_chain_step: called without its check", -1)
        return
    }
    sqlite3_result_int(context, Unmanaged<RangeCheck>.fromOpaque(check)._withUnsafeGuaranteedRef { $0.step(values) })
}
