import ArgumentParser
import TrellisLedger
import TrellisResearch

extension ProofCommand {
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
}
