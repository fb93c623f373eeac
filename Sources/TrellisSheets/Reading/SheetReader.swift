import Foundation

/// Reads the spreadsheets people actually send: CSV in whatever encoding and separator Excel or
/// LibreOffice produced, and xlsx workbooks.
///
/// ## Topics
/// - ``read(path:)``
/// - ``maximumFileSize``
/// - ``maximumCells``
public enum SheetReader {
    /// Files larger than this are refused before any parsing (200 MB).
    public static let maximumFileSize = 200 * 1024 * 1024
    /// A sheet with more cells than this (rows × widest row) is refused while it is parsed,
    /// before its grid is built: 5 million, about 250 times a 2,000 × 10 register.
    public static let maximumCells = 5_000_000

    /// `.csv`/`.tsv`/`.txt` → CSV (encoding and separator detected); `.xlsx` → xlsx.
    /// Bounded: refuses files over ``maximumFileSize`` and xlsx parts that decompress beyond
    /// ``XLSXReader/maximumPartSize`` (zip bombs), with a ``SheetError``.
    public static func read(path: String) throws(SheetError) -> Workbook {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "csv", "tsv", "txt":
            let bytes = try readBounded(path: path)
            return try CSVReader.workbook(bytes: bytes, path: path, preferTab: ext == "tsv")
        case "xlsx", "xlsm":
            _ = try fileSize(path: path)
            return try XLSXReader.read(path: path)
        case "xls":
            throw SheetError(file: path, message: "the old binary .xls format is not supported: save it as .xlsx or CSV")
        case "ods", "numbers":
            throw SheetError(file: path, message: ".\(ext) is not supported: save it as .xlsx or CSV")
        default:
            throw SheetError(file: path, message: "unknown spreadsheet type \"\(ext)\": expected .csv, .tsv, .txt or .xlsx")
        }
    }

    /// The size of a regular file, refusing missing files, directories and files over the limit.
    static func fileSize(path: String) throws(SheetError) -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SheetError(file: path, message: "no such file", kind: .missing)
        }
        if isDirectory.boolValue {
            throw SheetError(file: path, message: "is a directory, not a spreadsheet")
        }
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw SheetError(file: path, message: "cannot read: \(error.localizedDescription)", kind: .storage)
        }
        if size > maximumFileSize {
            throw SheetError(file: path, message: "is \(size / 1_048_576) MB; spreadsheets over \(maximumFileSize / 1_048_576) MB are refused")
        }
        return size
    }

    /// Reads at most ``maximumFileSize`` + 1 bytes, so a file growing while read is still bounded.
    static func readBounded(path: String) throws(SheetError) -> [UInt8] {
        _ = try fileSize(path: path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SheetError(file: path, message: "cannot open for reading", kind: .storage)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw SheetError(file: path, message: "cannot read: \(error.localizedDescription)", kind: .storage)
        }
        if data.count > maximumFileSize {
            throw SheetError(file: path, message: "spreadsheets over \(maximumFileSize / 1_048_576) MB are refused")
        }
        return [UInt8](data)
    }
}
