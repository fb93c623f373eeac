import Testing
@testable import TrellisCore
@testable import TrellisLedger

/// The one canonical envelope writer and the one pipeline, as the layering left them.
@Suite struct CoreLayeringTests {
    static let events: [RecordedEvent] = {
        let actors: [String?] = [nil, "Lead", "Lead \"A\" \\ back", "tab\there\nline\u{1}\u{8}\u{C}\u{1F}", "Zoë ✓ \u{202E}"]
        let data = [#"{}"#, #"{"name":"North \"P\" é","network_id":"npn"}"#, #"{"a":[1,-2,{"b":null}],"c":true}"#]
        var out: [RecordedEvent] = []
        for (k, actor) in actors.enumerated() {
            for (j, d) in data.enumerated() {
                let seq: Int64 = [1, 9, 10, 1_234_567_890_123, Int64.max][k]
                let v: Int64 = [1, 2, 0, -7, Int64.min][j]
                out.append(RecordedEvent(seq: seq, id: "e-\(k).\(j):x_y", type: "NetworkFormed", v: v,
                                         occurredAt: "2025-09-01T09:30:00.5Z", recordedAt: "2026-01-01T12:00:00.000000Z",
                                         actor: actor, data: d, hash: (0..<32).map { UInt8(($0 * 37 + k + j) & 0xFF) }))
            }
        }
        return out
    }()

    /// What the canonical form says the envelope is, built as a JSON object and written by
    /// the canonical JSON writer (keys sorted there): an oracle independent of the envelope writer.
    static func oracle(_ e: RecordedEvent, withHash: Bool) throws -> [UInt8] {
        var pairs: [(String, JSONValue)] = [("seq", .int(e.seq)), ("id", .string(e.id)), ("type", .string(e.type)), ("v", .int(e.v)),
                                           ("occurred_at", .string(e.occurredAt)), ("recorded_at", .string(e.recordedAt)),
                                           ("data", try JSONParser.parse(e.data))]
        if let actor = e.actor { pairs.append(("actor", .string(actor))) }
        if withHash { pairs.append(("hash", .string(Hex.encode(e.hash)))) }
        return CanonicalJSON.bytes(.object(JSONObject(pairs)))
    }

    @Test func everyEntryOfTheEnvelopeWriterWritesTheCanonicalForm() throws {
        for e in Self.events {
            let expected = try Self.oracle(e, withHash: false)
            let expectedLine = try Self.oracle(e, withHash: true) + [0x0A]
            #expect(CanonicalEnvelope.bytes(e) == expected, "\(e)")
            #expect(CanonicalEnvelope.bytes(e, withHash: true) + [0x0A] == expectedLine, "\(e)")

            var fromText: [UInt8] = []
            CanonicalEnvelope.write(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt, recordedAt: e.recordedAt,
                                    actor: e.actor, data: Array(e.data.utf8), into: &fromText)
            #expect(fromText == expected, "\(e)")

            // From column bytes, as verify and export read them from SQLite.
            let columns = [e.id, e.type, e.occurredAt, e.recordedAt, e.actor ?? "", e.data].map { Array($0.utf8) }
            func fromColumns(hash: Bool, newline: Bool) -> [UInt8] {
                var out: [UInt8] = [0x7A]  // appends, never replaces
                columns[0].withUnsafeBufferPointer { id in columns[1].withUnsafeBufferPointer { type in
                    columns[2].withUnsafeBufferPointer { occurred in columns[3].withUnsafeBufferPointer { recorded in
                        columns[4].withUnsafeBufferPointer { actor in columns[5].withUnsafeBufferPointer { data in
                            e.hash.withUnsafeBufferPointer { h in
                                CanonicalEnvelope.write(seq: e.seq, id: id, type: type, v: e.v, occurredAt: occurred, recordedAt: recorded,
                                                        actor: e.actor == nil ? nil : actor, data: data, hash: hash ? h : nil,
                                                        newline: newline, into: &out)
                            }
                        } }
                    } }
                } }
                return Array(out.dropFirst())
            }
            #expect(fromColumns(hash: false, newline: false) == expected, "\(e)")
            #expect(fromColumns(hash: true, newline: true) == expectedLine, "\(e)")
        }
    }

    /// The chain check's buffer (verify) hashes the canonical form: one buffer reused event
    /// after event, previous hashes of any length (a damaged stored hash), integers of every
    /// width, actors that need escaping, and a `data` larger than the buffer's first size.
    @Test func theChainBufferHashesThePreviousHashAndTheCanonicalForm() throws {
        let big = RecordedEvent(seq: 3, id: "e-big", type: "DocumentAdded", v: 1, occurredAt: "2025-09-01", recordedAt: "2026-01-01T12:00:00.000000Z",
                                actor: String(repeating: "\"", count: 3000), data: #"{"x":""# + String(repeating: "y", count: 10_000) + #""}"#, hash: [])
        var events = Self.events + [big]
        for v: Int64 in [0, 9, 10, 99, 100, -1, -9, -10, 1_000_000, Int64.max, Int64.min, Int64.min + 1] {
            events.append(RecordedEvent(seq: v == Int64.min ? 1 : abs(v == Int64.min + 1 ? 1 : v), id: "e", type: "T", v: v,
                                        occurredAt: "2025-09-01", recordedAt: "2026-01-01T12:00:00.000000Z", actor: nil, data: "{}", hash: []))
        }
        var buffer = ChainBuffer()
        for (k, e) in events.enumerated() {
            let previous: [UInt8] = [CanonicalEnvelope.genesis, (0..<32).map { UInt8($0 + k) }, [], [1, 2, 3], Array(repeating: 0xAB, count: 5000)][k % 5]
            previous.withUnsafeBufferPointer { buffer.setPrevious($0) }
            #expect(buffer.previous == previous)
            let expected = try Self.oracle(e, withHash: false).withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
            let columns = [e.id, e.type, e.occurredAt, e.recordedAt, e.actor ?? "", e.data].map { Array($0.utf8) }
            let digest = columns[0].withUnsafeBufferPointer { id in columns[1].withUnsafeBufferPointer { type in
                columns[2].withUnsafeBufferPointer { occurred in columns[3].withUnsafeBufferPointer { recorded in
                    columns[4].withUnsafeBufferPointer { actor in columns[5].withUnsafeBufferPointer { data in
                        buffer.hash(seq: e.seq, id: id, type: type, v: e.v, occurredAt: occurred, recordedAt: recorded,
                                    actor: e.actor == nil ? nil : actor, data: data)
                    } }
                } }
            } }
            #expect(digest.withUnsafeBufferPointer { Array($0) } == expected, "\(e)")
        }
    }

    @Test func writtenIntegersAreTheirDecimalText() {
        for v: Int64 in [0, 1, 9, 10, 99, 100, -1, -9, -10, 1_000_000, Int64.max, Int64.min, Int64.min + 1] {
            var out: [UInt8] = []
            CanonicalJSON.writeInt(v, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(v))
        }
    }

    struct Refusal: Error, Equatable { var at: Int }

    @Test func thePipelineDeliversEveryItemInOrder() throws {
        var seen: [Int] = []
        try Pipeline.run(capacity: 2, produce: { emit in
            for i in 0..<10_000 { guard emit(i) else { return } }
        }, consume: { i in
            seen.append(i)
            return true
        })
        #expect(seen == Array(0..<10_000))
    }

    @Test func aConsumerErrorStopsTheProducerAndIsRethrown() {
        var produced = 0
        #expect(throws: Refusal(at: 5)) {
            try Pipeline.run(capacity: 2, produce: { emit in
                for i in 0..<1_000_000 {
                    produced += 1
                    guard emit(i) else { return }
                }
            }, consume: { i in
                if i == 5 { throw Refusal(at: i) }
                return true
            })
        }
        // The producer saw the stop within a queue's length, not at the end of its input.
        #expect(produced < 100, "\(produced)")
    }

    @Test func aProducerErrorArrivesAfterTheItemsEmittedBeforeIt() {
        var seen: [Int] = []
        #expect(throws: Refusal(at: 10)) {
            try Pipeline.run(capacity: 4, produce: { emit in
                for i in 0..<10 { _ = emit(i) }
                throw Refusal(at: 10)
            }, consume: { i in
                seen.append(i)
                return true
            })
        }
        #expect(seen == Array(0..<10))
    }

    @Test func aConsumerThatStopsEndsThePipelineWithoutAnError() throws {
        var produced = 0, seen = 0
        try Pipeline.run(capacity: 2, produce: { emit in
            for i in 0..<1_000_000 {
                produced += 1
                guard emit(i) else { return }
            }
        }, consume: { _ in
            seen += 1
            return seen < 3
        })
        #expect(seen == 3)
        #expect(produced < 100, "\(produced)")
    }
}
