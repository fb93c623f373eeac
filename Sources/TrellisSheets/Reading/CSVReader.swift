/// An RFC 4180 reader for CSV as it really arrives: UTF-8 with or without BOM, UTF-16 (Excel's
/// "Unicode text"), or Windows-1252 (Excel's "CSV" on Windows), separated by commas, semicolons
/// (Excel in locales with a decimal comma) or tabs, with CRLF or LF line ends, quoted fields
/// holding separators, newlines and doubled quotes, and Excel's optional `sep=;` first line.
///
/// Hand-written rather than CSV.swift or SwiftCSV: neither detects the encoding or the
/// separator, which is the part that goes wrong with real files; the parser itself is small.
///
/// ## Topics
/// - ``workbook(bytes:path:preferTab:)``
/// - ``Encoding``
public enum CSVReader {
    /// How the bytes were decoded.
    public enum Encoding: Sendable, Equatable {
        case utf8
        case utf8BOM
        case utf16LE
        case utf16BE
        case windows1252

        var label: String {
            switch self {
            case .utf8: "UTF-8"
            case .utf8BOM: "UTF-8 with BOM"
            case .utf16LE: "UTF-16 LE"
            case .utf16BE: "UTF-16 BE"
            case .windows1252: "Windows-1252"
            }
        }
    }

    /// Decodes, detects the separator and parses `bytes` into a one-sheet workbook named after
    /// the file. Every non-empty field becomes `.text`; empty fields `.empty`.
    public static func workbook(bytes: [UInt8], path: String, preferTab: Bool = false) throws(SheetError) -> Workbook {
        let (encoding, utf8) = decode(bytes)
        var start = 0
        var separator: UInt8
        if let hinted = sepHint(utf8) {
            separator = hinted.separator
            start = hinted.length
        } else {
            separator = detectSeparator(utf8, preferTab: preferTab)
        }
        let records = try parse(utf8, from: start, separator: separator, path: path)
        let firstRow = start > 0 ? 1 : 0
        let width = records.reduce(0) { max($0, $1.count) }
        if width > 0 && records.count > SheetReader.maximumCells / width {
            throw tooManyCells(path, detail: "\(records.count) rows × \(width) columns")
        }
        var rows: [[Cell]] = []
        rows.reserveCapacity(records.count)
        let letters = (0..<width).map { CellReference.columnLetters($0) }
        for (r, record) in records.enumerated() {
            let rowNumber = String(r + 1 + firstRow)
            var row: [Cell] = []
            row.reserveCapacity(width)
            for c in 0..<width {
                let value: CellValue = c < record.count && !record[c].isEmpty ? .text(record[c]) : .empty
                row.append(Cell(value: value, reference: letters[c] + rowNumber))
            }
            rows.append(row)
        }
        let name = baseName(path)
        let separatorName = switch separator {
        case UInt8(ascii: ";"): "semicolon-separated"
        case UInt8(ascii: "\t"): "tab-separated"
        case UInt8(ascii: "|"): "pipe-separated"
        default: "comma-separated"
        }
        return Workbook(path: path, format: "CSV (\(encoding.label), \(separatorName))", sheets: [Sheet(name: name, rows: rows)])
    }

    // MARK: - Encoding

    /// Returns the encoding found and the text re-encoded as UTF-8 without BOM.
    /// Invalid UTF-8 is taken as Windows-1252, which decodes every byte (Excel's Windows default).
    static func decode(_ bytes: [UInt8]) -> (Encoding, [UInt8]) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            let rest = Array(bytes[3...])
            if isValidUTF8(rest) { return (.utf8BOM, rest) }
            return (.windows1252, windows1252ToUTF8(rest))
        }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xFE {
            return (.utf16LE, utf16ToUTF8(bytes[2...], littleEndian: true))
        }
        if bytes.count >= 2, bytes[0] == 0xFE, bytes[1] == 0xFF {
            return (.utf16BE, utf16ToUTF8(bytes[2...], littleEndian: false))
        }
        if isValidUTF8(bytes) { return (.utf8, bytes) }
        return (.windows1252, windows1252ToUTF8(bytes))
    }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        // Fast path: pure ASCII is the common case.
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Windows-1252's 0x80–0x9F; the five unassigned bytes map to the C1 control of the same
    /// value, as Windows' own conversion does.
    static let cp1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    static func windows1252ToUTF8<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 { out.append(byte); continue }
            let scalarValue = (0x80...0x9F).contains(byte) ? cp1252High[Int(byte) - 0x80] : UInt32(byte)
            appendUTF8(scalarValue, to: &out)
        }
        return out
    }

    static func utf16ToUTF8(_ bytes: ArraySlice<UInt8>, littleEndian: Bool) -> [UInt8] {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            i += 2
        }
        var out: [UInt8] = []
        out.reserveCapacity(units.count)
        for scalar in String(decoding: units, as: UTF16.self).unicodeScalars {
            appendUTF8(scalar.value, to: &out)
        }
        return out
    }

    static func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        switch value {
        case ..<0x80:
            out.append(UInt8(value))
        case ..<0x800:
            out.append(UInt8(0xC0 | value >> 6)); out.append(UInt8(0x80 | value & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | value >> 12)); out.append(UInt8(0x80 | value >> 6 & 0x3F))
            out.append(UInt8(0x80 | value & 0x3F))
        default:
            out.append(UInt8(0xF0 | value >> 18)); out.append(UInt8(0x80 | value >> 12 & 0x3F))
            out.append(UInt8(0x80 | value >> 6 & 0x3F)); out.append(UInt8(0x80 | value & 0x3F))
        }
    }

    // MARK: - Separator

    /// Excel's `sep=;` first line names the separator explicitly.
    static func sepHint(_ s: [UInt8]) -> (separator: UInt8, length: Int)? {
        guard s.count >= 5, s[0] | 0x20 == UInt8(ascii: "s"), s[1] | 0x20 == UInt8(ascii: "e"),
              s[2] | 0x20 == UInt8(ascii: "p"), s[3] == UInt8(ascii: "=") else { return nil }
        let separator = s[4]
        var end = 5
        if end < s.count, s[end] == 0x0D { end += 1 }
        guard end == s.count || s[end] == 0x0A else { return nil }
        return (separator, min(end + 1, s.count))
    }

    /// The most frequent of comma, semicolon and tab on the first record, counted outside quotes
    /// (a quoted header may contain newlines). Ties go to comma, then semicolon; no candidate → comma
    /// (a one-column file), or tab for `.tsv`.
    static func detectSeparator(_ s: [UInt8], preferTab: Bool) -> UInt8 {
        var commas = 0, semicolons = 0, tabs = 0
        var quoted = false
        for byte in s {
            if byte == UInt8(ascii: "\"") { quoted.toggle(); continue }
            if quoted { continue }
            if byte == 0x0A || byte == 0x0D { break }
            switch byte {
            case UInt8(ascii: ","): commas += 1
            case UInt8(ascii: ";"): semicolons += 1
            case UInt8(ascii: "\t"): tabs += 1
            default: break
            }
        }
        if preferTab && tabs > 0 { return UInt8(ascii: "\t") }
        let best = max(commas, semicolons, tabs)
        if best == 0 { return preferTab ? UInt8(ascii: "\t") : UInt8(ascii: ",") }
        if commas == best { return UInt8(ascii: ",") }
        if semicolons == best { return UInt8(ascii: ";") }
        return UInt8(ascii: "\t")
    }

    // MARK: - Parsing

    /// RFC 4180, leniently as spreadsheets read it: a quote inside an unquoted field is literal,
    /// text after a closing quote is kept. An unterminated quoted field is an error naming the
    /// line it opened on (otherwise the rest of the file would silently become one cell).
    static func parse(_ s: [UInt8], from start: Int, separator: UInt8, path: String) throws(SheetError) -> [[String]] {
        let quote = UInt8(ascii: "\""), cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var i = start
        var line = 1
        let n = s.count
        var atRecordStart = true
        var fields = 0
        while i < n {
            atRecordStart = false
            if s[i] == quote {
                let openedOn = line
                i += 1
                var closed = false
                while i < n {
                    let b = s[i]
                    if b == quote {
                        if i + 1 < n, s[i + 1] == quote { field.append(quote); i += 2; continue }
                        i += 1; closed = true; break
                    }
                    if b == lf { line += 1 }
                    field.append(b); i += 1
                }
                if !closed {
                    throw SheetError(file: path, cell: CellReference.name(column: record.count, row: records.count),
                                     message: "line \(openedOn): quoted field is never closed (a missing \" swallows the rest of the file)")
                }
            }
            // Unquoted content (or text after a closing quote) up to the separator or line end.
            while i < n {
                let b = s[i]
                if b == separator || b == lf || b == cr { break }
                field.append(b); i += 1
            }
            record.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fields += 1
            if fields > SheetReader.maximumCells {
                throw tooManyCells(path, detail: "line \(line)")
            }
            if i >= n { break }
            let b = s[i]
            i += 1
            if b == separator { continue }
            if b == cr, i < n, s[i] == lf { i += 1 }
            line += 1
            records.append(record)
            record = []
            atRecordStart = true
        }
        if !atRecordStart || !record.isEmpty { records.append(record) }
        return records
    }

    static func tooManyCells(_ path: String, detail: String) -> SheetError {
        SheetError(file: path, message: "\(detail): more than \(SheetReader.maximumCells) cells; refused")
    }

    static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return file }
        return String(file[..<dot])
    }
}
