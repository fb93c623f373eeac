/// The bench's inputs, off the main actor (the writers run on other threads).
enum Lines {
    /// Feeds NDJSON bytes line by line to an append.
    static func feed(_ bytes: [UInt8]) -> ((UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void {
    { visit in
        try bytes.withUnsafeBufferPointer { b in
            var start = 0, number = 0
            for i in 0..<b.count where b[i] == 10 {
                number += 1
                if try !visit(UnsafeBufferPointer(rebasing: b[start..<i]), number, nil) { return }
                start = i + 1
            }
        }
    }
}

    /// `count` OrganisationRegistered lines with org ids `<prefix>-<i>` and no event ids.
    static func batch(_ prefix: String, _ count: Int) -> [UInt8] {
    var out: [UInt8] = []
    for i in 0..<count {
        out += Array(#"{"type":"OrganisationRegistered","occurred_at":"2026-01-01","data":{"org_id":"\#(prefix)-\#(i)","name":"Org \#(i)","kind":"sat"}}"#.utf8)
        out.append(10)
    }
    return out
}
}
