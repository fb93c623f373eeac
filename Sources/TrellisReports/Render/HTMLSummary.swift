import TrellisLedger
import TrellisCore

/// `trellis report summary --format html`: one self-contained, print-ready (A4) page for
/// trustees. No scripts, no fonts or images fetched, charts and the collaboration graph as
/// inline SVG; nothing depends on the clock, so the same ledger and options give the same
/// bytes (a report reproduced with `--known-at` is identical).
public enum HTMLSummary {

    /// `checkpoint`: a signed checkpoint of the tree at the report's head (`trellis checkpoint`), shown in the footer.
    public static func render(_ s: Summary, checkpoint: String? = nil) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<meta name=\"trellis-log-position\" content=\"\(e(logPosition(s)))\">\n"
        h += "<title>\(e(title(s)))</title>\n<style>\n\(pageCSS(s))\(css)</style>\n</head>\n<body>\n"
        h += header(s)
        h += headlines(s)
        h += participation(s)
        h += attendance(s)
        h += reviews(s)
        h += outcomes(s)
        h += documents(s)
        h += graph(s)
        h += footer(s, checkpoint: checkpoint)
        h += "</body>\n</html>\n"
        return h
    }

    static func e(_ s: String) -> String { Markup.html(s) }

    static func title(_ s: Summary) -> String {
        let names = s.scope.networks.count == 1 ? s.scope.networks[0].name : "\(s.scope.networks.count) networks"
        return "Collaboration report: \(names), \(Show.period(s.scope.period))"
    }

    static func colour(of network: String?, in s: Summary) -> String {
        guard let network, let i = s.scope.networks.firstIndex(where: { $0.id == network }) else { return "#7F7F7F" }
        return Charts.palette[i % Charts.palette.count]
    }

    // MARK: - Sections

    static func header(_ s: Summary) -> String {
        var h = "<header>\n<p class=\"kicker\">Network collaboration report</p>\n"
        h += "<h1>\(e(s.scope.networks.map(\.name).joined(separator: " · ")))</h1>\n"
        h += "<p class=\"sub\">\(e(Show.period(s.scope.period)))"
        if s.scope.periodIsDefault { h += " — the academic year of the latest meeting" }
        h += "</p>\n"
        if let a = s.provenance.asOf { h += "<p class=\"sub\">The world as it was at \(e(a)), as recorded now.</p>\n" }
        if let k = s.provenance.knownAt { h += "<p class=\"sub\">What the ledger knew at \(e(k)).</p>\n" }
        return h + "</header>\n"
    }

    static func card(_ big: String, _ what: String, _ detail: String) -> String {
        "<div class=\"card\"><div class=\"big\">\(e(big))</div><div class=\"what\">\(e(what))</div><div class=\"detail\">\(e(detail))</div></div>\n"
    }

    /// A table in a box that scrolls sideways on a narrow screen, so the page itself never does.
    static func table(_ inner: String, class cls: String? = nil) -> String {
        "<div class=\"tablewrap\">\n<table\(cls.map { " class=\"\($0)\"" } ?? "")>\n\(inner)</table>\n</div>\n"
    }

    static func headlines(_ s: Summary) -> String {
        var h = "<section class=\"headlines\">\n<h2>At a glance</h2>\n<div class=\"cards\">\n"
        let onDay = Show.longDate(s.coverage.on)
        let window = "reviews completed in the \(s.coverage.windowDays) days to \(onDay)"
        let overdue = s.coverage.networks.reduce(0) { $0 + $1.overdue.count }
        if s.participation.networks.count == 1, let p = s.participation.networks.first, let c = s.coverage.networks.first {
            h += card(Show.percent(p.attendanceRate), "attendance", "\(p.present) present of \(p.expected) expected at \(p.meetings.count) meetings in the period")
            h += card(Show.percent(p.participationRate), "participation", "mean of \(p.members.filter { $0.rate != nil }.count) members' own rates, in the period")
            h += card(Show.percent(c.coverage), "members peer-reviewed", "\(c.reviewed.count) of the \(c.members.count) members on \(onDay); \(window)")
            h += card(String(c.overdue.count), "overdue review commitments", "on \(onDay): due before it, not completed or withdrawn")
            h += card(Show.percent(c.outcomeSharingRate), "review outcomes shared", "\(c.sharedInWindow) of \(c.completedInWindow.count) \(window)")
        } else {
            h += card(String(s.graph.nodes.count), "member organisations", "members of the \(s.scope.networks.count) networks on any day of the period")
            h += card(String(s.participation.networks.reduce(0) { $0 + $1.meetings.count }), "meetings held", "in the period")
            h += card(String(s.outcomes.total.reviewsCompleted), "peer reviews completed", "in the period, \(s.outcomes.total.actions) actions agreed")
            h += card(String(overdue), "overdue review commitments", "on \(onDay): due before it, not completed or withdrawn")
            h += card(String(s.documents.networks.reduce(0) { $0 + $1.total.adopted }), "documents adopted", "from other members, in the period")
        }
        h += card(String(s.graph.isolates.count), "isolated organisations", "members with no collaboration tie in the period")
        h += "</div>\n"
        if s.participation.networks.count > 1 {
            var t = "<thead><tr><th>Network</th><th class=\"n\">Members in the period</th><th class=\"n\">Meetings</th><th class=\"n\">Attendance</th><th class=\"n\">Participation</th>"
            t += "<th class=\"n\">Members on \(e(Show.shortDate(s.coverage.on)))</th><th class=\"n\">Reviewed</th><th class=\"n\">Overdue</th><th class=\"n\">Outcomes shared</th></tr></thead>\n<tbody>\n"
            for (i, p) in s.participation.networks.enumerated() {
                let c = s.coverage.networks[i]
                t += "<tr><td><span class=\"swatch\" style=\"background:\(colour(of: p.network.id, in: s))\"></span>\(e(p.network.name))</td>"
                t += "<td class=\"n\">\(p.memberCount)</td><td class=\"n\">\(p.meetings.count)</td><td class=\"n\">\(Show.percent(p.attendanceRate))</td>"
                t += "<td class=\"n\">\(Show.percent(p.participationRate))</td><td class=\"n\">\(c.members.count)</td><td class=\"n\">\(Show.percent(c.coverage))</td>"
                t += "<td class=\"n\">\(c.overdue.count)</td><td class=\"n\">\(Show.percent(c.outcomeSharingRate))</td></tr>\n"
            }
            h += table(t + "</tbody>\n")
            h += "<p class=\"note\">Members in the period: organisations that were members on any day of \(e(Show.period(s.scope.period))); attendance: members present ÷ members expected over all its meetings; participation: the mean of members' own rates. Members on \(e(onDay)): the members that day, the base of the review figures (\(e(window))); an organisation that left or joined during the year is counted in the first but not always in the second.</p>\n"
        }
        return h + "</section>\n"
    }

    static func participation(_ s: Summary) -> String {
        var h = "<section>\n<h2>Participation by organisation</h2>\n"
        h += "<p class=\"note\">Each organisation's share of the network's meetings in \(e(Show.period(s.scope.period))) that it attended while a member (present ÷ expected). The dashed line marks the network's participation rate; orange bars are below one half. A dash: no meeting was expected of that member.</p>\n"
        for n in s.participation.networks {
            h += "<h3>\(e(n.network.name)): participation rate \(Show.percent(n.participationRate))</h3>\n"
            if n.members.isEmpty {
                h += "<p class=\"note\">No members in the period.</p>\n"
                continue
            }
            let ordered = n.members.sorted { a, b in
                switch (a.rate, b.rate) {
                case let (x?, y?): return x != y ? x > y : a.name < b.name
                case (.some, nil): return true
                case (nil, .some): return false
                default: return a.name < b.name
                }
            }
            var t = "<thead><tr><th>Organisation</th><th class=\"n\">Meetings attended</th><th class=\"n\">Rate</th><th class=\"barcol\" aria-hidden=\"true\"></th></tr></thead>\n<tbody>\n"
            let ref = n.participationRate.map { "<span class=\"ref\" style=\"left:\(Show.decimal(100 * max(0, min(1, $0)), places: 1))%\"></span>" } ?? ""
            for m in ordered {
                t += "<tr><td>\(e(m.name))</td><td class=\"n\">\(m.expected == 0 ? "–" : "\(m.present) of \(m.expected)")</td><td class=\"n\">\(Show.percent(m.rate))</td>"
                let fill = m.rate.map { "<span class=\"fill\(($0 < 0.5) ? " low" : "")\" style=\"width:\(Show.decimal(100 * max(0, min(1, $0)), places: 1))%\"></span>" } ?? ""
                t += "<td class=\"barcell\" aria-hidden=\"true\"><span class=\"track\">\(fill)\(ref)</span></td></tr>\n"
            }
            h += table(t + "</tbody>\n", class: "rates")
        }
        return h + "</section>\n"
    }

    /// A stretch of the period that attendance is pooled over.
    struct Stretch {
        var name: String
        var short: String
        var period: Period
    }

    /// The period cut into half-terms (autumn 1 Sep–Oct, autumn 2 Nov–Dec, spring 1 Jan–Feb,
    /// spring 2 Mar, summer 1 Apr–May, summer 2 Jun–Aug), or into terms, or academic
    /// years, whichever first gives at most six stretches; clipped to the period.
    static func stretches(_ p: Period) -> (unit: String, stretches: [Stretch]) {
        let cuts: [(unit: String, starts: [(month: Int, name: String, short: String)])] = [
            ("half-term", [(9, "Autumn 1", "Aut 1"), (11, "Autumn 2", "Aut 2"), (1, "Spring 1", "Spr 1"), (3, "Spring 2", "Spr 2"),
                           (4, "Summer 1", "Sum 1"), (6, "Summer 2", "Sum 2")]),
            ("term", [(9, "Autumn", "Aut"), (1, "Spring", "Spr"), (4, "Summer", "Sum")]),
            ("academic year", [(9, "", "")]),
        ]
        var last: (String, [Stretch]) = ("academic year", [])
        for cut in cuts {
            var out: [Stretch] = []
            var year = Period.academicYearStart(containing: p.from)
            while out.count <= 400 {
                let starts = cut.starts.map { s in Timestamp.days(year: s.month >= 9 ? year : year + 1, month: s.month, day: 1) }
                let ends = Array(starts.dropFirst()) + [Timestamp.days(year: year + 1, month: 9, day: 1)]
                for (k, s) in cut.starts.enumerated() {
                    guard let clipped = Period(from: starts[k], to: ends[k]).intersection(p), !clipped.isEmpty else { continue }
                    let label = Period.academicYearLabel(startingIn: year)
                    let calendarYear = String(Timestamp.civil(days: starts[k]).year % 100)
                    if cut.unit == "academic year" {
                        out.append(Stretch(name: label, short: label, period: clipped))
                    } else {
                        out.append(Stretch(name: "\(s.name) \(label)", short: cut.unit == "term" ? "\(s.short) \(calendarYear)" : s.short, period: clipped))
                    }
                }
                year += 1
                if Timestamp.days(year: year, month: 9, day: 1) >= p.to { break }
            }
            last = (cut.unit, out)
            if out.count <= 6 { return last }
        }
        return last
    }

    static func attendance(_ s: Summary) -> String {
        let (unit, parts) = stretches(s.scope.period)
        var intro = "<h2>Attendance by \(unit)</h2>\n"
        intro += "<p class=\"note\">Members present ÷ members expected at the network's meetings in each \(unit) of \(e(Show.period(s.scope.period))); under each column, the number of meetings.</p>\n"
        if s.participation.networks.allSatisfy({ $0.meetings.isEmpty }) {
            return "<section>\n" + intro + "<p class=\"note\">No meetings in the period.</p>\n</section>\n"
        }
        var rows: [(NetworkParticipation, [(present: Int, expected: Int, meetings: Int)])] = []
        var figures: [String] = []
        for (i, n) in s.participation.networks.enumerated() {
            let pooled = parts.map { part in
                n.meetings.filter { part.period.contains($0.meeting.day) }.reduce(into: (present: 0, expected: 0, meetings: 0)) {
                    $0.present += $1.present
                    $0.expected += $1.expected
                    $0.meetings += 1
                }
            }
            rows.append((n, pooled))
            let columns = zip(parts, pooled).map { part, t in
                Charts.Column(label: part.short, value: Rate.of(t.present, t.expected),
                              detail: t.meetings == 1 ? "1 mtg" : "\(t.meetings) mtgs",
                              title: "\(part.name): \(t.present) of \(t.expected) present at \(t.meetings) meeting\(t.meetings == 1 ? "" : "s")")
            }
            let said = zip(parts, pooled).map { part, t in "\(part.name) \(Show.percent(Rate.of(t.present, t.expected)))" }.joined(separator: ", ")
            figures.append("<figure>\n<figcaption>\(e(n.network.name))</figcaption>\n"
                + Charts.columns(columns, colour: colour(of: n.network.id, in: s), id: "attendance-\(i + 1)",
                                 title: "\(n.network.name): attendance by \(unit)", desc: "Members present ÷ expected: \(said).") + "\n</figure>\n")
        }
        // Charts in rows of two (one on a phone); the heading and its note are kept with the
        // first row on a printed page.
        var h = "<section>\n"
        for start in stride(from: 0, to: figures.count, by: 2) {
            let row = "<div class=\"multiples\">\n" + figures[start..<min(start + 2, figures.count)].joined() + "</div>\n"
            h += start == 0 ? "<div class=\"keep\">\n" + intro + row + "</div>\n" : row
        }
        var t = "<thead><tr><th>Network</th>" + parts.map { "<th class=\"n\">\(e($0.name))</th>" }.joined() + "<th class=\"n\">Whole period</th></tr></thead>\n<tbody>\n"
        for (n, pooled) in rows {
            t += "<tr><td>\(e(n.network.name))</td>"
            for p in pooled { t += "<td class=\"n\">\(Show.percent(Rate.of(p.present, p.expected)))<span class=\"of\"> \(p.present)/\(p.expected)</span></td>" }
            t += "<td class=\"n\">\(Show.percent(n.attendanceRate))<span class=\"of\"> \(n.present)/\(n.expected)</span></td></tr>\n"
        }
        h += table(t + "</tbody>\n")
        h += "<p class=\"note\">Each cell: attendance, then members present / members expected.</p>\n"
        return h + "</section>\n"
    }

    static func reviews(_ s: Summary) -> String {
        let c = s.coverage
        let onDay = Show.longDate(c.on)
        var h = "<section>\n<h2>Peer review on \(e(onDay))</h2>\n"
        h += "<p class=\"note\">Members on \(e(onDay)), and reviews completed in the \(c.windowDays) days from \(e(Show.longDate(c.windowStartText))) to that day. Reviewed: members that were reviewed; reviewers: members that reviewed another; outcomes shared: completed reviews whose outcome was shared by that day.</p>\n"
        var t = "<thead><tr><th>Network</th><th class=\"n\">Members on \(e(Show.shortDate(c.on)))</th><th class=\"n\">Reviewed</th><th class=\"n\">Reviewers</th><th class=\"n\">Reviews completed</th><th class=\"n\">Outcomes shared</th><th class=\"n\">Overdue</th></tr></thead>\n<tbody>\n"
        for n in c.networks {
            t += "<tr><td>\(e(n.network.name))</td><td class=\"n\">\(n.members.count)</td>"
            t += "<td class=\"n\">\(Show.percent(n.coverage)) (\(n.reviewed.count))</td><td class=\"n\">\(Show.percent(n.reviewerCoverage)) (\(n.reviewers.count))</td>"
            t += "<td class=\"n\">\(n.completedInWindow.count)</td><td class=\"n\">\(Show.percent(n.outcomeSharingRate)) (\(n.sharedInWindow))</td><td class=\"n\">\(n.overdue.count)</td></tr>\n"
        }
        h += table(t + "</tbody>\n")
        h += "<h3>Overdue review commitments on \(e(onDay))</h3>\n"
        let overdue = c.networks.flatMap { n in n.overdue.map { (n.network, $0) } }
        if overdue.isEmpty {
            h += "<p>None: every commitment due before \(e(onDay)) was completed or withdrawn.</p>\n"
        } else {
            var o = "<thead><tr><th>Organisation reviewed</th><th>Reviewers</th><th>Network</th><th class=\"n\">Due by</th><th class=\"n\">Days overdue</th></tr></thead>\n<tbody>\n"
            for (network, r) in overdue {
                o += "<tr><td>\(e(s.name(of: r.reviewee)))</td><td>\(e(r.reviewers.map(s.name(of:)).joined(separator: ", ")))</td><td>\(e(network.name))</td>"
                o += "<td class=\"n\">\(e(Show.shortDate(r.dueBy)))</td><td class=\"n\">\(JSONReports.daysBetween(r.dueBy, c.on))</td></tr>\n"
            }
            h += table(o + "</tbody>\n")
        }
        return h + "</section>\n"
    }

    /// Okabe–Ito colours; every one takes black text at ≥ 5.4 : 1 (WCAG AA needs 4.5).
    static let judgementColours = ["#009E73", "#56B4E9", "#E69F00", "#D55E00"]

    static func outcomes(_ s: Summary) -> String {
        let t = s.outcomes.total
        var h = "<section>\n<div class=\"keep\">\n<h2>Review outcomes by area</h2>\n"
        h += "<p class=\"note\">Judgements in the \(t.reviewsCompleted) peer reviews completed in \(e(Show.period(s.scope.period))), by area; \(t.actions) actions agreed.</p>\n"
        if t.areas.isEmpty {
            return h + "<p>No review was completed in the period.</p>\n</div>\n</section>\n"
        }
        let categories = zip(OutcomeFigures.judgements, judgementColours).map { (name: $0, colour: $1) }
        let rows = t.areas.map { a in (label: Show.words(a.area), counts: a.counts, note: "\(a.actions) action\(a.actions == 1 ? "" : "s")") }
        h += "<figure>\n<p class=\"legend\">" + categories.map { "<span class=\"swatch\" style=\"background:\($0.colour)\"></span>\(e($0.name))" }.joined(separator: " ") + "</p>\n"
        let said = rows.map { r in "\(r.label): " + zip(categories, r.counts).map { "\($1) \($0.name)" }.joined(separator: ", ") }.joined(separator: "; ")
        h += Charts.stacked(rows, categories: categories, id: "outcomes", title: "Review outcomes by area: judgements in the reviews completed in the period",
                            desc: said + ".") + "\n</figure>\n</div>\n"
        var d = "<caption>Judgements by area</caption>\n<thead><tr><th>Area</th>" + categories.map { "<th class=\"n\">\(e($0.name))</th>" }.joined() + "<th class=\"n\">Actions</th></tr></thead>\n<tbody>\n"
        for (a, r) in zip(t.areas, rows) {
            d += "<tr><td>\(e(r.label))</td>" + a.counts.map { "<td class=\"n\">\($0)</td>" }.joined() + "<td class=\"n\">\(a.actions)</td></tr>\n"
        }
        h += "<div class=\"sr-only\">\n<table>\n\(d)</tbody>\n</table>\n</div>\n"
        return h + "</section>\n"
    }

    static func documents(_ s: Summary) -> String {
        var h = "<section>\n<h2>Documents shared and adopted</h2>\n"
        h += "<p class=\"note\">Documents shared in the network in \(e(Show.period(s.scope.period))), and adoptions of the network's documents by other organisations in the period.</p>\n"
        var t = "<thead><tr><th>Network</th>"
        for k in DocumentFigures.kinds { t += "<th class=\"n\">\(e(Show.words(k)))</th>" }
        t += "<th class=\"n\">All</th></tr></thead>\n<tbody>\n"
        for n in s.documents.networks {
            t += "<tr><td>\(e(n.network.name))</td>"
            for k in DocumentFigures.kinds {
                let c = n.byKind.first { $0.kind == k } ?? DocumentCounts(kind: k)
                t += "<td class=\"n\">\(c.shared) / \(c.adopted)</td>"
            }
            t += "<td class=\"n\">\(n.total.shared) / \(n.total.adopted)</td></tr>\n"
        }
        h += table(t + "</tbody>\n")
        h += "<p class=\"note\">Each cell: documents shared / adoptions.</p>\n"
        var received: [String: (name: String, count: Int)] = [:]
        for n in s.documents.networks { for o in n.organisations where o.total.adoptionsReceived > 0 {
            received[o.org, default: (o.name, 0)].count += o.total.adoptionsReceived
        } }
        let top = received.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }.prefix(5)
        if !top.isEmpty {
            h += "<p>Most adopted: " + top.map { "\(e($0.value.name)) (\($0.value.count))" }.joined(separator: ", ") + ".</p>\n"
        }
        return h + "</section>\n"
    }

    /// A sentence a trustee can read for an E-I index: the share of ties across groups.
    static func acrossSentence(_ ei: Double?, groups: String) -> String {
        guard let ei, ei.isFinite else { return "No tie joins two organisations that both have a \(groups.dropLast()) to compare." }
        let across = (1 + ei) / 2
        let index = Show.decimal(ei, places: 2).replacingMinus()
        return "\(Show.percent(across)) of ties join organisations in different \(groups), \(Show.percent(1 - across)) organisations in the same one (E\u{2011}I index \(index): −1 would mean every tie within a \(groups.dropLast()), +1 every tie across)."
    }

    static func graph(_ s: Summary) -> String {
        let g = s.graph
        var h = "<section class=\"graphsection\">\n<div class=\"keep\">\n<h2>Collaboration graph</h2>\n"
        let kinds = g.kinds.map { Show.words($0.rawValue) }.joined(separator: ", ")
        h += "<p class=\"note\">The \(g.nodes.count) organisations that were members on any day of \(e(Show.period(s.scope.period))); a line joins two that collaborated (\(e(kinds))), thicker for more. Circle size: weighted degree. Hollow circles along the bottom: isolated organisations, with no tie at all.</p>\n"
        let labelled = Set(g.nodes.filter { $0.betweenness > 0 }.sorted { ($1.betweenness, $0.id) < ($0.betweenness, $1.id) }.prefix(8).map(\.id))
        let isolateNames = g.isolates.map(s.name(of:))
        let desc = "\(g.nodes.count) organisations and \(g.edges.count) ties; \(g.components) connected group\(g.components == 1 ? "" : "s"); "
            + (isolateNames.isEmpty ? "no isolated organisation." : "isolated: \(isolateNames.joined(separator: ", ")).")
        h += "<figure>\n<p class=\"note narrow\">The graph is wider than this screen: swipe it sideways.</p>\n<div class=\"scrollbox\">\n" + Charts.graph(g, width: 640, colour: { colour(of: $0.homeNetwork, in: s) }, labelled: labelled, id: "graph",
                                                                     title: "Collaboration graph of the member organisations in the period", desc: desc) + "\n</div>\n"
        if s.scope.networks.count > 1 {
            h += "<p class=\"legend\">" + s.scope.networks.map { "<span class=\"swatch\" style=\"background:\(colour(of: $0.id, in: s))\"></span>\(e($0.name))" }.joined(separator: " ") + "</p>\n"
        }
        if g.edges.count > 4000 { h += "<p class=\"note\">The 4,000 heaviest of \(g.edges.count) ties are drawn.</p>\n" }
        h += "</figure>\n</div>\n<h3>What the graph says</h3>\n<ul class=\"readings\">\n"
        let pairs = g.nodes.count * (g.nodes.count - 1) / 2
        h += "<li>\(g.edges.count) of the \(pairs) possible pairs of organisations collaborated: a density of \(Show.decimal(g.density, places: 3)) (\(Show.percent(g.density))).</li>\n"
        h += "<li>" + (g.components == 1 ? "Every organisation is linked to every other, directly or through others."
            : "The organisations fall into \(g.components) groups with no tie between them (an isolated organisation is a group of its own).") + "</li>\n"
        h += "<li>Reviews returned: \(Show.percent(g.reciprocity)) of the pairs with a review between them reviewed each other both ways (reciprocity).</li>\n"
        h += "<li>Across networks: \(e(acrossSentence(g.eiIndexNetwork, groups: "networks"))) An organisation in several networks counts in the one it was a member of longest.</li>\n"
        h += "<li>Across regions: \(e(acrossSentence(g.eiIndexRegion, groups: "regions")))</li>\n</ul>\n"
        let brokers = g.nodes.filter { labelled.contains($0.id) }.sorted { ($1.betweenness, $0.id) < ($0.betweenness, $1.id) }
        if !brokers.isEmpty {
            h += "<p><strong>Bridging organisations</strong>: the organisations most often on the shortest path between two others, so that without them others would be further apart or cut off. Betweenness, the share of such paths through each (0 to 1): "
            h += brokers.map { "\(e(s.name(of: $0.id))) (\(Show.decimal($0.betweenness, places: 3)))" }.joined(separator: ", ") + ".</p>\n"
        }
        h += "<p><strong>Isolated organisations</strong> (\(g.isolates.count)): "
        h += isolateNames.isEmpty ? "none." : isolateNames.map(e).joined(separator: ", ") + "."
        return h + "</p>\n</section>\n"
    }

    static func footer(_ s: Summary, checkpoint: String? = nil) -> String {
        let p = s.provenance
        var h = "<footer>\n<h2>Provenance</h2>\n"
        h += "<p>Every figure is computed from the ledger's event log as DOMAIN.md defines it; anyone holding the ledger can recompute it. "
        h += "Head of the log: seq \(p.headSeq), hash <code>\(e(p.headHash))</code>.</p>\n"
        h += "<p>"
        h += p.asOf.map { "As of (world time): <code>\(e($0))</code>. " } ?? "As of: now. "
        h += p.knownAt.map { "Known at (ledger time): <code>\(e($0))</code>." } ?? "Known at: the whole log."
        h += "</p>\n<p>Command: <code>\(e(p.commandLine))</code></p>\n"
        if !p.digests.isEmpty {
            h += "<table class=\"digests\">\n<thead><tr><th>Read model</th><th>SHA-256 of its canonical dump</th></tr></thead>\n<tbody>\n"
            for d in p.digests { h += "<tr><td>\(e(d.name))</td><td><code>\(e(d.digest))</code></td></tr>\n" }
            h += "</tbody>\n</table>\n"
        }
        if let checkpoint {
            h += "<p>Signed checkpoint of the log's Merkle tree at seq \(p.headSeq); save it as a file and check it with <code>trellis verify --checkpoint FILE --public-key KEY.pub</code>:</p>\n"
            h += "<pre class=\"checkpoint\">\(e(checkpoint))</pre>\n"
        }
        return h + "</footer>\n"
    }

    /// The print footer: page numbers and the log position in CSS page-margin boxes (Chromium
    /// draws them since version 131, so any print of the page carries them); no clock time.
    static func pageCSS(_ s: Summary) -> String {
        return "@page { size: A4; margin: 14mm 13mm 16mm;\n"
            + "  @bottom-left { content: \"\(cssString(logPosition(s)))\"; \(marginFont) }\n"
            + "  @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages); \(marginFont) } }\n"
    }

    static let marginFont = "font: 8pt \"Helvetica Neue\", Helvetica, Arial, \"Liberation Sans\", \"DejaVu Sans\", sans-serif; color: #5a6776;"

    /// Where in the log the report stands, for the print footer (and for tools, in a `<meta>`).
    static func logPosition(_ s: Summary) -> String {
        "Trellis report at log seq \(s.provenance.headSeq), hash \(s.provenance.headHash.prefix(16))…"
    }

    /// A CSS string's content: quotes and backslashes escaped, no line breaks, no `<`
    /// (the style sheet sits in the HTML, and `</style>` must not end it early).
    static func cssString(_ text: String) -> String {
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "\"", "\\": out += "\\\(ch)"
            case "\n", "\r", "<", ">": out += " "
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static let css = """
        :root { --ink: #1c2632; --muted: #5a6776; --rule: #d6dce4; --accent: #0072B2; --warn: #D55E00; --warn-text: #9A4A00; }
        * { box-sizing: border-box; }
        html { background: #fff; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        body { font-family: "Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; color: var(--ink);
               margin: 0 auto; max-width: 184mm; padding: 12mm 16px; font-size: 10pt; line-height: 1.4; overflow-wrap: break-word; }
        header { border-bottom: 3px solid var(--ink); padding-bottom: 3mm; margin-bottom: 2mm; }
        .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 9pt; color: var(--muted); margin: 0; }
        h1 { font-size: 19pt; margin: 1mm 0 1.5mm; line-height: 1.2; }
        h2 { font-size: 13pt; margin: 7mm 0 2.5mm; padding-bottom: 1mm; border-bottom: 1px solid var(--rule); break-after: avoid; page-break-after: avoid; }
        h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
        h2 + .note, h3 + .note, .note + figure, .note + .tablewrap, .note + .multiples, .note + h3 { break-before: avoid; }
        .sub { color: var(--muted); margin: 0.5mm 0; }
        .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin-bottom: 3mm; }
        .card { border: 1px solid var(--rule); border-left: 4px solid var(--accent); padding: 2mm 3mm; break-inside: avoid; }
        .card .big { font-size: 19pt; font-weight: 700; line-height: 1.1; }
        .card .what { font-weight: 600; }
        .card .detail { color: var(--muted); font-size: 9pt; }
        .tablewrap { overflow-x: auto; margin: 1mm 0 2mm; }
        table { border-collapse: collapse; width: 100%; font-size: 9pt; }
        caption { text-align: left; font-weight: 600; }
        th, td { text-align: left; padding: 0.9mm 1.6mm; border-bottom: 1px solid var(--rule); vertical-align: top; }
        thead th { color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--muted); vertical-align: bottom; }
        tr { break-inside: avoid; }
        tbody td:first-child { min-width: 8em; }
        .narrow { display: none; }
        .n { text-align: right; font-variant-numeric: tabular-nums; }
        td.n { white-space: nowrap; }
        td .of { color: var(--muted); }
        .tablewrap + .note { break-before: avoid; page-break-before: avoid; }
        table.rates td.barcell, table.rates th.barcol { width: 34%; min-width: 64px; vertical-align: middle; }
        .track { display: block; position: relative; height: 0.95em; background: #eef1f5; }
        .track .fill { display: block; height: 100%; background: var(--accent); }
        .track .fill.low { background: var(--warn); }
        .track .ref { position: absolute; top: -3px; bottom: -3px; border-left: 2px dashed var(--ink); }
        .track, .track .fill, .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        figure { margin: 1mm 0 3mm; break-inside: avoid; }
        .keep { break-inside: avoid; }
        figcaption { font-weight: 600; margin: 2mm 0 1mm; }
        .multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 0 6mm; }
        .multiples figure { margin: 0 0 2mm; }
        svg.chart { display: block; max-width: 100%; height: auto; }
        svg text { font-family: inherit; }
        .chart .grid { stroke: #e4e8ee; stroke-width: 1; }
        .chart .tick { stroke: var(--muted); }
        .chart .axis { font-size: 12px; fill: var(--muted); }
        .chart .label, .chart .value { font-size: 12px; fill: var(--ink); }
        .chart .inbar { font-size: 12px; font-weight: 600; }
        .scrollbox { overflow-x: auto; }
        svg.graph { display: block; width: 100%; height: auto; min-width: 640px; }
        .graph .frame { fill: #fafbfc; stroke: var(--rule); }
        .graph .edges line { stroke: #3d4b5c; }
        .graph .nodes circle { stroke: #fff; stroke-width: 0.8; }
        .graph .nodes circle.isolate { fill: #fff; stroke: var(--warn); stroke-width: 1.8; }
        .graph .nodename { font-size: 12px; fill: var(--ink); paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
        .graph .isolatename { fill: var(--warn-text); font-weight: 600; }
        .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.35em 0 0.8em; vertical-align: -0.05em; }
        td .swatch, .legend .swatch:first-child { margin-left: 0; }
        .legend { font-size: 9pt; margin: 1mm 0; }
        .note { color: var(--muted); font-size: 9pt; margin: 1mm 0 2mm; }
        ul.readings { margin: 1mm 0 2mm; padding-left: 5mm; }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9pt; word-break: break-all; }
        footer { margin-top: 8mm; font-size: 9pt; color: var(--muted); }
        footer h2 { color: var(--ink); }
        footer pre.checkpoint { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 9pt; }
        table.digests td { padding: 0.4mm 1.6mm; }
        .sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
        @media (max-width: 560px) {
          body { padding: 16px 14px; }
          h1 { font-size: 16pt; }
          .cards { grid-template-columns: 1fr 1fr; gap: 8px; }
          .card .big { font-size: 16pt; }
          .narrow { display: block; }
        }
        @media print {
          body { padding: 0; max-width: none; }
          .tablewrap, .scrollbox { overflow: visible; }
          svg.graph { min-width: 0; }
          footer { break-inside: avoid; }
        }

        """
}

extension String {
    /// `-0.5` → `−0.5`: the minus sign a reader expects, which never breaks from its number.
    func replacingMinus() -> String { hasPrefix("-") ? "\u{2212}" + dropFirst() : self }
}

extension Period {
    /// Days since 1970-01-01 of a `YYYY-MM-DD` text.
    static func dayNumber(_ text: String) -> Int? { Timestamp.parseDate(text) }
}
