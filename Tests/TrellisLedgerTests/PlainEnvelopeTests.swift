import Foundation
import PropertyBased
import Testing
@testable import TrellisCore
import TrellisGenerator

/// The decoder reads a plain line's envelope straight from its bytes
/// (``EventDecoder/decodePlain(line:number:canonicalData:recent:)``) and leaves every other line to the general
/// path. Wherever the shortcut answers, it must give exactly what the general path gives: the
/// same event and the same range for `data`, also when it hands out the previous line's
/// `occurred_at` and `actor` again (``EventDecoder/Recent``). Checked on generated regions
/// decoded in order, on those lines perturbed byte by byte after the line before them, and on
/// the inputs the shortcut must leave alone.
@Suite struct PlainEnvelopeTests {
    static let lines: [[UInt8]] = {
        var bytes: [UInt8] = []
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 40, years: 2, seed: 5, maxEvents: 4_000)).runChunks { bytes.append(contentsOf: $0) }
        return bytes.split(separator: 0x0A).map(Array.init)
    }()

    /// nil when the shortcut declined; otherwise whether it agreed with the general path, and
    /// any range it gave for `data` holds exactly that value, in canonical form.
    static func agrees(_ line: [UInt8]) -> Bool? {
        var recent = EventDecoder.Recent()
        return agrees(line, after: &recent)
    }

    /// ``agrees(_:)`` for a line decoded after those `recent` has seen.
    static func agrees(_ line: [UInt8], after recent: inout EventDecoder.Recent) -> Bool? {
        line.withUnsafeBufferPointer { b in
            var range: Range<Int>?
            guard let plain = EventDecoder.decodePlain(line: b, number: 7, canonicalData: &range, recent: &recent) else { return nil }
            guard plain == EventDecoder.decodeGeneral(line: b, number: 7) else { return false }
            guard let range else { return true }
            let text = UnsafeBufferPointer(rebasing: b[range])
            guard case .success(let event) = plain, CanonicalForm.isCanonical(text) else { return false }
            return (try? JSONParser.parse(text)) == .object(event.data)
        }
    }

    @Test func everyGeneratedLineTakesTheShortcutAndAgrees() {
        #expect(Self.lines.count > 3_000)
        var declined = 0
        // In order, as a chunk is decoded: runs of lines share occurred_at and actor.
        var recent = EventDecoder.Recent()
        for line in Self.lines {
            switch Self.agrees(line, after: &recent) {
            case nil: declined += 1
            case let same?: #expect(same, "\(String(decoding: line, as: UTF8.self))")
            }
        }
        // Generated lines are plain, bar none.
        #expect(declined == 0)
        // Their data has no escapes, so the parser notices exactly the canonical ones (the
        // generator writes most types' fields in their own order, not sorted).
        var noticed = 0
        for line in Self.lines {
            let key = Array(#""data":"#.utf8)
            guard let at = (0...(line.count - key.count)).first(where: { line[$0..<($0 + key.count)].elementsEqual(key) }) else {
                Issue.record("no data in \(String(decoding: line, as: UTF8.self))"); continue
            }
            let canonical = CanonicalForm.isCanonical(Array(line[(at + key.count)..<(line.count - 1)]))
            let given = line.withUnsafeBufferPointer { b in
                var range: Range<Int>?
                var recent = EventDecoder.Recent()
                _ = EventDecoder.decodePlain(line: b, number: 1, canonicalData: &range, recent: &recent)
                return range != nil
            }
            #expect(given == canonical, "\(String(decoding: line, as: UTF8.self))")
            if given { noticed += 1 }
        }
        #expect(noticed > Self.lines.count / 2)
    }

    @Test func perturbedLinesAgreeWheneverTheShortcutAnswers() async {
        let counts = Counts()
        let lines = Self.lines
        await propertyCheck(count: 5000, input: Gen.int(in: 0...(lines.count - 1)), Gen.uint16().array(of: 1...2)) { k, edits in
            let line = CanonicalFormPropertyTests.perturbed(lines[k], edits)
            // After the line before it, whose occurred_at and actor it mostly repeats.
            var recent = EventDecoder.Recent()
            _ = lines[max(k - 1, 0)].withUnsafeBufferPointer { b in
                var range: Range<Int>?
                return EventDecoder.decode(line: b, number: 1, canonicalData: &range, recent: &recent)
            }
            switch Self.agrees(line, after: &recent) {
            case nil: counts.add(["declined": 1])
            case let same?:
                #expect(same, "\(String(decoding: line, as: UTF8.self))")
                counts.add(["answered": 1])
            }
        }
        // Not vacuous: the shortcut answered often and declined often.
        let seen = counts.value
        #expect((seen["answered"] ?? 0) > 300 && (seen["declined"] ?? 0) > 300, "\(seen)")
    }

    /// A run of lines decoded with one ``EventDecoder/Recent`` gives what each line gives alone:
    /// a value is handed out again only for the very same bytes, and one that failed its check
    /// is never remembered.
    @Test func theValuesLinesRepeatAreSharedOnlyForTheSameBytes() {
        let data = #"{"meeting_id":"m1","org_id":"oak","status":"present"}"#
        func line(_ occurred: String, _ actor: String) -> [UInt8] {
            Array(#"{"type":"AttendanceRecorded","occurred_at":"\#(occurred)","actor":"\#(actor)","data":\#(data)}"#.utf8)
        }
        let run = [
            line("2025-01-01T09:30:00Z", "Network lead (n10)"),
            line("2025-01-01T09:30:00Z", "Network lead (n10)"),
            line("2025-01-01T09:30:01Z", "Network lead (n10)"),
            line("2025-01-01T09:30:01Z", "Network lead (n11)"),
            line("2025-02-30T09:30:01Z", "Network lead (n11)"),  // no such day: left to the general path
            line("2025-02-30T09:30:01Z", "Network lead (n11)"),  // and again, not remembered
            line("2025-01-01", "Network lead (n11)\\u0021"),  // an escape: the general path
            line("2025-01-01", "Network lead (n11)"),
            line("2025-01-02", "Network lead (n11)"),
        ]
        var recent = EventDecoder.Recent()
        var decoded: [DecodeResult] = []
        for bytes in run {
            let (shared, alone) = bytes.withUnsafeBufferPointer { b in
                var range: Range<Int>?, fresh = EventDecoder.Recent()
                return (EventDecoder.decode(line: b, number: 3, canonicalData: &range, recent: &recent),
                        EventDecoder.decode(line: b, number: 3, canonicalData: &range, recent: &fresh))
            }
            #expect(shared == alone, "\(String(decoding: bytes, as: UTF8.self))")
            decoded.append(shared)
        }
        func event(_ k: Int) -> DecodedEvent? { if case .success(let e) = decoded[k] { e } else { nil } }
        #expect(event(2)?.occurredAt == "2025-01-01T09:30:01Z" && event(3)?.actor == "Network lead (n11)")
        #expect(event(4) == nil && event(5) == nil)
        #expect(event(6)?.actor == "Network lead (n11)!")
        #expect(event(7)?.day != nil && event(8)?.day == (event(7)?.day ?? 0) + 1)
    }

    /// Lines the shortcut must leave to the general path (each valid or not, it does not
    /// matter: only the general path decides them), and plain ones it must take.
    @Test func whatTheShortcutLeavesAlone() {
        let data = #"{"org_id":"oak","name":"Oak Trust","kind":"mat"}"#
        func line(_ envelope: String) -> [UInt8] { Array(envelope.replacingOccurrences(of: "DATA", with: data).utf8) }
        let declined = [
            #"{"id":"a\u0031","type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA}"#,  // an escape
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA,"type":"OrganisationRegistered"}"#,  // twice
            #"{"type":"OrganisationRegistered","v":1.0,"occurred_at":"2025-01-01","data":DATA}"#,  // 1.0 is 1, the general way
            #"{"type":"OrganisationRegistered","v":01,"occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"OrganisationRegistered","v":1e0,"occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"OrganisationRegistered","v":2,"occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"OrganisationRegistered","v":-1,"occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"OrganisationRegistered","v":100000000000000000001,"occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"organisationRegistered","occurred_at":"2025-01-01","data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-02-30","data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","actor":null,"data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","actor":"a\nb","data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","seq":3,"data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA} x"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":[]}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":{"org_id":"oak"}}"#,  // data missing fields
            #"{"type":"OrganisationRegistered","data":DATA}"#,
            #"{"id":"","type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA}"#,
            "\u{FEFF}" + #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA}"#,
            "[" + #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA}"# + "]",
        ]
        for text in declined {
            #expect(Self.agrees(line(text)) == nil, "\(text)")
        }
        let taken = [
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","data":DATA}"#,
            #" { "data" : DATA , "occurred_at" : "2025-01-01T09:30:00Z" ,"v":1, "type":"OrganisationRegistered", "id":"x:1.a-b_c" } "#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","actor":"Zoë Murphy","data":DATA}"#,
            #"{"type":"OrganisationRegistered","occurred_at":"2025-01-01","actor":"","data":DATA}"#,
        ]
        for text in taken {
            #expect(Self.agrees(line(text)) == true, "\(text)")
        }
    }
}
