import TrellisCore
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
}
