// Deterministic node positions for drawing the collaboration graph (SVG report).
//
// * Each connected component of two or more nodes is laid out on its own with
//   Fruchterman–Reingold (ideal edge length k = 1, a √s × √s square for s nodes, linear
//   cooling from 0.1·√s as networkx's spring_layout does). Repulsion is exact for
//   components up to 500 nodes; beyond, a pyramid of grid cells (far nodes through their
//   cells' centres of mass): O(s log s) per iteration instead of O(s²), long-range
//   repulsion kept.
// * Starting positions come from a hash of each node id and the seed, and nodes are
//   processed in sorted id order, so the same graph gives the same coordinates whatever
//   order it was built in. Only +, −, ×, ÷ and √ are used (all correctly rounded in IEEE
//   754), no libm, no dictionaries iterated, and each node's sums taken in one fixed order
//   whether one thread or two compute them (a large component's cells are shared out, each
//   node's forces written by one worker): byte-identical coordinates for the same input,
//   on any platform and any number of cores.
// * Components are shelf-packed (columns stacked beside a shelf's first component),
//   largest first, at one common scale, into the drawing area above the isolates;
//   isolates (nodes without a tie) sit in evenly spaced rows along the bottom edge,
//   sorted by id, separated from the rest by a visible gap. A graph of isolates only is
//   drawn as a centred grid.
// * Every coordinate is within [margin, width − margin] × [margin, height − margin],
//   margin = `defaultMargin(width:height:)`. y grows downwards (SVG).

import Dispatch

public enum GraphLayout {

    /// The blank border `forceDirected` leaves: 5 % of the shorter side, at most 24.
    public static func defaultMargin(width: Double, height: Double) -> Double {
        guard width.isFinite, height.isFinite, width > 0, height > 0 else { return 0 }
        return min(24, 0.05 * min(width, height))
    }

    /// `workers`: threads for a component of more than ``exactRepulsionLimit`` nodes (1: the
    /// sequential loop). The coordinates are the same bits for any number (see
    /// ``layoutComponent(_:members:iterations:seed:local:workers:)``).
    public static func forceDirected(_ g: WeightedGraph, width: Double, height: Double,
                                     iterations: Int = 300,
                                     seed: UInt64 = 1, workers: Int = 2) -> [String: (x: Double, y: Double)] {
        let c = g.indexed()
        let n = c.count
        guard n > 0 else { return [:] }
        let w = width.isFinite && width > 0 ? width : 0
        let h = height.isFinite && height > 0 ? height : 0
        let m = defaultMargin(width: w, height: h)
        let box = Rect(x0: m, y0: m, x1: max(m, w - m), y1: max(m, h - m))

        let comps = c.components()
        var isolates: [Int] = []
        var groups: [[Int32]] = []
        for comp in comps {
            if comp.count == 1 { isolates.append(Int(comp[0])) } else { groups.append(comp) }
        }
        isolates.sort()

        var px = [Double](repeating: 0, count: n)
        var py = [Double](repeating: 0, count: n)

        if groups.isEmpty {
            placeGrid(isolates, in: box, px: &px, py: &py)
        } else {
            var area = box
            if !isolates.isEmpty {
                area = placeIsolateRows(isolates, in: box, px: &px, py: &py)
            }
            var local = [Int32](repeating: 0, count: n)
            let laid = groups.map {
                layoutComponent(c, members: $0, iterations: max(0, iterations), seed: seed,
                                local: &local, workers: workers)
            }
            pack(laid, into: area, px: &px, py: &py)
        }

        var out: [String: (x: Double, y: Double)] = [:]
        out.reserveCapacity(n)
        for i in 0..<n {
            out[c.ids[i]] = (clamp(px[i], box.x0, box.x1), clamp(py[i], box.y0, box.y1))
        }
        return out
    }

    // MARK: - Placement

    struct Rect {
        var x0: Double, y0: Double, x1: Double, y1: Double
        var width: Double { x1 - x0 }
        var height: Double { y1 - y0 }
    }

    /// A component in its own unit space, translated so its nodes' minimum x and y are 0.
    struct LaidComponent {
        let members: [Int32]
        let xs: [Double]
        let ys: [Double]
        let width: Double
        let height: Double
    }

    static let isolatePitchMin = 12.0
    static let isolatePitchMax = 40.0

    /// Isolates in rows along the bottom of `box`; returns the area left above them.
    static func placeIsolateRows(_ isolates: [Int], in box: Rect,
                                 px: inout [Double], py: inout [Double]) -> Rect {
        let count = isolates.count
        let fit = box.width / isolatePitchMin   // compared as a Double: no Int overflow
        let cols = fit + 1 >= Double(count) ? count : max(1, Int(fit) + 1)
        let rows = (count + cols - 1) / cols
        let pitchX = cols > 1 ? min(isolatePitchMax, box.width / Double(cols - 1)) : 0
        var pitchY = rows > 1 ? max(pitchX, isolatePitchMin) : 0
        if Double(rows - 1) * pitchY > 0.4 * box.height {
            pitchY = 0.4 * box.height / Double(rows - 1)   // rows > 1 here
        }
        let band = Double(rows - 1) * pitchY
        let gap = min(max(pitchX, isolatePitchMin, 0.08 * box.height), 0.25 * box.height)
        let top = box.y1 - band
        for (k, v) in isolates.enumerated() {
            let r = k / cols
            let inRow = min(cols, count - r * cols)
            let rowWidth = Double(inRow - 1) * pitchX
            px[v] = box.x0 + (box.width - rowWidth) / 2 + Double(k % cols) * pitchX
            py[v] = top + Double(r) * pitchY
        }
        return Rect(x0: box.x0, y0: box.y0, x1: box.x1, y1: max(box.y0, top - gap))
    }

    /// A graph of isolates only: a centred grid, rows filled left to right.
    static func placeGrid(_ nodes: [Int], in box: Rect, px: inout [Double], py: inout [Double]) {
        let count = nodes.count
        let aspect = box.height > 0 ? box.width / box.height : 1
        var cols = 1
        while cols < count && Double(cols * cols) < Double(count) * aspect { cols += 1 }
        let rows = (count + cols - 1) / cols
        var pitch = 60.0
        if cols > 1 { pitch = min(pitch, box.width / Double(cols - 1)) }
        if rows > 1 { pitch = min(pitch, box.height / Double(rows - 1)) }
        let top = box.y0 + (box.height - Double(rows - 1) * pitch) / 2
        for (k, v) in nodes.enumerated() {
            let r = k / cols
            let inRow = min(cols, count - r * cols)
            px[v] = box.x0 + (box.width - Double(inRow - 1) * pitch) / 2 + Double(k % cols) * pitch
            py[v] = top + Double(r) * pitch
        }
    }

    /// Shelf packing with stacking, largest component first: a shelf's first component
    /// sets its height, and the next ones fill columns beside it, top to bottom, before a
    /// new column (or, past the shelf width, a new shelf) is started. The shelf width that
    /// lets the packing be drawn largest in `area` is chosen from a fixed list, and the
    /// result is scaled uniformly (one scale for every component) and centred.
    static func pack(_ comps: [LaidComponent], into area: Rect,
                     px: inout [Double], py: inout [Double]) {
        let pad = 1.5
        var total = 0.0
        var widest = 0.0
        for c in comps {
            total += (c.width + pad) * (c.height + pad)
            widest = max(widest, c.width)
        }
        let aspect = area.height > 0 && area.width > 0 ? area.width / area.height : 1
        let square = (total * aspect).squareRoot()
        var candidates: [Double] = []
        for f in [1.0, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 6, 8] { candidates.append(widest * f) }
        for f in [0.5, 0.75, 1.0, 1.25, 1.5] { candidates.append(max(widest, square * f)) }

        var ox = [Double](repeating: 0, count: comps.count)
        var oy = [Double](repeating: 0, count: comps.count)
        var bestX = ox, bestY = oy
        var best = (scale: -1.0, w: 0.0, h: 0.0)
        for shelf in candidates {
            let (w, h) = shelfPack(comps, shelf: shelf, pad: pad, ox: &ox, oy: &oy)
            // Scale to fit; a small graph is not blown up beyond a quarter of the area per unit.
            var scale = 0.25 * min(area.width, area.height)
            if w > 0 { scale = min(scale, area.width / w) }
            if h > 0 { scale = min(scale, area.height / h) }
            if scale > best.scale {
                best = (scale, w, h)
                bestX = ox
                bestY = oy
            }
        }
        let scale = max(0, best.scale)
        let left = area.x0 + (area.width - best.w * scale) / 2
        let top = area.y0 + (area.height - best.h * scale) / 2
        for (i, c) in comps.enumerated() {
            for (k, v) in c.members.enumerated() {
                px[Int(v)] = left + (bestX[i] + c.xs[k]) * scale
                py[Int(v)] = top + (bestY[i] + c.ys[k]) * scale
            }
        }
    }

    /// Places `comps` (offsets into ox, oy); returns the packing's width and height.
    static func shelfPack(_ comps: [LaidComponent], shelf: Double, pad: Double,
                          ox: inout [Double], oy: inout [Double]) -> (Double, Double) {
        var rowTop = 0.0, rowHeight = 0.0
        var colX = 0.0, colY = 0.0, colWidth = 0.0
        var packedW = 0.0, packedH = 0.0
        var first = true
        for (i, c) in comps.enumerated() {
            if first {
                rowHeight = c.height
                colY = 0
                colWidth = 0
                first = false
            } else if colY > rowTop && colY + c.height <= rowTop + rowHeight {
                // Fits under the previous one in this column.
            } else if colX + colWidth + pad + c.width <= shelf {
                colX += colWidth + pad
                colY = rowTop
                colWidth = 0
                rowHeight = max(rowHeight, c.height)
            } else {
                rowTop += rowHeight + pad
                rowHeight = c.height
                colX = 0
                colY = rowTop
                colWidth = 0
            }
            ox[i] = colX
            oy[i] = colY
            colY += c.height + pad
            colWidth = max(colWidth, c.width)
            packedW = max(packedW, colX + c.width)
            packedH = max(packedH, oy[i] + c.height)
        }
        return (packedW, packedH)
    }

    // MARK: - Fruchterman–Reingold on one component

    static let exactRepulsionLimit = 500

    /// With more than one worker, a large component's iteration is shared out by finest cell
    /// of the pyramid (every other cell): each worker repels the nodes of its cells and then
    /// adds their attraction, gathered over each node's neighbours in index order. That is the
    /// order in which the sequential loop adds a node's terms (its lower neighbours' as it
    /// reaches them, then its own for its higher neighbours, each adjacency sorted), and each
    /// term is computed from the same operands, so every sum has the same bits: the picture
    /// does not depend on the core count (`GraphLayoutTests`).
    static func layoutComponent(_ c: IndexedGraph, members: [Int32], iterations: Int,
                                seed: UInt64, local: inout [Int32], workers: Int = 1) -> LaidComponent {
        let s = members.count
        // Local CSR (members are sorted, so local order = sorted id order). `local` maps
        // graph index → local index; every neighbour of a member is a member.
        for (k, v) in members.enumerated() { local[Int(v)] = Int32(k) }
        var off = [Int](repeating: 0, count: s + 1)
        var adj: [Int32] = []
        for (k, v) in members.enumerated() {
            let g = Int(v)
            for e in c.offsets[g]..<c.offsets[g + 1] { adj.append(local[Int(c.adj[e])]) }
            off[k + 1] = adj.count
        }

        let side = Double(s).squareRoot()
        var xs = [Double](repeating: 0, count: s)
        var ys = [Double](repeating: 0, count: s)
        let seedMix = splitmix(seed)
        for (k, v) in members.enumerated() {
            let h1 = splitmix(fnv1a(c.ids[Int(v)]) ^ seedMix)
            let h2 = splitmix(h1)
            xs[k] = unit(h1) * side
            ys[k] = unit(h2) * side
        }

        var dx = [Double](repeating: 0, count: s)
        var dy = [Double](repeating: 0, count: s)
        var t = 0.1 * side
        let dt = t / (Double(iterations) + 1)
        var pyramid = CellPyramid()
        let parallel = workers > 1 && s > exactRepulsionLimit
        var scratch = (0..<max(1, workers)).map { _ in CellPyramid.Scratch() }
        for _ in 0..<iterations {
            for i in 0..<s { dx[i] = 0; dy[i] = 0 }
            if parallel {
                pyramid.prepare(xs, ys)
                let cells = pyramid.cellCount
                xs.withUnsafeBufferPointer { xs in
                ys.withUnsafeBufferPointer { ys in
                dx.withUnsafeMutableBufferPointer { dx in
                dy.withUnsafeMutableBufferPointer { dy in
                off.withUnsafeBufferPointer { off in
                adj.withUnsafeBufferPointer { adj in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    let shared = LayoutShared(xs: xs, ys: ys, dx: dx, dy: dy, off: off, adj: adj, scratch: scratch)
                    let pyramidNow = pyramid
                    DispatchQueue.concurrentPerform(iterations: workers) { k in
                        for cell in Swift.stride(from: k, to: cells, by: workers) {
                            pyramidNow.repelCell(cell, shared.xs, shared.ys, shared.dx, shared.dy, scratch: &shared.scratch[k])
                            for p in pyramidNow.members(of: cell) {
                                attract(Int(p), shared.xs, shared.ys, shared.dx, shared.dy, shared.off, shared.adj)
                            }
                        }
                    }
                }}}}}}}
            } else {
                if s <= exactRepulsionLimit {
                    repelExact(xs, ys, &dx, &dy)
                } else {
                    pyramid.repel(xs, ys, &dx, &dy, scratch: &scratch[0])
                }
                // Attraction d²/k along each edge (k = 1), each edge once.
                for i in 0..<s {
                    for e in off[i]..<off[i + 1] {
                        let j = Int(adj[e])
                        guard j > i else { continue }
                        let ex = xs[i] - xs[j], ey = ys[i] - ys[j]
                        let d = (ex * ex + ey * ey).squareRoot()
                        dx[i] -= ex * d; dy[i] -= ey * d
                        dx[j] += ex * d; dy[j] += ey * d
                    }
                }
            }
            for i in 0..<s {
                let len = (dx[i] * dx[i] + dy[i] * dy[i]).squareRoot()
                if len > 0 {
                    let step = min(len, t) / len
                    xs[i] += dx[i] * step
                    ys[i] += dy[i] * step
                }
            }
            t -= dt
        }

        var minX = xs[0], minY = ys[0], maxX = xs[0], maxY = ys[0]
        for i in 0..<s {
            minX = min(minX, xs[i]); maxX = max(maxX, xs[i])
            minY = min(minY, ys[i]); maxY = max(maxY, ys[i])
        }
        for i in 0..<s { xs[i] -= minX; ys[i] -= minY }
        return LaidComponent(members: members, xs: xs, ys: ys,
                             width: maxX - minX, height: maxY - minY)
    }

    /// Node `i`'s attraction, gathered: its neighbours in index order, the lower ones' terms
    /// added and its own for the higher ones subtracted, each computed as the edge loop
    /// computes it (from the lower node's side), so the sum has the same bits.
    @inline(__always)
    static func attract(_ i: Int, _ xs: UnsafeBufferPointer<Double>, _ ys: UnsafeBufferPointer<Double>,
                        _ dx: UnsafeMutableBufferPointer<Double>, _ dy: UnsafeMutableBufferPointer<Double>,
                        _ off: UnsafeBufferPointer<Int>, _ adj: UnsafeBufferPointer<Int32>) {
        var ax = dx[i], ay = dy[i]
        for e in off[i]..<off[i + 1] {
            let j = Int(adj[e])
            if j < i {
                let ex = xs[j] - xs[i], ey = ys[j] - ys[i]
                let d = (ex * ex + ey * ey).squareRoot()
                ax += ex * d; ay += ey * d
            } else if j > i {
                let ex = xs[i] - xs[j], ey = ys[i] - ys[j]
                let d = (ex * ex + ey * ey).squareRoot()
                ax -= ex * d; ay -= ey * d
            }
        }
        dx[i] = ax; dy[i] = ay
    }

    /// k²/d along the unit vector, every pair (k = 1).
    static func repelExact(_ xs: [Double], _ ys: [Double], _ dx: inout [Double], _ dy: inout [Double]) {
        let s = xs.count
        xs.withUnsafeBufferPointer { xs in
        ys.withUnsafeBufferPointer { ys in
        dx.withUnsafeMutableBufferPointer { dx in
        dy.withUnsafeMutableBufferPointer { dy in
            for i in 0..<s {
                let xi = xs[i], yi = ys[i]
                var ax = 0.0, ay = 0.0
                for j in (i + 1)..<s {
                    var ex = xi - xs[j], ey = yi - ys[j]
                    var d2 = ex * ex + ey * ey
                    if d2 < 1e-12 { ex = 1e-3; ey = 5e-4; d2 = ex * ex + ey * ey }
                    let f = 1 / d2
                    ax += ex * f; ay += ey * f
                    dx[j] -= ex * f; dy[j] -= ey * f
                }
                dx[i] += ax; dy[i] += ay
            }
        }}}}
    }

    /// Repulsion beyond `exactRepulsionLimit` nodes: a pyramid of uniform grids over the
    /// component's bounding square (finest level ≈ 2 nodes per cell). Nodes in the 3 × 3
    /// finest cells around a node repel it exactly; every other node is reached, exactly
    /// once, through a cell's centre of mass: at each level the children of the parent's
    /// 3 × 3 neighbours that are not the cell's own 3 × 3 neighbours (≤ 27 per level, as
    /// in a fast multipole interaction list). Cells that act as one body are at least one
    /// cell width away. The lists are built once per finest cell and shared by its nodes,
    /// so the inner loops are flat. (A flat grid with FR's 2k cut-off was tried first:
    /// without long-range repulsion a dense component collapses into a crowded ball; a
    /// per-node Barnes–Hut traversal was 3–4× slower than this.) Buffers are kept
    /// between iterations.
    struct CellPyramid {
        var mass: [Double] = [], sumX: [Double] = [], sumY: [Double] = []
        var cellStart: [Int] = []
        var items: [Int32] = []
        var cellOf: [Int32] = []
        /// The finest level's cells a side (set by ``prepare(_:_:)``).
        var top = 0, side = 0

        /// A worker's lists for one cell at a time.
        struct Scratch {
            var far: [Double] = []      // (x, y, mass) triples
            var near: [Int32] = []
        }

        @inline(__always)
        static func levelOffset(_ level: Int) -> Int { ((1 << (2 * level)) - 1) / 3 }

        var cellCount: Int { side * side }

        /// The nodes in finest cell `k`.
        func members(of k: Int) -> ArraySlice<Int32> { items[cellStart[k]..<cellStart[k + 1]] }

        mutating func repel(_ xs: [Double], _ ys: [Double], _ dx: inout [Double], _ dy: inout [Double], scratch: inout Scratch) {
            prepare(xs, ys)
            xs.withUnsafeBufferPointer { xs in
            ys.withUnsafeBufferPointer { ys in
            dx.withUnsafeMutableBufferPointer { dx in
            dy.withUnsafeMutableBufferPointer { dy in
                for k in 0..<cellCount { repelCell(k, xs, ys, dx, dy, scratch: &scratch) }
            }}}}
        }

        /// Bins the nodes into the finest cells and sums every level's masses.
        mutating func prepare(_ xs: [Double], _ ys: [Double]) {
            let n = xs.count
            top = 1
            while top < 10 && (1 << (2 * (top + 1))) <= n / 2 { top += 1 }
            side = 1 << top
            let top = self.top, side = self.side
            let total = CellPyramid.levelOffset(top + 1)
            let finest = CellPyramid.levelOffset(top)

            var minX = xs[0], minY = ys[0], maxX = xs[0], maxY = ys[0]
            for i in 0..<n {
                minX = min(minX, xs[i]); maxX = max(maxX, xs[i])
                minY = min(minY, ys[i]); maxY = max(maxY, ys[i])
            }
            let cell = max(maxX - minX, maxY - minY, 1e-9) * 1.000001 / Double(side)

            if mass.count != total {
                mass = [Double](repeating: 0, count: total)
                sumX = mass
                sumY = mass
                cellStart = [Int](repeating: 0, count: side * side + 1)
            } else {
                for k in 0..<total { mass[k] = 0; sumX[k] = 0; sumY[k] = 0 }
                for k in 0...(side * side) { cellStart[k] = 0 }
            }
            if cellOf.count != n {
                cellOf = [Int32](repeating: 0, count: n)
                items = cellOf
            }
            for i in 0..<n {
                let cx = min(side - 1, Int((xs[i] - minX) / cell))
                let cy = min(side - 1, Int((ys[i] - minY) / cell))
                let k = cy * side + cx
                cellOf[i] = Int32(k)
                mass[finest + k] += 1
                sumX[finest + k] += xs[i]
                sumY[finest + k] += ys[i]
                cellStart[k + 1] += 1
            }
            for k in 0..<(side * side) { cellStart[k + 1] += cellStart[k] }
            var fill = cellStart
            for i in 0..<n {
                let k = Int(cellOf[i])
                items[fill[k]] = Int32(i)
                fill[k] += 1
            }
            // Coarser levels from their children.
            var level = top - 1
            while level >= 0 {
                let w = 1 << level
                let off = CellPyramid.levelOffset(level)
                let childOff = CellPyramid.levelOffset(level + 1)
                for y in 0..<w {
                    for x in 0..<w {
                        let a = childOff + 2 * y * 2 * w + 2 * x   // (2x, 2y)
                        let b = a + 2 * w                             // (2x, 2y + 1)
                        let m = mass[a] + mass[a + 1] + mass[b] + mass[b + 1]
                        let sx = sumX[a] + sumX[a + 1] + sumX[b] + sumX[b + 1]
                        let sy = sumY[a] + sumY[a + 1] + sumY[b] + sumY[b + 1]
                        mass[off + y * w + x] = m
                        sumX[off + y * w + x] = sx
                        sumY[off + y * w + x] = sy
                    }
                }
                level -= 1
            }

        }

        /// The repulsion on the nodes of finest cell `k` (added to their `dx`, `dy`: once each).
        func repelCell(_ k: Int, _ xs: UnsafeBufferPointer<Double>, _ ys: UnsafeBufferPointer<Double>,
                       _ dx: UnsafeMutableBufferPointer<Double>, _ dy: UnsafeMutableBufferPointer<Double>, scratch: inout Scratch) {
            let cy = k / side, cx = k % side
            guard cellStart[k + 1] > cellStart[k] else { return }
            scratch.far.removeAll(keepingCapacity: true)
            scratch.near.removeAll(keepingCapacity: true)
            for level in stride(from: top, through: 2, by: -1) {
                let shift = top - level
                let w = 1 << level
                let off = CellPyramid.levelOffset(level)
                let ax = cx >> shift, ay = cy >> shift
                let px = ax >> 1, py = ay >> 1
                for qy in max(0, 2 * py - 2)...min(w - 1, 2 * py + 3) {
                    for qx in max(0, 2 * px - 2)...min(w - 1, 2 * px + 3) {
                        guard abs(qx - ax) > 1 || abs(qy - ay) > 1 else { continue }
                        let c = off + qy * w + qx
                        let m = mass[c]
                        guard m > 0 else { continue }
                        scratch.far.append(sumX[c] / m)
                        scratch.far.append(sumY[c] / m)
                        scratch.far.append(m)
                    }
                }
            }
            for qy in max(0, cy - 1)...min(side - 1, cy + 1) {
                for qx in max(0, cx - 1)...min(side - 1, cx + 1) {
                    let q = qy * side + qx
                    for p in cellStart[q]..<cellStart[q + 1] { scratch.near.append(items[p]) }
                }
            }
            CellPyramid.apply(cellStart[k]..<cellStart[k + 1], items, scratch.far, scratch.near, xs, ys, dx, dy)
        }

        static func apply(_ range: Range<Int>, _ items: [Int32], _ far: [Double], _ near: [Int32],
                          _ xs: UnsafeBufferPointer<Double>, _ ys: UnsafeBufferPointer<Double>,
                          _ dx: UnsafeMutableBufferPointer<Double>, _ dy: UnsafeMutableBufferPointer<Double>) {
            let farCount = far.count / 3
            items.withUnsafeBufferPointer { items in
            far.withUnsafeBufferPointer { far in
            near.withUnsafeBufferPointer { near in
                for p in range {
                    let i = Int(items[p])
                    let xi = xs[i], yi = ys[i]
                    var ax = 0.0, ay = 0.0
                    for f in 0..<farCount {
                        let ex = xi - far[3 * f], ey = yi - far[3 * f + 1]
                        let k = far[3 * f + 2] / (ex * ex + ey * ey)
                        ax += ex * k; ay += ey * k
                    }
                    for q in 0..<near.count {
                        let j = Int(near[q])
                        guard j != i else { continue }
                        var ex = xi - xs[j], ey = yi - ys[j]
                        var d2 = ex * ex + ey * ey
                        if d2 < 1e-12 {
                            ex = i < j ? 1e-3 : -1e-3
                            ey = i < j ? 5e-4 : -5e-4
                            d2 = ex * ex + ey * ey
                        }
                        let k = 1 / d2
                        ax += ex * k; ay += ey * k
                    }
                    dx[i] += ax; dy[i] += ay
                }
            }}}
        }
    }

    /// What the workers of one iteration share: positions read by all, forces written only for
    /// the nodes of each worker's own cells, a scratch a worker.
    struct LayoutShared: @unchecked Sendable {
        let xs: UnsafeBufferPointer<Double>, ys: UnsafeBufferPointer<Double>
        let dx: UnsafeMutableBufferPointer<Double>, dy: UnsafeMutableBufferPointer<Double>
        let off: UnsafeBufferPointer<Int>, adj: UnsafeBufferPointer<Int32>
        let scratch: UnsafeMutableBufferPointer<CellPyramid.Scratch>
    }

    // MARK: - Helpers

    @inline(__always)
    static func clamp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        v.isFinite ? min(max(v, lo), hi) : lo
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func splitmix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// [0, 1) from the top 53 bits.
    static func unit(_ x: UInt64) -> Double { Double(x >> 11) * 0x1p-53 }
}
