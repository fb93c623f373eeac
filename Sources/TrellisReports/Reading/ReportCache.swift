import CLZ4
import Foundation
import GRDB
import TrellisCore
import TrellisLedger
import TrellisProjections
#if canImport(Glibc)
import Glibc
#endif

/// Reports as a cold run wrote them, kept in the ledger file (`report_cache`, migration v4)
/// so that a repeated report on an unchanged log costs a look-up, not a recomputation.
///
/// An entry is served only for the exact state it was computed from: its key is SHA-256 of
/// the request (report, options, format, command line: whatever the caller says shapes the
/// bytes), the read side's position (head seq **and** hash), every read model's definition
/// digest and checkpoint, and this build (release, and the binary's size, time and inode). So an append, a retraction (an append),
/// a changed definition, or a hand-edited checkpoint gives another key, and the entry is
/// never read again (the next store removes it). Its `check_sum`, a 64-bit hash of key and
/// output, is recomputed on every read: a hand edit of an entry that does not redo it is not served
/// (``Lookup/damaged``). A consistent forgery is derived state like a hand-edited read model:
/// `trellis verify` empties the cache and says so, `projections rebuild` empties it too, and
/// `--no-cache` bypasses it. Only live read models are cached, never a time-travel snapshot.
///
/// Entries are stored LZ4-compressed (``pack(_:)``: the output's length, then one LZ4 block):
/// a region's summary is 41 MB of JSON and 3.7 MB packed, so a repeat reads a tenth of the
/// pages (SQLite reads a blob's overflow pages one at a time) and the ledger file keeps a
/// tenth of the bytes. The check sum covers the stored bytes; unpacking is bounded by
/// ``largestOutput`` and refuses anything but exactly the length the entry states.
///
/// ## Topics
/// - ``lookup(_:request:)``
/// - ``store(_:key:output:)``
/// - ``clear(_:)``
/// - ``entries(_:)``
public enum ReportCache {
    /// What a look-up found.
    public enum Lookup {
        /// The bytes a cold run wrote for this key (the key, to replace them if they turn out unusable).
        case hit([UInt8], Key)
        /// Not cached (or cached for another state): compute, then ``store(_:key:output:)``.
        case miss(Key)
        /// An entry under this key whose check sum does not match its bytes: not served;
        /// compute, and storing replaces it.
        case damaged(Key)
        /// Nothing can be cached: a time-travel snapshot, or a file without the table (read-only, older).
        case unavailable
    }

    /// The key of one request against one state of the read models.
    public struct Key: Sendable, Equatable {
        public var bytes: [UInt8]
        public var headSeq: Int64
        public var headHash: [UInt8]
        public var request: String
    }

    /// Entries are kept for the current position only, and at most this many.
    static let capacity = 64
    /// Outputs larger than this are not kept (a GraphML of a whole region is cheap to
    /// recompute next to the file it would add).
    static let largestOutput = 64 << 20

    /// Looks `request` up for the read models as they are now (one read transaction).
    public static func lookup(_ source: ReportSource, request: String) throws -> Lookup {
        guard source.snapshot == nil else { return .unavailable }
        return try source.engine.readSide.read { db -> Lookup in
            guard let key = try key(request: request, db) else { return .unavailable }
            // A cursor lends the blob (tens of MB for a region's graph): copied once.
            let rows = try Row.fetchCursor(db, sql: "SELECT output, check_sum, head_seq, head_hash, length(output) FROM report_cache WHERE key = ?",
                                           arguments: [Data(key.bytes)])
            guard let row = try rows.next() else { return .miss(key) }
            // Never kept above the limit: a larger entry was put there by hand, and is not read.
            guard let length = row[4] as Int64?, length <= largestStored else { return .damaged(key) }
            guard (row[2] as Int64?) == key.headSeq, bytes(row[3]) == key.headHash else { return .damaged(key) }
            let sum = bytes(row[1])
            // Checked and unpacked where SQLite lends the bytes: not copied first.
            let output = try row.withUnsafeData(atIndex: 0) { d -> [UInt8]? in
                guard let d else { return nil }
                return d.withUnsafeBytes { stored in
                    sum == checkSum(key: key.bytes, stored: stored) ? unpack(stored) : nil
                }
            }
            guard let output else { return .damaged(key) }
            return .hit(output, key)
        }
    }

    /// Keeps `output` under `key` if the read models are still in the state the key names,
    /// and removes entries of any other position. Best effort: false (nothing written) when
    /// the state moved on, the file is read-only or busy, or the output is too large.
    @discardableResult
    public static func store(_ source: ReportSource, key: Key, output: [UInt8]) -> Bool {
        guard source.snapshot == nil, output.count <= largestOutput else { return false }
        let stored = try? source.engine.readSide.writeIfFree { db -> Bool in
            guard let now = try Self.key(request: key.request, db), now == key else { return false }
            try db.execute(sql: "DELETE FROM report_cache WHERE head_seq <> ? OR head_hash <> ?",
                           arguments: [key.headSeq, Data(key.headHash)])
            let packed = pack(output)
            try db.execute(sql: "INSERT OR REPLACE INTO report_cache(key, head_seq, head_hash, request, output, check_sum) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [Data(key.bytes), key.headSeq, Data(key.headHash), key.request, Data(packed),
                                       Data(checkSum(key: key.bytes, output: packed))])
            try db.execute(sql: "DELETE FROM report_cache WHERE rowid NOT IN (SELECT rowid FROM report_cache ORDER BY rowid DESC LIMIT ?)",
                           arguments: [capacity])
            return true
        }
        return stored.flatMap { $0 } ?? false
    }

    /// Empties the cache of `readSide`; returns how many entries there were (0 when the file
    /// has no cache; an empty cache is not written to, so a read-only file is no error).
    @discardableResult
    public static func clear(_ readSide: ReadSide) throws -> Int {
        let held = try readSide.read { db in
            try db.tableExists("report_cache") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM report_cache") ?? 0 : 0
        }
        guard held > 0 else { return 0 }
        return try readSide.write { db in
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM report_cache") ?? 0
            try db.execute(sql: "DELETE FROM report_cache")
            return n
        }
    }

    /// The requests cached in `readSide`, oldest first.
    public static func entries(_ readSide: ReadSide) throws -> [String] {
        try readSide.read { db in
            guard try db.tableExists("report_cache") else { return [] }
            return try String.fetchAll(db, sql: "SELECT request FROM report_cache ORDER BY rowid")
        }
    }

    /// SHA-256 over the format, this release, the position, every read model's definition
    /// and checkpoint (`projection_state`, in `db`'s transaction) and the request; nil when
    /// `db` has no cache table.
    static func key(request: String, _ db: Database) throws -> Key? {
        guard try db.tableExists("report_cache") else { return nil }
        let position = try ReadSide.position(db)
        let hash = position.seq > 0 ? position.hash : CanonicalEnvelope.genesis
        var text = "trellis-report-cache/2\n\(TrellisVersion.release) \(buildIdentity)\n\(position.seq)\n\(Hex.encode(hash))\n"
        for row in try Row.fetchAll(db, sql: "SELECT name, definition_digest, checkpoint_seq FROM projection_state ORDER BY name") {
            let name: String = row[0], digest: String = row[1], checkpoint: Int64 = row[2]
            text += "\(name.utf8.count):\(name) \(digest) \(checkpoint)\n"
        }
        text += "\(request.utf8.count):\(request)"
        return Key(bytes: sha256(Array(text.utf8)), headSeq: position.seq, headHash: hash, request: request)
    }

    /// The check of an entry: a 64-bit hash of key and output, 8 bytes at a time (SHA-256 of
    /// a 40 MB summary cost ~130 ms here, more than the rest of a repeat). Not cryptographic,
    /// and need not be: whoever can edit the file can redo any unkeyed hash, SHA-256 included;
    /// it catches an edit that does not, and verify handles the rest (see the type's comment).
    /// The running binary's size, modification time and inode: a build that renders
    /// differently under the same release number (a development build) does not read the
    /// entries of another.
    static let buildIdentity: String = {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "-" }
        return "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)"
    }()

    static func checkSum(key: [UInt8], output: [UInt8]) -> [UInt8] {
        output.withUnsafeBytes { checkSum(key: key, stored: $0) }
    }

    static func checkSum(key: [UInt8], stored: UnsafeRawBufferPointer) -> [UInt8] {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(stored.count)
        @inline(__always) func mix(_ w: UInt64) {
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        func mixAll(_ p: UnsafeRawBufferPointer) {
            let words = p.count / 8
            for i in 0..<words { mix(p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian) }
            var tail: UInt64 = 0
            for i in (words * 8)..<p.count { tail |= UInt64(p[i]) << (8 * UInt64(i - words * 8)) }
            mix(tail ^ (UInt64(p.count) << 56))
        }
        key.withUnsafeBytes { mixAll($0) }
        mixAll(stored)
        h = (h ^ (h >> 33)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        return withUnsafeBytes(of: h.littleEndian) { Array($0) }
    }

    /// The most a stored entry may take: an output of ``largestOutput`` bytes, packed.
    static let largestStored = 8 + Int(LZ4_compressBound(Int32(largestOutput)))

    /// `output` as stored: its length (8 bytes, little-endian), then one LZ4 block.
    static func pack(_ output: [UInt8]) -> [UInt8] {
        let bound = Int(LZ4_compressBound(Int32(clamping: output.count)))
        var packed = [UInt8](repeating: 0, count: 8 + bound)
        let n = packed.withUnsafeMutableBytes { out -> Int in
            out.storeBytes(of: UInt64(output.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            return output.withUnsafeBytes { input in
                Int(LZ4_compress_default(input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                         (out.baseAddress! + 8).assumingMemoryBound(to: CChar.self),
                                         Int32(clamping: input.count), Int32(clamping: bound)))
            }
        }
        packed.removeLast(packed.count - 8 - max(0, n))
        return packed
    }

    /// The output a stored entry holds; nil unless it unpacks to exactly the length it states,
    /// at most ``largestOutput`` (LZ4's safe decoder never writes past the buffer it is given).
    static func unpack(_ stored: UnsafeRawBufferPointer) -> [UInt8]? {
        guard stored.count >= 8, stored.count <= largestStored, let base = stored.baseAddress else { return nil }
        let length = UInt64(littleEndian: stored.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard length <= UInt64(largestOutput) else { return nil }
        let n = Int(length)
        if n == 0 { return [] }
        var ok = false
        let output = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            let got = LZ4_decompress_safe((base + 8).assumingMemoryBound(to: CChar.self),
                                          UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                                          Int32(stored.count - 8), Int32(n))
            ok = got == Int32(n)
            initialized = ok ? n : 0
        }
        return ok ? output : nil
    }

    /// SHA-256 of `bytes` (Core's chain step from 32 zero bytes: SHA-256(0³² ‖ bytes), a
    /// fixed prefix, so no second hashing dependency here).
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { CanonicalEnvelope.chain(CanonicalEnvelope.genesis, $0) }
    }

    static func bytes(_ value: DatabaseValue) -> [UInt8] {
        if case .blob(let d) = value.storage { return Array(d) }
        return []
    }
}
