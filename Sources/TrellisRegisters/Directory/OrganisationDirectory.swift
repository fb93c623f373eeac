import TrellisLedger

/// `trellis orgs`: every organisation with its kind, region and the networks it is a member
/// of on a day, so that people can be found by name and registers filled in by id.
///
/// ## Topics
/// - ``load(ledger:on:network:)``
/// - ``Entry``
public struct OrganisationDirectory: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: String
        public var schools: Int?
        public var region: String?
        /// Networks it is a member of on the day, sorted.
        public var networks: [String]
    }

    public var day: String
    public var entries: [Entry]

    /// All organisations, or (with `network`) the members of that network on `day`.
    /// Throws ``UnknownNetwork`` for a network the ledger does not hold.
    public static func load(ledger: Ledger, on day: String, network: String?) throws -> OrganisationDirectory {
        let (orgs, memberships, networkIDs) = try LedgerPicture.memberships(ledger: ledger, on: day)
        if let network, !networkIDs.contains(network) { throw UnknownNetwork(network: network, known: networkIDs) }
        var entries = orgs.map { Entry(id: $0.id, name: $0.name, kind: $0.kind, schools: $0.schools, region: $0.region, networks: memberships[$0.id] ?? []) }
        if let network { entries = entries.filter { $0.networks.contains(network) } }
        entries.sort { ($0.name.lowercased(), $0.id) < ($1.name.lowercased(), $1.id) }
        return OrganisationDirectory(day: day, entries: entries)
    }
}

/// `--network` names a network the ledger does not hold.
public struct UnknownNetwork: Error, Sendable, CustomStringConvertible {
    public var network: String
    public var known: [String]
    public var description: String {
        known.isEmpty ? "no network \(network): the ledger has no networks yet"
                      : "no network \(network); the ledger's networks: \(known.prefix(20).joined(separator: ", "))\(known.count > 20 ? ", …" : "")"
    }
}
