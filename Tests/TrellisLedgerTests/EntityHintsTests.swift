import Foundation
import Testing
@testable import TrellisLedger
import TrellisCore
import TrellisGenerator

/// The writer asks for the rule cache's slots of an event's look-ups two events ahead
/// (``EntityHints``, worked out on the decoding thread). A hint that named the wrong entity would
/// cost only a cache miss, so nothing else would notice it drifting from the rules: this pins
/// that, for every event of a generated region, the hints are the first look-ups
/// ``Rules/check(_:against:line:)`` makes.
@Suite struct EntityHintsTests {
    /// Answers every look-up with an entity that exists, so that the checks ask for everything
    /// they would, and records what they asked for, in order.
    final class Recorder: LedgerFacts {
        var asked: [UInt64] = []
        func entity(_ kind: EntityKind, _ key: String) throws -> EntityFact? {
            asked.append(EntityCache.hash(kind, key))
            return EntityFact(seq: 1, parent: nil, state: [])
        }
        func isMember(network: String, org: String) throws -> Bool { false }
        func event(id: String) throws -> RecordedEventRef? { nil }
        func isRetracted(seq: Int64) throws -> Bool { false }
    }

    @Test func theHintsAreTheFirstLookUpsOfTheRuleChecks() throws {
        var bytes: [UInt8] = []
        RegionGenerator(GeneratorOptions(networks: 3, orgs: 40, years: 2, seed: 9, maxEvents: 5_000)).runChunks { bytes.append(contentsOf: $0) }
        var seen = Set<EventType>()
        for (n, line) in bytes.split(separator: 0x0A).enumerated() {
            guard case .success(let event) = line.withUnsafeBufferPointer({ EventDecoder.decode(line: $0, number: n + 1) }) else {
                Issue.record("line \(n + 1) does not decode")
                continue
            }
            let recorder = Recorder()
            _ = try Rules.check(event, against: recorder, line: n + 1)
            let hints = EntityHints(event)
            let hinted = [hints.first, hints.second, hints.third].filter { $0 != 0 }
            #expect(hinted == Array(recorder.asked.prefix(3)), "line \(n + 1), \(event.type.rawValue)")
            seen.insert(event.type)
        }
        // The region exercises the look-ups of every kind of event that has any.
        for type in [EventType.attendanceRecorded, .documentAdopted, .documentShared, .personRegistered, .memberJoined,
                     .meetingHeld, .reviewCommitted, .reviewCompleted, .organisationRegistered, .networkFormed] {
            #expect(seen.contains(type), "no \(type.rawValue) in the region")
        }
    }
}
