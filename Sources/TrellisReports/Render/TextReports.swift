/// A titled part of a report for people: a heading, a few lines of figures, a table.
public struct Section: Sendable, Hashable {
    public var title: String
    public var notes: [String]
    public var table: Table?

    public init(title: String, notes: [String] = [], table: Table? = nil) {
        self.title = title
        self.notes = notes
        self.table = table
    }
}

/// Every report for people (terminal tables, Markdown) and for spreadsheets (CSV).
/// Rates are percentages (`83%`) and `–` where undefined; in CSV they are numbers in
/// [0, 1] and empty where undefined.
///
/// ## Topics
/// - ``text(_:width:)``
/// - ``markdown(_:heading:)``
public enum TextReports {

    // MARK: - Rendering sections

    public static func text(_ sections: [Section], width: Int = 80) -> String {
        sections.map { s in
            var lines = wrap(s.title, width: width, indent: "")
            for n in s.notes { lines += wrap(n, width: width, indent: "  ") }
            if let t = s.table { lines.append(""); lines.append(t.rows.isEmpty ? "  (none)" : t.text(width: width)) }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n"
    }

    public static func markdown(_ sections: [Section], heading: String) -> String {
        var out = "# \(heading)\n"
        for s in sections {
            if s.title != heading { out += "\n## \(s.title)\n" }
            if !s.notes.isEmpty { out += "\n" + s.notes.map { "- " + Table.markdownText($0) }.joined(separator: "\n") + "\n" }
            if let t = s.table { out += "\n" + (t.rows.isEmpty ? "(none)" : t.markdown()) + "\n" }
        }
        return out
    }

    /// Words re-flowed to `width` columns, each line starting with `indent`.
    static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var current = indent
        for word in text.split(separator: " ") {
            if current.count > indent.count && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent + "  "
            }
            current += (current.count > indent.count && !current.hasSuffix("  ") ? " " : "") + word
        }
        lines.append(current)
        return lines
    }

    static func csvRate(_ r: Double?) -> String { r.map { String($0) } ?? "" }

    /// Every CSV says what it covers in its own columns, trailing so the leading ones stay
    /// what tools expect (a `#` comment line is not CSV and breaks pandas): `period_from`
    /// and `period_to` (exclusive), as the JSON's `from` and `to`.
    static let periodHeaders = ["period_from", "period_to"]
    static func periodCells(_ p: Period) -> [String] { [p.fromText, p.toText] }

    // MARK: - Participation

    public static func participation(_ r: ParticipationReport) -> [Section] {
        r.networks.map { n in
            var t = Table(headers: ["organisation", "id", "expected", "present", "apologies", "absent", "rate"],
                          rightAligned: [2, 3, 4, 5, 6], flexible: 0)
            t.rows = n.members.map { m in
                [m.name, m.org, String(m.expected), String(m.present), String(m.apologies), String(m.absent), Show.percent(m.rate)]
            }
            return Section(title: "Participation: \(n.network.name) (\(n.network.id))",
                           notes: [Show.period(r.period),"attendance rate \(Show.percent(n.attendanceRate)), participation rate \(Show.percent(n.participationRate))",
                                   "\(n.meetings.count) meetings, \(n.memberCount) members, \(n.present) present of \(n.expected) expected"
                                    + (n.members.count < n.memberCount ? "; showing \(n.members.count)" : "")],
                           table: t)
        }
    }

    public static func participationCSV(_ r: ParticipationReport) -> Table {
        var t = Table(headers: ["network_id", "org_id", "name", "expected", "present", "apologies", "absent", "rate"] + periodHeaders)
        for n in r.networks {
            for m in n.members {
                t.rows.append([n.network.id, m.org, m.name, String(m.expected), String(m.present), String(m.apologies), String(m.absent), csvRate(m.rate)]
                              + periodCells(r.period))
            }
        }
        return t
    }

    // MARK: - Coverage

    public static func coverage(_ r: CoverageReport) -> [Section] {
        var t = Table(headers: ["network", "members", "reviewed", "coverage", "reviewers", "overdue", "sharing"],
                      rightAligned: [1, 2, 3, 4, 5, 6], flexible: 0)
        t.rows = r.networks.map { n in
            ["\(n.network.name) (\(n.network.id))", String(n.members.count), String(n.reviewed.count), Show.percent(n.coverage),
             Show.percent(n.reviewerCoverage), String(n.overdue.count), Show.percent(n.outcomeSharingRate)]
        }
        var sections = [Section(title: "Review coverage on \(Show.longDate(r.on))",
                                notes: ["window: \(r.windowDays) days, reviews completed from \(Show.longDate(r.windowStartText))", "coverage: members reviewed in the window; reviewers: members who reviewed; sharing: completed reviews whose outcome was shared"],
                                table: t)]
        let overdue = r.networks.flatMap { n in n.overdue.map { (n, $0) } }
        if !overdue.isEmpty {
            var o = Table(headers: ["review", "network", "reviewee", "due by", "days over"], rightAligned: [4], flexible: 2)
            o.rows = overdue.map { n, rv in
                [rv.id, n.network.id, rv.reviewee, rv.dueBy, String(JSONReports.daysBetween(rv.dueBy, r.on))]
            }
            sections.append(Section(title: "Overdue review commitments", table: o))
        }
        return sections
    }

    public static func coverageCSV(_ r: CoverageReport) -> Table {
        // Counts are `*_count`; the overdue reviews' ids are one space-separated cell.
        var t = Table(headers: ["on", "window_days", "window_from", "network_id", "member_count", "reviewed", "reviewer", "coverage",
                                "reviewer_coverage", "overdue_count", "overdue_review_ids", "completed_in_window", "shared_in_window",
                                "outcome_sharing_rate"])
        t.rows = r.networks.map { n in
            [r.onText, String(r.windowDays), r.windowStartText, n.network.id, String(n.members.count), String(n.reviewed.count),
             String(n.reviewers.count), csvRate(n.coverage), csvRate(n.reviewerCoverage), String(n.overdue.count),
             n.overdue.map(\.id).joined(separator: " "), String(n.completedInWindow.count), String(n.sharedInWindow),
             csvRate(n.outcomeSharingRate)]
        }
        return t
    }

    // MARK: - Graph

    public static func graph(_ r: GraphReport) -> [Section] {
        var sections = [graphSection(r.whole, title: "Collaboration graph")]
        if r.slicing != nil {
            var t = Table(headers: ["slice", "nodes", "edges", "density", "comps", "isolates", "recipr."],
                          rightAligned: [1, 2, 3, 4, 5, 6], flexible: 0)
            t.rows = r.slices.map { g in
                [g.label ?? "", String(g.nodes.count), String(g.edges.count), Show.decimal(g.density), String(g.components),
                 String(g.isolates.count), Show.percent(g.reciprocity)]
            }
            sections.append(Section(title: "By \(r.slicing!.rawValue)", table: t))
        }
        return sections
    }

    static func graphSection(_ g: CollaborationGraph, title: String) -> Section {
        var t = Table(headers: ["organisation", "id", "degree", "weighted", "betweenness", "clustering", "comp"],
                      rightAligned: [2, 3, 4, 5, 6], flexible: 0)
        let ordered = g.nodes.sorted { ($1.weightedDegree, $0.id) < ($0.weightedDegree, $1.id) }
        t.rows = ordered.map { n in
            [n.name, n.id, String(n.degree), Show.count(n.weightedDegree), Show.decimal(n.betweenness, places: 4),
             Show.decimal(n.clustering, places: 3), String(n.component)]
        }
        return Section(title: title, notes: [
            Show.period(g.period),
            "ties: " + g.kinds.map(\.rawValue).joined(separator: ", "),
            "\(g.nodes.count) organisations, \(g.edges.count) ties, density \(Show.decimal(g.density, places: 4)), \(g.components) components",
            "isolates (\(g.isolates.count)): " + (g.isolates.isEmpty ? "none" : g.isolates.map { id in
                "\(g.nodes.first { $0.id == id }?.name ?? id) (\(id))"
            }.joined(separator: ", ")),
            "reciprocity of review ties \(Show.percent(g.reciprocity)); E-I index across networks \(Show.decimal(g.eiIndexNetwork)), across regions \(Show.decimal(g.eiIndexRegion))",
        ], table: t)
    }

    // MARK: - Outcomes

    public static func outcomes(_ r: OutcomesReport) -> [Section] {
        func table(_ n: NetworkOutcomes) -> Table {
            var t = Table(headers: ["area"] + OutcomeFigures.judgements + ["total", "actions"],
                          rightAligned: Set(1...(OutcomeFigures.judgements.count + 2)), flexible: 0)
            t.rows = n.areas.map { a in [Show.words(a.area)] + a.counts.map(String.init) + [String(a.total), String(a.actions)] }
            return t
        }
        var sections = r.networks.map { n in
            Section(title: "Review outcomes: \(n.network?.name ?? "") (\(n.network?.id ?? ""))",
                    notes: [Show.period(r.period), "\(n.reviewsCompleted) reviews completed, \(n.actions) actions agreed"], table: table(n))
        }
        if r.networks.count > 1 {
            sections.append(Section(title: "All chosen networks", notes: ["\(r.total.reviewsCompleted) reviews completed, \(r.total.actions) actions agreed"],
                                    table: table(r.total)))
        }
        return sections
    }

    public static func outcomesCSV(_ r: OutcomesReport) -> Table {
        var t = Table(headers: ["network_id", "area"] + OutcomeFigures.judgements + ["total", "actions"] + periodHeaders)
        for n in r.networks {
            for a in n.areas {
                t.rows.append([n.network?.id ?? "", a.area] + a.counts.map(String.init) + [String(a.total), String(a.actions)] + periodCells(r.period))
            }
        }
        return t
    }

    // MARK: - Documents

    public static func documents(_ r: DocumentsReport) -> [Section] {
        r.networks.map { n in
            var t = Table(headers: ["organisation", "id", "kind", "shared", "adopted", "received"], rightAligned: [3, 4, 5], flexible: 0)
            for o in n.organisations {
                if o.byKind.isEmpty { t.rows.append([o.name, o.org, "–", "0", "0", "0"]) }
                for (k, c) in o.byKind.enumerated() {
                    t.rows.append([k == 0 ? o.name : "", k == 0 ? o.org : "", Show.words(c.kind), String(c.shared), String(c.adopted), String(c.adoptionsReceived)])
                }
            }
            let kinds = n.byKind.filter { $0.shared + $0.adopted > 0 }.map { "\(Show.words($0.kind)) \($0.shared)/\($0.adopted)" }
            return Section(title: "Documents: \(n.network.name) (\(n.network.id))",
                           notes: [Show.period(r.period), "\(n.total.shared) shared, \(n.total.adopted) adoptions; received = adoptions by others of the organisation's documents",
                                   "by kind (shared/adopted): " + (kinds.isEmpty ? "none" : kinds.joined(separator: ", "))],
                           table: t)
        }
    }

    public static func documentsCSV(_ r: DocumentsReport) -> Table {
        // `member` is a boolean as in the JSON: `true`/`false` (pandas reads them as bool).
        var t = Table(headers: ["network_id", "org_id", "name", "member", "kind", "shared", "adopted", "adoptions_received"] + periodHeaders)
        let period = periodCells(r.period)
        for n in r.networks {
            for o in n.organisations {
                let member = o.member ? "true" : "false"
                if o.byKind.isEmpty { t.rows.append([n.network.id, o.org, o.name, member, "", "0", "0", "0"] + period) }
                for c in o.byKind {
                    t.rows.append([n.network.id, o.org, o.name, member, c.kind, String(c.shared), String(c.adopted), String(c.adoptionsReceived)] + period)
                }
            }
        }
        return t
    }

    // MARK: - Summary

    /// One row per network: the headline figures.
    public static func headlines(_ s: Summary) -> Table {
        var t = Table(headers: ["network", "members", "meetings", "attend.", "particip.", "reviewed", "overdue", "shared"],
                      rightAligned: [1, 2, 3, 4, 5, 6, 7], flexible: 0)
        for (i, n) in s.participation.networks.enumerated() {
            let c = s.coverage.networks[i]
            t.rows.append([n.network.name, String(n.memberCount), String(n.meetings.count), Show.percent(n.attendanceRate),
                           Show.percent(n.participationRate), Show.percent(c.coverage), String(c.overdue.count),
                           Show.percent(c.outcomeSharingRate)])
        }
        return t
    }

    public static func summary(_ s: Summary) -> [Section] {
        let g = s.graph
        return [
            Section(title: "Summary: " + s.scope.networks.map(\.id).joined(separator: ", "),
                    notes: [Show.period(s.scope.period), "review figures on \(Show.longDate(s.coverage.on)), window \(s.coverage.windowDays) days",
                            "collaboration graph: \(g.nodes.count) organisations, \(g.edges.count) ties, \(g.isolates.count) isolated"],
                    table: headlines(s)),
        ] + participation(s.participation) + coverage(s.coverage)
            + [graphSection(g, title: "Collaboration graph")]
            + outcomes(s.outcomes) + documents(s.documents)
            + [Section(title: "Provenance", notes: provenanceLines(s.provenance))]
    }

    public static func summaryCSV(_ s: Summary) -> Table {
        var t = Table(headers: ["network_id", "name", "member_count", "meeting_count", "attendance_rate", "participation_rate", "coverage",
                                "reviewer_coverage", "overdue_count", "outcome_sharing_rate", "on"] + periodHeaders)
        for (i, n) in s.participation.networks.enumerated() {
            let c = s.coverage.networks[i]
            t.rows.append([n.network.id, n.network.name, String(n.memberCount), String(n.meetings.count), csvRate(n.attendanceRate),
                           csvRate(n.participationRate), csvRate(c.coverage), csvRate(c.reviewerCoverage), String(c.overdue.count),
                           csvRate(c.outcomeSharingRate), s.coverage.onText] + periodCells(s.scope.period))
        }
        return t
    }

    public static func provenanceLines(_ p: Provenance) -> [String] {
        var lines = ["head seq \(p.headSeq), hash \(p.headHash)"]
        if let a = p.asOf { lines.append("as of \(a)") }
        if let k = p.knownAt { lines.append("known at \(k)") }
        if !p.commandLine.isEmpty { lines.append("command: \(p.commandLine)") }
        lines += p.digests.map { "projection \($0.name): \($0.digest)" }
        return lines
    }
}
