import Foundation
import Testing
@testable import TrellisSheets
import TrellisTestSupport

/// The workbooks' zip (``ZipWriter``): parts larger than a block are deflated in blocks on every
/// core, each primed with the 32 KiB before it. Read back by Python's `zipfile` and `zlib`, an
/// independent implementation, for parts on and around the block boundaries.
@Suite struct ZipWriterTests {
    /// Text that compresses (XML-like, with repeats reaching across block boundaries) and
    /// bytes that do not, of every size that matters to the blocking.
    static func parts() -> [(path: String, bytes: [UInt8])] {
        var state: UInt64 = 42
        func next() -> UInt8 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: state >> 56) }
        let b = ZipWriter.blockSize
        var text: [UInt8] = []
        var row = 0
        while text.count < 3 * b + b / 2 {
            text += Array("<row r=\"\(row)\"><c r=\"A\(row)\" t=\"inlineStr\"><is><t>org\(row % 977)</t></is></c></row>".utf8)
            row += 1
        }
        let noise = (0..<(b + 7)).map { _ in next() }
        return [
            ("empty.xml", []),
            ("one.xml", [UInt8(ascii: "x")]),
            ("below.xml", Array(text[..<(b - 1)])),
            ("exactly.xml", Array(text[..<b])),
            ("above.xml", Array(text[..<(b + 1)])),
            ("several.xml", text),
            ("noise.bin", noise),
        ]
    }

    @Test func pythonReadsEveryPartBackWithItsCRC() throws {
        let parts = Self.parts()
        let zip = try ZipWriter.archive(parts)
        #expect(try ZipWriter.archive(parts) == zip, "the same parts give the same bytes")
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("parts.zip").path
        try Data(zip).write(to: URL(fileURLWithPath: path))
        for p in parts { try Data(p.bytes).write(to: dir.appendingPathComponent(p.path)) }
        let (status, output) = try python(#"""
            import sys, os, zipfile, zlib
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            names = [i.filename for i in z.infolist()]
            assert names == sys.argv[3:], names
            for i in z.infolist():
                want = open(os.path.join(sys.argv[2], i.filename), "rb").read()
                got = z.read(i.filename)      # checks the CRC too
                assert got == want, (i.filename, len(got), len(want))
                assert i.compress_type == zipfile.ZIP_DEFLATED and i.date_time == (1980, 1, 1, 0, 0, 0)
                assert i.external_attr >> 16 == 0o100644, oct(i.external_attr >> 16)
            print("ok", len(names))
            """#, [path, dir.path] + parts.map(\.path))
        #expect(status == 0 && output.contains("ok 7"), "\(output)")
    }

    /// Priming each block with the window before it keeps the blocks as small as one stream:
    /// within 2 % of zlib deflating the whole part at once, at the same level, for the XML-like
    /// text and for 16 KiB of noise said again and again (which a block that did not know the
    /// 32 KiB before it would have to spell out anew: 16 KiB more a block).
    @Test func blocksCompressAsWellAsOneStream() throws {
        let xml = Self.parts().first { $0.path == "several.xml" }!.bytes
        let noise = Self.parts().first { $0.path == "noise.bin" }!.bytes
        let echo = Array(repeating: Array(noise[..<(16 << 10)]), count: 4 * ZipWriter.blockSize / (16 << 10) + 3).flatMap { $0 }
        for (name, text) in [("xml", xml), ("echo", echo)] {
            let (deflated, _) = try ZipWriter.deflate(text)
            let dir = try Fixtures.temporaryDirectory()
            let path = dir.appendingPathComponent("text").path
            try Data(text).write(to: URL(fileURLWithPath: path))
            let (status, output) = try python(#"""
                import sys, zlib
                data = open(sys.argv[1], "rb").read()
                c = zlib.compressobj(6, zlib.DEFLATED, -15, 9)
                print(len(c.compress(data) + c.flush()))
                """#, [path])
            let single = try #require(Int(output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(status) \(output)")
            #expect(Double(deflated.count) <= Double(single) * 1.02, "\(name): blocks \(deflated.count) bytes, one stream \(single)")
        }
    }
}

/// LibreOffice, the spreadsheet reader most offices without Excel use, opens a workbook whose
/// large sheet was deflated in blocks, and reads every cell as written.
@Suite struct LibreOfficeReadsBlockDeflatedWorkbooksTests {
    @Test func everyCellOfAMultiBlockSheetReadsBack() throws {
        let rows = 30_000
        let table = Table(sheetName: "Edges", columns: [("source", .text), ("target", .text), ("weight", .integer), ("share", .percent)],
                          rows: (0..<rows).map { k in
                              [.text("org\(k % 997) Academy Trust & <Partners>"), .text("Trust \(k * 7 % 1013) Ünïcode"), .number(Double(k)), .number(Double(k % 100) / 100)]
                          })
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("big.xlsx").path
        try XLSXWriter.write([table], about: [("Made by", "ZipWriterTests")], to: path)
        // The sheet's XML runs over several blocks.
        let (listed, listing) = try python("import sys, zipfile; print(max(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))", [path])
        #expect(listed == 0 && (Int(listing.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 3 * ZipWriter.blockSize, "\(listing)")
        let soffice = try runTool("soffice", ["--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1",
                                              "--outdir", dir.path, path])
        #expect(soffice.status == 0, "soffice (apt: libreoffice-calc-nogui, installed by make test): \(soffice.stderr)")
        let csv = try String(contentsOfFile: dir.appendingPathComponent("big-Edges.csv").path, encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == rows + 1)
        guard lines.count == rows + 1 else { return }
        #expect(lines.first == "source,target,weight,share")
        for k in [0, 1, 4_999, 17_123, rows - 1] {
            #expect(lines[k + 1] == "org\(k % 997) Academy Trust & <Partners>,Trust \(k * 7 % 1013) Ünïcode,\(k),\(k % 100)%", "row \(k)")
        }
    }
}
