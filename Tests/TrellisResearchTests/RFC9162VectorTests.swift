import Foundation
import Testing
import TrellisLedger
import TrellisResearch
@testable import TrellisCore

/// The RFC 9162 proof vectors of transparency-dev/merkle (Vectors/README.md), each turned into a
/// proof document in RFC 9162's leaf-hash form, through the Swift verifier (what `trellis proof
/// check` runs), the CLI itself and tools/verify_proof.py: every verdict must be the vector's.
@Suite("RFC 9162 vectors (transparency-dev/merkle)")
struct RFC9162VectorTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    struct Probe {
        var file: String
        var document: String
        var wantError: Bool
        /// Every hash is 32 bytes. One vector (equal sizes, equal 12-byte "roots") is valid for
        /// Go, which never looks at the roots' length there; Trellis refuses a root that is not a SHA-256.
        var hashesAre32Bytes: Bool
    }

    /// Every probe of `kind` (inclusion or consistency), as a Trellis proof document.
    static func probes(_ kind: String) throws -> [Probe] {
        let root = vectors.appendingPathComponent(kind)
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { throw SupportFailure("no vectors at \(root.path)") }
        var out: [Probe] = []
        for case let rel as String in walker where rel.hasSuffix(".json") {
            let data = try Data(contentsOf: root.appendingPathComponent(rel))
            guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SupportFailure("\(rel): not an object") }
            // Hashes are base64 in the vectors; a hash that is not 32 bytes stays as long as it is.
            var sized = true
            func hex(_ v: Any?) -> String {
                guard let s = v as? String, let d = Data(base64Encoded: s) else { sized = false; return "" }
                if d.count != 32 { sized = false }
                return Hex.encode(Array(d))
            }
            func hexes(_ v: Any?) -> String { "[" + ((v as? [Any]) ?? []).map { "\"\(hex($0))\"" }.joined(separator: ",") + "]" }
            func number(_ k: String) -> String { (o[k] as? NSNumber).map { "\($0.uint64Value)" } ?? "null" }
            let doc: String
            if kind == "inclusion" {
                doc = #"{"proof":"inclusion","leaf_index":\#(number("leafIdx")),"tree_size":\#(number("treeSize")),"leaf_hash":"\#(hex(o["leafHash"]))","root":"\#(hex(o["root"]))","audit_path":\#(hexes(o["proof"]))}"#
            } else {
                doc = #"{"proof":"consistency","old_size":\#(number("size1")),"new_size":\#(number("size2")),"old_root":"\#(hex(o["root1"]))","new_root":"\#(hex(o["root2"]))","path":\#(hexes(o["proof"]))}"#
            }
            out.append(Probe(file: "\(kind)/\(rel)", document: doc, wantError: (o["wantErr"] as? Bool) ?? false, hashesAre32Bytes: sized))
        }
        return out.sorted { $0.file < $1.file }
    }

    /// The Swift verdict: true when the document parses and the proof holds.
    static func swiftAccepts(_ doc: String) -> Bool {
        guard let proof = try? ProofDocument.parse(doc) else { return false }
        return proof.check() == nil
    }

    /// verify_proof.py's verdicts, one Python process for all documents.
    static func pythonAccepts(_ docs: [String], in dir: Scratch) throws -> [Bool] {
        let input = dir.file("docs.json")
        try ("[" + docs.joined(separator: ",\n") + "]").write(toFile: input, atomically: true, encoding: .utf8)
        let script = dir.file("driver.py")
        try """
            import importlib.util, json, sys
            spec = importlib.util.spec_from_file_location("verify_proof", sys.argv[1])
            vp = importlib.util.module_from_spec(spec); spec.loader.exec_module(vp)
            out = []
            for doc in json.load(open(sys.argv[2])):
                try:
                    out.append(vp.check(doc) is None)
                except vp.Malformed:
                    out.append(False)
            print(json.dumps(out))
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try tool("python3", [script, Paths.verifyProof, input])
        guard r.status == 0, let verdicts = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Bool] else {
            throw SupportFailure("python driver failed: \(r)")
        }
        return verdicts
    }

    func check(_ kind: String, atLeast: Int, strictOnly: [String]) throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let probes = try Self.probes(kind)
        try #require(probes.count >= atLeast, "only \(probes.count) \(kind) vectors")
        #expect(probes.contains { !$0.wantError } && probes.contains { $0.wantError })
        let python = try Self.pythonAccepts(probes.map(\.document), in: dir)
        #expect(probes.filter { !$0.wantError && !$0.hashesAre32Bytes }.map(\.file) == strictOnly)
        for (probe, py) in zip(probes, python) {
            let valid = !probe.wantError && probe.hashesAre32Bytes
            #expect(Self.swiftAccepts(probe.document) == valid, "Swift: \(probe.file)")
            #expect(py == valid, "verify_proof.py: \(probe.file)")
        }
        // The CLI on every probe: exit 0 for a valid proof, 1 or 65 for the others.
        for (i, probe) in probes.enumerated() {
            let file = dir.file("probe-\(i).json")
            try probe.document.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try trellis("proof", "check", file)
            let valid = !probe.wantError && probe.hashesAre32Bytes
            #expect(valid ? r.status == 0 : [1, 65].contains(r.status), "trellis proof check: \(probe.file)\n\(r)")
        }
    }

    @Test func inclusionVectorsInLeafHashForm() throws { try check("inclusion", atLeast: 90, strictOnly: []) }

    @Test func consistencyVectors() throws { try check("consistency", atLeast: 90, strictOnly: ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"]) }

    /// `trellis proof check` and tools/verify_proof.py give the same exit code (0 holds, 1
    /// invalid, 65 not a proof, 64 misuse) on proofs from a real ledger and on corrupted copies.
    @Test func cliAndVerifyProofPyAgreeOnValidAndCorruptedProofs() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let db = try regionLedger(in: dir, seed: 9, orgs: 8)
        let head = try #require(try jsonObject(try trellis("status", "--db", db, "--format", "json").stdout)["head_seq"] as? Int)
        func proof(_ args: String...) throws -> [String: Any] {
            let r = try run(Paths.trellis, ["proof"] + args + ["--db", db])
            guard r.status == 0 else { throw SupportFailure("proof \(args): \(r)") }
            return try jsonObject(r.stdout)
        }
        func flip(_ h: String) -> String { (h.first == "0" ? "1" : "0") + h.dropFirst() }
        let inclusion = try proof("inclusion", "37", "--size", "100")
        let consistency = try proof("consistency", "37", String(head))
        let powerOfTwo = try proof("consistency", "64", "100")
        let root = try proof("root", "--size", "100")
        let rootAt37 = try #require(try proof("root", "--size", "37")["root"] as? String)
        let headRoot = try #require(consistency["new_root"] as? String)
        let path = try #require(inclusion["audit_path"] as? [String])
        let cpath = try #require(consistency["path"] as? [String])

        func with(_ doc: [String: Any], _ changes: [String: Any?]) -> [String: Any] {
            var d = doc
            for (k, v) in changes { d[k] = v }
            return d
        }
        let cases: [(String, [String: Any], [String])] = [
            ("inclusion", inclusion, []),
            ("inclusion, RFC 9162 form", with(inclusion, ["event_hash": nil, "seq": nil, "tree": nil]), []),
            ("inclusion, upper-case hex", with(inclusion, ["root": (inclusion["root"] as? String ?? "").uppercased()]), []),
            ("inclusion, seq not leaf_index + 1", with(inclusion, ["seq": 38]), []),
            ("inclusion, leaf_index moved", with(inclusion, ["leaf_index": 37, "seq": 38]), []),
            ("inclusion, tree_size changed", with(inclusion, ["tree_size": 101]), []),
            ("inclusion, tree_size 0", with(inclusion, ["tree_size": 0]), []),
            ("inclusion, path digit changed", with(inclusion, ["audit_path": [flip(path[0])] + path.dropFirst()]), []),
            ("inclusion, path shortened", with(inclusion, ["audit_path": Array(path.dropLast())]), []),
            ("inclusion, path lengthened", with(inclusion, ["audit_path": path + [path[0]]]), []),
            ("inclusion, event_hash changed", with(inclusion, ["event_hash": flip(inclusion["event_hash"] as? String ?? "")]), []),
            ("inclusion, leaf_hash changed", with(inclusion, ["leaf_hash": flip(inclusion["leaf_hash"] as? String ?? "")]), []),
            ("inclusion, 63 hex digits", with(inclusion, ["root": String((inclusion["root"] as? String ?? "").dropLast())]), []),
            ("inclusion, short hash in the path", with(inclusion, ["audit_path": [String(path[0].prefix(40))] + path.dropFirst()]), []),
            ("inclusion, no leaf", with(inclusion, ["event_hash": nil, "leaf_hash": nil]), []),
            ("inclusion, negative size", with(inclusion, ["tree_size": -1]), []),
            ("inclusion, right root", inclusion, ["--root", inclusion["root"] as? String ?? ""]),
            ("inclusion, wrong root", inclusion, ["--root", flip(inclusion["root"] as? String ?? "")]),
            ("inclusion, --old-root", inclusion, ["--old-root", rootAt37]),
            ("consistency", consistency, []),
            ("consistency from a power of two", powerOfTwo, []),
            ("consistency, right old and new roots", consistency, ["--old-root", rootAt37, "--root", headRoot]),
            ("consistency, the old root as --root", consistency, ["--root", rootAt37]),
            ("consistency, wrong old root", consistency, ["--old-root", flip(rootAt37)]),
            ("consistency, old root changed", with(consistency, ["old_root": flip(rootAt37)]), []),
            ("consistency, new root changed", with(consistency, ["new_root": flip(headRoot)]), []),
            ("consistency, roots swapped", with(consistency, ["old_root": headRoot, "new_root": rootAt37]), []),
            ("consistency, path digit changed", with(consistency, ["path": [flip(cpath[0])] + cpath.dropFirst()]), []),
            ("consistency, path empty", with(consistency, ["path": [String]()]), []),
            ("consistency, old size 0", with(consistency, ["old_size": 0]), []),
            ("consistency, old size above new", with(consistency, ["old_size": head + 1]), []),
            ("consistency, sizes equal, path kept", with(consistency, ["old_size": head]), []),
            ("consistency, path not a list", with(consistency, ["path": "x"]), []),
            ("root", root, []),
            ("root, wrong --root", root, ["--root", flip(root["root"] as? String ?? "")]),
            ("root of the empty tree, not SHA-256 of nothing", with(root, ["tree_size": 0]), []),
            ("unknown kind", with(root, ["proof": "other"]), []),
        ]
        var verdicts: Set<Int32> = []
        for (k, (name, doc, options)) in cases.enumerated() {
            let file = dir.file("case-\(k).json")
            try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: file))
            let cli = try run(Paths.trellis, ["proof", "check", file] + options)
            let py = try tool("python3", [Paths.verifyProof, "check", file] + options)
            #expect(cli.status == py.status, "\(name): trellis \(cli)\nverify_proof.py \(py)")
            verdicts.insert(cli.status)
        }
        #expect(verdicts == [0, 1, 64, 65], "every verdict is exercised")
    }

    /// RFC 9162 §2.1.1: MTH({}) = SHA-256(""); a proof about the empty tree is refused.
    @Test func emptyTreeAndSizeZero() throws {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        #expect(Hex.encode(Array(MerkleTree.emptyRoot)) == empty)
        #expect(Hex.encode(Array(try MerkleTree.root(size: 0, leaves: { _, _ in }))) == empty)
        let root0 = #"{"proof":"root","tree_size":0,"root":"\#(empty)"}"#
        let rootWrong = #"{"proof":"root","tree_size":0,"root":"\#(String(repeating: "00", count: 32))"}"#
        let from0 = #"{"proof":"consistency","old_size":0,"new_size":0,"old_root":"\#(empty)","new_root":"\#(empty)","path":[]}"#
        let from0to1 = #"{"proof":"consistency","old_size":0,"new_size":1,"old_root":"\#(empty)","new_root":"\#(empty)","path":["\#(empty)"]}"#
        let inEmpty = #"{"proof":"inclusion","leaf_index":0,"tree_size":0,"leaf_hash":"\#(empty)","root":"\#(empty)","audit_path":[]}"#
        #expect(Self.swiftAccepts(root0))
        #expect(!Self.swiftAccepts(rootWrong))
        #expect(try ProofDocument.parse(from0).check()?.contains("size 0 proves nothing") == true)
        #expect(!Self.swiftAccepts(from0to1))
        #expect(!Self.swiftAccepts(inEmpty))
        let dir = try Scratch()
        defer { dir.remove() }
        #expect(try Self.pythonAccepts([root0, rootWrong, from0, from0to1, inEmpty], in: dir) == [true, false, false, false, false])
        // `proof consistency 0` is refused rather than answered with a non-proof.
        let db = dir.file("empty.db")
        #expect(try trellis("init", "--db", db).status == 0)
        let r = try trellis("proof", "consistency", "--db", db, "0")
        #expect(r.status == 64 && r.stderr.contains("no consistency proof from size 0"), "\(r)")
        let root = try trellis("proof", "root", "--db", db)
        #expect(root.status == 0 && root.stdout.contains(empty), "\(root)")
    }
}
