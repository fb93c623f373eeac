import Foundation
import Testing
import TrellisCore
import TrellisLedger
@testable import TrellisResearch

/// The archive reader parses an event's `data` where it lies in the line
/// (``ArchiveLine/parseWithData(_:number:expectedSeq:recent:)``) and hands the tree to the
/// examination, which otherwise parses the line's `data` text itself: given or not, the
/// examination must come out the same, for data as Trellis writes it and for every other kind.
@Suite struct ArchiveDataParsedInPlaceTests {
    /// `line` with its `data` value replaced by `data`.
    static func with(_ data: String, in line: String) -> String? {
        guard let start = line.range(of: #""data":"#)?.upperBound, let end = line.range(of: #","hash":""#)?.lowerBound else { return nil }
        return line.replacingCharacters(in: start..<end, with: data)
    }

    @Test func anExaminationGivenTheParsedDataIsTheExaminationOfItsText() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 6, orgs: 10)
        _ = try decompress(archive, to: dir.file("a.ndjson"))
        let lines = try String(contentsOfFile: dir.file("a.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
        let template = try #require(lines.first { $0.contains(#""type":"OrganisationRegistered""#) })
        let deep = String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)
        // The template's own data, valid for its type, written three other ways that mean the
        // same: with whitespace, with its keys in reverse order, with a letter escaped.
        let start = try #require(template.range(of: #""data":"#)).upperBound, end = try #require(template.range(of: #","hash":""#)).lowerBound
        let data = String(template[start..<end])
        guard case .object(let fields) = try JSONParser.parse(data) else { Issue.record("data is not an object"); return }
        let spaced = "{ " + data.dropFirst().replacingOccurrences(of: "\":", with: "\" : ")
        let reversed = "{" + fields.pairs.reversed().map { CanonicalJSON.string(.string($0.key)) + ":" + CanonicalJSON.string($0.value) }.joined(separator: ",") + "}"
        let nameAt = try #require(data.range(of: #""name":""#)).upperBound
        let letter = try #require(data[nameAt].asciiValue)
        let escaped = data.replacingCharacters(in: nameAt...nameAt, with: "\\u00" + String(letter, radix: 16))
        // Data other than Trellis writes it: those three, then data that is not valid for its
        // type (other fields, an escaped newline, a number with an exponent), a duplicate key, a
        // wrong bracket, nesting too deep.
        let variants: [(data: String, parsedInPlace: Bool, canonical: Bool?)] = [
            (spaced, true, false), (reversed, true, false), (escaped, true, false),
            (#"{ "kind" : "trust", "name":"A", "org_id":"o1"}"#, true, nil),
            (#"{"org_id":"o1","name":"A","kind":"trust"}"#, true, nil),
            (#"{"kind":"trust","name":"\u0041\n","org_id":"o1"}"#, true, nil),
            (#"{"kind":"trust","name":"A","org_id":"o1","x":1e5}"#, true, nil),
            (#"{"kind":"trust","kind":"trust"}"#, false, nil),
            (#"{"kind":"trust"]"#, false, nil),
            (deep, false, nil),
        ]
        var cases = lines.map { (line: $0, parsedInPlace: true, canonical: Bool?.some(true)) }
        for v in variants { cases.append((try #require(Self.with(v.data, in: template)), v.parsedInPlace, v.canonical)) }
        cases.append((try #require(Self.with("[1]", in: template)), false, nil))

        var examined = 0
        for c in cases {
            var recent = ArchiveLine.Recent()
            let bytes = Array(c.line.utf8)
            guard let (event, parsed) = bytes.withUnsafeBufferPointer({ try? ArchiveLine.parseWithData($0, number: 2, expectedSeq: 1, recent: &recent) }) else {
                // Not an event line of the fast layout at all (the array): the general reader
                // names it, as before, and nothing is parsed in place.
                #expect(!c.parsedInPlace, "\(c.line)")
                continue
            }
            #expect((parsed != nil) == c.parsedInPlace, "\(c.line)")
            var inPlace = ArchiveExaminer(), fromText = ArchiveExaminer()
            let a = inPlace.examine(event, data: parsed, line: 2), b = fromText.examine(event, line: 2)
            #expect(a.early?.description == b.early?.description, "\(c.line)")
            #expect(a.late?.description == b.late?.description, "\(c.line)")
            #expect(a.isCanonical == b.isCanonical, "\(c.line)")
            if let canonical = c.canonical {
                #expect(a.late == nil && a.isCanonical == canonical, "\(c.line)")
            }
            #expect(a.pending?.event == b.pending?.event, "\(c.line)")
            #expect(a.pending?.decoded == b.pending?.decoded, "\(c.line)")
            #expect(inPlace.envelopes == fromText.envelopes, "\(c.line)")
            examined += 1
        }
        #expect(examined == cases.count - 1)
    }

    /// Data the parser refuses is still named as before, through `trellis verify --archive`.
    @Test func dataThatDoesNotParseIsNamedAsBefore() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 6, orgs: 10)
        _ = try decompress(archive, to: dir.file("a.ndjson"))
        var lines = try String(contentsOfFile: dir.file("a.ndjson"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let target = try #require(lines.indices.dropFirst().first { lines[$0].contains(#""type":"OrganisationRegistered""#) })
        lines[target] = try #require(Self.with(#"{"kind":"trust","kind":"trust"}"#, in: lines[target]))
        try lines.joined(separator: "\n").write(toFile: dir.file("bad.ndjson"), atomically: true, encoding: .utf8)
        try compress(dir.file("bad.ndjson"), to: dir.file("bad.lz4"))
        let v = try trellis("verify", "--archive", dir.file("bad.lz4"))
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout == "broken at seq \(target): data is not valid JSON (duplicate key \"kind\")\n", "\(v)")
    }
}

/// Each archived event carries where the rule checks and the id filter of the event two after
/// it will look (``ChainedEvent/ahead``), so that the writer can ask for those places early.
@Suite struct ArchiveLookaheadTests {
    @Test func eachEventCarriesThePlacesOfTheEventTwoAfterItInItsChunk() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 3, orgs: 30)
        var events: [ChainedEvent] = []
        for examiners in [0, 1] {
            events = []
            _ = try ArchiveReader(path: archive).read(pipelined: true, examiners: examiners) { events.append($0) }
            #expect(events.count > 2 * ArchiveReader.chunkSize)
            var told = 0
            for (i, e) in events.enumerated() {
                // Chunks are cut every chunkSize events (these lines are far below chunkBytes).
                if i % ArchiveReader.chunkSize < ArchiveReader.chunkSize - 2, i + 2 < events.count {
                    let later = events[i + 2], hints = EntityHints(later.decoded)
                    #expect(e.ahead.idHash == later.idHash && e.ahead.idHash != 0, "event \(i)")
                    #expect(e.ahead.hints.first == hints.first && e.ahead.hints.second == hints.second && e.ahead.hints.third == hints.third, "event \(i)")
                    told += 1
                } else {
                    #expect(e.ahead.idHash == 0, "event \(i)")
                }
            }
            #expect(told > events.count - 3 * (events.count / ArchiveReader.chunkSize + 1))
        }
    }
}

/// The fast path finds the end of a plain string with `memchr` and then checks its bytes in one
/// pass (``ArchiveLine``'s `Cursor.plainBytes()`): every byte in the place of an id's, a type's
/// or a timestamp's character must read as the JSON parser reads the whole line.
@Suite struct ArchiveLinePlainStringTests {
    @Test func everyByteInAPlainStringReadsAsTheJSONParserReadsIt() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let template = try #require(try archivedEventLines(in: dir, seed: 5, orgs: 8).first)
        let text = String(decoding: template, as: UTF8.self)
        var checked = 0, read = 0
        for (key, field) in [(#""id":""#, "id"), (#""occurred_at":""#, "occurred_at"), (#""recorded_at":""#, "recorded_at"), (#""type":""#, "type")] {
            let at = text.utf8.distance(from: text.startIndex, to: try #require(text.range(of: key)).upperBound)
            // The first character of the value, and its last (just before the closing quote).
            let last = try #require(template[at...].firstIndex(of: 0x22)) - 1
            for place in [at, last] {
                for byte in UInt8.min...UInt8.max {
                    var line = template
                    line[place] = byte
                    var recent = ArchiveLine.Recent()
                    let fast = line.withUnsafeBufferPointer { try? ArchiveLine.parse($0, number: 2, expectedSeq: 1, recent: &recent) }
                    let expected: String? = line.withUnsafeBufferPointer { b in
                        guard case .object(let o)? = try? JSONParser.parse(b) else { return nil }
                        return o.string(field)
                    }
                    let got: String? = switch field {
                    case "id": fast?.id
                    case "occurred_at": fast?.occurredAt
                    case "recorded_at": fast?.recordedAt
                    default: fast?.type
                    }
                    #expect(got == expected, "byte \(byte) in \(field) at \(place)")
                    if got != nil { read += 1 }
                    checked += 1
                }
            }
        }
        #expect(checked == 8 * 256)
        // Every byte from 0x20 to 0x7F but the quote and the backslash, in eight places; and a
        // backslash that makes an escape with the byte after it (the general path reads those).
        #expect(read >= 8 * 94)
    }
}
