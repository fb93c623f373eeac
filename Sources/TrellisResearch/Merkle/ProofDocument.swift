import TrellisLedger
import TrellisCore

/// Proofs as JSON documents (what `trellis proof` prints and `proof check` and
/// `tools/verify_proof.py` read). Hashes are lowercase hex.
///
///     {"proof": "inclusion", "tree": "...", "seq": 5, "leaf_index": 4, "tree_size": 9,
///      "event_hash": "…", "leaf_hash": "…", "root": "…", "audit_path": ["…", …]}
///     {"proof": "inclusion", "leaf_index": 4, "tree_size": 9, "leaf_hash": "…", "root": "…",
///      "audit_path": [...]}                                     (RFC 9162's own form, any log)
///     {"proof": "consistency", "tree": "...", "old_size": 4, "new_size": 9,
///      "old_root": "…", "new_root": "…", "path": ["…", …]}
///     {"proof": "root", "tree": "...", "tree_size": 9, "root": "…"}
///
/// ## Topics
/// - ``json``
/// - ``parse(_:)``
/// - ``check(expectedRoot:expectedOldRoot:)``
public enum ProofDocument: Sendable, Equatable {
    /// `seq`, when the document states one, must be leaf_index + 1.
    case inclusion(MerkleTree.InclusionProof, seq: Int? = nil)
    case consistency(MerkleTree.ConsistencyProof)
    case root(size: Int, root: [UInt8])

    public static let treeDescription = "RFC 9162 §2.1 Merkle tree over the event hashes in seq order: leaf = SHA-256(0x00 ‖ event hash), node = SHA-256(0x01 ‖ left ‖ right); leaf_index = seq - 1"

    public var json: JSONValue {
        func hex(_ b: [UInt8]) -> JSONValue { .string(Hex.encode(b)) }
        switch self {
        case .inclusion(let p, _):
            return .object(JSONObject([
                ("proof", .string("inclusion")), ("tree", .string(Self.treeDescription)),
                ("seq", .int(Int64(p.leafIndex + 1))), ("leaf_index", .int(Int64(p.leafIndex))), ("tree_size", .int(Int64(p.treeSize))),
            ] + (p.eventHash.map { [("event_hash", hex($0))] } ?? []) + [
                ("leaf_hash", hex(p.leafHash)), ("root", hex(p.root)), ("audit_path", .array(p.auditPath.map(hex))),
            ]))
        case .consistency(let p):
            return .object(JSONObject([
                ("proof", .string("consistency")), ("tree", .string(Self.treeDescription)),
                ("old_size", .int(Int64(p.oldSize))), ("new_size", .int(Int64(p.newSize))),
                ("old_root", hex(p.oldRoot)), ("new_root", hex(p.newRoot)), ("path", .array(p.path.map(hex))),
            ]))
        case .root(let size, let root):
            return .object(JSONObject([
                ("proof", .string("root")), ("tree", .string(Self.treeDescription)),
                ("tree_size", .int(Int64(size))), ("root", hex(root)),
            ]))
        }
    }

    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func parse(_ text: String) throws(Malformed) -> ProofDocument {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw Malformed(description: "not JSON: \(error.message) at byte \(error.offset + 1)") }
        guard case .object(let o) = value else { throw Malformed(description: "not a JSON object") }
        func int(_ k: String) throws(Malformed) -> Int {
            guard let v = o.int(k), v >= 0 else { throw Malformed(description: "\(k) is missing or not a non-negative integer") }
            return Int(v)
        }
        func hash(_ k: String) throws(Malformed) -> [UInt8] {
            guard let s = o.string(k), s.utf8.count == 64, let b = Hex.decode(s) else { throw Malformed(description: "\(k) is missing or not 64 hex digits") }
            return b
        }
        func hashes(_ k: String) throws(Malformed) -> [[UInt8]] {
            guard let a = o[k]?.array else { throw Malformed(description: "\(k) is missing or not a list") }
            var out: [[UInt8]] = []
            for (i, v) in a.enumerated() {
                guard let s = v.string, s.utf8.count == 64, let b = Hex.decode(s) else { throw Malformed(description: "\(k)[\(i)] is not 64 hex digits") }
                out.append(b)
            }
            return out
        }
        switch o.string("proof") {
        case "inclusion":
            // Trellis proofs carry the event hash; RFC 9162's own form (any log's) only the leaf hash.
            let eventHash = o["event_hash"] != nil ? try hash("event_hash") : nil
            guard eventHash != nil || o["leaf_hash"] != nil else { throw Malformed(description: "an inclusion proof needs leaf_hash or event_hash") }
            let leaf = o["leaf_hash"] != nil ? try hash("leaf_hash") : eventHash.map { Array(MerkleTree.leafHash($0)) } ?? []
            // A seq that agrees with leaf_index says nothing more; one that does not is kept, and refused by check().
            let leafIndex = try int("leaf_index")
            let seq = o["seq"] != nil ? try int("seq") : nil
            return .inclusion(.init(leafIndex: leafIndex, treeSize: try int("tree_size"), eventHash: eventHash,
                                    leafHash: leaf, root: try hash("root"), auditPath: try hashes("audit_path")),
                              seq: seq == leafIndex + 1 ? nil : seq)
        case "consistency":
            return .consistency(.init(oldSize: try int("old_size"), newSize: try int("new_size"), oldRoot: try hash("old_root"),
                                      newRoot: try hash("new_root"), path: try hashes("path")))
        case "root":
            return .root(size: try int("tree_size"), root: try hash("root"))
        default:
            throw Malformed(description: "\"proof\" must be \"inclusion\", \"consistency\" or \"root\"")
        }
    }

    /// nil when the proof holds (and leads to `expectedRoot`, and for a consistency proof starts
    /// from `expectedOldRoot`, when given); else why not. A consistency proof's two roots are
    /// what it claims: only the roots you hold from elsewhere (`--old-root`, `--root`) anchor it.
    public func check(expectedRoot: [UInt8]? = nil, expectedOldRoot: [UInt8]? = nil) -> String? {
        switch self {
        case .inclusion(let p, let seq):
            if p.treeSize == 0 { return "a tree of size 0 is empty: no leaf is in it" }
            if p.leafIndex >= p.treeSize { return "leaf_index \(p.leafIndex) is not in a tree of size \(p.treeSize)" }
            if let seq, seq != p.leafIndex + 1 { return "seq \(seq) is not leaf_index + 1 (leaf_index is \(p.leafIndex))" }
            if let e = p.eventHash, Array(MerkleTree.leafHash(e)) != p.leafHash { return "leaf_hash is not SHA-256(0x00 ‖ event_hash)" }
            guard let root = MerkleTree.rootFromInclusion(leafIndex: p.leafIndex, treeSize: p.treeSize, leafHash: p.leafHash, path: p.auditPath) else {
                return "the audit path has the wrong length for leaf \(p.leafIndex) of \(p.treeSize)"
            }
            if root != p.root { return "the audit path leads to root \(Hex.encode(root)), not \(Hex.encode(p.root))" }
            if let expectedRoot, expectedRoot != p.root { return "the proof's root \(Hex.encode(p.root)) is not the expected \(Hex.encode(expectedRoot))" }
        case .consistency(let p):
            if p.oldSize == 0 {
                return "a consistency proof from size 0 proves nothing (RFC 9162 defines none: every tree extends the empty tree)"
            }
            if p.oldSize > p.newSize { return "old_size \(p.oldSize) is larger than new_size \(p.newSize)" }
            if !MerkleTree.verifyConsistency(oldSize: p.oldSize, newSize: p.newSize, oldRoot: p.oldRoot, newRoot: p.newRoot, path: p.path) {
                return "the path does not prove that the tree of \(p.newSize) (root \(Hex.encode(p.newRoot).prefix(16))…) extends the tree of \(p.oldSize) (root \(Hex.encode(p.oldRoot).prefix(16))…)"
            }
            if let expectedOldRoot, expectedOldRoot != p.oldRoot {
                return "the proof's old root \(Hex.encode(p.oldRoot)) (size \(p.oldSize)) is not the expected \(Hex.encode(expectedOldRoot))"
            }
            if let expectedRoot, expectedRoot != p.newRoot {
                let hint = expectedRoot == p.oldRoot && p.oldRoot != p.newRoot ? " (that is the proof's old root, of size \(p.oldSize): give it as --old-root)" : ""
                return "the proof's new root \(Hex.encode(p.newRoot)) (size \(p.newSize)) is not the expected \(Hex.encode(expectedRoot))\(hint)"
            }
        case .root(let size, let root):
            if size == 0 && root != Array(MerkleTree.emptyRoot) { return "the root of the empty tree is SHA-256 of no bytes (\(Hex.encode(Array(MerkleTree.emptyRoot)))), not \(Hex.encode(root))" }
            if let expectedRoot, expectedRoot != root { return "the root \(Hex.encode(root)) is not the expected \(Hex.encode(expectedRoot))" }
        }
        return nil
    }
}

/// Where the leaves come from: a ledger's events, or an archive's.
public enum MerkleLeaves {
    /// The event hashes of `ledger`, seq 1 onwards, in one read transaction.
    public static func ledger(_ ledger: any LedgerStore) -> MerkleTree.Leaves {
        { size, body in
            try ledger.hashes(from: 1, through: Int64(size)) { _, h in
                guard h.count == 32 else { throw MerkleTree.Failure(description: "an event's stored hash is not 32 bytes (run trellis verify)") }
                try h.withUnsafeBytes { try body($0) }
            }
        }
    }

    /// The event hashes of a verified archive (the whole archive is checked as it streams).
    public static func archive(_ path: String) -> MerkleTree.Leaves {
        { size, body in
            let reader = try ArchiveReader(path: path)
            var n = 0
            _ = try reader.read { e in
                guard n < size else { return }
                n += 1
                try e.hash.withUnsafeBytes { try body($0) }
            }
        }
    }
}
