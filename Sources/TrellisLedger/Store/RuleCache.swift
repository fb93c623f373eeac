import TrellisCore

/// The batch's cache of `rule_entities` rows, known present or known absent, keyed by
/// (kind, id). An open-addressing table with an FNV-1a hash of the id's UTF-8 bytes: the
/// nested `[EntityKind: [String: EntityFact?]]` it replaces hashed every id twice with
/// SipHash and retained both dictionaries, about 1 k instructions a look-up, three look-ups
/// for each `AttendanceRecorded` (callgrind).
struct EntityCache {
    private struct Entry {
        var kind: UInt8
        var key: String
        var fact: EntityFact?
    }
    /// One array of entries (kind, id and fact side by side: one cache line a hit).
    private var entries: [Entry] = []
    /// Per slot, the entry's index + 1 in the low 32 bits (0: empty) and the high 32 bits of
    /// its hash, so that a collision is told apart without reading the entry. A power of two long.
    private var slots = [UInt64](repeating: 0, count: 1024)

    private static func hash(_ kind: UInt8, _ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(kind)
        let hashed: Void? = key.utf8.withContiguousStorageIfAvailable { bytes in
            for c in bytes { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        }
        if hashed == nil { for c in key.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 } }
        return h ^ (h >> 29)
    }

    /// The slot holding (kind, key), or the empty slot where it would go.
    private func slot(_ kind: UInt8, _ key: String, hash h: UInt64) -> (slot: Int, index: Int?) {
        let mask = slots.count - 1
        let tag = h >> 32
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let v = slots[s]
            if v == 0 { return (s, nil) }
            if v >> 32 == tag {
                let i = Int(v & 0xFFFF_FFFF) - 1
                if entries[i].kind == kind && entries[i].key == key { return (s, i) }
            }
            s = (s + 1) & mask
        }
    }

    /// `.some(nil)`: known to have no row; nil: not cached.
    subscript(kind: EntityKind, key: String) -> EntityFact?? {
        let code = kind.code
        guard let i = slot(code, key, hash: Self.hash(code, key)).index else { return nil }
        return .some(entries[i].fact)
    }

    mutating func set(_ kind: EntityKind, _ key: String, _ fact: EntityFact?) {
        let code = kind.code
        let h = Self.hash(code, key)
        let found = slot(code, key, hash: h)
        if let i = found.index { entries[i].fact = fact; return }
        entries.append(Entry(kind: code, key: key, fact: fact))
        slots[found.slot] = (h >> 32) << 32 | UInt64(entries.count)
        if entries.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for i in entries.indices {
            let h = Self.hash(entries[i].kind, entries[i].key)
            var s = Int(truncatingIfNeeded: h) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = (h >> 32) << 32 | UInt64(i + 1)
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
