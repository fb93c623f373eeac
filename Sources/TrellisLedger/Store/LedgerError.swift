/// Why a ledger could not be opened or written, with the exit code CLI.md gives it.
public enum LedgerError: Error, CustomStringConvertible, Sendable {
    /// No ledger at the path (exit 66).
    case missing(path: String)
    /// The file could not be created or opened for writing (exit 66).
    case cannotOpen(path: String, reason: String)
    /// Written by a newer Trellis (exit 65: the input is not something this build can read).
    case newerFormat(path: String, format: String)
    /// Not a SQLite database, or damaged (exit 65).
    case corrupt(path: String, reason: String)
    /// Another process held the write lock past the busy timeout (exit 75, EX_TEMPFAIL:
    /// nothing was written; try again).
    case busy(path: String, seconds: Double)
    /// The database server went away mid-way (a lost connection, a restart, a failover): the
    /// transaction was rolled back by the server, so nothing was written (exit 75: retrying may help).
    case unavailable(path: String, reason: String)
    /// The disk is full, the file is read-only, or an I/O error (exit 74, EX_IOERR: nothing
    /// was written).
    case storage(path: String, reason: String)
    /// Anything SQLite reported that the cases above do not cover (exit 70).
    case database(String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no ledger at \(path) (create one with 'trellis init', or point --db / TRELLIS_DB at an existing one)"
        case .cannotOpen(let path, let reason): return "cannot open the ledger at \(path): \(reason)"
        case .newerFormat(let path, let format):
            return "the ledger at \(path) has format \(format), written by a newer Trellis; this build reads format \(Schema.format). Upgrade trellis."
        case .corrupt(let path, let reason): return "the file at \(path) is not a readable Trellis ledger: \(reason)"
        case .busy(let path, let seconds):
            return "another process held the ledger at \(path) locked for more than \(seconds < 10 ? String(seconds) : String(Int(seconds))) s; nothing was written, try again (TRELLIS_BUSY_TIMEOUT sets the wait)"
        case .unavailable(let path, let reason):
            return "the database server of the ledger at \(path) is unreachable or went away: \(reason)"
        case .storage(let path, let reason): return "could not write the ledger at \(path): \(reason); nothing was written"
        case .database(let message): return "database error: \(message)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .missing, .cannotOpen: return 66
        case .newerFormat, .corrupt: return 65
        case .busy, .unavailable: return 75
        case .storage: return 74
        case .database: return 70
        }
    }
}
