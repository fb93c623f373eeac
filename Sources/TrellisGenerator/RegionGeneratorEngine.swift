import TrellisCore

extension RegionGenerator {
    // MARK: - Entities and scheduled actions

    enum Kind {
        static let mat = 0, sat = 1, hub = 2, localAuthority = 3, provider = 4
    }

    enum Role {
        static let ceo = 0, chair = 1, coo = 2, cfo = 3, governance = 4, hr = 5, dsi = 6,
                   headteacher = 7, sbm = 8, hubLead = 9, hose = 10, programme = 11, execHead = 12
        static func bit(_ r: Int) -> UInt16 { UInt16(1) << UInt16(r) }
        static let leadMask: UInt16 = bit(ceo) | bit(headteacher) | bit(hubLead) | bit(hose) | bit(programme) | bit(execHead)
    }

    /// Forums (meeting series) of every network: the half-termly network meeting and
    /// role-based groups.
    enum Forum {
        static let count = 6
        static let network = 0, governance = 1, finance = 2, improvement = 3, chairs = 4, hr = 5
        static let codes: [String] = ["net", "gov", "fin", "sch", "chairs", "hr"]
        static let titles: [String] = [
            "network meeting", "governance professionals' network", "finance and operations group",
            "school improvement group", "chairs' forum", "HR and workforce group",
        ]
        /// Target (month, day) per half-term, or nil when the forum does not meet then.
        static let targets: [[(Int, Int)?]] = [
            [(10, 3), (11, 21), (1, 16), (3, 13), (5, 15), (7, 3)],
            [(9, 19), (11, 7), (1, 23), (2, 27), (4, 24), (6, 12)],
            [(9, 26), (11, 14), (1, 30), (3, 6), (5, 1), (6, 19)],
            [(10, 10), (12, 5), (2, 6), (3, 20), (5, 8), (6, 26)],
            [nil, (11, 28), nil, (3, 27), nil, (7, 10)],
            [(10, 17), nil, (2, 10), nil, (5, 22), nil],
        ]
        static let seconds: [Int] = [34_200, 57_600, 50_400, 34_200, 64_800, 48_600]
        static let roleMask: [UInt16] = [
            Role.leadMask,
            Role.bit(Role.governance),
            Role.bit(Role.coo) | Role.bit(Role.cfo) | Role.bit(Role.sbm),
            Role.bit(Role.dsi) | Role.bit(Role.headteacher) | Role.bit(Role.execHead) | Role.bit(Role.hose),
            Role.bit(Role.chair),
            Role.bit(Role.hr) | Role.bit(Role.coo) | Role.bit(Role.sbm),
        ]
        static let trustFactor: [Double] = [1.0, 0.92, 0.9, 0.86, 0.86, 0.8]
        static let partnerFactor: [Double] = [0.9, 0.45, 0.3, 0.6, 0.25, 0.3]
    }

    /// Half-term start (month, day); the academic year runs 1 September – 31 August.
    static let halfTermStarts: [(Int, Int)] = [(9, 1), (10, 30), (1, 3), (2, 20), (4, 15), (5, 29)]

    struct Org {
        var name: String
        var kind: Int
        var schools: Int
        var home: Int
        var region: Int
        var domain: String
        var base: Double
        var prop: Double
        var apol: Double
        var quality: Double
        var isoStart: Int
        var isolating = false
        var registered = false
        var active = false
        var founding = false
        var persons: [Int] = []
        var leftTick = -1
    }

    struct Person {
        var org: Int
        var role: Int
        var active: Bool
        var erased: Bool
    }

    struct Net {
        var name: String
        var region: Int
        var reviewActor: [UInt8]
        var weight: Double
        var recordsAbsent: Bool
        var lateRate: Double
        var personRate: Double
        var personRegister: Bool
        var members: [Int] = []
        var prev: MeetingRef?
    }

    struct MeetingRef {
        var net: Int
        var year: Int
        var ht: Int
        var forum: Int
        var day: Int
        var sec: Int
        var dup: Bool
    }

    struct Rec {
        var org: Int
        var person: Int
        var status: Int // 0 present, 1 apologies, 2 absent
    }

    struct Review {
        var number: Int
        var net: Int
        var reviewee: Int
        var r1: Int
        var r2: Int
        var areas: Int = 0
    }

    enum FollowUp {
        case none
        case attendance(MeetingRef, Rec)
        case join(net: Int, org: Int, day: Int)
        case schools(org: Int)
        case reshare(net: Int, org: Int, kind: Int, variant: Int, withOrg: Bool)
    }

    enum Act {
        case setup
        case yearStart(Int)
        case halfTerm(year: Int, ht: Int)
        case meeting(MeetingRef)
        case register(MeetingRef, wrong: MeetingRef?, [Rec])
        case correction(MeetingRef, Rec)
        case retract(target: Int, reason: Int, net: Int, follow: FollowUp)
        case retractLeave(target: Int, net: Int, org: Int)
        case retractJoin(target: Int, net: Int, org: Int, follow: FollowUp)
        case share(net: Int, org: Int)
        case adopt(doc: Int, net: Int, org: Int)
        case commitTriad(net: Int, a: Int, b: Int, c: Int)
        case complete(Review)
        case withdraw(Review, reason: Int)
        case shareOutcome(review: Int, net: Int, audience: Int)
        case leave(net: Int, org: Int)
        case join(net: Int, org: Int)
        case registerOrg(Int)
        case replacePerson(org: Int, role: Int)
        case erase(person: Int)
        case schoolsChange(org: Int)
        case rename(org: Int)
        case merge(sat: Int, mat: Int)
    }

    struct Sched {
        var sec: Int
        var order: Int
        var act: Act
    }

    // MARK: - Engine

    struct Engine {
        let nNet: Int
        let nOrg: Int
        let years: Int
        let startYear: Int
        let epoch0: Int
        let horizon: Int
        var yearStart: [Int] = []
        var rng: Rng

        var orgs: [Org] = []
        var persons: [Person] = []
        var nets: [Net] = []
        var isMember: [Bool]
        var memLast: [Int]
        var memDay: [Int]

        var day = 0
        var buckets: [[Sched]]
        var order = 0
        var pending = 0
        var started = false

        var out: [UInt8] = []
        var lineEnds: [Int] = []
        var counter = 0
        let idPrefix: [UInt8]
        var dates: [UInt8] = []
        var docCount = 0
        var reviewCount = 0
        let regionActor: [UInt8] = Words.escaped("Regional coordinator")
        let dpoActor: [UInt8] = Words.escaped("Data protection officer")
        let htCodeBytes: [[UInt8]] = Words.halfTermCodes.map { Array($0.utf8) }
        let forumCodeBytes: [[UInt8]] = Forum.codes.map { Array($0.utf8) }

        init(_ o: GeneratorOptions) {
            nNet = o.networks
            nOrg = o.orgs
            years = o.years
            startYear = o.startYear
            rng = Rng(seed: o.seed)
            epoch0 = Timestamp.days(year: o.startYear, month: 9, day: 1)
            for y in 0...o.years {
                yearStart.append(Timestamp.days(year: o.startYear + y, month: 9, day: 1) - epoch0)
            }
            horizon = max(0, (yearStart.last ?? 1) - 1)
            let totalDays = horizon + 240
            buckets = Array(repeating: [], count: totalDays)
            isMember = Array(repeating: false, count: nNet * nOrg)
            memLast = Array(repeating: -1, count: nNet * nOrg)
            memDay = Array(repeating: -1, count: nNet * nOrg)
            idPrefix = Array("g\(o.seed)-".utf8)
            dates.reserveCapacity(totalDays * 10)
            for d in 0..<totalDays {
                let c = Timestamp.civil(days: epoch0 + d)
                Engine.appendPadded(&dates, c.year, 4)
                dates.append(0x2D)
                Engine.appendPadded(&dates, c.month, 2)
                dates.append(0x2D)
                Engine.appendPadded(&dates, c.day, 2)
            }
            out.reserveCapacity(1 << 21)
            schedule(0, sec: 0, .setup, keep: true)
            if years > 0 {
                for y in 0..<years {
                    schedule(yearStart[y], sec: 1, .yearStart(y), keep: true)
                }
            }
        }

        static func appendPadded(_ a: inout [UInt8], _ v: Int, _ width: Int) {
            var digits: [UInt8] = []
            var x = v < 0 ? -v : v
            repeat {
                digits.append(UInt8(48 + x % 10))
                x /= 10
            } while x > 0
            if v < 0 { a.append(0x2D) }
            var n = digits.count
            while n < width { a.append(48); n += 1 }
            a.append(contentsOf: digits.reversed())
        }

        mutating func clearOutput() {
            out.removeAll(keepingCapacity: true)
            lineEnds.removeAll(keepingCapacity: true)
        }

        // MARK: scheduling

        mutating func schedule(_ d: Int, sec: Int, _ act: Act, keep: Bool = false) {
            var target = d
            if started && target <= day { target = day + 1 }
            if target > horizon && !keep { return }
            if target >= buckets.count { return }
            order += 1
            pending += 1
            buckets[target].append(Sched(sec: sec, order: order, act: act))
        }

        /// Processes one simulated day; false when the simulation is over.
        mutating func step() -> Bool {
            if day >= buckets.count { return false }
            if day > horizon && pending == 0 { return false }
            started = true
            var list = buckets[day]
            buckets[day] = []
            pending -= list.count
            list.sort { $0.sec != $1.sec ? $0.sec < $1.sec : $0.order < $1.order }
            for s in list { perform(s.act, sec: s.sec) }
            day += 1
            return true
        }

        // MARK: helpers

        @inline(__always) func mi(_ n: Int, _ o: Int) -> Int { n * nOrg + o }

        mutating func weekdayIn(_ lo: Int, _ hi: Int) -> Int {
            var d = lo + rng.below(max(1, hi - lo))
            var guardCount = 0
            while guardCount < 7 {
                let w = Timestamp.weekday(days: epoch0 + d)
                if w >= 1 && w <= 5 { break }
                d += 1
                guardCount += 1
            }
            return d
        }

        func dayOf(year: Int, _ md: (Int, Int)) -> Int {
            let y = md.0 >= 9 ? startYear + year : startYear + year + 1
            return Timestamp.days(year: y, month: md.0, day: md.1) - epoch0
        }

        func halfTermBounds(_ year: Int, _ ht: Int) -> (Int, Int) {
            let lo = dayOf(year: year, RegionGenerator.halfTermStarts[ht])
            let hi = ht == 5 ? yearStart[year + 1] : dayOf(year: year, RegionGenerator.halfTermStarts[ht + 1])
            return (lo, hi)
        }

        func otherNetworks(_ o: Int) -> [Int] {
            var r: [Int] = []
            for n in 0..<nNet where isMember[mi(n, o)] { r.append(n) }
            return r
        }

        // MARK: actions

        mutating func perform(_ act: Act, sec: Int) {
            switch act {
            case .setup: setup()
            case .yearStart(let y): startYearActions(y)
            case .halfTerm(let y, let ht): halfTermTick(y, ht)
            case .meeting(let ref): holdMeeting(ref, sec: sec)
            case .register(let ref, let wrong, let recs): emitRegister(ref, wrong: wrong, recs)
            case .correction(let ref, let rec):
                if rec.person < 0 || !persons[rec.person].erased {
                    emitAttendance(ref, rec)
                }
            case .retract(let target, let reason, let net, let follow):
                emitRetraction(target, reason: reason, net: net, sec: sec)
                doFollowUp(follow, sec: sec)
            case .retractLeave(let target, let n, let o):
                let k = mi(n, o)
                if memLast[k] == target && !isMember[k] && orgs[o].active {
                    emitRetraction(target, reason: 6, net: n, sec: sec)
                    isMember[k] = true
                    memLast[k] = -1
                    nets[n].members.append(o)
                }
            case .retractJoin(let target, let n, let o, let follow):
                let k = mi(n, o)
                if memLast[k] == target && isMember[k] {
                    emitRetraction(target, reason: 5, net: n, sec: sec)
                    isMember[k] = false
                    memLast[k] = -1
                    removeMember(n, o)
                    doFollowUp(follow, sec: sec)
                }
            case .share(let n, let o): shareDocument(n, o, sec: sec)
            case .adopt(let doc, let n, let o): adopt(doc, n, o, sec: sec)
            case .commitTriad(let n, let a, let b, let c): commitTriad(n, a, b, c, sec: sec)
            case .complete(let r): completeReview(r, sec: sec)
            case .withdraw(let r, let reason): withdrawReview(r, reason: reason, sec: sec)
            case .shareOutcome(let r, let n, let audience): shareOutcome(r, n, audience, sec: sec)
            case .leave(let n, let o): leave(n, o, sec: sec)
            case .join(let n, let o): join(n, o, sec: sec)
            case .registerOrg(let o): registerOrg(o)
            case .replacePerson(let o, let role):
                if orgs[o].active { _ = newPerson(o, role) }
            case .erase(let p):
                if !persons[p].erased && !persons[p].active {
                    persons[p].erased = true
                    begin("PersonErased", day, sec, dateOnly: false, dpoActor)
                    kvPerson("\"person_id\":\"", p)
                    kvs(",\"reason\":\"", Words.erasureReason)
                    end()
                }
            case .schoolsChange(let o): schoolsChange(o, sec: sec)
            case .rename(let o): rename(o)
            case .merge(let sat, let mat): merge(sat, mat)
            }
        }

        mutating func doFollowUp(_ f: FollowUp, sec: Int) {
            switch f {
            case .none: break
            case .attendance(let ref, var rec):
                if rec.person >= 0 && persons[rec.person].erased { rec.person = -1 }
                emitAttendance(ref, rec)
            case .join(let n, let o, let d):
                let k = mi(n, o)
                if !isMember[k] && orgs[o].active {
                    emitJoin(n, o, day: memDay[k] <= d ? d : day)
                }
            case .schools(let o):
                begin("OrganisationUpdated", day, sec, dateOnly: true, regionActor)
                kvOrg("\"org_id\":\"", o)
                raw(",\"schools\":")
                int(orgs[o].schools)
                end()
            case .reshare(let n, let o, let kind, let variant, let withOrg):
                if orgs[o].active && isMember[mi(n, o)] {
                    emitShare(n, o, kind: kind, variant: variant, withOrg: withOrg, sec: sec, scheduleAdoptions: true)
                }
            }
        }

        mutating func removeMember(_ n: Int, _ o: Int) {
            if let i = nets[n].members.firstIndex(of: o) { nets[n].members.remove(at: i) }
        }
    }
}
