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
    /// An `--org` that is neither an organisation's id nor its name (usage error: exit 64);
    /// with the closest names and their ids (see ``OrganisationMatcher``).
    case unknownOrganisation(String, similar: [String], count: Int)
    /// An `--org` name that several organisations share (usage error: exit 64); each with its id.
    case ambiguousOrganisation(String, candidates: [String])
    /// No period was given and nothing is recorded to choose one from (exit 66).
    case nothingRecorded

    public var description: String {
        switch self {
        case .unknownNetwork(let id, let known):
            return "no network \(id) in this ledger; known networks: " + (known.isEmpty ? "(none)" : known.joined(separator: ", "))
        case .unknownOrganisation(let id, let similar, let count):
            var text = "no organisation '\(id)' in this ledger, by id or name (it has \(count))"
            if !similar.isEmpty { text += "; closest: " + similar.joined(separator: "; ") }
            return text + "; see trellis log --type OrganisationRegistered"
        case .ambiguousOrganisation(let name, let candidates):
            return "'\(name)' names \(candidates.count) organisations: " + candidates.joined(separator: "; ") + "; give the id"
        case .nothingRecorded:
            return "nothing is recorded yet (no meetings, memberships or reviews): there is no period to report on"
        }
    }

    /// CLI.md's exit code: 64 usage, 66 missing input.
    public var exitCode: Int32 {
        switch self {
        case .unknownNetwork, .unknownOrganisation, .ambiguousOrganisation: return 64
        case .nothingRecorded: return 66
        }
    }
}
