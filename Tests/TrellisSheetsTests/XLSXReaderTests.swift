import Foundation
import Testing
@testable import TrellisSheets

@Suite struct XLSXReaderTests {
    @Test func openpyxlWorkbookKeepsTypesMergesHiddenColumnsAndSheetOrder() throws {
        let book = try SheetReader.read(path: Fixtures.path("openpyxl-types.xlsx"))
        #expect(book.format == "xlsx")
        #expect(book.sheets.map(\.name) == ["Members", "Second"])
        let members = book.sheets[0]
        // The merged header A1:B1 carries "Contact" in both cells.
        #expect(members.rows[0][0].value == .text("Contact"))
        #expect(members.rows[0][1] == Cell(value: .text("Contact"), reference: "B1"))
        #expect(members.rows[1].map(\.value) == [
            .text("Anne Brontë"), .text("Parsonage"), .date(year: 2024, month: 3, day: 1), .bool(true),
            .number(3), .number(0.25), .text("secret"),
        ])
        // 1900-03-01 is past Excel's phantom 1900-02-29; a custom dd/mm/yyyy format is a date.
        #expect(members.rows[2][2].value == .date(year: 1900, month: 3, day: 1))
        #expect(members.rows[2][3].value == .bool(false))
        #expect(members.rows[2][4].value == .number(2.5))
        #expect(members.hiddenColumns == [6])
        // Row 5 is a gap, padded with empty cells; row 6 has a cell at E6.
        #expect(members.rows.count == 6)
        #expect(members.rows[4].allSatisfy { $0.value == .empty })
        #expect(members.rows[5][0].value == .text("after gap"))
        #expect(members.rows[5][4] == Cell(value: .number(0.001), reference: "E6"))
        #expect(members.rows.allSatisfy { $0.count == 7 })
        let second = book.sheets[1]
        #expect(second.texts == [["<b> & \"quoted\"", ""], ["", "only cell"]])
    }

    @Test func the1904DateSystemIsHonoured() throws {
        let book = try SheetReader.read(path: Fixtures.path("openpyxl-1904.xlsx"))
        #expect(book.sheets[0].rows[1][0].value == .date(year: 2024, month: 3, day: 1))
    }

    @Test func aZipBombIsRefusedBeforeItIsInflated() throws {
        let path = Fixtures.path("zip-bomb.xlsx")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 200_000)
        do {
            _ = try SheetReader.read(path: path)
            Issue.record("expected the zip bomb to be refused")
        } catch {
            #expect(error.kind == .badInput)
            #expect(error.message.contains("xl/worksheets/sheet1.xml decompresses to more than 100 MB"))
        }
    }

    @Test func anEntityExpansionBombIsRefused() throws {
        do {
            _ = try SheetReader.read(path: Fixtures.path("entity-bomb.xlsx"))
            Issue.record("expected the entity bomb to be refused")
        } catch {
            #expect(error.kind == .badInput)
            #expect(error.sheet == "Laughs")
            #expect(error.message.contains("malformed XML in xl/worksheets/sheet1.xml"))
        }
    }

    @Test func aMissingSharedStringNamesItsCell() throws {
        do {
            _ = try SheetReader.read(path: Fixtures.path("bad-shared-string.xlsx"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasSuffix("bad-shared-string.xlsx, sheet \"Register\", cell B2: shared string index 7 does not exist"))
        }
    }

    @Test func aHugeUsedRangeIsRefusedBeforeItsGridIsBuilt() throws {
        do {
            _ = try SheetReader.read(path: Fixtures.path("sparse-huge.xlsx"))
            Issue.record("expected an error")
        } catch {
            #expect(error.sheet == "Sparse")
            #expect(error.message == "the used range is 1048576 rows × 16384 columns, more than 5000000 cells; refused")
        }
    }

    @Test func serialDatesInBothSystems() {
        #expect(DateFormats.date(serial: 1, date1904: false)! == (1900, 1, 1))
        #expect(DateFormats.date(serial: 59, date1904: false)! == (1900, 2, 28))
        #expect(DateFormats.date(serial: 61, date1904: false)! == (1900, 3, 1))
        #expect(DateFormats.date(serial: 45352.75, date1904: false)! == (2024, 3, 1))
        #expect(DateFormats.date(serial: 0, date1904: true)! == (1904, 1, 1))
        #expect(DateFormats.date(serial: 43890, date1904: true)! == (2024, 3, 1))
    }

    @Test func dateFormatCodesIgnoreQuotedAndBracketedLetters() {
        #expect(DateFormats.isDate(code: "dd/mm/yyyy"))
        #expect(DateFormats.isDate(code: "[$-409]mmmm d, yyyy;@"))
        #expect(!DateFormats.isDate(code: "0.00 \"days\""))
        #expect(!DateFormats.isDate(code: "[Red]#,##0"))
        #expect(!DateFormats.isDate(code: "0.0%"))
        #expect(!DateFormats.isDate(code: "General"))
        #expect(DateFormats.isDate(id: 14, code: nil))
        #expect(!DateFormats.isDate(id: 10, code: nil))
    }

    @Test func excelEscapesOfUnrepresentableCharactersAreDecoded() {
        #expect(unescapeOOXML("line_x000D_\nnext") == "line\r\nnext")
        #expect(unescapeOOXML("_x005F_x0041_") == "_x0041_")
        #expect(unescapeOOXML("plain_x_text") == "plain_x_text")
    }

    @Test func aFileThatIsNotAZipIsNamed() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("fake.xlsx").path
        try Data("Name,Email\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SheetReader.read(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(path): is not an xlsx file (not a readable zip archive)")
        }
    }
}
