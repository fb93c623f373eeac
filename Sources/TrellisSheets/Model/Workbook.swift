/// A value read from (or written to) one spreadsheet cell.
///
/// CSV cells are always ``text(_:)`` (or ``empty``): a CSV file carries no types, and guessing
/// them ("007" → 7, "1/2" → a date) is exactly the damage Excel does on opening a CSV.
/// xlsx cells keep their stored type; numbers whose number format is a date become ``date(year:month:day:)``.
public enum CellValue: Sendable, Hashable {
    case empty
    case text(String)
    /// An xlsx number without a date format. CSV cells stay `.text`.
    case number(Double)
    case bool(Bool)
    /// An xlsx cell whose number format is a date (serial converted; 1900 and 1904 systems).
    case date(year: Int, month: Int, day: Int)
}

/// One cell with the reference a spreadsheet user would see ("C7"), for error messages.
public struct Cell: Sendable, Hashable {
    public var value: CellValue
    /// Column letters and 1-based row, as Excel shows it ("C7"); also for CSV.
    public var reference: String

    public init(value: CellValue, reference: String) {
        self.value = value
        self.reference = reference
    }
}

/// One sheet of a workbook (a CSV file is one sheet).
public struct Sheet: Sendable {
    /// The xlsx sheet name; for CSV the file's base name.
    public var name: String
    /// Row-major; ragged rows padded with `.empty` to the widest row; merged cells carry the merged
    /// value in every covered cell.
    public var rows: [[Cell]]
    /// 0-based indexes of hidden columns (xlsx only).
    public var hiddenColumns: Set<Int>

    public init(name: String, rows: [[Cell]], hiddenColumns: Set<Int> = []) {
        self.name = name
        self.rows = rows
        self.hiddenColumns = hiddenColumns
    }
}

/// A file read by ``SheetReader``: its sheets in workbook order and what it was read as.
public struct Workbook: Sendable {
    public var path: String
    /// A human description for a dry run: "xlsx", "CSV (UTF-8 with BOM, semicolon-separated)",
    /// "CSV (Windows-1252, comma-separated)".
    public var format: String
    public var sheets: [Sheet]

    public init(path: String, format: String, sheets: [Sheet]) {
        self.path = path
        self.format = format
        self.sheets = sheets
    }
}

/// Why a spreadsheet could not be read or written, naming the file and, where known, the sheet
/// and cell.
public struct SheetError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, so that a command can map it to its exit code.
    public enum Kind: Sendable, Equatable {
        /// The file does not exist (exit 66).
        case missing
        /// The content is not a readable spreadsheet, or exceeds a limit (exit 65).
        case badInput
        /// Reading or writing the file system failed (exit 74).
        case storage
    }

    public var file: String
    public var sheet: String?
    public var cell: String?
    public var message: String
    public var kind: Kind

    public init(file: String, sheet: String? = nil, cell: String? = nil, message: String, kind: Kind = .badInput) {
        self.file = file
        self.sheet = sheet
        self.cell = cell
        self.message = message
        self.kind = kind
    }

    public var description: String {
        var place = file
        if let sheet { place += ", sheet \"\(sheet)\"" }
        if let cell { place += ", cell \(cell)" }
        return "\(place): \(message)"
    }
}

/// Cell references: 0-based column index ↔ column letters ("A", "Z", "AA", …).
public enum CellReference {
    /// "A" for 0, "Z" for 25, "AA" for 26.
    public static func columnLetters(_ index: Int) -> String {
        var n = index + 1
        var letters: [Character] = []
        while n > 0 {
            let r = (n - 1) % 26
            letters.append(Character(Unicode.Scalar(UInt8(65 + r))))
            n = (n - 1) / 26
        }
        return String(letters.reversed())
    }

    /// "C7" for column 2, row 6 (both 0-based).
    public static func name(column: Int, row: Int) -> String {
        columnLetters(column) + String(row + 1)
    }

    /// Parses "C7" into 0-based (column, row); nil when it is not a plain A1 reference
    /// (or beyond Excel's limits: 16,384 columns, 1,048,576 rows).
    public static func parse<S: StringProtocol>(_ reference: S) -> (column: Int, row: Int)? {
        var column = 0
        var row = 0
        var letters = 0
        var digits = 0
        for byte in reference.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z") where digits == 0:
                column = column * 26 + Int(byte - 64); letters += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z") where digits == 0:
                column = column * 26 + Int(byte - 96); letters += 1
            case UInt8(ascii: "$"):
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9") where letters > 0:
                row = row * 10 + Int(byte - 48); digits += 1
            default:
                return nil
            }
            if letters > 3 || digits > 7 { return nil }
        }
        guard letters > 0, digits > 0, row >= 1, row <= 1_048_576, column <= 16_384 else { return nil }
        return (column - 1, row - 1)
    }
}
