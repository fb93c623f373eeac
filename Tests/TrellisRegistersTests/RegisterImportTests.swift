import Foundation
import Testing
import TrellisLedger
@testable import TrellisRegisters
import TrellisSheets

@Suite struct AttendanceCodeTests {
    @Test func everyAcceptedCodeMapsToItsStatusInAnyCase() {
        for (status, codes) in AttendanceCode.codes {
            for c in codes {
                #expect(AttendanceCode.status(of: .text(c)) == .status(status), "\(c)")
                #expect(AttendanceCode.status(of: .text(" " + c.lowercased() + " ")) == .status(status), "\(c)")
                #expect(AttendanceCode.status(of: .text(c.uppercased())) == .status(status), "\(c)")
            }
        }
        #expect(AttendanceCode.status(of: .number(1)) == .status("present"))
        #expect(AttendanceCode.status(of: .number(0)) == .status("absent"))
        #expect(AttendanceCode.status(of: .bool(true)) == .status("present"))
        #expect(AttendanceCode.status(of: .bool(false)) == .status("absent"))
        #expect(AttendanceCode.status(of: .empty) == .empty)
        #expect(AttendanceCode.status(of: .text("   ")) == .empty)
        #expect(AttendanceCode.status(of: .text("late")) == .invalid("late"))
        #expect(AttendanceCode.status(of: .number(2)) == .invalid("2"))
        #expect(AttendanceCode.status(of: .date(year: 2026, month: 3, day: 12)) == .invalid("2026-03-12"))
    }

    @Test func datesInEveryAcceptedFormNeverInUSOrder() {
        for text in ["2026-03-12", "12/03/2026", "12/3/26", "12 March 2026", "12 Mar 2026", "Thursday 12 March 2026", "12th March 2026", "12.03.2026"] {
            #expect(SheetDate.day(of: .text(text)) == "2026-03-12", "\(text)")
        }
        #expect(SheetDate.day(of: .date(year: 2026, month: 3, day: 12)) == "2026-03-12")
        #expect(SheetDate.day(of: .text("03/04/2026")) == "2026-04-03", "day first")
        #expect(SheetDate.day(of: .text("04/13/2026")) == nil, "month 13: US order is refused, not guessed")
        #expect(SheetDate.day(of: .text("31/02/2026")) == nil, "no rolling over")
        #expect(SheetDate.leadingDay("2026-03-12 Spring network meeting")! == ("2026-03-12", "Spring network meeting"))
        #expect(SheetDate.leadingDay("12 March 2026 – Spring")! == ("2026-03-12", "Spring"))
        #expect(SheetDate.leadingDay("Notes") == nil)
    }

    @Test func slugsAreIdsAndPunctuationDoesNotSplitWords() {
        #expect(RosterImport.slug("St. Mary's C of E Trust") == "st-marys-c-of-e-trust")
        #expect(RosterImport.slug("Café  Learning / Trust") == "cafe-learning-trust")
        #expect(RosterImport.slug("Ωμέγα").hasPrefix("org-"))
        #expect(RosterImport.kind("Multi-Academy Trust") == "mat" && RosterImport.kind("LA") == "local_authority" && RosterImport.kind("charity") == nil)
    }
}

/// `register import` through the real binary on real files and a real ledger.
@Suite struct RegisterImportCLITests {
    static let wide = """
        org_id,name,2025-10-01 Autumn meeting,05/11/2025 Late autumn meeting
        oak,Oak Trust,P,Apols
        ,st marys c of e trust,Present,A
        ash,,Y,✓
        birch1,Birch Trust,X,
        cafe,Café Learning Trust,1,0
        """

    @Test func wideRegisterAppendsOneRecordPerFilledCell() throws {
        let w = try Workspace()
        let f = try w.write("register.csv", Self.wide)
        let before = try w.events()
        let r = try w.trellis(["register", "import", f, "--network", "npn", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.json["layout"] as? String == "wide")
        #expect(r.json["append"] as? Int == 9 && r.json["appended"] as? Int == 9)
        #expect(try w.events() == before + 9)
        let got = Set(try w.attendance().map { "\($0.meeting) \($0.org) \($0.status)" })
        #expect(got == ["m1 oak present", "m2 oak apologies", "m1 stm present", "m2 stm absent", "m1 ash present", "m2 ash present",
                        "m1 birch1 absent", "m1 cafe present", "m2 cafe absent"])
        let warnings = try #require(r.json["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("column D") && $0.contains("D5") && $0.contains("record nothing") }, "\(warnings)")
    }

    @Test func reimportingAnUnchangedSheetAppendsNothingAndOneCorrectionAppendsOne() throws {
        let w = try Workspace()
        let f = try w.write("register.csv", Self.wide)
        #expect(try w.trellis(["register", "import", f, "--network", "npn"]).status == 0)
        let after = try w.events()
        let again = try w.trellis(["register", "import", f, "--network", "npn", "--format", "json"])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.json["append"] as? Int == 0 && again.json["unchanged"] as? Int == 9)
        #expect(try w.events() == after)
        // One corrected cell: ash at m2 was there, is now apologies.
        try w.write("register.csv", Self.wide.replacingOccurrences(of: "ash,,Y,✓", with: "ash,,Y,apologies"))
        let dry = try w.trellis(["register", "import", f, "--network", "npn", "--dry-run", "--format", "json"])
        #expect(dry.json["append"] as? Int == 1 && dry.json["unchanged"] as? Int == 8, "\(dry.out)")
        #expect(try w.events() == after, "a dry run appends nothing")
        #expect(try w.trellis(["register", "import", f, "--network", "npn"]).status == 0)
        #expect(try w.events() == after + 1)
        let last = try #require(try w.attendance().last)
        #expect(last.meeting == "m2" && last.org == "ash" && last.status == "apologies")
        // And the participation report counts the correction (latest record wins).
        let p = try w.trellis(["report", "participation", "--network", "npn", "--from", "2025-09-01", "--to", "2026-09-01", "--format", "json"])
        let members = try #require(((p.json["networks"] as? [[String: Any]])?.first?["members"]) as? [[String: Any]])
        let ash = try #require(members.first { $0["org_id"] as? String == "ash" })
        #expect(ash["present"] as? Int == 1 && ash["apologies"] as? Int == 1)
    }

    @Test func twoPeopleImportingTheSameSheetGetTheSameEvents() throws {
        let a = try Workspace(), b = try Workspace()
        for w in [a, b] {
            let f = try w.write("register.csv", Self.wide)
            #expect(try w.trellis(["register", "import", f, "--network", "npn", "--create-meetings"]).status == 0)
        }
        #expect(try a.attendance().map(\.id) == b.attendance().map(\.id))
        #expect(try a.attendance().allSatisfy { $0.id.hasPrefix("reg-") })
    }

    @Test func badCellsAreErrorsNamingFileAndCellAndNothingIsAppended() throws {
        let w = try Workspace()
        let f = try w.write("bad.csv", """
            org_id,name,2025-10-01,2025-11-05
            oak,,late,P
            ,Birch Trust,P,P
            ,Oak Trst,P,P
            ,Nobody Academy,P,P
            ash,,P,??
            """)
        let before = try w.events()
        let r = try w.trellis(["register", "import", f, "--network", "npn"])
        #expect(r.status == 65)
        #expect(r.err.contains(#"bad.csv, C2: "late" is not a status; use P, Apols or A"#), "\(r.err)")
        #expect(r.err.contains(#"bad.csv, D6: "??" is not a status"#), "\(r.err)")
        #expect(r.err.contains(#"B3: "Birch Trust" matches 2 organisations: Birch Trust (birch1), Birch Trust (birch2)"#), "\(r.err)")
        #expect(r.err.contains(#"B4: no organisation "Oak Trst" in the ledger; closest: Oak Trust (oak)"#), "\(r.err)")
        #expect(r.err.contains(#"B5: no organisation "Nobody Academy""#), "\(r.err)")
        #expect(r.err.contains("nothing was appended (5 errors)"), "\(r.err)")
        #expect(try w.events() == before)
        // The JSON form lists the same errors.
        let j = try w.trellis(["register", "import", f, "--network", "npn", "--format", "json", "--dry-run"])
        #expect(j.status == 65 && (j.json["errors"] as? [String])?.count == 5)
    }

    @Test func aHeaderDateWithNoMeetingIsAnErrorUnlessCreateMeetings() throws {
        let w = try Workspace()
        let f = try w.write("new.csv", """
            org_id,12 March 2026 Spring network meeting,2025-10-01
            oak,P,P
            """)
        let before = try w.events()
        let r = try w.trellis(["register", "import", f, "--network", "npn"])
        #expect(r.status == 65)
        #expect(r.err.contains(#"new.csv, B1: no meeting of npn on 2026-03-12 ("Spring network meeting"); record it first, or add --create-meetings"#), "\(r.err)")
        #expect(try w.events() == before)
        let ok = try w.trellis(["register", "import", f, "--network", "npn", "--create-meetings", "--format", "json"])
        #expect(ok.status == 0, "\(ok.err)")
        let new = try #require(ok.json["new_meetings"] as? [[String: Any]])
        #expect(new.count == 1 && new[0]["date"] as? String == "2026-03-12" && new[0]["title"] as? String == "Spring network meeting" && new[0]["meeting_id"] as? String == "npn-2026-03-12")
        #expect(try w.events() == before + 3)
        // Now the meeting exists: the same sheet appends nothing more.
        let again = try w.trellis(["register", "import", f, "--network", "npn", "--create-meetings", "--format", "json"])
        #expect(again.json["append"] as? Int == 0 && again.json["new_meetings"] as? [Any] != nil && (again.json["new_meetings"] as? [Any])?.isEmpty == true)
    }

    @Test func longLayoutWithPeopleIsDetected() throws {
        let w = try Workspace()
        let f = try w.write("long.csv", """
            Date,Organisation,Person,Status
            01/10/2025,Oak Trust,p1,Present
            1 October 2025,St Marys C of E Trust,,Apologies
            2025-11-05,ash,,absent
            """)
        let r = try w.trellis(["register", "import", f, "--network", "npn", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.json["layout"] as? String == "long" && r.json["append"] as? Int == 3)
        let got = Set(try w.attendance().map { "\($0.meeting) \($0.org) \($0.status)" })
        #expect(got == ["m1 oak present", "m1 stm apologies", "m2 ash absent"])
        let bad = try w.write("long-bad.csv", "date,org_id,person_id,status\n2025-10-01,stm,p1,P\n")
        let e = try w.trellis(["register", "import", bad, "--network", "npn"])
        #expect(e.status == 65 && e.err.contains("long-bad.csv, C2: person p1 belongs to oak, not stm"), "\(e.err)")
    }

    @Test func guestsAndMissingMembersAreWarnings() throws {
        let w = try Workspace()
        let f = try w.write("partial.csv", "org_id,2025-10-01\noak,P\nelm,P\n")
        let r = try w.trellis(["register", "import", f, "--network", "npn", "--dry-run", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let warnings = try #require(r.json["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("B3: Elm Hub (elm) was not a member of npn") && $0.contains("guest") }, "\(warnings)")
        for missing in ["Ash Academy (ash)", "Birch Trust (birch1)", "St. Mary's C of E Trust (stm)", "Café Learning Trust (cafe)"] {
            #expect(warnings.contains { $0.contains(missing) && $0.contains("not on the sheet") }, "\(missing): \(warnings)")
        }
        #expect(r.json["append"] as? Int == 2, "the guest's attendance is recorded too")
    }

    @Test func windows1252AndSemicolonAndBOMFilesImportAlike() throws {
        let w = try Workspace()
        let body = "name;2025-10-01\nCafé Learning Trust;P\nSt Mary’s C of E Trust;Apols\n"
        let files = [
            try w.write("cp1252.csv", body, windows1252: true),
            try w.write("bom.csv", body, bom: true),
        ]
        for f in files {
            let r = try w.trellis(["register", "import", f, "--network", "npn", "--dry-run", "--format", "json"])
            #expect(r.status == 0, "\(f): \(r.err)")
            #expect(r.json["append"] as? Int == 2, "\(f): \(r.out)")
        }
        #expect(try w.trellis(["register", "import", files[0], "--network", "npn"]).status == 0)
        #expect(Set(try w.attendance().map { "\($0.org) \($0.status)" }) == ["cafe present", "stm apologies"])
        let again = try w.trellis(["register", "import", files[1], "--network", "npn", "--format", "json"])
        #expect(again.json["append"] as? Int == 0, "the UTF-8 copy of the same register changes nothing")
    }

    @Test func unknownNetworkAndMissingFileHaveTheirExitCodes() throws {
        let w = try Workspace()
        let f = try w.write("r.csv", Self.wide)
        let r = try w.trellis(["register", "import", f, "--network", "nope"])
        #expect(r.status == 64 && r.err.contains("no network nope; the ledger's networks: npn"), "\(r.err)")
        let m = try w.trellis(["register", "import", w.file("absent.csv"), "--network", "npn"])
        #expect(m.status == 66)
    }
}
