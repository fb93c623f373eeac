import TrellisLedger
import TrellisCore

/// A table of text cells, rendered for a terminal (aligned, within a width), as GitHub
/// Markdown, or as RFC 4180 CSV.
///
/// ## Topics
/// - ``text(width:)``
/// - ``markdown()``
/// - ``csv()``
public struct Table: Sendable, Hashable {
    public var headers: [String]
    public var rows: [[String]] = []
    /// Columns aligned right (numbers).
    public var rightAligned: Set<Int> = []
    /// The column that is clipped (with `…`) when the table is too wide: usually a name.
    public var flexible: Int?

    public init(headers: [String], rows: [[String]] = [], rightAligned: Set<Int> = [], flexible: Int? = nil) {
        self.headers = headers
        self.rows = rows
        self.rightAligned = rightAligned
        self.flexible = flexible
    }

    /// Aligned columns two spaces apart, a rule under the headers; at most `width`
    /// characters a line when the flexible column can absorb the excess.
    public func text(width: Int = 80) -> String {
        var layout = Layout(headers: headers, rightAligned: rightAligned, flexible: flexible)
        for r in rows { layout.measure(r) }
        layout.fit(width: width)
        return ([layout.header()] + rows.map { layout.line($0) }).joined(separator: "\n")
    }

    /// The plain-text layout of a table, for one too long to hold in memory: every row is
    /// measured first (a first pass), then written row by row (a second pass); the text is
    /// exactly ``text(width:)``'s.
    public struct Layout: Sendable {
        let headers: [String]
        let rightAligned: Set<Int>
        let flexible: Int?
        public private(set) var widths: [Int]

        public init(headers: [String], rightAligned: Set<Int> = [], flexible: Int? = nil) {
            // Control characters shown as escapes, line breaks too: a cell cannot forge a row.
            self.headers = headers.map { TerminalText.neutralised($0) }
            self.rightAligned = rightAligned
            self.flexible = flexible
            widths = self.headers.map(\.count)
        }

        public mutating func measure(_ cells: [String]) {
            for (i, c) in cells.enumerated() where i < widths.count { widths[i] = max(widths[i], TerminalText.neutralised(c).count) }
        }

        /// Narrows the flexible column so that a line is at most `width` characters, if it can.
        public mutating func fit(width: Int) {
            let total = widths.reduce(0, +) + 2 * max(0, widths.count - 1)
            if total > width, let f = flexible, f < widths.count {
                widths[f] = max(min(8, widths[f]), widths[f] - (total - width))
            }
        }

        /// The header line and the rule under it.
        public func header() -> String {
            aligned(headers) + "\n" + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        }

        public func line(_ cells: [String]) -> String {
            aligned(cells.map { TerminalText.neutralised($0) })
        }

        private func aligned(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, w) in widths.enumerated() {
                let c = Show.clipped(i < cells.count ? cells[i] : "", w)
                let pad = String(repeating: " ", count: max(0, w - c.count))
                parts.append(rightAligned.contains(i) ? pad + c : (i == widths.count - 1 ? c : c + pad))
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
    }

    /// GitHub-flavoured Markdown; `|` in cells escaped, line breaks flattened, other control
    /// characters shown as escapes (``TerminalText``).
    public func markdown() -> String {
        func cell(_ s: String) -> String {
            var out = ""
            for ch in s {
                switch ch {
                case "\n", "\r", "\r\n": out += " "
                default: out.append(ch)
                }
            }
            return Self.markdownText(TerminalText.neutralised(out))
        }
        var lines = ["| " + headers.map(cell).joined(separator: " | ") + " |"]
        lines.append("|" + headers.indices.map { rightAligned.contains($0) ? " ---: |" : " --- |" }.joined())
        lines += rows.map { r in "| " + headers.indices.map { cell($0 < r.count ? r[$0] : "") }.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n")
    }

    /// Text for a Markdown document: `|` (a cell boundary), `<` and `>` (inline HTML: a name
    /// such as `<img src=x onerror=…>` must stay text in whatever renders the file) are
    /// backslash-escaped, which CommonMark renders as the characters themselves; so is a `\`
    /// that would otherwise escape one of them (`a\|b` cannot end a cell). Other backslashes
    /// stay as they are, so the escapes of ``TerminalText`` (`\x1b`) read the same.
    public static func markdownText(_ s: String) -> String {
        let special: Set<Character> = ["|", "<", ">"]
        guard s.contains(where: special.contains) else { return s }
        var out = ""
        let chars = Array(s)
        for (i, ch) in chars.enumerated() {
            if special.contains(ch) {
                out.append("\\")
            } else if ch == "\\", i + 1 < chars.count, special.contains(chars[i + 1]) || chars[i + 1] == "\\" {
                out.append("\\")
            }
            out.append(ch)
        }
        return out
    }

    /// RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma, a
    /// quote or a line break (quotes doubled). UTF-8, no byte-order mark.
    ///
    /// Written for spreadsheets, so a text cell that a spreadsheet would run as a formula
    /// (it starts with `=`, `+`, `-`, `@`, TAB or CR) gets a leading `'`, as OWASP's CSV
    /// injection guidance says (``spreadsheetSafe(_:)``). Numbers are left alone: `-0.5` is
    /// a number, not a formula.
    public func csv() -> String {
        ([headers] + rows).map { $0.map { Self.csvField(Self.spreadsheetSafe($0)) }.joined(separator: ",") + "\r\n" }.joined()
    }

    /// `cell`, or `'` + `cell` when a spreadsheet would take it for a formula: it starts with
    /// `=`, `+`, `-`, `@`, TAB or CR and is not a plain decimal number (`-3`, `-0.25`, `-1e-05`:
    /// what this module writes for counts and rates, and nothing a spreadsheet can run).
    public static func spreadsheetSafe(_ cell: String) -> String {
        guard let first = cell.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first) else { return cell }
        return isPlainNumber(cell) ? cell : "'" + cell
    }

    /// `-?digits(.digits)?([eE][-+]?digits)?`, as Swift prints an `Int` or a `Double`.
    static func isPlainNumber(_ s: String) -> Bool {
        var b = Array(s.utf8)[...]
        func digits() -> Bool {
            let n = b.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            b = b.dropFirst(n)
            return n > 0
        }
        if b.first == 0x2D { b = b.dropFirst() }
        guard digits() else { return false }
        if b.first == 0x2E { b = b.dropFirst(); guard digits() else { return false } }
        if b.first == 0x65 || b.first == 0x45 {
            b = b.dropFirst()
            if b.first == 0x2D || b.first == 0x2B { b = b.dropFirst() }
            guard digits() else { return false }
        }
        return b.isEmpty
    }

    public static func csvField(_ s: String) -> String {
        let needs = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard needs else { return s }
        var out = "\""
        for ch in s { if ch == "\"" { out += "\"\"" } else { out.append(ch) } }
        return out + "\""
    }
}
