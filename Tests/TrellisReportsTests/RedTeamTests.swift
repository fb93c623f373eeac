import Foundation
import Testing
import TrellisLedger

/// Hostile names in the board summary a person reads, through the real binary.
@Suite struct ReportsRedTeamTests {
    /// An organisation named `Oak` + U+202E (RIGHT-TO-LEFT OVERRIDE) was written into the HTML
    /// summary as it is: the browser then shows the rest of the line reversed, so the figures
    /// after the name (`(o1), …`, a degree, a count) read backwards. The HTML now shows it as
    /// `\u202e`, as tables and Markdown do; the JSON keeps the exact name.
    @Test func aBidiOverrideInANameCannotReverseTheFiguresAfterItInTheHTMLSummary() throws {
        let s = try Scratch()
        try s.importWithCLI([
            E.network("npn", name: "North \u{2067}Network"),
            E.org("o1", name: "Oak\u{202E}"), E.org("o2", name: "Ash\u{200F}"),
            E.join("o1"), E.join("o2"),
            E.meeting("m1", "2025-10-01"),
            E.attend("t1", "m1", "o1", "present", day: "2025-10-01"),
        ])
        let html = s.file("board.html")
        let r = try ReportCLITests().trellis(["report", "summary", "--db", s.path, "--year", "2025/26", "--format", "html", "--out", html])
        #expect(r.status == 0, "\(r.err)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        for control: Unicode.Scalar in ["\u{202E}", "\u{200F}", "\u{2067}"] {
            #expect(!text.unicodeScalars.contains(control), "U+\(String(control.value, radix: 16)) written raw")
        }
        #expect(text.contains("Oak\\u202e"))
        #expect(text.contains("North \\u2067Network"))
        let json = try ReportCLITests().trellis(["report", "summary", "--db", s.path, "--year", "2025/26", "--format", "json"])
        #expect(json.status == 0, "\(json.err)")
        #expect(json.out.contains("Oak\\u202e") || json.out.unicodeScalars.contains("\u{202E}"), "the JSON keeps the exact name")
    }

    /// A name holding HTML (`<img src=x onerror=…>`) was written into Markdown as it is, so
    /// any renderer that allows inline HTML ran it. Markdown now backslash-escapes `<`, `>`,
    /// `|` and `\\` in text (rendered as the characters themselves), in tables and notes.
    @Test func htmlInANameStaysTextInMarkdown() throws {
        let s = try Scratch()
        let evil = "<img src=x onerror=alert(1)> | Oak"
        try s.importWithCLI([
            E.network("npn", name: "North"),
            E.org("o1", name: evil), E.org("o2", name: "Ash"),
            E.join("o1"), E.join("o2"),
            E.meeting("m1", "2025-10-01"),
            E.attend("t1", "m1", "o1", "present", day: "2025-10-01"),
        ])
        let md = try ReportCLITests().trellis(["report", "participation", "--db", s.path, "--year", "2025/26", "--format", "md"])
        #expect(md.status == 0, "\(md.err)")
        #expect(!md.out.replacingOccurrences(of: "\\<", with: "").contains("<img"), "\(md.out)")
        #expect(md.out.contains("\\<img src=x onerror=alert(1)\\> \\| Oak"), "\(md.out)")
        let audit = try ReportCLITests().trellis(["audit", "o1", "--db", s.path, "--format", "md"])
        #expect(audit.status == 0, "\(audit.err)")
        #expect(!audit.out.replacingOccurrences(of: "\\<", with: "").contains("<img"), "\(audit.out)")
    }
}
