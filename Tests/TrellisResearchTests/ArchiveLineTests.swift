import Foundation
import Testing
import TrellisCore
@testable import TrellisResearch

/// The archive reader's fast path hands `data` on as text; bytes that are not UTF-8 must still
/// be named as the chain check names unparsable data, at the line's seq.
@Suite struct ArchiveLineTests {
    @Test func dataThatIsNotUTF8IsNamedAsDataThatIsNotJSONAtItsSeq() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let (_, archive) = try exportedRegion(in: dir, seed: 7, orgs: 10)
        _ = try decompress(archive, to: dir.file("a.ndjson"))
        var lines = try Data(contentsOf: URL(fileURLWithPath: dir.file("a.ndjson")))
            .split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        // The first event with a name in clear text: its first letter becomes the byte FF.
        let key = Array(#""name":""#.utf8)
        func nameAt(_ line: [UInt8]) -> Int? {
            line.indices.first { i in
                line[i...].starts(with: key) && i + key.count < line.count && (0x41...0x5A).contains(line[i + key.count])
            }
        }
        let target = try #require(lines.indices.dropFirst().first { nameAt(lines[$0]) != nil })
        let at = try #require(nameAt(lines[target]))
        lines[target][at + key.count] = 0xFF
        try Data(lines.joined(separator: [0x0A])).write(to: URL(fileURLWithPath: dir.file("bad.ndjson")))
        try compress(dir.file("bad.ndjson"), to: dir.file("bad.lz4"))

        let v = try trellis("verify", "--archive", dir.file("bad.lz4"))
        #expect(v.status == 1, "\(v)")
        #expect(v.stdout == "broken at seq \(target): data is not valid JSON (string is not valid UTF-8)\n", "\(v)")
    }
}

/// The archive reader shares each run of lines' `recorded_at`, `occurred_at` and actor
/// (``ArchiveLine/Recent``): a line read after others must read exactly as it does alone.
@Suite struct ArchiveLineSharingTests {
    static func parse(_ line: [UInt8], _ recent: inout ArchiveLine.Recent) -> RecordedEvent? {
        line.withUnsafeBufferPointer { try? ArchiveLine.parse($0, number: 2, expectedSeq: 1, recent: &recent) }
    }

    @Test func aLineReadAfterOthersReadsAsItDoesAlone() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        var lines = try archivedEventLines(in: dir, seed: 4, orgs: 12)
        let template = try #require(lines.first { String(decoding: $0, as: UTF8.self).contains(#""actor":"Network lead"#) })
        let text = String(decoding: template, as: UTF8.self)
        let actor = try #require(text.range(of: #""actor":"Network lead"#)).upperBound
        let occurred = try #require(text.range(of: #""occurred_at":""#)).upperBound
        func edited(_ f: (inout String) -> Void) -> [UInt8] { var t = text; f(&t); return Array(t.utf8) }
        // The same actor spelt with an escape (other bytes, the same text), an actor one byte
        // longer, an occurred_at one second later, and the template again after each.
        lines += [template,
                  edited { $0.replaceSubrange(actor..<$0.index(actor, offsetBy: 2), with: #" \u0028"#) },
                  template,
                  edited { $0.insert("x", at: actor) },
                  template,
                  edited { t in
                      let sec = t.index(occurred, offsetBy: 18)
                      t.replaceSubrange(sec...sec, with: t[sec] == "9" ? "8" : "9")
                  },
                  template]
        var shared = ArchiveLine.Recent()
        var read = 0
        for line in lines {
            var alone = ArchiveLine.Recent()
            let inRun = Self.parse(line, &shared), byItself = Self.parse(line, &alone)
            #expect(inRun == byItself, "\(String(decoding: line, as: UTF8.self))")
            if inRun != nil { read += 1 }
        }
        #expect(read == lines.count)
    }
}

/// The fast path reads the 64 hex digits of `hash` by arithmetic (``ArchiveLine``'s
/// `Cursor.hash()`): every byte in a digit's place must read as `Hex.decode` reads it.
@Suite struct ArchiveLineHashTests {
    @Test func everyByteInEveryKindOfDigitPlaceReadsAsHexDecodeReadsIt() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let template = try #require(try archivedEventLines(in: dir, seed: 5, orgs: 8).first)
        let text = String(decoding: template, as: UTF8.self)
        let start = text.utf8.distance(from: text.startIndex, to: try #require(text.range(of: #""hash":""#)).upperBound)
        var checked = 0
        // The high and the low digit of the first and the last byte, each as every byte value.
        for place in [0, 1, 62, 63] {
            for byte in UInt8.min...UInt8.max {
                var line = template
                line[start + place] = byte
                let hex = String(decoding: line[start..<(start + 64)], as: UTF8.self)
                var recent = ArchiveLine.Recent()
                let read = line.withUnsafeBufferPointer { try? ArchiveLine.parse($0, number: 2, expectedSeq: 1, recent: &recent) }
                if (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) {
                    #expect(read?.hash == Hex.decode(hex), "byte \(byte) at digit \(place)")
                } else {
                    #expect(read == nil, "byte \(byte) at digit \(place) read as \(read.map { Hex.encode($0.hash) } ?? "")")
                }
                checked += 1
            }
        }
        #expect(checked == 1024)
    }
}
