import ArgumentParser
import TrellisLedger
import TrellisResearch

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Merkle proofs over the event hashes (RFC 9162, as in Certificate Transparency).",
        discussion: """
            The events' hashes, in seq order, are the leaves of an RFC 9162 Merkle tree.
            Publish its root (say, in a board paper); later anyone can be shown, with a
            few hashes and without the log, that an event is in that tree (inclusion) or
            that today's tree extends the published one (consistency). Proofs are JSON;
            'trellis proof check' and tools/verify_proof.py (Python, standard library
            only) verify them.

            Examples:
              trellis proof root > root-2026-07.json
              trellis proof inclusion 1234 --size 5000 > proof.json
              trellis proof consistency 5000 > consistency.json
              trellis proof check proof.json --root <hex from the board paper>
              trellis proof check consistency.json --old-root <root published at 5000>

            For a signed, self-describing anchor, see 'trellis checkpoint' and
            'trellis verify --checkpoint'.
            """,
        subcommands: [Root.self, Inclusion.self, Consistency.self, Check.self])

    /// `--archive`: compute from an archive (checked as it streams) instead of the ledger.
    struct Source: ParsableArguments {
        @OptionGroup var ledger: LedgerOptions
        @Option(help: ArgumentHelp("Compute from this archive instead of the ledger.", valueName: "file"))
        var archive: String?

        /// The number of leaves available and where to read them.
        func open() throws -> (head: Int, leaves: MerkleTree.Leaves) {
            if let archive {
                let m = try ArchiveReader.manifest(path: archive)
                return (Int(m.events), MerkleLeaves.archive(archive))
            }
            let l = try ledger.open()
            let head = try l.head()
            return (Int(head.seq), MerkleLeaves.ledger(l))
        }

        var what: String { archive == nil ? "the ledger's head" : "the archive's last event" }
    }

    static func print(_ doc: ProofDocument) { Console.out(doc.json.rendered(pretty: true)) }

    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tree's root (of the whole log, or of its first N events).")
        @OptionGroup var source: Source
        @Option(help: ArgumentHelp("Tree size: the first N events (default: all).", valueName: "N")) var size: Int?

        func validate() throws {
            if let size, size < 0 { throw ValidationError("--size must be at least 0") }
        }

        func run() throws {
            let (head, leaves) = try source.open()
            let n = size ?? head
            if n < 0 || n > head { throw CommandFailure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            let root = try MerkleTree.root(size: n, leaves: leaves)
            ProofCommand.print(.root(size: n, root: Array(root)))
        }
    }

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prove that the event at SEQ is in the tree of the first N events.")
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("The event's seq.", valueName: "seq")) var seq: Int
        @Option(help: ArgumentHelp("Tree size (default: all events).", valueName: "N")) var size: Int?

        func validate() throws {
            if seq < 1 { throw ValidationError("seq must be at least 1, got \(seq)") }
            if let size, size < 1 { throw ValidationError("--size must be at least 1") }
            if let size, seq > size { throw ValidationError("seq \(seq) is not in a tree of \(size) events") }
        }

        func run() throws {
            let (head, leaves) = try source.open()
            let n = size ?? head
            if n < 1 || n > head { throw CommandFailure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            if seq < 1 || seq > n {
                throw CommandFailure.usage("seq \(seq) is not in a tree of \(n) events" + (seq > head ? " (the head is seq \(head))" : ""))
            }
            let proof = try MerkleTree.inclusionProof(index: seq - 1, size: n, leaves: leaves)
            ProofCommand.print(.inclusion(proof))
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prove that the tree of NEW_SIZE events extends the tree of OLD_SIZE.")
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("The earlier tree size.", valueName: "old-size")) var oldSize: Int
        @Argument(help: ArgumentHelp("The later tree size (default: all events).", valueName: "new-size")) var newSize: Int?

        func validate() throws {
            if oldSize == 0 { throw ValidationError("there is no consistency proof from size 0 (RFC 9162): every tree extends the empty tree") }
            if oldSize < 0 { throw ValidationError("the old size must be at least 1, got \(oldSize)") }
            if let newSize, oldSize > newSize { throw ValidationError("the old size must be from 1 to the new size (\(newSize)), got \(oldSize)") }
        }

        func run() throws {
            let (head, leaves) = try source.open()
            let n = newSize ?? head
            if n > head { throw CommandFailure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            if oldSize < 1 || oldSize > n { throw CommandFailure.usage("the old size must be from 1 to the new size (\(n)), got \(oldSize)") }
            let proof = try MerkleTree.consistencyProof(oldSize: oldSize, newSize: n, leaves: leaves)
            ProofCommand.print(.consistency(proof))
        }
    }

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
            let text = try LineReader.text(of: file)
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
