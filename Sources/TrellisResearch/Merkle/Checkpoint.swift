import Crypto
import TrellisLedger
import TrellisCore

/// A signed statement of the Merkle tree at some size: a C2SP `tlog-checkpoint` in the C2SP
/// `signed-note` text format, so that generic transparency-log tooling reads it.
///
///     trellis/3f2a9c0e51d4b7a8                      origin
///     1042                                          tree size (decimal)
///     6C0y…Hg=                                      base64 root hash (32 bytes)
///                                                   blank line
///     — board-2026 qv3lUj…base64(key hash ‖ Ed25519 signature)
///
/// The signature covers the note text: every line above the blank line, each with its newline.
/// Publishing a checkpoint anchors the log: anyone holding it can later check that the ledger
/// still extends that tree (``AnchorCheck``), which a rewrite of history from any seq up to the
/// checkpoint's size cannot pass, even when every later hash was recomputed.
///
/// ## Topics
/// - ``parse(_:source:)``
/// - ``text``
/// - ``signed(by:)``
/// - ``signature(by:)``
/// - ``defaultOrigin(firstEventHash:)``
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int
    public var root: [UInt8]
    /// Optional lines after the root (C2SP extension lines); kept, signed, otherwise ignored.
    public var extensions: [String] = []
    /// The signature lines, in order.
    public var signatures: [Signature] = []

    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyHash: UInt32
        /// What follows the 4-byte key hash: an Ed25519 signature is 64 bytes.
        public var signature: [UInt8]
    }

    /// Checkpoint files are a few lines; anything larger is refused unread.
    public static let maximumFileBytes = 64 * 1024
    static let signaturePrefix = "\u{2014} "

    public init(origin: String, size: Int, root: [UInt8]) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// `trellis/` and the first 16 hex digits of the hash of event seq 1: stable for a ledger
    /// (its archives and re-imports share it), and different for every other ledger.
    public static func defaultOrigin(firstEventHash: [UInt8]) -> String {
        "trellis/" + Hex.encode(Array(firstEventHash.prefix(8)))
    }

    /// The signed text: origin, size, root, extension lines, each ending in a newline.
    public var text: String {
        ([origin, String(size), Base64.encode(root)] + extensions).map { $0 + "\n" }.joined()
    }

    /// The whole note: the text, a blank line, and a signature line by `key`.
    public func signed(by key: NoteSigningKey) throws -> String {
        let sig = try key.sign(Array(text.utf8))
        let hash = key.verifier.keyHash
        let hashBytes = [UInt8(hash >> 24 & 0xFF), UInt8(hash >> 16 & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash & 0xFF)]
        return text + "\n" + Self.signaturePrefix + key.name + " " + Base64.encode(hashBytes + sig) + "\n"
    }

    public enum SignatureVerdict: Sendable, Equatable {
        case valid
        /// A line by the key's name and hash whose signature does not verify.
        case invalid
        /// No line by this key (the names and hashes of the lines there are).
        case absent([String])
    }

    /// Checks the signature line made by `key` (matched on name and key hash, as signed-note does).
    public func signature(by key: NoteVerifierKey) -> SignatureVerdict {
        guard let line = signatures.first(where: { $0.name == key.name && $0.keyHash == key.keyHash }) else {
            return .absent(signatures.map { "\($0.name)+\(NoteKey.hex8($0.keyHash))" })
        }
        return line.signature.count == 64 && key.verifies(line.signature, of: Array(text.utf8)) ? .valid : .invalid
    }

    public struct Malformed: Error, CustomStringConvertible, Sendable, Equatable {
        public var source: String
        public var line: Int?
        public var why: String
        public var description: String {
            "\(source)\(line.map { ", line \($0)" } ?? ""): not a checkpoint: \(why)"
        }
    }

    /// Parses a signed note (signed-note's rules: UTF-8, no control characters but newline,
    /// text and signatures split at the last blank line) whose text is a tlog-checkpoint.
    public static func parse(_ bytes: [UInt8], source: String) throws(Malformed) -> Checkpoint {
        func fail(_ line: Int?, _ why: String) -> Malformed { Malformed(source: source, line: line, why: why) }
        guard let all = String(validating: bytes, as: UTF8.self) else { throw fail(nil, "not UTF-8 text") }
        if let bad = all.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\n" }) {
            throw fail(nil, "it holds the control character U+\(String(bad.value, radix: 16, uppercase: true)) (a signed note allows only newlines)")
        }
        guard all.hasSuffix("\n") else { throw fail(nil, "it does not end with a newline") }
        let lines = all.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let blank = lines.lastIndex(of: "") else { throw fail(nil, "no blank line before the signatures") }
        let body = Array(lines[..<blank]), sigs = Array(lines[(blank + 1)...])
        guard !sigs.isEmpty else { throw fail(nil, "no signature line after the blank line") }
        guard body.count >= 3 else { throw fail(body.count + 1, "a checkpoint's text is origin, tree size and root hash, one per line") }
        guard !body[0].isEmpty else { throw fail(1, "the origin line is empty") }
        let sizeText = body[1]
        guard let size = Int(sizeText), size >= 0, sizeText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              sizeText == "0" || !sizeText.hasPrefix("0") else {
            throw fail(2, "the tree size \"\(sizeText)\" is not a decimal number without leading zeros")
        }
        guard let root = Base64.decode(body[2]), root.count == 32 else {
            throw fail(3, "the root hash is not the base64 of 32 bytes")
        }
        if let i = body.indices.dropFirst(3).first(where: { body[$0].isEmpty }) { throw fail(i + 1, "an empty line inside the text") }
        var cp = Checkpoint(origin: body[0], size: size, root: root)
        cp.extensions = Array(body.dropFirst(3))
        guard sigs.count <= 100 else { throw fail(nil, "more than 100 signature lines") }
        for (i, line) in sigs.enumerated() {
            let number = blank + 2 + i
            guard line.hasPrefix(signaturePrefix) else { throw fail(number, "a signature line starts with \"— \" (an em dash and a space)") }
            let rest = line.dropFirst(signaturePrefix.count)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, NoteKey.isValidName(String(parts[0])), let raw = Base64.decode(String(parts[1])), raw.count >= 5 else {
                throw fail(number, "a signature line is \"— <key name> <base64 of key hash and signature>\"")
            }
            let hash = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            cp.signatures.append(Signature(name: String(parts[0]), keyHash: hash, signature: Array(raw.dropFirst(4))))
        }
        return cp
    }

    /// Reads and parses a checkpoint file (bounded read).
    public static func read(path: String) throws -> Checkpoint {
        let bytes: [UInt8]
        do { bytes = try NoteKeyFile.readBounded(path, limit: maximumFileBytes) } catch {
            switch error {
            case .badFile(let p, let why): throw Malformed(source: p, line: nil, why: why)
            case .missing(let p): throw NoteKeyError.unreadable(p, "no such file")
            default: throw error
            }
        }
        return try parse(bytes, source: path)
    }
}

/// Whether a log extends a checkpointed tree: the log's own root at the checkpoint's size,
/// compared with the checkpoint's root (the real check), and the RFC 9162 consistency proof
/// from that size to the head, verified against the checkpoint's root.
///
/// ## Topics
/// - ``run(_:head:leaves:)``
/// - ``Verdict``
public struct AnchorCheck: Sendable {
    public enum Verdict: Sendable, Equatable {
        case extends
        /// The log holds fewer events than the checkpoint's tree.
        case shorter
        /// The log's tree at the checkpoint's size has another root: history was rewritten.
        case diverges
    }

    public var checkpoint: Checkpoint
    public var head: Int
    /// The log's root at the checkpoint's size (nil when the log is shorter).
    public var rootAtSize: [UInt8]?
    /// The log's root at its head.
    public var headRoot: [UInt8]?
    public var verdict: Verdict

    public static func run(_ checkpoint: Checkpoint, head: Int, leaves: MerkleTree.Leaves) throws -> AnchorCheck {
        var check = AnchorCheck(checkpoint: checkpoint, head: head, verdict: .shorter)
        guard checkpoint.size <= head else { return check }
        let atSize = Array(try MerkleTree.root(size: checkpoint.size, leaves: leaves))
        check.rootAtSize = atSize
        guard atSize == checkpoint.root else { check.verdict = .diverges; return check }
        if checkpoint.size == 0 || checkpoint.size == head {
            // Every tree extends the empty tree (RFC 9162 has no proof for it); a tree extends itself.
            check.headRoot = checkpoint.size == head ? atSize : Array(try MerkleTree.root(size: head, leaves: leaves))
            check.verdict = .extends
            return check
        }
        let proof = try MerkleTree.consistencyProof(oldSize: checkpoint.size, newSize: head, leaves: leaves)
        check.headRoot = proof.newRoot
        let holds = MerkleTree.verifyConsistency(oldSize: checkpoint.size, newSize: head, oldRoot: checkpoint.root,
                                                 newRoot: proof.newRoot, path: proof.path)
        check.verdict = holds ? .extends : .diverges
        return check
    }
}
