/// Text from the log (names, actors, reasons, ids) shown to a person, with every character a
/// terminal would act on replaced by a visible escape: an event whose name holds `ESC [ 2 J`
/// or a right-to-left override must not clear the screen or reorder what `log` and `audit`
/// print. The CLI applies it once, where human text is written (its `Sink`); tables apply it
/// to each cell, line breaks included, so a value cannot forge a row.
///
/// What is escaped: the C0 controls U+0000–001F (ESC, BEL, CR, …), DEL U+007F and the C1
/// controls U+0080–009F as `\xNN`; the line and paragraph separators U+2028/2029 and the
/// bidirectional controls (U+061C, U+200E/200F, U+202A–202E, U+2066–2069) as `\uNNNN`.
/// Machine formats (JSON, NDJSON, CSV) keep the exact text: JSON escapes these characters
/// itself (``JSONValue/rendered(pretty:)``).
///
/// ## Topics
/// - ``neutralised(_:keepingLineBreaks:)``
/// - ``isNeutralised(_:keepingLineBreaks:)``
public enum TerminalText {
    /// `text` with every control character shown as an escape. With `keepingLineBreaks`,
    /// `\n` and TAB pass (the layout of a whole output); without, they are escaped too (a cell).
    public static func neutralised(_ text: String, keepingLineBreaks: Bool = false) -> String {
        if isPlain(text, keepingLineBreaks: keepingLineBreaks) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            guard isNeutralised(s, keepingLineBreaks: keepingLineBreaks) else { out.append(s); continue }
            let v = s.value
            let hex = String(v, radix: 16)
            let escape = v < 0x100 ? "\\x" + (v < 0x10 ? "0" : "") + hex
                                   : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// Whether `s` is shown as an escape.
    public static func isNeutralised(_ s: Unicode.Scalar, keepingLineBreaks: Bool = false) -> Bool {
        switch s.value {
        case 0x0A, 0x09: return !keepingLineBreaks
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The common case, checked on the bytes: printable ASCII (and, if kept, line breaks) only,
    /// or non-ASCII text none of whose scalars is escaped.
    static func isPlain(_ text: String, keepingLineBreaks: Bool) -> Bool {
        var ascii = true
        for b in text.utf8 {
            if b >= 0x80 { ascii = false; break }
            if b < 0x20 || b == 0x7F {
                if keepingLineBreaks && (b == 0x0A || b == 0x09) { continue }
                return false
            }
        }
        if ascii { return true }
        return !text.unicodeScalars.contains { isNeutralised($0, keepingLineBreaks: keepingLineBreaks) }
    }
}
