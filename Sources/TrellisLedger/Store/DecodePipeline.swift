import TrellisCore


/// Import in two stages on two cores: a worker thread reads and decodes lines (pure work:
/// JSON parsing and validation), while the calling thread, which holds the write
/// transaction, checks rules, seals, chains and inserts, in line order.
///
/// Chunks of decoded lines pass through a bounded queue, so memory stays flat whatever the
/// input size. The decode stage touches no database and no shared state.
package enum DecodePipeline {
    static let chunkSize = 1024
    static let maxQueuedChunks = 8

    package typealias Feed = (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void
    /// One decoded line. A class of constants, so that the writer reads its fields where they
    /// lie: a struct was copied out of the chunk for each line (the item, its event and its
    /// prepared data: a dozen atomic retains and releases of objects this thread made, each a
    /// cache line taken from the other core; about a sixth of the writer's time natively).
    package final class Item: Sendable {
        package let number: Int
        package let source: String?
        package let decoded: DecodeResult
        /// For a decoded event, its stored data, prepared here to take work off the writer.
        package let prepared: PreparedData?

        init(number: Int, source: String?, decoded: DecodeResult, prepared: PreparedData?) {
            self.number = number; self.source = source; self.decoded = decoded; self.prepared = prepared
        }
    }

    /// Runs `feed` on a worker thread, decoding each non-blank line, and hands the results to
    /// `consume` on this thread in order. `consume` returns false to stop reading early.
    /// With `speculation`, each event's chain step is computed here too, in line order (see
    /// ``ChainSpeculation``): the envelope and SHA-256 leave the thread that holds the lock.
    /// `prepare` sees each chunk before its items are consumed (see ``AppendStorage/prefetch(_:)``).
    package static func run(feed: Feed, speculation: ChainSpeculation? = nil, prepare: (([Item]) throws -> Void)? = nil,
                            consume: (Item) throws -> Bool) throws {
        try Pipeline.run(capacity: maxQueuedChunks, produce: { emit in
            var chunk: [Item] = []
            chunk.reserveCapacity(chunkSize)
            var speculation = speculation
            // Two closure parameters meet here: Swift wants one of them marked escaping.
            try withoutActuallyEscaping(emit) { emit in try feed { line, number, source in
                if isBlank(line) { return true }
                let decoded = EventDecoder.decode(line: line, number: number)
                var prepared: PreparedData?
                if case .success(let event) = decoded, var p = try? PreparedData.of(event) {
                    if speculation != nil { p.chain(event, &speculation!) }
                    prepared = p
                }
                chunk.append(Item(number: number, source: source, decoded: decoded, prepared: prepared))
                if chunk.count == chunkSize {
                    // One chunk a queue operation, not one line: a per-line lock cost 40 k
                    // context switches per 300 k lines.
                    guard emit(chunk) else { return false }
                    chunk.removeAll(keepingCapacity: true)
                }
                return true
            } }
            if !chunk.isEmpty { _ = emit(chunk) }
        }, consume: { chunk in
            try prepare?(chunk)
            // Lent, not copied: a copy and a destroy of each item cost the writer 0.7 k instructions.
            for i in chunk.indices where try !consume(chunk[i]) { return false }
            return true
        })
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }
}
