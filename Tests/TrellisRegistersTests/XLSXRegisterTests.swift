import Foundation
import Testing
import TrellisLedger
import TrellisSheets

/// The xlsx path: template workbook, a filled workbook with typed cells, errors naming the sheet.
@Suite struct XLSXRegisterTests {
    @Test func xlsxTemplateHasTheRegisterAnInstructionsSheetAndAbout() throws {
        let w = try Workspace()
        let out = w.file("autumn.xlsx")
        let r = try w.trellis(["register", "template", "--network", "npn", "--from", "2025-09-01", "--to", "2026-09-01", "--out", out])
        #expect(r.status == 0, "\(r.err)")
        let book = try SheetReader.read(path: out)
        #expect(book.sheets.map(\.name) == ["About", "Register", "Instructions"])
        let register = book.sheets[1]
        #expect(register.rows[0].map(\.value) == [.text("org_id"), .text("name"), .text("2025-10-01 Autumn meeting"), .text("2025-11-05 Late autumn meeting")])
        #expect(register.rows.count == 6)
        let help = book.sheets[2].rows.flatMap { $0.map(\.value) }
        #expect(help.contains(.text("apologies: Apols, Apologies, Apol, AP, Sent apologies")))
    }

    @Test func filledWorkbookWithNumbersAndDateHeadersImportsAndErrorsNameTheSheet() throws {
        let w = try Workspace()
        // A lead's own workbook: a notes sheet, meeting columns headed by real dates, 1/0 in one column.
        let register = TrellisSheets.Table(
            sheetName: "Autumn",
            columns: [("Organisation", .text), ("2025-10-01", .text), ("05/11/2025", .integer)],
            rows: [
                [.text("Oak Trust"), .text("P"), .number(1)],
                [.text("St Marys C of E Trust"), .text("Apols"), .number(0)],
                [.text("Ash Academy"), .text("late"), .number(1)],
            ])
        let path = w.file("register.xlsx")
        try XLSXWriter.write([register], about: [("network", "npn")], to: path)
        let bad = try w.trellis(["register", "import", path, "--network", "npn"])
        #expect(bad.status == 65)
        #expect(bad.err.contains(#"register.xlsx, sheet Autumn, B4: "late" is not a status; use P, Apols or A"#), "\(bad.err)")
        var fixed = register
        fixed.rows[2][1] = .text("A")
        try FileManager.default.removeItem(atPath: path)
        try XLSXWriter.write([fixed], about: [("network", "npn")], to: path)
        let ok = try w.trellis(["register", "import", path, "--network", "npn", "--format", "json"])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.json["sheet"] as? String == "Autumn" && ok.json["append"] as? Int == 6)
        #expect(Set(try w.attendance().map { "\($0.meeting) \($0.org) \($0.status)" }) ==
                ["m1 oak present", "m2 oak present", "m1 stm apologies", "m2 stm absent", "m1 ash absent", "m2 ash present"])
    }
}

@Suite struct XLSXLongRegisterTests {
    @Test func longWorkbookWithRealExcelDatesAndBooleans() throws {
        let w = try Workspace()
        let list = TrellisSheets.Table(
            sheetName: "Attendance",
            columns: [("Meeting date", .date), ("org_id", .text), ("Status", .text)],
            rows: [
                [.text("2025-10-01"), .text("oak"), .text("AP")],
                [.text("2025-11-05"), .text("oak"), .text("✓")],
                [.text("2025-11-05"), .text("ash"), .text("no")],
            ])
        let path = w.file("long.xlsx")
        try XLSXWriter.write([list], about: [("network", "npn")], to: path)
        // The reader sees real dates, as Excel would store them.
        let sheet = try #require(try SheetReader.read(path: path).sheets.first { $0.name == "Attendance" })
        #expect(sheet.rows[1][0].value == .date(year: 2025, month: 10, day: 1))
        let r = try w.trellis(["register", "import", path, "--network", "npn", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.json["layout"] as? String == "long" && r.json["append"] as? Int == 3)
        #expect(Set(try w.attendance().map { "\($0.meeting) \($0.org) \($0.status)" }) == ["m1 oak apologies", "m2 oak present", "m2 ash absent"])
    }
}
