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
        let (_, archive) = try exportedRegion(in: dir, seed: 4, orgs: 12)
        _ = try decompress(archive, to: dir.file("a.ndjson"))
        var lines = try Data(contentsOf: URL(fileURLWithPath: dir.file("a.ndjson")))
            .split(separator: 0x0A).dropFirst().map { Array($0) }
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
