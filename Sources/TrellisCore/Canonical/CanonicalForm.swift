/// Whether JSON text is already in ``CanonicalJSON``'s form, checked byte by byte without
/// building anything: no insignificant whitespace, keys in byte order (and unescaped),
/// strings escaped exactly as the canonical writer escapes them, integers in plain decimal.
/// False is always safe (the text is then rewritten); true means rewriting would not change it.
public enum CanonicalForm {
    public static func isCanonical(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer(isCanonical)
    }

    public static func isCanonical(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(isCanonical)
    }

    public static func isCanonical(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        guard value(b, &i, depth: 0) else { return false }
        return i == b.count
    }

    private static func value(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, depth: Int) -> Bool {
        guard i < b.count, depth < 32 else { return false }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: "}") { i += 1; return true }
            var previous: Range<Int>?
            while true {
                let start = i + 1
                guard i < b.count, b[i] == UInt8(ascii: "\""), let escaped = string(b, &i), !escaped else { return false }
                let key = start..<(i - 1)
                if let p = previous, !UnsafeBufferPointer(rebasing: b[p]).lexicographicallyPrecedes(UnsafeBufferPointer(rebasing: b[key])) {
                    return false
                }
                previous = key
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
                i += 1
                guard value(b, &i, depth: depth + 1), i < b.count else { return false }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return true }
                return false
            }
        case UInt8(ascii: "["):
            i += 1
            guard i < b.count else { return false }
            if b[i] == UInt8(ascii: "]") { i += 1; return true }
            while true {
                guard value(b, &i, depth: depth + 1), i < b.count else { return false }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return true }
                return false
            }
        case UInt8(ascii: "\""):
            return string(b, &i) != nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            let negative = b[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { return false }
            if b[i] == 0x30 {
                i += 1
                if negative { return false }   // -0 is written 0
            } else {
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
                // Beyond Int64 the parser makes a Double, which is written otherwise (1e+20).
                if i - start > 18, Int64(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)) == nil {
                    return false
                }
            }
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") || (b[i] >= 0x30 && b[i] <= 0x39) {
                return false
            }
            return true
        case UInt8(ascii: "t"): return literal(b, &i, "true")
        case UInt8(ascii: "f"): return literal(b, &i, "false")
        case UInt8(ascii: "n"): return literal(b, &i, "null")
        default: return false
        }
    }

    private static func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// Past a canonical string; nil when not canonical, else whether it had escapes.
    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool? {
        i += 1
        var escaped = false
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return escaped }
            if c < 0x20 { return nil }
            if c != UInt8(ascii: "\\") { i += 1; continue }
            escaped = true
            guard i + 1 < b.count else { return nil }
            switch b[i + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 2
            case UInt8(ascii: "u"):
                // Only controls without a short form, as \u00xx in lowercase.
                guard i + 5 < b.count, b[i + 2] == 0x30, b[i + 3] == 0x30 else { return nil }
                let hi = b[i + 4], lo = b[i + 5]
                guard hi == 0x30 || hi == 0x31 else { return nil }
                guard (0x30...0x39).contains(lo) || (0x61...0x66).contains(lo) else { return nil }
                let v = (hi - 0x30) * 16 + (lo <= 0x39 ? lo - 0x30 : lo - 0x61 + 10)
                guard ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(v) else { return nil }
                i += 6
            default:
                return nil
            }
        }
        return nil
    }
}
