extension RegionGenerator {
    /// xoshiro256** seeded through SplitMix64: fast, deterministic on every platform.
    struct Rng {
        private var s0: UInt64
        private var s1: UInt64
        private var s2: UInt64
        private var s3: UInt64

        init(seed: UInt64) {
            var x = seed
            func splitmix(_ x: inout UInt64) -> UInt64 {
                x &+= 0x9E37_79B9_7F4A_7C15
                var z = x
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            s0 = splitmix(&x)
            s1 = splitmix(&x)
            s2 = splitmix(&x)
            s3 = splitmix(&x)
            if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
        }

        @inline(__always)
        mutating func next() -> UInt64 {
            let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = (s3 << 45) | (s3 >> 19)
            return result
        }

        /// Uniform in [0, 1).
        @inline(__always)
        mutating func unit() -> Double {
            Double(next() >> 11) * 0x1.0p-53
        }

        /// Uniform in 0..<n; 0 when n ≤ 1.
        @inline(__always)
        mutating func below(_ n: Int) -> Int {
            if n <= 1 { return 0 }
            return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
        }

        /// Uniform in lo...hi (inclusive); lo when hi ≤ lo.
        @inline(__always)
        mutating func range(_ lo: Int, _ hi: Int) -> Int {
            hi <= lo ? lo : lo + below(hi - lo + 1)
        }

        @inline(__always)
        mutating func chance(_ p: Double) -> Bool {
            unit() < p
        }

        /// Index drawn with the given (non-negative) weights; 0 if all are zero.
        mutating func weighted(_ weights: [Double]) -> Int {
            var total = 0.0
            for w in weights { total += w }
            if total <= 0 { return 0 }
            var r = unit() * total
            for (i, w) in weights.enumerated() {
                if r < w { return i }
                r -= w
            }
            return weights.count - 1
        }

        mutating func shuffle<T>(_ a: inout [T]) {
            var i = a.count - 1
            while i > 0 {
                let j = below(i + 1)
                a.swapAt(i, j)
                i -= 1
            }
        }
    }
}
