import Foundation
import Testing
import TrellisLedger
@testable import TrellisReports

/// A network over 2025/26 with every membership and register subtlety of DOMAIN.md; the
/// figures below are computed by hand.
enum ParticipationFixture {
    static let lines: [String] = [
        E.network("npn", name: "North Pennines"), E.network("net2"),
        E.org("oak"), E.org("ash"), E.org("elm"), E.org("fir"), E.org("pine"), E.org("yew"), E.org("birch"),
        E.person("pa1", "ash"), E.person("pa2", "ash"),
        E.join("oak"), E.join("ash"), E.join("elm"), E.join("pine"), E.join("oak", n: "net2"),
        E.join("fir", "2025-11-01"),                        // joins mid-period
        E.leave("elm", "2026-01-15"),                       // leaves mid-period
        // Joined in the afternoon, but the leave (recorded after it) decides the day: by seq.
        E.join("yew", "2025-10-01T15:00:00Z"), E.leave("yew", "2025-10-01T09:00:00Z"),
        // Leaves and rejoins on the same day (in that order): a member that day.
        E.leave("pine", "2025-12-01"), E.join("pine", "2025-12-01"),
        E.join("birch", "2026-06-01"),                      // after the last meeting
        E.meeting("m0", "2025-08-15"),                      // before the period
        E.meeting("m1", "2025-10-01T10:00:00Z"),
        E.meeting("mR", "2025-11-15"),                      // retracted below
        E.meeting("m2", "2025-12-01T18:00:00Z"),
        E.meeting("m3", "2026-02-01"),
        E.meeting("m4", "2026-05-01"),
        E.meeting("mx", "2025-10-05", n: "net2"),           // another network
        E.attend("a0", "m0", "oak", "present", day: "2025-08-15"),
        E.attend("a1", "m1", "oak", "present", day: "2025-10-01"),
        E.attend("a2", "m1", "ash", "apologies", day: "2025-10-01", person: "pa1"),
        E.attend("a3", "m1", "ash", "present", day: "2025-10-01", person: "pa2"),  // any person present: present
        E.attend("a4", "m1", "elm", "apologies", day: "2025-10-01"),
        E.attend("a5", "m1", "yew", "present", day: "2025-10-01"),                 // not a member: ignored
        // pine has no record at m1: absent
        E.attend("r1", "mR", "oak", "present", day: "2025-11-15"),
        E.attend("r2", "mR", "ash", "present", day: "2025-11-15"),
        E.attend("b1", "m2", "oak", "absent", day: "2025-12-01"),
        E.attend("b2", "m2", "ash", "apologies", day: "2025-12-01"),                // org-level record
        E.attend("b3", "m2", "ash", "present", day: "2025-12-01", person: "pa1"),
        E.attend("b4", "m2", "elm", "present", day: "2025-12-01"),
        E.attend("b5", "m2", "fir", "absent", day: "2025-12-01"),
        E.attend("b6", "m2", "pine", "present", day: "2025-12-01"),
        E.attend("b7", "m2", "oak", "present", day: "2025-12-01"),                  // correction: latest wins
        E.attend("b8", "m2", "ash", "absent", day: "2025-12-01", person: "pa1"),    // correction: apologies remain
        E.attend("c1", "m3", "oak", "present", day: "2026-02-01"),
        E.attend("c2", "m3", "ash", "present", day: "2026-02-01"),
        E.attend("c3", "m3", "fir", "apologies", day: "2026-02-01"),
        E.attend("c4", "m3", "pine", "absent", day: "2026-02-01"),
        E.attend("c5", "m3", "elm", "present", day: "2026-02-01"),                 // left before: ignored
        E.attend("x1", "mx", "oak", "present", day: "2025-10-05"),
        E.retract("rt1", "mh-mR"),
        // The May register, typed up weeks later.
        E.attend("d1", "m4", "oak", "present", day: "2026-05-01"),
        E.attend("d2", "m4", "fir", "present", day: "2026-05-01"),
    ]
}

@Suite struct ParticipationTests {
    func report() throws -> ParticipationReport {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        return try s.source().participation(ReportQuery(networks: ["npn"], period: year2025)).report
    }

    @Test func everyMemberOfAnyDayIsListedWithHandComputedCounts() throws {
        let n = try #require(try report().networks.first)
        #expect(n.network.id == "npn")
        let rows = n.members.map { [$0.org, "\($0.expected)", "\($0.present)", "\($0.apologies)", "\($0.absent)"] }
        #expect(rows == [
            ["ash", "4", "2", "1", "1"],
            ["birch", "0", "0", "0", "0"],
            ["elm", "2", "1", "1", "0"],
            ["fir", "3", "1", "1", "1"],
            ["oak", "4", "4", "0", "0"],
            ["pine", "4", "1", "0", "3"],
        ], "yew joined and left on one day (leave last by seq): never a member")
    }

    @Test func ratesAreDefinedOnlyWhenSomethingWasExpected() throws {
        let n = try #require(try report().networks.first)
        let rate = Dictionary(uniqueKeysWithValues: n.members.map { ($0.org, $0.rate) })
        #expect(close(rate["oak"]!, 1))
        #expect(close(rate["ash"]!, 0.5))
        #expect(close(rate["elm"]!, 0.5))
        #expect(close(rate["fir"]!, 1.0 / 3))
        #expect(close(rate["pine"]!, 0.25))
        #expect(rate["birch"]! == nil, "nothing expected: undefined, never 0")
        #expect(close(n.attendanceRate, 9.0 / 17))
        #expect(close(n.participationRate, (1 + 0.5 + 0.5 + 1.0 / 3 + 0.25) / 5), "mean over members with an expected meeting")
    }

    @Test func perMeetingAttendanceIgnoresRetractedAndOutOfPeriodMeetings() throws {
        let n = try #require(try report().networks.first)
        #expect(n.meetings.map(\.meeting.id) == ["m1", "m2", "m3", "m4"])
        #expect(n.meetings.map { [$0.expected, $0.present, $0.apologies, $0.absent] } == [[4, 2, 1, 1], [5, 3, 1, 1], [4, 2, 1, 1], [4, 2, 0, 2]])
    }

    @Test func aNetworkWithoutMeetingsHasUndefinedRates() throws {
        let s = try Scratch()
        try s.append(ParticipationFixture.lines)
        let r = try s.source().participation(ReportQuery(networks: ["net2"], period: Period(from: day("2026-01-01"), to: day("2026-02-01")))).report
        let n = try #require(r.networks.first)
        #expect(n.members.map(\.org) == ["oak"])
        #expect(n.members[0].expected == 0 && n.members[0].rate == nil)
        #expect(n.attendanceRate == nil && n.participationRate == nil)
    }

    @Test func asOfSeesOnlyWhatHadHappenedAndKnownAtOnlyWhatWasRecorded() throws {
        let s = try Scratch()
        try s.append(Array(ParticipationFixture.lines.dropLast(2)))
        let before = try s.ledger.head()
        Thread.sleepBriefly()
        try s.append(Array(ParticipationFixture.lines.suffix(2)))
        let q = ReportQuery(networks: ["npn"], period: year2025)
        // Known at the first head: the May register was not typed up yet.
        let then = try s.source(knownAt: before.recordedAt).participation(q)
        #expect(then.provenance.headSeq == before.seq)
        #expect(then.provenance.headHash == before.hashHex)
        let oakThen = try #require(then.report.networks[0].members.first { $0.org == "oak" })
        #expect([oakThen.expected, oakThen.present, oakThen.absent] as [Int] == [4, 3, 1])
        // As of 1 March 2026: m4 had not happened.
        let asOf = try s.source(asOf: "2026-03-01").participation(q).report
        #expect(asOf.networks[0].meetings.map(\.meeting.id) == ["m1", "m2", "m3"])
    }

    @Test func membershipTimelineOrdersSameDayEventsBySeq() {
        let t = MembershipTimeline(events: [
            MembershipEventRow(network: "n", org: "o", day: "2025-10-01", seq: 7, joined: false),
            MembershipEventRow(network: "n", org: "o", day: "2025-10-01", seq: 5, joined: true),
            MembershipEventRow(network: "n", org: "o", day: "2025-09-01", seq: 9, joined: true),
            MembershipEventRow(network: "n", org: "o", day: "2025-09-10", seq: 3, joined: false),
        ])
        #expect(t.isMember("o", of: "n", on: "2025-09-05"))
        #expect(!t.isMember("o", of: "n", on: "2025-09-10"))
        #expect(!t.isMember("o", of: "n", on: "2025-10-01"), "join then leave on one day: not a member that day")
        #expect(!t.isMember("o", of: "n", on: "2025-08-31"))
        #expect(t.memberDays("o", of: "n", during: Period(from: day("2025-09-01"), to: day("2025-11-01"))) == 9)
        #expect(t.members(of: "n", during: Period(from: day("2025-09-20"), to: day("2025-11-01"))).isEmpty)
    }
}

extension Thread {
    /// recorded_at has microseconds; 10 ms keeps two appends apart.
    static func sleepBriefly() { Thread.sleep(forTimeInterval: 0.01) }
}
