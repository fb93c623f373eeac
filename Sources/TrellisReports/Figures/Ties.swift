/// The kinds of collaboration tie (DOMAIN.md, "Collaboration ties").
public enum TieKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Undirected: both present at a meeting of the network.
    case coAttendance = "co_attendance"
    /// Directed adopter → sharer: an adoption of a document shared in the network.
    case document
    /// Directed reviewer → reviewee: a completed review of the network, one per reviewer.
    case review

    public static func < (a: TieKind, b: TieKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Tie weights among a fixed set of organisations (the graph's nodes), counted from the
/// rows of one period and set of networks. Ties with an organisation outside the set
/// (guests, former members) are left out, as DOMAIN.md says.
///
/// Co-attendance is counted per meeting over the organisations present, in a dense
/// triangular matrix: a year of a large region has millions of co-present pairs, and a
/// dictionary per increment would dominate the report's time.
///
/// ## Topics
/// - ``count(nodes:period:networks:meetings:attendance:adoptions:reviews:)``
/// - ``coAttendance(_:_:)``
/// - ``document(from:to:)``
/// - ``review(from:to:)``
public struct TieTally: Sendable {
    /// The organisations, sorted.
    public let nodes: [String]
    let index: [String: Int]
    private var co: PairCounts
    private var documentTies: [DirectedPair: Int] = [:]
    private var reviewTies: [DirectedPair: Int] = [:]

    struct DirectedPair: Hashable, Sendable {
        let from: Int32
        let to: Int32
    }

    public init(nodes: [String]) {
        let sorted = Array(Set(nodes)).sorted()
        self.nodes = sorted
        var index: [String: Int] = [:]
        for (i, n) in sorted.enumerated() { index[n] = i }
        self.index = index
        co = PairCounts(count: sorted.count)
    }

    /// Counts every tie of DOMAIN.md among `nodes` over `period` in `networks`.
    /// - Parameters:
    ///   - meetings: meetings; only those of the networks with day in the period count.
    ///   - attendance: meeting → organisation → status (`attendance_by_org`).
    ///   - adoptions: adoptions (any network); only adoptions in the period of documents
    ///     shared in the networks count.
    ///   - reviews: reviews (any network); only completions in the period count.
    public static func count(nodes: [String], period: Period, networks: Set<String>,
                             meetings: [MeetingRow], attendance: [String: [String: AttendanceStatus]],
                             adoptions: [AdoptionRow], reviews: [ReviewRow]) -> TieTally {
        var t = TieTally(nodes: nodes)
        var present: [Int] = []
        for m in meetings where networks.contains(m.network) && period.contains(m.day) {
            present.removeAll(keepingCapacity: true)
            for (org, status) in attendance[m.id] ?? [:] where status == .present {
                if let i = t.index[org] { present.append(i) }
            }
            t.co.addAllPairs(of: &present)
        }
        for a in adoptions where networks.contains(a.network) && period.contains(a.adoptedOn) {
            guard a.sharer != a.adopter, let i = t.index[a.adopter], let j = t.index[a.sharer] else { continue }
            t.documentTies[DirectedPair(from: Int32(i), to: Int32(j)), default: 0] += 1
        }
        for r in reviews where networks.contains(r.network) {
            guard let done = r.completedOn, period.contains(done), let j = t.index[r.reviewee] else { continue }
            for o in r.reviewers where o != r.reviewee {
                if let i = t.index[o] { t.reviewTies[DirectedPair(from: Int32(i), to: Int32(j)), default: 0] += 1 }
            }
        }
        return t
    }

    /// Meetings at which both were present.
    public func coAttendance(_ a: String, _ b: String) -> Int {
        guard let i = index[a], let j = index[b], i != j else { return 0 }
        return co[min(i, j), max(i, j)]
    }

    /// Adoptions by `adopter` of documents `sharer` shared.
    public func document(from adopter: String, to sharer: String) -> Int {
        guard let i = index[adopter], let j = index[sharer] else { return 0 }
        return documentTies[DirectedPair(from: Int32(i), to: Int32(j))] ?? 0
    }

    /// Completed reviews of `reviewee` with `reviewer` among the reviewers.
    public func review(from reviewer: String, to reviewee: String) -> Int {
        guard let i = index[reviewer], let j = index[reviewee] else { return 0 }
        return reviewTies[DirectedPair(from: Int32(i), to: Int32(j))] ?? 0
    }

    /// Undirected weights per pair of node indices (i < j), by kind, for every pair with a
    /// tie of any kind; ordered by (i, j).
    func pairs() -> [(i: Int, j: Int, co: Int, document: Int, review: Int)] {
        var extra: [Int: [Int: (Int, Int)]] = [:]   // i → j → (document, review), i < j
        for (p, w) in documentTies {
            let (i, j) = (Int(min(p.from, p.to)), Int(max(p.from, p.to)))
            extra[i, default: [:]][j, default: (0, 0)].0 += w
        }
        for (p, w) in reviewTies {
            let (i, j) = (Int(min(p.from, p.to)), Int(max(p.from, p.to)))
            extra[i, default: [:]][j, default: (0, 0)].1 += w
        }
        var out: [(i: Int, j: Int, co: Int, document: Int, review: Int)] = []
        for i in 0..<nodes.count {
            let coRow = co.row(i)
            let others = (extra[i] ?? [:]).sorted { $0.key < $1.key }
            // Merge two lists sorted by j.
            var a = 0, b = 0
            while a < coRow.count || b < others.count {
                let ja = a < coRow.count ? coRow[a].j : Int.max
                let jb = b < others.count ? others[b].key : Int.max
                if ja < jb {
                    out.append((i, ja, coRow[a].count, 0, 0)); a += 1
                } else if jb < ja {
                    out.append((i, jb, 0, others[b].value.0, others[b].value.1)); b += 1
                } else {
                    out.append((i, ja, coRow[a].count, others[b].value.0, others[b].value.1)); a += 1; b += 1
                }
            }
        }
        return out
    }

    /// The directed review ties (reviewer → reviewee), ordered by (from, to).
    func directedReviewTies() -> [(from: String, to: String, weight: Int)] {
        reviewTies.sorted { ($0.key.from, $0.key.to) < ($1.key.from, $1.key.to) }
            .map { (nodes[Int($0.key.from)], nodes[Int($0.key.to)], $0.value) }
    }
}

/// Counts per unordered pair of indices: a dense upper-triangular matrix while it fits
/// (up to 6,000 nodes, 72 MB), a dictionary beyond.
struct PairCounts: Sendable {
    let n: Int
    private var dense: [UInt32]
    private var sparse: [Int: [Int: UInt32]] = [:]
    private let isDense: Bool

    init(count n: Int) {
        self.n = n
        isDense = n <= 6000
        dense = isDense ? [UInt32](repeating: 0, count: max(0, n * (n - 1) / 2)) : []
    }

    @inline(__always)
    private func slot(_ i: Int, _ j: Int) -> Int { i * n - i * (i + 1) / 2 + (j - i - 1) }

    subscript(i: Int, j: Int) -> Int {
        isDense ? Int(dense[slot(i, j)]) : Int(sparse[i]?[j] ?? 0)
    }

    /// +1 for every pair of the (distinct) indices; sorts them.
    mutating func addAllPairs(of indices: inout [Int]) {
        guard indices.count > 1 else { return }
        indices.sort()
        let k = indices.count
        if isDense {
            dense.withUnsafeMutableBufferPointer { d in
                for a in 0..<(k - 1) {
                    let i = indices[a]
                    let base = i * n - i * (i + 1) / 2 - i - 1
                    for b in (a + 1)..<k { d[base + indices[b]] &+= 1 }
                }
            }
        } else {
            for a in 0..<(k - 1) { for b in (a + 1)..<k { sparse[indices[a], default: [:]][indices[b], default: 0] += 1 } }
        }
    }

    /// The pairs (i, j > i) with a non-zero count, by j.
    func row(_ i: Int) -> [(j: Int, count: Int)] {
        guard i < n - 1 else { return [] }
        var out: [(j: Int, count: Int)] = []
        if isDense {
            let base = slot(i, i + 1)
            dense.withUnsafeBufferPointer { d in
                for j in (i + 1)..<n where d[base + j - i - 1] != 0 { out.append((j, Int(d[base + j - i - 1]))) }
            }
        } else {
            out = (sparse[i] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, Int($0.value)) }
        }
        return out
    }
}
