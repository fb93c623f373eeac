import Foundation
import TrellisLedger
import TrellisCore

/// Reads an archive and checks it on the fly: the manifest first, then every event line
/// through the hash chain (``ArchiveChain``), then that the counts, the last seq and the head
/// hash are what the manifest announced. Memory stays flat: lines stream from the LZ4 frame.
///
/// Decompressing runs on a worker thread; parsing and the checks of each event on its own
/// run on whichever thread is free, a chunk of lines at a time (``ArchiveExaminer``); the
/// chain is linked and `body` gets the checked events in order on the calling thread (which,
/// for an import, holds the write transaction).
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
    static let chunkSize = 1024
    /// A chunk of lines is also cut at this many bytes, so that what the pipeline holds stays
    /// bounded whatever the lines' length (up to 8 MiB each, ``LZ4FrameReader``).
    static let chunkBytes = 1 << 20

    /// Streams every event to `body` and returns the manifest once the whole archive checks out.
    /// Throws ``ArchiveError`` when it does not, and whatever `body` throws.
    /// Without `pipelined`, everything runs on the calling thread (for a check with nothing
    /// else to do, handing events across threads costs more than it saves).
    public func read(pipelined: Bool = true, _ body: (ChainedEvent) throws -> Void) throws -> ArchiveManifest {
        try read(pipelined: pipelined, examiners: Pipeline.extraWorkers, body)
    }

    /// ``read(pipelined:_:)`` with `examiners` extra examining threads (tests force some on two cores).
    func read(pipelined: Bool, examiners: Int, _ body: (ChainedEvent) throws -> Void) throws -> ArchiveManifest {
        let frame = self.frame, path = self.path
        var manifest: ArchiveManifest?
        var chain = ArchiveChain()
        // Linked on the calling thread either way, not in a link step on whichever thread is
        // free: handing the chained events across cores cost the import a tenth more CPU
        // (1.5 s against 1.35 s for 263 k events) for 1 % more instructions. Tried again once
        // the writer had become the import's bottleneck (its hash check a sixth of its time):
        // still slower, 300 k events in 1.000 s against 0.956 s (medians of nine, alternated).
        // What moved off the calling thread instead is the hash of every event but a chunk's
        // first, checked where the chunk is examined (``Chunk/chainEachOnThePrevious()``).
        func consume(_ chunk: Chunk) throws {
            try chunk.link(&chain, body)
            // A line that could not be read as an event ended the examination of its chunk.
            if let failure = chunk.failure { throw failure }
        }
        if pipelined {
            try Pipeline.runShared(capacity: 8, helpers: examiners, read: { publish in
                try Self.chunks(of: frame, path: path, manifest: &manifest) { publish($0) }
            }, consume: { (chunk: Chunk) in
                try consume(chunk)
                return true
            })
        } else {
            try Self.chunks(of: frame, path: path, manifest: &manifest) { chunk in
                chunk.work()
                try consume(chunk)
                return true
            }
        }
        guard let manifest else { throw ArchiveError.notAnArchive(path: path, reason: "the LZ4 frame is empty (no manifest line)") }
        try Self.finish(manifest, chain)
        return manifest
    }

    /// The archive's lines: the manifest (into `manifest`), then every event line, in chunks
    /// cut at ``chunkSize`` lines or ``chunkBytes`` bytes and handed to `emit` (false: stop).
    /// Each line is numbered (1 is the manifest) and given the seq it must have; a line beyond
    /// the count the manifest announces is refused here.
    static func chunks(of frame: LZ4FrameReader, path: String, manifest: inout ArchiveManifest?,
                       _ emit: (Chunk) throws -> Bool) throws {
        var chunk: Chunk?
        var seq: Int64 = 0
        try frame.forEachLine { line, number in
            guard let m = manifest else {
                manifest = try ArchiveManifest.parse(line, path: path)
                return true
            }
            if isBlank(line) { return true }
            seq += 1
            if seq > m.events {
                throw ArchiveError.broken(seq: seq, why: "the manifest announces \(m.events) events, but the archive holds more")
            }
            let c = chunk ?? Chunk(manifest: m)
            c.add(line, number: number, seq: seq)
            chunk = c
            if c.count == chunkSize || c.byteCount >= chunkBytes {
                chunk = nil
                return try emit(c)
            }
            return true
        }
        if let chunk { _ = try emit(chunk) }
    }

    /// Up to ``chunkSize`` event lines, copied as decompressed; then, examined on whichever
    /// thread took it, their events (until the first line that is not one, kept as `failure`).
    ///
    /// Filled by the reading thread, examined by one thread, linked by one, each handing it on
    /// through the pipeline's lock: no two ever touch it at once, so its arrays are not checked
    /// for exclusive access at run time (four checks a line when reading alone).
    final class Chunk: SharedChunk {
        let manifest: ArchiveManifest
        @exclusivity(unchecked) private var bytes: [UInt8] = []
        @exclusivity(unchecked) private var ends: [Int] = [], numbers: [Int] = [], seqs: [Int64] = []
        @exclusivity(unchecked) private var examiner = ArchiveExaminer()
        @exclusivity(unchecked) private var examined: [ExaminedEvent] = []
        /// For each examined event: its hash was found to be SHA-256(the hash the event before it
        /// in this chunk carries ‖ its canonical envelope) on the thread that examined the chunk
        /// (``ArchiveChain/link(_:envelope:hashVouchedFor:chainedOnPrevious:)``).
        @exclusivity(unchecked) private var chainedOnPrevious: [Bool] = []
        /// The first line that could not be read as an event (examination stopped there).
        private(set) var failure: ArchiveError?

        init(manifest: ArchiveManifest) {
            self.manifest = manifest
            bytes.reserveCapacity(ArchiveReader.chunkSize * 320)
            ends.reserveCapacity(ArchiveReader.chunkSize)
            numbers.reserveCapacity(ArchiveReader.chunkSize)
            seqs.reserveCapacity(ArchiveReader.chunkSize)
        }

        var count: Int { ends.count }
        var byteCount: Int { bytes.count }

        func add(_ line: UnsafeBufferPointer<UInt8>, number: Int, seq: Int64) {
            bytes.append(contentsOf: line)
            ends.append(bytes.count)
            numbers.append(number)
            seqs.append(seq)
        }

        /// The examined events and their envelopes, freed by the thread that examined them
        /// (``SharedChunk/dropWork()``).
        func dropWork() {
            examined = []
            examiner.envelopes = []
            chainedOnPrevious = []
        }

        func work() {
            var recent = ArchiveLine.Recent()
            examined.reserveCapacity(ends.count)
            examiner.envelopes.reserveCapacity(bytes.count + ends.count * 16)
            bytes.withUnsafeBufferPointer { all in
                var start = 0
                for k in ends.indices {
                    let line = UnsafeBufferPointer(rebasing: all[start..<ends[k]])
                    start = ends[k]
                    do throws(ArchiveError) {
                        let (event, data) = try ArchiveReader.event(line, number: numbers[k], seq: seqs[k], manifest: manifest, recent: &recent)
                        examined.append(examiner.examine(event, data: data, line: numbers[k]))
                    } catch {
                        failure = error
                        return
                    }
                }
            }
            bytes = []
            examined.withUnsafeBufferPointer(ArchiveExaminer.setLookahead)
            chainEachOnThePrevious()
        }

        /// Checks the hash of every event but the chunk's first against the hash the event
        /// before it carries, here, on the thread that examined the chunk and while its
        /// envelopes are in this core's cache (``ArchiveChain/chainedOnPrevious(_:envelopes:)``).
        /// The writer of an archive import did these hashes itself, a sixth of its time,
        /// reading envelopes another core had just written: 1 M events, 3.31 s, against 2.87 s
        /// with no hash checked at all.
        private func chainEachOnThePrevious() {
            chainedOnPrevious = examiner.envelopes.withUnsafeBufferPointer { envelopes in
                examined.withUnsafeBufferPointer { ArchiveChain.chainedOnPrevious($0, envelopes: envelopes) }
            }
        }

        /// Links the examined events onto `chain`, in order, handing each to `body`.
        func link(_ chain: inout ArchiveChain, _ body: (ChainedEvent) throws -> Void) throws {
            // Lent, not copied: reading each examined event out of the array retained its fields.
            try examiner.envelopes.withUnsafeBufferPointer { envelopes in try examined.withUnsafeBufferPointer { examined in
                for i in examined.indices {
                    let chained: ChainedEvent
                    do throws(ArchiveEventError) {
                        chained = try chain.link(examined[i], envelope: UnsafeBufferPointer(rebasing: envelopes[examined[i].envelope]),
                                                 chainedOnPrevious: chainedOnPrevious[i])
                    } catch {
                        throw ArchiveReader.archiveError(error)
                    }
                    try body(chained)
                }
            } }
        }
    }

    /// One event line read and checked against the manifest (not yet against the chain).
    static func event(_ line: UnsafeBufferPointer<UInt8>, number: Int, seq: Int64, manifest m: ArchiveManifest,
                      recent: inout ArchiveLine.Recent) throws(ArchiveError) -> (event: RecordedEvent, data: ParsedData?) {
        let (event, data) = try ArchiveLine.parseWithData(line, number: number, expectedSeq: seq, recent: &recent)
        // The manifest's versions of the type, looked up again only when the type changes: a
        // dictionary look-up a line hashed the type's name (callgrind, 50 k archived events: …).
        if event.type != recent.versionsOf {
            recent.versionsOf = event.type
            recent.versions = m.schemaVersions[event.type]
        }
        if let versions = recent.versions, !versions.contains(event.v) {
            throw ArchiveError.broken(seq: event.seq, why: "\(event.type) v\(event.v) is not among the manifest's schema_versions")
        }
        if m.options.pseudonymised, let why = pseudonymisedLineProblem(event) {
            throw ArchiveError.broken(seq: event.seq, why: why)
        }
        return (event, data)
    }

    static func archiveError(_ error: ArchiveEventError) -> ArchiveError {
        if error.refused { return ArchiveError.refused(line: error.line, seq: error.seq, why: error.why) }
        return ArchiveError.broken(seq: error.seq, why: error.why)
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

    /// The checks once every event is chained: as many as announced, the head hash and the
    /// last recorded_at the manifest gives, and its source's claims.
    static func finish(_ m: ArchiveManifest, _ chain: ArchiveChain) throws(ArchiveError) {
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
                           progress: ((Int64, Int64?) -> Void)? = nil) throws -> (outcome: AppendOutcome, manifest: ArchiveManifest) {
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
        return (outcome, manifest)
    }
}
