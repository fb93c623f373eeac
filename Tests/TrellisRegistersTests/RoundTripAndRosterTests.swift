import Foundation
import Testing
import TrellisLedger
import TrellisSheets

/// template → fill in → import → report, the figures checked against a count of the filled cells.
@Suite struct RegisterRoundTripTests {
    @Test func templateFilledAndImportedGivesTheParticipationCountedFromTheSheet() throws {
        // birch1 leaves between the meetings: expected at m1 only.
        let w = try Workspace(Fixture.lines + [Fixture.line("ml-birch1", "MemberLeft", "2025-10-15", #""network_id":"npn","org_id":"birch1""#)])
        let out = w.file("register.csv")
        let t = try w.trellis(["register", "template", "--network", "npn", "--dates", "2025-10-01,05/11/2025,2026-01-14", "--out", out])
        #expect(t.status == 0, "\(t.err)")
        #expect(t.out.contains("5 organisations × 3 meetings (1 not yet recorded"), "\(t.out)")
        // The template as written, read back by the sheet reader.
        let sheet = try #require(try SheetReader.read(path: out).sheets.first)
        var rows = sheet.rows.map { $0.map { cell -> String in if case .text(let s) = cell.value { return s } else { return "" } } }
        #expect(rows[0][0].hasPrefix("Instructions:"))
        #expect(rows[1] == ["org_id", "name", "2025-10-01 Autumn meeting", "2025-11-05 Late autumn meeting", "2026-01-14"])
        #expect(rows.dropFirst(2).map { $0[0] } == ["ash", "birch1", "cafe", "oak", "stm"], "members on any of the days, by name")
        // Fill every cell with a code, cycling through all accepted ones and the empty cell.
        let codes = AttendanceCodesForTest.all + [""]
        var k = 0
        for r in 2..<rows.count { for c in 2..<5 { rows[r][c] = codes[k % codes.count]; k += 7 } }
        // Count by hand what DOMAIN.md says the report must show.
        let days = ["2025-10-01", "2025-11-05", "2026-01-14"]
        var expected: [String: (expected: Int, present: Int, apologies: Int)] = [:]
        for r in 2..<rows.count {
            let org = rows[r][0]
            var e = (expected: 0, present: 0, apologies: 0)
            for c in 2..<5 {
                if org == "birch1" && days[c - 2] > "2025-10-15" { continue }   // not a member then
                e.expected += 1
                switch AttendanceCodesForTest.status(rows[r][c]) {
                case "present": e.present += 1
                case "apologies": e.apologies += 1
                default: break
                }
            }
            expected[org] = e
        }
        let filled = w.file("filled.csv")
        try CSVWriter.write(rows, to: filled)
        let imp = try w.trellis(["register", "import", filled, "--network", "npn", "--create-meetings", "--format", "json"])
        #expect(imp.status == 0, "\(imp.err)")
        let p = try w.trellis(["report", "participation", "--network", "npn", "--from", "2025-09-01", "--to", "2026-09-01", "--format", "json"])
        #expect(p.status == 0, "\(p.err)")
        let network = try #require((p.json["networks"] as? [[String: Any]])?.first)
        let members = try #require(network["members"] as? [[String: Any]])
        #expect(Set(members.compactMap { $0["org_id"] as? String }) == Set(expected.keys))
        var totalPresent = 0, totalExpected = 0
        for m in members {
            let org = try #require(m["org_id"] as? String)
            let e = try #require(expected[org])
            #expect(m["expected"] as? Int == e.expected, "\(org)")
            #expect(m["present"] as? Int == e.present, "\(org)")
            #expect(m["apologies"] as? Int == e.apologies, "\(org)")
            #expect(m["absent"] as? Int == e.expected - e.present - e.apologies, "\(org)")
            #expect(abs((m["rate"] as? Double ?? -1) - Double(e.present) / Double(e.expected)) < 1e-12, "\(org)")
            totalPresent += e.present; totalExpected += e.expected
        }
        #expect(abs((network["attendance_rate"] as? Double ?? -1) - Double(totalPresent) / Double(totalExpected)) < 1e-12)
    }

    @Test func templateRefusesToOverwriteAFile() throws {
        let w = try Workspace()
        let out = try w.write("register.csv", "filled in already")
        let r = try w.trellis(["register", "template", "--network", "npn", "--from", "2025-09-01", "--to", "2026-09-01", "--out", out])
        #expect(r.status == 64 && r.err.contains("--force"), "\(r.err)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "filled in already")
    }
}

/// The accepted codes, written out here rather than read from the module: an independent list.
enum AttendanceCodesForTest {
    static let present = ["P", "Present", "Y", "Yes", "✓", "/", "1", "p", "yes"]
    static let apologies = ["Apols", "Apologies", "Apol", "AP", "Sent apologies", "apols"]
    static let absent = ["A", "Absent", "N", "No", "0", "X", "x"]
    static let all = present + apologies + absent
    static func status(_ s: String) -> String? {
        if present.contains(s) { return "present" }
        if apologies.contains(s) { return "apologies" }
        if absent.contains(s) { return "absent" }
        return nil
    }
}

@Suite struct RosterImportTests {
    static let roster = """
        Name,Kind,Schools,Region,Joined,Left
        Oak Trust,MAT,,,,
        New Dawn Academy Trust,Multi-academy trust,4,North East,10/09/2025,
        Elm Hub,hub,,,1 January 2026,
        Ash Academy,,,,,2026-02-01
        Willow Trust,SAT,1,,2025-09-01,
        """

    @Test func memberListRegistersJoinsAndLeavesThenChangesNothing() throws {
        // An existing organisation already uses the id the new Willow Trust would get.
        let w = try Workspace(Fixture.lines + [Fixture.org("willow-trust", "Willow Federation")])
        let f = try w.write("members.csv", Self.roster)
        let r = try w.trellis(["roster", "import", f, "--network", "npn", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let byType = try #require(r.json["by_type"] as? [String: Int])
        #expect(byType == ["OrganisationRegistered": 2, "MemberJoined": 3, "MemberLeft": 1], "\(r.out)")
        #expect(r.json["unchanged"] as? Int == 1)
        let warnings = try #require(r.json["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("the id willow-trust is taken") && $0.contains("willow-trust-2") }, "\(warnings)")
        let orgs = try w.trellis(["orgs", "--network", "npn", "--on", "2026-03-01", "--format", "json"])
        let ids = Set(((orgs.json["organisations"] as? [[String: Any]]) ?? []).compactMap { $0["org_id"] as? String })
        #expect(ids == ["oak", "stm", "birch1", "cafe", "new-dawn-academy-trust", "elm", "willow-trust-2"], "\(orgs.out)")
        let dawn = try #require((orgs.json["organisations"] as? [[String: Any]])?.first { $0["org_id"] as? String == "new-dawn-academy-trust" })
        #expect(dawn["kind"] as? String == "mat" && dawn["schools"] as? Int == 4 && dawn["region"] as? String == "North East")
        let before = try w.events()
        let again = try w.trellis(["roster", "import", f, "--network", "npn", "--format", "json"])
        #expect(again.status == 0 && again.json["append"] as? Int == 0 && again.json["unchanged"] as? Int == 5, "\(again.out)")
        #expect(try w.events() == before)
    }

    @Test func badRosterCellsAreNamedAndNothingIsAppended() throws {
        let w = try Workspace()
        let f = try w.write("members.csv", "name,kind,schools,joined\nNew Trust,charity,2,2025-09-01\nOther Trust,mat,many,2025-09-01\nThird Trust,mat,1,31/02/2026\n")
        let before = try w.events()
        let r = try w.trellis(["roster", "import", f, "--network", "npn"])
        #expect(r.status == 65)
        #expect(r.err.contains(#"members.csv, B2: "charity" is not a kind"#), "\(r.err)")
        #expect(r.err.contains(#"members.csv, C3: "many" is not a number of schools"#), "\(r.err)")
        #expect(r.err.contains(#"members.csv, D4: "31/02/2026" is not a date"#), "\(r.err)")
        #expect(try w.events() == before)
    }
}
