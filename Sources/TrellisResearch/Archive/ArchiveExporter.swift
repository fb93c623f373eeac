import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// What `trellis export` is asked for.
public struct ExportOptions: Sendable {
    /// Export events 1…S only.
    public var untilSeq: Int64?
    /// Export what the ledger knew at T (events recorded by then): a UTC date or date-time.
    public var knownAt: String?
    /// LZ4 HC (level 9): smaller, about ten times slower to write; as fast to read.
    public var highCompression = false
    /// Replace identifiers by keyed pseudonyms and withhold free text.
    public var pseudonymiser: Pseudonymiser?
    /// Recorded in the manifest: reports computed from the archive suppress smaller cells.
    public var minCount: Int64?
    /// Replace an existing output file.
    public var force = false

    public init(untilSeq: Int64? = nil, knownAt: String? = nil, highCompression: Bool = false,
                pseudonymiser: Pseudonymiser? = nil, minCount: Int64? = nil, force: Bool = false) {
        self.untilSeq = untilSeq; self.knownAt = knownAt; self.highCompression = highCompression
        self.pseudonymiser = pseudonymiser; self.minCount = minCount; self.force = force
    }
}

/// What an export wrote.
public struct ExportSummary: Sendable {
    public var manifest: ArchiveManifest
    /// NDJSON bytes before compression (manifest included).
    public var ndjsonBytes: Int64
    /// Bytes of the archive file.
    public var archiveBytes: Int64
    /// CPU seconds of the two stages: scanning and writing lines, and compressing. On two
    /// free cores the export takes about the larger of the two.
    public var scanCPUSeconds: Double = 0
    public var compressCPUSeconds: Double = 0
    /// For a pseudonymised archive: how many organisations remain unique by its quasi-identifiers.
    public var uniqueness: OrganisationUniqueness?
}

/// CPU time of the calling thread.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A usage problem found once the ledger is open (exit 64).
public struct ExportUsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Writes archives: the manifest line, then every event of the chosen prefix exactly as
/// `trellis log --format ndjson` prints it, as one LZ4 frame.
///
/// The file is written under a temporary name next to the target and renamed into place once
/// complete and synced, so a failed or interrupted export never leaves a half archive behind.
///
/// ## Topics
/// - ``export(from:to:options:progress:)``
public enum ArchiveExporter {
    /// NDJSON handed to the compressing thread at a time.
    static let bufferBytes = 1 << 20

    public static func export(from ledger: any LedgerStore, to path: String, options: ExportOptions,
                              progress: ((Int64, Int64) -> Void)? = nil) throws -> ExportSummary {
        if !options.force, access(path, F_OK) == 0 { throw ArchiveError.exists(path: path) }
        let head = try ledger.head()
        var last = head.seq
        if let until = options.untilSeq {
            guard until >= 1 else { throw ExportUsageError(description: "--until-seq must be at least 1") }
            guard until <= head.seq else {
                throw ExportUsageError(description: "--until-seq \(until) is beyond the ledger's head (seq \(head.seq))")
            }
            last = until
        }
        if let knownAt = options.knownAt {
            guard let micros = Timestamp.micros(knownAt) else { throw ExportUsageError(description: "--known-at \(knownAt) is not a date or date-time") }
            last = min(last, try ledger.lastSeq(recordedAtOrBefore: Timestamp.recordedText(micros: micros)))
            if last == 0 { throw ArchiveError.nothingToExport("the ledger knew no events at \(knownAt) (--known-at is before the first event was recorded)") }
        }
        if last == 0 { throw ArchiveError.nothingToExport("the ledger at \(ledger.location) holds no events") }

        var lastEvent: RecordedEvent?
        try ledger.scan(from: last, through: last) { lastEvent = $0; return false }
        let bounds = (hash: lastEvent?.hash ?? [], first: try ledger.recordedAtBounds()?.first ?? "", last: lastEvent?.recordedAt ?? "")
        var headHash = Hex.encode(bounds.hash)
        if let p = options.pseudonymiser {
            // The pseudonymised chain is new: a first pass finds its head for the manifest.
            var firstPass = OrganisationUniqueness()
            headHash = try pseudonymisedChain(ledger: ledger, through: last, pseudonymiser: p, tally: &firstPass) { _ in true }
        }
        let manifest = ArchiveManifest(
            events: last, firstSeq: 1, lastSeq: last, headHash: headHash,
            firstRecordedAt: bounds.first, lastRecordedAt: bounds.last,
            schemaVersions: ArchiveManifest.catalogueVersions,
            createdAt: Timestamp.recordedText(micros: Timestamp.nowMicros()),
            options: .init(untilSeq: options.untilSeq, knownAt: options.knownAt, compression: options.highCompression ? "lz4-hc-9" : "lz4",
                           pseudonymised: options.pseudonymiser != nil, minCount: options.minCount),
            source: .init(headSeq: head.seq, headHash: head.hashHex, lastSeqHash: Hex.encode(bounds.hash)),
            pseudonyms: options.pseudonymiser.map {
                .init(scheme: "HMAC-SHA-256(key, kind \":\" id), first 16 hex digits, prefixed by the kind (net, org, person, meeting, doc, review, evt, region)",
                      keyFingerprint: $0.fingerprint, withheld: Pseudonymiser.withheldFields)
            })

        // Registered: removed on SIGINT/SIGTERM; a stale one of a dead process is removed here.
        let temporary = TemporaryFiles.partialPath(for: path)
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ArchiveError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var closed = false
        defer {
            if !closed { close(fd) }
            TemporaryFiles.remove(temporary)
        }
        let writer = try LZ4FrameWriter(fd: fd, path: path, level: options.highCompression ? 9 : 0)
        var ndjson: Int64 = 0
        var uniqueness: OrganisationUniqueness?
        // Scanning and writing lines on a worker, compressing here.
        var scanSeconds = 0.0, compressSeconds = 0.0
        try Pipeline.run(capacity: 4, produce: { emit in
            let scanStart = threadCPUSeconds()
            defer { scanSeconds = threadCPUSeconds() - scanStart }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(bufferBytes + 64 << 10)
            buffer.append(contentsOf: manifest.json.rendered().utf8)
            buffer.append(0x0A)
            /// False once the compressing side has stopped (it failed).
            func flushIfFull(_ b: inout [UInt8]) -> Bool {
                guard b.count >= bufferBytes else { return true }
                ndjson += Int64(b.count)
                defer {
                    b = []
                    b.reserveCapacity(bufferBytes + 64 << 10)
                }
                return emit(b)
            }
            if let p = options.pseudonymiser {
                var tally = OrganisationUniqueness()
                _ = try pseudonymisedChain(ledger: ledger, through: last, pseudonymiser: p, tally: &tally) { line in
                    buffer.append(contentsOf: line)
                    buffer.append(0x0A)
                    return flushIfFull(&buffer)
                }
                uniqueness = tally
            } else {
                try plainLines(ledger: ledger, through: last, progress: progress, buffer: &buffer, flush: flushIfFull)
            }
            if !buffer.isEmpty { ndjson += Int64(buffer.count); _ = emit(buffer) }
        }, consume: { buffer in
            let start = threadCPUSeconds()
            defer { compressSeconds += threadCPUSeconds() - start }
            try buffer.withUnsafeBytes { try writer.write($0) }
            return true
        })
        let finishStart = threadCPUSeconds()
        try writer.finish()
        compressSeconds += threadCPUSeconds() - finishStart
        if fsync(fd) != 0 { throw ArchiveError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        closed = true
        if rename(temporary, path) != 0 { throw ArchiveError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        return ExportSummary(manifest: manifest, ndjsonBytes: ndjson, archiveBytes: writer.bytesOut,
                             scanCPUSeconds: scanSeconds, compressCPUSeconds: compressSeconds, uniqueness: uniqueness)
    }

    /// The stored lines of events 1…`through`, straight from the columns into `buffer`.
    static func plainLines(ledger: any LedgerStore, through: Int64, progress: ((Int64, Int64) -> Void)?,
                           buffer: inout [UInt8], flush: (inout [UInt8]) -> Bool) throws {
        try ledger.scanStored(from: 1, through: through) { e in
            CanonicalEnvelope.write(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt, recordedAt: e.recordedAt,
                                    actor: e.actor, data: e.data, hash: e.hash, newline: true, into: &buffer)
            guard flush(&buffer) else { return false }
            if e.seq & 0xFFFF == 0 { progress?(e.seq, through) }
            return true
        }
    }

    /// Pseudonymises events 1…`through` in seq order, chains them anew from the zero hash
    /// (seq and recorded_at kept), hands each line to `line` (false: stop) and returns the new head (hex).
    static func pseudonymisedChain(ledger: any LedgerStore, through: Int64, pseudonymiser: Pseudonymiser,
                                   tally: inout OrganisationUniqueness,
                                   _ line: ([UInt8]) throws -> Bool) throws -> String {
        var previous = CanonicalEnvelope.genesis
        try ledger.scan(from: 1, through: through) { e in
            guard let type = EventType(rawValue: e.type) else {
                throw ArchiveError.broken(seq: e.seq, why: "the ledger holds an event of unknown type \(e.type)")
            }
            let data = (try? JSONParser.parse(e.data))?.object ?? JSONObject()
            let (id, pseudoData) = pseudonymiser.transform(type: type, id: e.id, data: data)
            tally.observe(type: type, data: pseudoData)
            var event = e
            event.id = id
            event.actor = nil
            event.data = CanonicalJSON.string(.object(pseudoData))
            let canonical = CanonicalEnvelope.bytes(event)
            event.hash = canonical.withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
            previous = event.hash
            return try line(CanonicalEnvelope.bytes(event, withHash: true))
        }
        return Hex.encode(previous)
    }
}
