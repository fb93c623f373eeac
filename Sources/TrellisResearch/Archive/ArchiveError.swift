/// Why an archive could not be written, read or trusted, with the exit code CLI.md gives it.
///
/// ## Topics
/// - ``exitCode``
public enum ArchiveError: Error, CustomStringConvertible, Sendable {
    /// No file at the path (exit 66).
    case missing(path: String)
    /// The file exists but cannot be read (exit 66).
    case unreadable(path: String, reason: String)
    /// Not a Trellis archive at all: no LZ4 frame, or no manifest line (exit 65).
    case notAnArchive(path: String, reason: String)
    /// Written by a newer Trellis (exit 65).
    case newerFormat(path: String, version: Int64)
    /// The archive fails verification: at an event (`seq`), or as a whole (exit 1).
    case broken(seq: Int64?, why: String)
    /// The archive verifies, but a line carries what a ledger must not take in (personal
    /// fields in clear, a recorded_at in the future): exit 65, naming the line.
    case refused(line: Int, seq: Int64, why: String)
    /// The output file exists and `--force` was not given (exit 64).
    case exists(path: String)
    /// Nothing to export in the chosen range (exit 66).
    case nothingToExport(String)
    /// The output could not be written: disk full, read-only directory (exit 74, as for a ledger).
    case cannotWrite(path: String, reason: String)
    /// liblz4 refused to compress (exit 70).
    case compression(String)

    public var description: String {
        switch self {
        case .missing(let p): return "no such file: \(p)"
        case .unreadable(let p, let r): return "cannot read \(p): \(r)"
        case .notAnArchive(let p, let r): return "\(p) is not a Trellis archive: \(r)"
        case .newerFormat(let p, let v):
            return "\(p) is an archive of format version \(v), written by a newer Trellis; this build reads format version \(ArchiveManifest.currentFormatVersion). Upgrade trellis."
        case .broken(let seq, let why): return seq.map { "broken at seq \($0): \(why)" } ?? "broken: \(why)"
        case .refused(let line, let seq, let why): return "refused at line \(line) (seq \(seq)): \(why)"
        case .exists(let p): return "\(p) already exists; choose another name or give --force to replace it"
        case .nothingToExport(let why): return "nothing to export: \(why)"
        case .cannotWrite(let p, let r): return "cannot write \(p): \(r)"
        case .compression(let m): return "LZ4 compression failed: \(m)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .missing, .unreadable, .nothingToExport: return 66
        case .notAnArchive, .newerFormat, .refused: return 65
        case .broken: return 1
        case .exists: return 64
        case .cannotWrite: return 74
        case .compression: return 70
        }
    }
}
