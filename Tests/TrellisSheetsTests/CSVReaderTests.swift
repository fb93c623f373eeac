import Foundation
import Testing
@testable import TrellisSheets

@Suite struct CSVReaderTests {
    @Test func excelUTF8WithBOMKeepsQuotedNewlinesAndDoubledQuotes() throws {
        let book = try SheetReader.read(path: Fixtures.path("utf8-bom.csv"))
        #expect(book.format == "CSV (UTF-8 with BOM, comma-separated)")
        let sheet = try #require(book.sheets.first)
        #expect(sheet.name == "utf8-bom")
        #expect(sheet.texts == [
            ["Name", "Organisation", "Email"],
            ["Anne Brontë", "Haworth Parsonage, Ltd", "anne@example.org"],
            ["Charlotte \"Currer\" Brontë", "Line one\r\nline two", "charlotte@example.org"],
            ["Zoë Ångström", "Café £5", ""],
        ])
        // The BOM is not part of the first header.
        #expect(sheet.rows[0][0].value == .text("Name"))
        #expect(sheet.rows[3][2] == Cell(value: .empty, reference: "C4"))
        #expect(sheet.rows[2][1].reference == "B3")
    }

    @Test func plainUTF8RaggedRowsArePaddedAndTheLastNewlineEndsTheFile() throws {
        let book = try SheetReader.read(path: Fixtures.path("utf8-plain.csv"))
        #expect(book.format == "CSV (UTF-8, comma-separated)")
        #expect(book.sheets[0].texts == [
            ["Name", "Organisation", "Email"],
            ["Anne Brontë", "Parsonage", "anne@example.org"],
            ["Emily", "Moor", ""],
            ["", "", ""],
        ])
    }

    @Test func windows1252IsDetectedAndDecoded() throws {
        let book = try SheetReader.read(path: Fixtures.path("windows-1252.csv"))
        #expect(book.format == "CSV (Windows-1252, comma-separated)")
        #expect(book.sheets[0].texts == [
            ["Name", "Organisation", "Fee"],
            ["Anne Brontë", "Café Society", "£12"],
            ["Bob “Quotes”", "Señor Ltd", "€5"],
        ])
    }

    @Test func semicolonSeparatorIsDetectedOutsideQuotes() throws {
        let book = try SheetReader.read(path: Fixtures.path("semicolon.csv"))
        #expect(book.format == "CSV (UTF-8 with BOM, semicolon-separated)")
        #expect(book.sheets[0].texts == [
            ["Name", "Organisation", "Amount"],
            ["Anne Brontë", "Parsonage", "1,5"],
            ["Semi;colon", "x", "2,0"],
        ])
    }

    @Test func tabsAndExcelUnicodeText() throws {
        let tsv = try SheetReader.read(path: Fixtures.path("tabs.tsv"))
        #expect(tsv.format == "CSV (UTF-8, tab-separated)")
        #expect(tsv.sheets[0].texts[1] == ["Anne Brontë", "Parsonage, Haworth", "anne@example.org"])
        let utf16 = try SheetReader.read(path: Fixtures.path("unicode-text.txt"))
        #expect(utf16.format == "CSV (UTF-16 LE, tab-separated)")
        #expect(utf16.sheets[0].texts == [["Name", "Organisation"], ["Anne Brontë", "Parsonage"]])
    }

    @Test func excelSepLineChoosesTheSeparatorAndKeepsRowNumbers() throws {
        let book = try CSVReader.workbook(bytes: Array("sep=;\r\na;b,c\r\n1;2\r\n".utf8), path: "x.csv")
        #expect(book.sheets[0].texts == [["a", "b,c"], ["1", "2"]])
        #expect(book.sheets[0].rows[0][0].reference == "A2")
    }

    @Test func unterminatedQuoteIsAnErrorNamingTheLine() throws {
        do {
            _ = try SheetReader.read(path: Fixtures.path("unterminated.csv"))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .badInput)
            #expect(error.description.contains("unterminated.csv"))
            #expect(error.description.contains("line 2"))
            #expect(error.cell == "B2")
        }
    }

    @Test func missingFilesAndUnsupportedTypesAreNamed() throws {
        do {
            _ = try SheetReader.read(path: "/nonexistent/roster.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .missing)
            #expect(error.description == "/nonexistent/roster.csv: no such file")
        }
        do {
            _ = try SheetReader.read(path: "/tmp/old.xls")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains(".xls"))
        }
    }

    @Test func tooManyCellsAreRefusedWhileParsing() throws {
        // 5 MB of commas: one record of 5,000,002 empty fields.
        let commas = [UInt8](repeating: UInt8(ascii: ","), count: 5_000_001)
        do {
            _ = try CSVReader.workbook(bytes: commas, path: "wide.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "wide.csv: line 1: more than 5000000 cells; refused")
        }
        // 2,500,001 rows × 2 columns: refused on rows × width, before the grid is built.
        var tall: [UInt8] = Array("a,b\n".utf8)
        tall.append(contentsOf: [UInt8](repeating: UInt8(ascii: "\n"), count: 2_500_000))
        do {
            _ = try CSVReader.workbook(bytes: tall, path: "tall.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "tall.csv: 2500001 rows × 2 columns: more than 5000000 cells; refused")
        }
    }

    @Test func emptyAndSeparatorOnlyFiles() throws {
        #expect(try CSVReader.workbook(bytes: [], path: "e.csv").sheets[0].rows.isEmpty)
        let book = try CSVReader.workbook(bytes: Array("a\n\"\"\n,\n".utf8), path: "e.csv")
        #expect(book.sheets[0].texts == [["a", ""], ["", ""], ["", ""]])
    }

    @Test func csvWriterOutputReadsBackIdentically() throws {
        let rows = [["Name", "Note"], ["Brontë, Anne", "said \"hi\"\nand left"], [" padded ", "=SUM(A1)"], ["", "x"]]
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("out.csv").path
        try CSVWriter.write(rows, to: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes, as: UTF8.self).contains("\r\n"))
        let back = try SheetReader.read(path: path)
        #expect(back.format == "CSV (UTF-8 with BOM, comma-separated)")
        #expect(back.sheets[0].texts == rows)
    }
}
