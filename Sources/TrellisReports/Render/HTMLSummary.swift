import TrellisLedger

/// `trellis report summary --format html`: one self-contained, print-ready (A4) page for
/// trustees. No scripts, no fonts or images fetched, charts and the collaboration graph as
/// inline SVG; nothing depends on the clock, so the same ledger and options give the same
/// bytes (a report reproduced with `--known-at` is identical).
public enum HTMLSummary {

    /// `checkpoint`: a signed checkpoint of the tree at the report's head (`trellis checkpoint`), shown in the footer.
    public static func render(_ s: Summary, checkpoint: String? = nil) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>\(e(title(s)))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"
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

    static func e(_ s: String) -> String { Markup.escape(s) }

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

    static func headlines(_ s: Summary) -> String {
        var h = "<section class=\"headlines\">\n<h2>At a glance</h2>\n<div class=\"cards\">\n"
        let on = "on \(Show.longDate(s.coverage.on)), last \(s.coverage.windowDays) days"
        let overdue = s.coverage.networks.reduce(0) { $0 + $1.overdue.count }
        if s.participation.networks.count == 1, let p = s.participation.networks.first, let c = s.coverage.networks.first {
            h += card(Show.percent(p.attendanceRate), "attendance", "\(p.present) present of \(p.expected) expected at \(p.meetings.count) meetings")
            h += card(Show.percent(p.participationRate), "participation", "mean of \(p.members.filter { $0.rate != nil }.count) members' rates")
            h += card(Show.percent(c.coverage), "members peer-reviewed", "\(c.reviewed.count) of \(c.members.count) \(on)")
            h += card(String(c.overdue.count), "overdue review commitments", "due before \(Show.longDate(s.coverage.on)), not completed")
            h += card(Show.percent(c.outcomeSharingRate), "review outcomes shared", "\(c.sharedInWindow) of \(c.completedInWindow.count) completed, \(on)")
        } else {
            h += card(String(s.graph.nodes.count), "member organisations", "in \(s.scope.networks.count) networks during the period")
            h += card(String(s.participation.networks.reduce(0) { $0 + $1.meetings.count }), "meetings held", "in the period")
            h += card(String(s.outcomes.total.reviewsCompleted), "peer reviews completed", "in the period, \(s.outcomes.total.actions) actions agreed")
            h += card(String(overdue), "overdue review commitments", "due before \(Show.longDate(s.coverage.on)), not completed")
            h += card(String(s.documents.networks.reduce(0) { $0 + $1.total.adopted }), "documents adopted", "from other members, in the period")
        }
        h += card(String(s.graph.isolates.count), "isolated organisations", "members with no collaboration tie in the period")
        h += "</div>\n"
        if s.participation.networks.count > 1 {
            h += "<table>\n<thead><tr><th>Network</th><th class=\"n\">Members</th><th class=\"n\">Meetings</th><th class=\"n\">Attendance</th><th class=\"n\">Participation</th><th class=\"n\">Reviewed</th><th class=\"n\">Overdue</th><th class=\"n\">Outcomes shared</th></tr></thead>\n<tbody>\n"
            for (i, p) in s.participation.networks.enumerated() {
                let c = s.coverage.networks[i]
                h += "<tr><td><span class=\"swatch\" style=\"background:\(colour(of: p.network.id, in: s))\"></span>\(e(p.network.name))</td>"
                h += "<td class=\"n\">\(p.memberCount)</td><td class=\"n\">\(p.meetings.count)</td><td class=\"n\">\(Show.percent(p.attendanceRate))</td>"
                h += "<td class=\"n\">\(Show.percent(p.participationRate))</td><td class=\"n\">\(Show.percent(c.coverage))</td>"
                h += "<td class=\"n\">\(c.overdue.count)</td><td class=\"n\">\(Show.percent(c.outcomeSharingRate))</td></tr>\n"
            }
            h += "</tbody>\n</table>\n<p class=\"note\">Attendance: members present ÷ members expected over all meetings. Participation: the mean of members' own rates. Review figures \(e(on)).</p>\n"
        }
        return h + "</section>\n"
    }

    static func participation(_ s: Summary) -> String {
        var h = "<section>\n<h2>Participation by organisation</h2>\n"
        h += "<p class=\"note\">Each member's share of the network's meetings it attended while a member (present ÷ meetings expected). The dashed line is the network's participation rate; bars in orange are below one half. A dash means no meeting was expected of that member.</p>\n"
        for n in s.participation.networks {
            h += "<figure>\n<h3>\(e(n.network.name))</h3>\n"
            let ordered = n.members.sorted { a, b in
                switch (a.rate, b.rate) {
                case let (x?, y?): return x != y ? x > y : a.name < b.name
                case (.some, nil): return true
                case (nil, .some): return false
                default: return a.name < b.name
                }
            }
            let bars = ordered.map { m in
                Charts.Bar(label: m.name, value: m.rate,
                           text: m.rate == nil ? "–" : "\(Show.percent(m.rate)) (\(m.present)/\(m.expected))",
                           highlight: (m.rate ?? 1) < 0.5)
            }
            h += n.members.isEmpty ? "<p class=\"note\">No members in the period.</p>\n"
                : Charts.bars(bars, reference: n.participationRate, referenceLabel: "participation rate \(Show.percent(n.participationRate))") + "\n"
            h += "</figure>\n"
        }
        return h + "</section>\n"
    }

    static func attendance(_ s: Summary) -> String {
        var h = "<section>\n<h2>Attendance at each meeting</h2>\n"
        h += "<p class=\"note\">Members present ÷ members expected at each meeting, over the period.</p>\n<figure>\n"
        let series = s.participation.networks.map { n in
            Charts.Series(name: n.network.name, colour: colour(of: n.network.id, in: s), points: n.meetings.compactMap { m in
                guard let d = Period.dayNumber(m.meeting.day) else { return nil }
                return (d, m.rate, "\(m.meeting.title), \(m.meeting.day): \(m.present) of \(m.expected) present")
            })
        }
        if series.allSatisfy({ $0.points.isEmpty }) {
            h += "<p class=\"note\">No meetings in the period.</p>\n"
        } else {
            h += Charts.lines(series, period: s.scope.period) + "\n"
        }
        return h + "</figure>\n</section>\n"
    }

    static func reviews(_ s: Summary) -> String {
        let c = s.coverage
        var h = "<section>\n<h2>Peer review</h2>\n"
        h += "<p class=\"note\">On \(e(Show.longDate(c.on))), counting reviews completed from \(e(Show.longDate(c.windowStartText))) (\(c.windowDays) days). Reviewed: members that were reviewed; reviewers: members that reviewed another; outcomes shared: completed reviews whose outcome was shared by that day.</p>\n"
        h += "<table>\n<thead><tr><th>Network</th><th class=\"n\">Members</th><th class=\"n\">Reviewed</th><th class=\"n\">Reviewers</th><th class=\"n\">Completed</th><th class=\"n\">Outcomes shared</th><th class=\"n\">Overdue</th></tr></thead>\n<tbody>\n"
        for n in c.networks {
            h += "<tr><td>\(e(n.network.name))</td><td class=\"n\">\(n.members.count)</td>"
            h += "<td class=\"n\">\(Show.percent(n.coverage)) (\(n.reviewed.count))</td><td class=\"n\">\(Show.percent(n.reviewerCoverage)) (\(n.reviewers.count))</td>"
            h += "<td class=\"n\">\(n.completedInWindow.count)</td><td class=\"n\">\(Show.percent(n.outcomeSharingRate)) (\(n.sharedInWindow))</td><td class=\"n\">\(n.overdue.count)</td></tr>\n"
        }
        h += "</tbody>\n</table>\n<h3>Overdue review commitments</h3>\n"
        let names = Dictionary(s.graph.nodes.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        func name(_ id: String) -> String { names[id] ?? s.participation.networks.lazy.flatMap(\.members).first { $0.org == id }?.name ?? id }
        let overdue = c.networks.flatMap { n in n.overdue.map { (n.network, $0) } }
        if overdue.isEmpty {
            h += "<p>None: every commitment due before \(e(Show.longDate(c.on))) was completed or withdrawn.</p>\n"
        } else {
            h += "<table>\n<thead><tr><th>Reviewee</th><th>Reviewers</th><th>Network</th><th class=\"n\">Due by</th><th class=\"n\">Days overdue</th></tr></thead>\n<tbody>\n"
            for (network, r) in overdue {
                h += "<tr><td>\(e(name(r.reviewee)))</td><td>\(e(r.reviewers.map(name).joined(separator: ", ")))</td><td>\(e(network.name))</td>"
                h += "<td class=\"n\">\(e(Show.shortDate(r.dueBy)))</td><td class=\"n\">\(JSONReports.daysBetween(r.dueBy, c.on))</td></tr>\n"
            }
            h += "</tbody>\n</table>\n"
        }
        return h + "</section>\n"
    }

    static let judgementColours = ["#009E73", "#56B4E9", "#E69F00", "#D55E00"]

    static func outcomes(_ s: Summary) -> String {
        let t = s.outcomes.total
        var h = "<section>\n<h2>Review outcomes by area</h2>\n"
        h += "<p class=\"note\">Judgements in the \(t.reviewsCompleted) peer reviews completed in the period, by area; \(t.actions) actions agreed.</p>\n"
        if t.areas.isEmpty {
            h += "<p>No review was completed in the period.</p>\n"
        } else {
            let rows = t.areas.map { a in (label: Show.words(a.area), counts: a.counts, note: "\(a.actions) action\(a.actions == 1 ? "" : "s")") }
            h += "<figure>\n" + Charts.stacked(rows, categories: zip(OutcomeFigures.judgements, judgementColours).map { ($0, $1) }) + "\n</figure>\n"
        }
        return h + "</section>\n"
    }

    static func documents(_ s: Summary) -> String {
        var h = "<section>\n<h2>Documents shared and adopted</h2>\n"
        h += "<p class=\"note\">Documents shared in the network in the period, and adoptions of the network's documents by other organisations in the period.</p>\n"
        h += "<table>\n<thead><tr><th>Network</th>"
        for k in DocumentFigures.kinds { h += "<th class=\"n\">\(e(Show.words(k)))</th>" }
        h += "<th class=\"n\">All</th></tr></thead>\n<tbody>\n"
        for n in s.documents.networks {
            h += "<tr><td>\(e(n.network.name))</td>"
            for k in DocumentFigures.kinds {
                let c = n.byKind.first { $0.kind == k } ?? DocumentCounts(kind: k)
                h += "<td class=\"n\">\(c.shared) / \(c.adopted)</td>"
            }
            h += "<td class=\"n\">\(n.total.shared) / \(n.total.adopted)</td></tr>\n"
        }
        h += "</tbody>\n</table>\n<p class=\"note\">Each cell: shared / adopted.</p>\n"
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

    static func graph(_ s: Summary) -> String {
        let g = s.graph
        var h = "<section class=\"graphsection\">\n<h2>Collaboration graph</h2>\n"
        h += "<p class=\"note\">Organisations that were members during the period; a line joins two that collaborated (\(e(g.kinds.map { Show.words($0.rawValue) }.joined(separator: ", ")))), thicker for more. Circle size: weighted degree. Hollow red circles along the bottom: isolated organisations, with no tie at all.</p>\n"
        let labelled = Set(g.nodes.filter { $0.betweenness > 0 }.sorted { ($1.betweenness, $0.id) < ($0.betweenness, $1.id) }.prefix(8).map(\.id))
        h += "<figure>\n" + Charts.graph(g, colour: { colour(of: $0.homeNetwork, in: s) }, labelled: labelled) + "\n"
        if s.scope.networks.count > 1 {
            h += "<p class=\"legend\">" + s.scope.networks.map { "<span class=\"swatch\" style=\"background:\(colour(of: $0.id, in: s))\"></span>\(e($0.name))" }.joined(separator: " ") + "</p>\n"
        }
        if g.edges.count > 4000 { h += "<p class=\"note\">The 4,000 heaviest of \(g.edges.count) ties are drawn.</p>\n" }
        h += "</figure>\n<table class=\"figures\">\n<tbody>\n"
        h += "<tr><th>Organisations / ties</th><td>\(g.nodes.count) / \(g.edges.count)</td><th>Density</th><td>\(Show.decimal(g.density, places: 3))</td></tr>\n"
        h += "<tr><th>Connected components</th><td>\(g.components)</td><th>Reciprocity of reviews</th><td>\(Show.percent(g.reciprocity))</td></tr>\n"
        h += "<tr><th>E-I index across networks</th><td>\(Show.decimal(g.eiIndexNetwork, places: 2))</td><th>E-I index across regions</th><td>\(Show.decimal(g.eiIndexRegion, places: 2))</td></tr>\n"
        h += "</tbody>\n</table>\n"
        let brokers = g.nodes.filter { labelled.contains($0.id) }.sorted { ($1.betweenness, $0.id) < ($0.betweenness, $1.id) }
        if !brokers.isEmpty {
            h += "<p><strong>Bridging organisations</strong> (highest betweenness): " + brokers.map { "\(e($0.name)) (\(Show.decimal($0.betweenness, places: 3)))" }.joined(separator: ", ") + ".</p>\n"
        }
        h += "<p><strong>Isolated organisations</strong> (\(g.isolates.count)): "
        let names = Dictionary(g.nodes.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        h += g.isolates.isEmpty ? "none." : g.isolates.map { "\(e(names[$0] ?? $0)) (\(e($0)))" }.joined(separator: ", ") + "."
        h += "</p>\n<p class=\"note\">E-I index: (ties between groups − ties within) ÷ all ties, from −1 (all within) to +1 (all across); an organisation in several networks counts in the one it was a member of longest.</p>\n"
        return h + "</section>\n"
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

    static let css = """
        @page { size: A4; margin: 14mm 13mm 15mm; }
        :root { --ink: #1c2632; --muted: #5a6776; --rule: #d6dce4; --accent: #0072B2; --warn: #D55E00; }
        * { box-sizing: border-box; }
        html { background: #fff; }
        body { font-family: "Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; color: var(--ink);
               margin: 0 auto; max-width: 184mm; padding: 12mm 0; font-size: 10pt; line-height: 1.4; }
        header { border-bottom: 3px solid var(--ink); padding-bottom: 3mm; margin-bottom: 2mm; }
        .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 8.5pt; color: var(--muted); margin: 0; }
        h1 { font-size: 19pt; margin: 1mm 0 1.5mm; line-height: 1.2; }
        h2 { font-size: 13pt; margin: 7mm 0 2.5mm; padding-bottom: 1mm; border-bottom: 1px solid var(--rule); break-after: avoid; }
        h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; }
        .sub { color: var(--muted); margin: 0.5mm 0; }
        .cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin-bottom: 3mm; }
        .card { border: 1px solid var(--rule); border-left: 4px solid var(--accent); padding: 2mm 3mm; break-inside: avoid; }
        .card .big { font-size: 19pt; font-weight: 700; line-height: 1.1; }
        .card .what { font-weight: 600; }
        .card .detail { color: var(--muted); font-size: 8.5pt; }
        table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 1mm 0 2mm; }
        th, td { text-align: left; padding: 0.9mm 1.6mm; border-bottom: 1px solid var(--rule); vertical-align: top; }
        thead th { color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--muted); }
        tbody td:first-child { min-width: 28mm; }
        .n { text-align: right; font-variant-numeric: tabular-nums; }
        td.n { white-space: nowrap; }
        table.figures th { color: var(--muted); font-weight: 600; width: 28%; }
        figure { margin: 1mm 0 3mm; break-inside: avoid; }
        svg.chart, svg.graph { width: 100%; height: auto; display: block; }
        svg text { font-family: inherit; }
        .chart .grid { stroke: #e4e8ee; stroke-width: 1; }
        .chart .tick { stroke: var(--muted); }
        .chart .axis { font-size: 9px; fill: var(--muted); }
        .chart .label, .chart .value { font-size: 10px; fill: var(--ink); }
        .chart .inbar { font-size: 9px; fill: #fff; font-weight: 600; }
        .chart .bar { fill: var(--accent); }
        .chart .bar.low { fill: var(--warn); }
        .chart .ref { stroke: var(--ink); stroke-width: 1.2; stroke-dasharray: 4 3; }
        .graph .frame { fill: #fafbfc; stroke: var(--rule); }
        .graph .edges line { stroke: #3d4b5c; }
        .graph .nodes circle { stroke: #fff; stroke-width: 0.8; }
        .graph .nodes circle.isolate { fill: #fff; stroke: var(--warn); stroke-width: 1.8; }
        .graph .nodename { font-size: 9px; fill: var(--ink); paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
        .graph .isolatename { fill: var(--warn); font-weight: 600; }
        .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.35em 0 0.8em; vertical-align: -0.05em; }
        td .swatch { margin-left: 0; }
        .legend { font-size: 9pt; margin: 1mm 0; }
        .note { color: var(--muted); font-size: 8.8pt; margin: 1mm 0 2mm; }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8pt; word-break: break-all; }
        footer { margin-top: 8mm; font-size: 8.5pt; color: var(--muted); break-inside: avoid; }
        footer h2 { color: var(--ink); }
        footer pre.checkpoint { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8pt; }
        table.digests td { padding: 0.4mm 1.6mm; }
        @media print { body { padding: 0; max-width: none; } section.graphsection { break-before: page; } }

        """
}

extension Period {
    /// Days since 1970-01-01 of a `YYYY-MM-DD` text.
    static func dayNumber(_ text: String) -> Int? { Timestamp.parseDate(text) }
}
