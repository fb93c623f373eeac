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
        compose(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt, actor: actor,
                data: data, hash: hash, newline: newline, into: &out)
    }

    /// From an event being appended: its text fields and its stored `data` bytes.
    public static func write(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                             actor: String?, data: [UInt8], into out: inout [UInt8]) {
        compose(seq: seq, id: id, type: type, v: v, occurredAt: occurredAt, recordedAt: recordedAt,
                actor: actor, data: data, hash: nil as [UInt8]?, newline: false, into: &out)
    }

    /// From a recorded event.
    public static func write(_ e: RecordedEvent, withHash: Bool = false, newline: Bool = false, into out: inout [UInt8]) {
        compose(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt,
                recordedAt: e.recordedAt, actor: e.actor, data: e.data,
                hash: withHash ? e.hash : nil, newline: newline, into: &out)
    }

    public static func bytes(_ e: RecordedEvent, withHash: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(e.data.utf8.count + 200)
        write(e, withHash: withHash, into: &out)
        return out
    }

    // StaticString: copied straight from the binary, no array to retain per line.
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

    @inline(__always)
    private static func put(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// The writer itself, specialised by the compiler for column bytes and for text (each
    /// field's bytes borrowed on its own, so no nest of `withUTF8` closures).
    /// ids, types and timestamps never need escaping: their characters are checked on input.
    @inline(__always)
    private static func compose<Text: EnvelopeBytes, Data: EnvelopeBytes, Hash: Collection<UInt8>>(
        seq: Int64, id: Text, type: Text, v: Int64, occurredAt: Text, recordedAt: Text, actor: Text?,
        data: Data, hash: Hash?, newline: Bool, into out: inout [UInt8]
    ) {
        put(open, &out)
        if let actor {
            put(actorKey, &out)
            actor.appendQuoted(to: &out)
            out.append(UInt8(ascii: ","))
        }
        put(dataKey, &out)
        data.append(to: &out)
        if let hash {
            put(hashKey, &out)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { hex in
                let digits = hexDigits.utf8Start
                var n = 0
                for b in hash.prefix(32) {
                    hex[n] = digits[Int(b >> 4)]
                    hex[n + 1] = digits[Int(b & 15)]
                    n += 2
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: hex[0..<n]))
            }
            put(hashEnd, &out)
        }
        put(idKey, &out)
        id.append(to: &out)
        put(occurredKey, &out)
        occurredAt.append(to: &out)
        put(recordedKey, &out)
        recordedAt.append(to: &out)
        put(seqKey, &out)
        CanonicalJSON.writeInt(seq, into: &out)
        put(typeKey, &out)
        type.append(to: &out)
        put(vKey, &out)
        CanonicalJSON.writeInt(v, into: &out)
        out.append(UInt8(ascii: "}"))
        if newline { out.append(0x0A) }
    }

    /// `SHA-256(previous ‖ canonical)`.
    public static func chain(_ previous: [UInt8], _ canonical: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var h = SHA256()
        previous.withUnsafeBufferPointer { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        h.update(bufferPointer: UnsafeRawBufferPointer(canonical))
        // One copy of the 32 bytes (`Array(digest)` iterated the digest a byte at a time).
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    public static let genesis = [UInt8](repeating: 0, count: 32)
}

/// A field as the envelope writer takes it: column bytes, text, or stored bytes.
private protocol EnvelopeBytes {
    /// The bytes as they are.
    func append(to out: inout [UInt8])
    /// As a JSON string (quoted, escaped as ``CanonicalJSON`` escapes).
    func appendQuoted(to out: inout [UInt8])
}

extension UnsafeBufferPointer<UInt8>: EnvelopeBytes {
    @inline(__always) fileprivate func append(to out: inout [UInt8]) { out.append(contentsOf: self) }
    @inline(__always) fileprivate func appendQuoted(to out: inout [UInt8]) { CanonicalJSON.writeString(utf8: self, into: &out) }
}

extension String: EnvelopeBytes {
    @inline(__always) fileprivate func append(to out: inout [UInt8]) {
        // Native strings lend their UTF-8 without a copy of the string (no retain either).
        if utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil { out.append(contentsOf: utf8) }
    }
    @inline(__always) fileprivate func appendQuoted(to out: inout [UInt8]) { CanonicalJSON.writeString(self, into: &out) }
}

extension Array<UInt8>: EnvelopeBytes {
    @inline(__always) fileprivate func append(to out: inout [UInt8]) { out.append(contentsOf: self) }
    @inline(__always) fileprivate func appendQuoted(to out: inout [UInt8]) {
        withUnsafeBufferPointer { CanonicalJSON.writeString(utf8: $0, into: &out) }
    }
}
