/// Renders a ``JSONValue`` for people and scripts: fields in the order given (CLI.md's
/// order), compact or indented. Not the canonical form: that one is ``CanonicalJSON``.
/// Strings are escaped as there, and also DEL, the C1 controls, U+2028/2029 and the bidi
/// controls as `\uXXXX` (``TerminalText``): the same text, safe to print on a terminal.
extension JSONValue {
    public func rendered(pretty: Bool = false) -> String {
        String(decoding: renderedBytes(pretty: pretty), as: UTF8.self)
    }

    /// ``rendered(pretty:)``'s UTF-8, for output written as bytes: a report's JSON runs to tens
    /// of megabytes, and the `String` was one more copy of it.
    public func renderedBytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        render(into: &out, pretty: pretty, indent: 0)
        return out
    }

    func render(into out: inout [UInt8], pretty: Bool, indent: Int) {
        func newline(_ level: Int) {
            guard pretty else { return }
            out.append(0x0A)
            // Appended in place: an array of spaces a line was an allocation a line.
            for _ in 0..<(level * 2) { out.append(0x20) }
        }
        switch self {
        case .double(let d):
            if d.isNaN || d.isInfinite { out.append(contentsOf: "null".utf8) } else if d == d.rounded(), abs(d) < 1e15 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else {
                out.append(contentsOf: String(d).utf8)
            }
        case .array(let a):
            if a.isEmpty { out.append(contentsOf: "[]".utf8); return }
            let flat = a.allSatisfy { if case .object = $0 { return false }; if case .array = $0 { return false }; return true }
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")); if pretty && flat { out.append(0x20) } }
                if !flat { newline(indent + 1) }
                v.render(into: &out, pretty: pretty, indent: indent + 1)
            }
            if !flat { newline(indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.count == 0 { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for k in 0..<o.count {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                Self.writeDisplayString(o.key(at: k), into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(0x20) }
                o.value(at: k).render(into: &out, pretty: pretty, indent: indent + 1)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        case .string(let s):
            Self.writeDisplayString(s, into: &out)
        default:
            CanonicalJSON.write(self, into: &out)
        }
    }

    static func writeDisplayString(_ s: String, into out: inout [UInt8]) {
        guard s.utf8.contains(where: { $0 >= 0x7F }),
              s.unicodeScalars.contains(where: { $0.value >= 0x7F && TerminalText.isNeutralised($0) }) else {
            CanonicalJSON.writeString(s, into: &out)
            return
        }
        var run = ""
        func flush() {
            var quoted: [UInt8] = []
            CanonicalJSON.writeString(run, into: &quoted)
            out.append(contentsOf: quoted.dropFirst().dropLast())
            run = ""
        }
        out.append(0x22)
        for scalar in s.unicodeScalars {
            guard scalar.value >= 0x7F, TerminalText.isNeutralised(scalar) else { run.unicodeScalars.append(scalar); continue }
            flush()
            let hex = String(scalar.value, radix: 16)
            out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
        }
        flush()
        out.append(0x22)
    }
}

extension JSONValue {
    /// `.string` or `.null`.
    public static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
}
