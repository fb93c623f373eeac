import TrellisLedger
import TrellisCore

/// Reads an archive and checks it on the fly: the manifest first, then every event line
/// through the hash chain (``ArchiveChain``), then that the counts, the last seq and the head
/// hash are what the manifest announced. Memory stays flat: lines stream from the LZ4 frame.
///
/// Decompressing, parsing and chaining run on a worker thread; `body` gets the checked events
/// in order on the calling thread (which, for an import, holds the write transaction).
///
/// ## Topics
/// - ``init(path:)``
/// - ``read(_:)``
/// - ``verify(path:)``
public final class ArchiveReader {
    public let path: String
    private let frame: LZ4FrameReader

    /// Opens the file and checks that it is an LZ4 frame; nothing is read yet.
    public init(path: String) throws(ArchiveError) {
        self.path = path
        frame = try LZ4FrameReader(path: path)
    }

    /// Size of the archive file, when known.
    public var size: Int64? { frame.size }
    /// Compressed bytes read so far.
    public var bytesRead: Int64 { frame.bytesRead }
    /// NDJSON bytes decompressed so far.
    public var ndjsonBytes: Int64 { frame.bytesOut }
    /// CPU seconds the worker thread spent decompressing, parsing and chaining (last `read`).
    public private(set) var workerCPUSeconds = 0.0

    static let chunkSize = 1024

    /// Streams every event to `body` and returns the manifest once the whole archive checks out.
    /// Throws ``ArchiveError`` when it does not, and whatever `body` throws.
    /// Without `pipelined`, everything runs on the calling thread (for a check with nothing
    /// else to do, handing events across threads costs more than it saves).
    public func read(pipelined: Bool = true, _ body: (ChainedEvent) throws -> Void) throws -> ArchiveManifest {
        if !pipelined {
            return try Self.check(frame: frame, path: path) { chunk in
                for i in chunk.indices { try body(chunk[i]) }
                return true
            }
        }
        let frame = self.frame, path = self.path
        var manifest: ArchiveManifest?
        var seconds = 0.0
        defer { workerCPUSeconds = seconds }
        try Pipeline.run(capacity: 8, produce: { emit in
            let start = threadCPUSeconds()
            defer { seconds = threadCPUSeconds() - start }
            manifest = try Self.check(frame: frame, path: path) { chunk in emit(chunk) }
        }, consume: { chunk in
            // Lent, not copied: a copy of each event cost the writer's thread 3 % of its time.
            for i in chunk.indices { try body(chunk[i]) }
            return true
        })
        guard let manifest else { throw ArchiveError.broken(seq: nil, why: "the archive ended before its manifest was read") }
        return manifest
    }

    /// Only the manifest line (the rest of the archive is not read, nor checked).
    public static func manifest(path: String) throws -> ArchiveManifest {
        let frame = try LZ4FrameReader(path: path)
        var manifest: ArchiveManifest?
        try frame.forEachLine { line, _ in
            manifest = try ArchiveManifest.parse(line, path: path)
            return false
        }
        guard let manifest else { throw ArchiveError.notAnArchive(path: path, reason: "the LZ4 frame is empty (no manifest line)") }
        return manifest
    }

    /// Checks an archive on its own (`trellis verify --archive`): the manifest and its counts,
    /// the chain, the head hash, first and last seq.
    public static func verify(path: String, progress: ((Int64, Int64?) -> Void)? = nil) throws -> ArchiveManifest {
        let reader = try ArchiveReader(path: path)
        var n: Int64 = 0
        return try reader.read(pipelined: false) { _ in
            n += 1
            if n & 0xFFFF == 0 { progress?(reader.bytesRead, reader.size) }
        }
    }

    /// The worker's side: manifest, lines, chain, totals. `deliver` gets chunks of checked
    /// events and returns false to stop.
    static func check(frame: LZ4FrameReader, path: String, deliver: ([ChainedEvent]) throws -> Bool) throws -> ArchiveManifest {
        var manifest: ArchiveManifest?
        var chain = ArchiveChain()
        var chunk: [ChainedEvent] = []
        chunk.reserveCapacity(chunkSize)
        var stopped = false
        try frame.forEachLine { line, number in
            guard let m = manifest else {
                manifest = try ArchiveManifest.parse(line, path: path)
                return true
            }
            if isBlank(line) { return true }
            let seq = chain.lastSeq + 1
            if seq > m.events {
                throw ArchiveError.broken(seq: seq, why: "the manifest announces \(m.events) events, but the archive holds more")
            }
            let event = try ArchiveLine.parse(line, number: number, expectedSeq: seq)
            if let versions = m.schemaVersions[event.type], !versions.contains(event.v) {
                throw ArchiveError.broken(seq: event.seq, why: "\(event.type) v\(event.v) is not among the manifest's schema_versions")
            }
            if m.options.pseudonymised, let why = pseudonymisedLineProblem(event) {
                throw ArchiveError.broken(seq: event.seq, why: why)
            }
            do {
                chunk.append(try chain.admit(event, line: number))
            } catch let error as ArchiveEventError {
                if error.refused { throw ArchiveError.refused(line: error.line, seq: error.seq, why: error.why) }
                throw ArchiveError.broken(seq: error.seq, why: error.why)
            }
            if chunk.count == chunkSize {
                if try !deliver(chunk) { stopped = true; return false }
                chunk.removeAll(keepingCapacity: true)
            }
            return true
        }
        if stopped { throw ArchiveError.broken(seq: nil, why: "reading stopped") }
        guard let m = manifest else { throw ArchiveError.notAnArchive(path: path, reason: "the LZ4 frame is empty (no manifest line)") }
        if !chunk.isEmpty, try !deliver(chunk) { throw ArchiveError.broken(seq: nil, why: "reading stopped") }
        let count = chain.lastSeq
        if count < m.events {
            throw ArchiveError.broken(seq: nil, why: "the manifest announces \(m.events) events, the archive holds \(count) (events were removed or the archive was cut and re-compressed)")
        }
        if Hex.encode(chain.previousHash) != m.headHash {
            throw ArchiveError.broken(seq: nil, why: "the chain's head \(Hex.encode(chain.previousHash)) is not the manifest's head_hash \(m.headHash)")
        }
        if m.events > 0, let lastRecorded = m.lastRecordedAt, chain.lastRecordedAt != lastRecorded {
            throw ArchiveError.broken(seq: nil, why: "the last event's recorded_at is not the manifest's last_recorded_at")
        }
        if let why = sourceProblem(m) { throw ArchiveError.broken(seq: nil, why: why) }
        return m
    }

    /// What the manifest's `source` claims that the lines contradict, or nil. `study_meta`
    /// copies these fields, so a forged provenance must not pass. For a plain archive the
    /// lines are the source's own events: its hash at `last_seq` is the archive's head, and a
    /// source head at `last_seq` is that hash too. A pseudonymised archive is chained anew, so
    /// the source's hashes are not in it: only their form and `head_seq` can be checked.
    static func sourceProblem(_ m: ArchiveManifest) -> String? {
        let last = m.lastSeq ?? 0
        let s = m.source
        func isHash(_ h: String) -> Bool { h.utf8.count == 64 && h == h.lowercased() && Hex.decode(h) != nil }
        guard isHash(s.headHash) else { return "the manifest's source.head_hash is not 64 lowercase hex digits" }
        guard isHash(s.lastSeqHash) else { return "the manifest's source.last_seq_hash is not 64 lowercase hex digits" }
        guard s.headSeq >= last else {
            return "the manifest's source.head_seq (\(s.headSeq)) is before its last_seq (\(last)): the source cannot have exported events it did not hold"
        }
        if s.headSeq == last && s.headHash != s.lastSeqHash {
            return "the manifest's source.head_hash is not its source.last_seq_hash, though source.head_seq is the last_seq (\(last))"
        }
        if !m.options.pseudonymised {
            guard s.lastSeqHash == m.headHash else {
                return "the manifest's source.last_seq_hash (\(s.lastSeqHash.prefix(16))…) is not the hash of event \(last) (\(m.headHash.prefix(16))…): the provenance does not match the events"
            }
        } else {
            guard let p = m.pseudonyms, p.keyFingerprint.utf8.count == 16, Hex.decode(p.keyFingerprint) != nil else {
                return "the manifest says pseudonymised, but pseudonyms.key_fingerprint is not 16 hex digits"
            }
        }
        return nil
    }

    /// A pseudonymised archive's lines have pseudonymous event ids and no actor; a line that
    /// does not is not from such an archive (a plain archive must not pass as one to escape
    /// the provenance check above).
    static func pseudonymisedLineProblem(_ e: RecordedEvent) -> String? {
        if e.actor != nil { return "the manifest says pseudonymised, but the line names an actor" }
        let u = Array(e.id.utf8)
        let hex = u.dropFirst(4).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        if u.count != 20 || !e.id.hasPrefix("evt-") || !hex {
            return "the manifest says pseudonymised, but the event id \(JSONValue.string(e.id).described) is not a pseudonym (evt-<16 hex digits>)"
        }
        return nil
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }
}

/// `trellis import ARCHIVE`: the archive's events into a ledger, checked on the fly, all or nothing.
///
/// ## Topics
/// - ``run(path:into:progress:)``
public enum ArchiveImporter {
    /// Appends the archive to `ledger`, which must be empty or hold a prefix of it (events it
    /// already holds are skipped). Returns the outcome and the manifest.
    public static func run(path: String, into ledger: any LedgerStore,
                           progress: ((Int64, Int64?) -> Void)? = nil) throws -> (outcome: AppendOutcome, manifest: ArchiveManifest, checkCPUSeconds: Double) {
        let reader = try ArchiveReader(path: path)
        var manifest: ArchiveManifest?
        var n: Int64 = 0
        let outcome = try ledger.appendArchived { visit in
            manifest = try reader.read { e in
                try visit(e)
                n += 1
                if n & 0x3FFF == 0 { progress?(reader.bytesRead, reader.size) }
            }
        }
        guard let manifest else { throw ArchiveError.broken(seq: nil, why: "no manifest") }
        return (outcome, manifest, reader.workerCPUSeconds)
    }
}
