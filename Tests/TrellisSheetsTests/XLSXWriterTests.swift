import Foundation
import Testing
@testable import TrellisSheets

@Suite struct XLSXWriterTests {
    static let tables = [
        Table(sheetName: "Participation / 2024:25", columns: [
            ("Organisation", .text), ("Meetings", .integer), ("Rate", .percent), ("Score", .decimal), ("Joined", .date),
        ], rows: [
            [.text("Brontë & Sons <Ltd>"), .number(12), .number(0.875), .number(3.14159), .text("2024-09-02")],
            [.text("=HYPERLINK(\"http://x\")"), .number(0), .number(0), .empty, .empty],
            [.text("bell\u{07}char\nsecond line"), .number(3), .number(1), .number(-2.5), .text("not a date")],
        ]),
        Table(sheetName: "About", columns: [("Key", .text)], rows: [[.text("clash")]]),
    ]
    static let about = [("Period", "2024/25 (2024-09-01 – 2025-08-31)"), ("Head hash", "ab12cd34"), ("Log position", "1234")]

    @Test func writtenWorkbookReadsBackWithOurReader() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("report.xlsx").path
        try XLSXWriter.write(Self.tables, about: Self.about, to: path)
        let book = try SheetReader.read(path: path)
        #expect(book.sheets.map(\.name) == ["About", "Participation - 2024-25", "About (2)"])
        #expect(book.sheets[0].texts == Self.about.map { [$0.0, $0.1] })
        let table = book.sheets[1]
        #expect(table.texts[0] == ["Organisation", "Meetings", "Rate", "Score", "Joined"])
        #expect(table.rows[1].map(\.value) == [
            .text("Brontë & Sons <Ltd>"), .number(12), .number(0.875), .number(3.14159), .date(year: 2024, month: 9, day: 2),
        ])
        #expect(table.rows[2].map(\.value) == [.text("=HYPERLINK(\"http://x\")"), .number(0), .number(0), .empty, .empty])
        #expect(table.rows[3].map(\.value) == [
            .text("bell\u{FFFD}char\nsecond line"), .number(3), .number(1), .number(-2.5), .text("not a date"),
        ])
    }

    /// XML 1.0's rule, scalar by scalar, as the writer escaped before it read bytes.
    static func scalarEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// Cells are escaped from their UTF-8 bytes (``SheetXML/escape(_:)``): the same bytes as
    /// XML's rule applied scalar by scalar, for every ASCII character, the two non-characters
    /// XML forbids, their neighbours (whose UTF-8 shares EF BF or EF), U+FFFD itself, and
    /// letters of two, three and four bytes, alone and in runs.
    @Test func cellTextIsEscapedAsTheScalarEscapeDoes() {
        var samples: [String] = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
        let scalars: [UInt32] = [0xE9, 0x20AC, 0xF000, 0xFFBD, 0xFFBF, 0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF, 0xEFBF, 0x1F600, 0x10FFFF]
        samples += scalars.compactMap { UnicodeScalar($0).map { String($0) } }
        samples += ["Brontë & <Sons>\u{FFFE}\u{FFFF}\u{7}\t\r\n\"q\"", "\u{FFFF}\u{FFFF}x\u{FFFE}", "\u{EF}\u{BF}\u{BE}", "a\u{0}b\u{1F}c\u{7F}"]
        for text in samples {
            var xml = SheetXML()
            xml.escape(text)
            #expect(xml.bytes == Array(Self.scalarEscape(text).utf8), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test func theSameTablesGiveTheSameBytes() throws {
        let a = try XLSXWriter.data(Self.tables, about: Self.about)
        let b = try XLSXWriter.data(Self.tables, about: Self.about)
        #expect(a == b)
        #expect(a.starts(with: [0x50, 0x4B, 0x03, 0x04]))
    }

    @Test func aRowWiderThanItsColumnsIsRefused() throws {
        let bad = Table(sheetName: "T", columns: [("A", .text)], rows: [[.text("x"), .text("y")]])
        do {
            _ = try XLSXWriter.data([bad], about: [])
            Issue.record("expected an error")
        } catch {
            #expect(error.sheet == "T")
            #expect(error.cell == "B2")
        }
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("missing-dir/report.xlsx").path
        do {
            try XLSXWriter.write(Self.tables, about: Self.about, to: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .storage)
            #expect(error.file == path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// openpyxl, an independent implementation, sees numbers as numbers, percentages with a
    /// percentage format, dates as datetimes, a bold frozen header and the About sheet first.
    @Test func openpyxlReadsTypesFormatsAndFrozenHeader() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("report.xlsx").path
        try XLSXWriter.write(Self.tables, about: Self.about, to: path)
        let (status, output) = try python(#"""
            import sys, datetime, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            assert wb.sheetnames == ["About", "Participation - 2024-25", "About (2)"], wb.sheetnames
            about = wb["About"]
            assert about["A1"].value == "Period" and about["B1"].value.startswith("2024/25"), about["B1"].value
            assert about["A2"].value == "Head hash" and about["B2"].value == "ab12cd34"
            ws = wb["Participation - 2024-25"]
            assert ws.freeze_panes == "A2", ws.freeze_panes
            assert ws["A1"].font.b and ws["E1"].font.b
            assert ws["A2"].value == "Brontë & Sons <Ltd>"
            assert ws["B2"].value == 12 and isinstance(ws["B2"].value, int) and ws["B2"].number_format == "0"
            assert ws["C2"].value == 0.875 and ws["C2"].number_format == "0.0%", ws["C2"].number_format
            assert ws["D2"].value == 3.14159 and ws["D2"].number_format == "0.00"
            assert ws["E2"].value == datetime.datetime(2024, 9, 2) and ws["E2"].is_date, ws["E2"].value
            assert ws["E2"].number_format == "yyyy-mm-dd"
            assert ws["A3"].data_type == "s" and ws["A3"].value.startswith("=HYPERLINK"), ws["A3"].data_type
            assert ws["D3"].value is None
            assert ws["E4"].value == "not a date"
            assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width
            print("ok")
            """#, [path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok"))
    }
}
