import TrellisCore

/// Import on every core: lines are read in order into chunks, any free thread decodes a chunk
/// (pure work: JSON parsing and validation), a chunk's speculative chain steps are computed
/// in line order by whichever thread gets there first, and the calling thread, which holds
/// the write transaction, checks rules and inserts the chunks in line order
/// (``Pipeline/runShared(capacity:helpers:read:link:consume:)``).
///
/// When decoding cost about twice what writing did, the earlier fixed split (one thread
/// decoding and chaining, one writing) left the writer idle more than half the time: 1.3 of
/// two cores busy. Now the writer decodes whenever its next chunk is not ready, and so does the
/// reading thread whenever it has read far enough ahead; with the chain computed on the
/// writer instead, the writer became the bottleneck (1.4 cores busy), hence the link step.
/// Since the decoder lost its envelope tree, decoding costs about what writing does, and the
/// writer sets the pace (perf: busy 97 % of the time, the reading thread 85 %).
/// At most ``maxQueuedChunks`` chunks of at most ``chunkBytes`` of lines are held, so memory
/// stays flat whatever the input. Decoding touches no database and no shared state.
package enum DecodePipeline {
    static let chunkSize = 1024
    /// A chunk is also cut once its lines reach this many bytes, so that what is held stays
    /// bounded (about ``maxQueuedChunks`` × (this + one line)) whatever the lines' length:
    /// 1,024 lines of up to 1 MiB each would be a gigabyte a chunk.
    static let chunkBytes = 1 << 20
    static let maxQueuedChunks = 8

    package typealias Feed = (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void
    /// One decoded line, held with the others of its chunk in one array: the writer reads the
    /// items one after the other where they lie (``Chunk/withItems(_:)``), with no object to
    /// allocate, retain, release and free for each, and the hardware prefetcher sees a run of
    /// memory instead of a pointer a line. As a class, each item was one more allocation, the
    /// writer's retain of it paid the cache miss of an object another core had just written
    /// (perf, 1 M events: 65 of the writer's 1,880 samples while decoding ran), and the reading
    /// thread freed them one by one.
    ///
    /// `chain` is written by the thread that links the chunk, after the one that decoded it and
    /// before the writer reads it (the pipeline's lock orders the three).
    package struct Item: Sendable {
        package let number: Int
        package let source: String?
        package let decoded: DecodeResult
        /// For a decoded event, its stored data, prepared on a decoding thread.
        package let prepared: PreparedData?
        /// Its speculative chain step (``ChainSpeculation``), when the caller gave one.
        package var chain = ChainStep()
        /// Where its rule checks will look first in the writer's rule cache (``EntityHints``).
        let hints: EntityHints
        /// Its id's hash in a first import's id filter (``PreparedData/idHash``; 0 for none).
        var idHash: UInt64 { prepared?.idHash ?? 0 }

        init(number: Int, source: String?, decoded: consuming DecodeResult, prepared: consuming PreparedData?, hints: EntityHints = EntityHints()) {
            self.number = number; self.source = source; self.decoded = decoded; self.prepared = prepared; self.hints = hints
        }
    }

    /// Runs `feed` on a worker thread, which copies each non-blank line into chunks; any free
    /// thread decodes a chunk, and `consume` gets the items on this thread in line order, each
    /// as its index in its chunk's items (lent in place; the ones after it may be looked at).
    /// `consume` returns false to stop reading early. `prepare` sees each chunk's items before
    /// they are consumed (see ``AppendStorage/prefetch(_:)``). `decoders` is the number of
    /// extra decoding threads (tests force some on a two-core machine).
    package static func run(feed: Feed, speculation: ChainSpeculation? = nil, decoders: Int = Pipeline.extraWorkers,
                            prepare: (([Item]) throws -> Void)? = nil,
                            consume: (_ items: UnsafeMutableBufferPointer<Item>, _ index: Int) throws -> Bool) throws {
        try Pipeline.runShared(capacity: maxQueuedChunks, helpers: decoders, read: { publish in
            var chunk = Chunk(source: nil)
            // Two closure parameters meet here: Swift wants one of them marked escaping.
            try withoutActuallyEscaping(publish) { publish in try feed { line, number, source in
                if isBlank(line) { return true }
                if source != chunk.source {
                    if chunk.count > 0 { guard publish(chunk) else { return false } }
                    chunk = Chunk(source: source)
                }
                chunk.add(line, number: number)
                if chunk.count == chunkSize || chunk.byteCount >= chunkBytes {
                    guard publish(chunk) else { return false }
                    chunk = Chunk(source: source)
                }
                return true
            } }
            if chunk.count > 0 { _ = publish(chunk) }
        }, link: speculation == nil ? nil : { chunk in
            // In line order, one chunk at a time, on whichever thread gets there first.
            guard let speculation else { return }
            // Read where they lie: binding the item's event and prepared data copied both.
            chunk.withItems { items in
                for i in items.indices {
                    if let step = items[i].prepared?.chain(speculation) { items[i].chain = step }
                }
            }
        }, consume: { chunk in
            try prepare?(chunk.items)
            // Lent in place, not copied: a copy and a destroy of each item cost the writer 0.7 k
            // instructions.
            return try chunk.withItems { items in
                for i in items.indices where try !consume(items, i) { return false }
                return true
            }
        })
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }

    /// Up to ``chunkSize`` lines of one source, copied as read, then their decoded items.
    ///
    /// Filled by the reading thread, then worked by one thread, then read by the writer, each
    /// handing it on through the pipeline's lock: no two ever touch it at once, so its arrays
    /// are not checked for exclusive access at run time (three checks a line when reading
    /// alone: 0.7 k instructions a line, callgrind, 50 k events 2.815 G → 2.781 G).
    final class Chunk: SharedChunk {
        @exclusivity(unchecked) private var bytes: [UInt8] = []
        /// Where each line ends in `bytes`, and its number in its file.
        @exclusivity(unchecked) private var ends: [Int] = []
        @exclusivity(unchecked) private var numbers: [Int] = []
        let source: String?
        @exclusivity(unchecked) private(set) var items: [Item] = []

        init(source: String?) {
            self.source = source
            bytes.reserveCapacity(chunkSize * 256)
            ends.reserveCapacity(chunkSize)
            numbers.reserveCapacity(chunkSize)
        }

        var count: Int { ends.count }
        var byteCount: Int { bytes.count }

        /// The items, in place, for the one thread that holds the chunk (the linking thread,
        /// then the consumer).
        func withItems<R>(_ body: (UnsafeMutableBufferPointer<Item>) throws -> R) rethrows -> R {
            try items.withUnsafeMutableBufferPointer { try body($0) }
        }

        func add(_ line: UnsafeBufferPointer<UInt8>, number: Int) {
            bytes.append(contentsOf: line)
            ends.append(bytes.count)
            numbers.append(number)
        }

        /// The decoded items, freed by the thread that decoded them (``SharedChunk/dropWork()``).
        func dropWork() { items = [] }

        /// Decodes every line and prepares each event's stored data; drops the lines.
        func work() {
            items.reserveCapacity(ends.count)
            var recent = EventDecoder.Recent()
            bytes.withUnsafeBufferPointer { all in
                var start = 0
                for k in ends.indices {
                    let line = UnsafeBufferPointer(rebasing: all[start..<ends[k]])
                    start = ends[k]
                    var canonicalData: Range<Int>?
                    // The decoded event is moved into its item, never copied: binding it out of
                    // a kept result and then storing both copied its strings and data (retains
                    // and releases of each, on memory another core frees).
                    switch EventDecoder.decode(line: line, number: numbers[k], canonicalData: &canonicalData, recent: &recent) {
                    case .success(let event):
                        // Data already canonical (as Trellis and most tools write it; the parser
                        // notices) is kept as it came: writing it anew was a tenth of decoding.
                        let canonical = event.type == .personRegistered ? nil : canonicalData.map { UnsafeBufferPointer(rebasing: line[$0]) }
                        let prepared = try? PreparedData.of(event, canonicalData: canonical)
                        let hints = EntityHints(event)
                        items.append(Item(number: numbers[k], source: source, decoded: .success(consume event), prepared: consume prepared, hints: hints))
                    case let failure:
                        items.append(Item(number: numbers[k], source: source, decoded: consume failure, prepared: nil))
                    }
                }
            }
            bytes = []
        }
    }
}
