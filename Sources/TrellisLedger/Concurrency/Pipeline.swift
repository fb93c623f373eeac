import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Two stages on two cores, joined by a bounded queue, so that long inputs stream through
/// without ever being whole in memory (``run(capacity:produce:consume:)``). NDJSON import
/// decodes on a worker while the caller (which holds the write transaction) checks rules and
/// inserts; archive export scans on a worker while the caller compresses; archive import
/// decompresses and chains on a worker.
///
/// ## Topics
/// - ``run(capacity:produce:consume:)``
/// - ``Worker``
/// - ``WorkerError``
public enum Pipeline {
    /// Runs `produce` on a joined worker thread and `consume` on this one, in order, the items
    /// passing through a queue of at most `capacity` (pass chunks: the queue's lock is taken
    /// once an item). `emit` blocks while the queue is full and returns false once the
    /// consumer has stopped: the producer should then return. `consume` returns false to
    /// stop early (not an error). An error from either side ends both, and is rethrown here
    /// (the consumer's first); the items queued before a producer error are consumed first.
    public static func run<Item>(capacity: Int,
                                 produce: (_ emit: (Item) -> Bool) throws -> Void,
                                 consume: (Item) throws -> Bool) throws {
        let channel = Channel<Item>(capacity: capacity)
        try withoutActuallyEscaping(produce) { produce in
            let handoff = Handoff(produce)
            let worker = try Worker {
                do {
                    try handoff.value { item in
                        channel.put(item)
                        return !channel.isCancelled
                    }
                    channel.finish(nil)
                } catch {
                    channel.finish(error)
                }
            }
            // Joined before `produce` goes out of scope, whatever happens below.
            defer { worker.join() }
            var consumerError: (any Error)?
            while let item = channel.take() {
                do {
                    let more = try consume(item)
                    // Freed on the producer's thread: dropping a chunk of decoded events (their
                    // JSON values, strings and arrays) was a tenth of the import writer's time.
                    channel.giveBack(item)
                    if !more { channel.cancel(); break }
                } catch {
                    consumerError = error
                    channel.cancel()
                    break
                }
            }
            worker.join()
            if let consumerError { throw consumerError }
            if let failure = channel.failure { throw failure }
        }
    }

    /// A worker thread could not be started (the process is out of threads or memory).
    public struct WorkerError: Error, Sendable, CustomStringConvertible {
        public var code: Int32
        public var description: String { "cannot start a worker thread (error \(code))" }
    }

    /// A bounded FIFO between one producer and one consumer thread.
    public final class Channel<Item>: @unchecked Sendable {
        private let condition = NSCondition()
        private var queue: [Item] = []
        /// Items the consumer is done with, dropped by the producer's next `put`.
        private var spent: [Item] = []
        private var done = false
        private var cancelled = false
        private let capacity: Int
        public private(set) var failure: (any Error)?

        public init(capacity: Int) { self.capacity = capacity }

        public var isCancelled: Bool { condition.lock(); defer { condition.unlock() }; return cancelled }

        /// Blocks while the queue is full; drops the item once the consumer has cancelled.
        /// Frees the items the consumer has given back (``giveBack(_:)``), after unlocking.
        public func put(_ item: Item) {
            condition.lock()
            while queue.count >= capacity && !cancelled { condition.wait() }
            if !cancelled { queue.append(item) }
            var spent: [Item] = []
            swap(&spent, &self.spent)
            condition.broadcast()
            condition.unlock()
            withExtendedLifetime(spent) {}
        }

        /// The consumer is done with `item`: the producer frees it (at its next `put`), so the
        /// consumer's thread does not pay for the deallocation. Kept no longer than that.
        public func giveBack(_ item: Item) {
            condition.lock()
            if !done && !cancelled { spent.append(item) }
            condition.unlock()
        }

        /// The next item, or nil once the producer has finished and the queue is empty.
        public func take() -> Item? {
            condition.lock()
            defer { condition.unlock() }
            while queue.isEmpty && !done && !cancelled { condition.wait() }
            guard !queue.isEmpty, !cancelled else { return nil }
            let item = queue.removeFirst()
            condition.broadcast()
            return item
        }

        /// The producer is done (with `error` when it failed).
        public func finish(_ error: (any Error)?) {
            condition.lock()
            if failure == nil { failure = error }
            done = true
            condition.broadcast()
            condition.unlock()
        }

        /// The consumer gives up: the producer's next `put` returns at once.
        public func cancel() {
            condition.lock()
            cancelled = true
            queue.removeAll()
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A POSIX thread that is always joined before the work it was given goes out of scope:
    /// Foundation's Thread may release its block later, which `withoutActuallyEscaping`
    /// rightly traps on.
    public final class Worker {
        private var thread = pthread_t()
        private var joined = false

        final class Body {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }

        public init(_ body: @escaping () -> Void) throws {
            let context = Unmanaged.passRetained(Body(body)).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, context)
            if rc != 0 {
                Unmanaged<Body>.fromOpaque(context).release()
                throw WorkerError(code: rc)
            }
        }

        public func join() {
            guard !joined else { return }
            joined = true
            pthread_join(thread, nil)
        }

        deinit { join() }
    }

    /// Carries a value to the worker thread; the caller blocks until the worker is done with
    /// it, so it is never used by two threads at once.
    public struct Handoff<T>: @unchecked Sendable {
        public let value: T
        public init(_ value: T) { self.value = value }
    }
}
