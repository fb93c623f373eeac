import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisReports
#if canImport(Glibc)
import Glibc
#endif

/// `--db`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger file (default: $TRELLIS_DB, else ./trellis.db).", valueName: "path"))
    var db: String?

    var path: String {
        if let db { return db }
        if let env = getenv("TRELLIS_DB"), let s = String(validatingCString: env), !s.isEmpty { return s }
        return "trellis.db"
    }

    func open(create: Bool = false) throws -> Ledger {
        try Ledger.open(at: path, create: create)
    }
}

/// Dates given on the command line: `YYYY-MM-DD` or the UK `DD/MM/YYYY` (``DayText``);
/// `text` is always `YYYY-MM-DD`.
struct DateArgument: ExpressibleByArgument {
    var days: Int
    var text: String
    init?(argument: String) {
        guard let d = DayText.parse(argument) else { return nil }
        days = d
        text = Timestamp.dateText(days: d)
    }
    static var defaultValueDescription: String { "YYYY-MM-DD" }

    /// For `@Option(transform:)`: a refusal that names the accepted forms.
    @Sendable static func parse(_ argument: String) throws -> DateArgument {
        guard let d = DateArgument(argument: argument) else { throw DateFormatError(text: argument) }
        return d
    }
}

/// A date the user typed in neither accepted form.
struct DateFormatError: Error, CustomStringConvertible {
    var text: String
    var description: String { "not a date; use \(DayText.expected)" }
}

/// `--known-at` and `--as-of`, for every command that reads figures.
struct TimeTravelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("What the ledger knew at T: only events recorded by then (a date means 00:00Z).", valueName: "T"), transform: InstantArgument.parse)
    var knownAt: InstantArgument?
    @Option(help: ArgumentHelp("The world as it was at T, as we know it now: only events that occurred by then.", valueName: "T"), transform: InstantArgument.parse)
    var asOf: InstantArgument?

    var isSet: Bool { knownAt != nil || asOf != nil }
}

/// A UTC date or date-time on the command line.
struct InstantArgument: ExpressibleByArgument {
    var text: String
    init?(argument: String) {
        let text = DayText.iso(argument) ?? argument  // DD/MM/YYYY as YYYY-MM-DD
        guard Timestamp.micros(text) != nil else { return nil }
        self.text = text
    }
    static var defaultValueDescription: String { "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ" }

    /// For `@Option(transform:)`: a refusal that names the accepted forms.
    @Sendable static func parse(_ argument: String) throws -> InstantArgument {
        guard let t = InstantArgument(argument: argument) else {
            throw ValidationError("not a moment; use YYYY-MM-DD, DD/MM/YYYY (00:00Z) or YYYY-MM-DDTHH:MM:SSZ")
        }
        return t
    }
}

func format2(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }
