import TrellisCore

/// The batch's cache of `rule_entities` rows, known present or known absent, keyed by
/// (kind, id). An open-addressing table with an FNV-1a hash of the id's UTF-8 bytes: the
/// nested `[EntityKind: [String: EntityFact?]]` it replaces hashed every id twice with
/// SipHash and retained both dictionaries, about 1 k instructions a look-up, three look-ups
/// for each `AttendanceRecorded` (callgrind).
struct EntityCache {
    private var kinds: [UInt8] = []
    private var keys: [String] = []
    private var facts: [EntityFact?] = []
    /// Index + 1 into the arrays above; 0 is an empty slot. A power of two long.
    private var slots = [Int32](repeating: 0, count: 1024)

    private static func hash(_ kind: UInt8, _ key: String) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(kind)
        let hashed: Void? = key.utf8.withContiguousStorageIfAvailable { bytes in
            for c in bytes { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        }
        if hashed == nil { for c in key.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 } }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }

    /// The slot holding (kind, key), or the empty slot where it would go.
    private func slot(_ kind: UInt8, _ key: String) -> (slot: Int, index: Int?) {
        let mask = slots.count - 1
        var s = Self.hash(kind, key) & mask
        while true {
            let i = Int(slots[s])
            if i == 0 { return (s, nil) }
            if kinds[i - 1] == kind && keys[i - 1] == key { return (s, i - 1) }
            s = (s + 1) & mask
        }
    }

    /// `.some(nil)`: known to have no row; nil: not cached.
    subscript(kind: EntityKind, key: String) -> EntityFact?? {
        let found = slot(kind.code, key)
        guard let i = found.index else { return nil }
        return .some(facts[i])
    }

    mutating func set(_ kind: EntityKind, _ key: String, _ fact: EntityFact?) {
        let code = kind.code
        let found = slot(code, key)
        if let i = found.index { facts[i] = fact; return }
        kinds.append(code); keys.append(key); facts.append(fact)
        slots[found.slot] = Int32(keys.count)
        if keys.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for i in keys.indices {
            var s = Self.hash(kinds[i], keys[i]) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = Int32(i + 1)
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
