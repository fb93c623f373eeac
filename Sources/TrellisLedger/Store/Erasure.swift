import Dispatch
import GRDB
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

// Erasure destroys a person's key by deleting its `person_keys` row (secure_delete on, so the
// page is zeroed). That is not enough on its own: in WAL mode the page that still holds the
// key stays in the database file until a checkpoint copies the new page over it, and older
// frames holding it stay in the -wal file until the WAL is truncated. A checkpoint cannot
// finish while another connection reads an older snapshot, so erasure checks the outcome and
// says what remains, instead of claiming success.

/// What an erasure left on disk: the `PersonErased` event is committed, but a copy of a
/// destroyed key may remain until `trellis erase --finish` succeeds.
public struct ErasureResidue: Sendable, Equatable, CustomStringConvertible {
    /// The checkpoint could not complete: another connection holds a read transaction.
    public var checkpointBusy: Bool
    /// The checkpoint failed outright (a read-only file, an I/O error): SQLite's message.
    public var checkpointError: String?
    /// Bytes left in the -wal file after the checkpoint (0 once truncated).
    public var walBytes: Int64
    /// Files in which a destroyed key's 32 bytes were still found.
    public var filesHoldingKey: [String]
    /// Triggers in the file that the migrations do not create (`name on table`): one on
    /// `person_keys` may have copied a key, in any encoding, before it was destroyed.
    public var foreignTriggers: [String] = []

    /// What a database server kept of a deleted key row, each a sentence (PostgreSQL: a
    /// session whose snapshot predates the erasure, a role that may not rewrite the table).
    public var serverKept: [String] = []
    /// The server's role may not rewrite the key table (only its owner may): waiting will not help.
    public var notOwner = false

    /// What a database server (PostgreSQL) can have left: foreign triggers and what it kept.
    public init(foreignTriggers: [String], serverKept: [String] = [], notOwner: Bool = false) {
        self.init(checkpointBusy: false, checkpointError: nil, walBytes: 0, filesHoldingKey: [], foreignTriggers: foreignTriggers)
        self.serverKept = serverKept
        self.notOwner = notOwner
    }

    init(checkpointBusy: Bool, checkpointError: String?, walBytes: Int64, filesHoldingKey: [String], foreignTriggers: [String] = []) {
        self.checkpointBusy = checkpointBusy; self.checkpointError = checkpointError; self.walBytes = walBytes
        self.filesHoldingKey = filesHoldingKey; self.foreignTriggers = foreignTriggers
    }

    public var description: String {
        var what: [String] = []
        if let checkpointError {
            what.append("the checkpoint failed (\(checkpointError)): the old page with the key may still be in the file or its -wal")
        } else if checkpointBusy {
            what.append("another process is reading the ledger (a report, a sqlite3 shell, a backup), so the checkpoint could not copy the erased page into the database file: the old page with the key is still in the file or its -wal")
        }
        if walBytes > 0 { what.append("the -wal file still holds \(walBytes) bytes of earlier pages") }
        if !filesHoldingKey.isEmpty { what.append("the key's bytes are still in \(filesHoldingKey.joined(separator: ", "))") }
        what += serverKept
        if !foreignTriggers.isEmpty {
            what.append("the ledger has triggers Trellis never creates (\(foreignTriggers.joined(separator: ", "))), which may have copied the key elsewhere in the ledger before it was destroyed: remove them and what they wrote (trellis verify names them)")
        }
        return what.joined(separator: "; ")
    }
}

extension Ledger {
    /// Checkpoint attempts after an erasure; together they wait about the busy timeout.
    static let erasureCheckpointAttempts = 3

    /// Completes earlier erasures (`trellis erase --finish`): checkpoints every committed page
    /// into the database file and truncates the WAL. Returns nil when done, else what remains.
    public func finishErasure() -> ErasureResidue? {
        queue.writeWithoutTransaction { db in Ledger.purgeDestroyedKeys(db, path: path, keys: []) }
    }

    /// After a committed erasure: `PRAGMA wal_checkpoint(TRUNCATE)`, tried a few times within
    /// the busy timeout; then, when it completed, the database and WAL files are searched for
    /// the destroyed keys' bytes. Nil when no copy remains.
    static func purgeDestroyedKeys(_ db: Database, path: String, keys: [[UInt8]]) -> ErasureResidue? {
        let handle = db.sqliteConnection
        let totalMillis = Int32(max(0, min(busyTimeout * 1000, Double(Int32.max))))
        let perAttempt = max(1, totalMillis / Int32(erasureCheckpointAttempts))
        sqlite3_busy_timeout(handle, perAttempt)
        defer { sqlite3_busy_timeout(handle, totalMillis) }
        var busy = true
        var failure: String?
        for attempt in 0..<erasureCheckpointAttempts {
            if attempt > 0 { usleep(100_000) }
            do {
                // Row: busy (1 when blocked by a reader or writer), WAL frames, frames checkpointed.
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                failure = nil
                if let row, (row[0] as Int64?) == 0 { busy = false; break }
            } catch {
                failure = (error as? DatabaseError)?.message ?? String(describing: error)
            }
        }
        let walBytes = fileSize(path + "-wal")
        var holding: [String] = []
        if !busy {
            // Read through SQLite's own open files: opening and closing another descriptor on
            // the ledger would drop every POSIX lock this process holds on it (fcntl locks go
            // with any close), and another process closing its last connection would then
            // delete the WAL and shared memory under this one ("database disk image is malformed").
            for (file, wal) in [(path, false), (path + "-wal", true)] where connectionFileContainsAny(handle, wal: wal, keys) {
                holding.append(file)
            }
        }
        let foreign = foreignTriggers(db)
        if !busy && walBytes == 0 && holding.isEmpty && foreign.isEmpty { return nil }
        return ErasureResidue(checkpointBusy: busy, checkpointError: failure, walBytes: walBytes, filesHoldingKey: holding,
                              foreignTriggers: foreign)
    }

    /// Every trigger in the file the migrations do not create, as `name on table`; an
    /// unreadable schema counts as one (erasure then does not claim that no copy is left).
    static func foreignTriggers(_ db: Database) -> [String] {
        do {
            let own = try migrationTriggers()
            return try Row.fetchAll(db, sql: "SELECT name, tbl_name FROM main.sqlite_master WHERE type = 'trigger' ORDER BY name")
                .compactMap { row in own[row[0]] == nil ? "\(row[0] as String) on \(row[1] as String)" : nil }
        } catch {
            return ["(the schema could not be read: \(error))"]
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }

    /// Whether any of `needles` occurs in the main database file of `handle` or its WAL, in one
    /// pass whatever their number (``NeedleSearch``): an import that erases hundreds of people
    /// reads the file once, not once per key. Read through
    /// SQLite's own open file (`SQLITE_FCNTL_FILE_POINTER` / `SQLITE_FCNTL_JOURNAL_POINTER`): no
    /// descriptor of ours is opened or closed on a file SQLite holds locks on.
    static func connectionFileContainsAny(_ handle: OpaquePointer?, wal: Bool, _ needles: [[UInt8]], chunk: Int = searchChunk,
                                          twoPartsFrom: Int64 = twoPartSearch) -> Bool {
        guard let search = NeedleSearch(needles) else { return false }
        var pointer: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(handle, "main", wal ? SQLITE_FCNTL_JOURNAL_POINTER : SQLITE_FCNTL_FILE_POINTER, &pointer) == SQLITE_OK,
              let file = pointer, let methods = file.pointee.pMethods?.pointee,
              let xRead = methods.xRead, let xFileSize = methods.xFileSize else { return false }
        var fileSize: sqlite3_int64 = 0
        // A size that cannot be read cannot show the key is gone (as a failed read below).
        guard xFileSize(file, &fileSize) == SQLITE_OK else { return true }
        nonisolated(unsafe) let sqliteFile = file
        return search.run(size: fileSize, parts: fileSize >= twoPartsFrom ? 2 : 1, chunk: chunk) { buffer, count, offset in
            xRead(sqliteFile, buffer, Int32(count), offset) == SQLITE_OK ? count : -1
        }
    }

    /// From this size on (bytes), a file is searched in two parts at once: the import of 1 M
    /// events that erases people searched 260 MB on one core for 0.07 s of a 2.3 s import.
    static let twoPartSearch: Int64 = 16 << 20

    /// Whether this ledger's database file (or its -wal) holds any of `needles`: the search an
    /// erasure runs, through this connection's open files.
    func fileContainsAny(wal: Bool, _ needles: [[UInt8]], chunk: Int = searchChunk, twoPartsFrom: Int64 = twoPartSearch) -> Bool {
        queue.writeWithoutTransaction { db in
            Ledger.connectionFileContainsAny(db.sqliteConnection, wal: wal, needles, chunk: chunk, twoPartsFrom: twoPartsFrom)
        }
    }

    /// Bytes read at a time by the key search (tests pass a small one to put keys across many boundaries).
    static let searchChunk = 4 << 20
}

/// A search for many needles in one pass that looks at one position in `step` (25 for 32-byte
/// keys) rather than at every byte. Every 8-byte window of a needle that starts at one of its
/// first `step` offsets is in a hash table (open addressing, linear probing), with that offset;
/// `step` is the shortest needle's length − 7, so however a needle lies in a buffer, exactly one
/// of the sampled positions (multiples of `step` from the buffer's start) falls on one of those
/// windows. A sampled position costs one unaligned 64-bit load and a probe; a window found
/// there is checked by comparing the whole needle it came from. Needles of 2 to 7 bytes (none
/// today: callers pass keys) are searched one at a time (`memchr`, then a compare).
struct NeedleSearch {
    static let gram = 8
    /// Needles of at least `gram` bytes, and the shorter ones (at least 2 bytes).
    let long: [[UInt8]], short: [[UInt8]]
    let step: Int, longest: Int
    /// The table: a window's 8 bytes, and 1 + its index in `entries` (0: an empty slot).
    let slotGram: [UInt64], slotEntry: [Int32]
    /// For each indexed window: which needle, and where in it the window starts.
    let entries: [(needle: Int32, offset: Int32)]
    let shift: UInt64

    init?(_ needles: [[UInt8]]) {
        long = needles.filter { $0.count >= Self.gram }
        short = needles.filter { $0.count >= 2 && $0.count < Self.gram }
        guard !long.isEmpty || !short.isEmpty else { return nil }
        longest = needles.map(\.count).max() ?? 2
        let step = (long.map(\.count).min() ?? Self.gram) - Self.gram + 1
        self.step = step
        var entries: [(needle: Int32, offset: Int32)] = []
        var grams: [UInt64] = []
        for (index, n) in long.enumerated() {
            n.withUnsafeBytes { b in
                for offset in 0..<step {
                    grams.append(b.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    entries.append((Int32(index), Int32(offset)))
                }
            }
        }
        // At least four slots a window: most probes of a sampled position end at an empty slot.
        var bits: UInt64 = 4
        while (1 << bits) < max(16, grams.count * 4) { bits += 1 }
        let shift = 64 - bits
        self.shift = shift
        let mask = (1 << Int(bits)) - 1
        var slotGram = [UInt64](repeating: 0, count: 1 << Int(bits))
        var slotEntry = [Int32](repeating: 0, count: 1 << Int(bits))
        for (i, g) in grams.enumerated() {
            var h = Self.slot(g, shift)
            while slotEntry[h] != 0 { h = (h + 1) & mask }
            slotGram[h] = g; slotEntry[h] = Int32(i + 1)
        }
        self.entries = entries; self.slotGram = slotGram; self.slotEntry = slotEntry
    }

    @inline(__always) static func slot(_ gram: UInt64, _ shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (gram &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Whether a needle lies whole in the `size` bytes `read(buffer, count, offset)` reads (it
    /// reads exactly `count` bytes at `offset`, or returns a negative count: counted as found),
    /// searched in `parts` consecutive parts at once (``run(chunk:read:)`` each). Each part but
    /// the last reaches `longest − 1` bytes into the next, so a needle across a cut lies whole
    /// in the part before it. `read` is called from several threads at once.
    func run(size: Int64, parts: Int, chunk: Int, read: @escaping @Sendable (UnsafeMutableRawPointer, Int, Int64) -> Int) -> Bool {
        let parts = max(1, parts)
        let overlap = Int64(longest - 1)
        let found = UnsafeMutableBufferPointer<Bool>.allocate(capacity: parts)
        defer { found.deallocate() }
        found.initialize(repeating: false)
        nonisolated(unsafe) let results = found
        let search = self
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = size * Int64(part) / Int64(parts)
            let end = part == parts - 1 ? size : min(size, size * Int64(part + 1) / Int64(parts) + overlap)
            results[part] = search.run(chunk: chunk) { buffer, count, offset in
                let at = start + offset
                guard at < end else { return 0 }
                let n = Int(min(Int64(count), end - at))
                return read(buffer, n, at)
            }
        }
        return found.contains(true)
    }

    /// One pass over a file read by `read(buffer, count, offset)` (bytes read, 0 at its end,
    /// negative on an error: counted as found). The last `longest − 1` bytes of each buffer are carried
    /// to the front of the next, so a needle across a read boundary lies whole in the next one.
    func run(chunk: Int, read: (UnsafeMutableRawPointer, Int, Int64) -> Int) -> Bool {
        let chunk = max(chunk, longest)
        var offset: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: chunk + longest)
        var carried = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { b in read(b.baseAddress! + carried, chunk, offset) }
            // A read that fails cannot show the key is gone: counted as holding it, so erasure
            // never claims "no copy left" over bytes it could not read.
            if n < 0 { return true }
            if n == 0 { return false }
            offset += Int64(n)
            let filled = carried + n
            if buffer.withUnsafeBytes({ b in contains(UnsafeRawBufferPointer(rebasing: b[0..<filled])) }) { return true }
            carried = min(longest - 1, filled)
            buffer.withUnsafeMutableBytes { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + (filled - carried), carried)
            }
        }
    }

    /// Whether `needle` occurs in the `count` bytes at `base`: `memchr` for its first byte, then a compare.
    static func naive(_ base: UnsafeRawPointer, _ count: Int, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard let first = needle.first, let n = needle.baseAddress else { return false }
        var i = 0
        while i + needle.count <= count {
            guard let hit = memchr(base + i, Int32(first), count - needle.count + 1 - i) else { return false }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, n, needle.count) == 0 { return true }
            i = at + 1
        }
        return false
    }

    /// Whether a needle lies whole in `b`.
    func contains(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let base = b.baseAddress else { return false }
        let filled = b.count
        for n in short where n.withUnsafeBytes({ Self.naive(base, filled, $0) }) { return true }
        guard !long.isEmpty else { return false }
        let mask = slotEntry.count - 1
        return slotGram.withUnsafeBufferPointer { grams in slotEntry.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                var i = 0
                while i + Self.gram <= filled {
                    let g = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    var h = Self.slot(g, shift)
                    while slots[h] != 0 {
                        if grams[h] == g {
                            let e = entries[Int(slots[h]) - 1]
                            let needle = long[Int(e.needle)]
                            let start = i - Int(e.offset)
                            if start >= 0, start + needle.count <= filled,
                               needle.withUnsafeBytes({ memcmp(base + start, $0.baseAddress!, needle.count) }) == 0 { return true }
                        }
                        h = (h + 1) & mask
                    }
                    i += step
                }
                return false
            }
        } }
    }

}
