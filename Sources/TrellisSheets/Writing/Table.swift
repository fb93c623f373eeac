/// How a column of a written ``Table`` is typed and formatted in the workbook.
public enum ColumnKind: Sendable {
    case text
    /// Whole numbers, format `0`.
    case integer
    /// Format `0.00`.
    case decimal
    /// A rate in [0, 1], stored as the number and shown `0.0%`.
    case percent
    /// `"YYYY-MM-DD"` text in, a real Excel date (serial number, format `yyyy-mm-dd`) out.
    case date
}

/// One sheet to write: a header row of typed columns and the rows under it.
public struct Table: Sendable {
    /// At most 31 characters and none of `[]:*?/\`; the writer sanitises it.
    public var sheetName: String
    public var columns: [(name: String, kind: ColumnKind)]
    /// `.text` for text and date columns (`"YYYY-MM-DD"`), `.number` for numeric ones, `.empty` for null.
    public var rows: [[CellValue]]

    public init(sheetName: String, columns: [(name: String, kind: ColumnKind)], rows: [[CellValue]]) {
        self.sheetName = sheetName
        self.columns = columns
        self.rows = rows
    }
}
