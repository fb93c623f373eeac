#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dates and instants as the ledger writes them: proleptic Gregorian, UTC, text.
///
/// `occurred_at` is normalised to `YYYY-MM-DDTHH:MM:SS[.f…]Z` (a bare date means 00:00Z,
/// trailing fraction zeros dropped) so that one instant has one canonical spelling.
/// `recorded_at` is always `YYYY-MM-DDTHH:MM:SS.ffffffZ`, fixed width, so text order is
/// time order.
public enum Timestamp {
    /// Days since 1970-01-01 for a civil date (Hinnant's algorithm).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// 0 = Sunday … 6 = Saturday.
    public static func weekday(days: Int) -> Int {
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func digits(_ u: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for c in u {
            guard c >= 0x30, c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    /// Parses `YYYY-MM-DD`, a real calendar date between years 1000 and 9999; returns days since epoch.
    public static func parseDate(_ s: String) -> Int? {
        let u = Array(s.utf8)
        guard u.count == 10 else { return nil }
        return parseDate(u[0..<10])
    }

    static func parseDate(_ u: ArraySlice<UInt8>) -> Int? {
        let b = u.startIndex
        guard u.count == 10, u[b + 4] == UInt8(ascii: "-"), u[b + 7] == UInt8(ascii: "-"),
              let y = digits(u[b..<b + 4]), let m = digits(u[b + 5..<b + 7]), let d = digits(u[b + 8..<b + 10]),
              y >= 1000, (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y)
        else { return nil }
        return days(year: y, month: m, day: d)
    }

    /// A parsed `occurred_at`: its canonical text and its UTC day.
    public struct Instant: Sendable, Equatable {
        public var text: String
        public var day: Int
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`; nil when not a real UTC instant.
    public static func parseOccurredAt(_ s: String) -> Instant? {
        var text = s
        return text.withUTF8 { parseOccurredAt(utf8: $0, original: s) }
    }

    private static func digits(_ p: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        var v = 0
        for i in from..<to {
            let c = p[i]
            guard c >= 0x30, c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    private static func parseOccurredAt(utf8 u: UnsafeBufferPointer<UInt8>, original: String) -> Instant? {
        let n = u.count
        guard n >= 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              let y = digits(u, 0, 4), let m = digits(u, 5, 7), let d = digits(u, 8, 10),
              y >= 1000, (1...12).contains(m), d >= 1, d <= daysIn(month: m, year: y)
        else { return nil }
        let day = days(year: y, month: m, day: d)
        if n == 10 { return Instant(text: original + "T00:00:00Z", day: day) }
        guard n >= 20, u[10] == UInt8(ascii: "T"), u[n - 1] == UInt8(ascii: "Z"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let hh = digits(u, 11, 13), let mm = digits(u, 14, 16), let ss = digits(u, 17, 19),
              hh < 24, mm < 60, ss < 60
        else { return nil }
        if n == 20 { return Instant(text: original, day: day) }
        // A fraction: 1–9 digits, trailing zeros dropped (…00.500Z is …00.5Z; …00.000Z is …00Z).
        guard u[19] == UInt8(ascii: "."), n - 21 >= 1, n - 21 <= 9, digits(u, 20, n - 1) != nil else { return nil }
        var end = n - 1
        while end > 20, u[end - 1] == 0x30 { end -= 1 }
        var bytes = Array(UnsafeBufferPointer(rebasing: u[0..<(end > 20 ? end : 19)]))
        bytes.append(UInt8(ascii: "Z"))
        return Instant(text: String(decoding: bytes, as: UTF8.self), day: day)
    }

    /// The canonical text of a date: `YYYY-MM-DD`.
    public static func dateText(days: Int) -> String {
        let c = civil(days: days)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Microseconds since the epoch, now.
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the fixed-width form of `recorded_at`.
    public static func recordedText(micros: Int64) -> String {
        let secs = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let frac = Int(micros - secs * 1_000_000)
        let days = Int(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400)
        let sod = Int(secs - Int64(days) * 86400)
        return dateText(days: days) + "T" + pad(sod / 3600, 2) + ":" + pad(sod / 60 % 60, 2) + ":" + pad(sod % 60, 2)
            + "." + pad(frac, 6) + "Z"
    }

    /// Microseconds since the epoch of a `recorded_at` or `occurred_at` text (or a bare date).
    public static func micros(_ s: String) -> Int64? {
        guard let inst = parseOccurredAt(s) else { return nil }
        let u = Array(inst.text.utf8)
        var m = Int64(inst.day) * 86_400_000_000
        if let hh = digits(u[11..<13]), let mm = digits(u[14..<16]), let ss = digits(u[17..<19]) {
            m += Int64(hh * 3600 + mm * 60 + ss) * 1_000_000
        }
        if u.count > 21, u[19] == UInt8(ascii: ".") {
            var frac = Array(u[20..<(u.count - 1)])
            while frac.count < 6 { frac.append(0x30) }
            if let f = digits(frac[0..<6]) { m += Int64(f) }
        }
        return m
    }
}
