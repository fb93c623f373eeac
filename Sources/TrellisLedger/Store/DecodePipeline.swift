import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Import in two stages on two cores: a worker thread reads and decodes lines (pure work:
/// JSON parsing and validation), while the calling thread, which holds the write
/// transaction, checks rules, seals, chains and inserts, in line order.
///
/// Chunks of decoded lines pass through a bounded queue, so memory stays flat whatever the
/// input size. The decode stage touches no database and no shared state.
enum DecodePipeline {
    static let chunkSize = 1024
    static let maxQueuedChunks = 8

    typealias Feed = (_ visit: (UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void
    struct Item: Sendable {
        var number: Int
        var source: String?
        var decoded: DecodeResult
        /// For a decoded event, its stored data, prepared here to take work off the writer.
        var prepared: PreparedData?
    }

    /// Runs `feed` on a worker thread, decoding each non-blank line, and hands the results to
    /// `consume` on this thread in order. `consume` returns false to stop reading early.
    static func run(feed: Feed, consume: (Item) throws -> Bool) throws {
        let channel = Channel()
        try withoutActuallyEscaping(feed) { feed in
            let box = UncheckedBox(feed)
            let worker = try Worker {
                var chunk: [Item] = []
                chunk.reserveCapacity(chunkSize)
                do {
                    try box.value { line, number, source in
                        if channel.isCancelled { return false }
                        if isBlank(line) { return true }
                        let decoded = EventDecoder.decode(line: line, number: number)
                        var prepared: PreparedData?
                        if case .success(let event) = decoded { prepared = try? PreparedData.of(event) }
                        chunk.append(Item(number: number, source: source, decoded: decoded, prepared: prepared))
                        if chunk.count == chunkSize {
                            channel.put(chunk)
                            chunk.removeAll(keepingCapacity: true)
                        }
                        return true
                    }
                    if !chunk.isEmpty { channel.put(chunk) }
                    channel.finish(nil)
                } catch {
                    channel.finish(error)
                }
            }
            // Joined before `feed` goes out of scope, whatever happens below.
            defer { worker.join() }
            var consumerError: (any Error)?
            while let chunk = channel.take() {
                guard consumerError == nil, !channel.isCancelled else { continue }
                do {
                    for item in chunk where !channel.isCancelled {
                        if try !consume(item) { channel.cancel() }
                    }
                } catch {
                    consumerError = error
                    channel.cancel()
                }
            }
            worker.join()
            if let consumerError { throw consumerError }
            if let failure = channel.failure { throw failure }
        }
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }

    /// A bounded FIFO of chunks between the two threads.
    final class Channel: @unchecked Sendable {
        private let condition = NSCondition()
        private var queue: [[Item]] = []
        private var done = false
        private var cancelled = false
        private(set) var failure: (any Error)?

        var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

        func put(_ chunk: [Item]) {
            condition.lock()
            while queue.count >= DecodePipeline.maxQueuedChunks && !cancelled { condition.wait() }
            if !cancelled { queue.append(chunk) }
            condition.broadcast()
            condition.unlock()
        }

        /// The next chunk, or nil once the producer has finished and the queue is empty.
        func take() -> [Item]? {
            condition.lock()
            defer { condition.unlock() }
            while queue.isEmpty && !done { condition.wait() }
            guard !queue.isEmpty else { return nil }
            let chunk = queue.removeFirst()
            condition.broadcast()
            return chunk
        }

        func finish(_ error: (any Error)?) {
            condition.lock()
            failure = error
            done = true
            condition.broadcast()
            condition.unlock()
        }

        func cancel() {
            condition.lock()
            cancelled = true
            queue.removeAll()
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A POSIX thread that is joined, so that the closure it runs (and the non-escaping feed it
    /// captures) is released before the caller returns: Foundation's Thread may release its
    /// block later, which `withoutActuallyEscaping` rightly traps on.
    final class Worker {
        private var thread = pthread_t()
        private var joined = false

        final class Body {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }

        init(_ body: @escaping () -> Void) throws {
            let context = Unmanaged.passRetained(Body(body)).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
                body.run()
                return nil
            }, context)
            if rc != 0 {
                Unmanaged<Body>.fromOpaque(context).release()
                throw LedgerError.database("cannot start the decoding thread (error \(rc))")
            }
        }

        func join() {
            guard !joined else { return }
            joined = true
            pthread_join(thread, nil)
        }
    }

    /// The feed closure crosses to the worker thread; the caller blocks until the worker is
    /// done with it, so it never outlives its scope and is never used by two threads at once.
    struct UncheckedBox<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }
}
