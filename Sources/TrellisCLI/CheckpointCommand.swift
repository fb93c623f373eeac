import ArgumentParser
import TrellisLedger
import TrellisResearch
import TrellisCore

// Anchors: signed checkpoints of the Merkle tree (`checkpoint`, `checkpoint keygen`) and the
// check that a ledger or an archive extends one (`verify --checkpoint`). The work is in
// TrellisResearch (Checkpoint, AnchorCheck, NoteKeys); these parse, call it and print.

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print a signed checkpoint of the ledger's Merkle tree: an anchor anyone can later check the ledger against.",
        discussion: """
            Someone holding the ledger file could rewrite history from some seq
            and recompute every later hash; the chain would still verify. A
            checkpoint, published (in a board paper, an e-mail to the network),
            pins the tree as it was: 'trellis verify --checkpoint FILE' later
            proves that the ledger still extends it, or says that it does not.

            The format is C2SP tlog-checkpoint, a signed note (as Go's sumdb and
            transparency logs use): origin line, tree size, base64 root hash, a
            blank line, and a signature line
            '— <key name> <base64(key hash ‖ Ed25519 signature)>'.
            The default origin is trellis/<first 16 hex digits of the hash of
            event seq 1>: the same for the ledger, its archives and re-imports.

            Make a key pair once; keep NAME.key secret, give NAME.pub to whoever checks:
              trellis checkpoint keygen --out board-2026
              trellis checkpoint --key board-2026.key > checkpoint-2026-07.txt
              trellis verify --checkpoint checkpoint-2026-07.txt --public-key board-2026.pub
            """,
        subcommands: [Keygen.self])

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The private key file written by 'trellis checkpoint keygen'.", valueName: "NAME.key"))
    var key: String?

    @Option(help: ArgumentHelp("The checkpoint's origin line (default: trellis/<hash prefix of event seq 1>).", valueName: "text"))
    var origin: String?

    func validate() throws {
        if let origin, origin.isEmpty || origin.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ValidationError("--origin must be one non-empty line of text")
        }
    }

    func run() throws {
        guard let key else { throw CommandFailure.usage("give --key NAME.key (make a key pair with: trellis checkpoint keygen --out NAME)") }
        let signer = try NoteKeyFile.signingKey(key)
        let l = try ledger.open()
        let head = try l.head()
        let note = try Anchors.checkpoint(size: Int(head.seq), leaves: MerkleLeaves.ledger(l), origin: origin, key: signer)
        Console.out(String(note.dropLast()))
    }
}

/// `verify --checkpoint FILE [--public-key NAME.pub]`, an option group of VerifyCommand.
struct CheckpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Also prove that the ledger (or --archive) extends this signed checkpoint (from 'trellis checkpoint').", valueName: "file"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Check the checkpoint's signature with this public key (NAME.pub).", valueName: "NAME.pub"))
    var publicKey: String?

    func validate() throws {
        if publicKey != nil && checkpoint == nil { throw ValidationError("--public-key is used with --checkpoint FILE") }
    }

    /// Reads the checkpoint and the key before the (long) chain check: a malformed file fails first.
    func load() throws -> Anchor? {
        guard let checkpoint else { return nil }
        return Anchor(checkpoint: try Checkpoint.read(path: checkpoint),
                      verifier: try publicKey.map { try NoteKeyFile.verifierKey($0) })
    }
}

/// A checkpoint to verify a log against, with the key for its signature when one was given.
struct Anchor {
    var checkpoint: Checkpoint
    var verifier: NoteVerifierKey?

    /// Runs after the chain check passed: exit 1 (saying why) unless the log extends the checkpoint.
    func verify(archive: String?, ledger: LedgerOptions) throws {
        let cp = checkpoint
        var signed = "signature not checked (give --public-key)"
        if let verifier {
            switch cp.signature(by: verifier) {
            case .valid:
                signed = "signed by \(verifier.name)"
            case .invalid:
                Console.out("broken: the checkpoint's signature by \(verifier.name) does not verify (the checkpoint was altered, or signed by another key of that name)")
                throw ExitCode(1)
            case .absent(let others):
                Console.out("broken: the checkpoint is not signed by the key \(verifier.name)+\(NoteKey.hex8(verifier.keyHash)) (it carries signatures by \(others.joined(separator: ", ")))")
                throw ExitCode(1)
            }
        }
        let what = archive == nil ? "ledger" : "archive"
        let check: AnchorCheck
        if let archive {
            let m = try ArchiveReader.manifest(path: archive)
            check = try AnchorCheck.run(cp, head: Int(m.events), leaves: MerkleLeaves.archive(archive))
        } else {
            let l = try ledger.open()
            check = try AnchorCheck.run(cp, head: Int(l.head().seq), leaves: MerkleLeaves.ledger(l))
        }
        let cpRoot = Hex.encode(cp.root)
        switch check.verdict {
        case .extends:
            Console.out("ok: the \(what) extends the checkpoint \(cp.origin) of \(cp.size) events (root \(cpRoot)); its tree of \(check.head) events has root \(Hex.encode(check.headRoot ?? [])); \(signed)")
        case .shorter:
            Console.out("broken: the \(what) is shorter than the checkpoint (truncated?): the checkpoint has \(cp.size) events (root \(cpRoot)), the \(what) \(check.head)")
            throw ExitCode(1)
        case .diverges:
            Console.out("broken: the \(what) does not extend the checkpoint: at size \(cp.size) the checkpoint's root is \(cpRoot), the \(what)'s root is \(Hex.encode(check.rootAtSize ?? [])) (its history up to seq \(cp.size) is not the one checkpointed)")
            throw ExitCode(1)
        }
    }
}

enum Anchors {
    /// The signed note of the tree of the first `size` leaves.
    static func checkpoint(size: Int, leaves: MerkleTree.Leaves, origin: String?, key: NoteSigningKey) throws -> String {
        var name = origin
        if name == nil {
            var first: [UInt8]?
            if size > 0 { try leaves(1) { first = Array($0) } }
            guard let first else { throw CommandFailure.usage("the ledger has no events; give --origin to checkpoint the empty tree") }
            name = Checkpoint.defaultOrigin(firstEventHash: first)
        }
        let root = try MerkleTree.root(size: size, leaves: leaves)
        return try Checkpoint(origin: name ?? "", size: size, root: Array(root)).signed(by: key)
    }

    /// `report summary --checkpoint-key`: the checkpoint at the report's head seq.
    static func summaryCheckpoint(keyPath: String, ledger: LedgerOptions, size: Int64) throws -> String {
        let signer = try NoteKeyFile.signingKey(keyPath)
        let l = try ledger.open()
        return try checkpoint(size: Int(size), leaves: MerkleLeaves.ledger(l), origin: nil, key: signer)
    }
}
