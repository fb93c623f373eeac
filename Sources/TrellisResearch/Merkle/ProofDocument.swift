import GRDB
import GRDBSQLite
import TrellisLedger

/// Proofs as JSON documents (what `trellis proof` prints and `proof check` and
/// `tools/verify_proof.py` read). Hashes are lowercase hex.
///
///     {"proof": "inclusion", "tree": "...", "seq": 5, "leaf_index": 4, "tree_size": 9,
///      "event_hash": "…", "leaf_hash": "…", "root": "…", "audit_path": ["…", …]}
///     {"proof": "consistency", "tree": "...", "old_size": 4, "new_size": 9,
///      "old_root": "…", "new_root": "…", "path": ["…", …]}
///     {"proof": "root", "tree": "...", "tree_size": 9, "root": "…"}
///
/// ## Topics
/// - ``json``
/// - ``parse(_:)``
/// - ``check(expectedRoot:)``
public enum ProofDocument: Sendable, Equatable {
    case inclusion(MerkleTree.InclusionProof)
    case consistency(MerkleTree.ConsistencyProof)
    case root(size: Int, root: [UInt8])

    public static let treeDescription = "RFC 9162 §2.1 Merkle tree over the event hashes in seq order: leaf = SHA-256(0x00 ‖ event hash), node = SHA-256(0x01 ‖ left ‖ right); leaf_index = seq - 1"

    public var json: JSONValue {
        func hex(_ b: [UInt8]) -> JSONValue { .string(Hex.encode(b)) }
        switch self {
        case .inclusion(let p):
            return .object(JSONObject([
                ("proof", .string("inclusion")), ("tree", .string(Self.treeDescription)),
                ("seq", .int(Int64(p.leafIndex + 1))), ("leaf_index", .int(Int64(p.leafIndex))), ("tree_size", .int(Int64(p.treeSize))),
                ("event_hash", hex(p.eventHash)), ("leaf_hash", hex(p.leafHash)), ("root", hex(p.root)),
                ("audit_path", .array(p.auditPath.map(hex))),
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
            let eventHash = try hash("event_hash")
            let leaf = o["leaf_hash"] != nil ? try hash("leaf_hash") : Array(MerkleTree.leafHash(eventHash))
            return .inclusion(.init(leafIndex: try int("leaf_index"), treeSize: try int("tree_size"), eventHash: eventHash,
                                    leafHash: leaf, root: try hash("root"), auditPath: try hashes("audit_path")))
        case "consistency":
            return .consistency(.init(oldSize: try int("old_size"), newSize: try int("new_size"), oldRoot: try hash("old_root"),
                                      newRoot: try hash("new_root"), path: try hashes("path")))
        case "root":
            return .root(size: try int("tree_size"), root: try hash("root"))
        default:
            throw Malformed(description: "\"proof\" must be \"inclusion\", \"consistency\" or \"root\"")
        }
    }

    /// nil when the proof holds (and its root is `expectedRoot`, when given); else why not.
    public func check(expectedRoot: [UInt8]? = nil) -> String? {
        switch self {
        case .inclusion(let p):
            if p.treeSize == 0 || p.leafIndex >= p.treeSize { return "leaf_index \(p.leafIndex) is not in a tree of size \(p.treeSize)" }
            if Array(MerkleTree.leafHash(p.eventHash)) != p.leafHash { return "leaf_hash is not SHA-256(0x00 ‖ event_hash)" }
            guard let root = MerkleTree.rootFromInclusion(leafIndex: p.leafIndex, treeSize: p.treeSize, leafHash: p.leafHash, path: p.auditPath) else {
                return "the audit path has the wrong length for leaf \(p.leafIndex) of \(p.treeSize)"
            }
            if root != p.root { return "the audit path leads to root \(Hex.encode(root)), not \(Hex.encode(p.root))" }
            if let expectedRoot, expectedRoot != p.root { return "the proof's root \(Hex.encode(p.root)) is not the expected \(Hex.encode(expectedRoot))" }
        case .consistency(let p):
            if !MerkleTree.verifyConsistency(oldSize: p.oldSize, newSize: p.newSize, oldRoot: p.oldRoot, newRoot: p.newRoot, path: p.path) {
                return "the path does not prove that the tree of \(p.newSize) (root \(Hex.encode(p.newRoot).prefix(16))…) extends the tree of \(p.oldSize) (root \(Hex.encode(p.oldRoot).prefix(16))…)"
            }
            if let expectedRoot, expectedRoot != p.newRoot { return "the proof's new root \(Hex.encode(p.newRoot)) is not the expected \(Hex.encode(expectedRoot))" }
        case .root(_, let root):
            if let expectedRoot, expectedRoot != root { return "the root \(Hex.encode(root)) is not the expected \(Hex.encode(expectedRoot))" }
        }
        return nil
    }
}

/// Where the leaves come from: a ledger's events, or an archive's.
public enum MerkleLeaves {
    /// The event hashes of `ledger`, seq 1 onwards, in one read transaction.
    public static func ledger(_ ledger: Ledger) -> MerkleTree.Leaves {
        { size, body in
            try ledger.database.read { db in
                let stmt = try db.makeStatement(sql: "SELECT hash FROM events WHERE seq <= ? ORDER BY seq")
                let s = stmt.sqliteStatement
                Raw.bind(s, 1, Int64(size))
                defer { sqlite3_reset(s) }
                while try Raw.step(s, db) {
                    guard let h = Raw.column(s, 0), h.count == 32 else { throw MerkleTree.Failure(description: "an event's stored hash is not 32 bytes (run trellis verify)") }
                    try body(UnsafeRawBufferPointer(h))
                }
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
