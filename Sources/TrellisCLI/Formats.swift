import ArgumentParser

// Each command's --format takes only what that command can write: a value it cannot write is
// refused by the parser (exit 64), and --help lists exactly these.

/// A command's own `--format` values, each one of the ``ReportFormat`` the output code knows.
protocol FormatOption: ExpressibleByArgument, CaseIterable, RawRepresentable where RawValue == String {}

extension FormatOption {
    /// As the output code knows it (every case has a ``ReportFormat`` of the same name).
    var format: ReportFormat { ReportFormat(rawValue: rawValue) ?? .json }

    /// The formats this command writes.
    static var allowed: [ReportFormat] { allCases.map(\.format) }

    /// "table, json, md or xlsx".
    static var listed: String {
        let names = allCases.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }
}

/// A sentence for people, or one JSON document: what a command that does something prints.
enum TableOrJSON: String, FormatOption {
    case table, json
}

/// `trellis log`: a table for people, or the events themselves as NDJSON.
enum LogFormat: String, FormatOption {
    case table, ndjson
}

/// `trellis audit`.
enum AuditFormat: String, FormatOption {
    case table, json, md, xlsx
}

/// `trellis orgs`.
enum OrganisationsFormat: String, FormatOption {
    case table, json, csv, xlsx
}

/// `report participation`, `coverage`, `outcomes`, `documents`.
enum FiguresFormat: String, FormatOption {
    case table, json, csv, md, xlsx
}

/// `report graph`: the figures' formats and the graph exchange formats.
enum GraphFormat: String, FormatOption {
    case table, json, csv, md, graphml, gexf, pajek, dot, xlsx
}

/// `report summary`: the board report (html) and the figures' formats.
enum SummaryFormat: String, FormatOption {
    case html, table, json, md, csv, xlsx
}
