import TrellisLedger
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
            headHash = try pseudonymisedChain(ledger: ledger, through: last, pseudonymiser: p, tally: &firstPass) { _ in }
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
        let scanStart = threadCPUSeconds()
        let compressSeconds = try compressing(with: writer) { emit in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(bufferBytes + 64 << 10)
            buffer.append(contentsOf: manifest.json.rendered().utf8)
            buffer.append(0x0A)
            func flushIfFull(_ b: inout [UInt8]) {
                guard b.count >= bufferBytes else { return }
                ndjson += Int64(b.count)
                emit(b)
                b = []
                b.reserveCapacity(bufferBytes + 64 << 10)
            }
            if let p = options.pseudonymiser {
                var tally = OrganisationUniqueness()
                _ = try pseudonymisedChain(ledger: ledger, through: last, pseudonymiser: p, tally: &tally) { line in
                    buffer.append(contentsOf: line)
                    buffer.append(0x0A)
                    flushIfFull(&buffer)
                }
                uniqueness = tally
            } else {
                try plainLines(ledger: ledger, through: last, progress: progress, buffer: &buffer, flush: flushIfFull)
            }
            if !buffer.isEmpty { ndjson += Int64(buffer.count); emit(buffer) }
        }
        let scanSeconds = threadCPUSeconds() - scanStart
        if fsync(fd) != 0 { throw ArchiveError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        closed = true
        if rename(temporary, path) != 0 { throw ArchiveError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        return ExportSummary(manifest: manifest, ndjsonBytes: ndjson, archiveBytes: writer.bytesOut,
                             scanCPUSeconds: scanSeconds, compressCPUSeconds: compressSeconds, uniqueness: uniqueness)
    }

    /// Runs `produce` on this thread and the compression on a worker, buffers passing between
    /// them. Returns the worker's CPU seconds.
    static func compressing(with writer: LZ4FrameWriter, _ produce: (_ emit: ([UInt8]) -> Void) throws -> Void) throws -> Double {
        let channel = Pipeline.Channel<[UInt8]>(capacity: 4)
        let handoff = Pipeline.Handoff(writer)
        final class Clock: @unchecked Sendable { var seconds = 0.0 }
        let clock = Clock()
        let worker = try Pipeline.Worker {
            let start = threadCPUSeconds()
            defer { clock.seconds = threadCPUSeconds() - start }
            do {
                while let buffer = channel.take() {
                    try buffer.withUnsafeBytes { try handoff.value.write($0) }
                }
                if !channel.isCancelled { try handoff.value.finish() }
                channel.finish(nil)
            } catch {
                channel.finish(error)
                channel.cancel()
            }
        }
        do {
            try produce { channel.put($0) }
        } catch {
            channel.cancel()
            worker.join()
            throw error
        }
        channel.finish(nil)
        worker.join()
        if let failure = channel.failure { throw failure }
        return clock.seconds
    }

    /// The stored lines of events 1…`through`, straight from the columns into `buffer`.
    static func plainLines(ledger: any LedgerStore, through: Int64, progress: ((Int64, Int64) -> Void)?,
                           buffer: inout [UInt8], flush: (inout [UInt8]) -> Void) throws {
        try ledger.scanStored(from: 1, through: through) { e in
            LineWriter.append(seq: e.seq, id: e.id, type: e.type, v: e.v, occurredAt: e.occurredAt, recordedAt: e.recordedAt,
                              actor: e.actor, data: e.data, hash: e.hash, into: &buffer)
            flush(&buffer)
            if e.seq & 0xFFFF == 0 { progress?(e.seq, through) }
            return true
        }
    }

    /// Pseudonymises events 1…`through` in seq order, chains them anew from the zero hash
    /// (seq and recorded_at kept), hands each line to `line` and returns the new head (hex).
    static func pseudonymisedChain(ledger: any LedgerStore, through: Int64, pseudonymiser: Pseudonymiser,
                                   tally: inout OrganisationUniqueness,
                                   _ line: ([UInt8]) throws -> Void) throws -> String {
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
            try line(CanonicalEnvelope.bytes(event, withHash: true))
            return true
        }
        return Hex.encode(previous)
    }
}

/// Writes an archive line (the canonical envelope with its hash, and `\n`) from column bytes:
/// the same bytes as ``CanonicalEnvelope/write(seq:id:type:v:occurredAt:recordedAt:actor:data:hash:into:)``
/// (tests compare the two through `log --format ndjson`), with each piece copied in one go
/// instead of byte by byte, because export runs at the speed of this loop.
enum LineWriter {
    // StaticString: copied straight from the binary, no array to retain per line.
    static let open: StaticString = "{"
    static let actorKey: StaticString = #""actor":"#
    static let dataKey: StaticString = #""data":"#
    static let hashKey: StaticString = #","hash":""#
    static let idKey: StaticString = #"","id":""#
    static let occurredKey: StaticString = #"","occurred_at":""#
    static let recordedKey: StaticString = #"","recorded_at":""#
    static let seqKey: StaticString = #"","seq":"#
    static let typeKey: StaticString = #","type":""#
    static let vKey: StaticString = #"","v":"#
    static let close: StaticString = "}\n"
    static let hexDigits: StaticString = "0123456789abcdef"

    @inline(__always)
    static func put(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    static func append(seq: Int64, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, v: Int64,
                       occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>,
                       actor: UnsafeBufferPointer<UInt8>?, data: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>,
                       into out: inout [UInt8]) {
        put(open, &out)
        if let actor {
            put(actorKey, &out)
            if actor.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                CanonicalJSON.writeString(String(decoding: actor, as: UTF8.self), into: &out)
            } else {
                out.append(0x22)
                out.append(contentsOf: actor)
                out.append(0x22)
            }
            out.append(UInt8(ascii: ","))
        }
        put(dataKey, &out)
        out.append(contentsOf: data)
        put(hashKey, &out)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { hex in
            let digits = hexDigits.utf8Start
            for (k, b) in hash.prefix(32).enumerated() {
                hex[2 * k] = digits[Int(b >> 4)]
                hex[2 * k + 1] = digits[Int(b & 15)]
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: hex[0..<(2 * min(hash.count, 32))]))
        }
        put(idKey, &out)
        out.append(contentsOf: id)
        put(occurredKey, &out)
        out.append(contentsOf: occurredAt)
        put(recordedKey, &out)
        out.append(contentsOf: recordedAt)
        put(seqKey, &out)
        appendInt(seq, into: &out)
        put(typeKey, &out)
        out.append(contentsOf: type)
        put(vKey, &out)
        appendInt(v, into: &out)
        put(close, &out)
    }

    static func appendInt(_ value: Int64, into out: inout [UInt8]) {
        if value >= 0 && value < 10 { out.append(UInt8(value) + 0x30); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var m = value.magnitude
            var i = 20
            while m > 0 { i -= 1; digits[i] = UInt8(m % 10) + 0x30; m /= 10 }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }
}
