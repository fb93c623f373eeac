import Crypto
import Foundation
import Testing
import TrellisCore
import TrellisLedger
import TrellisResearch

/// The RFC 9162 definitions, written out naively in Python (MTH, PATH, PROOF by recursion):
/// an independent reference for the streaming Swift implementation.
private let pythonReference = #"""
import hashlib, json, sys
from functools import lru_cache
H = lambda b: hashlib.sha256(b).digest()
LEAVES = [H(b"trellis leaf %d" % i) for i in range(70)]   # the "event hashes"

def k_of(n):
    k = 1
    while k * 2 < n: k *= 2
    return k

@lru_cache(maxsize=None)
def mth(lo, hi):
    n = hi - lo
    if n == 0: return H(b"")
    if n == 1: return H(b"\x00" + LEAVES[lo])
    k = k_of(n)
    return H(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))

def path(m, lo, hi):
    n = hi - lo
    if n <= 1: return []
    k = k_of(n)
    if m - lo < k: return path(m, lo, lo + k) + [mth(lo + k, hi)]
    return path(m, lo + k, hi) + [mth(lo, lo + k)]

def subproof(m, lo, hi, b):
    n = hi - lo
    if m == n: return [] if b else [mth(lo, hi)]
    k = k_of(n)
    if m <= k: return subproof(m, lo, lo + k, b) + [mth(lo + k, hi)]
    return subproof(m - k, lo + k, hi, False) + [mth(lo, lo + k)]

out = {"roots": {}, "inclusion": {}, "consistency": {}}
for n in range(0, 71):
    out["roots"][str(n)] = mth(0, n).hex()
    for m in range(n):
        out["inclusion"]["%d:%d" % (n, m)] = [h.hex() for h in path(m, 0, n)]
for n in range(1, 21):
    for m in range(1, n):
        out["consistency"]["%d:%d" % (m, n)] = [h.hex() for h in subproof(m, 0, n, True)]
json.dump(out, sys.stdout)
"""#

/// The same leaves as the Python reference.
private let leaves: [[UInt8]] = (0..<70).map { i in
    var h = SHA256()
    h.update(data: Array("trellis leaf \(i)".utf8))
    return Array(h.finalize())
}

private func source(_ all: [[UInt8]]) -> MerkleTree.Leaves {
    { size, body in for h in all.prefix(size) { try h.withUnsafeBytes { try body($0) } } }
}

@Suite("Merkle proofs (RFC 9162)")
struct MerkleTests {
    @Test func rootsAndProofsAgreeWithThePythonReferenceForSizesUpTo70() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let script = dir.file("reference.py")
        try pythonReference.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try tool("python3", [script])
        try #require(r.status == 0, "\(r)")
        let reference = try jsonObject(r.stdout)
        let roots = try #require(reference["roots"] as? [String: String])
        let inclusion = try #require(reference["inclusion"] as? [String: [String]])
        let consistency = try #require(reference["consistency"] as? [String: [String]])
        let leafSource = source(leaves)

        for n in 0...70 {
            let root = Hex.encode(Array(try MerkleTree.root(size: n, leaves: leafSource)))
            #expect(root == roots[String(n)], "root of \(n)")
        }
        var checkedInclusion = 0
        for n in 1...70 {
            for m in 0..<n {
                let proof = try MerkleTree.inclusionProof(index: m, size: n, leaves: leafSource)
                #expect(proof.auditPath.map(Hex.encode) == inclusion["\(n):\(m)"], "inclusion path of leaf \(m) in \(n)")
                #expect(Hex.encode(proof.root) == roots[String(n)], "inclusion root of leaf \(m) in \(n)")
                #expect(proof.eventHash == leaves[m])
                #expect(MerkleTree.verifyInclusion(leafIndex: m, treeSize: n, leafHash: proof.leafHash, path: proof.auditPath, root: proof.root))
                checkedInclusion += 1
            }
        }
        #expect(checkedInclusion == 70 * 71 / 2)
        var checkedConsistency = 0
        for n in 1...20 {
            for m in 1...n {
                let proof = try MerkleTree.consistencyProof(oldSize: m, newSize: n, leaves: leafSource)
                #expect(Hex.encode(proof.oldRoot) == roots[String(m)], "old root \(m) → \(n)")
                #expect(Hex.encode(proof.newRoot) == roots[String(n)], "new root \(m) → \(n)")
                if m < n {
                    #expect(proof.path.map(Hex.encode) == consistency["\(m):\(n)"], "consistency path \(m) → \(n)")
                } else {
                    #expect(proof.path.isEmpty)
                }
                #expect(MerkleTree.verifyConsistency(oldSize: m, newSize: n, oldRoot: proof.oldRoot, newRoot: proof.newRoot, path: proof.path))
                checkedConsistency += 1
            }
        }
        #expect(checkedConsistency == 210)
    }

    /// The tree hashes through BoringSSL directly (``ChainSHA256``), a stored event hash laid
    /// beside its prefix on the stack when it is at most 64 bytes: held to `Crypto.SHA256` of the
    /// same bytes for hashes of every length up to 100 (a damaged stored hash may be any length).
    @Test func leafAndNodeHashesAreSHA256OfPrefixedBytes() throws {
        func reference(_ bytes: [UInt8]) -> [UInt8] {
            var h = SHA256()
            h.update(data: bytes)
            return Array(h.finalize())
        }
        for n in 0...100 {
            let eventHash = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ n) }
            #expect(Array(MerkleTree.leafHash(eventHash)) == reference([0] + eventHash), "leaf of \(n) bytes")
        }
        let left = MerkleTree.leafHash(leaves[3]), right = MerkleTree.leafHash(leaves[4])
        #expect(Array(MerkleTree.node(left, right)) == reference([1] + Array(left) + Array(right)))
        #expect(MerkleTree.node(Array(left), Array(right)) == reference([1] + Array(left) + Array(right)))
        #expect(Array(MerkleTree.emptyRoot) == reference([]))
    }

    @Test func tamperedProofsFailVerification() throws {
        let leafSource = source(leaves)
        let inclusion = try MerkleTree.inclusionProof(index: 5, size: 13, leaves: leafSource)
        var bad = inclusion
        bad.auditPath[1][0] ^= 1
        #expect(ProofDocument.inclusion(inclusion).check() == nil)
        #expect(ProofDocument.inclusion(bad).check() != nil)
        var wrongLeaf = inclusion
        wrongLeaf.leafIndex = 6
        #expect(ProofDocument.inclusion(wrongLeaf).check() != nil)
        let consistency = try MerkleTree.consistencyProof(oldSize: 6, newSize: 13, leaves: leafSource)
        var swapped = consistency
        swapped.oldRoot = consistency.newRoot
        #expect(ProofDocument.consistency(consistency).check() == nil)
        #expect(ProofDocument.consistency(swapped).check() != nil)
        #expect(ProofDocument.consistency(consistency).check(expectedRoot: Array(repeating: 0, count: 32)) != nil)
    }

    @Test func proofJSONRoundTrips() throws {
        let leafSource = source(leaves)
        let docs: [ProofDocument] = [
            .inclusion(try MerkleTree.inclusionProof(index: 40, size: 70, leaves: leafSource)),
            .consistency(try MerkleTree.consistencyProof(oldSize: 7, newSize: 19, leaves: leafSource)),
            .root(size: 70, root: Array(try MerkleTree.root(size: 70, leaves: leafSource))),
        ]
        for doc in docs {
            #expect(try ProofDocument.parse(doc.json.rendered(pretty: true)) == doc)
        }
    }

    /// The CLI's proofs over a real ledger, checked by tools/verify_proof.py, and the root it
    /// recomputes from `lz4 -dc` of an export.
    @Test func verifyProofPyAgreesWithTrellisProofs() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let db = try regionLedger(in: dir, seed: 11, orgs: 12)
        let status = try jsonObject(try trellis("status", "--db", db, "--format", "json").stdout)
        let head = try #require(status["head_seq"] as? Int)
        #expect(head > 100)

        let rootOut = try trellis("proof", "root", "--db", db)
        try #require(rootOut.status == 0, "\(rootOut)")
        let root = try #require(try jsonObject(rootOut.stdout)["root"] as? String)

        // The root, recomputed by Python from the archive's lines.
        let archive = dir.file("a.lz4")
        try #require(try trellis("export", "--db", db, "--out", archive).status == 0)
        try decompress(archive, to: dir.file("a.ndjson"))
        let py = try tool("python3", [Paths.verifyProof, "root"], stdinFile: dir.file("a.ndjson"))
        try #require(py.status == 0, "\(py)")
        #expect(try jsonObject(py.stdout)["root"] as? String == root)
        #expect(try jsonObject(py.stdout)["tree_size"] as? Int == head)
        // And from the archive by trellis itself.
        let fromArchive = try trellis("proof", "root", "--archive", archive)
        #expect(try jsonObject(fromArchive.stdout)["root"] as? String == root)

        let cases: [[String]] = [
            ["inclusion", "1"], ["inclusion", String(head)], ["inclusion", "37", "--size", "100"], ["inclusion", "64", "--size", "64"],
            ["consistency", "1"], ["consistency", "64", "100"], ["consistency", "37", String(head)], ["consistency", String(head)],
        ]
        for (k, args) in cases.enumerated() {
            let out = try run(Paths.trellis, ["proof"] + args + ["--db", db])
            try #require(out.status == 0, "\(args): \(out)")
            let file = dir.file("proof-\(k).json")
            try out.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            let swiftCheck = try trellis("proof", "check", file)
            #expect(swiftCheck.status == 0, "\(args): \(swiftCheck)")
            let pyCheck = try tool("python3", [Paths.verifyProof, "check", file])
            #expect(pyCheck.status == 0, "\(args): \(pyCheck)")
            if args.count == 2 {
                // Proofs over the whole log lead to the published root.
                #expect(try trellis("proof", "check", file, "--root", root).status == 0)
                #expect(try tool("python3", [Paths.verifyProof, "check", file, "--root", root]).status == 0)
            }
            // One changed hex digit anywhere in the path: both verifiers refuse it.
            var doc = try jsonObject(out.stdout)
            let key = args[0] == "inclusion" ? "audit_path" : "path"
            if var path = doc[key] as? [String], !path.isEmpty {
                let h = path[0]
                path[0] = (h.first == "0" ? "1" : "0") + h.dropFirst()
                doc[key] = path
                let bad = dir.file("bad-\(k).json")
                try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: bad))
                let s = try trellis("proof", "check", bad)
                #expect(s.status == 1 && s.stdout.hasPrefix("invalid:"), "\(args): \(s)")
                #expect(try tool("python3", [Paths.verifyProof, "check", bad]).status == 1)
            }
        }
    }

    @Test func proofBeyondTheHeadIsAUsageError() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let db = try regionLedger(in: dir, seed: 12, orgs: 8)
        let head = try #require(try jsonObject(try trellis("status", "--db", db, "--format", "json").stdout)["head_seq"] as? Int)
        let beyond = try trellis("proof", "inclusion", String(head + 1), "--db", db)
        #expect(beyond.status == 64)
        #expect(beyond.stderr.contains("seq \(head + 1) is not in a tree of \(head) events"))
        #expect(try trellis("proof", "inclusion", "5", "--size", String(head + 10), "--db", db).status == 64)
        #expect(try trellis("proof", "consistency", "10", String(head + 1), "--db", db).status == 64)
        #expect(try trellis("proof", "consistency", "0", "--db", db).status == 64)
        #expect(try trellis("proof", "root", "--size", String(head + 1), "--db", db).status == 64)
        #expect(try trellis("proof", "check", dir.file("nothing.json")).status == 66)
        try "{\"proof\":\"inclusion\"}".write(toFile: dir.file("junk.json"), atomically: true, encoding: .utf8)
        #expect(try trellis("proof", "check", dir.file("junk.json")).status == 65)
    }
}
