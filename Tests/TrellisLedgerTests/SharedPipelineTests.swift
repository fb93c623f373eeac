import Foundation
import Testing
@testable import TrellisLedger
@testable import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// `Pipeline.runShared`: chunks read in order, worked once by whichever thread is free (the
/// reading thread, helpers, or the consumer while its next chunk is not ready), consumed in order.
@Suite struct SharedPipelineTests {
    /// A chunk whose work takes a while and records the thread that did it.
    final class Numbered: SharedChunk, @unchecked Sendable {
        let value: Int
        private(set) var workedOn: pthread_t?
        private(set) var times = 0
        private(set) var digest: [UInt8] = []
        init(_ value: Int) { self.value = value }
        func work() {
            times += 1
            workedOn = pthread_self()
            var bytes = [UInt8](repeating: UInt8(value & 0xFF), count: 4096)
            let salt: [UInt8] = [1, 2, 3]
            for _ in 0..<20 { bytes = salt.withUnsafeBufferPointer { CanonicalEnvelope.chain(bytes, $0) } + bytes }
            digest = bytes
        }
    }

    struct Refusal: Error, Equatable { var at: Int }

    @Test(arguments: [0, 3]) func everyChunkIsWorkedOnceAndConsumedInOrder(helpers: Int) throws {
        var seen: [Int] = []
        try Pipeline.runShared(capacity: 4, helpers: helpers, read: { publish in
            for i in 0..<400 { guard publish(Numbered(i)) else { return } }
        }, consume: { (chunk: Numbered) in
            #expect(chunk.times == 1)
            #expect(!chunk.digest.isEmpty)
            seen.append(chunk.value)
            return true
        })
        #expect(seen == Array(0..<400))
    }

    /// A chunk whose work waits (up to 20 s) until another chunk's work is done.
    final class Waiting: SharedChunk, @unchecked Sendable {
        let condition = NSCondition()
        var done = false
        var workedOn: pthread_t?
        var waitedOut = false
        let waitFor: Waiting?
        init(waitingFor other: Waiting?) { waitFor = other }
        func work() {
            if let other = waitFor {
                other.condition.lock()
                let deadline = Date().addingTimeInterval(20)
                while !other.done { if !other.condition.wait(until: deadline) { waitedOut = true; break } }
                other.condition.unlock()
            }
            condition.lock()
            workedOn = pthread_self()
            done = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The consumer's thread works chunks too. The first chunk cannot finish until the second
    /// is worked: if the reading thread takes the first (two are waiting), only the consumer's
    /// thread is left to work the second; if the consumer takes the first, the reading thread
    /// works the second once it has read everything. Either way the consumer works one of the
    /// two, whatever the timing; a consumer that only consumed would leave the first waiting.
    @Test func theConsumerWorksAChunkWhileItsNextIsWorkedElsewhere() throws {
        let second = Waiting(waitingFor: nil)
        let first = Waiting(waitingFor: second)
        var order: [ObjectIdentifier] = []
        try Pipeline.runShared(capacity: 4, helpers: 0, read: { publish in
            _ = publish(first)
            _ = publish(second)
        }, consume: { (chunk: Waiting) in
            order.append(ObjectIdentifier(chunk))
            return true
        })
        #expect(!first.waitedOut, "the second chunk was not worked while the first waited for it")
        let me = pthread_self()
        let here = [first.workedOn, second.workedOn].filter { $0.map { pthread_equal($0, me) != 0 } ?? false }
        #expect(here.count == 1, "the consumer's thread worked \(here.count) of the two chunks")
        #expect(order == [ObjectIdentifier(first), ObjectIdentifier(second)])
    }

    /// A chunk whose work makes a product that records the thread that made it and the thread
    /// that freed it.
    final class Traced: SharedChunk, @unchecked Sendable {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var entries: [(worked: pthread_t, freed: pthread_t)] = []
        }
        final class Product {
            let log: Log
            let madeOn = pthread_self()
            init(_ log: Log) { self.log = log }
            deinit {
                log.lock.lock()
                log.entries.append((madeOn, pthread_self()))
                log.lock.unlock()
            }
        }
        let log: Log
        var product: Product?
        init(_ log: Log) { self.log = log }
        func work() { product = Product(log) }
        func dropWork() { product = nil }
    }

    /// A chunk's decoded items live in the allocator arena of the thread that decoded them, and
    /// freeing them elsewhere takes that arena's lock (Pipeline.swift): what the consumer's work
    /// made is freed on the consumer's thread, whichever thread drops the chunk last. The reader publishes slowly, so that the
    /// consumer finds its next chunk waiting and works it itself.
    @Test func aChunkTheConsumerWorkedIsFreedOnTheConsumersThread() throws {
        let log = Traced.Log()
        try Pipeline.runShared(capacity: 4, helpers: 0, read: { publish in
            for _ in 0..<60 {
                guard publish(Traced(log)) else { return }
                usleep(2_000)
            }
        }, consume: { (_: Traced) in true })
        let me = pthread_self()
        let byConsumer = log.entries.filter { pthread_equal($0.worked, me) != 0 }
        #expect(log.entries.count == 60)
        #expect(byConsumer.count >= 10, "the consumer worked \(byConsumer.count) of 60 chunks: the test shows nothing")
        let elsewhere = byConsumer.filter { pthread_equal($0.freed, me) == 0 }.count
        #expect(elsewhere == 0, "\(elsewhere) of the \(byConsumer.count) chunks the consumer worked were freed on another thread")
    }

    /// The link step: once a chunk, in order, one chunk at a time, after its work and before it
    /// is consumed, whichever thread runs it.
    @Test(arguments: [0, 3]) func theLinkStepRunsOnceAChunkInOrderBetweenWorkAndConsumption(helpers: Int) throws {
        var linked: [Int] = []
        var linking = false, overlapped = false, unworked = false
        var consumedBeforeLink = false
        try Pipeline.runShared(capacity: 4, helpers: helpers, read: { publish in
            for i in 0..<300 { guard publish(Numbered(i)) else { return } }
        }, link: { (chunk: Numbered) in
            if linking { overlapped = true }
            linking = true
            if chunk.times != 1 { unworked = true }
            linked.append(chunk.value)
            linking = false
        }, consume: { chunk in
            if linked.last.map({ $0 < chunk.value }) ?? true { consumedBeforeLink = true }
            return true
        })
        #expect(linked == Array(0..<300))
        #expect(!overlapped, "two chunks were linked at once")
        #expect(!unworked, "a chunk was linked before (or without) its work")
        #expect(!consumedBeforeLink, "a chunk was consumed before it was linked")
    }

    @Test func aReadErrorArrivesAfterTheChunksPublishedBeforeIt() {
        var seen: [Int] = []
        #expect(throws: Refusal(at: 10)) {
            try Pipeline.runShared(capacity: 4, read: { publish in
                for i in 0..<10 { _ = publish(Numbered(i)) }
                throw Refusal(at: 10)
            }, consume: { (chunk: Numbered) in
                seen.append(chunk.value)
                return true
            })
        }
        #expect(seen == Array(0..<10))
    }

    @Test func aConsumerErrorStopsTheReaderAndIsRethrown() {
        var published = 0
        #expect(throws: Refusal(at: 5)) {
            try Pipeline.runShared(capacity: 2, helpers: 1, read: { publish in
                for i in 0..<100_000 {
                    published += 1
                    guard publish(Numbered(i)) else { return }
                }
            }, consume: { (chunk: Numbered) in
                if chunk.value == 5 { throw Refusal(at: 5) }
                return true
            })
        }
        #expect(published < 50, "\(published)")
    }

    @Test func aConsumerThatStopsEndsItWithoutAnError() throws {
        var published = 0, seen = 0
        try Pipeline.runShared(capacity: 2, read: { publish in
            for i in 0..<100_000 {
                published += 1
                guard publish(Numbered(i)) else { return }
            }
        }, consume: { (_: Numbered) in
            seen += 1
            return seen < 3
        })
        #expect(seen == 3)
        #expect(published < 50, "\(published)")
    }

    /// Long lines cut chunks by bytes, not only by count: 1,024 lines of up to 1 MiB would hold
    /// a gigabyte a chunk. A consumer that stops at the first line sees the reader stop within
    /// a few chunks' bytes, not after a whole chunk of lines.
    @Test func longLinesAreChunkedByBytesSoLittleIsReadAheadOfTheWriter() throws {
        let long = "{\"type\":\"AttendanceRecorded\",\"data\":\"" + String(repeating: "x", count: 500_000) + "\"}"
        var visited = 0, consumed = 0
        var largestChunk = 0
        try DecodePipeline.run(feed: { visit in
            var copy = long
            for n in 1...600 {
                visited += 1
                guard try copy.withUTF8({ try visit($0, n, nil) }) else { return }
            }
        }, prepare: { items in largestChunk = max(largestChunk, items.count) }) { _, _ in
            consumed += 1
            return false
        }
        #expect(consumed == 1)
        #expect(largestChunk <= 3, "a chunk of \(largestChunk) half-megabyte lines")
        // At most the queue's chunks plus the one being filled: about 8 × 1 MiB, not 600 × 0.5 MB.
        #expect(visited < 60, "\(visited) lines read ahead of a writer that stopped at the first")
    }

    /// The import's decoding: every non-blank line, in order, with its number and file, and
    /// each decoded as on its own, whatever thread decoded it.
    @Test(arguments: [0, 3]) func decodedLinesArriveInOrderWithTheirNumbersAndFiles(decoders: Int) throws {
        var files: [(name: String, lines: [String])] = []
        for f in 0..<3 {
            var lines: [String] = []
            for k in 0..<(DecodePipeline.chunkSize * 2 + 17 * f) {
                if k % 500 == 7 { lines.append("  ") }
                else if k % 777 == 3 { lines.append("{\"type\":\"Nope\"}") }
                else {
                    lines.append(envelope("AttendanceRecorded", id: "f\(f)-\(k)", at: "2025-09-15",
                                          ["meeting_id": .string("m\(k % 5)"), "org_id": .string("org\(k)"), "status": "present"]))
                }
            }
            files.append(("file\(f).ndjson", lines))
        }
        var got: [(Int, String?, DecodeResult)] = []
        try DecodePipeline.run(feed: { visit in
            for file in files {
                for (k, line) in file.lines.enumerated() {
                    var copy = line
                    guard try copy.withUTF8({ try visit($0, k + 1, file.name) }) else { return }
                }
            }
        }, decoders: decoders) { items, i in
            let item = items[i]
            got.append((item.number, item.source, item.decoded))
            if case .success = item.decoded { #expect(item.prepared != nil) }
            return true
        }
        var expected: [(Int, String?, DecodeResult)] = []
        for file in files {
            for (k, line) in file.lines.enumerated() where line.trimmingCharacters(in: .whitespaces) != "" {
                expected.append((k + 1, file.name, EventDecoder.decode(json: line, number: k + 1)))
            }
        }
        #expect(got.count == expected.count)
        for (a, b) in zip(got, expected) where a.0 != b.0 || a.1 != b.1 || a.2 != b.2 {
            Issue.record("line \(b.1 ?? "")#\(b.0): got \(a.1 ?? "")#\(a.0)")
            break
        }
    }
}
