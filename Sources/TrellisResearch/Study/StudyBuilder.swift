import GRDB
import TrellisLedger
import TrellisProjections
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// What `trellis replay` is asked for.
public struct StudyOptions: Sendable {
    /// The researcher's own read models, built after the built-in ones.
    public var definitions: [ProjectionDefinition]
    /// What the ledger knew at T: only the archive's events recorded by then are replayed.
    public var knownAt: String?
    /// The world as it was at T: read models from the events that occurred by then.
    public var asOf: String?
    /// Replace an existing study file.
    public var force: Bool

    public init(definitions: [ProjectionDefinition] = [], knownAt: String? = nil, asOf: String? = nil, force: Bool = false) {
        self.definitions = definitions; self.knownAt = knownAt; self.asOf = asOf; self.force = force
    }
}

/// What a study file holds.
public struct StudySummary: Sendable {
    public var manifest: ArchiveManifest
    /// Events in the study file (fewer than the archive's with `knownAt`).
    public var events: Int64
    public var headHash: String
    public var projections: [String]
}

/// Builds a study file from an archive (`trellis replay`): a new SQLite file that is itself
/// a Trellis ledger — the archive's events in `events`, checked on the way in, with the rule
/// tables — plus every built-in read model, the researcher's own, and `study_meta`.
///
/// Why a ledger and not a bare copy of the read models: the read models are built by the
/// same import and the same ``ProjectionEngine`` as everywhere else (so a full archive gives
/// the same digests as its source), and the file stays checkable afterwards
/// (`trellis verify --db STUDY.db`, `trellis report … --db STUDY.db`).
///
/// The file is built under a temporary name and renamed into place when complete, in
/// rollback-journal mode so that it is one self-contained file for sqlite3, R or Python.
///
/// ## Topics
/// - ``build(archive:out:options:progress:)``
public enum StudyBuilder {
    public static func build(archive: String, out: String, options: StudyOptions,
                             progress: ((String, Int64, Int64?) -> Void)? = nil) throws -> StudySummary {
        if !options.force, access(out, F_OK) == 0 { throw ArchiveError.exists(path: out) }
        var knownAtText: String?
        if let t = options.knownAt {
            guard let m = Timestamp.micros(t) else { throw ExportUsageError(description: "--known-at \(t) is not a date or date-time") }
            knownAtText = Timestamp.recordedText(micros: m)
        }
        if let t = options.asOf, Timestamp.micros(t) == nil { throw ExportUsageError(description: "--as-of \(t) is not a date or date-time") }

        // Registered: removed on SIGINT/SIGTERM; stale ones of dead processes are removed here.
        let temporary = TemporaryFiles.partialPath(for: out)
        for s in TemporaryFiles.companions { unlink(temporary + s) }
        defer { TemporaryFiles.remove(temporary) }

        let summary: StudySummary
        do {
            let study = try Ledger.open(at: temporary, create: true)
            // Checks the definitions (names, owned tables) before the import's work.
            let engine = try ProjectionEngine(ledger: study, extra: options.definitions)
            let reader = try ArchiveReader(path: archive)
            var manifest: ArchiveManifest?
            var n: Int64 = 0
            let outcome = try study.appendArchived { visit in
                manifest = try reader.read { e in
                    n += 1
                    if n & 0x3FFF == 0 { progress?("importing", reader.bytesRead, reader.size) }
                    if let limit = knownAtText, e.recordedAt > limit { return }
                    try visit(e)
                }
            }
            guard let manifest else { throw ArchiveError.broken(seq: nil, why: "no manifest") }
            if let t = options.knownAt, outcome.head.seq == 0 { throw ProjectionError.beforeFirstEvent(t) }

            if let asOf = options.asOf {
                let snapshot = try engine.snapshot(asOf: asOf) { progress?("building read models", $0, $1) }
                try engine.install(snapshot, asBuiltAt: outcome.head.seq)
            } else {
                try engine.catchUp { progress?("building read models", $0, $1) }
            }
            try writeMeta(study: engine.readSide, archive: archive, manifest: manifest, options: options, head: outcome.head,
                          projections: engine.definitions.map(\.name))
            // One self-contained file for sqlite3, R and Python: no -wal beside it.
            try engine.readSide.closeAsSingleFile()
            summary = StudySummary(manifest: manifest, events: outcome.head.seq, headHash: outcome.head.hashHex,
                                   projections: engine.definitions.map(\.name))
        }
        for s in ["-wal", "-shm", "-journal"] { unlink(out + s) }
        if rename(temporary, out) != 0 { throw ArchiveError.cannotWrite(path: out, reason: String(cString: strerror(errno))) }
        return summary
    }

    /// `study_meta(key, value)`: where the study file came from and how it was built. Values
    /// keep their type (min_count is an integer), NULL when not set.
    static func writeMeta(study: ReadSide, archive: String, manifest: ArchiveManifest, options: StudyOptions,
                          head: Ledger.Head, projections: [String]) throws {
        let name = archive.split(separator: "/").last.map(String.init) ?? archive
        let rows: [(String, DatabaseValueConvertible?)] = [
            ("archive", name),
            ("archive_format_version", manifest.formatVersion),
            ("archive_events", manifest.events),
            ("archive_head_hash", manifest.headHash),
            ("archive_created_at", manifest.createdAt),
            ("source_head_seq", manifest.source.headSeq),
            ("source_head_hash", manifest.source.headHash),
            ("source_last_seq_hash", manifest.source.lastSeqHash),
            ("pseudonymised", manifest.options.pseudonymised ? 1 : 0),
            ("key_fingerprint", manifest.pseudonyms?.keyFingerprint),
            ("min_count", manifest.options.minCount),
            ("known_at", options.knownAt),
            ("as_of", options.asOf),
            ("head_seq", head.seq),
            ("head_hash", head.hashHex),
            ("projections", projections.joined(separator: ",")),
            ("built_at", Timestamp.recordedText(micros: Timestamp.nowMicros())),
        ]
        try study.write { db in
            try db.execute(sql: """
                CREATE TABLE study_meta (
                    key   TEXT PRIMARY KEY,   -- see ARCHITECTURE.md, "Study files"
                    value
                ) WITHOUT ROWID
                """)
            for (k, v) in rows { try db.execute(sql: "INSERT INTO study_meta (key, value) VALUES (?, ?)", arguments: [k, v]) }
        }
    }
}
