import Crypto

/// An event as the log holds it: the envelope plus what the ledger added.
public struct RecordedEvent: Sendable, Equatable {
    public var seq: Int64
    public var id: String
    public var type: String
    public var v: Int64
    public var occurredAt: String
    public var recordedAt: String
    public var actor: String?
    /// Canonical JSON of `data`, personal fields as ciphertext.
    public var data: String
    public var hash: [UInt8]

    public var hashHex: String { Hex.encode(hash) }
}

/// The canonical envelope the chain hashes, and the export line built on it.
///
/// `{"actor":…,"data":…,"id":…,"occurred_at":…,"recorded_at":…,"seq":…,"type":…,"v":…}`:
/// keys in byte order, `actor` omitted when absent, `data` as stored (already canonical).
public enum CanonicalEnvelope {
    /// Writes the canonical envelope; with `hash`, the key `"hash"` is added in its sorted place
    /// (the form of `log --format ndjson` and archives).
    public static func write(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                             occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                             actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>,
                             hash: [UInt8]? = nil, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        if let actor {
            out.append(contentsOf: #""actor":"#.utf8)
            CanonicalJSON.writeString(utf8: actor, into: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""data":"#.utf8)
        out.append(contentsOf: data)
        if let hash {
            out.append(contentsOf: #","hash":""#.utf8)
            Hex.append(hash, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        // ids, types and timestamps never need escaping: their characters are checked on input.
        out.append(contentsOf: #","id":""#.utf8)
        out.append(contentsOf: id)
        out.append(contentsOf: #"","occurred_at":""#.utf8)
        out.append(contentsOf: occurredAt)
        out.append(contentsOf: #"","recorded_at":""#.utf8)
        out.append(contentsOf: recordedAt)
        out.append(contentsOf: #"","seq":"#.utf8)
        CanonicalJSON.writeInt(seq, into: &out)
        out.append(contentsOf: #","type":""#.utf8)
        out.append(contentsOf: type)
        out.append(contentsOf: #"","v":"#.utf8)
        CanonicalJSON.writeInt(v, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    public static func bytes(_ e: RecordedEvent, withHash: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(e.data.utf8.count + 200)
        var data = e.data
        data.withUTF8 { dp in
            write(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt, recordedAt: e.recordedAt,
                  actor: e.actor, data: dp, hash: withHash ? e.hash : nil, into: &out)
        }
        return out
    }

    /// The same, from the envelope's text fields (the one place their UTF-8 is borrowed):
    /// import, archive import and ``bytes(_:withHash:)`` all write through here.
    public static func write(seq: Int64, id: String, type: String, v: Int64, occurredAt: String, recordedAt: String,
                             actor: String?, data: UnsafeBufferPointer<UInt8>, hash: [UInt8]? = nil, into out: inout [UInt8]) {
        var id = id, type = type, occurredAt = occurredAt, recordedAt = recordedAt
        id.withUTF8 { ip in type.withUTF8 { tp in occurredAt.withUTF8 { op in recordedAt.withUTF8 { rp in
            guard var actor else {
                write(seq: seq, id: ip, type: tp, v: v, occurredAt: op, recordedAt: rp, actor: nil, data: data, hash: hash, into: &out)
                return
            }
            actor.withUTF8 { ap in
                write(seq: seq, id: ip, type: tp, v: v, occurredAt: op, recordedAt: rp, actor: ap, data: data, hash: hash, into: &out)
            }
        } } } }
    }

    /// `SHA-256(previous ‖ canonical)`.
    public static func chain(_ previous: [UInt8], _ canonical: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var h = SHA256()
        previous.withUnsafeBufferPointer { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        h.update(bufferPointer: UnsafeRawBufferPointer(canonical))
        return Array(h.finalize())
    }

    public static let genesis = [UInt8](repeating: 0, count: 32)
}

public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func append(_ bytes: [UInt8], into out: inout [UInt8]) {
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        append(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
