import Foundation
import Testing
@testable import TrellisSheets

/// Workbooks written by LibreOffice 7.4 (tools/fixtures/make_libreoffice.sh): shared strings,
/// LibreOffice's own styles and attributes (`hidden="false"`, styled empty cells), merges,
/// hidden columns, both date systems.
@Suite struct LibreOfficeFixtureTests {
    static let roster: [[CellValue]] = [
        [.text("Contact"), .text("Contact"), .text("Joined"), .text("Lead"), .text("Internal"), .text("Schools")],
        [.text("Anne Brontë"), .text("Parsonage, Haworth"), .date(year: 2024, month: 3, day: 1), .bool(true), .text("hidden"), .number(3)],
        [.text("Anne Brontë"), .empty, .date(year: 1999, month: 12, day: 31), .bool(false), .empty, .number(2.75)],
    ]

    @Test func libreOfficeWorkbookReadsWithTypesMergesAndHiddenColumns() throws {
        let book = try SheetReader.read(path: Fixtures.path("libreoffice-types.xlsx"))
        #expect(book.sheets.map(\.name) == ["Roster", "Notes"])
        #expect(book.sheets[0].rows.map { $0.map(\.value) } == Self.roster)
        #expect(book.sheets[0].hiddenColumns == [4])
        #expect(book.sheets[1].texts == [["", ""], ["", "B2 only"]])
        #expect(book.sheets[1].rows[1][1].reference == "B2")
    }

    @Test func libreOfficeIn1904ModeGivesTheSameDates() throws {
        let book = try SheetReader.read(path: Fixtures.path("libreoffice-1904.xlsx"))
        #expect(book.sheets[0].rows.map { $0.map(\.value) } == Self.roster)
    }

    @Test func aCSVSavedAsXLSXByLibreOfficeMatchesTheCSV() throws {
        let xlsx = try SheetReader.read(path: Fixtures.path("libreoffice-csv.xlsx"))
        let csv = try SheetReader.read(path: Fixtures.path("utf8-bom.csv"))
        // LibreOffice stores the CR LF inside the quoted cell as a bare LF.
        let expected = csv.sheets[0].texts.map { $0.map { $0.replacingOccurrences(of: "\r\n", with: "\n") } }
        #expect(xlsx.sheets[0].texts == expected)
    }
}
