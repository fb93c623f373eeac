import ArgumentParser
import TrellisLedger
import TrellisResearch

extension ProofCommand {
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
}
