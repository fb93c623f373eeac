import Foundation

/// Writes CSV that Excel opens right everywhere: UTF-8 with BOM (without it Excel on Windows
/// reads Windows-1252 and mangles "Brontë"), CRLF line ends, fields quoted when they hold a
/// separator, quote, line break or leading/trailing space.
public enum CSVWriter {
    public static func write(_ rows: [[String]], to path: String) throws(SheetError) {
        try FileOutput.replace(path: path, with: bytes(rows))
    }

    /// The bytes ``write(_:to:)`` writes.
    public static func bytes(_ rows: [[String]]) -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        for row in rows {
            for (i, field) in row.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                let utf8 = Array(field.utf8)
                let needsQuotes = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
                    || utf8.first == 0x20 || utf8.last == 0x20
                if needsQuotes {
                    out.append(UInt8(ascii: "\""))
                    for b in utf8 {
                        if b == UInt8(ascii: "\"") { out.append(b) }
                        out.append(b)
                    }
                    out.append(UInt8(ascii: "\""))
                } else {
                    out.append(contentsOf: utf8)
                }
            }
            out.append(0x0D); out.append(0x0A)
        }
        return out
    }
}

/// Writes a file whole or not at all: a temporary file beside the target, then a rename.
enum FileOutput {
    static func replace(path: String, with bytes: [UInt8]) throws(SheetError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            throw SheetError(file: path, message: "cannot write: \(error.localizedDescription)", kind: .storage)
        }
        if rename(temporary.path, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw SheetError(file: path, message: "cannot write: \(reason)", kind: .storage)
        }
    }
}
