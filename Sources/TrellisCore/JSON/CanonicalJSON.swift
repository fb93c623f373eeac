/// The byte-stable JSON form that the hash chain covers.
///
/// Keys sorted by their UTF-8 bytes, no insignificant whitespace, integers in decimal,
/// strings with only `"` `\` and control characters escaped (`\b \f \n \r \t`, others as
/// lowercase `\u00xx`), everything else as raw UTF-8. For the values events can hold
/// (strings, integers, booleans, arrays, objects) this is RFC 8785 (JCS). ARCHITECTURE.md
/// specifies it for programs that recompute hashes.
public enum CanonicalJSON {
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .int(let v): writeInt(v, into: &out)
        case .double(let d): out.append(contentsOf: String(d).utf8)  // never stored; see JSONValue
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (k, index) in o.sortedIndices.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(o.key(at: index), into: &out)
                out.append(UInt8(ascii: ":"))
                write(o.value(at: index), into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Straight into `out` (no temporary array: verify and export write two integers per event).
    public static func writeInt(_ v: Int64, into out: inout [UInt8]) {
        if v >= 0 && v < 10 { out.append(UInt8(v) + 0x30); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var m = v.magnitude
            var i = 20
            while m > 0 { i -= 1; digits[i] = UInt8(m % 10) + 0x30; m /= 10 }
            if v < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { writeString(utf8: $0, into: &out) }
    }

    public static func writeString(utf8 p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(0x22)
        writeStringContent(utf8: p, into: &out)
        out.append(0x22)
    }

    /// A string's escaped content, without the quotes. Copies runs that need no escape in one
    /// go: almost every string is such a run.
    public static func writeStringContent(utf8 p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var start = 0
        for i in 0..<p.count {
            let c = p[i]
            if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
            if i > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<i])) }
            start = i + 1
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(c >> 4)], hexDigits[Int(c & 15)]])
            }
        }
        if start < p.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<p.count])) }
    }
}
