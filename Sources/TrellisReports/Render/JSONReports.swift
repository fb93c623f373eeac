import TrellisLedger
import TrellisCore

/// Every report as one JSON document, in CLI.md's shapes: snake_case keys, rates in
/// [0, 1] or `null`, dates `YYYY-MM-DD`. Fields beyond CLI.md's (names, meetings, the
/// period, provenance) are added, never removed.
public enum JSONReports {

    public static func participation(_ r: ParticipationReport, provenance: Provenance? = nil) -> JSONValue {
        object(period(r.period) + [
            ("networks", .array(r.networks.map(participation))),
        ] + provenanceField(provenance))
    }

    static func participation(_ n: NetworkParticipation) -> JSONValue {
        object([
            ("network_id", .string(n.network.id)),
            ("name", .string(n.network.name)),
            ("attendance_rate", .rate(n.attendanceRate)),
            ("participation_rate", .rate(n.participationRate)),
            ("member_count", int(n.memberCount)),
            ("meeting_count", int(n.meetings.count)),
            ("expected", int(n.expected)),
            ("present", int(n.present)),
            ("members", .array(n.members.map { m in
                object([
                    ("org_id", .string(m.org)), ("name", .string(m.name)),
                    ("expected", int(m.expected)), ("present", int(m.present)),
                    ("apologies", int(m.apologies)), ("absent", int(m.absent)),
                    ("rate", .rate(m.rate)),
                ])
            })),
            ("meetings", .array(n.meetings.map { m in
                object([
                    ("meeting_id", .string(m.meeting.id)), ("title", .string(m.meeting.title)), ("day", .string(m.meeting.day)),
                    ("expected", int(m.expected)), ("present", int(m.present)),
                    ("apologies", int(m.apologies)), ("absent", int(m.absent)),
                    ("rate", .rate(m.rate)),
                ])
            })),
        ])
    }

    public static func coverage(_ r: CoverageReport, provenance: Provenance? = nil) -> JSONValue {
        object([
            ("on", .string(r.onText)),
            ("window_days", int(r.windowDays)),
            ("window_from", .string(r.windowStartText)),
            ("networks", .array(r.networks.map { n in
                object([
                    ("network_id", .string(n.network.id)),
                    ("name", .string(n.network.name)),
                    ("members", int(n.members.count)),
                    ("member_count", int(n.members.count)),
                    ("reviewed", int(n.reviewed.count)),
                    ("reviewer", int(n.reviewers.count)),
                    ("coverage", .rate(n.coverage)),
                    ("reviewer_coverage", .rate(n.reviewerCoverage)),
                    ("overdue", .array(n.overdue.map { .string($0.id) })),
                    ("overdue_count", int(n.overdue.count)),
                    ("outcome_sharing_rate", .rate(n.outcomeSharingRate)),
                    ("completed_in_window", int(n.completedInWindow.count)),
                    ("shared_in_window", int(n.sharedInWindow)),
                    ("not_reviewed", .array(n.notReviewed.map(JSONValue.string))),
                    ("overdue_reviews", .array(n.overdue.map { o in
                        object([
                            ("review_id", .string(o.id)), ("reviewee_org_id", .string(o.reviewee)),
                            ("reviewer_org_ids", .array(o.reviewers.map(JSONValue.string))),
                            ("committed_on", .string(o.committedOn)), ("due_by", .string(o.dueBy)),
                            ("days_overdue", int(daysBetween(o.dueBy, r.on))),
                        ])
                    })),
                ])
            })),
        ] + provenanceField(provenance))
    }

    public static func graph(_ r: GraphReport, provenance: Provenance? = nil) -> JSONValue {
        var fields = graphFields(r.whole)
        fields.insert(("networks", .array(r.networks.map(JSONValue.string))), at: 2)
        if let s = r.slicing {
            fields.append(("slice", .string(s.rawValue)))
            fields.append(("slices", .array(r.slices.map { g in object([("label", .string(g.label ?? ""))] + graphFields(g)) })))
        }
        return object(fields + provenanceField(provenance))
    }

    public static func graph(_ g: CollaborationGraph) -> JSONValue { object(graphFields(g)) }

    static func graphFields(_ g: CollaborationGraph) -> [(String, JSONValue)] {
        period(g.period) + [
            ("ties", .array(g.kinds.map { .string($0.rawValue) })),
            ("node_count", int(g.nodes.count)),
            ("edge_count", int(g.edges.count)),
            ("nodes", .array(g.nodes.map { n in
                object([
                    ("id", .string(n.id)), ("name", .string(n.name)), ("label", .string(n.name)),
                    ("degree", int(n.degree)), ("weighted_degree", int(n.weightedDegreeCount)),
                    ("betweenness", .double(n.betweenness)), ("clustering", .double(n.clustering)),
                    ("component", int(n.component)),
                    ("region", .optional(n.region)), ("networks", .array(n.networks.map(JSONValue.string))),
                    ("home_network", .optional(n.homeNetwork)),
                ])
            })),
            ("edges", .array(g.edges.map { e in
                object([
                    ("source", .string(e.source)), ("target", .string(e.target)), ("weight", int(e.weight)),
                    ("co_attendance", int(e.coAttendance)), ("document", int(e.document)), ("review", int(e.review)),
                ])
            })),
            ("density", .rate(g.density)),
            ("components", int(g.components)),
            ("isolates", .array(g.isolates.map(JSONValue.string))),
            ("reciprocity", .rate(g.reciprocity)),
            ("ei_index", object([
                ("network", .rate(g.eiIndexNetwork)), ("network_weighted", .rate(g.eiIndexNetworkWeighted)),
                ("region", .rate(g.eiIndexRegion)), ("region_weighted", .rate(g.eiIndexRegionWeighted)),
            ])),
        ]
    }

    public static func outcomes(_ r: OutcomesReport, provenance: Provenance? = nil) -> JSONValue {
        func block(_ n: NetworkOutcomes) -> [(String, JSONValue)] {
            [
                ("reviews_completed", int(n.reviewsCompleted)),
                ("actions", int(n.actions)),
                ("areas", .array(n.areas.map { a in
                    object([("area", .string(a.area))]
                           + OutcomeFigures.judgements.map { ($0, int(a.count($0))) }
                           + [("total", int(a.total)), ("actions", int(a.actions))])
                })),
            ]
        }
        return object(period(r.period) + [
            ("networks", .array(r.networks.map { n in
                object([("network_id", .string(n.network?.id ?? "")), ("name", .string(n.network?.name ?? ""))] + block(n))
            })),
            ("total", object(block(r.total))),
        ] + provenanceField(provenance))
    }

    public static func documents(_ r: DocumentsReport, provenance: Provenance? = nil) -> JSONValue {
        func counts(_ c: DocumentCounts, received: Bool = true) -> [(String, JSONValue)] {
            [("shared", int(c.shared)), ("adopted", int(c.adopted))] + (received ? [("adoptions_received", int(c.adoptionsReceived))] : [])
        }
        return object(period(r.period) + [
            ("networks", .array(r.networks.map { n in
                object([("network_id", .string(n.network.id)), ("name", .string(n.network.name))]
                       + counts(n.total, received: false) + [
                    ("by_kind", .array(n.byKind.map { object([("kind", .string($0.kind))] + counts($0, received: false)) })),
                    ("organisations", .array(n.organisations.map { o in
                        object([("org_id", .string(o.org)), ("name", .string(o.name)), ("member", .bool(o.member))]
                               + counts(o.total) + [
                            ("by_kind", .array(o.byKind.map { object([("kind", .string($0.kind))] + counts($0)) })),
                        ])
                    })),
                ])
            })),
        ] + provenanceField(provenance))
    }

    public static func summary(_ s: Summary) -> JSONValue {
        object(period(s.scope.period) + [
            ("networks", .array(s.scope.networks.map { .string($0.id) })),
            ("participation", participation(s.participation)),
            ("coverage", coverage(s.coverage)),
            ("graph", graph(s.graph)),
            ("outcomes", outcomes(s.outcomes)),
            ("documents", documents(s.documents)),
        ] + provenanceField(s.provenance, full: true))
    }

    // MARK: - Pieces

    static func period(_ p: Period) -> [(String, JSONValue)] {
        [("from", .string(p.fromText)), ("to", .string(p.toText))]
    }

    static func provenanceField(_ p: Provenance?, full: Bool = false) -> [(String, JSONValue)] {
        guard let p else { return [] }
        var fields: [(String, JSONValue)] = [
            ("head_seq", .int(p.headSeq)), ("head_hash", .string(p.headHash)),
            ("as_of", .optional(p.asOf)), ("known_at", .optional(p.knownAt)),
        ]
        if full {
            fields.append(("command_line", .string(p.commandLine)))
            fields.append(("projections", .array(p.digests.map { object([("name", .string($0.name)), ("digest", .string($0.digest))]) })))
        }
        return [("provenance", object(fields))]
    }

    static func object(_ fields: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(fields)) }
    static func int(_ i: Int) -> JSONValue { .int(Int64(i)) }

    static func daysBetween(_ dayText: String, _ day: Int) -> Int {
        Timestamp.parseDate(dayText).map { day - $0 } ?? 0
    }
}

extension JSONValue {
    /// A rate in [0, 1], or null when undefined.
    static func rate(_ r: Double?) -> JSONValue { r.map(JSONValue.double) ?? .null }
}
