// libFuzzer target over the NDJSON decoder and the append rules.
//
//   tools/fuzz/run.sh [seconds]      builds with `swiftc -sanitize=fuzzer` and runs it on corpus/
//
// Each input is one line: it is decoded; if it decodes, the rules are checked against a
// small in-memory ledger (a network, organisations, a person, a meeting, a committed
// review, a retracted event). Any crash, trap or sanitizer report is a bug; a rejection must
// always come with a message naming a line. The input is also cut at its newlines and the
// pieces decoded in order, as a chunk of an import is (sharing what lines repeat,
// `EventDecoder.Recent`): each must decode exactly as it does alone.

final class FuzzFacts: LedgerFacts, Sendable {
    let entities: [EntityKind: [String: EntityFact]] = [
        .network: ["npn": EntityFact(seq: 1, parent: nil, state: []), "old": EntityFact(seq: 2, parent: nil, state: .retracted)],
        .organisation: ["oak": EntityFact(seq: 3, parent: nil, state: []), "ash": EntityFact(seq: 4, parent: nil, state: [])],
        .person: ["p1": EntityFact(seq: 5, parent: "oak", state: []), "p2": EntityFact(seq: 6, parent: "ash", state: .erased)],
        .meeting: ["m1": EntityFact(seq: 7, parent: "npn", state: [])],
        .document: ["d1": EntityFact(seq: 8, parent: "oak", state: [])],
        .review: ["r1": EntityFact(seq: 9, parent: "npn", state: []), "r2": EntityFact(seq: 10, parent: "npn", state: .completed)],
    ]
    func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? { entities[kind]?[key] }
    func isMember(network: String, org: String) throws -> Bool { network == "npn" && org == "oak" }
    func event(id: String) throws -> RecordedEventRef? {
        switch id {
        case "e1": return RecordedEventRef(seq: 3, type: .organisationRegistered, data: JSONObject([("org_id", .string("oak"))]))
        case "e2": return RecordedEventRef(seq: 11, type: .eventRetracted, data: JSONObject([("event_id", .string("e1"))]))
        case "e3": return RecordedEventRef(seq: 12, type: .memberJoined, data: JSONObject([("network_id", .string("npn")), ("org_id", .string("oak"))]))
        default: return nil
        }
    }
    func isRetracted(seq: Int64) throws -> Bool { seq == 12 }
}

let facts = FuzzFacts()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = UnsafeBufferPointer(start: data, count: size)
    switch EventDecoder.decode(line: line, number: 1) {
    case .failure(let errors):
        precondition(!errors.isEmpty && errors.allSatisfy { $0.description.hasPrefix("line 1: ") }, "a rejection without a message")
    case .success(let event):
        let errors = (try? Rules.check(event, against: facts, line: 1)) ?? []
        precondition(errors.allSatisfy { $0.description.hasPrefix("line 1: ") })
        if errors.isEmpty { _ = try? Rules.effects(of: event, against: facts) }
        _ = CanonicalJSON.bytes(.object(event.data))
    }
    let newlines = (0..<size).filter { line[$0] == 0x0A }
    if newlines.isEmpty { return 0 }
    var recent = EventDecoder.Recent()
    var start = 0
    for end in newlines + [size] {
        let piece = UnsafeBufferPointer(rebasing: line[start..<end])
        start = end + 1
        var shared: Range<Int>?, alone: Range<Int>?
        let inRun = EventDecoder.decode(line: piece, number: 2, canonicalData: &shared, recent: &recent)
        precondition(inRun == EventDecoder.decode(line: piece, number: 2, canonicalData: &alone) && shared == alone,
                     "a line decodes differently after the lines before it")
    }
    return 0
}
