#if canImport(Glibc)
import Glibc
#endif
import TrellisLedger
import TrellisCore

/// Reads one event line of an archive into a ``RecordedEvent``.
///
/// A line Trellis wrote has one exact layout (the canonical envelope with `hash` in its
/// sorted place), so the fast path walks that layout byte by byte and hands `data` on as
/// text, unparsed (``ArchiveChain`` parses it once). Any other valid JSON object with the same
/// fields (other key order, whitespace) takes the general path through the JSON parser; the
/// hash chain then decides whether it is the event it claims to be.
enum ArchiveLine {
    static let eventKeys: Set<String> = ["seq", "id", "type", "v", "occurred_at", "recorded_at", "actor", "data", "hash"]

    static func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int, expectedSeq: Int64, recent: inout Recent) throws(ArchiveError) -> RecordedEvent {
        try parseWithData(line, number: number, expectedSeq: expectedSeq, recent: &recent).event
    }

    /// ``parse(_:number:expectedSeq:recent:)``, also giving `data` parsed, when the fast path
    /// could parse it where it lies in the line (``ArchiveExaminer/examine(_:data:line:envelope:)``
    /// then need not parse it again).
    static func parseWithData(_ line: UnsafeBufferPointer<UInt8>, number: Int, expectedSeq: Int64,
                              recent: inout Recent) throws(ArchiveError) -> (event: RecordedEvent, data: ParsedData?) {
        if let read = try fast(line, number: number, recent: &recent) { return read }
        return (try general(line, number: number, expectedSeq: expectedSeq), nil)
    }

    /// The last `recorded_at`, `occurred_at` and actor read, each handed out again while lines
    /// repeat it (a batch shares one `recorded_at`, the attendance of a meeting its time and
    /// actor; see ``LastSeen``). Sharing the last two made no difference while the archive
    /// import's writer set the pace (session 21); since its hashes are checked on the reading
    /// thread both cores are full, and each is an allocation a line saved there.
    struct Recent {
        var recordedAt = LastSeen<String>()
        var occurredAt = LastSeen<String>()
        var actor = LastSeen<String>()
        /// The type whose versions in the manifest's `schema_versions` are `versions` (``ArchiveReader/event(_:number:seq:manifest:recent:)``).
        var versionsOf: String?
        var versions: [Int64]?
    }

    // MARK: Fast path: the exact layout `log --format ndjson` writes

    private struct Cursor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        mutating func expect(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i + n <= b.count, let base = b.baseAddress, memcmp(base + i, s.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }

        /// The bytes up to the next quote, which must not be escaped (ids, types, timestamps).
        mutating func plainString() -> String? {
            plainBytes().map { String(decoding: $0, as: UTF8.self) }
        }

        /// ``plainString()``'s bytes, where they lie: the next quote found by `memchr`, then the
        /// bytes before it checked in one pass with no branch a byte (a loop deciding byte by
        /// byte was half of reading a line, perf: 1 M archived events).
        mutating func plainBytes() -> UnsafeBufferPointer<UInt8>? {
            guard i < b.count, let base = b.baseAddress, let quote = memchr(base + i, 0x22, b.count - i) else { return nil }
            let end = UnsafeRawPointer(quote).assumingMemoryBound(to: UInt8.self) - base
            let s = UnsafeBufferPointer(rebasing: b[i..<end])
            // A backslash, a control character or a byte of 0x80 and above (c - 0x20, wrapping,
            // is then 0x60 or more) makes the string other than plain.
            var bad: UInt8 = 0
            for c in s { bad |= (c == 0x5C ? 1 : 0) | (c &- 0x20 >= 0x60 ? 1 : 0) }
            guard bad == 0 else { return nil }
            i = end + 1
            return s
        }

        mutating func integer() -> Int64? {
            var v: Int64 = 0
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, i - start < 18 {
                v = v * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            return i > start ? v : nil
        }

        /// Skips one JSON object (strings and nesting aware) and returns its extent.
        mutating func object() -> Range<Int>? {
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            let start = i
            var depth = 0
            var inString = false
            while i < b.count {
                let c = b[i]
                if inString {
                    if c == UInt8(ascii: "\\") { i += 2; continue }
                    if c == UInt8(ascii: "\"") { inString = false }
                } else if c == UInt8(ascii: "\"") {
                    inString = true
                } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    depth += 1
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { i += 1; return start..<i }
                }
                i += 1
            }
            return nil
        }

        /// The 64 lowercase hex digits at the cursor as 32 bytes, read by pointer with no branch
        /// a digit (callgrind, 50 k archived events: 41 M → about 13 M instructions, inlined now
        /// into the line's read and estimated from its growth).
        mutating func hash() -> [UInt8]? {
            guard i + 64 <= b.count, let digits = b.baseAddress.map({ $0 + i }) else { return nil }
            var invalid: UInt8 = 0
            let out = [UInt8](unsafeUninitializedCapacity: 32) { bytes, count in
                for k in 0..<32 {
                    let hi = Self.nibble(digits[2 &* k]), lo = Self.nibble(digits[2 &* k &+ 1])
                    invalid |= hi | lo
                    bytes[k] = hi << 4 | (lo & 0x0F)
                }
                count = 32
            }
            guard invalid < 16 else { return nil }
            i += 64
            return out
        }

        /// A lowercase hex digit's value, or 16 or more for any other byte.
        @inline(__always) static func nibble(_ c: UInt8) -> UInt8 {
            let d = c &- 0x30, x = c &- 0x61
            return d < 10 ? d : (x < 6 ? x &+ 10 : 16)
        }
    }

    private static func fast(_ line: UnsafeBufferPointer<UInt8>, number: Int, recent: inout Recent) throws(ArchiveError) -> (event: RecordedEvent, data: ParsedData?)? {
        var c = Cursor(b: line)
        guard c.expect("{") else { return nil }
        var actor: String?
        if c.expect("\"actor\":\"") {
            // Free text: may hold escapes, so the JSON parser reads this one string.
            let start = c.i - 1
            var k = c.i
            while k < line.count, line[k] != UInt8(ascii: "\"") { k += line[k] == UInt8(ascii: "\\") ? 2 : 1 }
            guard k < line.count, let s = recent.actor.value(of: UnsafeBufferPointer(rebasing: line[start...k]), orTry: { quoted in
                guard case .string(let s)? = try? JSONParser.parse(quoted) else { return nil }
                return s
            }) else { return nil }
            actor = s
            c.i = k + 1
            guard c.expect(",") else { return nil }
        }
        guard c.expect("\"data\":") else { return nil }
        // `data` parsed where it lies, its end found by the parser: skipping it first to find
        // its end, checking its bytes were ASCII and then parsing its copy read each byte three
        // times (callgrind, 50 k archived events: …). Data the parser refuses is skipped as
        // before, and the examination names what is wrong with it.
        var parsed: ParsedData?
        let data: Range<Int>
        if let (value, end, canonical) = try? JSONParser.parseValue(line, at: c.i, depth: 0), case .object(let o) = value {
            parsed = ParsedData(object: o, canonical: canonical)
            data = c.i..<end
            c.i = end
        } else {
            guard let skipped = c.object() else { return nil }
            data = skipped
        }
        guard c.expect(",\"hash\":\""), let hash = c.hash(),
              c.expect("\",\"id\":\""), let id = c.plainString(),
              c.expect(",\"occurred_at\":\""), let occurredBytes = c.plainBytes(),
              c.expect(",\"recorded_at\":\""), let recordedBytes = c.plainBytes(),
              c.expect(",\"seq\":"), let seq = c.integer(),
              c.expect(",\"type\":\""), let typeBytes = c.plainBytes(),
              c.expect(",\"v\":"), let v = c.integer(),
              c.expect("}"), c.i == line.count
        else { return nil }
        // Parsed, its bytes are UTF-8; ASCII (sealed personal fields are base64) needs no
        // validation either, which costs 2.5× the copy.
        let dataBytes = UnsafeBufferPointer(rebasing: line[data])
        let valid = parsed != nil || dataBytes.reduce(0, |) < 0x80
        guard let dataText = valid ? String(decoding: dataBytes, as: UTF8.self) : String(validating: dataBytes, as: UTF8.self) else {
            // Not UTF-8, so not JSON: named as the chain check names data it cannot parse.
            do { _ = try JSONParser.parse(dataBytes) } catch {
                throw .broken(seq: seq, why: "data is not valid JSON (\(error.message))")
            }
            return nil
        }
        // A known type's name is the catalogue's own string; only an unknown one is made anew.
        let type = EventType.named(utf8: typeBytes)?.rawValue ?? String(decoding: typeBytes, as: UTF8.self)
        let occurred = recent.occurredAt.value(of: occurredBytes) { String(decoding: $0, as: UTF8.self) }
        let event = RecordedEvent(seq: seq, id: id, type: type, v: v, occurredAt: occurred, recordedAt: recent.recordedAt.value(of: recordedBytes) { String(decoding: $0, as: UTF8.self) },
                                  actor: actor, data: dataText, hash: hash)
        return (event, parsed)
    }

    // MARK: General path: any JSON object with these fields

    private static func general(_ line: UnsafeBufferPointer<UInt8>, number: Int, expectedSeq: Int64) throws(ArchiveError) -> RecordedEvent {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .broken(seq: expectedSeq, why: "line \(number) is not valid JSON (\(error.message) at byte \(error.offset + 1))")
        }
        guard case .object(let o) = value else { throw .broken(seq: expectedSeq, why: "line \(number) is not a JSON object") }
        let seq = o.int("seq") ?? expectedSeq
        func need(_ key: String, _ what: String) -> ArchiveError { .broken(seq: seq, why: "line \(number): \(key) is missing or not \(what)") }
        for (key, _) in o.pairs where !eventKeys.contains(key) {
            throw .broken(seq: seq, why: "line \(number): unexpected field \(JSONValue.string(key).described)")
        }
        guard o.int("seq") != nil else { throw need("seq", "an integer") }
        guard let id = o.string("id") else { throw need("id", "text") }
        guard let type = o.string("type") else { throw need("type", "text") }
        guard let v = o.int("v") else { throw need("v", "an integer") }
        guard let occurred = o.string("occurred_at") else { throw need("occurred_at", "text") }
        guard let recorded = o.string("recorded_at") else { throw need("recorded_at", "text") }
        var actor: String?
        if let a = o["actor"] {
            guard let s = a.string else { throw need("actor", "text") }
            actor = s
        }
        guard let data = o["data"]?.object else { throw need("data", "an object") }
        guard let hex = o.string("hash"), hex.utf8.count == 64, let hash = Hex.decode(hex) else { throw need("hash", "64 hex digits") }
        return RecordedEvent(seq: seq, id: id, type: type, v: v, occurredAt: occurred, recordedAt: recorded,
                             actor: actor, data: CanonicalJSON.string(.object(data)), hash: hash)
    }
}
