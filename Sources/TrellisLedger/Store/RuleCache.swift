import TrellisCore
import CTrellisSQLite

/// The batch's cache of `rule_entities` rows, known present or known absent, keyed by
/// (kind, id). An open-addressing table with an FNV-1a hash of the id's UTF-8 bytes: the
/// nested `[EntityKind: [String: EntityFact?]]` it replaces hashed every id twice with
/// SipHash and retained both dictionaries, about 1 k instructions a look-up, three look-ups
/// for each `AttendanceRecorded` (callgrind).
///
/// The entries lie in the table itself (one 64-byte slot each, linear probing, at most half
/// full): a hit reads one cache line. With the slots holding indices into a separate array of
/// entries, a look-up was two cache misses once the batch knew some thousand entities, and
/// natively the look-up was 8 % of the writer's samples (perf, 263 k events), almost all of it
/// waiting on those two loads.
struct EntityCache {
    private struct Entry {
        /// The hash's high 32 bits with the low bit set; 0 marks an empty slot.
        var tag: UInt32 = 0
        var kind: UInt8 = 0
        var key: String = ""
        var fact: EntityFact? = nil
    }
    /// A power of two long, never more than half full.
    private var table = [Entry](repeating: Entry(), count: 1024)
    private var count = 0

    private static func hash(_ kind: UInt8, _ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(kind)
        let hashed: Void? = key.utf8.withContiguousStorageIfAvailable { bytes in
            for c in bytes { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        }
        if hashed == nil { for c in key.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 } }
        return h ^ (h >> 29)
    }

    @inline(__always) private static func tag(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h >> 32) | 1 }

    /// The slot holding (kind, key), or the empty slot where it would go.
    private func slot(_ kind: UInt8, _ key: String, hash h: UInt64) -> (slot: Int, found: Bool) {
        let mask = table.count - 1
        let tag = Self.tag(h)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let t = table[s].tag
            if t == 0 { return (s, false) }
            if t == tag && table[s].kind == kind && table[s].key == key { return (s, true) }
            s = (s + 1) & mask
        }
    }

    /// The hash under which (kind, key) is kept, for ``prefetch(_:)``.
    static func hash(_ kind: EntityKind, _ key: String) -> UInt64 { hash(kind.code, key) }

    /// Asks for the slots where entries of these hashes lie (or would go) to be brought into the
    /// cache: a look-up an event later then finds it there. The table is 8 MB at 1 M events,
    /// and its look-ups, one cache miss each, were a tenth of the writer's time (perf). One call
    /// takes an event's three hints: each lending of the table retains and releases it.
    func prefetch(_ hints: EntityHints) {
        table.withUnsafeBufferPointer { t in
            guard let base = t.baseAddress else { return }
            let mask = t.count - 1
            if hints.first != 0 { ctrellis_prefetch(base + (Int(truncatingIfNeeded: hints.first) & mask)) }
            if hints.second != 0 { ctrellis_prefetch(base + (Int(truncatingIfNeeded: hints.second) & mask)) }
            if hints.third != 0 { ctrellis_prefetch(base + (Int(truncatingIfNeeded: hints.third) & mask)) }
        }
    }

    /// `.some(nil)`: known to have no row; nil: not cached.
    subscript(kind: EntityKind, key: String) -> EntityFact?? {
        let code = kind.code
        let found = slot(code, key, hash: Self.hash(code, key))
        guard found.found else { return nil }
        return .some(table[found.slot].fact)
    }

    mutating func set(_ kind: EntityKind, _ key: String, _ fact: EntityFact?) {
        let code = kind.code
        let h = Self.hash(code, key)
        let found = slot(code, key, hash: h)
        if found.found { table[found.slot].fact = fact; return }
        table[found.slot] = Entry(tag: Self.tag(h), kind: code, key: key, fact: fact)
        count += 1
        if count * 2 > table.count { grow() }
    }

    private mutating func grow() {
        let old = table
        table = [Entry](repeating: Entry(), count: old.count * 2)
        let mask = table.count - 1
        for e in old where e.tag != 0 {
            var s = Int(truncatingIfNeeded: Self.hash(e.kind, e.key)) & mask
            while table[s].tag != 0 { s = (s + 1) & mask }
            table[s] = e
        }
    }
}

extension EntityKind {
    var code: UInt8 {
        switch self {
        case .network: 0
        case .organisation: 1
        case .person: 2
        case .meeting: 3
        case .document: 4
        case .review: 5
        }
    }
}

/// The rule cache's hashes of the entities an event's rule checks will look up first
/// (``Rules/firstLookups(of:)``; 0 for none), worked out on the decoding thread so that the
/// writer can ask for their slots ahead (``EntityCache/prefetch(_:)``). A hint only: a wrong
/// or missing one costs a cache miss, nothing else.
package struct EntityHints: Sendable {
    package private(set) var first: UInt64 = 0, second: UInt64 = 0, third: UInt64 = 0

    package init() {}

    package init(_ event: borrowing DecodedEvent) {
        let d = event.data
        func h(_ l: EntityLookup?) -> UInt64 {
            guard let l, let key = d.string(l.field) else { return 0 }
            return EntityCache.hash(l.kind, key)
        }
        let (a, b, c) = Rules.firstLookups(of: event.type)
        (first, second, third) = (h(a), h(b), h(c))
    }
}
