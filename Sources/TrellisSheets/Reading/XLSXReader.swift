import Foundation
import TrellisCore
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Reads xlsx workbooks (Office Open XML SpreadsheetML) as Excel, LibreOffice and openpyxl
/// write them: shared and inline strings, numbers, booleans, dates in both date systems, merged
/// cells, hidden columns, sheets in workbook order, sparse cell references.
///
/// Bounded: each zip part is decompressed into memory only up to ``maximumPartSize`` (the
/// declared size is checked first, the bytes actually inflated are counted too, since a zip
/// header can lie), and a sheet whose used range exceeds ``maximumCells`` is refused before
/// any grid is allocated.
///
/// ## Topics
/// - ``maximumPartSize``
/// - ``maximumCells``
public enum XLSXReader {
    /// A zip part that decompresses beyond this is refused (zip bomb): 100 MB.
    public static let maximumPartSize = 100 * 1024 * 1024
    /// A sheet whose used range (rows × columns) is larger than this is refused.
    public static let maximumCells = SheetReader.maximumCells

    static func read(path: String) throws(SheetError) -> Workbook {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw SheetError(file: path, message: "is not an xlsx file (not a readable zip archive)")
        }
        let package = Package(archive: archive, path: path)
        guard let workbookXML = try package.part("xl/workbook.xml") else {
            throw SheetError(file: path, message: "is not an xlsx workbook (no xl/workbook.xml)")
        }
        let workbook = WorkbookPart()
        try package.parse(workbookXML, part: "xl/workbook.xml", with: workbook)
        let relationships = RelationshipsPart()
        if let rels = try package.part("xl/_rels/workbook.xml.rels") {
            try package.parse(rels, part: "xl/_rels/workbook.xml.rels", with: relationships)
        }
        let sharedStringsPath = relationships.targets.values
            .first { $0.type.hasSuffix("/sharedStrings") }.map { resolve($0.target) } ?? "xl/sharedStrings.xml"
        let sharedStrings = SharedStringsPart()
        if let data = try package.part(sharedStringsPath) {
            try package.parse(data, part: sharedStringsPath, with: sharedStrings)
        }
        let stylesPath = relationships.targets.values
            .first { $0.type.hasSuffix("/styles") }.map { resolve($0.target) } ?? "xl/styles.xml"
        let styles = StylesPart()
        if let data = try package.part(stylesPath) {
            try package.parse(data, part: stylesPath, with: styles)
        }
        let dateStyles = styles.cellFormats.map { id in
            DateFormats.isDate(id: id, code: styles.formatCodes[id])
        }

        var sheets: [Sheet] = []
        for entry in workbook.sheets {
            guard let target = relationships.targets[entry.relationship] else {
                throw SheetError(file: path, sheet: entry.name, message: "the workbook names sheet \"\(entry.name)\" but has no part for it")
            }
            // Chart sheets and dialog sheets hold no cells.
            guard target.type.hasSuffix("/worksheet") else { continue }
            let partPath = resolve(target.target)
            guard let data = try package.part(partPath) else {
                throw SheetError(file: path, sheet: entry.name, message: "the sheet's part \(partPath) is missing")
            }
            let handler = WorksheetPart(sharedStrings: sharedStrings.strings, dateStyles: dateStyles, date1904: workbook.date1904)
            do {
                try package.parse(data, part: partPath, with: handler, sheet: entry.name)
            } catch {
                // A problem the handler found aborted the parse: report it, not "malformed XML".
                guard let problem = handler.problem else { throw error }
                throw SheetError(file: path, sheet: entry.name, cell: problem.cell, message: problem.message)
            }
            sheets.append(try handler.sheet(name: entry.name, path: path))
        }
        return Workbook(path: path, format: "xlsx", sheets: sheets)
    }

    /// A relationship target relative to `xl/` (or absolute from the package root) as a zip path.
    static func resolve(_ target: String) -> String {
        var parts: [Substring] = target.hasPrefix("/") ? [] : ["xl"]
        for component in target.split(separator: "/") {
            if component == ".." { _ = parts.popLast() } else if component != "." { parts.append(component) }
        }
        return parts.joined(separator: "/")
    }

    /// The zip container, read part by part within the size limit.
    struct Package {
        let archive: Archive
        let path: String

        struct TooLarge: Error {}

        func part(_ name: String) throws(SheetError) -> Data? {
            guard let entry = archive[name] ?? archive.first(where: { $0.path.lowercased() == name.lowercased() }) else { return nil }
            if entry.uncompressedSize > UInt64(XLSXReader.maximumPartSize) {
                throw tooLarge(name)
            }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    if data.count + chunk.count > XLSXReader.maximumPartSize { throw TooLarge() }
                    data.append(chunk)
                }
            } catch is TooLarge {
                throw tooLarge(name)
            } catch {
                throw SheetError(file: path, message: "the part \(name) cannot be decompressed (\(error)): the file is damaged")
            }
            return data
        }

        func tooLarge(_ name: String) -> SheetError {
            SheetError(file: path, message: "the part \(name) decompresses to more than \(XLSXReader.maximumPartSize / 1_048_576) MB; refused (a zip bomb or a sheet far too large)")
        }

        func parse(_ data: Data, part: String, with delegate: some XMLParserDelegate, sheet: String? = nil) throws(SheetError) {
            let parser = XMLParser(data: data)
            parser.shouldResolveExternalEntities = false
            parser.delegate = delegate
            if !parser.parse() {
                let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error"
                throw SheetError(file: path, sheet: sheet, message: "malformed XML in \(part) at line \(parser.lineNumber): \(reason)")
            }
        }
    }
}

// MARK: - Parts

/// xl/workbook.xml: the sheets in order and the date system.
final class WorkbookPart: NSObject, XMLParserDelegate {
    var sheets: [(name: String, relationship: String)] = []
    var date1904 = false

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch localName(elementName) {
        case "sheet":
            let relationship = attributes.first { localName($0.key) == "id" && $0.key != "sheetId" }?.value ?? ""
            sheets.append((attributes["name"] ?? "Sheet\(sheets.count + 1)", relationship))
        case "workbookPr":
            if let value = attributes["date1904"] { date1904 = value == "1" || value.lowercased() == "true" }
        default:
            break
        }
    }
}

/// A .rels part: relationship id → (type, target).
final class RelationshipsPart: NSObject, XMLParserDelegate {
    var targets: [String: (type: String, target: String)] = [:]

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        guard localName(elementName) == "Relationship", let id = attributes["Id"], let target = attributes["Target"] else { return }
        targets[id] = (attributes["Type"] ?? "", target)
    }
}

/// xl/sharedStrings.xml: `<si>` items, plain (`<t>`) or rich (`<r><t>`); phonetic runs skipped.
final class SharedStringsPart: NSObject, XMLParserDelegate {
    var strings: [String] = []
    private var current = ""
    private var inText = false
    private var phonetic = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch localName(elementName) {
        case "si": current = ""
        case "t": inText = phonetic == 0
        case "rPh": phonetic += 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        switch localName(elementName) {
        case "si": strings.append(unescapeOOXML(current))
        case "t": inText = false
        case "rPh": phonetic -= 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }
}

/// xl/styles.xml: custom number formats and each cell format's number format id.
final class StylesPart: NSObject, XMLParserDelegate {
    var formatCodes: [Int: String] = [:]
    var cellFormats: [Int] = []
    private var inCellXfs = false

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch localName(elementName) {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { formatCodes[id] = code }
        case "cellXfs":
            inCellXfs = true
        case "xf" where inCellXfs:
            cellFormats.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if localName(elementName) == "cellXfs" { inCellXfs = false }
    }
}

/// Which number formats show a date.
enum DateFormats {
    /// Built-in ids 14–22 and 45–47 are dates and times in every locale.
    static func isDate(id: Int, code: String?) -> Bool {
        if let code { return isDate(code: code) }
        return (14...22).contains(id) || (45...47).contains(id)
    }

    /// A custom format is a date when it has d, m or y outside quoted text, `[...]` sections
    /// (colours, locales, elapsed time) and backslash escapes.
    static func isDate(code: String) -> Bool {
        var inQuotes = false, inBrackets = false, escaped = false
        for ch in code {
            if escaped { escaped = false; continue }
            if inQuotes { if ch == "\"" { inQuotes = false }; continue }
            if inBrackets { if ch == "]" { inBrackets = false }; continue }
            switch ch {
            case "\\", "_", "*": escaped = true
            case "\"": inQuotes = true
            case "[": inBrackets = true
            case "d", "D", "m", "M", "y", "Y": return true
            default: break
            }
        }
        return false
    }

    /// The calendar date of an Excel serial (time of day dropped). The 1900 system counts the
    /// nonexistent 1900-02-29 (serial 60, kept as Excel shows it); the 1904 system starts at 1904-01-01.
    static func date(serial: Double, date1904: Bool) -> (year: Int, month: Int, day: Int)? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        let whole = Int(serial.rounded(.down))
        let daysSince1970: Int
        if date1904 {
            daysSince1970 = whole - 24_107
        } else {
            if whole == 60 { return (1900, 2, 29) }
            daysSince1970 = whole < 60 ? whole - 25_568 : whole - 25_569
        }
        return Timestamp.civil(days: daysSince1970)
    }
}

/// One worksheet part, streamed: cells collected sparsely, then laid out as a grid.
final class WorksheetPart: NSObject, XMLParserDelegate {
    let sharedStrings: [String]
    let dateStyles: [Bool]
    let date1904: Bool

    private(set) var cells: [(row: Int, column: Int, value: CellValue)] = []
    private(set) var merges: [(top: Int, left: Int, bottom: Int, right: Int)] = []
    private(set) var hiddenColumnRanges: [ClosedRange<Int>] = []
    var problem: (cell: String?, message: String)?

    private var rowIndex = -1
    private var columnIndex = -1
    private var cellType = "n"
    private var cellStyle = 0
    private var cellReference = ""
    private var text = ""
    private var collecting = false
    private var inCell = false
    private var inlineString = false
    private var phonetic = 0

    init(sharedStrings: [String], dateStyles: [Bool], date1904: Bool) {
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
        self.date1904 = date1904
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch localName(elementName) {
        case "row":
            if let r = attributes["r"].flatMap(Int.init), r >= 1, r <= 1_048_576 { rowIndex = r - 1 } else { rowIndex += 1 }
            columnIndex = -1
        case "c":
            if let r = attributes["r"], let parsed = CellReference.parse(r) {
                if rowIndex < 0 { rowIndex = parsed.row }
                columnIndex = parsed.column
                rowIndex = parsed.row
            } else {
                columnIndex += 1
            }
            cellReference = CellReference.name(column: columnIndex, row: max(rowIndex, 0))
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap(Int.init) ?? 0
            text = ""
            inCell = true
            inlineString = false
        case "v" where inCell:
            collecting = true
        case "is" where inCell:
            inlineString = true
        case "rPh":
            phonetic += 1
        case "t" where inlineString && phonetic == 0:
            collecting = true
        case "col":
            if let min = attributes["min"].flatMap(Int.init), let max = attributes["max"].flatMap(Int.init),
               min >= 1, max >= min, max <= 16_384, let hidden = attributes["hidden"], hidden == "1" || hidden == "true" {
                hiddenColumnRanges.append((min - 1)...(max - 1))
            }
        case "mergeCell":
            if let ref = attributes["ref"] {
                let ends = ref.split(separator: ":")
                if ends.count == 2, let a = CellReference.parse(ends[0]), let b = CellReference.parse(ends[1]) {
                    merges.append((min(a.row, b.row), min(a.column, b.column), max(a.row, b.row), max(a.column, b.column)))
                }
            }
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        switch localName(elementName) {
        case "v", "t":
            collecting = false
        case "rPh":
            phonetic -= 1
        case "c":
            inCell = false
            guard rowIndex >= 0, columnIndex >= 0 else { return }
            if let value = cellValue(), value != .empty {
                cells.append((rowIndex, columnIndex, value))
                // Bounded while parsing, not only when laying out the grid.
                if cells.count > XLSXReader.maximumCells {
                    problem = (cellReference, "more than \(XLSXReader.maximumCells) cells with values; refused")
                    parser.abortParsing()
                }
            } else if problem != nil {
                parser.abortParsing()
            }
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting { text += string }
    }

    private func cellValue() -> CellValue? {
        switch cellType {
        case "s":
            guard !text.isEmpty else { return .empty }
            guard let index = Int(text.trimmingCharacters(in: .whitespaces)), sharedStrings.indices.contains(index) else {
                problem = (cellReference, "shared string index \(text) does not exist")
                return nil
            }
            return sharedStrings[index].isEmpty ? .empty : .text(sharedStrings[index])
        case "inlineStr", "str":
            return text.isEmpty ? .empty : .text(unescapeOOXML(text))
        case "b":
            return .bool(text.trimmingCharacters(in: .whitespaces) == "1" || text.lowercased() == "true")
        case "e":
            return text.isEmpty ? .empty : .text(text)
        case "d":
            // ISO 8601 date (strict OOXML); the date part only.
            let digits = text.prefix(10).split(separator: "-").compactMap { Int($0) }
            guard digits.count == 3 else {
                problem = (cellReference, "\"\(text)\" is not an ISO 8601 date")
                return nil
            }
            return .date(year: digits[0], month: digits[1], day: digits[2])
        default:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return .empty }
            guard let number = Double(trimmed) else {
                problem = (cellReference, "\"\(trimmed)\" is not a number")
                return nil
            }
            if dateStyles.indices.contains(cellStyle), dateStyles[cellStyle],
               let date = DateFormats.date(serial: number, date1904: date1904) {
                return .date(year: date.year, month: date.month, day: date.day)
            }
            return .number(number)
        }
    }

    /// The grid: the used range of cells holding values (trailing styled-but-empty cells do not
    /// widen it), merged values copied into every covered cell.
    func sheet(name: String, path: String) throws(SheetError) -> Sheet {
        var height = 0, width = 0
        for cell in cells {
            height = max(height, cell.row + 1)
            width = max(width, cell.column + 1)
        }
        if height > 0 && width > XLSXReader.maximumCells / height {
            throw SheetError(file: path, sheet: name,
                             message: "the used range is \(height) rows × \(width) columns, more than \(XLSXReader.maximumCells) cells; refused")
        }
        let letters = (0..<width).map { CellReference.columnLetters($0) }
        var rows: [[Cell]] = (0..<height).map { r in
            let number = String(r + 1)
            return letters.map { Cell(value: .empty, reference: $0 + number) }
        }
        for cell in cells { rows[cell.row][cell.column].value = cell.value }
        for merge in merges where merge.top < height && merge.left < width {
            let value = rows[merge.top][merge.left].value
            for r in merge.top...min(merge.bottom, height - 1) {
                for c in merge.left...min(merge.right, width - 1) { rows[r][c].value = value }
            }
        }
        var hidden = Set<Int>()
        for range in hiddenColumnRanges where range.lowerBound < width {
            hidden.formUnion(range.lowerBound...min(range.upperBound, width - 1))
        }
        return Sheet(name: name, rows: rows, hiddenColumns: hidden)
    }
}

/// Decodes OOXML's `_xHHHH_` escapes, with which Excel stores characters XML cannot carry
/// (a carriage return in a cell is `_x000D_`); `_x005F_` escapes a literal underscore.
func unescapeOOXML(_ text: String) -> String {
    guard text.contains("_x") else { return text }
    let scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    while i < scalars.count {
        if scalars[i] == "_", i + 6 < scalars.count, scalars[i + 1] == "x", scalars[i + 6] == "_",
           let value = UInt32(String(String.UnicodeScalarView(scalars[(i + 2)..<(i + 6)])), radix: 16),
           let scalar = Unicode.Scalar(value) {
            out.append(scalar)
            i += 7
        } else {
            out.append(scalars[i])
            i += 1
        }
    }
    return String(out)
}

/// The element name without a namespace prefix ("x:row" → "row").
private func localName(_ name: String) -> Substring {
    if let colon = name.lastIndex(of: ":") { return name[name.index(after: colon)...] }
    return name[...]
}
