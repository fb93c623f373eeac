import Crypto

/// An event as the log holds it: the envelope plus what the ledger added (seq, recorded_at,
/// hash). The one record type: the store reads it, `log` and archives print it, archive
/// import checks it (``ArchiveChain``-checked events wrap it with their line and decoding).
public struct RecordedEvent: Sendable, Equatable {
    public var seq: Int64
    public var id: String
    public var type: String
    public var v: Int64
    public var occurredAt: String
    public var recordedAt: String
    public var actor: String?
    /// Canonical JSON of `data`, personal fields as ciphertext (an archive line's `data` as
    /// the line has it, until the chain check has made it canonical).
    public var data: String
    public var hash: [UInt8]

    public init(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                actor: String?, data: String, hash: [UInt8]) {
        self.seq = seq; self.id = id; self.type = type; self.v = v; self.occurredAt = occurredAt
        self.recordedAt = recordedAt; self.actor = actor; self.data = data; self.hash = hash
    }

    public var hashHex: String { Hex.encode(hash) }
}

/// The canonical envelope the chain hashes, and the export line built on it: the one writer
/// of the hash-critical form (append, verify, `log --format ndjson`, archive export and import).
///
/// `{"actor":…,"data":…,"id":…,"occurred_at":…,"recorded_at":…,"seq":…,"type":…,"v":…}`:
/// keys in byte order, `actor` omitted when absent, `data` as stored (already canonical).
/// With a hash, the key `"hash"` is added in its sorted place (the form of
/// `log --format ndjson` and archives).
///
/// ## Topics
/// - ``write(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:newline:into:)``
/// - ``write(seq:id:type:v:occurredAt:recordedAt:actor:data:into:)``
/// - ``write(_:withHash:newline:into:)``
/// - ``bytes(_:withHash:)``
/// - ``chain(_:_:)``
public enum CanonicalEnvelope {
    /// From the stored columns (verify, export): each piece copied in one go, because export
    /// runs at the speed of this loop.
    public static func write(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                             occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                             actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>,
                             hash: UnsafeBufferPointer<UInt8>? = nil, newline: Bool = false, into out: inout [UInt8]) {
        composeAppending(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor,
                         data: data, hash: hash, newline: newline, into: &out)
    }

    /// From the stored columns, into the chain check's buffer (``ChainBuffer``).
    fileprivate static func write(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                                  occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                                  actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>, into out: inout PointerSink) {
        compose(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor,
                data: data, hash: nil as [UInt8]?, newline: false, into: &out)
    }

    /// From an event being appended: its text fields and its stored `data` bytes.
    public static func write(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                             actor: String?, data: [UInt8], into out: inout [UInt8]) {
        composeAppending(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt,
                         actor: actor, data: data, hash: nil as [UInt8]?, newline: false, into: &out)
    }

    /// From a recorded event.
    public static func write(_ e: RecordedEvent, withHash: Bool = false, newline: Bool = false, into out: inout [UInt8]) {
        composeAppending(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt,
                         recordedAt: e.recordedAt, actor: e.actor, data: e.data,
                         hash: withHash ? e.hash : nil, newline: newline, into: &out)
    }

    public static func bytes(_ e: RecordedEvent, withHash: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(e.data.utf8.count + 200)
        write(e, withHash: withHash, into: &out)
        return out
    }

    private static let open: StaticString = "{"
    private static let actorKey: StaticString = #""actor":"#
    private static let dataKey: StaticString = #""data":"#
    private static let hashKey: StaticString = #","hash":""#
    private static let hashEnd: StaticString = "\""
    private static let idKey: StaticString = #","id":""#
    private static let occurredKey: StaticString = #"","occurred_at":""#
    private static let recordedKey: StaticString = #"","recorded_at":""#
    private static let seqKey: StaticString = #"","seq":"#
    private static let typeKey: StaticString = #","type":""#
    private static let vKey: StaticString = #"","v":"#
    private static let hexDigits: StaticString = "0123456789abcdef"

    /// The writer itself, specialised by the compiler for column bytes and for text (each
    /// field's bytes borrowed on its own, so no nest of `withUTF8` closures), writing by
    /// pointer: into the chain check's buffer (``ChainBuffer``), or into room made for an
    /// array's append (``composeAppending(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:newline:into:)``).
    /// ids, types and timestamps never need escaping: their characters are checked on input.
    @inline(__always)
    private static func compose<Text: EnvelopeBytes, Data: EnvelopeBytes, Hash: Collection<UInt8>, Sink: EnvelopeSink>(
        seq: Int64, id: Text, type: Text, v: Int64, occurredAt: Text, recordedAt: Text, actor: Text?,
        data: Data, hash: Hash?, newline: Bool, into out: inout Sink
    ) {
        out.put(open)
        if let actor {
            out.put(actorKey)
            actor.appendQuoted(to: &out)
            out.put(UInt8(ascii: ","))
        }
        out.put(dataKey)
        data.append(to: &out)
        if let hash {
            out.put(hashKey)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { hex in
                let digits = hexDigits.utf8Start
                var n = 0
                for b in hash.prefix(32) {
                    hex[n] = digits[Int(b >> 4)]
                    hex[n + 1] = digits[Int(b & 15)]
                    n += 2
                }
                out.put(UnsafeBufferPointer(rebasing: hex[0..<n]))
            }
            out.put(hashEnd)
        }
        out.put(idKey)
        id.append(to: &out)
        out.put(occurredKey)
        occurredAt.append(to: &out)
        out.put(recordedKey)
        recordedAt.append(to: &out)
        out.put(seqKey)
        out.putInt(seq)
        out.put(typeKey)
        type.append(to: &out)
        out.put(vKey)
        out.putInt(v)
        out.put(UInt8(ascii: "}"))
        if newline { out.put(0x0A) }
    }

    /// ``compose(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:newline:into:)`` onto the
    /// end of an array: written by pointer into room for the longest envelope these fields can
    /// make, then appended in one go. Appended piece by piece, each of the fourteen pieces was an
    /// append with its own capacity and uniqueness checks (callgrind, 50 k archived events:
    /// 2.5 k instructions an event of the archive import's examination).
    @inline(__always)
    private static func composeAppending<Text: EnvelopeBytes, Data: EnvelopeBytes, Hash: Collection<UInt8>>(
        seq: Int64, id: Text, type: Text, v: Int64, occurredAt: Text, recordedAt: Text, actor: Text?,
        data: Data, hash: Hash?, newline: Bool, into out: inout [UInt8]
    ) {
        // The hash adds `,"hash":"`, 64 digits and a quote; the newline one byte.
        let room = maximumLength(id: id.byteCount, type: type.byteCount, occurredAt: occurredAt.byteCount, recordedAt: recordedAt.byteCount,
                                 actor: actor?.byteCount ?? 0, data: data.byteCount) + 80
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { buffer in
            guard let start = buffer.baseAddress else { return }
            var sink = PointerSink(next: start)
            compose(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor,
                    data: data, hash: hash, newline: newline, into: &sink)
            out.append(contentsOf: UnsafeBufferPointer(start: start, count: sink.next - start))
        }
    }

    /// The bytes ``compose(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:newline:into:)``
    /// writes for these fields without a hash, at most: the keys and punctuation (90 bytes),
    /// two integers of up to 20 characters, the fields, and the actor escaped (6 bytes a byte
    /// at most, `\u00XX`).
    static func maximumLength(id: Int, type: Int, occurredAt: Int, recordedAt: Int, actor: Int, data: Int) -> Int {
        256 + id + type + occurredAt + recordedAt + data + 6 * actor
    }

    /// `SHA-256(previous ‖ canonical)`.
    public static func chain(_ previous: [UInt8], _ canonical: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        chainDigest(previous, canonical).withUnsafeBufferPointer { Array($0) }
    }

    /// ``chain(_:_:)`` held inline, for a caller that only compares it with a hash it holds
    /// (the archive's link step: an array a hash, allocated on the writer and freed on the
    /// reading thread, made each free wait for the writer's allocator lock).
    public static func chainDigest(_ previous: [UInt8], _ canonical: UnsafeBufferPointer<UInt8>) -> Digest32 {
        previous.withUnsafeBytes { ChainSHA256.digest($0, UnsafeRawBufferPointer(canonical)) }
    }

    public static let genesis = [UInt8](repeating: 0, count: 32)
}

/// A field as the envelope writer takes it: column bytes, text, or stored bytes.
private protocol EnvelopeBytes {
    /// How many bytes ``append(to:)`` writes.
    var byteCount: Int { get }
    /// The bytes as they are.
    func append<Sink: EnvelopeSink>(to out: inout Sink)
    /// As a JSON string (quoted, escaped as ``CanonicalJSON`` escapes).
    func appendQuoted<Sink: EnvelopeSink>(to out: inout Sink)
}

extension UnsafeBufferPointer<UInt8>: EnvelopeBytes {
    @inline(__always) fileprivate var byteCount: Int { count }
    @inline(__always) fileprivate func append<Sink: EnvelopeSink>(to out: inout Sink) { out.put(self) }
    @inline(__always) fileprivate func appendQuoted<Sink: EnvelopeSink>(to out: inout Sink) { out.putQuoted(self) }
}

extension String: EnvelopeBytes {
    @inline(__always) fileprivate var byteCount: Int { utf8.count }
    @inline(__always) fileprivate func append<Sink: EnvelopeSink>(to out: inout Sink) {
        // Native strings lend their UTF-8 without a copy of the string (no retain either).
        if utf8.withContiguousStorageIfAvailable({ out.put($0) }) == nil {
            var s = self
            s.withUTF8 { out.put($0) }
        }
    }
    @inline(__always) fileprivate func appendQuoted<Sink: EnvelopeSink>(to out: inout Sink) {
        var s = self
        s.withUTF8 { out.putQuoted($0) }
    }
}

extension Array<UInt8>: EnvelopeBytes {
    @inline(__always) fileprivate var byteCount: Int { count }
    @inline(__always) fileprivate func append<Sink: EnvelopeSink>(to out: inout Sink) { withUnsafeBufferPointer { out.put($0) } }
    @inline(__always) fileprivate func appendQuoted<Sink: EnvelopeSink>(to out: inout Sink) {
        withUnsafeBufferPointer { out.putQuoted($0) }
    }
}

/// Where the envelope writer puts its bytes: memory with room enough (``PointerSink``).
private protocol EnvelopeSink {
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>)
    mutating func put(_ byte: UInt8)
    /// As ``CanonicalJSON/writeInt(_:into:)`` writes it.
    mutating func putInt(_ v: Int64)
    /// Quoted and escaped as ``CanonicalJSON/writeString(utf8:into:)`` writes it.
    mutating func putQuoted(_ utf8: UnsafeBufferPointer<UInt8>)
}

extension EnvelopeSink {
    // StaticString: copied straight from the binary, no array to retain per line.
    @inline(__always) mutating func put(_ s: StaticString) {
        put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

/// The chain check's buffer (verify): the stored hash of the row before, then the row's
/// canonical envelope, written by pointer into memory allocated once and grown only for a row
/// larger than any before, then hashed in one call. The envelope's bytes are those of
/// ``CanonicalEnvelope/write(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:newline:into:)``
/// (the same writer; `CoreLayeringTests` compares the hashes). Not copyable: one owner, no
/// reference counting or exclusivity checks per row.
public struct ChainBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The length of the previous hash at the front (32 but for a damaged one).
    private var previousCount = 0

    public init() {
        capacity = 4096
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// The hash the next row is chained on (copied).
    public var previous: [UInt8] { Array(UnsafeBufferPointer(start: base, count: previousCount)) }

    /// Sets the hash the next row is chained on (copied; of any length).
    public mutating func setPrevious(_ hash: UnsafeBufferPointer<UInt8>) {
        reserve(hash.count)
        if let p = hash.baseAddress, hash.count > 0 { base.update(from: p, count: hash.count) }
        previousCount = hash.count
    }

    /// `SHA-256(previous ‖ canonical envelope of these stored columns)`.
    public mutating func hash(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                              occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                              actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>) -> Digest32 {
        reserve(previousCount + CanonicalEnvelope.maximumLength(id: id.count, type: type.count, occurredAt: occurredAt.count,
                                                                recordedAt: recordedAt.count, actor: actor?.count ?? 0, data: data.count))
        let start = base
        var sink = PointerSink(next: start + previousCount)
        CanonicalEnvelope.write(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt,
                                actor: actor, data: data, into: &sink)
        return ChainSHA256.digest(UnsafeRawBufferPointer(start: start, count: sink.next - start))
    }

    /// ``hash(seq:id:type:v:occurredAt:recordedAt:actor:data:)``, which then becomes the hash
    /// the next row is chained on: the import's speculative chain, one event after another.
    public mutating func advance(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                                 occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                                 actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>) -> Digest32 {
        let next = hash(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor, data: data)
        next.withUnsafeBufferPointer { setPrevious($0) }
        return next
    }

    private mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        let size = max(n, 2 * capacity)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        grown.update(from: base, count: previousCount)
        base.deallocate()
        base = grown
        capacity = size
    }
}

/// Writes at a pointer with room enough (its callers reserve the envelope's maximum length).
private struct PointerSink: EnvelopeSink {
    var next: UnsafeMutablePointer<UInt8>

    @inline(__always) mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let p = bytes.baseAddress else { return }
        next.update(from: p, count: bytes.count)
        next += bytes.count
    }

    @inline(__always) mutating func put(_ byte: UInt8) {
        next.pointee = byte
        next += 1
    }

    @inline(__always) mutating func putInt(_ v: Int64) {
        if v >= 0 && v < 10 { put(UInt8(v) + 0x30); return }
        var m = v.magnitude
        var digits = 0
        var t = m
        repeat { digits += 1; t /= 10 } while t > 0
        if v < 0 { put(UInt8(ascii: "-")) }
        var i = digits
        while i > 0 { i -= 1; next[i] = UInt8(m % 10) + 0x30; m /= 10 }
        next += digits
    }

    @inline(__always) mutating func putQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Almost every actor needs no escape: copied in one go; otherwise the one escaper.
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            put(0x22); put(utf8); put(0x22)
            return
        }
        var escaped: [UInt8] = []
        CanonicalJSON.writeString(utf8: utf8, into: &escaped)
        escaped.withUnsafeBufferPointer { put($0) }
    }
}

/// A 32-byte hash held inline: no allocation and no reference count, so one thread can write
/// it and another read it without sharing a buffer (the import's speculative chain steps).
/// Its bytes, in memory order, are the hash's bytes.
///
/// Its small methods are `@inlinable`: the import's writer lends a digest twice an event, and
/// across the module boundary each lending was a call through a generic closure (perf, 1 M
/// events: 22 of the writer's samples).
public struct Digest32: Equatable, Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// All zero bytes.
    public init() {}

    /// The 32 bytes of `bytes`; nil when it does not hold exactly 32.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32, let base = bytes.baseAddress else { return nil }
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: 32)) }
    }

    /// A SHA-256 digest's 32 bytes.
    public init(_ digest: SHA256.Digest) {
        var words = self.words
        digest.withUnsafeBytes { d in withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: d) } }
        self.words = words
    }

    public init?(_ bytes: [UInt8]) {
        guard let d = bytes.withUnsafeBytes({ Digest32($0) }) else { return nil }
        self = d
    }

    @inlinable public static func == (a: Digest32, b: Digest32) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    /// True when `bytes` are these 32 bytes.
    @inlinable public func equals(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in
            b.count == 32 && b.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == words.0
                && b.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == words.1
                && b.loadUnaligned(fromByteOffset: 16, as: UInt64.self) == words.2
                && b.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == words.3
        }
    }

    /// Its 32 bytes, lent.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words) { try body($0.bindMemory(to: UInt8.self)) }
    }
}

/// Its bytes in order, as `SHA256.Digest` gives them (`Array(digest)`, `digest.map …`).
extension Digest32: Sequence {
    /// Its 32 bytes, copied.
    public var bytes: [UInt8] { withUnsafeBufferPointer { Array($0) } }

    public func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }

    public var underestimatedCount: Int { 32 }
}
