/// A strict RFC 8259 parser over UTF-8 bytes, written for the import hot path.
///
/// Foundation's `JSONDecoder` caps import near 130 k events/s here; this parser does not
/// allocate beyond the values it returns. It rejects what the ledger must never store:
/// invalid UTF-8, lone surrogates, duplicate keys, trailing content, nesting deeper than 32.
public struct JSONParser {
    public struct Failure: Error, Equatable, Sendable {
        public var message: String
        public var offset: Int
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        var p = JSONParser(bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != p.b.count { throw p.fail("unexpected content after the JSON value") }
        return v
    }

    /// The value starting at byte `start` of `bytes`, nested `depth` levels deep already, the
    /// offset just past it (for a reader that walks the enclosing text itself), and whether its
    /// text is known to be in canonical form (see ``canonical``).
    package static func parseValue(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, depth: Int) throws(Failure) -> (JSONValue, end: Int, canonical: Bool) {
        var p = JSONParser(bytes)
        p.i = start
        let v = try p.value(depth: depth)
        return (v, p.i, p.canonical)
    }

    /// ``parse(_:)``, also telling whether the text is known to be in canonical form (see
    /// ``canonical``): when it is, ``CanonicalForm/isCanonical(_:)`` need not read it again.
    public static func parseNoticingCanonical(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> (JSONValue, canonical: Bool) {
        var p = JSONParser(bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != p.b.count { throw p.fail("unexpected content after the JSON value") }
        return (v, p.canonical)
    }

    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, Failure> = copy.withUTF8 { buf in
            do throws(Failure) { return .success(try parse(buf)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    /// Still true when nothing read so far keeps the text from being its own canonical form
    /// (``CanonicalJSON``): no whitespace between tokens, each object's keys in byte order,
    /// no escape in any string, integers only (no `-0`, none beyond Int64). Noticed while
    /// parsing, so that text already canonical, the common case, is not read a second time to
    /// find out. True is exact; false may be too cautious (an escape the canonical writer
    /// writes the same way): a caller then asks ``CanonicalForm/isCanonical(_:)``.
    private var canonical = true

    private init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

    private mutating func skipSpace() {
        let start = i
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
        if i != start { canonical = false }
    }

    /// Whether the bytes at `a` come strictly before those at `b` (byte order, a prefix first).
    private func precedes(_ a: Range<Int>, _ c: Range<Int>) -> Bool {
        var x = a.lowerBound, y = c.lowerBound
        while x < a.upperBound && y < c.upperBound {
            if b[x] != b[y] { return b[x] < b[y] }
            x += 1; y += 1
        }
        return x == a.upperBound && y < c.upperBound
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            guard depth < 32 else { throw fail("nested deeper than 32 levels") }
            i += 1
            var obj = JSONObject(reservingCapacity: 8)
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
            var previousKey: Range<Int>?
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyStart = i + 1
                let key = try key()
                if canonical {
                    // Unescaped (else `canonical` is already false): the key's bytes are its text.
                    let keyBytes = keyStart..<(i - 1)
                    if let previousKey, !precedes(previousKey, keyBytes) { canonical = false }
                    previousKey = keyBytes
                }
                if obj.has(key) { throw fail("duplicate key \"\(key)\"") }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
                i += 1
                skipSpace()
                obj.appendUnchecked(key, try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input inside an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            guard depth < 32 else { throw fail("nested deeper than 32 levels") }
            i += 1
            var arr: [JSONValue] = []
            arr.reserveCapacity(4)
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
            while true {
                skipSpace()
                arr.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input inside an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw fail("unexpected character \(Self.show(b[i]))")
        }
    }

    private static func show(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end of input") }
        let w = word.utf8Start
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { throw fail("invalid number") }
        if b[i] == 0x30 { i += 1 } else { while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 } }
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { throw fail("invalid number") }
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { throw fail("invalid number") }
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if integral, let v = Int64(text) {
            if v == 0 && b[start] == UInt8(ascii: "-") { canonical = false }  // -0 is written 0
            return .int(v)
        }
        canonical = false
        guard let d = Double(text) else { throw fail("invalid number") }
        // JSON Schema counts 3.0 as an integer; so do we, within the exactly representable range.
        if d.rounded() == d, abs(d) <= 9_007_199_254_740_992 { return .int(Int64(d)) }
        return .double(d)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// An object's key: one the catalogue knows (plain ASCII, no escape) is its literal
    /// (``KnownKeys``), anything else is read by ``string()`` (which also reports every error).
    private mutating func key() throws(Failure) -> String {
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                if let known = KnownKeys.lookUp(UnsafeBufferPointer(rebasing: b[start..<j])) { i = j + 1; return known }
                break
            }
            if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { break }
            j += 1
        }
        return try string()
    }

    private mutating func string() throws(Failure) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes; ASCII needs no UTF-8 validation.
        var high: UInt8 = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                if high < 0x80 { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    i = start
                    throw fail("string is not valid UTF-8")
                }
                return s
            }
            high |= c
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("raw control character \(Self.show(c)) inside a string") }
            i += 1
        }
        guard i < b.count else { throw fail("unterminated string") }
        // Slow path with escapes.
        canonical = false
        var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                return s
            }
            if c < 0x20 { throw fail("raw control character \(Self.show(c)) inside a string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("lone surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw fail("invalid escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        throw fail("unterminated string")
    }
}

/// The object keys events use (envelope, every type's `data` fields, outcomes), so that the
/// parser hands out the catalogue's own strings for them instead of building a string for each
/// key of each line (about ten a line). The same text either way; only where it is stored differs.
enum KnownKeys {
    /// Built once and never freed or changed: plain pointers, so a look-up retains nothing
    /// (through arrays in a static, every look-up retained them and checked their initialisation).
    private struct Table: @unchecked Sendable {
        /// Every known key's bytes back to back; key `k` ends at `ends[k]`, `strings[k]` is its text.
        /// Keys are grouped by length: those of length `n` are `starts[n]..<starts[n + 1]`.
        let bytes: UnsafeMutableBufferPointer<UInt8>
        let ends: UnsafeMutableBufferPointer<Int>
        let starts: UnsafeMutableBufferPointer<Int>
        let strings: UnsafeMutableBufferPointer<String>
    }

    private static let table: Table = {
        var names = Set(["id", "type", "v", "occurred_at", "actor", "data", "seq", "recorded_at", "hash", "area", "judgement", "actions"])
        for (_, specs) in Catalogue.fields { for spec in specs { names.insert(spec.name) } }
        let sorted = names.sorted { ($0.utf8.count, $0) < ($1.utf8.count, $1) }
        let longest = sorted.last?.utf8.count ?? 0
        var bytes: [UInt8] = [], ends: [Int] = [], starts = [Int](repeating: sorted.count, count: longest + 2)
        for (k, name) in sorted.enumerated() {
            let n = name.utf8.count
            if starts[n] == sorted.count { starts[n] = k }
            bytes.append(contentsOf: name.utf8)
            ends.append(bytes.count)
        }
        // A length no key has starts where the next one does.
        for n in stride(from: longest, through: 0, by: -1) where starts[n] == sorted.count { starts[n] = starts[n + 1] }
        func kept<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
            let p = UnsafeMutableBufferPointer<T>.allocate(capacity: a.count)
            _ = p.initialize(from: a)
            return p
        }
        return Table(bytes: kept(bytes), ends: kept(ends), starts: kept(starts), strings: kept(sorted))
    }()

    static func lookUp(_ key: UnsafeBufferPointer<UInt8>) -> String? {
        let t = table
        let n = key.count
        guard n + 1 < t.starts.count, let bytes = t.bytes.baseAddress, let keyBytes = key.baseAddress else { return nil }
        var k = t.starts[n]
        let end = t.starts[n + 1]
        while k < end {
            let candidate = bytes + (t.ends[k] - n)
            var p = 0
            while p < n && candidate[p] == keyBytes[p] { p += 1 }
            if p == n { return t.strings[k] }
            k += 1
        }
        return nil
    }
}
