import Foundation
import Testing
import TrellisLedger

/// Headers that cannot be trusted, and the error limit.
@Suite struct RegisterLimitsTests {
    @Test func badHeaderDatesAreErrorsNotGuesses() throws {
        let w = try Workspace()
        let f = try w.write("dates.csv", "org_id,31/02/2026,04/13/2026 Spring,Notes\noak,P,P,came late\n")
        let before = try w.events()
        let r = try w.trellis(["register", "import", f, "--network", "npn", "--create-meetings"])
        #expect(r.status == 65)
        #expect(r.err.contains(#"dates.csv, B1: "31/02/2026" is not a date"#), "\(r.err)")
        #expect(r.err.contains(#"dates.csv, C1: "04/13/2026 Spring" is not a date"#), "\(r.err)")
        #expect(!r.err.contains("dates.csv, D1"), "a text column is skipped with a warning, not an error: \(r.err)")
        #expect(try w.events() == before)
    }

    @Test func twoMeetingsOnOneDayNeedTheTitleOrTheID() throws {
        let w = try Workspace(Fixture.lines + [
            Fixture.line("mh-m3", "MeetingHeld", "2025-10-01", #""meeting_id":"m3","network_id":"npn","title":"Finance group""#),
        ])
        let ambiguous = try w.write("a.csv", "org_id,2025-10-01\noak,P\n")
        let r = try w.trellis(["register", "import", ambiguous, "--network", "npn"])
        #expect(r.status == 65 && r.err.contains(#"a.csv, B1: 2 meetings of npn were held on 2025-10-01: m1 ("Autumn meeting"), m3 ("Finance group")"#), "\(r.err)")
        let titled = try w.write("t.csv", "org_id,01/10/2025 finance GROUP,m1\noak,P,A\n")
        let ok = try w.trellis(["register", "import", titled, "--network", "npn"])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(Set(try w.attendance().map { "\($0.meeting) \($0.org) \($0.status)" }) == ["m3 oak present", "m1 oak absent"])
    }

    @Test func atMostOneHundredErrorsAreListed() throws {
        let w = try Workspace()
        var text = "org_id,2025-10-01,2025-11-05\n"
        for _ in 0..<80 { text += "oak,late,never\n" }
        let f = try w.write("many.csv", text)
        let before = try w.events()
        let r = try w.trellis(["register", "import", f, "--network", "npn", "--format", "json"])
        #expect(r.status == 65)
        #expect((r.json["errors"] as? [String])?.count == 100)
        #expect(r.err.contains("nothing was appended (100+ errors)"), "\(r.err)")
        #expect(r.err.contains("(stopped after 100 errors)"))
        #expect(try w.events() == before)
    }

    @Test func orgsListsIdsNamesAndMembershipAsCSV() throws {
        let w = try Workspace()
        let r = try w.trellis(["orgs", "--on", "2025-10-01", "--format", "csv"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.components(separatedBy: "\r\n").filter { !$0.isEmpty }   // CRLF, as every CSV Trellis writes
        #expect(lines.first == "org_id,name,kind,schools,region,networks")
        #expect(lines.contains("elm,Elm Hub,mat,,,"))
        #expect(lines.contains(#"stm,St. Mary's C of E Trust,mat,,,npn"#))
        #expect(lines.count == 8)
        let missing = try w.trellis(["orgs", "--network", "nope"])
        #expect(missing.status == 64 && missing.err.contains("no network nope"))
    }

    /// The xlsx template opened, filled and saved by openpyxl (as a spreadsheet program would
    /// rewrite it: its own shared strings and styles), then imported.
    @Test func anXLSXTemplateFilledAndSavedByOpenpyxlImports() throws {
        let w = try Workspace()
        let template = w.file("template.xlsx"), filled = w.file("filled.xlsx")
        let t = try w.trellis(["register", "template", "--network", "npn", "--dates", "2025-10-01", "--out", template])
        #expect(t.status == 0, "\(t.err)")
        let script = w.file("fill.py")
        try """
            import openpyxl, sys
            wb = openpyxl.load_workbook(sys.argv[1])
            ws = wb["Register"]
            assert ws.freeze_panes == "A2", ws.freeze_panes
            assert [c.value for c in ws[1]][:2] == ["org_id", "name"], [c.value for c in ws[1]]
            for row in ws.iter_rows(min_row=2):
                row[2].value = "Apols" if row[0].value == "stm" else "P"
            wb.save(sys.argv[2])
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let py = try runTool("python3", [script, template, filled])
        #expect(py.status == 0, "\(py)")
        let r = try w.trellis(["register", "import", filled, "--network", "npn", "--create-meetings", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let rows = try w.attendance()
        #expect(rows.contains { $0.org == "stm" && $0.status == "apologies" }, "\(rows)")
        #expect(rows.filter { $0.status == "present" }.count == rows.count - 1, "\(rows)")
        #expect(!rows.isEmpty)
    }

    @Test func orgsWritesAWorkbookThatOpenpyxlReads() throws {
        let w = try Workspace()
        let xlsx = w.file("orgs.xlsx")
        let r = try w.trellis(["orgs", "--on", "2025-10-01", "--out", xlsx])
        #expect(r.status == 0, "\(r.err)")
        let script = w.file("read.py")
        try """
            import openpyxl, sys
            wb = openpyxl.load_workbook(sys.argv[1])
            ws = wb["Organisations"]
            about = {row[0].value: row[1].value for row in wb["About"].iter_rows()}
            rows = [[c.value for c in row] for row in ws.iter_rows()]
            print(wb.sheetnames, ws.freeze_panes, rows[0], len(rows) - 1, about["on"], len(about["head hash"]))
            print([r for r in rows if r[0] == "stm"][0])
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let py = try runTool("python3", [script, xlsx])
        let out = py.stdout
        #expect(py.status == 0, "\(py)")
        #expect(out.contains("['About', 'Organisations'] A2 ['org_id', 'name', 'kind', 'schools', 'region', 'networks'] 7 2025-10-01 64"), "\(out)")
        #expect(out.contains(#"['stm', "St. Mary's C of E Trust", 'mat', None, None, 'npn']"#), "\(out)")
        // The extension and --format must agree.
        let clash = try w.trellis(["orgs", "--out", w.file("orgs.json"), "--format", "csv"])
        #expect(clash.status == 64 && clash.err.contains("--format json"), "\(clash.err)")
    }
}

@Suite struct TemplateFormulaTests {
    @Test func aNameThatLooksLikeAFormulaIsInertInTheTemplateAndStillMatches() throws {
        let w = try Workspace(Fixture.lines + [Fixture.org("evil", #"=HYPERLINK(\"http://x\",\"Oak\")"#), Fixture.join("evil")])
        let out = w.file("register.csv")
        #expect(try w.trellis(["register", "template", "--network", "npn", "--dates", "2025-10-01", "--out", out]).status == 0)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains(#"evil,"'=HYPERLINK(""http://x"",""Oak"")""#), "\(text)")
        // Filled in by id-less rows, by that (guarded) name.
        let filled = try w.write("filled.csv", "name,2025-10-01\n\"'=HYPERLINK(\"\"http://x\"\",\"\"Oak\"\")\",P\n")
        let r = try w.trellis(["register", "import", filled, "--network", "npn", "--format", "json"])
        #expect(r.status == 0 && r.json["append"] as? Int == 1, "\(r.err)")
        #expect(try w.attendance().map(\.org) == ["evil"])
    }
}
