/// Shares and adoptions of one kind of document.
public struct DocumentCounts: Sendable, Hashable {
    public var kind: String
    /// Documents shared in the period.
    public var shared: Int = 0
    /// Adoptions made in the period (by this organisation, or in the network).
    public var adopted: Int = 0
    /// Adoptions by others, in the period, of documents this organisation shared (any time).
    public var adoptionsReceived: Int = 0

    public init(kind: String, shared: Int = 0, adopted: Int = 0, adoptionsReceived: Int = 0) {
        self.kind = kind
        self.shared = shared
        self.adopted = adopted
        self.adoptionsReceived = adoptionsReceived
    }

    var isZero: Bool { shared == 0 && adopted == 0 && adoptionsReceived == 0 }
}

/// One organisation's document sharing in one network.
public struct OrganisationDocuments: Sendable, Hashable {
    public var org: String
    public var name: String
    /// Whether it was a member of the network on any day of the period.
    public var member: Bool
    /// Kinds with any activity, in DOMAIN.md's order of kinds.
    public var byKind: [DocumentCounts]
    public var total: DocumentCounts
}

/// Document sharing in one network over the period.
public struct NetworkDocuments: Sendable, Hashable {
    public var network: NetworkRow
    /// Per kind, every kind listed.
    public var byKind: [DocumentCounts]
    public var total: DocumentCounts
    /// Members of the network during the period and any organisation with activity, by id.
    public var organisations: [OrganisationDocuments]
}

/// `trellis report documents`: shares and adoptions per organisation and kind.
public struct DocumentsReport: Sendable, Hashable {
    public var period: Period
    public var networks: [NetworkDocuments]
}

public enum DocumentFigures {
    public static let kinds = ["scheme_of_delegation", "job_description", "skills_matrix", "policy", "improvement_plan", "other"]

    /// - Parameters:
    ///   - documents: shares (any network); a document counts in the network it was
    ///     shared in, a share on its day.
    ///   - adoptions: adoptions (any network), on their day, in the network the document
    ///     was shared in.
    public static func compute(networks: [NetworkRow], period: Period, membership: MembershipTimeline,
                               documents: [DocumentRow], adoptions: [AdoptionRow],
                               organisations: [String: OrganisationRow]) -> DocumentsReport {
        // Each network's shares and adoptions in the period, in one pass over the rows.
        var shares: [String: [DocumentRow]] = [:]
        for d in documents where period.contains(d.sharedOn) { shares[d.network, default: []].append(d) }
        var adopted: [String: [AdoptionRow]] = [:]
        for a in adoptions where period.contains(a.adoptedOn) && a.sharer != a.adopter {
            adopted[a.network, default: []].append(a)
        }
        let result = networks.map { n -> NetworkDocuments in
            var perOrg: [String: [String: DocumentCounts]] = [:]
            var perKind: [String: DocumentCounts] = [:]
            func bump(_ org: String, _ kind: String, _ change: (inout DocumentCounts) -> Void) {
                change(&perOrg[org, default: [:]][kind, default: DocumentCounts(kind: kind)])
            }
            for d in shares[n.id] ?? [] {
                bump(d.sharer, d.kind) { $0.shared += 1 }
                perKind[d.kind, default: DocumentCounts(kind: d.kind)].shared += 1
            }
            for a in adopted[n.id] ?? [] {
                bump(a.adopter, a.kind) { $0.adopted += 1 }
                bump(a.sharer, a.kind) { $0.adoptionsReceived += 1 }
                perKind[a.kind, default: DocumentCounts(kind: a.kind)].adopted += 1
            }
            let members = Set(membership.members(of: n.id, during: period))
            let orgs = members.union(perOrg.keys).sorted()
            let rows = orgs.map { o -> OrganisationDocuments in
                let kinds = ordered(perOrg[o] ?? [:]).filter { !$0.isZero }
                return OrganisationDocuments(org: o, name: organisations[o]?.name ?? o, member: members.contains(o),
                                             byKind: kinds, total: sum(kinds))
            }
            let all = ordered(perKind, everyKind: true)
            return NetworkDocuments(network: n, byKind: all, total: sum(all), organisations: rows)
        }
        return DocumentsReport(period: period, networks: result)
    }

    static func ordered(_ counts: [String: DocumentCounts], everyKind: Bool = false) -> [DocumentCounts] {
        var out = kinds.compactMap { counts[$0] ?? (everyKind ? DocumentCounts(kind: $0) : nil) }
        if counts.keys.contains(where: { !kinds.contains($0) }) {
            // Kinds beyond DOMAIN.md's (a newer event version): after them, sorted.
            out += counts.keys.filter { !kinds.contains($0) }.sorted().compactMap { counts[$0] }
        }
        return out
    }

    static func sum(_ list: [DocumentCounts]) -> DocumentCounts {
        var t = DocumentCounts(kind: "all")
        for c in list { t.shared += c.shared; t.adopted += c.adopted; t.adoptionsReceived += c.adoptionsReceived }
        return t
    }
}
