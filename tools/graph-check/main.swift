// Development driver for TrellisGraph (not part of the package build).
//   swiftc -O -swift-version 6 -parse-as-library Sources/TrellisGraph/*.swift \
//       tools/graph-check/main.swift -o /tmp/graphcheck
//
//   /tmp/graphcheck FILE [--layout W H] [--iterations N] [--seed S]
//       Reads a graph and prints one JSON object with every metric (keys sorted):
//       nodes (insertion order), sorted_nodes, node_count, edge_count, degree,
//       weighted_degree, betweenness, betweenness_raw (normalized: false), clustering,
//       component (node -> index into components), density, components, isolates,
//       reciprocity, ei_index, ei_index_weighted, and with --layout: layout {id: [x, y]},
//       layout_margin. Absent figures (nil) are null.
//   /tmp/graphcheck --bench N M [--seed S] [--repeat R]
//       Times betweenness, clustering and layout (800 x 600) on a random graph of N nodes
//       and M distinct edges; prints JSON with the best of R runs in seconds.
//       --only betweenness|clustering|node_metrics|layout times just that one.
//
// FILE, one item per line, fields separated by spaces or tabs:
//   u v [w]              undirected edge (w: integer or decimal, default 1)
//   #node id             a node (e.g. an isolate)
//   #tie u v [w]         directed tie u -> v, for reciprocity
//   #group id label      group of a node, for the E-I index
//   # anything else      comment
#if canImport(TrellisGraph)
import TrellisGraph
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct GraphCheck {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        func value(_ flag: String) -> String {
            guard !args.isEmpty else { fail("missing value for \(flag)") }
            return args.removeFirst()
        }
        func number(_ flag: String) -> Double {
            guard let v = Double(value(flag)) else { fail("\(flag) needs a number") }
            return v
        }
        func int(_ flag: String) -> Int {
            guard let v = Int(value(flag)) else { fail("\(flag) needs an integer") }
            return v
        }
        var file: String?
        var layout: (Double, Double)?
        var iterations = 300
        var seed: UInt64 = 1
        var bench: (Int, Int)?
        var repeats = 3
        var only: String?
        while !args.isEmpty {
            let a = args.removeFirst()
            switch a {
            case "--layout": layout = (number(a), number(a))
            case "--iterations": iterations = int(a)
            case "--seed":
                guard let s = UInt64(value(a)) else { fail("--seed needs an unsigned integer") }
                seed = s
            case "--bench": bench = (int(a), int(a))
            case "--repeat": repeats = max(1, int(a))
            case "--only": only = value(a)
            default:
                if a.hasPrefix("--") || file != nil { fail("unexpected argument \(a)") }
                file = a
            }
        }
        if let (n, m) = bench {
            runBench(nodes: n, edges: m, seed: seed, repeats: repeats, only: only)
            return
        }
        guard let path = file else { fail("usage: graphcheck FILE [--layout W H] | --bench N M") }
        let input = parse(readFile(path))
        print(report(input, layout: layout, iterations: iterations, seed: seed))
    }

    struct Input {
        var graph = WeightedGraph()
        var ties = DirectedTies()
        var groups: [String: String] = [:]
    }

    static func parse(_ text: String) -> Input {
        var input = Input()
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let f = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let head = f.first else { continue }
            func weight(_ i: Int) -> Double {
                guard f.count > i else { return 1 }
                guard let w = Double(f[i]) else { fail("line \(lineNo): bad weight \(f[i])") }
                return w
            }
            switch head {
            case "#node":
                guard f.count == 2 else { fail("line \(lineNo): #node id") }
                input.graph.addNode(f[1])
            case "#tie":
                guard f.count == 3 || f.count == 4 else { fail("line \(lineNo): #tie u v [w]") }
                input.ties.addTie(from: f[1], to: f[2], weight: weight(3))
            case "#group":
                guard f.count == 3 else { fail("line \(lineNo): #group id label") }
                input.groups[f[1]] = f[2]
            default:
                if head.hasPrefix("#") { continue }
                guard f.count == 2 || f.count == 3 else { fail("line \(lineNo): u v [w]") }
                input.graph.addEdge(f[0], f[1], weight: weight(2))
            }
        }
        return input
    }

    static func report(_ input: Input, layout: (Double, Double)?, iterations: Int, seed: UInt64) -> String {
        let g = input.graph
        var o = JSONObject()
        o["nodes"] = .array(g.nodes.map { .string($0) })
        o["sorted_nodes"] = .array(g.sortedNodes.map { .string($0) })
        o["node_count"] = .int(g.nodeCount)
        o["edge_count"] = .int(g.edgeCount)
        o["degree"] = .object(GraphMetrics.degree(g).mapValues { .int($0) })
        o["weighted_degree"] = .object(GraphMetrics.weightedDegree(g).mapValues { .double($0) })
        o["betweenness"] = .object(GraphMetrics.betweenness(g).mapValues { .double($0) })
        o["betweenness_raw"] = .object(GraphMetrics.betweenness(g, normalized: false).mapValues { .double($0) })
        o["clustering"] = .object(GraphMetrics.clustering(g).mapValues { .double($0) })
        o["component"] = .object(GraphMetrics.componentIndex(g).mapValues { .int($0) })
        o["density"] = .optional(GraphMetrics.density(g))
        o["components"] = .array(GraphMetrics.components(g).map { .array($0.map { .string($0) }) })
        o["isolates"] = .array(GraphMetrics.isolates(g).map { .string($0) })
        o["reciprocity"] = .optional(GraphMetrics.reciprocity(input.ties))
        o["ei_index"] = .optional(GraphMetrics.eiIndex(g, group: input.groups))
        o["ei_index_weighted"] = .optional(GraphMetrics.eiIndexWeighted(g, group: input.groups))
        // The one-pass API must agree with the per-figure functions exactly.
        let nm = GraphMetrics.nodeMetrics(g)
        let b = GraphMetrics.betweenness(g), cl = GraphMetrics.clustering(g)
        let ci = GraphMetrics.componentIndex(g), wd = GraphMetrics.weightedDegree(g)
        let deg = GraphMetrics.degree(g)
        let consistent = nm.map(\.id) == g.sortedNodes && nm.allSatisfy {
            b[$0.id] == $0.betweenness && cl[$0.id] == $0.clustering && ci[$0.id] == $0.component
                && wd[$0.id] == $0.weightedDegree && deg[$0.id] == $0.degree
        }
        o["node_metrics_consistent"] = .bool(consistent)
        if let (w, h) = layout {
            let pos = GraphLayout.forceDirected(g, width: w, height: h, iterations: iterations, seed: seed)
            o["layout"] = .object(pos.mapValues { .array([.double($0.x), .double($0.y)]) })
            o["layout_margin"] = .double(GraphLayout.defaultMargin(width: w, height: h))
        }
        return JSON.object(o.fields).rendered
    }

    // MARK: - Benchmark

    static func runBench(nodes n: Int, edges m: Int, seed: UInt64, repeats: Int, only: String?) {
        guard n >= 2, m >= 0, m <= n * (n - 1) / 2 else { fail("--bench N M: need N ≥ 2, M ≤ N(N−1)/2") }
        var g = WeightedGraph()
        let ids = (0..<n).map { "org-\($0)" }
        for id in ids { g.addNode(id) }
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        while g.edgeCount < m {
            let a = Int(next() % UInt64(n)), b = Int(next() % UInt64(n))
            g.addEdge(ids[a], ids[b], weight: Int(next() % 5) + 1)
        }
        let clock = ContinuousClock()
        func best(_ name: String, _ body: () -> Void) -> Double {
            if let only, only != name { return 0 }
            var t = Double.infinity
            for _ in 0..<repeats {
                let d = clock.measure(body)
                let (s, atto) = d.components
                t = min(t, Double(s) + Double(atto) * 1e-18)
            }
            return t
        }
        var sink = 0.0
        let tb = best("betweenness") { sink += GraphMetrics.betweenness(g).values.reduce(0, +) }
        let tc = best("clustering") { sink += GraphMetrics.clustering(g).values.reduce(0, +) }
        let tm = best("node_metrics") { sink += Double(GraphMetrics.nodeMetrics(g).count) }
        var first: [String: (x: Double, y: Double)] = [:]
        let tl = best("layout") {
            let p = GraphLayout.forceDirected(g, width: 800, height: 600)
            if first.isEmpty { first = p }
            sink += p.count == first.count ? 0 : 1
        }
        var o = JSONObject()
        o["nodes"] = .int(n)
        o["edges"] = .int(g.edgeCount)
        o["components"] = .int(GraphMetrics.components(g).count)
        o["isolates"] = .int(GraphMetrics.isolates(g).count)
        o["betweenness_s"] = .double(tb)
        o["clustering_s"] = .double(tc)
        o["node_metrics_s"] = .double(tm)
        o["layout_s"] = .double(tl)
        o["sink"] = .double(sink)
        print(JSON.object(o.fields).rendered)
    }

    // MARK: - I/O

    static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { fail("cannot open \(path)") }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { fail("cannot read \(path)") }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func fail(_ message: String) -> Never {
        let line = "graph-check: \(message)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        exit(2)
    }
}

// MARK: - A tiny JSON writer (keys sorted by UTF-8 bytes, numbers shortest round-trip)

indirect enum JSON {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    static func optional(_ d: Double?) -> JSON { d.map { .double($0) } ?? .null }

    var rendered: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // Swift's description is the shortest string that round-trips; JSON has no
            // inf/nan.
            out += d.isFinite ? d.description : "null"
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(k, to: &out)
                out += ":"
                o[k]?.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

struct JSONObject {
    var fields: [String: JSON] = [:]
    subscript(key: String) -> JSON? {
        get { fields[key] }
        set { fields[key] = newValue }
    }
}
