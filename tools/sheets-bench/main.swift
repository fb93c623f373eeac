// sheets-bench: how long reading and writing a typical large spreadsheet takes.
//
//   swift build -c release --product sheets-bench && .build/release/sheets-bench [--rows N] [--columns M] [--dir DIR] [FILE.xlsx …]
//
// Writes an N × M register (text with quotes, commas and "Brontë", integers, rates, dates) as
// CSV (our CSVWriter) and xlsx (our XLSXWriter), reads both back with SheetReader, and reads any
// further xlsx files given (e.g. written by openpyxl or Excel). Best of 5 runs each. Not a test:
// the numbers go in the notes.
import Foundation
import TrellisSheets

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func best(_ label: String, _ body: () throws -> Void) rethrows {
    var times: [Double] = []
    for _ in 0..<5 {
        let t0 = now()
        try body()
        times.append(now() - t0)
    }
    print(label.padding(toLength: 50, withPad: " ", startingAt: 0) + String(format: "%8.1f ms (best of 5)", (times.min() ?? 0) * 1000))
}

var rows = 2000, columns = 32, dir = "/tmp/sheets-bench", extra: [String] = []
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--rows": rows = Int(args.next() ?? "") ?? rows
    case "--columns": columns = Int(args.next() ?? "") ?? columns
    case "--dir": dir = args.next() ?? dir
    default: extra.append(a)
    }
}
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

let kinds: [ColumnKind] = (0..<columns).map { [.text, .integer, .percent, .date, .text, .decimal][$0 % 6] }
var table = Table(sheetName: "Register", columns: kinds.enumerated().map { ("column \($0.offset + 1)", $0.element) }, rows: [])
var text: [[String]] = [table.columns.map(\.name)]
for r in 0..<rows {
    var cells: [CellValue] = [], strings: [String] = []
    for (c, kind) in kinds.enumerated() {
        switch kind {
        case .text:
            let s = c % 12 == 0 ? "Brontë, \"Anne\" \(r)" : "Organisation \(r)-\(c)"
            cells.append(.text(s)); strings.append(s)
        case .integer: cells.append(.number(Double(r * c % 97))); strings.append(String(r * c % 97))
        case .percent: cells.append(.number(Double(r % 100) / 100)); strings.append(String(Double(r % 100) / 100))
        case .decimal: cells.append(.number(Double(r) / 7)); strings.append(String(Double(r) / 7))
        case .date:
            let s = String(format: "2024-%02d-%02d", r % 12 + 1, r % 28 + 1)
            cells.append(.text(s)); strings.append(s)
        }
    }
    table.rows.append(cells)
    text.append(strings)
}
let csvPath = dir + "/register.csv", xlsxPath = dir + "/register.xlsx"
print("\(rows) rows × \(columns) columns")
try best("CSVWriter.write") { try CSVWriter.write(text, to: csvPath) }
try best("XLSXWriter.write") { try XLSXWriter.write([table], about: [("Period", "2024/25")], to: xlsxPath) }
for path in [csvPath, xlsxPath] + extra {
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    var cells = 0
    do { _ = try SheetReader.read(path: path) } catch {
        print("\(path): \(error)")
        continue
    }
    try best("SheetReader.read \((path as NSString).lastPathComponent) (\(size / 1024) KB)") {
        cells = try SheetReader.read(path: path).sheets.reduce(0) { $0 + $1.rows.reduce(0) { $0 + $1.count } }
    }
    print("  \(cells) cells")
}
