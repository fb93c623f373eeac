import TrellisCore

extension RegionGenerator {
    enum DocTemplates {
        static let kinds: [StaticString] = [
            "scheme_of_delegation", "job_description", "skills_matrix", "policy", "improvement_plan", "other",
        ]
        static let weights: [Double] = [0.14, 0.2, 0.1, 0.34, 0.12, 0.1]
        static let appeal: [Double] = [1.3, 0.9, 1.4, 1.0, 0.8, 0.9]
        /// `%Y` = academic year (2023/24), `%R` = three-year range (2023–2026).
        static let titles: [[String]] = [
            ["Scheme of delegation %Y", "Scheme of delegation (\"hub and spoke\" local governance)",
             "Scheme of delegation and terms of reference %Y", "Scheme of delegation — summary for local governors"],
            ["Job description: Chief Operating Officer", "Job description: Director of School Improvement",
             "Job description: Governance Professional", "Job description: Trust Finance Manager",
             "Person specification: Chief Executive Officer", "Job description: Head of Estates",
             "Job description: Trust SEND Lead"],
            ["Trustee skills matrix", "Local governing body skills audit %Y",
             "Board skills matrix and succession plan", "Skills matrix for members and trustees"],
            ["Safeguarding and child protection policy %Y", "Conflicts of interest policy", "Whistleblowing policy",
             "Reserves policy", "Pay policy %Y", "Attendance policy", "SEND policy", "Complaints policy",
             "Charging and remissions policy", "Related party transactions policy"],
            ["Trust improvement plan %R", "School improvement strategy %Y", "Curriculum development plan %Y",
             "Attendance improvement plan %Y"],
            ["Peer review protocol", "Risk register template", "Induction pack for new trustees",
             "Estates strategy template", "Board evaluation questionnaire"],
        ]
    }

    enum ReviewWords {
        static let areas: [StaticString] = [
            "governance", "finance", "school_improvement", "conflicts_of_interest", "growth",
            "recruitment", "curriculum", "safeguarding", "other",
        ]
        static let areaWeights: [Double] = [0.3, 0.15, 0.2, 0.05, 0.07, 0.06, 0.08, 0.07, 0.02]
        static let judgements: [StaticString] = ["strength", "secure", "developing", "concern"]
    }
}

extension RegionGenerator.Engine {
    typealias Words = RegionGenerator.Words
    typealias Forum = RegionGenerator.Forum
    typealias Kind = RegionGenerator.Kind
    typealias Role = RegionGenerator.Role

    static let kindNames: [StaticString] = ["mat", "sat", "hub", "local_authority", "provider"]
    /// `r.status` indexes these: 0 present, 1 apologies, 2 absent.
    static let statusNames: [[UInt8]] = AttendanceStatus.allCases.map { Array($0.rawValue.utf8) }

    var currentTick: Int {
        var y = 0
        while y + 1 < yearStart.count && yearStart[y + 1] <= day { y += 1 }
        var ht = 0
        for h in 1..<6 where dayOf(year: y, RegionGenerator.halfTermStarts[h]) <= day { ht = h }
        return y * 6 + ht
    }

    func academicYearLabel(_ d: Int) -> (Int, String) {
        var y = 0
        while y + 1 < yearStart.count && yearStart[y + 1] <= d { y += 1 }
        let a = startYear + y
        let b = (a + 1) % 100
        return (a, "\(a)/\(b < 10 ? "0" : "")\(b)")
    }

    // MARK: - Setup

    mutating func setup() {
        for n in 0..<nNet {
            let base = Words.networks[n % Words.networks.count]
            let round = n / Words.networks.count
            let name = round == 0 ? base.0 : "\(base.0) (cluster \(round + 1))"
            var id: [UInt8] = Array("n".utf8)
            Self.appendPadded(&id, n + 1, 2)
            let idText = String(decoding: id, as: UTF8.self)
            nets.append(RegionGenerator.Net(
                name: name, region: base.1,
                reviewActor: Words.escaped("Peer review lead (\(idText))"),
                weight: 0.6 + 0.8 * rng.unit(),
                recordsAbsent: rng.chance(0.65),
                lateRate: 0.03 + 0.22 * rng.unit(),
                personRate: 0.85 + 0.13 * rng.unit(),
                personRegister: rng.chance(0.6)))
        }
        let netWeights = nets.map { $0.weight }
        for i in 0..<nOrg { orgs.append(makeOrg(i, netWeights)) }
        let later = years > 0 ? nOrg * 12 / 100 : 0
        let initial = nOrg - later
        for o in 0..<initial { registerOrg(o) }
        if later > 0 {
            var days: [Int] = []
            for _ in 0..<later { days.append(rng.range(20, max(20, horizon - 60))) }
            days.sort()
            for (k, d) in days.enumerated() { schedule(d, sec: 30_600, .registerOrg(initial + k)) }
        }
        // Networks, convened by a hub or local authority (else the largest trust) of their region.
        for n in 0..<nNet {
            var convenor = -1
            var partners: [Int] = []
            for o in 0..<initial where orgs[o].home == n {
                let k = orgs[o].kind
                if (k == Kind.hub || k == Kind.localAuthority) && convenor < 0 { convenor = o }
                if k == Kind.provider && partners.count < 2 { partners.append(o) }
            }
            if convenor < 0 {
                var best = 0
                for o in 0..<initial where orgs[o].home == n && orgs[o].kind == Kind.mat && orgs[o].schools > best {
                    best = orgs[o].schools
                    convenor = o
                }
            }
            begin("NetworkFormed", 0, 0, dateOnly: true, net: n)
            kvNet("\"network_id\":\"", n)
            kvs(",\"name\":\"", nets[n].name)
            kvs(",\"region\":\"", Words.regions[nets[n].region])
            if convenor >= 0 { kvOrg(",\"convenor_org_id\":\"", convenor) }
            if !partners.isEmpty {
                raw(",\"partners\":[")
                for (i, p) in partners.enumerated() {
                    if i > 0 { out.append(0x2C) }
                    out.append(0x22)
                    orgId(p)
                    out.append(0x22)
                }
                out.append(0x5D)
            }
            end()
        }
        // Founding members.
        guard nNet > 0 else { return }
        let pJoin = [0.93, 0.9, 0.7, 0.6, 0.35]
        for o in 0..<initial {
            let k = orgs[o].kind
            var targets: [Int] = []
            if rng.chance(pJoin[k]) { targets.append(orgs[o].home) }
            if nNet > 1 && k <= Kind.hub && rng.chance(0.13) {
                let second = (orgs[o].home + 1 + rng.below(nNet - 1)) % nNet
                targets.append(second)
            }
            for n in targets {
                if rng.chance(0.8) {
                    emitJoin(n, o, day: 0)
                } else {
                    schedule(rng.range(1, 25), sec: 28_800, .join(net: n, org: o))
                }
            }
        }
    }

    mutating func makeOrg(_ i: Int, _ netWeights: [Double]) -> RegionGenerator.Org {
        let kind = rng.weighted([0.5, 0.27, 0.06, 0.06, 0.11])
        let home = nNet > 0 ? rng.weighted(netWeights) : -1
        let region = home >= 0 ? nets[home].region : rng.below(Words.regions.count)
        let name = orgName(kind, region)
        var schools = 0
        switch kind {
        case Kind.mat:
            let u = rng.unit()
            if u < 0.62 { schools = rng.range(1, 4) }
            else if u < 0.88 { schools = rng.range(5, 9) }
            else { let v = rng.unit(); schools = 10 + Int(30 * v * v) }
        case Kind.sat: schools = 1
        case Kind.localAuthority: schools = rng.range(15, 120)
        default: schools = 0
        }
        let trust = kind == Kind.mat || kind == Kind.sat
        let base = trust ? 0.55 + 0.2 * (rng.unit() + rng.unit()) : 0.4 + 0.22 * (rng.unit() + rng.unit())
        let isoStart = rng.chance(0.09) ? rng.range(0, max(0, years * 6 - 1)) : Int.max
        return RegionGenerator.Org(
            name: name, kind: kind, schools: schools, home: home, region: region,
            domain: Words.domain(name),
            base: base, prop: base, apol: 0.45 + 0.45 * rng.unit(), quality: rng.unit(),
            isoStart: isoStart)
    }

    mutating func orgName(_ kind: Int, _ region: Int) -> String {
        let places = Words.places[region]
        let p = places[rng.below(places.count)]
        let saint = Words.saints[rng.below(Words.saints.count)]
        let virtue = Words.virtues[rng.below(Words.virtues.count)]
        switch kind {
        case Kind.mat:
            switch rng.below(10) {
            case 0: return "\(p) Learning Trust"
            case 1: return "\(p) Education Trust"
            case 2: return "\(p) Academies Trust"
            case 3: return "\(p) Multi Academy Trust"
            case 4: return "St \(saint)'s Catholic Academy Trust"
            case 5: return "\(virtue) Learning Trust"
            case 6: return "\(virtue) Academy Trust"
            case 7: return "\(p) Schools Partnership"
            case 8: return "\(p) Church Schools Trust"
            default:
                let q = places[rng.below(places.count)]
                return q == p ? "\(p) Learning Partnership" : "\(p) and \(q) Learning Partnership"
            }
        case Kind.sat:
            switch rng.below(7) {
            case 0: return "\(p) Academy"
            case 1: return "\(p) High School"
            case 2: return "\(p) Primary Academy"
            case 3: return "St \(saint)'s Catholic Primary School"
            case 4: return "\(p) Church of England Academy"
            case 5: return "\(p) Grammar School"
            default: return "\(p) Community School"
            }
        case Kind.hub:
            switch rng.below(3) {
            case 0: return "\(p) Teaching School Hub"
            case 1: return "\(p) Maths Hub"
            default: return "\(p) English Hub"
            }
        case Kind.localAuthority:
            return rng.chance(0.6) ? "\(p) Council" : "\(p) Borough Council"
        default:
            switch rng.below(5) {
            case 0: return "\(p) SCITT"
            case 1: return "\(p) Research School"
            case 2: return "\(p) Governance Services"
            case 3: return "\(p) Leadership Centre"
            default: return "\(p) Institute of Education"
            }
        }
    }

    mutating func registerOrg(_ o: Int) {
        guard o >= 0 && o < orgs.count && !orgs[o].registered else { return }
        orgs[o].registered = true
        orgs[o].active = true
        let k = orgs[o].kind
        begin("OrganisationRegistered", day, 0, dateOnly: true, regionActor)
        kvOrg("\"org_id\":\"", o)
        kvs(",\"name\":\"", orgs[o].name)
        raw(",\"kind\":\"")
        raw(Self.kindNames[k])
        out.append(0x22)
        if k == Kind.mat || k == Kind.sat || k == Kind.localAuthority {
            raw(",\"schools\":")
            int(orgs[o].schools)
        }
        kvs(",\"region\":\"", Words.regions[orgs[o].region])
        end()
        var roles: [Int] = []
        switch k {
        case Kind.mat:
            roles.append(orgs[o].schools <= 2 && rng.chance(0.35) ? Role.execHead : Role.ceo)
            if rng.chance(0.75) { roles.append(Role.chair) }
            if rng.chance(0.6) { roles.append(rng.chance(0.7) ? Role.coo : Role.cfo) }
            if rng.chance(0.5) { roles.append(Role.governance) }
            if orgs[o].schools >= 5 && rng.chance(0.45) { roles.append(Role.dsi) }
            if orgs[o].schools >= 10 && rng.chance(0.35) { roles.append(Role.hr) }
        case Kind.sat:
            roles.append(Role.headteacher)
            if rng.chance(0.55) { roles.append(Role.chair) }
            if rng.chance(0.5) { roles.append(Role.sbm) }
            if rng.chance(0.3) { roles.append(Role.governance) }
        case Kind.hub:
            roles.append(Role.hubLead)
            if rng.chance(0.3) { roles.append(Role.programme) }
        case Kind.localAuthority:
            roles.append(Role.hose)
            if rng.chance(0.5) { roles.append(Role.governance) }
        default:
            roles.append(Role.programme)
            if rng.chance(0.2) { roles.append(Role.programme) }
        }
        for r in roles.prefix(4) { _ = newPerson(o, r) }
        if day > 0 && nNet > 0 && orgs[o].home >= 0 && rng.chance(0.85) {
            schedule(day + rng.range(5, 40), sec: 28_800, .join(net: orgs[o].home, org: o))
        }
    }

    mutating func newPerson(_ o: Int, _ role: Int) -> Int {
        let idx = persons.count
        let first = Words.firstNames[rng.below(Words.firstNames.count)]
        let last = Words.surnames[rng.below(Words.surnames.count)]
        persons.append(RegionGenerator.Person(org: o, role: role, active: true, erased: false))
        orgs[o].persons.append(idx)
        begin("PersonRegistered", day, 0, dateOnly: true, regionActor)
        kvPerson("\"person_id\":\"", idx)
        kvOrg(",\"org_id\":\"", o)
        if rng.chance(0.96) { kvs(",\"role\":\"", Words.roles[role]) }
        kvs(",\"name\":\"", "\(first) \(last)")
        if rng.chance(0.88) {
            let f = Words.slug(first)
            let l = Words.slug(last)
            let local: String
            switch rng.below(3) {
            case 0: local = "\(f).\(l)"
            case 1: local = "\(f.prefix(1)).\(l)"
            default: local = "\(f)\(l.prefix(1))"
            }
            kvs(",\"email\":\"", "\(local)@\(orgs[o].domain)")
        }
        end()
        return idx
    }

    // MARK: - Membership

    mutating func emitJoin(_ n: Int, _ o: Int, day d: Int) {
        begin("MemberJoined", d, 0, dateOnly: true, net: n)
        kvNet("\"network_id\":\"", n)
        kvOrg(",\"org_id\":\"", o)
        end()
        let k = mi(n, o)
        isMember[k] = true
        memLast[k] = counter
        memDay[k] = max(memDay[k], d)
        nets[n].members.append(o)
    }

    mutating func emitLeave(_ n: Int, _ o: Int, reason: String?) {
        begin("MemberLeft", day, 0, dateOnly: true, net: n)
        kvNet("\"network_id\":\"", n)
        kvOrg(",\"org_id\":\"", o)
        if let reason { kvs(",\"reason\":\"", reason) }
        end()
        let k = mi(n, o)
        isMember[k] = false
        memLast[k] = counter
        memDay[k] = max(memDay[k], day)
        orgs[o].leftTick = currentTick
        removeMember(n, o)
    }

    mutating func join(_ n: Int, _ o: Int, sec: Int) {
        guard orgs[o].active && orgs[o].registered && !isMember[mi(n, o)] else { return }
        if nNet > 1 && rng.chance(0.015) {
            let n2 = (n + 1 + rng.below(nNet - 1)) % nNet
            if !isMember[mi(n2, o)] {
                emitJoin(n2, o, day: day)
                schedule(day + rng.range(1, 7), sec: 36_000,
                         .retractJoin(target: counter, net: n2, org: o, follow: .join(net: n, org: o, day: day)))
                return
            }
        }
        emitJoin(n, o, day: day)
    }

    mutating func leave(_ n: Int, _ o: Int, sec: Int) {
        guard orgs[o].active && isMember[mi(n, o)] else { return }
        let reason: Int
        if orgs[o].isolating {
            reason = rng.chance(0.6) ? 2 : 0
        } else if otherNetworks(o).count > 1 && rng.chance(0.3) {
            reason = 4
        } else {
            reason = rng.below(4)
        }
        emitLeave(n, o, reason: rng.chance(0.85) ? Words.leaveReasons[reason] : nil)
        if rng.chance(0.02) {
            schedule(day + rng.range(2, 10), sec: 36_000, .retractLeave(target: counter, net: n, org: o))
        }
    }

    mutating func merge(_ sat: Int, _ mat: Int) {
        guard orgs[sat].active && orgs[mat].active && sat != mat else { return }
        let matName = orgs[mat].name
        for n in otherNetworks(sat) { emitLeave(n, sat, reason: "Joined \(matName)") }
        orgs[sat].active = false
        for p in orgs[sat].persons { persons[p].active = false }
        orgs[sat].persons = []
        orgs[mat].schools += 1
        begin("OrganisationUpdated", day, 0, dateOnly: true, regionActor)
        kvOrg("\"org_id\":\"", mat)
        raw(",\"schools\":")
        int(orgs[mat].schools)
        end()
    }

    mutating func schoolsChange(_ o: Int, sec: Int) {
        guard orgs[o].active && orgs[o].kind == Kind.mat else { return }
        let u = rng.unit()
        var delta = u < 0.7 ? 1 : (u < 0.85 ? 2 : -1)
        if orgs[o].schools + delta < 1 { delta = 1 }
        orgs[o].schools += delta
        let wrong = rng.chance(0.05)
        begin("OrganisationUpdated", day, 0, dateOnly: true, regionActor)
        kvOrg("\"org_id\":\"", o)
        raw(",\"schools\":")
        int(wrong ? orgs[o].schools + 10 : orgs[o].schools)
        end()
        if wrong {
            schedule(day + rng.range(1, 7), sec: 36_000,
                     .retract(target: counter, reason: 4, net: -1, follow: .schools(org: o)))
        }
    }

    mutating func rename(_ o: Int) {
        guard orgs[o].active else { return }
        let name = orgName(orgs[o].kind, orgs[o].region)
        guard name != orgs[o].name else { return }
        orgs[o].name = name
        begin("OrganisationUpdated", day, 0, dateOnly: true, regionActor)
        kvOrg("\"org_id\":\"", o)
        kvs(",\"name\":\"", name)
        end()
    }

    // MARK: - Year and half-term rhythm

    mutating func startYearActions(_ y: Int) {
        for n in 0..<nNet {
            for f in 0..<Forum.count {
                for ht in 0..<6 {
                    guard let md = Forum.targets[f][ht] else { continue }
                    var d = dayOf(year: y, md) + (n + f) % 3
                    var guardCount = 0
                    while guardCount < 7 {
                        let w = Timestamp.weekday(days: epoch0 + d)
                        if w >= 2 && w <= 4 { break }
                        d += 1
                        guardCount += 1
                    }
                    let ref = RegionGenerator.MeetingRef(net: n, year: y, ht: ht, forum: f, day: d,
                                                         sec: Forum.seconds[f], dup: false)
                    schedule(d, sec: ref.sec, .meeting(ref))
                }
            }
        }
        for ht in 0..<6 {
            schedule(halfTermBounds(y, ht).0, sec: 2, .halfTerm(year: y, ht: ht))
        }
    }

    mutating func halfTermTick(_ y: Int, _ ht: Int) {
        let tick = y * 6 + ht
        let (lo, hi) = halfTermBounds(y, ht)
        for o in 0..<orgs.count where orgs[o].registered && orgs[o].active {
            drift(o, tick)
            var p = 0
            while p < orgs[o].persons.count {
                let person = orgs[o].persons[p]
                if rng.chance(0.03) {
                    persons[person].active = false
                    orgs[o].persons.remove(at: p)
                    schedule(day + rng.range(14, 70), sec: 32_400, .replacePerson(org: o, role: persons[person].role))
                    if rng.chance(0.25) {
                        schedule(day + rng.range(150, 300), sec: 43_200, .erase(person: person))
                    }
                } else {
                    p += 1
                }
            }
            let kind = orgs[o].kind
            if kind == Kind.mat && rng.chance(0.05) {
                schedule(weekdayIn(lo, hi), sec: 39_600, .schoolsChange(org: o))
            }
            if kind == Kind.mat && rng.chance(0.002) {
                schedule(weekdayIn(lo, hi), sec: 39_600, .rename(org: o))
            }
            if kind == Kind.sat && rng.chance(0.004) {
                for _ in 0..<30 {
                    let m = rng.below(orgs.count)
                    if orgs[m].kind == Kind.mat && orgs[m].active && orgs[m].home == orgs[o].home {
                        schedule(weekdayIn(lo, hi), sec: 39_600, .merge(sat: o, mat: m))
                        break
                    }
                }
            }
            guard nNet > 0 else { continue }
            let mine = otherNetworks(o)
            if mine.isEmpty {
                let target = orgs[o].home >= 0 && rng.chance(0.8) ? orgs[o].home : rng.below(nNet)
                if orgs[o].leftTick >= 0 {
                    if tick - orgs[o].leftTick >= 3 && orgs[o].prop > 0.35 && rng.chance(0.06) {
                        schedule(weekdayIn(lo, hi), sec: 28_800, .join(net: target, org: o))
                    }
                } else if rng.chance(kind <= Kind.sat ? 0.04 : 0.015) {
                    schedule(weekdayIn(lo, hi), sec: 28_800, .join(net: target, org: o))
                }
            } else if mine.count == 1 && nNet > 1 && orgs[o].prop > 0.6 && rng.chance(0.004) {
                let n2 = (mine[0] + 1 + rng.below(nNet - 1)) % nNet
                schedule(weekdayIn(lo, hi), sec: 28_800, .join(net: n2, org: o))
            }
        }
        let shareMult = [1.2, 0.7, 1.0, 0.8, 1.0]
        for n in 0..<nNet {
            for o in nets[n].members where orgs[o].active {
                if rng.chance(0.3 * orgs[o].prop * shareMult[orgs[o].kind]) {
                    schedule(weekdayIn(lo + 2, hi - 2), sec: 36_000 + rng.below(25_200), .share(net: n, org: o))
                }
                let pLeave = orgs[o].isolating && orgs[o].prop < 0.12 ? 0.12 : 0.009
                if rng.chance(pLeave) {
                    schedule(weekdayIn(lo, hi), sec: 0, .leave(net: n, org: o))
                }
            }
            if ht == 0 {
                var eligible: [Int] = []
                for o in nets[n].members where orgs[o].active && !orgs[o].isolating
                    && orgs[o].prop > 0.3 && orgs[o].kind <= Kind.sat && rng.chance(0.6) {
                    eligible.append(o)
                }
                rng.shuffle(&eligible)
                let from = dayOf(year: y, (9, 15))
                let to = dayOf(year: y, (11, 30))
                var i = 0
                while i + 2 < eligible.count {
                    schedule(weekdayIn(from, to), sec: 39_600 + rng.below(14_400),
                             .commitTriad(net: n, a: eligible[i], b: eligible[i + 1], c: eligible[i + 2]))
                    i += 3
                }
            }
        }
    }

    mutating func drift(_ o: Int, _ tick: Int) {
        if tick >= orgs[o].isoStart && !orgs[o].isolating { orgs[o].isolating = true }
        if orgs[o].isolating {
            orgs[o].prop *= 0.6
            orgs[o].apol *= 0.8
            if rng.chance(0.03) {
                orgs[o].isolating = false
                orgs[o].isoStart = Int.max
                orgs[o].base = 0.5 + 0.3 * rng.unit()
                orgs[o].prop = orgs[o].base * 0.8
                orgs[o].apol = 0.5 + 0.4 * rng.unit()
            }
        } else {
            orgs[o].base = min(0.97, max(0.2, orgs[o].base + (rng.unit() - 0.5) * 0.04))
            let p = orgs[o].prop + 0.3 * (orgs[o].base - orgs[o].prop) + (rng.unit() - 0.5) * 0.12
            orgs[o].prop = min(0.98, max(0.03, p))
        }
    }

    // MARK: - Meetings and attendance

    mutating func meetingId(_ m: RegionGenerator.MeetingRef) {
        netId(m.net)
        out.append(0x2D)
        padded(startYear + m.year, 4)
        out.append(0x2D)
        bytes(htCodeBytes[m.ht])
        out.append(0x2D)
        bytes(forumCodeBytes[m.forum])
        if m.dup { raw("-b") }
    }

    mutating func emitMeeting(_ m: RegionGenerator.MeetingRef, format: Int, elements: Int) {
        begin("MeetingHeld", m.day, m.sec, dateOnly: false, net: m.net)
        raw("\"meeting_id\":\"")
        meetingId(m)
        kvNet("\",\"network_id\":\"", m.net)
        let title: String
        if m.forum == Forum.chairs || m.forum == Forum.hr {
            title = "\(Words.termNames[m.ht]) \(Forum.titles[m.forum])"
        } else {
            title = "\(Words.halfTermNames[m.ht]) \(Forum.titles[m.forum])"
        }
        kvs(",\"title\":\"", title)
        switch format {
        case 0: raw(",\"format\":\"in_person\"")
        case 1: raw(",\"format\":\"online\"")
        case 2: raw(",\"format\":\"hybrid\"")
        default: break
        }
        if elements != 0 {
            raw(",\"elements\":[")
            var first = true
            let names: [StaticString] = ["\"research\"", "\"perspectives\"", "\"leadership\"", "\"solutions\""]
            for i in 0..<4 where elements & (1 << i) != 0 {
                if !first { out.append(0x2C) }
                raw(names[i])
                first = false
            }
            out.append(0x5D)
        }
        end()
    }

    mutating func holdMeeting(_ m: RegionGenerator.MeetingRef, sec: Int) {
        let n = m.net
        // format: 0 in person, 1 online, 2 hybrid, 3 not recorded
        var format: Int
        let u = rng.unit()
        switch m.forum {
        case Forum.network: format = u < 0.8 ? 0 : 2
        case Forum.governance: format = u < 0.85 ? 1 : 2
        case Forum.finance: format = u < 0.7 ? 1 : (u < 0.85 ? 2 : 0)
        case Forum.improvement: format = u < 0.5 ? 0 : (u < 0.8 ? 1 : 2)
        case Forum.chairs: format = u < 0.7 ? 1 : 0
        default: format = 1
        }
        if rng.chance(0.04) { format = 3 }
        var elements = 0
        if m.forum == Forum.network {
            let p = [0.6, 0.7, 0.55, 0.65]
            for i in 0..<4 where rng.chance(p[i]) { elements |= 1 << i }
            if elements == 0 { elements = 1 << 2 }
        } else if !rng.chance(0.1) {
            let allowed: [Int] = [[1, 2, 3], [1, 3], [0, 3], [1, 2], [3]][m.forum - 1]
            elements |= 1 << allowed[rng.below(allowed.count)]
            if rng.chance(0.4) { elements |= 1 << allowed[rng.below(allowed.count)] }
        }
        emitMeeting(m, format: format, elements: elements)
        if rng.chance(0.01) {
            var dup = m
            dup.dup = true
            emitMeeting(dup, format: format, elements: elements)
            schedule(day + rng.range(1, 3), sec: 36_000, .retract(target: counter, reason: 1, net: n, follow: .none))
        }
        var recs: [RegionGenerator.Rec] = []
        recs.reserveCapacity(nets[n].members.count + 8)
        let members = nets[n].members
        for o in members { attendance(o, m.forum, n, &recs) }
        if rng.chance(0.06) && !orgs.isEmpty {
            for _ in 0..<5 {
                let g = rng.below(orgs.count)
                if orgs[g].registered && orgs[g].active && !isMember[mi(n, g)] {
                    let lead = pick(g, Role.leadMask, except: -1)
                    recs.append(RegionGenerator.Rec(org: g, person: lead, status: 0))
                    break
                }
            }
        }
        let wrong = nets[n].prev
        if rng.chance(nets[n].lateRate) {
            schedule(m.day + rng.range(7, 42), sec: 32_400 + rng.below(28_800),
                     .register(m, wrong: wrong, recs), keep: true)
        } else {
            emitRegister(m, wrong: wrong, recs)
        }
        nets[n].prev = m
    }

    func pick(_ o: Int, _ mask: UInt16, except: Int) -> Int {
        for p in orgs[o].persons where p != except && mask & Role.bit(persons[p].role) != 0 { return p }
        return -1
    }

    mutating func attendance(_ o: Int, _ f: Int, _ n: Int, _ recs: inout [RegionGenerator.Rec]) {
        guard orgs[o].active else { return }
        let kind = orgs[o].kind
        var p = orgs[o].prop * (kind <= Kind.sat ? Forum.trustFactor[f] : Forum.partnerFactor[f])
        let mask = f == Forum.network ? UInt16.max : Forum.roleMask[f]
        var person = pick(o, mask, except: -1)
        if person < 0 {
            p *= 0.8
            person = pick(o, Role.leadMask, except: -1)
            if person < 0 { person = orgs[o].persons.first ?? -1 }
        }
        let u = rng.unit()
        let status = u < p ? 0 : (u < p + (1 - p) * orgs[o].apol ? 1 : 2)
        if nets[n].personRegister && person >= 0 {
            // Register of invited people: everyone of the org the forum is for (the whole
            // team for the network meeting), each with their own status.
            recs.append(RegionGenerator.Rec(org: o, person: rng.chance(0.98) ? person : -1, status: status))
            for q in orgs[o].persons where q != person && mask & Role.bit(persons[q].role) != 0 {
                var st = 2
                switch status {
                case 0: st = rng.chance(0.5) ? 0 : (rng.chance(0.7) ? 1 : 2)
                case 1: st = rng.chance(0.85) ? 1 : 2
                default: st = 2
                }
                recs.append(RegionGenerator.Rec(org: o, person: q, status: st))
            }
            return
        }
        let withPerson = person >= 0 && rng.chance(nets[n].personRate)
        switch status {
        case 0:
            recs.append(RegionGenerator.Rec(org: o, person: withPerson ? person : -1, status: 0))
            if f == Forum.network && withPerson && rng.chance(0.35) {
                let second = pick(o, Role.bit(Role.chair) | Role.bit(Role.dsi) | Role.bit(Role.coo), except: person)
                if second >= 0 { recs.append(RegionGenerator.Rec(org: o, person: second, status: 0)) }
            }
        case 1:
            recs.append(RegionGenerator.Rec(org: o, person: withPerson && rng.chance(0.6) ? person : -1, status: 1))
        default:
            if nets[n].recordsAbsent {
                recs.append(RegionGenerator.Rec(org: o, person: withPerson && rng.chance(0.3) ? person : -1, status: 2))
            }
        }
    }

    mutating func emitRegister(_ m: RegionGenerator.MeetingRef, wrong: RegionGenerator.MeetingRef?,
                               _ recs: [RegionGenerator.Rec]) {
        for rec in recs {
            var r = rec
            if r.person >= 0 && persons[r.person].erased { r.person = -1 }
            if let w = wrong, rng.chance(0.002) {
                emitAttendance(w, r)
                schedule(day + rng.range(1, 14), sec: 36_000,
                         .retract(target: counter, reason: 0, net: m.net, follow: .attendance(m, r)), keep: true)
            } else {
                emitAttendance(m, r)
                if rng.chance(0.02) {
                    var c = r
                    c.status = r.status == 2 ? 1 : (r.status == 1 ? 0 : 1)
                    schedule(day + rng.range(1, 21), sec: 37_800, .correction(m, c), keep: true)
                }
            }
        }
    }

    mutating func emitAttendance(_ m: RegionGenerator.MeetingRef, _ r: RegionGenerator.Rec) {
        begin("AttendanceRecorded", m.day, m.sec, dateOnly: false, net: m.net)
        raw("\"meeting_id\":\"")
        meetingId(m)
        kvOrg("\",\"org_id\":\"", r.org)
        if r.person >= 0 { kvPerson(",\"person_id\":\"", r.person) }
        raw(",\"status\":\"")
        bytes(Self.statusNames[r.status])
        out.append(0x22)
        end()
    }

    // MARK: - Retractions

    mutating func emitRetraction(_ target: Int, reason: Int, net: Int, sec: Int) {
        begin("EventRetracted", day, sec, dateOnly: false, net: net)
        raw("\"event_id\":\"")
        bytes(idPrefix)
        padded(target, 9)
        kvs("\",\"reason\":\"", Words.retractReasons[reason])
        end()
    }

    // MARK: - Documents

    mutating func shareDocument(_ n: Int, _ o: Int, sec: Int) {
        guard orgs[o].active && isMember[mi(n, o)] else { return }
        let kind = rng.weighted(RegionGenerator.DocTemplates.weights)
        let variant = rng.below(RegionGenerator.DocTemplates.titles[kind].count)
        let withOrg = rng.chance(0.4)
        let others = otherNetworks(o).filter { $0 != n }
        if !others.isEmpty && rng.chance(0.015) {
            let wrong = others[rng.below(others.count)]
            emitShare(wrong, o, kind: kind, variant: variant, withOrg: withOrg, sec: sec, scheduleAdoptions: false)
            schedule(day + rng.range(1, 5), sec: 36_000,
                     .retract(target: counter, reason: 3, net: wrong,
                              follow: .reshare(net: n, org: o, kind: kind, variant: variant, withOrg: withOrg)))
        } else {
            emitShare(n, o, kind: kind, variant: variant, withOrg: withOrg, sec: sec, scheduleAdoptions: true)
        }
    }

    mutating func emitShare(_ n: Int, _ o: Int, kind: Int, variant: Int, withOrg: Bool, sec: Int,
                            scheduleAdoptions: Bool) {
        docCount += 1
        let doc = docCount
        let (year, label) = academicYearLabel(day)
        var title = RegionGenerator.DocTemplates.titles[kind][variant]
        title = title.regionGenReplacingAll("%Y", with: label)
        title = title.regionGenReplacingAll("%R", with: "\(year)–\(year + 3)")
        if withOrg { title = "\(orgs[o].name): \(title)" }
        begin("DocumentShared", day, sec, dateOnly: false, net: n)
        raw("\"document_id\":\"doc")
        padded(doc, 5)
        kvOrg("\",\"org_id\":\"", o)
        kvNet(",\"network_id\":\"", n)
        kvs(",\"title\":\"", title)
        raw(",\"kind\":\"")
        raw(RegionGenerator.DocTemplates.kinds[kind])
        out.append(0x22)
        end()
        guard scheduleAdoptions else { return }
        let m = nets[n].members.count - 1
        guard m > 0 else { return }
        let expected = 0.45 * Double(m).squareRoot() * RegionGenerator.DocTemplates.appeal[kind] * (0.7 + 0.6 * rng.unit())
        let base = expected / Double(m)
        for a in nets[n].members where a != o && orgs[a].active {
            if rng.chance(min(0.9, base * orgs[a].prop / 0.65)) {
                let u = rng.unit()
                schedule(day + 3 + Int(117 * u * u), sec: 36_000 + rng.below(25_200), .adopt(doc: doc, net: n, org: a))
            }
        }
    }

    mutating func adopt(_ doc: Int, _ n: Int, _ o: Int, sec: Int) {
        guard orgs[o].active else { return }
        begin("DocumentAdopted", day, sec, dateOnly: false, net: n)
        raw("\"document_id\":\"doc")
        padded(doc, 5)
        kvOrg("\",\"org_id\":\"", o)
        end()
        if rng.chance(0.01) {
            schedule(day + rng.range(1, 30), sec: 36_000, .retract(target: counter, reason: 2, net: n, follow: .none))
        }
    }

    // MARK: - Reviews

    mutating func commitTriad(_ n: Int, _ a: Int, _ b: Int, _ c: Int, sec: Int) {
        let trio = [a, b, c]
        for o in trio where !orgs[o].active { return }
        for k in 0..<3 {
            reviewCount += 1
            let rv = RegionGenerator.Review(number: reviewCount, net: n, reviewee: trio[k],
                                            r1: trio[(k + 1) % 3], r2: trio[(k + 2) % 3])
            let dueIn = rng.range(90, 180)
            var areas = 0
            let count = rng.weighted([0.35, 0.45, 0.2]) + 1
            var guardCount = 0
            while areas.nonzeroBitCount < count && guardCount < 20 {
                areas |= 1 << rng.weighted(RegionGenerator.ReviewWords.areaWeights)
                guardCount += 1
            }
            begin("ReviewCommitted", day, sec, dateOnly: false, nets[n].reviewActor)
            raw("\"review_id\":\"rev")
            padded(rv.number, 5)
            kvNet("\",\"network_id\":\"", n)
            kvOrg(",\"reviewer_org_ids\":[\"", rv.r1)
            kvOrg(",\"", rv.r2)
            kvOrg("],\"reviewee_org_id\":\"", rv.reviewee)
            raw(",\"areas\":[")
            var first = true
            for i in 0..<RegionGenerator.ReviewWords.areas.count where areas & (1 << i) != 0 {
                if !first { out.append(0x2C) }
                out.append(0x22)
                raw(RegionGenerator.ReviewWords.areas[i])
                out.append(0x22)
                first = false
            }
            raw("],\"due_by\":\"")
            date(day + dueIn)
            out.append(0x22)
            end()
            let pc = orgs[rv.reviewee].prop < 0.25 ? 0.5 : 0.82
            let u = rng.unit()
            if u < pc {
                schedule(day + rng.range(40, dueIn + 30), sec: 39_600 + rng.below(18_000), .complete(withAreas(rv, areas)))
            } else if u < pc + 0.08 {
                schedule(day + rng.range(20, 120), sec: 39_600 + rng.below(18_000), .withdraw(withAreas(rv, areas), reason: rng.below(4)))
            }
        }
    }

    func withAreas(_ r: RegionGenerator.Review, _ areas: Int) -> RegionGenerator.Review {
        var x = r
        x.areas = areas
        return x
    }

    mutating func completeReview(_ r: RegionGenerator.Review, sec: Int) {
        if !orgs[r.reviewee].active || !orgs[r.r1].active || !orgs[r.r2].active {
            withdrawReview(r, reason: 4, sec: sec)
            return
        }
        if !isMember[mi(r.net, r.reviewee)] {
            withdrawReview(r, reason: 5, sec: sec)
            return
        }
        if orgs[r.reviewee].isolating && rng.chance(0.5) {
            withdrawReview(r, reason: 0, sec: sec)
            return
        }
        let q = orgs[r.reviewee].quality
        let weights = [0.1 + 0.3 * q, 0.45, 0.35 - 0.25 * q, 0.1 - 0.08 * q]
        begin("ReviewCompleted", day, sec, dateOnly: false, nets[r.net].reviewActor)
        raw("\"review_id\":\"rev")
        padded(r.number, 5)
        raw("\",\"outcomes\":[")
        var first = true
        for i in 0..<RegionGenerator.ReviewWords.areas.count where r.areas & (1 << i) != 0 {
            if !first { out.append(0x2C) }
            first = false
            let j = rng.weighted(weights)
            raw("{\"area\":\"")
            raw(RegionGenerator.ReviewWords.areas[i])
            raw("\",\"judgement\":\"")
            raw(RegionGenerator.ReviewWords.judgements[j])
            out.append(0x22)
            if rng.chance(0.92) {
                raw(",\"actions\":")
                let ranges = [(0, 1), (0, 3), (2, 6), (3, 8)]
                int(rng.range(ranges[j].0, ranges[j].1))
            }
            out.append(0x7D)
        }
        out.append(0x5D)
        end()
        if rng.chance(0.55) {
            let audience = rng.chance(0.85) ? 0 : 1
            schedule(day + rng.range(3, 60), sec: 36_000 + rng.below(25_200),
                     .shareOutcome(review: r.number, net: r.net, audience: audience))
            if audience == 0 && rng.chance(0.12) {
                schedule(day + rng.range(61, 150), sec: 36_000 + rng.below(25_200),
                         .shareOutcome(review: r.number, net: r.net, audience: 1))
            }
        }
    }

    mutating func withdrawReview(_ r: RegionGenerator.Review, reason: Int, sec: Int) {
        begin("ReviewWithdrawn", day, sec, dateOnly: false, nets[r.net].reviewActor)
        raw("\"review_id\":\"rev")
        padded(r.number, 5)
        out.append(0x22)
        if rng.chance(0.9) { kvs(",\"reason\":\"", Words.withdrawReasons[reason]) }
        end()
    }

    mutating func shareOutcome(_ review: Int, _ n: Int, _ audience: Int, sec: Int) {
        begin("ReviewOutcomeShared", day, sec, dateOnly: false, nets[n].reviewActor)
        raw("\"review_id\":\"rev")
        padded(review, 5)
        raw(audience == 0 ? "\",\"audience\":\"network\"" : "\",\"audience\":\"public\"")
        end()
    }
}

extension String {
    fileprivate func regionGenReplacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            result += rest[rest.startIndex..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        result += rest
        return result
    }
}
