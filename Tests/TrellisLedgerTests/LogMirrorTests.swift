import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TrellisLedger
import TrellisCore
import TrellisGenerator

/// The read side's cache of a shared log (``LogMirror``), held against the log it mirrors. A
/// SQLite ledger stands in for the shared store here (any ``LedgerStore`` is mirrored the same
/// way); the PostgreSQL suite mirrors the real shared store.
@Suite struct LogMirrorTests {
    static func region(seed: UInt64, events: Int) -> Data {
        var bytes = Data()
        RegionGenerator(GeneratorOptions(networks: 2, orgs: 30, years: 2, seed: seed, maxEvents: events)).runChunks { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func importLines(_ data: Data, into store: any LedgerStore, dir: ScratchDir, name: String) throws -> AppendOutcome {
        let reader = try LineReader(path: try dir.write(name, data))
        defer { reader.close() }
        return try store.append(options: AppendOptions()) { visit in try reader.forEachLine { line, n, _ in try visit(line, n, nil) } }
    }

    static func events(_ store: any LedgerStore) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        try store.scan(from: 1, through: .max) { out.append($0); return true }
        return out
    }

    @Test func aCacheHoldsTheLogsEventsExactlyAndCatchesUpOnlyWhatIsNew() throws {
        let dir = try ScratchDir("log-mirror")
        defer { dir.remove() }
        let shared = try Ledger.open(at: dir.file("shared.db"), create: true)
        let all = Self.region(seed: 5, events: 2_400)
        let lines = all.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        let firstHalf = Data(lines.prefix(1_500).joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")])
        let secondHalf = Data(lines.dropFirst(1_500).joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")])
        _ = try Self.importLines(firstHalf, into: shared, dir: dir, name: "a.ndjson")

        var cache = try LogMirror.openCache(at: dir.file("cache.db"), of: shared)
        let first = try LogMirror.catchUp(&cache, from: shared, chunk: 400)
        #expect(first.copied == 1_500)
        #expect(!first.rebuilt)
        #expect(first.head == (try shared.head()))
        #expect(try Self.events(cache) == (try Self.events(shared)))

        // Nothing new: nothing copied.
        #expect(try LogMirror.catchUp(&cache, from: shared).copied == 0)

        // More appended to the shared log (a second office): only those are copied.
        _ = try Self.importLines(secondHalf, into: shared, dir: dir, name: "b.ndjson")
        let second = try LogMirror.catchUp(&cache, from: shared)
        #expect(second.copied == lines.count - 1_500)
        #expect(try Self.events(cache) == (try Self.events(shared)))
        #expect(try cache.retractions() == (try shared.retractions()))
        // Rule state came with the events: the cache knows what the log knows.
        let anOrg = try #require(try Self.events(shared).first { $0.type == "OrganisationRegistered" })
        let orgId = try #require(try parseJSONObject(anOrg.data)["org_id"] as? String)
        #expect(try shared.knows(.organisation, orgId))
        #expect(try cache.knows(.organisation, orgId))

        // Keys are never copied: names are read from the shared store.
        #expect(!(try shared.personKeys()).isEmpty)
        #expect(try cache.personKeys().isEmpty)
    }

    @Test func aCacheThatIsNotAPrefixOfTheLogIsRebuilt() throws {
        let dir = try ScratchDir("log-mirror-diverged")
        defer { dir.remove() }
        // The cache was filled from the shared log; then the shared log was replaced (restored
        // from elsewhere) under the same name.
        let sharedPath = dir.file("shared.db")
        var shared = try Ledger.open(at: sharedPath, create: true)
        _ = try Self.importLines(Self.region(seed: 6, events: 600), into: shared, dir: dir, name: "o.ndjson")
        var cache = try LogMirror.openCache(at: dir.file("cache.db"), of: shared)
        _ = try LogMirror.catchUp(&cache, from: shared)
        for suffix in ["", "-wal", "-shm"] { _ = unlink(sharedPath + suffix) }
        shared = try Ledger.open(at: sharedPath, create: true)
        _ = try Self.importLines(Self.region(seed: 7, events: 900), into: shared, dir: dir, name: "s.ndjson")

        cache = try LogMirror.openCache(at: dir.file("cache.db"), of: shared)
        let outcome = try LogMirror.catchUp(&cache, from: shared)
        #expect(outcome.rebuilt)
        #expect(outcome.copied == 900)
        #expect(try Self.events(cache) == (try Self.events(shared)))
    }

    /// `--cache` given a real ledger by mistake (or another log's cache): refused, and the
    /// file is left exactly as it was. Only a file Trellis made a cache is ever emptied.
    @Test func aFileThatIsNotThisLogsCacheIsNeverEmptied() throws {
        let dir = try ScratchDir("log-mirror-hostile")
        defer { dir.remove() }
        let laptop = try Ledger.open(at: dir.file("laptop.db"), create: true)
        _ = try Self.importLines(Self.region(seed: 8, events: 300), into: laptop, dir: dir, name: "l.ndjson")
        let shared = try Ledger.open(at: dir.file("shared.db"), create: true)
        _ = try Self.importLines(Self.region(seed: 9, events: 200), into: shared, dir: dir, name: "s.ndjson")
        let before = try Self.events(laptop)

        #expect(throws: LedgerError.self) { _ = try LogMirror.openCache(at: dir.file("laptop.db"), of: shared) }
        // Opened without the marker, a catch-up refuses rather than rebuilds.
        var plain = try Ledger.open(at: dir.file("laptop.db"))
        #expect(throws: LedgerError.self) { _ = try LogMirror.catchUp(&plain, from: shared) }
        #expect(try Self.events(Ledger.open(at: dir.file("laptop.db"))) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("laptop.db.cache-of")))

        // The cache of another log is refused too.
        var cache = try LogMirror.openCache(at: dir.file("cache.db"), of: laptop)
        _ = try LogMirror.catchUp(&cache, from: laptop)
        #expect(throws: LedgerError.self) { _ = try LogMirror.openCache(at: dir.file("cache.db"), of: shared) }
        #expect(try Self.events(Ledger.open(at: dir.file("cache.db"))) == before)
    }
}
