/// A parsed JSON value, as the ledger sees it on input.
///
/// Objects keep their fields in input order (duplicates are rejected by the parser);
/// integers are exact. Non-integral numbers are kept only so that an error message can
/// say what was found: no event field holds one.
///
/// ## Topics
/// - ``JSONParser``
/// - ``CanonicalJSON``
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short description of the value for error messages: `got "zoom"`, `got an array`.
    public var described: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s):
            let shown = s.unicodeScalars.count > 40 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) + "…" : s
            var out = "\""
            for u in shown.unicodeScalars {
                switch u {
                case "\u{0}": out += "\\u0000"
                case "\n": out += "\\n"
                case "\"": out += "\\\""
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        case .array(let a): return a.isEmpty ? "an empty array" : "an array"
        case .object: return "an object"
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
}

/// A JSON object with its fields in order. Small: events have at most a dozen fields,
/// so lookup is a linear scan, which beats hashing at that size. Each key is held beside its
/// value, in one array: one allocation an object (keys and values in two arrays were two, and
/// every event's `data` is an object).
public struct JSONObject: Equatable, Sendable {
    private var fields: [(key: String, value: JSONValue)]

    public init() { fields = [] }

    init(reservingCapacity n: Int) {
        fields = []
        fields.reserveCapacity(n)
    }

    public init(_ pairs: [(String, JSONValue)]) {
        fields = pairs.map { (key: $0.0, value: $0.1) }
    }

    /// The same fields in the same order (as the two arrays' synthesized `==` compared them).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.fields.count == b.fields.count else { return false }
        for i in a.fields.indices where a.fields[i].key != b.fields[i].key || a.fields[i].value != b.fields[i].value { return false }
        return true
    }

    public var count: Int { fields.count }
    public var indices: Range<Int> { fields.indices }
    /// The fields in order, as they are held (no copy).
    public var pairs: [(key: String, value: JSONValue)] { fields }
    public func key(at i: Int) -> String { fields[i].key }
    public func value(at i: Int) -> JSONValue { fields[i].value }

    /// True when one of the keys is `key`.
    public func has(_ key: String) -> Bool {
        for i in fields.indices where Self.same(fields[i].key, key) { return true }
        return false
    }

    public subscript(key: String) -> JSONValue? {
        get {
            for i in fields.indices where Self.same(fields[i].key, key) { return fields[i].value }
            return nil
        }
        set {
            if let i = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append((key: key, value: newValue))
            }
        }
    }

    /// String equality, deciding most unequal pairs by their UTF-8 length alone (`==` on two
    /// different strings takes the slow comparison path; keys are mostly of different lengths).
    @inline(__always) static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a == b
    }

    /// Appends without checking for an existing key; the parser checks duplicates itself.
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) {
        fields.append((key: key, value: value))
    }

    /// The string under `key` (nil when absent or not a string). Looked up in place: through
    /// `self[key]?.string` the whole value was copied first (a retain and a release of its payload).
    public func string(_ key: String) -> String? {
        for i in fields.indices where Self.same(fields[i].key, key) {
            if case .string(let s) = fields[i].value { return s }
            return nil
        }
        return nil
    }
    public func int(_ key: String) -> Int64? { self[key]?.int }
    public func strings(_ key: String) -> [String] { self[key]?.array?.compactMap(\.string) ?? [] }

    /// Field positions in canonical (byte) order of their keys: an insertion sort, since
    /// objects here have a dozen fields at most.
    var sortedIndices: [Int] {
        var order = Array(fields.indices)
        if order.count < 2 { return order }
        for i in 1..<order.count {
            let x = order[i]
            var j = i
            while j > 0 && fields[x].key.utf8.lexicographicallyPrecedes(fields[order[j - 1]].key.utf8) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = x
        }
        return order
    }
}
