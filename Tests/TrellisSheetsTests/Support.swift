import Foundation
import TrellisSheets
import TrellisTestSupport

enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = packageRoot.appendingPathComponent("Tests/TrellisSheetsTests/Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A fresh directory for files a test writes.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-sheets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension Sheet {
    /// The cell values as plain strings ("" for empty), for compact expectations.
    var texts: [[String]] {
        rows.map { row in
            row.map { cell in
                switch cell.value {
                case .empty: ""
                case .text(let s): s
                case .number(let d): String(d)
                case .bool(let b): b ? "TRUE" : "FALSE"
                case .date(let y, let m, let d): String(format: "%04d-%02d-%02d", y, m, d)
                }
            }
        }
    }
}

/// Runs `python3 -c script args…`; returns (exit status, stdout + stderr).
func python(_ script: String, _ args: [String] = []) throws -> (Int32, String) {
    let r = try runTool("python3", ["-c", script] + args)
    return (r.status, r.stdout + r.stderr)
}
