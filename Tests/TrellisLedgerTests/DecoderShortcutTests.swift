import Foundation
import Testing
@testable import TrellisLedger
@testable import TrellisCore

/// The import's decoding shortcuts give what the long way gives: object keys the catalogue
/// knows are handed out as its own strings (``KnownKeys``), a type's fields come from an array
/// rather than a dictionary, and `JSONObject.string` looks up in place. Each is checked
/// against the plain path, including the inputs a shortcut must leave to it.
@Suite struct DecoderShortcutTests {
    /// Every known key, and keys that only look like one (a prefix, a longer name, other case,
    /// an escape, non-ASCII), parse to exactly the text they spell.
    @Test func keysReadTheSameThroughTheKnownKeyTable() throws {
        var names = Set(["id", "type", "v", "occurred_at", "actor", "data", "seq", "recorded_at", "hash", "area", "judgement", "actions"])
        for type in EventType.allCases { for spec in type.fields { names.insert(spec.name) } }
        let lookalikes = ["i", "ids", "org_i", "org_idx", "Org_id", "ORG_ID", "network_id_", "réunion", "", "person_id\u{7f}", "x"]
        for key in names.sorted() + lookalikes {
            var line: [UInt8] = Array("{".utf8)
            CanonicalJSON.writeString(key, into: &line)
            line += Array(":1}".utf8)
            let parsed = try line.withUnsafeBufferPointer { try JSONParser.parse($0) }
            #expect(parsed.object?.pairs.map(\.key) == [key], "\(key)")
        }
        // Written with an escape, a known key is still that key: the duplicate is found.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"id":"a","\u0069d":"b"}"#) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"org_id":"a","org_id":"b"}"#) }
        let escaped = try JSONParser.parse(#"{"\u006frg_id":"a"}"#)
        #expect(escaped.object?.string("org_id") == "a")
        // A raw control character in a key is refused as before.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("{\"org\u{1}_id\":1}") }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"org_id:1}"#) }
    }

    /// Data that comes in canonical form is stored as it came; any other form is written anew.
    /// Either way the stored bytes are the canonical writer's (the hash covers them), and the
    /// range the parser gives for `data` is exactly its value.
    @Test func dataStoredAsItCameIsWhatTheCanonicalWriterGives() throws {
        let datas = [
            #"{"meeting_id":"m1","org_id":"oak","status":"present"}"#,            // canonical
            #"{"org_id":"oak","meeting_id":"m1","status":"present"}"#,            // keys out of order
            #"{ "meeting_id" : "m1", "org_id":"oak","status":"present" }"#,       // whitespace
            #"{"meeting_id":"m\u0031","org_id":"oak","status":"present"}"#,  // an escape
            #"{"document_id":"d1","org_id":"oak","network_id":"npn","title":"Caf\u00e9 policy","kind":"KIND"}"#,    // an escape, keys out of order
            #"{"document_id":"d1","kind":"KIND","network_id":"npn","org_id":"oak","title":"Café policy"}"#,  // raw UTF-8, canonical
            #"{"areas":["AREA"],"due_by":"2026-01-31","network_id":"npn","review_id":"r1","reviewee_org_id":"ash","reviewer_org_ids":["oak","elm"]}"#,
            #"{"org_id":"oak","schools":7.0}"#,                                    // 7.0 is written 7
            #"{"org_id":"oak","schools":7}"#,
        ]
        let types = ["AttendanceRecorded", "AttendanceRecorded", "AttendanceRecorded", "AttendanceRecorded",
                     "DocumentShared", "DocumentShared", "ReviewCommitted", "OrganisationUpdated", "OrganisationUpdated"]
        for (type, template) in zip(types, datas) {
            let data = template.replacingOccurrences(of: "KIND", with: Vocabulary.documentKinds[0])
                .replacingOccurrences(of: "AREA", with: Vocabulary.reviewAreas[0])
            var line = Array(#"{"id":"x1","type":""#.utf8) + Array(type.utf8) + Array(#"","occurred_at":"2025-10-01","data":"#.utf8)
            let dataStart = line.count
            line += Array(data.utf8)
            let dataEnd = line.count
            line += Array("}".utf8)
            var range: Range<Int>?
            let decoded = line.withUnsafeBufferPointer { EventDecoder.decode(line: $0, number: 1, canonicalData: &range) }
            // Given only for canonical text, and then exactly the value of `data`.
            #expect(range == (CanonicalForm.isCanonical(Array(data.utf8)) ? dataStart..<dataEnd : nil), "\(data)")
            guard case .success(let event) = decoded else { Issue.record("\(data): \(decoded)"); continue }
            var got: [UInt8]?
            try DecodePipeline.run(feed: { visit in _ = try line.withUnsafeBufferPointer { try visit($0, 1, nil) } }) { items, i in
                got = items[i].prepared?.bytes
                return true
            }
            #expect(got == CanonicalJSON.bytes(.object(event.data)), "\(data)")
        }
    }

    /// A kept value is handed out again only for the very same bytes, and a value that could
    /// not be made is not kept (the import's and the archive reader's repeated fields).
    @Test func aValueIsHandedOutAgainOnlyForTheSameBytes() {
        var made = 0
        var seen = LastSeen<String>()
        func value(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBufferPointer { b in
                seen.value(of: b, orTry: { b in
                    made += 1
                    return b.count > 3 ? String(decoding: b, as: UTF8.self) : nil
                })
            }
        }
        #expect(value("2025-01-01") == "2025-01-01" && made == 1)
        #expect(value("2025-01-01") == "2025-01-01" && made == 1)  // kept
        #expect(value("2025-01-02") == "2025-01-02" && made == 2)  // one byte differs
        #expect(value("2025-01-0") == "2025-01-0" && made == 3)    // a prefix
        #expect(value("abc") == nil && made == 4)                  // not made, not kept
        #expect(value("abc") == nil && made == 5)
        #expect(value("2025-01-0") == "2025-01-0" && made == 5)    // the last value made is still kept
        var recorded = LastSeen<String>()
        let a = Array("x".utf8).withUnsafeBufferPointer { recorded.value(of: $0, orMake: { String(decoding: $0, as: UTF8.self) + "!" }) }
        let b = Array("x".utf8).withUnsafeBufferPointer { recorded.value(of: $0, orMake: { _ in "never" }) }
        #expect(a == "x!" && b == "x!")
    }

    /// Types are found by their exact names only, from a string or from bytes.
    @Test func typesAreFoundByTheirExactNames() {
        for type in EventType.allCases {
            #expect(EventType.named(type.rawValue) == type)
            #expect(Array(type.rawValue.utf8).withUnsafeBufferPointer { EventType.named(utf8: $0) } == type)
        }
        for name in ["", "Member", "MemberJoinedX", "memberJoined", "MEMBERJOINED", "MemberJoine", "MemberJoinee", "Réunion", "MemberLeft\u{0}"] {
            #expect(EventType.named(name) == nil, "\(name)")
            #expect(Array(name.utf8).withUnsafeBufferPointer { EventType.named(utf8: $0) } == nil, "\(name)")
        }
    }

    @Test func fieldsOfEveryTypeAreTheCatalogues() {
        for type in EventType.allCases {
            #expect(type.fields.map(\.name) == (Catalogue.fields[type] ?? []).map(\.name), "\(type)")
        }
    }

    /// Text checks count Unicode scalars and refuse NUL; the ASCII shortcut counts bytes.
    @Test func textChecksCountScalarsWithOrWithoutTheASCIIShortcut() {
        func reference(_ s: String, min: Int, max: Int) -> String? {
            if s.unicodeScalars.contains("\u{0}") { return "text without NUL characters" }
            let n = s.unicodeScalars.count
            if n < min { return min == 1 ? "non-empty text" : "text of at least \(min) characters" }
            if n > max { return "text of at most \(max) characters (found \(n))" }
            return nil
        }
        let samples = ["", "a", "Regional coordinator", "ab\u{0}c", "\u{0}", String(repeating: "x", count: 200),
                       String(repeating: "x", count: 201), String(repeating: "é", count: 200), String(repeating: "é", count: 201),
                       "naïve\u{0}", "🙂🙂", "\u{7f}\u{1}", String(repeating: "ab", count: 40) + "ü"]
        for s in samples {
            for (min, max) in [(0, 200), (1, 200), (1, 2), (3, 500)] {
                #expect(EventDecoder.textProblem(s, min: min, max: max) == reference(s, min: min, max: max), "\(s.debugDescription) \(min)…\(max)")
            }
        }
    }

    @Test func stringLooksUpTheFirstFieldOfThatNameAndOnlyStrings() throws {
        let o = try #require(try JSONParser.parse(#"{"a":"x","b":1,"c":["y"],"d":null,"ab":"z"}"#).object)
        #expect(o.string("a") == "x")
        #expect(o.string("ab") == "z")
        #expect(o.string("b") == nil)
        #expect(o.string("c") == nil)
        #expect(o.string("d") == nil)
        #expect(o.string("e") == nil)
        for key in ["a", "ab", "b", "c", "d", "e"] { #expect(o.string(key) == o[key]?.string, "\(key)") }
    }
}
