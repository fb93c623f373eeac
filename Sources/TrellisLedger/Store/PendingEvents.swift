import GRDB
import GRDBSQLite
import CTrellisSQLite
#if canImport(Glibc)
import Glibc
#endif

// The `events` rows of a batch into an empty log, inserted many to a statement.
//
// SQLite takes rows faster through one `INSERT … VALUES (…), (…), …` than through a statement a
// row: the table's cursor stays open on the last leaf from one row to the next, and the
// statement's start and finish are paid once for all. `make bench` measures it ("rows a
// statement": the raw C API, 988 k events, a rollback journal, 16 KiB pages, the inserts and the
// commit): 0.99 µs a row one at a time, 0.91 with 32 rows a statement, 0.83 with 64, 0.71 with
// 256; 8 rows a statement was slower than one, 1.32 µs (below some size SQLite plans the list
// of rows differently).
//
// The catch is the answer an insert owes its caller at once: whether the id was taken (``Batch``
// then skips the event or reports it, and the seq moves on only when it was not). A row held
// back cannot say. So rows are held back only while the answer is known without SQLite: the
// batch began on an empty `events` table, so only this batch's own ids can be taken, and a
// filter of every id inserted or held so far says "certainly new" (held) or "maybe taken".
// A "maybe" is looked up among the held rows and in the table (one index look-up): not there,
// the row is held too; there, everything held is written first, then the row is inserted
// alone, and SQLite answers as before. Every read of `events` by the storage writes what is
// held first, and the batch writes the rest before it commits (``SQLiteAppendStorage/finish()``).
// A multi-row insert has no `ON CONFLICT` clause: should a held row's id be taken after all,
// the statement fails and so does the batch, with nothing written.

/// Rows held back for the next multi-row insert, their texts and hashes back to back in one
/// buffer (copied: the caller's bytes need not outlive the call).
package final class PendingEvents {
    /// Rows a statement: the larger statement for the bulk, the smaller for what remains when
    /// a read forces a write; fewer than ``smallGroup`` go one at a time.
    package static let largeGroup = 256
    static let smallGroup = 32
    /// Held bytes are written once they reach this much, whatever the number of rows (a
    /// stored event is a few kilobytes at most once validated; this bounds it anyway).
    static let maxBytes = 4 << 20

    struct Row {
        var seq: Int64
        var v: Int64
        var hasActor: Bool
        /// Where the id, type, occurred_at, recorded_at, actor, data and hash end in ``bytes``
        /// (each starts where the one before ends; the first where the row before ends).
        var ends: (id: Int, type: Int, occurredAt: Int, recordedAt: Int, actor: Int, data: Int, hash: Int)
    }

    private(set) var rows: [Row] = []
    private(set) var bytes: [UInt8] = []
    private var ids: IdFilter

    init(idFilterBits: Int? = nil) {
        ids = IdFilter(bits: idFilterBits ?? IdFilter.defaultBits)
        rows.reserveCapacity(Self.largeGroup)
        bytes.reserveCapacity(Self.largeGroup * 384)
    }

    var isFull: Bool { rows.count >= Self.largeGroup || bytes.count >= Self.maxBytes }
    var isEmpty: Bool { rows.isEmpty }

    /// False when no row with `id` was inserted or held in this batch; true when one may have
    /// been. Either way, `id` counts as inserted from now on. `hash`: ``IdFilter/hash(_:)`` of
    /// `id`, when the caller has it already.
    func mayBeTaken(_ id: UnsafeBufferPointer<UInt8>, hash: UInt64? = nil) -> Bool { ids.testAndAdd(hash: hash ?? IdFilter.hash(id)) }

    /// Asks for the filter's block of an id about to be asked about (``IdFilter/prefetch(hash:)``).
    func prefetch(idHash: UInt64) { ids.prefetch(hash: idHash) }

    /// Holds a row; `texts` are its id, type, occurred_at, recorded_at, actor (empty when it
    /// has none), data and hash, in that order.
    func hold(seq: Int64, v: Int64, hasActor: Bool, _ id: UnsafeBufferPointer<UInt8>, _ type: UnsafeBufferPointer<UInt8>,
              _ occurredAt: UnsafeBufferPointer<UInt8>, _ recordedAt: UnsafeBufferPointer<UInt8>, _ actor: UnsafeBufferPointer<UInt8>,
              _ data: UnsafeBufferPointer<UInt8>, _ hash: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: id); let idEnd = bytes.count
        bytes.append(contentsOf: type); let typeEnd = bytes.count
        bytes.append(contentsOf: occurredAt); let occurredEnd = bytes.count
        bytes.append(contentsOf: recordedAt); let recordedEnd = bytes.count
        bytes.append(contentsOf: actor); let actorEnd = bytes.count
        bytes.append(contentsOf: data); let dataEnd = bytes.count
        bytes.append(contentsOf: hash)
        rows.append(Row(seq: seq, v: v, hasActor: hasActor, ends: (idEnd, typeEnd, occurredEnd, recordedEnd, actorEnd, dataEnd, bytes.count)))
    }

    /// Whether a held row has this id.
    func holds(_ id: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            for row in rows {
                let n = row.ends.id - start
                if n == id.count, let p = b.baseAddress, let q = id.baseAddress, memcmp(p + start, q, n) == 0 { return true }
                start = row.ends.hash
            }
            return false
        }
    }

    func removeAll() {
        rows.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Binds rows `range` to `statement`'s parameters, nine a row in the `events` column order
    /// (seq, id, type, v, occurred_at, recorded_at, actor, data, hash), pointing into ``bytes``
    /// (`SQLITE_STATIC`): valid until the rows are removed, and every parameter is bound again
    /// before the statement's next step.
    func bind(_ range: Range<Int>, to statement: SQLiteStatement, base: UnsafePointer<UInt8>) {
        var p: Int32 = 1
        func text(_ from: Int, _ to: Int) {
            sqlite3_bind_text(statement, p, UnsafeRawPointer(base + from).assumingMemoryBound(to: CChar.self), Int32(to - from), nil)
            p += 1
        }
        for r in range {
            let row = rows[r], e = row.ends
            let start = r == 0 ? 0 : rows[r - 1].ends.hash
            sqlite3_bind_int64(statement, p, row.seq); p += 1
            text(start, e.id)
            text(e.id, e.type)
            sqlite3_bind_int64(statement, p, row.v); p += 1
            text(e.type, e.occurredAt)
            text(e.occurredAt, e.recordedAt)
            if row.hasActor { text(e.recordedAt, e.actor) } else { sqlite3_bind_null(statement, p); p += 1 }
            text(e.actor, e.data)
            sqlite3_bind_blob(statement, p, UnsafeRawPointer(base + e.data), Int32(e.hash - e.data), nil); p += 1
        }
    }
}

/// Which ids a bulk batch has inserted or held: a Bloom filter of 2²⁵ bits (4 MiB) in 64-bit
/// blocks, each id setting three bits of one block, so that a look-up touches one cache line,
/// which the writer asks for ahead (``prefetch(hash:)``). "Certainly not" is exact; "maybe"
/// costs the row a look-up of its id, never a wrong answer. For 1 M generated ids about one in
/// 2,000 is a false "maybe"; the memory stays 4 MiB whatever the batch's size, and the rate
/// grows with it.
struct IdFilter {
    static let defaultBits = 1 << 25
    private let wordMask: UInt64
    private var words: [UInt64] = []

    /// `bits` rounded up to a power of two, at least 64.
    init(bits: Int) {
        var b = 64
        while b < bits && b < 1 << 32 { b <<= 1 }
        wordMask = UInt64(b / 64 - 1)
    }

    /// The hash an id is filed under (FNV-1a, mixed). Pure: the decoding threads work it out
    /// ahead (``PreparedData/idHash``).
    static func hash(_ id: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in id { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return h ^ h >> 32
    }

    /// Whether an id of this hash may have been added; then adds it.
    mutating func testAndAdd(hash h: UInt64) -> Bool {
        if words.isEmpty { words = [UInt64](repeating: 0, count: Int(wordMask) + 1) }
        let w = Int(truncatingIfNeeded: h & wordMask)
        let bits: UInt64 = 1 << (h >> 40 & 63) | 1 << (h >> 46 & 63) | 1 << (h >> 52 & 63)
        return words.withUnsafeMutableBufferPointer { words in
            let seen = words[w] & bits == bits
            words[w] |= bits
            return seen
        }
    }

    /// Asks for the block of an id of this hash to be brought into the cache: the writer does
    /// so two events ahead, as for its rule cache, and the look-up then finds it there (the
    /// filter's 4 MiB do not stay in cache beside SQLite's pages: its look-ups were a tenth of
    /// the writer's samples, perf, 1 M events).
    func prefetch(hash h: UInt64) {
        words.withUnsafeBufferPointer { words in
            guard let base = words.baseAddress else { return }
            ctrellis_prefetch(base + Int(truncatingIfNeeded: h & wordMask))
        }
    }
}
