/// Reads xlsx workbooks (Office Open XML SpreadsheetML).
public enum XLSXReader {
    /// A zip part that decompresses beyond this is refused (zip bomb): 100 MB.
    public static let maximumPartSize = 100 * 1024 * 1024

    static func read(path: String) throws(SheetError) -> Workbook {
        throw SheetError(file: path, message: "xlsx reading is not implemented yet")
    }
}
