import GRDB
import GRDBSQLite
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

// Full verify's replay of the log into its scratch ledger, on every core
// (``Ledger/replay(_:into:head:chain:progress:)``): the rows are read in seq order on the
// pipeline's reading thread, their columns copied into chunks as they come; any free thread
// turns a chunk's rows into events and examines them (``ArchiveExaminer``: the data parsed and
// checked, the envelope written where the hash is not vouched for); the calling thread links
// them into the chain and appends them to the scratch ledger, rule checks and rule tables, in
// order. Done on the calling thread alone, the examination was a third of the replay and the
// other core sat idle unless read models were being rebuilt beside it.

/// Up to ``ReplayChunk/rowsPerChunk`` rows of the log, copied as read; then, worked on
/// whichever thread took it, their events examined.
///
/// Filled by the reading thread, worked by one thread, consumed by the calling thread, each
/// handing it on through the pipeline's lock: no two ever touch it at once, so its arrays are
/// not checked for exclusive access at run time.
final class ReplayChunk: SharedChunk {
    static let rowsPerChunk = 1024
    /// A chunk is also cut once its columns reach this many bytes (a row's data may be up to
    /// 1 MiB), so what the pipeline holds stays bounded.
    static let chunkBytes = 1 << 20

    /// One row's columns: where each ends in ``bytes`` (id, type, occurred_at, recorded_at,
    /// actor, data, hash, back to back), and which were NULL (read as empty, as before).
    struct Row {
        var seq: Int64
        var v: Int64
        var ends: (id: Int, type: Int, occurredAt: Int, recordedAt: Int, actor: Int, data: Int, hash: Int)
        var actorIsNull: Bool
    }

    /// Rows up to this seq have their stored hash vouched for by the chain check running beside
    /// the replay (``ChainCheckedRange``), when their columns are their texts' exact bytes.
    let vouchedThrough: Int64?
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var rows: [Row] = []
    @exclusivity(unchecked) private var examiner = ArchiveExaminer()
    @exclusivity(unchecked) private var examined: [ExaminedEvent] = []
    /// For each examined event: whether its hash is vouched for (then it is not recomputed), and its type as read (for messages).
    @exclusivity(unchecked) private var vouched: [Bool] = []
    @exclusivity(unchecked) private var types: [String] = []

    init(vouchedThrough: Int64?) {
        self.vouchedThrough = vouchedThrough
        bytes.reserveCapacity(Self.rowsPerChunk * 256)
        rows.reserveCapacity(Self.rowsPerChunk)
    }

    var count: Int { rows.count }
    var byteCount: Int { bytes.count }

    /// Copies the current row of `s` (`seq, id, type, v, occurred_at, recorded_at, actor, data, hash`).
    func add(_ s: SQLiteStatement) {
        func put(_ i: Int32) -> Int {
            if let b = Raw.column(s, i) { bytes.append(contentsOf: b) }
            return bytes.count
        }
        let id = put(1), type = put(2), occurred = put(4), recorded = put(5)
        let actorIsNull = sqlite3_column_type(s, 6) == SQLITE_NULL
        let actor = put(6), data = put(7), hash = put(8)
        rows.append(Row(seq: Raw.int(s, 0), v: Raw.int(s, 3), ends: (id, type, occurred, recorded, actor, data, hash), actorIsNull: actorIsNull))
    }

    /// The examined events and their envelopes, freed by the thread that examined them.
    func dropWork() {
        examined = []
        examiner.envelopes = []
        vouched = []
        types = []
    }

    /// Each row as the event it records, examined on its own (``ArchiveExaminer/examine(_:data:line:envelope:)``).
    func work() {
        examined.reserveCapacity(rows.count)
        vouched.reserveCapacity(rows.count)
        types.reserveCapacity(rows.count)
        examiner.envelopes.reserveCapacity(bytes.count + rows.count * 160)
        // The last text read from each of these columns that was the column's exact bytes
        // (``LastSeen``): a batch shares one recorded_at, and type, occurred_at and actor mostly
        // repeat from one event to the next, so the string is reused instead of made again.
        var type = LastSeen<String>(), occurred = LastSeen<String>(), recorded = LastSeen<String>(), actor = LastSeen<String>()
        bytes.withUnsafeBufferPointer { all in
            var start = 0
            for row in rows {
                var exact = true
                func part(_ end: Int) -> UnsafeBufferPointer<UInt8> {
                    defer { start = end }
                    return UnsafeBufferPointer(rebasing: all[start..<end])
                }
                /// The column's text when it is the column's exact bytes; nil when they are not
                /// valid UTF-8 (decoding repairs them: other bytes).
                func exactText(_ b: UnsafeBufferPointer<UInt8>) -> String? {
                    let t = String(decoding: b, as: UTF8.self)
                    let same = t.utf8.count == b.count && (t.utf8.withContiguousStorageIfAvailable { u -> Bool in
                        guard let p = u.baseAddress, let q = b.baseAddress else { return b.count == 0 }
                        return memcmp(p, q, b.count) == 0
                    } ?? t.utf8.elementsEqual(b))
                    return same ? t : nil
                }
                /// Not valid UTF-8: the repaired text, and the row is then not exact.
                func repaired(_ b: UnsafeBufferPointer<UInt8>) -> String {
                    exact = false
                    return String(decoding: b, as: UTF8.self)
                }
                func text(_ b: UnsafeBufferPointer<UInt8>, keptIn seen: inout LastSeen<String>) -> String {
                    seen.value(of: b, orTry: exactText) ?? repaired(b)
                }
                func text(_ b: UnsafeBufferPointer<UInt8>) -> String { exactText(b) ?? repaired(b) }
                let id = text(part(row.ends.id)), typeText = text(part(row.ends.type), keptIn: &type)
                let occurredText = text(part(row.ends.occurredAt), keptIn: &occurred), recordedText = text(part(row.ends.recordedAt), keptIn: &recorded)
                let actorBytes = part(row.ends.actor)
                let actorText: String? = row.actorIsNull ? nil : text(actorBytes, keptIn: &actor)
                let data = text(part(row.ends.data)), hash = Array(part(row.ends.hash))
                let e = RecordedEvent(seq: row.seq, id: id, type: typeText, v: row.v, occurredAt: occurredText, recordedAt: recordedText,
                                      actor: actorText, data: data, hash: hash)
                let vouch = (vouchedThrough.map { row.seq <= $0 } ?? false) && exact
                types.append(typeText)
                vouched.append(vouch)
                examined.append(examiner.examine(e, line: Int(clamping: row.seq), envelope: !vouch))
            }
        }
        bytes = []
        rows = []
        examined.withUnsafeBufferPointer(ArchiveExaminer.setLookahead)
    }

    /// Links the examined events onto `chain`, in order, handing each to `body` with its seq and
    /// type; `before` is told each event's seq and type first (for messages, should linking fail).
    func link(_ chain: inout ArchiveChain, before: (Int64, String) -> Void, _ body: (ChainedEvent) throws -> Void) throws {
        try examiner.envelopes.withUnsafeBufferPointer { envelopes in try examined.withUnsafeBufferPointer { examined in
            for i in examined.indices {
                before(examined[i].seq, types[i])
                let envelope = vouched[i] ? nil : UnsafeBufferPointer(rebasing: envelopes[examined[i].envelope])
                try body(try chain.link(examined[i], envelope: envelope, hashVouchedFor: vouched[i]))
            }
        } }
    }
}

extension Ledger {
    /// Reads the rows `s` yields (the log in seq order: `seq, id, type, v, occurred_at,
    /// recorded_at, actor, data, hash`) on a worker thread, examines them on any free thread, and
    /// hands each, linked onto `chain`, to `visit` on this one, in order. `before` is told each
    /// row's seq and type before it is linked. `s` belongs to a connection nothing else uses
    /// meanwhile: only the reading thread steps it.
    ///
    /// Without `pipelined`, everything runs on this thread, chunk after chunk, through the same
    /// steps: for a replay beside other work that keeps the other cores busy (the read-model
    /// rebuilds of `trellis verify`), which the pipeline's threads would only slow down.
    static func replayRows(_ s: SQLiteStatement, connection c: OpaquePointer, vouchedThrough: Int64?, pipelined: Bool,
                           helpers: Int = Pipeline.extraWorkers,
                           chain: inout ArchiveChain, before: (Int64, String) -> Void, visit: (ChainedEvent) throws -> Void) throws {
        /// The rows in chunks, each handed to `emit` (false: stop).
        func chunks(_ emit: (ReplayChunk) throws -> Bool) throws {
            var chunk = ReplayChunk(vouchedThrough: vouchedThrough)
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(c)))
                }
                chunk.add(s)
                if chunk.count == ReplayChunk.rowsPerChunk || chunk.byteCount >= ReplayChunk.chunkBytes {
                    guard try emit(chunk) else { return }
                    chunk = ReplayChunk(vouchedThrough: vouchedThrough)
                }
            }
            if chunk.count > 0 { _ = try emit(chunk) }
        }
        guard pipelined else {
            try chunks { chunk in
                chunk.work()
                try chunk.link(&chain, before: before, visit)
                return true
            }
            return
        }
        try Pipeline.runShared(capacity: 8, helpers: helpers, read: { (publish: (ReplayChunk) -> Bool) in
            try chunks { publish($0) }
        }, consume: { chunk in
            try chunk.link(&chain, before: before, visit)
            return true
        })
    }
}
