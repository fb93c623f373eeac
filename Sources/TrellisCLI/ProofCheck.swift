import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisResearch

extension ProofCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a proof JSON: exit 0 if it holds, 1 if not.",
            discussion: """
                A proof only shows that its hashes fit together; the roots you hold from elsewhere
                anchor it. --root: the root the proof must lead to (an inclusion proof's root, a
                consistency proof's new root). --old-root: a consistency proof's old root, e.g.
                the one published at the old size:
                  trellis proof consistency 5000 > c.json
                  trellis proof check c.json --old-root <root published at 5000>
                Inclusion proofs in RFC 9162's own form (leaf_hash, no event_hash) from any log
                are accepted.
                """)
        @Argument(help: ArgumentHelp("The proof JSON; - reads standard input.", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("The root it must lead to (64 hex digits): an inclusion proof's root, a consistency proof's new root.", valueName: "hex")) var root: String?
        @Option(help: ArgumentHelp("A consistency proof's old root, e.g. the one published at its old size (64 hex digits).", valueName: "hex")) var oldRoot: String?

        func validate() throws {
            if let root, root.utf8.count != 64 || Hex.decode(root) == nil { throw ValidationError("--root must be 64 hex digits") }
            if let oldRoot, oldRoot.utf8.count != 64 || Hex.decode(oldRoot) == nil { throw ValidationError("--old-root must be 64 hex digits") }
        }

        func run() throws {
            let text = try LineReader.text(of: file, limit: 1 << 20, what: "a proof")
            let doc: ProofDocument
            do { doc = try ProofDocument.parse(text) } catch {
                throw CommandFailure.badInput("\(file) is not a proof: \(error)")
            }
            switch doc {
            case .consistency: break
            default: if oldRoot != nil { throw CommandFailure.usage("--old-root applies to consistency proofs; \(file) is another kind of proof") }
            }
            if let why = doc.check(expectedRoot: root.flatMap(Hex.decode), expectedOldRoot: oldRoot.flatMap(Hex.decode)) {
                Console.out("invalid: \(why)")
                throw ExitCode(1)
            }
            switch doc {
            case .inclusion(let p, _):
                Console.out("ok: seq \(p.leafIndex + 1) (leaf \(p.leafIndex)) is in the tree of \(p.treeSize) events with root \(Hex.encode(p.root))")
            case .consistency(let p):
                Console.out("ok: the tree of \(p.newSize) events (root \(Hex.encode(p.newRoot))) extends the tree of \(p.oldSize) (root \(Hex.encode(p.oldRoot)))")
            case .root(let size, let r):
                Console.out("ok: root \(Hex.encode(r)) of \(size) events (a root alone proves nothing; compare it with the one you were given)")
            }
        }
    }
}
