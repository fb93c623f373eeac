import ArgumentParser
import TrellisLedger
import TrellisPostgres
import TrellisCore
import TrellisReports
#if canImport(Glibc)
import Glibc
#endif

/// `--db`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger: a file, or a shared postgresql://user@host:port/dbname (default: $TRELLIS_DB, else ./trellis.db).", valueName: "path|url"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("For a postgresql:// ledger: the local file caching its events and read models (default: $TRELLIS_CACHE, else ~/.cache/trellis/<server>.db).", valueName: "file"))
    var cache: String?

    var path: String {
        if let db { return db }
        if let env = getenv("TRELLIS_DB"), let s = String(validatingCString: env), !s.isEmpty { return s }
        return "trellis.db"
    }

    /// Whether the ledger is a shared PostgreSQL database rather than a file.
    var isShared: Bool { PostgresStore.isURL(path) }

    /// The log, for a command that appends: the file, or the shared database.
    func openStore(create: Bool = false) throws -> any LedgerStore {
        guard isShared else { return try Ledger.open(at: path, create: create) }
        return create ? try PostgresStore.create(url: path) : try PostgresStore.open(url: path)
    }

    /// The ledger to read: the file, or the local cache of the shared database, caught up.
    func open(create: Bool = false) throws -> Ledger {
        try openForReading(create: create).ledger
    }

    /// The ledger to read and the store that holds the persons' keys (the shared database
    /// for a cache, which never holds keys).
    func openForReading(create: Bool = false) throws -> (ledger: Ledger, keys: any LedgerStore) {
        guard isShared else {
            let l = try Ledger.open(at: path, create: create)
            return (l, l)
        }
        let store = try PostgresStore.open(url: path)
        return (try SharedLedger.caughtUp(store, cachePath: cache ?? SharedLedger.defaultCachePath(for: store)), store)
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
