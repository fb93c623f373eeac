import TrellisCore

/// The Merkle tree of RFC 9162 (Certificate Transparency v2) §2.1 over the event hashes, in
/// seq order: leaf i is event seq i + 1.
///
///     leaf  = SHA-256(0x00 ‖ event hash)          (32 raw bytes of the event's chain hash)
///     node  = SHA-256(0x01 ‖ left ‖ right)
///     MTH({}) = SHA-256(""),  MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of 2 < n
///
/// The chain hash already commits to the whole log; the tree adds short proofs: that one event
/// is in a published tree (inclusion, log₂ n hashes) and that a later tree extends an earlier
/// one (consistency), without handing over the log.
///
/// Everything here streams the leaves once: a root is computed with a stack of perfect
/// subtrees (O(log n) memory); a proof's hashes are the roots of disjoint ranges of leaves,
/// all computed in the same single pass, and the tree roots are then folded from the proof.
///
/// ## Topics
/// - ``leafHash(_:)``
/// - ``root(size:leaves:)``
/// - ``inclusionProof(index:size:leaves:)``
/// - ``consistencyProof(oldSize:newSize:leaves:)``
/// - ``rootFromInclusion(leafIndex:treeSize:leafHash:path:)``
/// - ``verifyConsistency(oldSize:newSize:oldRoot:newRoot:path:)``
public enum MerkleTree {
    /// A node's 32 bytes, inline. Hashed straight through swift-crypto's BoringSSL
    /// (``ChainSHA256``), as the chain is: `Crypto.SHA256` allocated and zeroed a context for each
    /// of the tree's two million hashes at 1 M events.
    public typealias Digest = Digest32

    /// Streams the event hashes (32 bytes each) of leaves 0..<size, in order, to `body`.
    public typealias Leaves = (_ size: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// SHA-256(0x00 ‖ event hash).
    public static func leafHash(_ eventHash: UnsafeRawBufferPointer) -> Digest {
        // An event hash is 32 bytes (a damaged one may be any length): prefix and hash are laid
        // side by side on the stack and hashed in one call.
        guard eventHash.count <= 64 else { return withUnsafeBytes(of: UInt8(0)) { ChainSHA256.digest($0, eventHash) } }
        return withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            buffer[0] = 0
            if let from = eventHash.baseAddress, let to = buffer.baseAddress { (to + 1).copyMemory(from: from, byteCount: eventHash.count) }
            return ChainSHA256.digest(UnsafeRawBufferPointer(rebasing: buffer[0..<(1 + eventHash.count)]))
        }
    }

    public static func leafHash(_ eventHash: [UInt8]) -> Digest {
        eventHash.withUnsafeBytes { leafHash($0) }
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: Digest, _ right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            buffer[0] = 1
            left.withUnsafeBufferPointer { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: UnsafeRawBufferPointer($0)) }
            right.withUnsafeBufferPointer { UnsafeMutableRawBufferPointer(rebasing: buffer[33..<65]).copyMemory(from: UnsafeRawBufferPointer($0)) }
            return ChainSHA256.digest(UnsafeRawBufferPointer(buffer))
        }
    }

    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        let bytes: [UInt8] = [1] + left + right
        return bytes.withUnsafeBytes { ChainSHA256.digest($0).bytes }
    }

    /// MTH of the empty tree: SHA-256 of no bytes.
    public static var emptyRoot: Digest { ChainSHA256.digest(UnsafeRawBufferPointer(start: nil, count: 0)) }

    /// The root of a tree grown leaf by leaf: a stack of perfect subtrees, largest first.
    struct Accumulator {
        private var stack: [(hash: Digest, size: Int)] = []
        private(set) var count = 0

        mutating func append(_ leaf: Digest) {
            var hash = leaf
            var size = 1
            while let top = stack.last, top.size == size {
                stack.removeLast()
                hash = MerkleTree.node(top.hash, hash)
                size <<= 1
            }
            stack.append((hash, size))
            count += 1
        }

        /// Folding right to left is exactly MTH's largest-power-of-two split.
        var root: Digest {
            guard var r = stack.last?.hash else { return MerkleTree.emptyRoot }
            for entry in stack.dropLast().reversed() { r = MerkleTree.node(entry.hash, r) }
            return r
        }
    }

    /// The root of the first `size` leaves.
    public static func root(size: Int, leaves: Leaves) throws -> Digest {
        var acc = Accumulator()
        try leaves(size) { acc.append(leafHash($0)) }
        guard acc.count == size else { throw Failure(description: "only \(acc.count) leaves where \(size) were expected") }
        return acc.root
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    // MARK: - Proofs

    /// PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, as the leaf ranges whose roots it lists, leaf to root.
    static func inclusionRanges(_ m: Int, _ lo: Int, _ hi: Int) -> [Range<Int>] {
        let n = hi - lo
        guard n > 1 else { return [] }
        let k = largestPowerOfTwo(below: n)
        if m - lo < k { return inclusionRanges(m, lo, lo + k) + [(lo + k)..<hi] }
        return inclusionRanges(m, lo + k, hi) + [lo..<(lo + k)]
    }

    /// SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1, as leaf ranges. `terminal` receives
    /// D[0:m] when it is a complete subtree the proof leaves out (b still true): its root is the old root.
    static func consistencyRanges(_ m: Int, _ lo: Int, _ hi: Int, _ b: Bool, terminal: inout Range<Int>?) -> [Range<Int>] {
        let n = hi - lo
        if m == n {
            if b { terminal = lo..<hi; return [] }
            return [lo..<hi]
        }
        let k = largestPowerOfTwo(below: n)
        if m <= k { return consistencyRanges(m, lo, lo + k, b, terminal: &terminal) + [(lo + k)..<hi] }
        return consistencyRanges(m - k, lo + k, hi, false, terminal: &terminal) + [lo..<(lo + k)]
    }

    /// One pass over the leaves: the root of each (disjoint) range, and the leaf at `single`.
    static func rangeRoots(_ ranges: [Range<Int>], size: Int, single: Int?, leaves: Leaves)
        throws -> (roots: [Digest], leaf: Digest?, eventHash: [UInt8]?) {
        let order = ranges.indices.sorted { ranges[$0].lowerBound < ranges[$1].lowerBound }
        var roots = [Digest?](repeating: nil, count: ranges.count)
        var next = 0                      // position in `order`
        var current: Accumulator?
        var index = 0
        var leaf: Digest?
        var eventHash: [UInt8]?
        try leaves(size) { hash in
            defer { index += 1 }
            let l = leafHash(hash)
            if index == single { leaf = l; eventHash = Array(hash) }
            guard next < order.count else { return }
            let range = ranges[order[next]]
            guard range.contains(index) else { return }
            if current == nil { current = Accumulator() }
            current!.append(l)
            if index == range.upperBound - 1 {
                roots[order[next]] = current!.root
                current = nil
                next += 1
            }
        }
        guard index == size else { throw Failure(description: "only \(index) leaves where \(size) were expected") }
        return (roots.map { $0 ?? emptyRoot }, leaf, eventHash)
    }

    public struct InclusionProof: Sendable, Equatable {
        public var leafIndex: Int
        public var treeSize: Int
        /// The Trellis event hash whose leaf this is; nil for RFC 9162's own form (a leaf hash only).
        public var eventHash: [UInt8]?
        public var leafHash: [UInt8]
        public var root: [UInt8]
        public var auditPath: [[UInt8]]
    }

    public struct ConsistencyProof: Sendable, Equatable {
        public var oldSize: Int
        public var newSize: Int
        public var oldRoot: [UInt8]
        public var newRoot: [UInt8]
        public var path: [[UInt8]]
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves, with the root.
    public static func inclusionProof(index: Int, size: Int, leaves: Leaves) throws -> InclusionProof {
        guard index >= 0, index < size else { throw Failure(description: "leaf \(index) is not in a tree of \(size) leaves") }
        let ranges = inclusionRanges(index, 0, size)
        let pass = try rangeRoots(ranges, size: size, single: index, leaves: leaves)
        guard let leaf = pass.leaf, let eventHash = pass.eventHash else { throw Failure(description: "leaf \(index) was not read") }
        let path = pass.roots.map { Array($0) }
        guard let root = rootFromInclusion(leafIndex: index, treeSize: size, leafHash: Array(leaf), path: path) else {
            throw Failure(description: "internal: the audit path does not fold to a root")
        }
        return InclusionProof(leafIndex: index, treeSize: size, eventHash: eventHash, leafHash: Array(leaf), root: root, auditPath: path)
    }

    /// The proof that the tree of `newSize` leaves extends the one of `oldSize`, with both roots.
    public static func consistencyProof(oldSize: Int, newSize: Int, leaves: Leaves) throws -> ConsistencyProof {
        guard oldSize >= 1, oldSize <= newSize else {
            throw Failure(description: "a consistency proof needs 1 ≤ old size ≤ new size (got \(oldSize) and \(newSize))")
        }
        if oldSize == newSize {
            let r = Array(try root(size: newSize, leaves: leaves))
            return ConsistencyProof(oldSize: oldSize, newSize: newSize, oldRoot: r, newRoot: r, path: [])
        }
        var terminal: Range<Int>?
        let ranges = consistencyRanges(oldSize, 0, newSize, true, terminal: &terminal)
        let pass = try rangeRoots(ranges + (terminal.map { [$0] } ?? []), size: newSize, single: nil, leaves: leaves)
        let path = pass.roots.prefix(ranges.count).map { Array($0) }
        let first = terminal != nil ? [Array(pass.roots[ranges.count])] : []
        guard let roots = rootsFromConsistency(oldSize: oldSize, newSize: newSize, path: first + path) else {
            throw Failure(description: "internal: the consistency path does not fold to two roots")
        }
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, oldRoot: roots.old, newRoot: roots.new, path: Array(path))
    }

    // MARK: - Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)

    /// The root an inclusion proof leads to, or nil when the path has the wrong length.
    public static func rootFromInclusion(leafIndex: Int, treeSize: Int, leafHash: [UInt8], path: [[UInt8]]) -> [UInt8]? {
        guard leafIndex >= 0, leafIndex < treeSize, leafHash.count == 32, path.allSatisfy({ $0.count == 32 }) else { return nil }
        var fn = leafIndex
        var sn = treeSize - 1
        var r = leafHash
        for p in path {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = node(p, r)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                r = node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { return nil }
        return r
    }

    /// Both roots a consistency path (with the old root prepended when the old size is a power
    /// of two) leads to; nil when it is malformed.
    static func rootsFromConsistency(oldSize: Int, newSize: Int, path: [[UInt8]]) -> (old: [UInt8], new: [UInt8])? {
        guard let start = path.first, path.allSatisfy({ $0.count == 32 }) else { return nil }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = start, sr = start
        for c in path.dropFirst() {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                fr = node(c, fr)
                sr = node(c, sr)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                sr = node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { return nil }
        return (fr, sr)
    }

    /// RFC 9162 §2.1.4.2; a tree is consistent with itself when the path is empty and the roots equal.
    /// From size 0 there is no proof (RFC 9162): false.
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: [UInt8], newRoot: [UInt8], path: [[UInt8]]) -> Bool {
        guard oldSize >= 1 else { return false }
        if oldSize == newSize { return path.isEmpty && oldRoot == newRoot }
        guard oldSize >= 1, oldSize < newSize, !path.isEmpty else { return false }
        let full = oldSize & (oldSize - 1) == 0 ? [oldRoot] + path : path
        guard let roots = rootsFromConsistency(oldSize: oldSize, newSize: newSize, path: full) else { return false }
        return roots.old == oldRoot && roots.new == newRoot
    }

    public static func verifyInclusion(leafIndex: Int, treeSize: Int, leafHash: [UInt8], path: [[UInt8]], root: [UInt8]) -> Bool {
        rootFromInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, path: path) == root
    }
}
