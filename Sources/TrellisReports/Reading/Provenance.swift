/// Where a report's figures come from, so that anyone can check or reproduce them: the
/// log's head (seq and hash), each read model's digest, the moment (`--as-of`,
/// `--known-at`) and the command line. Deliberately no "generated at" clock time: a report
/// reproduced with `--known-at` is byte-identical.
public struct Provenance: Sendable, Hashable {
    public struct Digest: Sendable, Hashable {
        public var name: String
        public var digest: String
        public init(name: String, digest: String) { self.name = name; self.digest = digest }
    }

    /// The last seq the figures saw.
    public var headSeq: Int64
    /// The hash of the event at `headSeq` (hex).
    public var headHash: String
    public var asOf: String?
    public var knownAt: String?
    /// As typed, program name first (`trellis report summary …`).
    public var commandLine: String
    public var digests: [Digest]

    public init(headSeq: Int64, headHash: String, asOf: String? = nil, knownAt: String? = nil,
                commandLine: String = "", digests: [Digest] = []) {
        self.headSeq = headSeq
        self.headHash = headHash
        self.asOf = asOf
        self.knownAt = knownAt
        self.commandLine = commandLine
        self.digests = digests
    }

    /// Arguments joined for a POSIX shell: each quoted only when it needs to be.
    public static func shellLine(_ arguments: [String]) -> String {
        arguments.map { a in
            let plain = !a.isEmpty && a.unicodeScalars.allSatisfy { u in
                (u.value >= 0x30 && u.value <= 0x39) || (u.value >= 0x41 && u.value <= 0x5A) || (u.value >= 0x61 && u.value <= 0x7A)
                    || "-_./:=,@+%".unicodeScalars.contains(u)
            }
            return plain ? a : "'" + a.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
