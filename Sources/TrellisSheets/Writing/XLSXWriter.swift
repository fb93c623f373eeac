/// Writes typed tables as a minimal, valid xlsx workbook.
public enum XLSXWriter {
    /// Header row bold and frozen, column widths from content, an "About" sheet first from
    /// `about` (key/value rows). Written to a temporary file and renamed into place.
    public static func write(_ tables: [Table], about: [(String, String)], to path: String) throws(SheetError) {
        try FileOutput.replace(path: path, with: data(tables, about: about))
    }

    public static func data(_ tables: [Table], about: [(String, String)]) throws(SheetError) -> [UInt8] {
        throw SheetError(file: "(xlsx)", message: "xlsx writing is not implemented yet")
    }
}
