/// What a report is asked for: which networks, over which period, and (for the reports
/// that list organisations) which organisations to show.
///
/// `networks` empty means every network; `period` nil means the default period, the
/// academic year of the latest meeting of the chosen networks (see ``ReportScope``);
/// `organisations` empty means every one. Choosing organisations only narrows the rows
/// shown: a network's own figures (its rates, totals) stay those of all its members.
///
/// ## Topics
/// - ``ReportScope``
/// - ``ReportError``
public struct ReportQuery: Sendable, Equatable {
    public var networks: [String]
    public var period: Period?
    public var organisations: [String]

    public init(networks: [String] = [], period: Period? = nil, organisations: [String] = []) {
        self.networks = networks
        self.period = period
        self.organisations = organisations
    }
}

/// What a user asked for that the ledger cannot answer; each carries what to do instead.
public enum ReportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A `--network` that no `NetworkFormed` created (usage error: exit 64).
    case unknownNetwork(String, known: [String])
    /// An `--org` that no `OrganisationRegistered` created (usage error: exit 64); with a
    /// few known ids that look alike.
    case unknownOrganisation(String, similar: [String], count: Int)
    /// No period was given and nothing is recorded to choose one from (exit 66).
    case nothingRecorded

    public var description: String {
        switch self {
        case .unknownNetwork(let id, let known):
            return "no network \(id) in this ledger; known networks: " + (known.isEmpty ? "(none)" : known.joined(separator: ", "))
        case .unknownOrganisation(let id, let similar, let count):
            var text = "no organisation \(id) in this ledger (it has \(count))"
            if !similar.isEmpty { text += "; did you mean " + similar.joined(separator: ", ") + "?" }
            return text + "; see trellis log --type OrganisationRegistered"
        case .nothingRecorded:
            return "nothing is recorded yet (no meetings, memberships or reviews): there is no period to report on"
        }
    }

    /// CLI.md's exit code: 64 usage, 66 missing input.
    public var exitCode: Int32 {
        switch self {
        case .unknownNetwork, .unknownOrganisation: return 64
        case .nothingRecorded: return 66
        }
    }
}
