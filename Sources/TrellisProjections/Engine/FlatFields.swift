import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// The top-level fields of an event's `data`, found in place: byte ranges into the scan's
/// row, so a handler's `:field` is bound without building a JSON tree or copying a string.
///
/// Only the common shape is taken: an object of ASCII keys whose values are numbers,
/// `true`/`false`/`null`, or strings of printable ASCII without escapes. Anything else (an
/// escape, a non-ASCII byte, a nested array or object, anything malformed) makes
/// ``scan(_:)`` return false and the replay parses the whole `data` with ``JSONParser`` as
/// before, so what a handler sees (and whether a malformed `data` counts as empty) is the
/// parser's verdict in every case. What is taken here the parser would accept and read
/// alike: the same grammar, duplicate keys refused, numbers read by the parser itself.
struct FlatFields {
    enum Kind { case text, number, yes, no, null }
    struct Field {
        var key: Range<Int>
        var value: Range<Int>
        var kind: Kind
    }
    private(set) var fields: [Field] = []
    private(set) var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    /// Reads `b` (valid until the scan's next step); false when the replay must parse it.
    mutating func scan(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        fields.removeAll(keepingCapacity: true)
        bytes = b
        var i = 0
        let n = b.count
        func space() { while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
        /// A string of printable ASCII without escapes, `i` at its opening quote: its contents.
        func plain() -> Range<Int>? {
            i += 1
            let start = i
            while i < n {
                let c = b[i]
                if c == 0x22 { i += 1; return start..<(i - 1) }
                if c < 0x20 || c >= 0x80 || c == 0x5C { return nil }
                i += 1
            }
            return nil
        }
        func literal(_ word: StaticString) -> Bool {
            let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard i + w.count <= n else { return false }
            for k in 0..<w.count where b[i + k] != w[k] { return false }
            i += w.count
            return true
        }
        func same(_ x: Range<Int>, _ y: Range<Int>) -> Bool {
            guard x.count == y.count else { return false }
            for k in 0..<x.count where b[x.lowerBound + k] != b[y.lowerBound + k] { return false }
            return true
        }
        space()
        guard i < n, b[i] == 0x7B else { return false }
        i += 1
        space()
        if i < n, b[i] == 0x7D {
            i += 1
        } else {
            while true {
                space()
                guard i < n, b[i] == 0x22, let key = plain() else { return false }
                // A duplicate key: the parser refuses the whole `data`.
                if fields.contains(where: { same($0.key, key) }) { return false }
                space()
                guard i < n, b[i] == 0x3A else { return false }
                i += 1
                space()
                guard i < n else { return false }
                let start = i
                let kind: Kind
                switch b[i] {
                case 0x22:
                    guard let text = plain() else { return false }
                    fields.append(Field(key: key, value: text, kind: .text))
                    kind = .text
                case 0x2D, 0x30...0x39:
                    while i < n, b[i] == 0x2D || b[i] == 0x2B || b[i] == 0x2E || b[i] == 0x45 || b[i] == 0x65 || (b[i] >= 0x30 && b[i] <= 0x39) { i += 1 }
                    // The parser's own reading, which also decides that it is a number at all.
                    guard (try? JSONParser.parse(UnsafeBufferPointer(rebasing: b[start..<i]))) != nil else { return false }
                    kind = .number
                case 0x74: kind = .yes; guard literal("true") else { return false }
                case 0x66: kind = .no; guard literal("false") else { return false }
                case 0x6E: kind = .null; guard literal("null") else { return false }
                default: return false  // an array or object: the parser reads it
                }
                if kind != .text { fields.append(Field(key: key, value: start..<i, kind: kind)) }
                space()
                guard i < n else { return false }
                if b[i] == 0x2C { i += 1; continue }
                guard b[i] == 0x7D else { return false }
                i += 1
                break
            }
        }
        space()
        return i == n

    }

    /// The field named by `name` (its UTF-8 bytes), if `data` has it.
    func field(_ name: [UInt8]) -> Field? {
        fields.first { f in
            guard f.key.count == name.count else { return false }
            for k in 0..<name.count where bytes[f.key.lowerBound + k] != name[k] { return false }
            return true
        }
    }

    /// Binds field `f` to parameter `i` of `s`, as the replay binds the parser's value: text
    /// (in place: valid until the scan's next step), integer, real, 1/0, null.
    func bind(_ f: Field?, to s: SQLiteStatement, at i: Int32) {
        guard let f else { sqlite3_bind_null(s, i); return }
        let range = UnsafeBufferPointer(rebasing: bytes[f.value])
        switch f.kind {
        case .text:
            if let base = range.baseAddress, !range.isEmpty {
                sqlite3_bind_text(s, i, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(range.count), nil)
            } else {
                sqlite3_bind_text(s, i, "", 0, Raw.transient)
            }
        case .number:
            switch try? JSONParser.parse(range) {
            case .int(let v)?: sqlite3_bind_int64(s, i, v)
            case .double(let v)?: sqlite3_bind_double(s, i, v)
            default: sqlite3_bind_null(s, i)  // not reached: scan read it as a number
            }
        case .yes: sqlite3_bind_int64(s, i, 1)
        case .no: sqlite3_bind_int64(s, i, 0)
        case .null: sqlite3_bind_null(s, i)
        }
    }
}
