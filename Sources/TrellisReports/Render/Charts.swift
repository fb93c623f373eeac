import TrellisGraph
import TrellisLedger

/// Inline SVG charts for the HTML summary: no scripts, no external resources, every
/// coordinate rounded to 0.1 so the same figures give the same bytes.
///
/// ## Topics
/// - ``bars(_:width:)``
/// - ``lines(_:period:width:height:)``
/// - ``stacked(_:categories:width:)``
/// - ``graph(_:width:height:colour:labelled:)``
public enum Charts {
    /// Colour-blind-friendly categorical palette (Okabe–Ito, then Tableau tones).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
                                 "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF"]

    static func n(_ x: Double) -> String { Show.decimal(x, places: 1) }
    static func esc(_ s: String) -> String { Markup.escape(s) }

    // MARK: - Horizontal bars

    public struct Bar: Sendable {
        public var label: String
        /// In [0, 1]; nil draws no bar and `note` in its place.
        public var value: Double?
        public var text: String
        public var highlight: Bool

        public init(label: String, value: Double?, text: String, highlight: Bool = false) {
            self.label = label
            self.value = value
            self.text = text
            self.highlight = highlight
        }
    }

    /// One bar per item, labels left, values right, a 0–100 % scale; `reference` draws a
    /// dashed line (e.g. the network's rate).
    public static func bars(_ items: [Bar], width: Double = 680, reference: Double? = nil, referenceLabel: String = "") -> String {
        let row = 16.0, labelW = 230.0, valueW = 70.0, top = 22.0
        let plotW = width - labelW - valueW
        let height = top + row * Double(items.count) + 8
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\">\n"
        for pct in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = labelW + plotW * pct
            s += "<line x1=\"\(n(x))\" y1=\"\(n(top - 4))\" x2=\"\(n(x))\" y2=\"\(n(height - 6))\" class=\"grid\"/>"
            s += "<text x=\"\(n(x))\" y=\"\(n(top - 8))\" class=\"axis\" text-anchor=\"middle\">\(Int(pct * 100))%</text>\n"
        }
        for (i, item) in items.enumerated() {
            let y = top + row * Double(i)
            s += "<text x=\"\(n(labelW - 6))\" y=\"\(n(y + 11.5))\" class=\"label\" text-anchor=\"end\"><title>\(esc(item.label))</title>\(esc(Show.clipped(item.label, 38)))</text>"
            if let v = item.value {
                let w = max(0, min(1, v)) * plotW
                s += "<rect x=\"\(n(labelW))\" y=\"\(n(y + 2))\" width=\"\(n(w))\" height=\"\(n(row - 4))\" class=\"\(item.highlight ? "bar low" : "bar")\"/>"
            }
            s += "<text x=\"\(n(width - valueW + 6))\" y=\"\(n(y + 11.5))\" class=\"value\">\(esc(item.text))</text>\n"
        }
        if let r = reference {
            let x = labelW + max(0, min(1, r)) * plotW
            s += "<line x1=\"\(n(x))\" y1=\"\(n(top - 2))\" x2=\"\(n(x))\" y2=\"\(n(height - 6))\" class=\"ref\"><title>\(esc(referenceLabel))</title></line>\n"
        }
        return s + "</svg>"
    }

    // MARK: - Lines over time

    public struct Series: Sendable {
        public var name: String
        public var colour: String
        /// (day, value in [0, 1]) in day order; nil values are gaps.
        public var points: [(day: Int, value: Double?, title: String)]

        public init(name: String, colour: String, points: [(day: Int, value: Double?, title: String)]) {
            self.name = name
            self.colour = colour
            self.points = points
        }
    }

    /// A 0–100 % line chart over the period, months marked on the x axis, a legend below.
    public static func lines(_ series: [Series], period: Period, width: Double = 680, height: Double = 240) -> String {
        let left = 40.0, right = 12.0, top = 10.0, bottom = 28.0
        let columns = series.contains { $0.name.count > 30 } ? 2 : 3
        let legendRows = Double((series.count + columns - 1) / columns)
        let total = height + legendRows * 16
        let plotW = width - left - right, plotH = height - top - bottom
        let span = Double(max(1, period.dayCount))
        func x(_ day: Int) -> Double { left + plotW * Double(day - period.from) / span }
        func y(_ v: Double) -> Double { top + plotH * (1 - max(0, min(1, v))) }
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(n(width)) \(n(total))\" width=\"\(n(width))\" height=\"\(n(total))\" role=\"img\">\n"
        for pct in [0.0, 0.25, 0.5, 0.75, 1.0] {
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y(pct)))\" x2=\"\(n(width - right))\" y2=\"\(n(y(pct)))\" class=\"grid\"/>"
            s += "<text x=\"\(n(left - 6))\" y=\"\(n(y(pct) + 4))\" class=\"axis\" text-anchor=\"end\">\(Int(pct * 100))%</text>\n"
        }
        // Month ticks: the first of each month inside the period.
        let months = monthStarts(period)
        let every = months.count > 14 ? (months.count + 11) / 12 : 1
        for (k, m) in months.enumerated() where k % every == 0 {
            let c = Timestamp.civil(days: m)
            let label = String(Show.months[c.month - 1].prefix(3)) + (c.month == 1 || k == 0 ? " \(c.year)" : "")
            s += "<line x1=\"\(n(x(m)))\" y1=\"\(n(top + plotH))\" x2=\"\(n(x(m)))\" y2=\"\(n(top + plotH + 4))\" class=\"tick\"/>"
            s += "<text x=\"\(n(x(m)))\" y=\"\(n(top + plotH + 16))\" class=\"axis\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for sr in series {
            var path = ""
            var pen = false
            for p in sr.points {
                guard let v = p.value else { pen = false; continue }
                path += (pen ? " L" : (path.isEmpty ? "M" : " M")) + "\(n(x(p.day))) \(n(y(v)))"
                pen = true
            }
            if !path.isEmpty { s += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(sr.colour)\" stroke-width=\"1.6\"/>\n" }
            for p in sr.points {
                guard let v = p.value else { continue }
                s += "<circle cx=\"\(n(x(p.day)))\" cy=\"\(n(y(v)))\" r=\"2.4\" fill=\"\(sr.colour)\"><title>\(esc(p.title))</title></circle>"
            }
            s += "\n"
        }
        for (i, sr) in series.enumerated() {
            let lx = left + Double(i % columns) * (plotW / Double(columns)), ly = height + 4 + Double(i / columns) * 16
            s += "<rect x=\"\(n(lx))\" y=\"\(n(ly))\" width=\"10\" height=\"10\" fill=\"\(sr.colour)\"/>"
            s += "<text x=\"\(n(lx + 14))\" y=\"\(n(ly + 9))\" class=\"label\">\(esc(Show.clipped(sr.name, columns == 2 ? 52 : 34)))</text>\n"
        }
        return s + "</svg>"
    }

    static func monthStarts(_ p: Period) -> [Int] {
        var out: [Int] = []
        var c = Timestamp.civil(days: p.from)
        var day = Timestamp.days(year: c.year, month: c.month, day: 1)
        if day < p.from {
            c.month += 1
            if c.month > 12 { c.month = 1; c.year += 1 }
            day = Timestamp.days(year: c.year, month: c.month, day: 1)
        }
        while day < p.to && out.count < 400 {
            out.append(day)
            c = Timestamp.civil(days: day)
            let (y, m) = c.month == 12 ? (c.year + 1, 1) : (c.year, c.month + 1)
            day = Timestamp.days(year: y, month: m, day: 1)
        }
        return out
    }

    // MARK: - Stacked bars

    /// One stacked bar per row (counts of categories), scaled to the largest row total;
    /// the counts are written inside segments wide enough, the total at the right.
    public static func stacked(_ rows: [(label: String, counts: [Int], note: String)], categories: [(name: String, colour: String)],
                               width: Double = 680) -> String {
        let row = 20.0, labelW = 170.0, noteW = 120.0, top = 24.0
        let plotW = width - labelW - noteW
        let height = top + row * Double(rows.count) + 6
        let maxTotal = max(1, rows.map { $0.counts.reduce(0, +) }.max() ?? 1)
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\">\n"
        var lx = labelW
        for c in categories {
            s += "<rect x=\"\(n(lx))\" y=\"4\" width=\"10\" height=\"10\" fill=\"\(c.colour)\"/><text x=\"\(n(lx + 14))\" y=\"13\" class=\"label\">\(esc(c.name))</text>"
            lx += 14 + Double(c.name.count) * 6.5 + 16
        }
        s += "\n"
        for (i, r) in rows.enumerated() {
            let y = top + row * Double(i)
            s += "<text x=\"\(n(labelW - 6))\" y=\"\(n(y + 14))\" class=\"label\" text-anchor=\"end\">\(esc(r.label))</text>"
            var x = labelW
            for (k, c) in r.counts.enumerated() where c > 0 {
                let w = plotW * Double(c) / Double(maxTotal)
                s += "<rect x=\"\(n(x))\" y=\"\(n(y + 2))\" width=\"\(n(w))\" height=\"\(n(row - 4))\" fill=\"\(categories[k].colour)\"><title>\(esc(categories[k].name)): \(c)</title></rect>"
                if w >= 16 {
                    s += "<text x=\"\(n(x + w / 2))\" y=\"\(n(y + 14))\" class=\"inbar\" text-anchor=\"middle\">\(c)</text>"
                }
                x += w
            }
            s += "<text x=\"\(n(width - noteW + 6))\" y=\"\(n(y + 14))\" class=\"value\">\(esc(r.note))</text>\n"
        }
        return s + "</svg>"
    }

    // MARK: - The collaboration graph

    /// The graph with `GraphLayout.forceDirected` (deterministic): node area by weighted
    /// degree, colour by `colour(node)`, edges thicker and darker with weight; isolates
    /// (laid out along the bottom) drawn hollow in red and labelled, like the nodes in
    /// `labelled`. Draws at most `maxEdges` edges, the heaviest.
    public static func graph(_ g: CollaborationGraph, width: Double = 680, height: Double = 520,
                             colour: (GraphNode) -> String, labelled: Set<String>, maxEdges: Int = 4000) -> String {
        let positions = GraphLayout.forceDirected(g.weightedGraph, width: width, height: height)
        let maxWD = max(1, g.nodes.map(\.weightedDegree).max() ?? 1)
        let maxW = Double(max(1, g.edges.map(\.weight).max() ?? 1))
        var s = "<svg class=\"graph\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\">\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" class=\"frame\"/>\n<g class=\"edges\">\n"
        let drawn = g.edges.count <= maxEdges ? g.edges
            : Array(g.edges.sorted { ($1.weight, $0.source, $0.target) < ($0.weight, $1.source, $1.target) }.prefix(maxEdges))
        for e in drawn {
            guard let a = positions[e.source], let b = positions[e.target] else { continue }
            let f = Double(e.weight) / maxW
            s += "<line x1=\"\(n(a.x))\" y1=\"\(n(a.y))\" x2=\"\(n(b.x))\" y2=\"\(n(b.y))\" stroke-width=\"\(Show.decimal(0.4 + 2.2 * f, places: 2))\" stroke-opacity=\"\(Show.decimal(0.15 + 0.5 * f, places: 2))\"/>\n"
        }
        s += "</g>\n<g class=\"nodes\">\n"
        let isolates = Set(g.isolates)
        func radius(_ node: GraphNode) -> Double { 3 + 9 * (node.weightedDegree / maxWD).squareRoot() }
        for node in g.nodes {
            guard let p = positions[node.id] else { continue }
            let title = "\(node.name) (\(node.id)): degree \(node.degree), weighted degree \(Show.count(node.weightedDegree))"
            if isolates.contains(node.id) {
                s += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"4.5\" class=\"isolate\"><title>\(esc(title)) — no tie</title></circle>\n"
            } else {
                s += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"\(n(radius(node)))\" fill=\"\(colour(node))\"><title>\(esc(title))</title></circle>\n"
            }
        }
        s += "</g>\n<g class=\"names\">\n"
        // Isolates first (they must be named), then the others in the order given; a label
        // that would overlap one already placed is left out (the node keeps its tooltip).
        // Isolates sit in rows with labels alternately above and below: each label gets
        // the width of two gaps to its neighbours in the row.
        var isolateRoom: [String: Double] = [:]
        let rows = Dictionary(grouping: g.isolates.compactMap { id in positions[id].map { (id: id, x: $0.x, y: $0.y) } }) { Int($0.y.rounded()) }
        for (_, row) in rows {
            let sorted = row.sorted { $0.x < $1.x }
            for (k, p) in sorted.enumerated() {
                var gap = width
                if k > 0 { gap = min(gap, p.x - sorted[k - 1].x) }
                if k + 1 < sorted.count { gap = min(gap, sorted[k + 1].x - p.x) }
                isolateRoom[p.id] = 2 * gap - 6
            }
        }
        var placed: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []
        let order = g.nodes.filter { isolates.contains($0.id) } + g.nodes.filter { labelled.contains($0.id) && !isolates.contains($0.id) }
        for node in order {
            guard let p = positions[node.id] else { continue }
            let iso = isolates.contains(node.id)
            let room = iso ? Int((isolateRoom[node.id] ?? width) / 4.9) : 26
            guard room >= 4 else { continue }
            let text = Show.clipped(node.name, min(26, room))
            let r = iso ? 4.5 : radius(node)
            let w = Double(text.count) * 4.9 + 4
            let anchor = p.x > width - w / 2 - 4 ? "end" : (p.x < w / 2 + 4 ? "start" : "middle")
            let x0 = anchor == "end" ? p.x - w : (anchor == "start" ? p.x : p.x - w / 2)
            var candidates = iso ? [p.y - r - 3, p.y + r + 10] : [p.y + r + 10, p.y - r - 3]
            if iso, let k = g.isolates.firstIndex(of: node.id), k % 2 == 1 { candidates.reverse() }
            var chosen: Double?
            for y in candidates {
                let box = (x0: x0, y0: y - 9, x1: x0 + w, y1: y + 2)
                if !placed.contains(where: { $0.x0 < box.x1 && box.x0 < $0.x1 && $0.y0 < box.y1 && box.y0 < $0.y1 }) || iso {
                    chosen = y
                    placed.append(box)
                    break
                }
            }
            guard let y = chosen else { continue }
            s += "<text x=\"\(n(p.x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\" class=\"\(iso ? "nodename isolatename" : "nodename")\">\(esc(text))</text>\n"
        }
        return s + "</g>\n</svg>"
    }
}
