/// One organisation's participation in one network over the period.
public struct MemberParticipation: Sendable, Hashable {
    public var org: String
    public var name: String
    /// Meetings of the network in the period held on a day the organisation was a member.
    public var expected: Int
    public var present: Int
    public var apologies: Int
    public var absent: Int
    /// present ÷ expected; nil when no meeting was expected.
    public var rate: Double?
}

/// One meeting: how many members were expected and how they stood.
public struct MeetingAttendance: Sendable, Hashable {
    public var meeting: MeetingRow
    public var expected: Int
    public var present: Int
    public var apologies: Int
    public var absent: Int
    /// present ÷ expected; nil when the network had no member that day.
    public var rate: Double?
}

/// Participation in one network over the period.
public struct NetworkParticipation: Sendable, Hashable {
    public var network: NetworkRow
    /// The network's meetings in the period, in the order they were held.
    public var meetings: [MeetingAttendance]
    /// Every organisation that was a member on any day of the period (even with nothing
    /// expected), by id.
    public var members: [MemberParticipation]
    /// Total present ÷ total expected.
    public var attendanceRate: Double?
    /// Mean of the members' rates, over members with at least one expected meeting.
    public var participationRate: Double?
    /// Over all members (also when `members` is narrowed to some organisations).
    public var memberCount: Int
    public var expected: Int
    public var present: Int
}

/// `trellis report participation`: DOMAIN.md's meetings expected, present, apologies,
/// absent and participation rate, per member and network.
public struct ParticipationReport: Sendable, Hashable {
    public var period: Period
    public var networks: [NetworkParticipation]
}

/// The participation figures of DOMAIN.md, as a pure function of rows.
///
/// ## Topics
/// - ``compute(networks:period:membership:meetings:attendance:organisations:)``
/// - ``standing(of:in:)``
public enum ParticipationFigures {

    /// - Parameters:
    ///   - meetings: meetings of (at least) these networks; those outside the period are ignored.
    ///   - attendance: meeting → organisation → status, as `attendance_by_org` gives it;
    ///     meetings that do not exist (retracted) simply are not in `meetings`.
    public static func compute(networks: [NetworkRow], period: Period, membership: MembershipTimeline,
                               meetings: [MeetingRow], attendance: [String: [String: AttendanceStatus]],
                               organisations: [String: OrganisationRow]) -> ParticipationReport {
        var byNetwork: [String: [MeetingRow]] = [:]
        for m in meetings where period.contains(m.day) { byNetwork[m.network, default: []].append(m) }
        let result = networks.map { n -> NetworkParticipation in
            let held = byNetwork[n.id] ?? []
            let members = membership.members(of: n.id, during: period)
            let registers = held.map { attendance[$0.id] ?? [:] }
            var perMeeting = held.map { MeetingAttendance(meeting: $0, expected: 0, present: 0, apologies: 0, absent: 0, rate: nil) }
            var rows: [MemberParticipation] = []
            rows.reserveCapacity(members.count)
            for o in members {
                let member = membership.member(o, of: n.id)
                var row = MemberParticipation(org: o, name: organisations[o]?.name ?? o, expected: 0, present: 0, apologies: 0, absent: 0, rate: nil)
                for (k, m) in held.enumerated() where member.isMember(on: m.day) {
                    row.expected += 1
                    perMeeting[k].expected += 1
                    switch standing(of: o, in: registers[k]) {
                    case .present: row.present += 1; perMeeting[k].present += 1
                    case .apologies: row.apologies += 1; perMeeting[k].apologies += 1
                    case .absent: row.absent += 1; perMeeting[k].absent += 1
                    }
                }
                row.rate = Rate.of(row.present, row.expected)
                rows.append(row)
            }
            for k in perMeeting.indices { perMeeting[k].rate = Rate.of(perMeeting[k].present, perMeeting[k].expected) }
            let expected = rows.reduce(0) { $0 + $1.expected }
            let present = rows.reduce(0) { $0 + $1.present }
            return NetworkParticipation(network: n, meetings: perMeeting, members: rows,
                                        attendanceRate: Rate.of(present, expected),
                                        participationRate: Rate.mean(rows.map(\.rate)),
                                        memberCount: rows.count, expected: expected, present: present)
        }
        return ParticipationReport(period: period, networks: result)
    }

    /// An organisation's standing at a meeting, given the meeting's register (organisation →
    /// status, as `attendance_by_org` says): absent when it has no record there at all.
    public static func standing(of org: String, in register: [String: AttendanceStatus]) -> AttendanceStatus {
        register[org] ?? .absent
    }
}
