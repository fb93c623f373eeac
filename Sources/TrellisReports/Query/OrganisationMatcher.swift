/// Finds the organisation a person means from what they typed: its id, or its name with
/// differences of case, spacing and punctuation ignored (`St. Mary's` = `st marys`).
/// Used by `--org` and `trellis audit`; the spreadsheet import matches names the same way.
///
/// - An id matches exactly (then case-insensitively, when that is unique).
/// - A name matches when its ``key(_:)`` equals the typed text's key; two organisations
///   with that key make the text ambiguous, and both are listed with their ids.
/// - Otherwise nothing matches, and the closest names (by edit distance between keys,
///   names starting with the text first) are offered.
///
/// ## Topics
/// - ``match(_:)``
/// - ``key(_:)``
/// - ``editDistance(_:_:)``
public struct OrganisationMatcher: Sendable {
    /// An organisation as the matcher sees it.
    public struct Candidate: Sendable, Hashable, CustomStringConvertible {
        public let id: String
        public let name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
        /// `Oak Learning Trust (org0004)`.
        public var description: String { name.isEmpty || name == id ? id : "\(name) (\(id))" }
    }

    /// What a typed text matched.
    public enum Match: Sendable, Equatable {
        /// One organisation: its id.
        case found(String)
        /// Several organisations share the name.
        case ambiguous([Candidate])
        /// None: the closest names, best first (at most five).
        case unknown(closest: [Candidate])
    }

    public let candidates: [Candidate]
    private let ids: Set<String>
    private let byKey: [String: [Candidate]]

    public init(_ candidates: [Candidate]) {
        self.candidates = candidates.sorted { $0.id < $1.id }
        ids = Set(candidates.map(\.id))
        var byKey: [String: [Candidate]] = [:]
        for c in self.candidates { byKey[Self.key(c.name), default: []].append(c) }
        self.byKey = byKey
    }

    public var count: Int { candidates.count }

    public func match(_ text: String) -> Match {
        if ids.contains(text) { return .found(text) }
        let lower = text.lowercased()
        let sameID = candidates.filter { $0.id.lowercased() == lower }
        if sameID.count == 1 { return .found(sameID[0].id) }
        let k = Self.key(text)
        if !k.isEmpty, let named = byKey[k] {
            return named.count == 1 ? .found(named[0].id) : .ambiguous(named)
        }
        return .unknown(closest: closest(to: text))
    }

    /// The five names (or ids) nearest `text`: those whose key starts with the text's key
    /// first, then by edit distance of keys; ties by id.
    public func closest(to text: String, limit: Int = 5) -> [Candidate] {
        let k = Array(Self.key(text).unicodeScalars)
        let lowerID = Array(text.lowercased().unicodeScalars)
        let scored = candidates.map { c -> (Int, Int, Candidate) in
            let ck = Array(Self.key(c.name).unicodeScalars)
            let prefix = !k.isEmpty && ck.starts(with: k) ? 0 : 1
            let byName = Self.editDistance(k, ck)
            let byID = Self.editDistance(lowerID, Array(c.id.lowercased().unicodeScalars))
            return (prefix, min(byName, byID), c)
        }
        return scored.sorted { ($0.0, $0.1, $0.2.id) < ($1.0, $1.1, $1.2.id) }.prefix(limit).map(\.2)
    }

    /// A name reduced to what identifies it: letters and digits only, lower case
    /// (`St. Mary's  C of E` → `stmaryscofe`).
    public static func key(_ name: String) -> String {
        String(String.UnicodeScalarView(name.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }))
    }

    /// Levenshtein distance (insertions, deletions, substitutions) between two sequences.
    public static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Edit distance between two strings, by Unicode scalar.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        editDistance(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }
}
