/// What a report is asked for: which networks, over which period.
///
/// `networks` empty means every network; `period` nil means the default period, the
/// academic year of the latest meeting of the chosen networks (see ``ReportScope``).
///
/// ## Topics
/// - ``ReportScope``
/// - ``ReportError``
public struct ReportQuery: Sendable, Equatable {
    public var networks: [String]
    public var period: Period?

    public init(networks: [String] = [], period: Period? = nil) {
        self.networks = networks
        self.period = period
    }
}

/// What a user asked for that the ledger cannot answer; each carries what to do instead.
public enum ReportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A `--network` that no `NetworkFormed` created (usage error: exit 64).
    case unknownNetwork(String, known: [String])
    /// No period was given and nothing is recorded to choose one from (exit 66).
    case nothingRecorded

    public var description: String {
        switch self {
        case .unknownNetwork(let id, let known):
            return "no network \(id) in this ledger; known networks: " + (known.isEmpty ? "(none)" : known.joined(separator: ", "))
        case .nothingRecorded:
            return "nothing is recorded yet (no meetings, memberships or reviews): there is no period to report on"
        }
    }

    /// CLI.md's exit code: 64 usage, 66 missing input.
    public var exitCode: Int32 {
        switch self {
        case .unknownNetwork: return 64
        case .nothingRecorded: return 66
        }
    }
}
