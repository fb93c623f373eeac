import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisResearch

// MARK: - import ARCHIVE and verify --archive (hooks called from ImportCommand and VerifyCommand)

enum ArchiveCommands {
    /// `trellis import FILE` when FILE starts with the LZ4 frame magic. Returns false when no
    /// file is an archive (the NDJSON import goes on).
    static func importIfArchive(_ readers: [LineReader], ledger: LedgerOptions, keysFrom: String? = nil, format: TableOrJSON) throws -> Bool {
        guard let archive = readers.first(where: { $0.peek(4) == lz4FrameMagic }) else { return false }
        guard readers.count == 1 else {
            throw CommandFailure.usage("\(archive.name) is an archive: import it on its own, not together with other files")
        }
        // An archive on standard input is spooled to a temporary file: the reader checks the
        // frame and the manifest before anything is appended, so it needs the whole archive.
        let spooled = archive.size == nil ? try archive.spoolToTemporaryFile() : nil
        let path = spooled ?? archive.name
        defer { if let spooled { TemporaryFiles.remove(spooled) } }
        // The keys source is checked before anything is written: a refusal leaves the
        // destination as it was (not even created).
        let keySource = try keysFrom.map { try keysSource($0, for: path, archive: archive.name) }
        let l = try ledger.openStore(create: true)
        let bar = ProgressBar("importing")
        let source = path
        let outcome: AppendOutcome
        do {
            outcome = try ArchiveImporter.run(path: source, into: l) { done, total in bar.update(done, of: total, unit: "bytes") }.outcome
        } catch {
            throw ArchiveCommands.failure(error, archive: archive.name, nothing: "imported")
        }
        bar.finish()
        if let source = keySource {
            // The keys go store to store, never through a file.
            let taken = try l.adoptKeys(try source.personKeys())
            Console.err("trellis: \(taken) person key\(taken == 1 ? "" : "s") carried over from \(source.location)")
        }
        try printOutcome(outcome, format: format, ledger: l.location)
        return true
    }

    /// The ledger `--keys-from` names, opened, once it is known to hold the archive's log (its
    /// event at the archive's last seq has the archive's head hash; it may hold more). Checked
    /// from the manifest alone, before the import writes anything.
    static func keysSource(_ keysFrom: String, for path: String, archive name: String) throws -> any LedgerStore {
        let manifest: ArchiveManifest
        do { manifest = try ArchiveReader.manifest(path: path) } catch {
            throw ArchiveCommands.failure(error, archive: name, nothing: "imported")
        }
        let source = try LedgerOptions.parse(["--db", keysFrom]).openStore()
        guard let last = manifest.lastSeq, let held = try source.hash(at: last), Hex.encode(held) == manifest.headHash else {
            throw CommandFailure.usage("\(source.location) does not hold the log of the archive \(name): nothing was imported. "
                                       + "Name the ledger it was exported from with --keys-from, or import it without --keys-from (names then show as erased)")
        }
        return source
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
            throw e
        }
    }

    /// An error met while reading the archive `archive`, said about it: the archive is broken
    /// or refused, or its events do not fit the ledger, and `nothing` ("imported", "written")
    /// happened. The exit code stays the error's own.
    static func failure(_ error: Error, archive: String, nothing: String) -> Error {
        let tail = "; nothing was \(nothing)"
        switch error {
        case let e as ArchiveError:
            switch e {
            case .broken, .refused: return CommandFailure(exitCode: e.exitCode, "the archive \(archive) is \(e)\(tail)")
            default: return e
            }
        case let e as ArchiveDivergence:
            return CommandFailure(exitCode: e.exitCode, "\(e)\(tail)")
        case let e as AppendRejected:
            return CommandFailure(exitCode: e.exitCode, "the archive's events break the ledger's rules\(tail)", details: e.details)
        default:
            return error
        }
    }
}
