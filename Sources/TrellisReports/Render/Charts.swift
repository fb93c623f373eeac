#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TrellisGraph
import TrellisLedger

/// Inline SVG charts for the HTML summary: no scripts, no external resources, every
/// coordinate rounded to 0.1 so the same figures give the same bytes.
///
/// Every chart is an `<svg role="img">` named by its `<title>` and described by its
/// `<desc>`; its text is 12 px at the chart's natural width, which fits a phone.
///
/// ## Topics
/// - ``columns(_:colour:id:title:desc:)``
/// - ``stacked(_:categories:id:title:desc:width:)``
/// - ``graph(_:width:height:colour:labelled:id:title:desc:maxEdges:)``
public enum Charts {
    /// Colour-blind-friendly categorical palette (Okabe–Ito, then Tableau tones).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
                                 "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF"]

    static func n(_ x: Double) -> String { Show.decimal(x, places: 1) }
    static func esc(_ s: String) -> String { Markup.html(s) }

    /// The opening of an `<svg role="img">` whose accessible name is its `<title>` and whose
    /// description is its `<desc>` (screen readers announce both; browsers show the title
    /// as a tooltip). `id` must be unique in the page.
    static func open(_ cls: String, id: String, width: Double, height: Double, title: String, desc: String) -> String {
        "<svg class=\"\(cls)\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-labelledby=\"\(id)-t \(id)-d\">\n"
            + "<title id=\"\(id)-t\">\(esc(title))</title><desc id=\"\(id)-d\">\(esc(desc))</desc>\n"
    }

    // MARK: - Columns (small multiples)

    /// One column of a column chart: a rate in [0, 1] (nil: no column, a dash), its label
    /// under the axis, and a second line under it (e.g. the number of meetings).
    public struct Column: Sendable {
        public var label: String
        public var value: Double?
        public var detail: String
        public var title: String

        public init(label: String, value: Double?, detail: String, title: String) {
            self.label = label
            self.value = value
            self.detail = detail
            self.title = title
        }
    }

    /// A 0–100 % column chart sized for a phone (its natural width is 310 px, text 12 px),
    /// meant to be drawn several side by side: one per network. The value is written above
    /// each column in ink on white, so no text sits on a coloured fill.
    public static func columns(_ columns: [Column], colour: String, id: String, title: String, desc: String) -> String {
        let left = 38.0, right = 6.0, top = 20.0, plotH = 110.0, bottom = 36.0
        let slot = max(44.0, (310 - left - right) / Double(max(1, columns.count)))
        let width = left + right + slot * Double(columns.count)
        let height = top + plotH + bottom
        func y(_ v: Double) -> Double { top + plotH * (1 - max(0, min(1, v))) }
        var s = open("chart", id: id, width: width, height: height, title: title, desc: desc)
        for pct in [0.0, 0.5, 1.0] {
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y(pct)))\" x2=\"\(n(width - right))\" y2=\"\(n(y(pct)))\" class=\"grid\"/>"
            s += "<text x=\"\(n(left - 4))\" y=\"\(n(y(pct) + 4))\" class=\"axis\" text-anchor=\"end\">\(Int(pct * 100))%</text>\n"
        }
        for (i, c) in columns.enumerated() {
            let cx = left + slot * (Double(i) + 0.5)
            let w = min(30, slot - 12)
            if let v = c.value {
                s += "<rect x=\"\(n(cx - w / 2))\" y=\"\(n(y(v)))\" width=\"\(n(w))\" height=\"\(n(top + plotH - y(v)))\" fill=\"\(colour)\"><title>\(esc(c.title))</title></rect>"
            }
            s += "<text x=\"\(n(cx))\" y=\"\(n((c.value.map(y) ?? top + plotH) - 4))\" class=\"value\" text-anchor=\"middle\">\(esc(Show.percent(c.value)))</text>"
            s += "<text x=\"\(n(cx))\" y=\"\(n(top + plotH + 15))\" class=\"axis\" text-anchor=\"middle\">\(esc(c.label))</text>"
            s += "<text x=\"\(n(cx))\" y=\"\(n(top + plotH + 30))\" class=\"axis\" text-anchor=\"middle\">\(esc(c.detail))</text>\n"
        }
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top + plotH))\" x2=\"\(n(width - right))\" y2=\"\(n(top + plotH))\" class=\"tick\"/>\n"
        return s + "</svg>"
    }

    // MARK: - Stacked bars

    /// Ink for a count written on a fill: black or white, whichever contrasts more (WCAG 2
    /// relative luminance); on the judgement colours it is black, ≥ 5.4 : 1.
    static func ink(on fill: String) -> String {
        guard let l = luminance(fill) else { return "#000000" }
        return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#FFFFFF"
    }

    /// WCAG 2 relative luminance of `#RRGGBB`.
    static func luminance(_ hex: String) -> Double? {
        let digits = Array(hex.utf8.dropFirst())
        guard hex.hasPrefix("#"), digits.count == 6 else { return nil }
        var channels: [Double] = []
        for k in stride(from: 0, to: 6, by: 2) {
            guard let v = UInt8(String(decoding: digits[k..<k + 2], as: UTF8.self), radix: 16) else { return nil }
            let c = Double(v) / 255
            channels.append(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4))
        }
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    }

    /// One stacked bar per row (counts of categories), scaled to the largest row total, its
    /// label and note on a line above it so that it fits a phone (natural width 360 px, text
    /// 12 px). A count is written inside a segment wide enough for it, in the ink that
    /// contrasts most with the segment's fill.
    public static func stacked(_ rows: [(label: String, counts: [Int], note: String)], categories: [(name: String, colour: String)],
                               id: String, title: String, desc: String, width: Double = 360) -> String {
        let row = 44.0, bar = 20.0, top = 4.0
        let height = top + row * Double(rows.count)
        let maxTotal = max(1, rows.map { $0.counts.reduce(0, +) }.max() ?? 1)
        var s = open("chart", id: id, width: width, height: height, title: title, desc: desc)
        for (i, r) in rows.enumerated() {
            let y = top + row * Double(i)
            s += "<text x=\"0\" y=\"\(n(y + 13))\" class=\"label\">\(esc(r.label))</text>"
            s += "<text x=\"\(n(width))\" y=\"\(n(y + 13))\" class=\"value\" text-anchor=\"end\">\(esc(r.note))</text>\n"
            var x = 0.0
            for (k, c) in r.counts.enumerated() where c > 0 {
                let w = width * Double(c) / Double(maxTotal)
                s += "<rect x=\"\(n(x))\" y=\"\(n(y + 18))\" width=\"\(n(w))\" height=\"\(n(bar))\" fill=\"\(categories[k].colour)\"><title>\(esc(r.label)), \(esc(categories[k].name)): \(c)</title></rect>"
                if w >= 8 + 7.5 * Double(String(c).count) {
                    s += "<text x=\"\(n(x + w / 2))\" y=\"\(n(y + 33))\" class=\"inbar\" fill=\"\(ink(on: categories[k].colour))\" text-anchor=\"middle\">\(c)</text>"
                }
                x += w
            }
            s += "\n"
        }
        return s + "</svg>"
    }

    // MARK: - The collaboration graph

    /// The graph with `GraphLayout.forceDirected` (deterministic): node area by weighted
    /// degree, colour by `colour(node)`, edges thicker and darker with weight; isolates
    /// (laid out along the bottom) drawn hollow in red and labelled, like the nodes in
    /// `labelled`. Draws at most `maxEdges` edges, the heaviest.
    public static func graph(_ g: CollaborationGraph, width: Double = 680, height: Double = 520,
                             colour: (GraphNode) -> String, labelled: Set<String>, id: String = "graph", title: String = "Collaboration graph",
                             desc: String = "", maxEdges: Int = 4000) -> String {
        let positions = GraphLayout.forceDirected(g.weightedGraph, width: width, height: height)
        let maxWD = max(1, g.nodes.map(\.weightedDegree).max() ?? 1)
        let maxW = Double(max(1, g.edges.map(\.weight).max() ?? 1))
        var s = open("graph", id: id, width: width, height: height, title: title, desc: desc)
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
            let tip = "\(node.name): degree \(node.degree), weighted degree \(Show.count(node.weightedDegree))"
            if isolates.contains(node.id) {
                s += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"4.5\" class=\"isolate\"><title>\(esc(tip)) — no tie</title></circle>\n"
            } else {
                s += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"\(n(radius(node)))\" fill=\"\(colour(node))\"><title>\(esc(tip))</title></circle>\n"
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
        let charWidth = 6.5   // the mean advance of a 12 px sans-serif letter
        var placed: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []
        let order = g.nodes.filter { isolates.contains($0.id) } + g.nodes.filter { labelled.contains($0.id) && !isolates.contains($0.id) }
        for node in order {
            guard let p = positions[node.id] else { continue }
            let iso = isolates.contains(node.id)
            let room = iso ? Int((isolateRoom[node.id] ?? width) / charWidth) : 26
            guard room >= 4 else { continue }
            let text = Show.clipped(node.name, min(26, room))
            let r = iso ? 4.5 : radius(node)
            let w = Double(text.count) * charWidth + 4
            let anchor = p.x > width - w / 2 - 4 ? "end" : (p.x < w / 2 + 4 ? "start" : "middle")
            let x0 = anchor == "end" ? p.x - w : (anchor == "start" ? p.x : p.x - w / 2)
            var candidates = iso ? [p.y - r - 3, p.y + r + 13] : [p.y + r + 13, p.y - r - 3]
            if iso, let k = g.isolates.firstIndex(of: node.id), k % 2 == 1 { candidates.reverse() }
            var chosen: Double?
            for y in candidates {
                let box = (x0: x0, y0: y - 12, x1: x0 + w, y1: y + 3)
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
