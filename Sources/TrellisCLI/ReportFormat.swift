import ArgumentParser

/// Every output format a command can write; each command takes its own subset (``FormatOption``).
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv, md, html, graphml, gexf, pajek, dot, xlsx

    /// From a file name's extension.
    init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), !fileName[dot...].contains("/") else { return nil }
        switch fileName[fileName.index(after: dot)...].lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        case "md", "markdown": self = .md
        case "html", "htm": self = .html
        case "graphml": self = .graphml
        case "gexf": self = .gexf
        case "net", "pajek": self = .pajek
        case "dot", "gv": self = .dot
        case "txt": self = .table
        case "xlsx": self = .xlsx
        default: return nil
        }
    }
}

extension ReportFormat {
    /// `--out x.xlsx --format json` is refused: the file would not be what its name says.
    static func checkOut(_ out: String?, against explicit: ReportFormat?) throws {
        guard let out, let explicit, let implied = ReportFormat(fileName: out), implied != explicit else { return }
        // .txt names plain text, which table and md both are.
        if implied == .table && explicit == .md { return }
        let ext = out[out.index(after: out.lastIndex(of: ".") ?? out.startIndex)...]
        throw ValidationError("--out \(out) but --format \(explicit.rawValue): use --format \(implied.rawValue) or a .\(explicit.fileExtension) name (not .\(ext))")
    }

    var fileExtension: String {
        switch self {
        case .table: "txt"
        case .pajek: "net"
        default: rawValue
        }
    }
}
