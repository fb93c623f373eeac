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
/// so lookup is a linear scan, which beats hashing at that size.
public struct JSONObject: Equatable, Sendable {
    public private(set) var keys: [String]
    public private(set) var values: [JSONValue]

    public init() { keys = []; values = [] }

    init(reservingCapacity n: Int) {
        keys = []
        values = []
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    public init(_ pairs: [(String, JSONValue)]) {
        keys = pairs.map(\.0)
        values = pairs.map(\.1)
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? {
        get {
            for i in keys.indices where Self.same(keys[i], key) { return values[i] }
            return nil
        }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key); values.append(newValue)
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
        keys.append(key); values.append(value)
    }

    /// The string under `key` (nil when absent or not a string). Looked up in place: through
    /// `self[key]?.string` the whole value was copied first (a retain and a release of its payload).
    public func string(_ key: String) -> String? {
        for i in keys.indices where Self.same(keys[i], key) {
            if case .string(let s) = values[i] { return s }
            return nil
        }
        return nil
    }
    public func int(_ key: String) -> Int64? { self[key]?.int }
    public func strings(_ key: String) -> [String] { self[key]?.array?.compactMap(\.string) ?? [] }

    /// Field positions in canonical (byte) order of their keys: an insertion sort, since
    /// objects here have a dozen fields at most.
    var sortedIndices: [Int] {
        var order = Array(keys.indices)
        if order.count < 2 { return order }
        for i in 1..<order.count {
            let x = order[i]
            var j = i
            while j > 0 && keys[x].utf8.lexicographicallyPrecedes(keys[order[j - 1]].utf8) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = x
        }
        return order
    }
}
