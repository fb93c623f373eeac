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
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        let total = widths.reduce(0, +) + 2 * max(0, widths.count - 1)
        if total > width, let f = flexible, f < widths.count {
            widths[f] = max(min(8, widths[f]), widths[f] - (total - width))
        }
        func line(_ cells: [String]) -> String {
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
        var out = [line(headers), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }

    /// GitHub-flavoured Markdown; `|` in cells escaped, line breaks flattened.
    public func markdown() -> String {
        func cell(_ s: String) -> String {
            var out = ""
            for ch in s {
                switch ch {
                case "|": out += "\\|"
                case "\n", "\r", "\r\n": out += " "
                default: out.append(ch)
                }
            }
            return out
        }
        var lines = ["| " + headers.map(cell).joined(separator: " | ") + " |"]
        lines.append("|" + headers.indices.map { rightAligned.contains($0) ? " ---: |" : " --- |" }.joined())
        lines += rows.map { r in "| " + headers.indices.map { cell($0 < r.count ? r[$0] : "") }.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n")
    }

    /// RFC 4180: a header row, CRLF line ends, fields quoted when they hold a comma, a
    /// quote or a line break (quotes doubled). UTF-8, no byte-order mark.
    public func csv() -> String {
        ([headers] + rows).map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    public static func csvField(_ s: String) -> String {
        let needs = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard needs else { return s }
        var out = "\""
        for ch in s { if ch == "\"" { out += "\"\"" } else { out.append(ch) } }
        return out + "\""
    }
}
