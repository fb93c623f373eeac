import TrellisLedger
import TrellisCore

/// Escaping for the markup languages reports are written in.
public enum Markup {
    /// Text for XML and HTML content and attribute values: `& < > " '` escaped; characters
    /// XML 1.0 does not allow (controls other than tab and line breaks) replaced by U+FFFD.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF || (u.value >= 0x7F && u.value <= 0x9F) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Text for the HTML a person reads (the board summary and its charts): ``escape(_:)``
    /// after ``TerminalText/neutralised(_:keepingLineBreaks:)``, so that a name's bidi
    /// override (U+202E…) or other control shows as `\u202e` instead of reversing the
    /// figures that follow it on the line. Machine formats (GraphML, GEXF) keep ``escape(_:)``.
    public static func html(_ s: String) -> String {
        escape(TerminalText.neutralised(s, keepingLineBreaks: true))
    }

    /// A double-quoted DOT string.
    public static func dot(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n", "\r": out += " "
            default: if u.value >= 0x20 { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// A number as XML/JSON-compatible text: integers without a fraction, others in
    /// Swift's shortest round-trip form.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}
