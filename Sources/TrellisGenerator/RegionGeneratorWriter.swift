import TrellisCore

extension RegionGenerator.Engine {
    // MARK: - JSON line writer (bytes appended to `out`, one line per event)

    @inline(__always)
    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func bytes(_ b: [UInt8]) {
        out.append(contentsOf: b)
    }

    /// Decimal integer, left-padded with zeros to `width` digits.
    @inline(__always)
    mutating func padded(_ v: Int, _ width: Int) {
        var x = v
        if x < 0 {
            out.append(0x2D)
            x = x == Int.min ? Int.max : -x
        }
        var n = 1
        var t = x
        while t >= 10 { t /= 10; n += 1 }
        if n < width { n = width }
        let base = out.count
        out.append(contentsOf: repeatElement(UInt8(48), count: n))
        var i = base + n - 1
        while x > 0 {
            out[i] = UInt8(truncatingIfNeeded: 48 + x % 10)
            x /= 10
            i -= 1
        }
    }

    @inline(__always)
    mutating func int(_ v: Int) { padded(v, 1) }

    /// `YYYY-MM-DD` of simulation day `d`.
    mutating func date(_ d: Int) {
        let start = d * 10
        if d >= 0 && start + 10 <= dates.count {
            out.append(contentsOf: dates[start..<(start + 10)])
        } else {
            let c = Timestamp.civil(days: epoch0 + d)
            padded(c.year, 4)
            out.append(0x2D)
            padded(c.month, 2)
            out.append(0x2D)
            padded(c.day, 2)
        }
    }

    /// Organisation, person and network ids: "org0001", "p00001", "n01" (zero-padded to a
    /// minimum width, longer when needed).
    @inline(__always)
    mutating func orgId(_ o: Int) {
        raw("org")
        padded(o + 1, 4)
    }

    @inline(__always)
    mutating func personId(_ p: Int) {
        out.append(0x70) // p
        padded(p + 1, 5)
    }

    @inline(__always)
    mutating func netId(_ n: Int) {
        out.append(0x6E) // n
        padded(n + 1, 2)
    }

    @inline(__always)
    mutating func kvOrg(_ key: StaticString, _ o: Int) {
        raw(key)
        orgId(o)
        out.append(0x22)
    }

    @inline(__always)
    mutating func kvPerson(_ key: StaticString, _ p: Int) {
        raw(key)
        personId(p)
        out.append(0x22)
    }

    @inline(__always)
    mutating func kvNet(_ key: StaticString, _ n: Int) {
        raw(key)
        netId(n)
        out.append(0x22)
    }

    /// `begin` with the actor "Network lead (nNN)" (the regional coordinator when `net` < 0).
    mutating func begin(_ type: StaticString, _ d: Int, _ sec: Int, dateOnly: Bool, net: Int) {
        beginEnvelope(type, d, sec, dateOnly: dateOnly)
        if net >= 0 {
            raw("Network lead (")
            netId(net)
            raw(")")
        } else {
            bytes(regionActor)
        }
        raw("\",\"data\":{")
    }

    /// Starts an event line: envelope up to and including `"data":{`.
    mutating func begin(_ type: StaticString, _ d: Int, _ sec: Int, dateOnly: Bool, _ actor: [UInt8]) {
        beginEnvelope(type, d, sec, dateOnly: dateOnly)
        bytes(actor)
        raw("\",\"data\":{")
    }

    @inline(__always)
    mutating func beginEnvelope(_ type: StaticString, _ d: Int, _ sec: Int, dateOnly: Bool) {
        counter += 1
        raw("{\"id\":\"")
        bytes(idPrefix)
        padded(counter, 9)
        raw("\",\"type\":\"")
        raw(type)
        raw("\",\"occurred_at\":\"")
        date(d)
        if !dateOnly {
            let s = min(max(sec, 0), 86_399)
            out.append(0x54) // T
            padded(s / 3600, 2)
            out.append(0x3A)
            padded(s / 60 % 60, 2)
            out.append(0x3A)
            padded(s % 60, 2)
            out.append(0x5A) // Z
        }
        raw("\",\"actor\":\"")
    }

    /// Ends the event line started by `begin`.
    @inline(__always)
    mutating func end() {
        raw("}}")
        lineEnds.append(out.count)
        out.append(0x0A)
    }

    /// `key` must contain the leading comma (if any), the quoted key, the colon and the
    /// value's opening quote, e.g. `,"org_id":"`; `value` is already JSON-escaped.
    @inline(__always)
    mutating func kv(_ key: StaticString, _ value: [UInt8]) {
        raw(key)
        bytes(value)
        out.append(0x22)
    }

    /// As `kv`, escaping `s`.
    mutating func kvs(_ key: StaticString, _ s: String) {
        raw(key)
        bytes(RegionGenerator.Words.escaped(s))
        out.append(0x22)
    }
}
