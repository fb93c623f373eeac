import Foundation
import Testing

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
