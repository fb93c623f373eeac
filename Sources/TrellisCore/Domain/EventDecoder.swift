/// An input envelope that passed every check that needs no ledger: JSON syntax, the
/// envelope fields, and the `data` fields of its type and version.
public struct DecodedEvent: Equatable, Sendable {
    /// The caller's idempotency key, or nil for the ledger to assign one.
    public var id: String?
    public var type: EventType
    public var v: Int64
    /// Canonical text (see ``Timestamp/parseOccurredAt(_:)``).
    public var occurredAt: String
    public var day: Int
    public var actor: String?
    public var data: JSONObject

    public init(id: String?, type: EventType, v: Int64, occurredAt: String, day: Int, actor: String?, data: JSONObject) {
        self.id = id; self.type = type; self.v = v; self.occurredAt = occurredAt; self.day = day; self.actor = actor; self.data = data
    }
}

/// The decoder's verdict on one line.
public enum DecodeResult: Equatable, Sendable {
    case success(DecodedEvent)
    case failure([InputError])
}

/// Decodes and validates envelopes. Pure: the same bytes give the same verdict anywhere,
/// which is what lets the JSON Schemas under `schemas/` be checked against it.
///
/// ## Topics
/// - ``decode(line:number:)``
/// - ``maxLineBytes``
public enum EventDecoder {
    /// Longer lines are refused before parsing: no event comes near this.
    public static let maxLineBytes = 1 << 20

    static let ledgerKeys: Set<String> = ["seq", "recorded_at", "hash"]

    public static func decode(line bytes: UnsafeBufferPointer<UInt8>, number: Int) -> DecodeResult {
        var canonicalData: Range<Int>?
        return decode(line: bytes, number: number, canonicalData: &canonicalData)
    }

    /// ``decode(line:number:)``, also giving where the value of `data` lies in the line when
    /// parsing it showed its text to be in canonical form already (``CanonicalForm``), so that
    /// it can be stored as it came; nil says nothing (it is then written anew, the same bytes).
    public static func decode(line bytes: UnsafeBufferPointer<UInt8>, number: Int, canonicalData: inout Range<Int>?) -> DecodeResult {
        var recent = Recent()
        return decode(line: bytes, number: number, canonicalData: &canonicalData, recent: &recent)
    }

    /// The previous lines' `occurred_at` and `actor`, handed out again while lines repeat them
    /// (the attendance of one meeting shares both; see ``LastSeen``).
    public struct Recent {
        fileprivate var occurred = LastSeen<Timestamp.Instant>()
        fileprivate var actor = LastSeen<String>()

        public init() {}
    }

    /// ``decode(line:number:canonicalData:)`` for one of a run of lines, sharing what they
    /// repeat through `recent`.
    public static func decode(line bytes: UnsafeBufferPointer<UInt8>, number: Int, canonicalData: inout Range<Int>?,
                              recent: inout Recent) -> DecodeResult {
        func err(_ path: String, _ expected: String, _ found: String? = nil) -> DecodeResult {
            .failure([InputError(line: number, path: path, expected: expected, found: found)])
        }
        if bytes.count > maxLineBytes {
            return err("", "a line of at most \(maxLineBytes) bytes", "\(bytes.count) bytes")
        }
        if let plain = decodePlain(line: bytes, number: number, canonicalData: &canonicalData, recent: &recent) { return plain }
        return decodeGeneral(line: bytes, number: number)
    }

    /// Any line of at most ``maxLineBytes``: parsed into a tree, then checked field by field.
    /// Every error message comes from here.
    static func decodeGeneral(line bytes: UnsafeBufferPointer<UInt8>, number: Int) -> DecodeResult {
        func err(_ path: String, _ expected: String, _ found: String? = nil) -> DecodeResult {
            .failure([InputError(line: number, path: path, expected: expected, found: found)])
        }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch {
            return err("", "not valid JSON: \(error.message) at byte \(error.offset + 1)")
        }
        guard case .object(let env) = root else {
            return err("", "a JSON object (one event envelope per line)", root.described)
        }
        return decode(envelope: env, number: number)
    }

    public static func decode(json: String, number: Int) -> DecodeResult {
        var copy = json
        return copy.withUTF8 { decode(line: $0, number: number) }
    }

    static func decode(envelope env: JSONObject, number: Int) -> DecodeResult {
        var errors: [InputError] = []
        func add(_ path: String, _ expected: String, _ found: String?) {
            errors.append(InputError(line: number, path: path, expected: expected, found: found))
        }
        // One pass over the envelope's fields: a look-up per field name and a set of the known
        // names cost a third of decoding the envelope (callgrind).
        var typeValue: JSONValue?, idValue: JSONValue?, vValue: JSONValue?, occurredValue: JSONValue?
        var actorValue: JSONValue?, dataValue: JSONValue?
        var unknown: [String] = []
        for k in env.indices {
            let key = env.key(at: k)
            switch key.utf8.count {
            case 4 where key == "type": typeValue = env.value(at: k)
            case 2 where key == "id": idValue = env.value(at: k)
            case 1 where key == "v": vValue = env.value(at: k)
            case 11 where key == "occurred_at": occurredValue = env.value(at: k)
            case 5 where key == "actor": actorValue = env.value(at: k)
            case 4 where key == "data": dataValue = env.value(at: k)
            default: unknown.append(key)
            }
        }
        guard let typeValue else {
            return .failure([InputError(line: number, path: "envelope.type", expected: "an event type", found: "nothing (the field is missing)")])
        }
        guard let typeName = typeValue.string, let type = EventType.named(typeName) else {
            return .failure([InputError(line: number, path: "envelope.type",
                                        expected: "one of " + EventType.allCases.map(\.rawValue).joined(separator: ", "),
                                        found: typeValue.described)])
        }
        // Built only for an error: one string concatenation a line.
        var prefix: String { type.rawValue + "." }
        for key in unknown {
            if ledgerKeys.contains(key) {
                add(prefix + key, "no '\(key)' on input: the ledger assigns it (to carry recorded events over, import an archive from 'trellis export')", nil)
            } else {
                add(prefix + key, "only id, type, v, occurred_at, actor, data in an envelope", "an unknown field")
            }
        }
        var id: String?
        if let v = idValue {
            if let s = v.string, isIdentifier(s) { id = s } else { add(prefix + "id", identifierExpectation, v.described) }
        }
        var version: Int64 = 1
        if let v = vValue {
            if let i = v.int, EventType.knownVersions.contains(i) { version = i } else {
                add(prefix + "v", "a known version of \(type.rawValue) (1)", v.described)
            }
        }
        var occurred: Timestamp.Instant?
        if let v = occurredValue {
            if let s = v.string, let inst = Timestamp.parseOccurredAt(s) { occurred = inst } else {
                add(prefix + "occurred_at", "a UTC date or date-time (2026-03-12 or 2026-03-12T09:30:00Z)", v.described)
            }
        } else {
            add(prefix + "occurred_at", "a UTC date or date-time", "nothing (the field is missing)")
        }
        var actor: String?
        if let v = actorValue {
            if let s = v.string, let problem = textProblem(s, min: 0, max: 200) {
                add(prefix + "actor", problem, v.described)
            } else if let s = v.string { actor = s } else {
                add(prefix + "actor", "text of at most 200 characters", v.described)
            }
        }
        var data = JSONObject()
        if let v = dataValue {
            if case .object(let o) = v {
                data = o
                validate(data: o, of: type, path: type.rawValue + ".", into: &errors, line: number)
            } else {
                add(prefix + "data", "an object", v.described)
            }
        } else {
            add(prefix + "data", "an object", "nothing (the field is missing)")
        }
        guard errors.isEmpty, let occurred else { return .failure(errors) }
        return .success(DecodedEvent(id: id, type: type, v: version, occurredAt: occurred.text, day: occurred.day, actor: actor, data: data))
    }

    /// The envelope of a plain line, read straight from its bytes; nil when the line is not plain,
    /// and then the general path (a parse tree, then ``decode(envelope:number:)``) decides.
    ///
    /// Plain: one object of envelope keys only, each once, written without escapes; `id`, `type`,
    /// `v`, `occurred_at` and `actor` valid as they stand (an identifier, a known type written
    /// exactly, a known version as plain digits, a date or date-time, text without escapes or
    /// control characters); `data` an object whose fields are all valid. That is every line
    /// Trellis and most tools write, and then both paths give the same event. Anything else,
    /// every error included, goes the general way, so every message comes from one place.
    /// Building the envelope's tree cost two arrays and the type's string a line, and a
    /// look-up of each field by name.
    /// `canonicalData` as for ``decode(line:number:canonicalData:)``, set only when it answers.
    static func decodePlain(line b: UnsafeBufferPointer<UInt8>, number: Int, canonicalData: inout Range<Int>?,
                            recent: inout Recent) -> DecodeResult? {
        var dataText: Range<Int>?
        let n = b.count
        var i = 0
        @inline(__always) func skipSpace() {
            while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }
        /// The bytes of a string starting at `i` (its opening quote) with no escape and no
        /// control character, `i` then past its closing quote; nil otherwise.
        @inline(__always) func plainString() -> UnsafeBufferPointer<UInt8>? {
            guard i < n, b[i] == UInt8(ascii: "\"") else { return nil }
            let start = i + 1
            var j = start
            while j < n {
                let c = b[j]
                if c == UInt8(ascii: "\"") { i = j + 1; return UnsafeBufferPointer(rebasing: b[start..<j]) }
                if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
                j += 1
            }
            return nil
        }
        skipSpace()
        guard i < n, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var seen: UInt8 = 0
        var id: String?, type: EventType?, version: Int64 = 1, occurred: Timestamp.Instant?, actor: String?, data: JSONObject?
        while true {
            skipSpace()
            guard let key = plainString() else { return nil }
            let field = EnvelopeField.of(key)
            guard field != 0, seen & field == 0 else { return nil }
            seen |= field
            skipSpace()
            guard i < n, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            switch field {
            case EnvelopeField.id:
                guard let s = plainString(), s.count >= 1, s.count <= 128, s.allSatisfy(isIdentifierByte) else { return nil }
                id = String(decoding: s, as: UTF8.self)
            case EnvelopeField.type:
                guard let s = plainString(), let t = EventType.named(utf8: s) else { return nil }
                type = t
            case EnvelopeField.v:
                let start = i
                var value: Int64 = 0
                while i < n, b[i] >= 0x30, b[i] <= 0x39, i - start < 18 {
                    value = value * 10 + Int64(b[i] - 0x30)
                    i += 1
                }
                let digits = i - start
                guard digits > 0, digits == 1 || b[start] != 0x30,
                      i == n || !(b[i] >= 0x30 && b[i] <= 0x39 || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")),
                      EventType.knownVersions.contains(value) else { return nil }
                version = value
            case EnvelopeField.occurredAt:
                guard let s = plainString(), let instant = recent.occurred.value(of: s, orTry: { s in
                    guard s.count <= 64, s.allSatisfy({ $0 < 0x80 }) else { return nil }
                    return Timestamp.parseOccurredAt(String(decoding: s, as: UTF8.self))
                }) else { return nil }
                occurred = instant
            case EnvelopeField.actor:
                guard let s = plainString(), let text = recent.actor.value(of: s, orTry: { s in
                    var high: UInt8 = 0
                    for c in s { high |= c }
                    guard let text = high < 0x80 ? String(decoding: s, as: UTF8.self) : String(validating: s, as: UTF8.self),
                          textProblem(text, min: 0, max: 200) == nil else { return nil }
                    return text
                }) else { return nil }
                actor = text
            default:  // data
                guard i < n, b[i] == UInt8(ascii: "{") else { return nil }
                let start = i
                guard let (value, end, canonical) = try? JSONParser.parseValue(b, at: i, depth: 1), case .object(let o) = value else { return nil }
                i = end
                data = o
                if canonical { dataText = start..<end }
            }
            skipSpace()
            guard i < n else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            guard b[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            break
        }
        skipSpace()
        guard i == n, let type, let occurred, let data else { return nil }
        var errors: [InputError] = []
        validate(data: data, of: type, path: type.rawValue + ".", into: &errors, line: number)
        guard errors.isEmpty else { return nil }
        canonicalData = dataText
        return .success(DecodedEvent(id: id, type: type, v: version, occurredAt: occurred.text, day: occurred.day, actor: actor, data: data))
    }

    /// The envelope's keys as bits (0: not an envelope key), matched on their bytes.
    enum EnvelopeField {
        static let id: UInt8 = 1, type: UInt8 = 2, v: UInt8 = 4, occurredAt: UInt8 = 8, actor: UInt8 = 16, data: UInt8 = 32

        @inline(__always) static func of(_ k: UnsafeBufferPointer<UInt8>) -> UInt8 {
            func equals(_ word: StaticString) -> Bool {
                guard word.utf8CodeUnitCount == k.count else { return false }
                let w = word.utf8Start
                for j in 0..<k.count where w[j] != k[j] { return false }
                return true
            }
            switch k.count {
            case 1: return k[0] == UInt8(ascii: "v") ? v : 0
            case 2: return equals("id") ? id : 0
            case 4: return equals("type") ? type : equals("data") ? data : 0
            case 5: return equals("actor") ? actor : 0
            case 11: return equals("occurred_at") ? occurredAt : 0
            default: return 0
            }
        }
    }

    static let identifierExpectation = "an identifier of 1–128 characters from A–Z a–z 0–9 . _ : -"

    public static func isIdentifier(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= 128 else { return false }
        // Over the string's own bytes where it has them (every parsed string does): iterating
        // the UTF-8 view a byte at a time was 3 % of decoding.
        if let ok = u.withContiguousStorageIfAvailable({ b in b.allSatisfy(isIdentifierByte) }) { return ok }
        return u.allSatisfy(isIdentifierByte)
    }

    @inline(__always) static func isIdentifierByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// nil when `s` is acceptable free text; otherwise what was expected.
    public static func textProblem(_ s: String, min: Int, max: Int) -> String? {
        // Plain ASCII (names, actors, titles almost always) counts its bytes and looks for a NUL
        // byte over the string's own storage; anything else is counted scalar by scalar.
        let ascii: (count: Int, nul: Bool)?? = s.utf8.withContiguousStorageIfAvailable { b in
            var high: UInt8 = 0, nul = false
            for c in b { high |= c; nul = nul || c == 0 }
            return high < 0x80 ? (b.count, nul) : nil
        }
        var n = 0
        if let ascii = ascii ?? nil {
            if ascii.nul { return "text without NUL characters" }
            n = ascii.count
        } else {
            for u in s.unicodeScalars {
                if u == "\u{0}" { return "text without NUL characters" }
                n += 1
            }
        }
        if n < min { return min == 1 ? "non-empty text" : "text of at least \(min) characters" }
        if n > max { return "text of at most \(max) characters (found \(n))" }
        return nil
    }

    public static func validate(data: JSONObject, of type: EventType, path makePrefix: @autoclosure () -> String, into errors: inout [InputError], line: Int) {
        // The prefix is built only for an error: a string concatenation a line otherwise.
        var prefix: String { makePrefix() }
        func add(_ path: String, _ expected: String, _ found: String?) {
            errors.append(InputError(line: line, path: path, expected: expected, found: found))
        }
        let specs = type.fields
        for (key, _) in data.pairs where !specs.contains(where: { JSONObject.same($0.name, key) }) {
            add(prefix + key, "only " + specs.map(\.name).joined(separator: ", ") + " in \(type.rawValue) data", "an unknown field")
        }
        for spec in specs {
            // The path is built only for an error: one string concatenation a field was 7 % of decoding.
            guard let value = data[spec.name] else {
                if spec.required { add(prefix + spec.name, expectation(spec.kind), "nothing (the field is missing)") }
                continue
            }
            if let problem = check(value, spec.kind, path: { prefix + spec.name }) { add(problem.path, problem.expected, problem.found) }
        }
        if type == .organisationUpdated, data["name"] == nil, data["schools"] == nil, data["region"] == nil {
            add(prefix + "data", "at least one of name, schools, region to update", "none")
        }
    }

    static func expectation(_ kind: FieldSpec.Kind) -> String {
        switch kind {
        case .identifier: return identifierExpectation
        case .text(let min, let max): return min > 0 ? "non-empty text of at most \(max) characters" : "text of at most \(max) characters"
        case .email: return "an e-mail address (text with one @, at most 254 characters)"
        case .oneOf(let options): return "one of " + options.joined(separator: ", ")
        case .date: return "a date YYYY-MM-DD"
        case .integer(let min, let max): return "a whole number from \(min) to \(max)"
        case .identifiers(let min, let max): return "a list of \(min)–\(max) distinct identifiers"
        case .texts(let max): return "a list of at most \(max) texts"
        case .subset(let options, let min): return (min > 0 ? "a non-empty list" : "a list") + " of distinct values from " + options.joined(separator: ", ")
        case .outcomes: return "a list of 1–20 outcomes {area, judgement, actions?}"
        }
    }

    private struct Problem { var path: String; var expected: String; var found: String? }

    private static func check(_ value: JSONValue, _ kind: FieldSpec.Kind, path pathOf: () -> String) -> Problem? {
        var path: String { pathOf() }
        var bad: Problem { Problem(path: path, expected: expectation(kind), found: value.described) }
        switch kind {
        case .identifier:
            guard let s = value.string, isIdentifier(s) else { return bad }
        case .text(let min, let max):
            guard let s = value.string else { return bad }
            if let p = textProblem(s, min: min, max: max) { return Problem(path: path, expected: p, found: value.described) }
        case .email:
            guard let s = value.string else { return bad }
            let n = s.unicodeScalars.count
            let parts = s.unicodeScalars.split(separator: "@", omittingEmptySubsequences: false)
            guard n >= 3, n <= 254, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !s.unicodeScalars.contains("\u{0}") else { return bad }
        case .oneOf(let options):
            guard let s = value.string, options.contains(s) else { return bad }
        case .date:
            guard let s = value.string, Timestamp.parseDate(s) != nil else { return bad }
        case .integer(let min, let max):
            guard let i = value.int, i >= min, i <= max else { return bad }
        case .identifiers(let min, let max):
            guard let a = value.array, a.count >= min, a.count <= max else { return bad }
            var seen = Set<String>()
            for (k, item) in a.enumerated() {
                guard let s = item.string, isIdentifier(s) else {
                    return Problem(path: "\(path)[\(k)]", expected: identifierExpectation, found: item.described)
                }
                if !seen.insert(s).inserted { return Problem(path: "\(path)[\(k)]", expected: "no repeated identifier", found: item.described) }
            }
        case .texts(let max):
            guard let a = value.array, a.count <= max else { return bad }
            for (k, item) in a.enumerated() {
                guard let s = item.string else { return Problem(path: "\(path)[\(k)]", expected: "text", found: item.described) }
                if let p = textProblem(s, min: 0, max: 500) { return Problem(path: "\(path)[\(k)]", expected: p, found: item.described) }
            }
        case .subset(let options, let min):
            guard let a = value.array, a.count >= min else { return bad }
            var seen = Set<String>()
            for (k, item) in a.enumerated() {
                guard let s = item.string, options.contains(s) else {
                    return Problem(path: "\(path)[\(k)]", expected: "one of " + options.joined(separator: ", "), found: item.described)
                }
                if !seen.insert(s).inserted { return Problem(path: "\(path)[\(k)]", expected: "no repeated value", found: item.described) }
            }
        case .outcomes:
            guard let a = value.array, a.count >= 1, a.count <= 20 else { return bad }
            for (k, item) in a.enumerated() {
                let p = "\(path)[\(k)]"
                guard let o = item.object else { return Problem(path: p, expected: "an outcome {area, judgement, actions?}", found: item.described) }
                for (key, _) in o.pairs where !["area", "judgement", "actions"].contains(key) {
                    return Problem(path: p + "." + key, expected: "only area, judgement, actions in an outcome", found: "an unknown field")
                }
                for (field, sub) in [("area", FieldSpec.Kind.oneOf(Vocabulary.reviewAreas)), ("judgement", .oneOf(Vocabulary.judgements))] {
                    guard let v = o[field] else { return Problem(path: p + "." + field, expected: expectation(sub), found: "nothing (the field is missing)") }
                    if let problem = check(v, sub, path: { p + "." + field }) { return problem }
                }
                if let v = o["actions"], let problem = check(v, .integer(min: 0, max: 1_000_000), path: { p + ".actions" }) { return problem }
            }
        }
        return nil
    }
}
