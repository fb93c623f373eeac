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

    /// Threads to add to a ``runShared(capacity:helpers:read:link:consume:)`` pipeline's own two
    /// (the reading thread and the caller's) so that every core works: none on two cores, at most 6.
    public static var extraWorkers: Int { max(0, min(6, ProcessInfo.processInfo.activeProcessorCount - 2)) }

    /// Runs `read` on a worker thread, which publishes chunks in order; each chunk's ``SharedChunk/work()``
    /// is done once, by whichever thread is free (the reading thread once it has read far
    /// enough ahead, `helpers` extra threads, or this one while its next chunk is not ready);
    /// `link`, when given, then runs on each worked chunk in order, one chunk at a time, on
    /// whichever thread gets there first (a step that needs the chunk before it, such as a hash
    /// chain: its state may live in the closure); `consume` gets the chunks on this thread,
    /// in order, once worked and linked. At most `capacity`
    /// chunks are held. `publish` returns false once the consumer has stopped: `read` should
    /// then return. `consume` returns false to stop early (not an error). An error from `read`
    /// is rethrown here after the chunks published before it are consumed; an error from
    /// `consume` ends everything and is rethrown.
    ///
    /// Where `work` costs more than `consume` (decoding against inserting), a fixed split of
    /// one producing and one consuming thread leaves the consumer idle; here every core stays
    /// busy until the input ends.
    public static func runShared<Chunk: SharedChunk>(capacity: Int, helpers: Int = 0,
                                                     read: (_ publish: (Chunk) -> Bool) throws -> Void,
                                                     link: ((Chunk) -> Void)? = nil,
                                                     consume: (Chunk) throws -> Bool) throws {
        // (An optional closure is already escaping: only `read` needs lending to the worker.)
        let line = SharedLine<Chunk>(capacity: capacity, link: link.map { Handoff($0) })
        try withoutActuallyEscaping(read) { read in
            let handoff = Handoff(read)
            let reader = try Worker {
                do {
                    try handoff.value { line.publish($0) }
                    line.finishReading(nil)
                } catch {
                    line.finishReading(error)
                }
                line.workWhileReading()
            }
            var extra: [Worker] = []
            // Every thread returns and is joined before `read` goes out of scope, whatever happens below.
            defer { line.cancel(); reader.join(); for w in extra { w.join() } }
            for _ in 0..<max(0, helpers) { extra.append(try Worker { line.workWhileReading() }) }
            while let chunk = line.nextWorked() {
                let more: Bool
                do { more = try consume(chunk) } catch {
                    line.cancel()
                    throw error
                }
                line.spend(chunk)
                if !more { break }
            }
            line.cancel()
            reader.join()
            if let failure = line.failure { throw failure }
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

    /// The chunks between the reading thread and the consumer, in order, and which are worked.
    /// One lock; every wait is on its condition. A chunk's own fields are written by the
    /// reading thread before it is published, then by the one thread that claimed its work,
    /// before it is marked worked (both under the lock), then read by the consumer.
    final class SharedLine<Chunk: SharedChunk>: @unchecked Sendable {
        private enum State { case waiting, working, worked, linking, ready }
        private let condition = NSCondition()
        private var chunks: [(chunk: Chunk, state: State)] = []
        /// Chunks the consumer is done with, freed by the reading thread (outside the lock).
        private var spent: [Chunk] = []
        /// Chunks the consumer worked itself, and those of them it is done with: it frees their
        /// work (``SharedChunk/dropWork()``) itself, whenever it would otherwise wait. A chunk's decoded items live in the arena
        /// of the thread that decoded them (glibc keeps one per thread); freed by another
        /// thread, each free takes that arena's lock, which the consumer, SQLite's writer,
        /// takes for its own allocations all the time. perf of a slow import (1 M events, 1.9
        /// s against 1.4): the writer, fast enough to decode a third of the chunks, waited in
        /// `malloc` for 65 samples and the reading thread in `free` for 71.
        private var workedByConsumer = Set<ObjectIdentifier>()
        private var consumerSpent: [Chunk] = []

        deinit {
            for chunk in consumerSpent { chunk.dropWork() }
        }
        private var readingDone = false
        private var cancelled = false
        private let capacity: Int
        /// The ordered step after the work (none: a worked chunk is ready at once).
        private let link: Handoff<(Chunk) -> Void>?
        private(set) var failure: (any Error)?

        init(capacity: Int, link: Handoff<(Chunk) -> Void>?) {
            self.capacity = max(1, capacity)
            self.link = link
        }

        /// Publishes a chunk (the reading thread); works the oldest waiting chunks whenever
        /// more than one waits or the queue is full, so that one is always left for a thread
        /// that has nothing else to do. False once the consumer has stopped.
        func publish(_ chunk: Chunk) -> Bool {
            condition.lock()
            while chunks.count >= capacity && !cancelled {
                if let claimed = claimOldestWaiting() { work(claimed) } else { condition.wait() }
            }
            if cancelled { condition.unlock(); return false }
            chunks.append((chunk, .waiting))
            condition.broadcast()
            while waitingCount > 1, let claimed = claimOldestWaiting() { work(claimed) }
            var freed: [Chunk] = []
            swap(&freed, &spent)
            condition.unlock()
            withExtendedLifetime(freed) {}
            return true
        }

        func finishReading(_ error: (any Error)?) {
            condition.lock()
            if failure == nil { failure = error }
            readingDone = true
            condition.broadcast()
            condition.unlock()
        }

        /// A working thread: works waiting chunks until reading has ended and none is left.
        func workWhileReading() {
            condition.lock()
            while !cancelled {
                if let claimed = claimOldestWaiting() { work(claimed); continue }
                if readingDone { break }
                condition.wait()
            }
            condition.unlock()
        }

        /// The consumer's next chunk, worked (by this thread if no other has taken it), or nil at
        /// the end or once cancelled. While its next chunk is worked by another thread, the
        /// consumer works a later one.
        func nextWorked() -> Chunk? {
            condition.lock()
            defer { condition.unlock() }
            while !cancelled {
                if let first = chunks.first, first.state == .ready {
                    chunks.removeFirst()
                    condition.broadcast()
                    return first.chunk
                }
                if let claimed = claimOldestWaiting() {
                    workedByConsumer.insert(ObjectIdentifier(claimed))
                    work(claimed)
                    continue
                }
                if readingDone && chunks.isEmpty { return nil }
                if !consumerSpent.isEmpty {
                    // Nothing to do but wait: free what this thread decoded and is done with.
                    var freed: [Chunk] = []
                    swap(&freed, &consumerSpent)
                    condition.unlock()
                    for chunk in freed { chunk.dropWork() }
                    freed = []
                    condition.lock()
                    continue
                }
                condition.wait()
            }
            return nil
        }

        /// The consumer is done with `chunk`: the thread that decoded it frees it (the reading
        /// thread, or the consumer itself when it decoded it).
        /// The consumer's own are kept for its next wait, but no more than
        /// ``maxConsumerSpent`` of them: a consumer that never waits frees them as it goes.
        func spend(_ chunk: Chunk) {
            condition.lock()
            var freed: [Chunk] = []
            if workedByConsumer.remove(ObjectIdentifier(chunk)) != nil {
                consumerSpent.append(chunk)
                if consumerSpent.count > Self.maxConsumerSpent { swap(&freed, &consumerSpent) }
            } else if !readingDone && !cancelled {
                spent.append(chunk)
            }
            condition.unlock()
            for chunk in freed { chunk.dropWork() }
        }

        static var maxConsumerSpent: Int { 4 }

        /// The consumer stops (done, failed or enough): every thread returns.
        func cancel() {
            condition.lock()
            cancelled = true
            chunks.removeAll()
            condition.broadcast()
            condition.unlock()
        }

        // With the lock held.
        private var waitingCount: Int { chunks.reduce(0) { $0 + ($1.state == .waiting ? 1 : 0) } }

        /// The oldest chunk nobody works yet, now claimed.
        private func claimOldestWaiting() -> Chunk? {
            guard let k = chunks.firstIndex(where: { $0.state == .waiting }) else { return nil }
            chunks[k].state = .working
            return chunks[k].chunk
        }

        /// Works a claimed chunk with the lock released; returns with it held again, after
        /// linking every chunk that can be linked now.
        private func work(_ chunk: Chunk) {
            condition.unlock()
            chunk.work()
            condition.lock()
            if let k = chunks.firstIndex(where: { $0.chunk === chunk }) { chunks[k].state = link == nil ? .ready : .worked }
            linkInOrder()
            condition.broadcast()
        }

        /// Links worked chunks in order while the oldest chunk not yet ready is worked and no
        /// other thread is linking one (so chunks are linked one at a time, in order).
        private func linkInOrder() {
            guard let link else { return }
            while !cancelled, let k = chunks.firstIndex(where: { $0.state != .ready }), chunks[k].state == .worked {
                chunks[k].state = .linking
                let chunk = chunks[k].chunk
                condition.unlock()
                link.value(chunk)
                condition.lock()
                if let k = chunks.firstIndex(where: { $0.chunk === chunk }) { chunks[k].state = .ready }
                condition.broadcast()
            }
        }
    }
}

/// A chunk of a ``Pipeline/runShared(capacity:helpers:read:link:consume:)`` pipeline: read in order,
/// worked once by any thread, linked (when the pipeline has a link step) and consumed in order.
public protocol SharedChunk: AnyObject {
    /// The chunk's pure work (decoding, parsing): no shared state, no error thrown (keep any in the chunk).
    func work()
    /// Frees what ``work()`` made, once the chunk is consumed: called on the consumer's thread
    /// for a chunk it worked itself, so that its allocations are freed where they were made
    /// whoever drops the chunk last.
    func dropWork()
}

extension SharedChunk {
    public func dropWork() {}
}
