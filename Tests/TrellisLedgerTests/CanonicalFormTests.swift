import Testing
@testable import TrellisLedger
@testable import TrellisCore

@Suite struct CanonicalFormTests {
    @Test func keysAreSortedAndStringsMinimallyEscaped() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":"x\"y\\z\n\u0001é\/","c":[true,null,{"z":0,"y":-3}]}"#)
        #expect(CanonicalJSON.string(v) == "{\"a\":\"x\\\"y\\\\z\\n\\u0001é/\",\"b\":1,\"c\":[true,null,{\"y\":-3,\"z\":0}]}")
    }

    /// An object keeps its fields in input order, each key beside its value: set, replace and
    /// remove by key, read in order, compared field by field in order.
    @Test func objectsKeepTheirFieldsInOrder() throws {
        guard case .object(var o) = try JSONParser.parse(#"{"b":1,"a":"x","c":[2]}"#) else { Issue.record("not an object"); return }
        #expect(o.pairs.map(\.key) == ["b", "a", "c"] && o.pairs.map(\.value) == [.int(1), .string("x"), .array([.int(2)])])
        #expect(o.indices.map { o.key(at: $0) } == ["b", "a", "c"] && o.value(at: 1) == .string("x"))
        #expect(o.has("a") && !o.has("A") && o.string("a") == "x" && o.string("b") == nil && o.int("b") == 1)
        o["a"] = .string("y")
        o["d"] = .bool(true)
        o["b"] = nil
        #expect(o.pairs.map(\.key) == ["a", "c", "d"] && o["a"] == .string("y") && o["b"] == nil && o.count == 3)
        #expect(o == JSONObject([("a", .string("y")), ("c", .array([.int(2)])), ("d", .bool(true))]))
        #expect(o != JSONObject([("c", .array([.int(2)])), ("a", .string("y")), ("d", .bool(true))]))  // order counts
        #expect(o != JSONObject([("a", .string("y")), ("c", .array([.int(2)]))]))
        #expect(CanonicalJSON.string(.object(o)) == #"{"a":"y","c":[2],"d":true}"#)
    }

    @Test func integralNumbersAreIntegers() throws {
        #expect(try JSONParser.parse("12.0") == .int(12))
        #expect(try JSONParser.parse("1E2") == .int(100))
        #expect(try JSONParser.parse("1.5") == .double(1.5))
    }

    @Test func parserRejectsWhatTheLedgerMustNeverStore() {
        for bad in [#"{"a":1,"a":2}"#, #"{"a":"\ud800"}"#, "{\"a\":\"\u{1}\"}", #"{"a":1} x"#, "[1,]", "{'a':1}", "01"] {
            #expect(throws: JSONParser.Failure.self, "\(bad)") { try JSONParser.parse(bad) }
        }
    }

    @Test func occurredAtHasOneSpellingPerInstant() {
        #expect(Timestamp.parseOccurredAt("2026-03-12")?.text == "2026-03-12T00:00:00Z")
        #expect(Timestamp.parseOccurredAt("2026-03-12T09:30:00.500Z")?.text == "2026-03-12T09:30:00.5Z")
        #expect(Timestamp.parseOccurredAt("2026-03-12T09:30:00.000Z")?.text == "2026-03-12T09:30:00Z")
        #expect(Timestamp.parseOccurredAt("2026-02-29") == nil)
        #expect(Timestamp.parseOccurredAt("2024-02-29")?.day == Timestamp.days(year: 2024, month: 2, day: 29))
        #expect(Timestamp.parseOccurredAt("2026-03-12T09:30:00+01:00") == nil)
        #expect(Timestamp.parseOccurredAt("2026-03-12T24:00:00Z") == nil)
    }

    @Test func civilDaysRoundTrip() {
        for d in stride(from: -800_000, through: 800_000, by: 997) {
            let c = Timestamp.civil(days: d)
            #expect(Timestamp.days(year: c.year, month: c.month, day: c.day) == d)
        }
        #expect(Timestamp.dateText(days: 0) == "1970-01-01")
        #expect(Timestamp.recordedText(micros: 1_772_000_000_123_456) == "2026-02-25T06:13:20.123456Z")
    }

    /// The canonical envelope and its hash are pinned: changing either breaks every ledger.
    @Test func canonicalEnvelopeAndHashArePinned() {
        let e = RecordedEvent(seq: 1, id: "n1", type: "NetworkFormed", v: 1, occurredAt: "2025-09-01T00:00:00Z",
                              recordedAt: "2026-01-01T12:00:00.000000Z", actor: "Lead \"A\"",
                              data: #"{"name":"North Pennines Network","network_id":"npn"}"#, hash: [])
        let bytes = CanonicalEnvelope.bytes(e)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"actor":"Lead \"A\"","data":{"name":"North Pennines Network","network_id":"npn"},"id":"n1","occurred_at":"2025-09-01T00:00:00Z","recorded_at":"2026-01-01T12:00:00.000000Z","seq":1,"type":"NetworkFormed","v":1}"#)
        let hash = bytes.withUnsafeBufferPointer { CanonicalEnvelope.chain(CanonicalEnvelope.genesis, $0) }
        // python3 -c 'import hashlib;print(hashlib.sha256(bytes(32)+open("f","rb").read()).hexdigest())'
        #expect(Hex.encode(hash) == "63a28c268b9bf2f13566dd5622c1a2898fd926cd9d44c0be0ff1596c2c356a2b")
    }

    @Test func personalFieldsRoundTripOnlyWithTheirKeyAndPerson() throws {
        let key = PersonalData.newKey()
        let sealed = try PersonalData.seal("Jane Smith", key: key, person: "p1", field: "name")
        #expect(sealed.hasPrefix("aes256gcm:"))
        #expect(PersonalData.open(sealed, key: key, person: "p1", field: "name") == "Jane Smith")
        #expect(PersonalData.open(sealed, key: key, person: "p2", field: "name") == nil)
        #expect(PersonalData.open(sealed, key: PersonalData.newKey(), person: "p1", field: "name") == nil)
    }
}
