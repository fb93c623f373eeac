import ArgumentParser
import TrellisLedger
import TrellisResearch

extension ProofCommand {
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
}
