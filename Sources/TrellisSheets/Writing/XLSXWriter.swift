import Foundation
import TrellisCore

/// Writes typed tables as a minimal, valid SpreadsheetML workbook that Excel, LibreOffice and
/// openpyxl open without repair prompts.
///
/// Every cell is a typed value: numbers are numbers (integer `0`, decimal `0.00`, percent `0.0%`),
/// dates are serial numbers with a `yyyy-mm-dd` format, text is an inline string. Inline strings
/// are never formulas, so text such as `=HYPERLINK(…)` from a ledger stays inert text in xlsx
/// (unlike CSV, where spreadsheets evaluate it). Characters XML 1.0 forbids (control characters
/// other than tab and line breaks) become U+FFFD.
///
/// The output is deterministic: fixed part order and zip timestamps (1980-01-01), so the same
/// report gives the same bytes.
///
/// ## Topics
/// - ``write(_:about:to:)``
/// - ``data(_:about:)``
public enum XLSXWriter {
    /// Header row bold and frozen, column widths from content, an "About" sheet first from
    /// `about` (key/value rows). Written to a temporary file and renamed into place.
    public static func write(_ tables: [Table], about: [(String, String)], to path: String) throws(SheetError) {
        let bytes: [UInt8]
        do {
            bytes = try data(tables, about: about)
        } catch {
            throw SheetError(file: path, sheet: error.sheet, cell: error.cell, message: error.message, kind: error.kind)
        }
        try FileOutput.replace(path: path, with: bytes)
    }

    /// The bytes of the workbook ``write(_:about:to:)`` writes.
    public static func data(_ tables: [Table], about: [(String, String)]) throws(SheetError) -> [UInt8] {
        var names = SheetNames()
        let aboutName = names.claim("About")
        var sheets: [(name: String, xml: [UInt8])] = [(aboutName, aboutSheet(about))]
        for table in tables {
            let name = names.claim(table.sheetName)
            for (r, row) in table.rows.enumerated() where row.count > table.columns.count {
                throw SheetError(file: "(xlsx)", sheet: name, cell: CellReference.name(column: table.columns.count, row: r + 1),
                                 message: "row has \(row.count) values but the table has \(table.columns.count) columns")
            }
            sheets.append((name, worksheet(table)))
        }
        var parts: [(String, [UInt8])] = [
            ("[Content_Types].xml", Array(contentTypes(sheetCount: sheets.count).utf8)),
            ("_rels/.rels", Array(rootRelationships.utf8)),
            ("xl/workbook.xml", Array(workbook(sheets.map(\.name)).utf8)),
            ("xl/_rels/workbook.xml.rels", Array(workbookRelationships(sheetCount: sheets.count).utf8)),
            ("xl/styles.xml", Array(styles.utf8)),
        ]
        for (i, sheet) in sheets.enumerated() {
            parts.append(("xl/worksheets/sheet\(i + 1).xml", sheet.xml))
        }
        return try zip(parts)
    }

    // MARK: - Styles

    /// cellXfs indexes in ``styles``.
    enum Style: Int {
        case plain = 0, header = 1, integer = 2, decimal = 3, percent = 4, date = 5
    }

    static func style(for kind: ColumnKind) -> Style {
        switch kind {
        case .text: .plain
        case .integer: .integer
        case .decimal: .decimal
        case .percent: .percent
        case .date: .date
        }
    }

    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
        <font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="6">\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        </cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    // MARK: - Sheets

    static func aboutSheet(_ about: [(String, String)]) -> [UInt8] {
        var xml = SheetXML()
        xml.put(sheetHeader(frozen: false))
        let keyWidth = about.map { displayWidth($0.0) }.max() ?? 8
        let valueWidth = about.map { displayWidth($0.1) }.max() ?? 8
        xml.put("<cols>" + column(1, width: keyWidth) + column(2, width: valueWidth) + "</cols><sheetData>")
        for (r, (key, value)) in about.enumerated() {
            xml.put("<row r=\"")
            xml.put(Int64(r + 1))
            xml.put("\">")
            xml.inlineString(key, column: Array(CellReference.columnLetters(0).utf8), row: r + 1, style: .header)
            xml.inlineString(value, column: Array(CellReference.columnLetters(1).utf8), row: r + 1, style: .plain)
            xml.put("</row>")
        }
        xml.put("</sheetData></worksheet>")
        return xml.bytes
    }

    /// The sheet's XML, written as bytes into one buffer: a report's edge list runs to 220 k
    /// rows and 130 MB of XML, which as `String` appends and a `String` a cell took most of a
    /// workbook's time (perf, 1 M events: 2.4 of 5.5 s).
    static func worksheet(_ table: Table) -> [UInt8] {
        var xml = SheetXML()
        xml.put(sheetHeader(frozen: true))
        var widths = table.columns.map { displayWidth($0.name) }
        for row in table.rows {
            for (c, value) in row.enumerated() where c < widths.count {
                widths[c] = max(widths[c], displayWidth(value, kind: table.columns[c].kind))
            }
        }
        xml.put("<cols>")
        for (c, width) in widths.enumerated() { xml.put(column(c + 1, width: width)) }
        xml.put("</cols><sheetData><row r=\"1\">")
        let letters = table.columns.indices.map { Array(CellReference.columnLetters($0).utf8) }
        for (c, column) in table.columns.enumerated() {
            xml.inlineString(column.name, column: letters[c], row: 1, style: .header)
        }
        xml.put("</row>")
        for (r, row) in table.rows.enumerated() {
            xml.put("<row r=\"")
            xml.put(Int64(r + 2))
            xml.put("\">")
            for (c, value) in row.enumerated() {
                xml.cell(value, kind: table.columns[c].kind, column: letters[c], row: r + 2)
            }
            xml.put("</row>")
        }
        xml.put("</sheetData></worksheet>")
        return xml.bytes
    }

    static func sheetHeader(frozen: Bool) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
            """
        if frozen {
            xml += "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
                + "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>"
        } else {
            xml += "<sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>"
        }
        return xml + "<sheetFormatPr defaultRowHeight=\"15\"/>"
    }

    static func column(_ number: Int, width: Int) -> String {
        let clamped = min(max(width, 6), 60) + 2
        return "<col min=\"\(number)\" max=\"\(number)\" width=\"\(clamped)\" customWidth=\"1\"/>"
    }

    /// Shortest round-tripping decimal; whole numbers without ".0".
    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }

    /// The 1900-system serial of a "YYYY-MM-DD" date, nil when the text is not one.
    static func serial(isoDate text: String) -> Int? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              let year = Int(text.prefix(4)), let month = Int(text.dropFirst(5).prefix(2)), let day = Int(text.suffix(2))
        else { return nil }
        return serial(year: year, month: month, day: day)
    }

    /// Dates from 1900-03-01 on (Excel's serial 61), where the 1900 system has no phantom day.
    static func serial(year: Int, month: Int, day: Int) -> Int? {
        guard (1900...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = Timestamp.days(year: year, month: month, day: day)
        // Reject 2024-02-31 and the like: the date must survive a round trip.
        guard Timestamp.civil(days: days) == (year, month, day) else { return nil }
        let serial = days + 25_569
        return serial >= 61 ? serial : nil
    }

    /// The longest line's length in characters (grapheme clusters).
    static func displayWidth(_ text: String) -> Int {
        // ASCII without line breaks: a character a byte (counting characters walks the
        // grapheme rules for every cell of every sheet).
        let plain: Bool? = text.utf8.withContiguousStorageIfAvailable { b in
            var high: UInt8 = 0, breaks = false
            for c in b { high |= c; breaks = breaks || c == 0x0A || c == 0x0D }
            return high < 0x80 && !breaks
        }
        if plain == true { return text.utf8.count }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(\.count).max() ?? 0
    }

    static func displayWidth(_ value: CellValue, kind: ColumnKind) -> Int {
        switch value {
        case .empty: 0
        case .text(let text): kind == .date ? 10 : displayWidth(text)
        case .number(let number):
            switch kind {
            case .percent: String(format: "%.1f%%", number * 100).count
            case .decimal: String(format: "%.2f", number).count
            default: format(number).count
            }
        case .bool: 5
        case .date: 10
        }
    }

    /// XML-escapes text; characters XML 1.0 cannot carry become U+FFFD (``SheetXML/escape(_:)``).
    static func escape(_ text: String) -> String {
        var xml = SheetXML()
        xml.escape(text)
        return String(decoding: xml.bytes, as: UTF8.self)
    }

    // MARK: - Package parts

    static func contentTypes(sheetCount: Int) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
            """
        for i in 1...max(sheetCount, 1) {
            xml += "<Override PartName=\"/xl/worksheets/sheet\(i).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        return xml + "</Types>"
    }

    static let rootRelationships = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
        </Relationships>
        """

    static func workbook(_ names: [String]) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <bookViews><workbookView activeTab="\(names.count > 1 ? 1 : 0)"/></bookViews><sheets>
            """
        for (i, name) in names.enumerated() {
            xml += "<sheet name=\"\(escape(name))\" sheetId=\"\(i + 1)\" r:id=\"rId\(i + 1)\"/>"
        }
        return xml + "</sheets></workbook>"
    }

    static func workbookRelationships(sheetCount: Int) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
            """
        for i in 1...max(sheetCount, 1) {
            xml += "<Relationship Id=\"rId\(i)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\(i).xml\"/>"
        }
        xml += "<Relationship Id=\"rId\(sheetCount + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
        return xml + "</Relationships>"
    }

    /// A deflated zip with every entry stamped 1980-01-01 00:00 UTC (the earliest DOS date),
    /// large parts deflated on every core (``ZipWriter``).
    static func zip(_ parts: [(String, [UInt8])]) throws(SheetError) -> [UInt8] {
        do {
            return try ZipWriter.archive(parts.map { (path: $0.0, bytes: $0.1) })
        } catch {
            throw SheetError(file: "(xlsx)", message: "cannot build the zip archive: \(error.message)", kind: .storage)
        }
    }
}

/// Excel's sheet-name rules: 1–31 characters, none of `[]:*?/\`, no leading or trailing
/// apostrophe, unique ignoring case, not "History".
struct SheetNames {
    private var taken: Set<String> = []

    mutating func claim(_ wanted: String) -> String {
        var base = String(wanted.map { "[]:*?/\\".contains($0) ? "-" : $0 })
            .filter { !$0.unicodeScalars.contains { $0.value < 0x20 } }
            .trimmingCharacters(in: CharacterSet(charactersIn: "' "))
        if base.isEmpty || base.lowercased() == "history" { base = "Sheet" + (base.isEmpty ? "" : " \(base)") }
        base = String(base.prefix(31))
        var name = base
        var n = 2
        while taken.contains(name.lowercased()) {
            let suffix = " (\(n))"
            name = String(base.prefix(31 - suffix.count)) + suffix
            n += 1
        }
        taken.insert(name.lowercased())
        return name
    }
}

/// A worksheet's XML as it is written: bytes appended to one buffer.
struct SheetXML {
    private(set) var bytes: [UInt8] = []

    init() {}

    mutating func put(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func put(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// An integer's decimal digits (as canonical JSON writes them).
    mutating func put(_ value: Int64) { CanonicalJSON.writeInt(value, into: &bytes) }

    /// `<c r="A2"` for column letters `column` and row `row` (1-based).
    private mutating func open(_ column: [UInt8], _ row: Int) {
        put("<c r=\"")
        bytes.append(contentsOf: column)
        put(Int64(row))
        bytes.append(UInt8(ascii: "\""))
    }

    /// One cell: numbers as numbers, dates as serials, text as an inline string (never a formula).
    mutating func cell(_ value: CellValue, kind: ColumnKind, column: [UInt8], row: Int) {
        switch value {
        case .empty:
            return
        case .text(let text):
            if kind == .date, let serial = XLSXWriter.serial(isoDate: text) {
                serialCell(serial, column: column, row: row)
                return
            }
            inlineString(text, column: column, row: row, style: .plain)
        case .number(let number):
            guard number.isFinite else { return }
            open(column, row)
            put(" s=\"")
            put(Int64(XLSXWriter.style(for: kind).rawValue))
            put("\"><v>")
            if number == number.rounded(), abs(number) < 1e15 { put(Int64(number)) } else { put("\(number)") }
            put("</v></c>")
        case .bool(let flag):
            open(column, row)
            put(" t=\"b\"><v>")
            bytes.append(flag ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            put("</v></c>")
        case .date(let year, let month, let day):
            guard let serial = XLSXWriter.serial(year: year, month: month, day: day) else {
                inlineString(String(format: "%04d-%02d-%02d", year, month, day), column: column, row: row, style: .plain)
                return
            }
            serialCell(serial, column: column, row: row)
        }
    }

    private mutating func serialCell(_ serial: Int, column: [UInt8], row: Int) {
        open(column, row)
        put(" s=\"")
        put(Int64(XLSXWriter.Style.date.rawValue))
        put("\"><v>")
        put(Int64(serial))
        put("</v></c>")
    }

    mutating func inlineString(_ text: String, column: [UInt8], row: Int, style: XLSXWriter.Style) {
        open(column, row)
        if style != .plain {
            put(" s=\"")
            put(Int64(style.rawValue))
            bytes.append(UInt8(ascii: "\""))
        }
        put(" t=\"inlineStr\"><is><t xml:space=\"preserve\">")
        escape(text)
        put("</t></is></c>")
    }

    /// XML-escaped text, appended, read from its UTF-8 (valid, as every `String` is): `& < > "`
    /// as entities, tab and line breaks as they are, the other characters XML 1.0 cannot carry
    /// (controls, U+FFFE and U+FFFF: EF BF BE, EF BF BF) as U+FFFD.
    mutating func escape(_ text: String) {
        var text = text
        text.withUTF8 { b in
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                switch c {
                case UInt8(ascii: "&"): put("&amp;")
                case UInt8(ascii: "<"): put("&lt;")
                case UInt8(ascii: ">"): put("&gt;")
                case UInt8(ascii: "\""): put("&quot;")
                case 0x09, 0x0A, 0x0D: bytes.append(c)
                case 0..<0x20: put("\u{FFFD}")
                case 0xEF where i + 2 < n && b[i + 1] == 0xBF && (b[i + 2] == 0xBE || b[i + 2] == 0xBF):
                    put("\u{FFFD}")
                    i += 2
                default: bytes.append(c)
                }
                i += 1
            }
        }
    }
}
