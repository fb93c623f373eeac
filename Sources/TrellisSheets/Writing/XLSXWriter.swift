import Foundation
import TrellisCore
import ZIPFoundation

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
        var sheets: [(name: String, xml: String)] = [(aboutName, aboutSheet(about))]
        for table in tables {
            let name = names.claim(table.sheetName)
            for (r, row) in table.rows.enumerated() where row.count > table.columns.count {
                throw SheetError(file: "(xlsx)", sheet: name, cell: CellReference.name(column: table.columns.count, row: r + 1),
                                 message: "row has \(row.count) values but the table has \(table.columns.count) columns")
            }
            sheets.append((name, worksheet(table)))
        }
        var parts: [(String, String)] = [
            ("[Content_Types].xml", contentTypes(sheetCount: sheets.count)),
            ("_rels/.rels", rootRelationships),
            ("xl/workbook.xml", workbook(sheets.map(\.name))),
            ("xl/_rels/workbook.xml.rels", workbookRelationships(sheetCount: sheets.count)),
            ("xl/styles.xml", styles),
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

    static func aboutSheet(_ about: [(String, String)]) -> String {
        var xml = sheetHeader(frozen: false)
        let keyWidth = about.map { displayWidth($0.0) }.max() ?? 8
        let valueWidth = about.map { displayWidth($0.1) }.max() ?? 8
        xml += "<cols>\(column(1, width: keyWidth))\(column(2, width: valueWidth))</cols><sheetData>"
        for (r, (key, value)) in about.enumerated() {
            xml += "<row r=\"\(r + 1)\">"
            xml += inlineString(key, reference: CellReference.name(column: 0, row: r), style: .header)
            xml += inlineString(value, reference: CellReference.name(column: 1, row: r), style: .plain)
            xml += "</row>"
        }
        return xml + "</sheetData></worksheet>"
    }

    static func worksheet(_ table: Table) -> String {
        var xml = sheetHeader(frozen: true)
        var widths = table.columns.map { displayWidth($0.name) }
        for row in table.rows {
            for (c, value) in row.enumerated() where c < widths.count {
                widths[c] = max(widths[c], displayWidth(value, kind: table.columns[c].kind))
            }
        }
        xml += "<cols>"
        for (c, width) in widths.enumerated() { xml += column(c + 1, width: width) }
        xml += "</cols><sheetData><row r=\"1\">"
        for (c, column) in table.columns.enumerated() {
            xml += inlineString(column.name, reference: CellReference.name(column: c, row: 0), style: .header)
        }
        xml += "</row>"
        let letters = table.columns.indices.map { CellReference.columnLetters($0) }
        for (r, row) in table.rows.enumerated() {
            let number = String(r + 2)
            xml += "<row r=\"\(number)\">"
            for (c, value) in row.enumerated() {
                xml += cell(value, kind: table.columns[c].kind, reference: letters[c] + number)
            }
            xml += "</row>"
        }
        return xml + "</sheetData></worksheet>"
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

    static func cell(_ value: CellValue, kind: ColumnKind, reference: String) -> String {
        switch value {
        case .empty:
            return ""
        case .text(let text):
            if kind == .date, let serial = serial(isoDate: text) {
                return "<c r=\"\(reference)\" s=\"\(Style.date.rawValue)\"><v>\(serial)</v></c>"
            }
            return inlineString(text, reference: reference, style: .plain)
        case .number(let number):
            guard number.isFinite else { return "" }
            return "<c r=\"\(reference)\" s=\"\(style(for: kind).rawValue)\"><v>\(format(number))</v></c>"
        case .bool(let flag):
            return "<c r=\"\(reference)\" t=\"b\"><v>\(flag ? 1 : 0)</v></c>"
        case .date(let year, let month, let day):
            guard let serial = serial(year: year, month: month, day: day) else {
                return inlineString(String(format: "%04d-%02d-%02d", year, month, day), reference: reference, style: .plain)
            }
            return "<c r=\"\(reference)\" s=\"\(Style.date.rawValue)\"><v>\(serial)</v></c>"
        }
    }

    static func inlineString(_ text: String, reference: String, style: Style) -> String {
        let s = style == .plain ? "" : " s=\"\(style.rawValue)\""
        return "<c r=\"\(reference)\"\(s) t=\"inlineStr\"><is><t xml:space=\"preserve\">\(escape(text))</t></is></c>"
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

    static func displayWidth(_ text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(\.count).max() ?? 0
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

    /// XML-escapes text; characters XML 1.0 cannot carry become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
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

    /// A deflated zip with every entry stamped 1980-01-01 00:00 UTC (the earliest DOS date).
    static func zip(_ parts: [(String, String)]) throws(SheetError) -> [UInt8] {
        let stamp = Date(timeIntervalSince1970: 315_532_800)
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for (path, text) in parts {
                let bytes = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: stamp,
                                     permissions: 0o644, compressionMethod: .deflate) { position, size in
                    bytes.subdata(in: Int(position)..<min(Int(position) + size, bytes.count))
                }
            }
            guard let data = archive.data else {
                throw SheetError(file: "(xlsx)", message: "the zip archive produced no data", kind: .storage)
            }
            return [UInt8](data)
        } catch let error as SheetError {
            throw error
        } catch {
            throw SheetError(file: "(xlsx)", message: "cannot build the zip archive: \(error)", kind: .storage)
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
