import TrellisLedger

extension ArchiveError: UserFacingError {
    public var diagnostic: String { description }
}

extension ExportUsageError: UserFacingError {
    public var exitCode: Int32 { 64 }
    public var diagnostic: String { description }
}

extension MerkleTree.Failure: UserFacingError {
    /// Sizes and seqs are checked before a tree is computed; what is left is leaves that are not
    /// there or not 32 bytes: the input (ledger, archive, proof) is at fault (65).
    public var exitCode: Int32 { 65 }
    public var diagnostic: String { description }
}

extension NoteKeyError: UserFacingError {
    public var diagnostic: String { description }
}

extension Checkpoint.Malformed: UserFacingError {
    public var exitCode: Int32 { 65 }
    public var diagnostic: String { description }
}
