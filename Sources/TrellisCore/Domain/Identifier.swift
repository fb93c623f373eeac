/// Ledger-assigned event ids: UUIDv7 (RFC 9562), time-ordered, in the identifier alphabet.
public enum Identifier {
    public static func uuidV7(micros: Int64 = Timestamp.nowMicros()) -> String {
        var rng = SystemRandomNumberGenerator()
        var b = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(micros / 1000)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        let r1: UInt64 = rng.next(), r2: UInt64 = rng.next()
        for i in 6..<16 { b[i] = UInt8(truncatingIfNeeded: (i < 11 ? r1 : r2) >> (8 * UInt64(i % 8))) }
        b[6] = 0x70 | (b[6] & 0x0F)
        b[8] = 0x80 | (b[8] & 0x3F)
        let h = Hex.encode(b)
        let u = Array(h)
        return String(u[0..<8]) + "-" + String(u[8..<12]) + "-" + String(u[12..<16]) + "-" + String(u[16..<20]) + "-" + String(u[20..<32])
    }
}
