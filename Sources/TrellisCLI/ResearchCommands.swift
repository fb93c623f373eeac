import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisResearch
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

// Research: archives (`export`, `import ARCHIVE`, `verify --archive`), study files
// (`replay`) and Merkle proofs (`proof`). The work is in TrellisResearch; these parse,
// validate, call it and print.

/// Maps the research module's errors to CLI.md's exit codes; everything else goes to
/// ``Failure/guarded(_:)``.
enum ResearchFailure {
    /// `subject` names the archive in messages about it; `nothing` says what did not happen
    /// ("imported") when the archive is broken or does not fit.
    @discardableResult
    static func guarded<T>(subject: String? = nil, nothing: String? = nil, _ body: () throws -> T) throws -> T {
        let tail = nothing.map { "; nothing was \($0)" } ?? ""
        do {
            return try body()
        } catch let e as ArchiveError {
            if case .broken = e, let subject {
                Console.err("trellis: the archive \(subject) is \(e)\(tail)")
            } else if case .refused = e, let subject {
                Console.err("trellis: the archive \(subject) is \(e)\(tail)")
            } else {
                Console.err("trellis: \(e)")
            }
            throw ExitCode(e.exitCode)
        } catch let e as ArchiveDivergence {
            Console.err("trellis: \(e)\(tail)")
            throw ExitCode(65)
        } catch let e as PseudonymKey.Failure {
            Console.err("trellis: \(e)")
            throw ExitCode(e.exitCode)
        } catch let e as ExportUsageError {
            Console.err("trellis: \(e)")
            throw ExitCode(64)
        } catch let e as AppendRejected {
            Console.err(e.description)
            Console.err("trellis: the archive's events break the ledger's rules\(tail)")
            throw ExitCode(65)
        } catch let e as MerkleTree.Failure {
            Console.err("trellis: \(e)")
            throw ExitCode(64)
        } catch {
            return try Failure.guarded { () throws -> T in throw error }
        }
    }
}

// MARK: - import ARCHIVE and verify --archive (hooks called from ImportCommand and VerifyCommand)

enum ArchiveCommands {
    /// `trellis import FILE` when FILE starts with the LZ4 frame magic. Returns false when no
    /// file is an archive (the NDJSON import goes on).
    static func importIfArchive(_ readers: [LineReader], ledger: LedgerOptions, format: OutputFormat) throws -> Bool {
        guard let archive = readers.first(where: { $0.peek(4) == lz4FrameMagic }) else { return false }
        guard readers.count == 1 else {
            throw Failure.usage("\(archive.name) is an archive: import it on its own, not together with other files")
        }
        // An archive on standard input is spooled to a temporary file: the reader checks the
        // frame and the manifest before anything is appended, so it needs the whole archive.
        var path = archive.name
        var spooled: String?
        if archive.size == nil {
            var template = Array(((getenv("TMPDIR").flatMap { String(validatingCString: $0) } ?? "/tmp") + "/trellis-archive-XXXXXX").utf8CString)
            let fd = mkstemp(&template)
            guard fd >= 0 else { throw Failure.usage("cannot spool the archive from standard input: \(String(cString: strerror(errno)))") }
            path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            spooled = path
            TemporaryFiles.register(path)  // removed on SIGINT/SIGTERM
            defer { close(fd) }
            do { try Failure.guarded { try archive.drain(to: fd) } } catch {
                TemporaryFiles.remove(path)
                throw error
            }
        }
        defer { if let spooled { TemporaryFiles.remove(spooled) } }
        let l = try ledger.open(create: true)
        let bar = ProgressBar("importing")
        let source = path
        let result = try ResearchFailure.guarded(subject: archive.name, nothing: "imported") {
            try ArchiveImporter.run(path: source, into: l) { done, total in bar.update(done, of: total, unit: "bytes") }
        }
        bar.finish()
        try printOutcome(result.outcome, format: format, ledger: l.path)
        return true
    }

    /// `trellis verify --archive FILE`: exit 0 `ok: N events, head <hex>`, exit 1 `broken …`.
    static func verify(path: String) throws {
        let bar = ProgressBar("verifying")
        do {
            let manifest = try ArchiveReader.verify(path: path) { done, total in bar.update(done, of: total, unit: "bytes") }
            bar.finish()
            var note = ""
            if manifest.options.pseudonymised { note = " (pseudonymised; derived from source seq 1–\(manifest.lastSeq ?? 0), source hash \(manifest.source.lastSeqHash.prefix(16))…)" }
            Console.out("ok: \(manifest.events) events, head \(manifest.headHash)\(note)")
        } catch let e as ArchiveError {
            bar.finish()
            if case .broken = e {
                Console.out(e.description)
                throw ExitCode(1)
            }
            if case .refused = e {
                // The chain holds, but a line must not enter a ledger: a problem, exit 65.
                Console.out(e.description)
                throw ExitCode(65)
            }
            try ResearchFailure.guarded { throw e }
        }
    }
}

// MARK: - export

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log (or a prefix of it) to a verifiable archive for researchers.",
        discussion: """
            An archive is one LZ4 frame (read it with: lz4 -dc FILE | head) of NDJSON: a
            manifest line, then every event exactly as 'trellis log --format ndjson'
            prints it, with seq, recorded_at and hash. Anyone can check it with 'trellis
            verify --archive FILE', and 'trellis import FILE' rebuilds a ledger with the
            same head hash.

            Personal fields stay sealed and no keys are exported, so people show as
            (erased) wherever the archive is imported.

            --pseudonymise replaces every organisation, person, network, meeting, document,
            review and event id by a keyed pseudonym (org-3f2a…), drops personal fields
            and withholds free text that can name people or organisations (actor, titles,
            reasons, names, roles, partners, moderators). The same key file gives the same
            pseudonyms, so two exports for one study join up. Make a key once and keep it
            secret:
              head -c 32 /dev/urandom > study.key

            Examples:
              trellis export --out region-2026.trellis.lz4
              trellis export --out autumn.lz4 --known-at 2025-12-31 --hc
              trellis export --out study.lz4 --pseudonymise --key study.key --min-count 5
            """)

    @OptionGroup var ledger: LedgerOptions

    @Option(help: ArgumentHelp("The archive file to write.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Export events 1 to S only.", valueName: "S"))
    var untilSeq: Int64?

    @Option(help: ArgumentHelp("Export what the ledger knew at T (events recorded by then; a date means 00:00Z).", valueName: "T"))
    var knownAt: InstantArgument?

    @Flag(help: "LZ4 HC (level 9): a smaller file, several times slower to write, as fast to read.")
    var hc = false

    @Flag(help: "Replace identifiers by keyed pseudonyms and withhold personal data and free text (needs --key).")
    var pseudonymise = false

    @Option(help: ArgumentHelp("The secret key file for --pseudonymise: 32 random bytes, or 64 hex digits.", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("Recorded in the manifest: reports computed from the archive suppress cells counting fewer than K.", valueName: "K"))
    var minCount: Int64?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    @Option(help: "Output: table (a sentence) or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if untilSeq != nil && knownAt != nil { throw ValidationError("give --until-seq or --known-at, not both") }
        if let untilSeq, untilSeq < 1 { throw ValidationError("--until-seq must be at least 1") }
        if pseudonymise && key == nil { throw ValidationError("--pseudonymise needs --key FILE (make one with: head -c 32 /dev/urandom > study.key)") }
        if !pseudonymise && key != nil { throw ValidationError("--key is only used with --pseudonymise") }
        if let minCount, minCount < 1 { throw ValidationError("--min-count must be at least 1") }
        if ![.table, .json].contains(format) { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        let pseudonymiser = try ResearchFailure.guarded { try key.map { Pseudonymiser(key: try PseudonymKey(path: $0)) } }
        let l = try ledger.open()
        let options = ExportOptions(untilSeq: untilSeq, knownAt: knownAt?.text, highCompression: hc,
                                    pseudonymiser: pseudonymiser, minCount: minCount, force: force)
        let bar = ProgressBar("exporting")
        let started = Timestamp.monotonic()
        let summary = try ResearchFailure.guarded {
            try ArchiveExporter.export(from: l, to: out, options: options) { done, total in bar.update(done, of: total, unit: "events") }
        }
        bar.finish()
        let seconds = Timestamp.monotonic() - started
        let m = summary.manifest
        if let k = summary.uniqueness {
            Console.err("k-anonymity: \(k.unique) of \(k.organisations) organisations are unique by (kind, schools band, region)")
        }
        if format == .json {
            Console.out(JSONValue.object(JSONObject([
                ("out", .string(out)), ("events", .int(m.events)), ("first_seq", m.firstSeq.map(JSONValue.int) ?? .null),
                ("last_seq", m.lastSeq.map(JSONValue.int) ?? .null), ("head_hash", .string(m.headHash)),
                ("pseudonymised", .bool(m.options.pseudonymised)), ("ndjson_bytes", .int(summary.ndjsonBytes)),
                ("archive_bytes", .int(summary.archiveBytes)), ("seconds", .double(seconds)),
            ])).rendered(pretty: true))
        } else {
            let ratio = summary.archiveBytes > 0 ? Double(summary.ndjsonBytes) / Double(summary.archiveBytes) : 0
            Console.out("""
                exported \(m.events) events (seq 1–\(m.lastSeq ?? 0)\(m.options.pseudonymised ? ", pseudonymised" : "")) to \(out)
                head \(m.headHash)
                \(summary.ndjsonBytes) bytes of NDJSON in \(summary.archiveBytes) bytes (ratio \(format2(ratio))), \(format2(seconds)) s
                """)
        }
    }
}

// MARK: - replay

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Build a study database from an archive: the events and every read model, in one SQLite file.",
        discussion: """
            Checks the archive, then writes a new SQLite file holding its events (table
            events), every built-in read model (attendance, membership, ties, reviews, …),
            the read models of your own definitions (--projection, format in
            projections/README.md) and study_meta (where it came from: archive head,
            pseudonymised or not, min_count). Open it with sqlite3, R (RSQLite) or Python
            (sqlite3); event fields are in events.data as JSON: json_extract(data,
            '$.org_id').

            The file is itself a Trellis ledger: 'trellis verify --db STUDY.db' re-checks
            it.

            Examples:
              trellis replay region.lz4 --out study.db
              trellis replay region.lz4 --out study.db --projection my_ties.sql --as-of 2025-08-31
              sqlite3 study.db "SELECT org_id, count(*) FROM attendance GROUP BY org_id"
            """)

    @Argument(help: ArgumentHelp("The archive written by 'trellis export'.", valueName: "archive"))
    var archive: String

    @Option(help: ArgumentHelp("The study database to create.", valueName: "study.db"))
    var out: String

    @Option(name: .customLong("projection"), help: ArgumentHelp("A projection definition of your own (repeatable); see projections/README.md.", valueName: "file.sql"))
    var projectionFiles: [String] = []

    @OptionGroup var time: TimeTravelOptions

    @Flag(help: "Replace the study database if it exists.")
    var force = false

    func run() throws {
        let definitions = try Failure.guarded {
            try projectionFiles.map { path -> ProjectionDefinition in
                let reader = try LineReader(path: path)
                defer { reader.close() }
                var text = ""
                try reader.forEachLine { line, _, _ in text += String(decoding: line, as: UTF8.self) + "\n"; return true }
                return try ProjectionDefinition.parse(text, source: path)
            }
        }
        let bar = ProgressBar("replaying")
        let summary = try ResearchFailure.guarded(subject: archive, nothing: "written") {
            try StudyBuilder.build(archive: archive, out: out,
                                   options: StudyOptions(definitions: definitions, knownAt: time.knownAt?.text, asOf: time.asOf?.text, force: force)) { _, done, total in
                bar.update(done, of: total, unit: "")
            }
        }
        bar.finish()
        var when = ""
        if let k = time.knownAt { when += ", as known at \(k.text)" }
        if let a = time.asOf { when += ", read models as of \(a.text)" }
        Console.out("""
            built \(out): \(summary.events) events\(when), head \(summary.headHash)
            read models: \(summary.projections.joined(separator: ", ")); provenance in table study_meta
            open it with: sqlite3 \(out)
            """)
    }
}

// MARK: - proof

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
                let m = try ResearchFailure.guarded { try ArchiveReader.manifest(path: archive) }
                return (Int(m.events), MerkleLeaves.archive(archive))
            }
            let l = try ledger.open()
            let head = try Failure.guarded { try l.head() }
            return (Int(head.seq), MerkleLeaves.ledger(l))
        }

        var what: String { archive == nil ? "the ledger's head" : "the archive's last event" }
    }

    static func print(_ doc: ProofDocument) { Console.out(doc.json.rendered(pretty: true)) }

    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tree's root (of the whole log, or of its first N events).")
        @OptionGroup var source: Source
        @Option(help: ArgumentHelp("Tree size: the first N events (default: all).", valueName: "N")) var size: Int?

        func run() throws {
            let (head, leaves) = try source.open()
            let n = size ?? head
            if n < 0 || n > head { throw Failure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            let root = try ResearchFailure.guarded { try MerkleTree.root(size: n, leaves: leaves) }
            ProofCommand.print(.root(size: n, root: Array(root)))
        }
    }

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prove that the event at SEQ is in the tree of the first N events.")
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("The event's seq.", valueName: "seq")) var seq: Int
        @Option(help: ArgumentHelp("Tree size (default: all events).", valueName: "N")) var size: Int?

        func run() throws {
            let (head, leaves) = try source.open()
            let n = size ?? head
            if n < 1 || n > head { throw Failure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            if seq < 1 || seq > n {
                throw Failure.usage("seq \(seq) is not in a tree of \(n) events" + (seq > head ? " (the head is seq \(head))" : ""))
            }
            let proof = try ResearchFailure.guarded { try MerkleTree.inclusionProof(index: seq - 1, size: n, leaves: leaves) }
            ProofCommand.print(.inclusion(proof))
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prove that the tree of NEW_SIZE events extends the tree of OLD_SIZE.")
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("The earlier tree size.", valueName: "old-size")) var oldSize: Int
        @Argument(help: ArgumentHelp("The later tree size (default: all events).", valueName: "new-size")) var newSize: Int?

        func run() throws {
            let (head, leaves) = try source.open()
            let n = newSize ?? head
            if n > head { throw Failure.usage("tree size \(n) is beyond \(source.what) (seq \(head))") }
            if oldSize == 0 { throw Failure.usage("there is no consistency proof from size 0 (RFC 9162): every tree extends the empty tree") }
            if oldSize < 1 || oldSize > n { throw Failure.usage("the old size must be from 1 to the new size (\(n)), got \(oldSize)") }
            let proof = try ResearchFailure.guarded { try MerkleTree.consistencyProof(oldSize: oldSize, newSize: n, leaves: leaves) }
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
            let text = try Failure.guarded { () throws -> String in
                let reader = try LineReader(path: file)
                defer { reader.close() }
                var text = ""
                try reader.forEachLine { line, _, _ in text += String(decoding: line, as: UTF8.self) + "\n"; return true }
                return text
            }
            let doc: ProofDocument
            do { doc = try ProofDocument.parse(text) } catch {
                Console.err("trellis: \(file) is not a proof: \(error)")
                throw ExitCode(65)
            }
            switch doc {
            case .consistency: break
            default: if oldRoot != nil { throw Failure.usage("--old-root applies to consistency proofs; \(file) is another kind of proof") }
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
