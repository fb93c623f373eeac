import TrellisCore
import Crypto
import TrellisLedger
import TrellisReports
import TrellisSheets

/// Turns a filled-in register into the attendance events it records, checked cell by cell
/// against the ledger: a pure function of the sheet and a ``LedgerPicture``.
///
/// Two layouts are understood, detected from the header row:
/// - *wide*: an organisation column (`org_id` and/or `name`), then one column per meeting
///   (header: a date, optionally followed by the meeting's title, or a meeting id), a status
///   per cell — what `trellis register template` writes;
/// - *long*: a row per organisation per meeting, with a `date` (or `meeting`) column and a
///   `status` column, and optionally `person_id`.
///
/// Re-importing is safe by state: a cell whose status is already the one that counts for
/// that meeting and organisation appends nothing; a changed cell appends one record whose id
/// is derived from what it says and from the seq of the record it supersedes, so two people
/// importing the same sheet produce the same events.
///
/// ## Topics
/// - ``plan(sheet:workbook:network:picture:createMeetings:)``
/// - ``attendanceID(meeting:org:person:status:previousSeq:)``
public enum RegisterImport {
    public static func plan(sheet: Sheet, workbook: Workbook, network: String, picture: LedgerPicture,
                            createMeetings: Bool) -> ImportPlan {
        let sheetName = workbook.format == "xlsx" ? sheet.name : nil
        guard let columns = SheetColumns.find(in: sheet) else {
            var plan = ImportPlan(file: workbook.path, sheet: sheetName, format: workbook.format, layout: "wide")
            plan.error(nil, "no header row: expected a column named org_id, name or organisation in the first 20 rows")
            return plan
        }
        let long = columns.column(.status) != nil && columns.column(.meeting) != nil
        var builder = Builder(plan: ImportPlan(file: workbook.path, sheet: sheetName, format: workbook.format, layout: long ? "long" : "wide"),
                              network: network, picture: picture, createMeetings: createMeetings, sheet: sheet, columns: columns)
        if long { builder.readLong() } else { builder.readWide() }
        builder.finish()
        return builder.plan
    }

    /// `reg-` + 20 hex digits of SHA-256 over what the record says and the seq of the record
    /// it supersedes (0 when none).
    public static func attendanceID(meeting: String, org: String, person: String, status: String, previousSeq: Int64) -> String {
        "reg-" + shortHash(["AttendanceRecorded", meeting, org, person, status, String(previousSeq)])
    }

    static func shortHash(_ parts: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count + 1 })
        for p in parts { bytes.append(contentsOf: p.utf8); bytes.append(0x1F) }
        let digest = SHA256.hash(data: bytes)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for b in digest.prefix(10) { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A meeting id for a new meeting: `<network>-<day>`, `-2`, `-3`… when taken; hashed when too long.
    static func newMeetingID(network: String, day: String, used: Set<String>) -> String {
        var base = "\(network)-\(day)"
        if base.utf8.count > 120 { base = "m-" + shortHash([network, day]) + "-" + day }
        var id = base, n = 2
        while used.contains(id) { id = "\(base)-\(n)"; n += 1 }
        return id
    }
}

/// What a header or a cell names as the meeting.
private enum MeetingTarget: Hashable {
    case existing(String)
    case new(day: String, title: String)
}

private struct Builder {
    var plan: ImportPlan
    let network: String
    let picture: LedgerPicture
    let createMeetings: Bool
    let sheet: Sheet
    let columns: SheetColumns
    let matcher: OrganisationMatcher
    var orgCache: [String: OrganisationMatcher.Match] = [:]
    /// The statuses the sheet gives, by key, with the cell they come from (first wins; a conflict is an error).
    var records: [LedgerPicture.AttendanceKey: (status: String, cell: String)] = [:]
    var order: [LedgerPicture.AttendanceKey] = []
    /// Meetings the sheet mentions (for the missing-member warnings), with their days.
    var meetingsOnSheet: [String: String] = [:]
    /// Organisations on the sheet per meeting.
    var orgsAtMeeting: [String: Set<String>] = [:]
    var newMeetings: [String: (id: String, day: String, title: String)] = [:]   // keyed day + title key
    var usedMeetingIDs: Set<String>
    var emptyCells: [Int: [String]] = [:]
    var guests: [String: [String]] = [:]   // org → cells

    init(plan: ImportPlan, network: String, picture: LedgerPicture, createMeetings: Bool, sheet: Sheet, columns: SheetColumns) {
        self.plan = plan; self.network = network; self.picture = picture; self.createMeetings = createMeetings
        self.sheet = sheet; self.columns = columns
        matcher = OrganisationMatcher(picture.organisations.values.map { .init(id: $0.id, name: $0.name) })
        usedMeetingIDs = picture.usedMeetingIDs
        let cells = sheet.rows.count * max(1, (sheet.rows.first?.count ?? 1) - 1)
        records.reserveCapacity(cells)
        order.reserveCapacity(cells)
    }

    static func ref(_ row: Int, _ col: Int) -> String { SheetColumns.letters(col) + String(row + 1) }

    // MARK: Meetings

    /// The meeting a header or cell names, or nil after recording an error.
    mutating func meeting(named value: CellValue, at place: String) -> (id: String, day: String)? {
        let text = CellText.plain(value)
        if case .text = value, let m = picture.meetings.first(where: { $0.id == text }) { return (m.id, m.day) }
        var day: String?, title = ""
        if let d = SheetDate.day(of: value) { day = d } else if case .text(let t) = value, let (d, rest) = SheetDate.leadingDay(t) { day = d; title = rest }
        guard let day else {
            plan.error(place, "\"\(CellText.shown(value))\" is neither a date nor a meeting of \(network); use a date (2026-03-12, 12/03/2026 or 12 March 2026), optionally followed by the title")
            return nil
        }
        let sameDay = picture.meetings.filter { $0.day == day }
        if !title.isEmpty {
            let k = SheetColumns.key(title)
            let titled = sameDay.filter { SheetColumns.key($0.title) == k }
            if titled.count == 1 { return (titled[0].id, day) }
        }
        if sameDay.count == 1 { return (sameDay[0].id, day) }
        if sameDay.count > 1 {
            let list = sameDay.map { "\($0.id) (\"\($0.title)\")" }.joined(separator: ", ")
            plan.error(place, "\(sameDay.count) meetings of \(network) were held on \(day): \(list); put the meeting's id or its exact title in the header")
            return nil
        }
        let key = day + "\u{1F}" + SheetColumns.key(title)
        if let m = newMeetings[key] { return (m.id, day) }
        guard createMeetings else {
            plan.error(place, "no meeting of \(network) on \(day)\(title.isEmpty ? "" : " (\"\(title)\")"); record it first, or add --create-meetings to create it from this header")
            return nil
        }
        let id = RegisterImport.newMeetingID(network: network, day: day, used: usedMeetingIDs)
        usedMeetingIDs.insert(id)
        let finalTitle = title.isEmpty ? "Network meeting" : String(title.prefix(500))
        newMeetings[key] = (id, day, finalTitle)
        plan.newMeetings.append((id, day, finalTitle))
        plan.append(.meetingHeld, id: "reg-" + RegisterImport.shortHash(["MeetingHeld", id, network, finalTitle]), day: day,
                    data: [("meeting_id", .string(id)), ("network_id", .string(network)), ("title", .string(finalTitle))], from: place)
        return (id, day)
    }

    // MARK: Organisations

    /// The organisation a row names (by its id column, else its name column), or nil.
    mutating func organisation(row r: Int) -> (id: String, place: String)? {
        let cells = sheet.rows[r]
        for role in [SheetColumns.Role.orgID, .orgName] {
            guard let c = columns.column(role), c < cells.count else { continue }
            let text = CellText.unquoted(CellText.plain(cells[c].value))
            if text.isEmpty { continue }
            let place = Builder.ref(r, c)
            let match: OrganisationMatcher.Match
            if let cached = orgCache[text] { match = cached } else { match = matcher.match(text); orgCache[text] = match }
            switch match {
            case .found(let id): return (id, place)
            case .ambiguous(let candidates):
                plan.error(place, "\"\(text)\" matches \(candidates.count) organisations: \(candidates.map(\.description).joined(separator: ", ")); give the org_id")
            case .unknown(let closest):
                let hint = closest.isEmpty ? "the ledger has no organisations" : "closest: " + closest.prefix(3).map(\.description).joined(separator: ", ")
                plan.error(place, "no organisation \"\(text)\" in the ledger; \(hint) (trellis orgs lists them)")
            }
            return nil
        }
        return nil
    }

    func rowIsBlank(_ r: Int) -> Bool {
        sheet.rows[r].allSatisfy { CellText.plain($0.value).isEmpty }
    }

    // MARK: Statuses

    mutating func record(_ value: CellValue, meeting: (id: String, day: String), org: String, person: String, at place: String, column: Int) {
        meetingsOnSheet[meeting.id] = meeting.day
        orgsAtMeeting[meeting.id, default: []].insert(org)
        switch AttendanceCode.status(of: value) {
        case .empty:
            emptyCells[column, default: []].append(place)
        case .invalid(let text):
            plan.error(place, "\"\(text)\" is not a status; \(AttendanceCode.hint)")
        case .status(let status):
            let key = LedgerPicture.AttendanceKey(meeting: meeting.id, org: org, person: person)
            if let earlier = records[key] {
                if earlier.status != status {
                    plan.error(place, "says \(status), but \(earlier.cell) says \(earlier.status) for the same organisation and meeting")
                }
                return
            }
            records[key] = (status, place)
            order.append(key)
            if !picture.membership.isMember(org, of: network, on: meeting.day) { guests[org, default: []].append(place) }
        }
    }

    mutating func readWide() {
        var meetingColumns: [(col: Int, id: String, day: String)] = []
        let header = sheet.rows[columns.headerRow]
        var seen: [String: Int] = [:]
        for (c, cell) in header.enumerated() where columns.roles[c] == nil {
            let place = "column \(SheetColumns.letters(c))"
            let text = CellText.plain(cell.value)
            if text.isEmpty {
                let hasData = sheet.rows.dropFirst(columns.headerRow + 1).contains { c < $0.count && !CellText.plain($0[c].value).isEmpty }
                if hasData { plan.error(Builder.ref(columns.headerRow, c), "column \(SheetColumns.letters(c)) has statuses but no header; put the meeting's date in \(Builder.ref(columns.headerRow, c))") }
                continue
            }
            if sheet.hiddenColumns.contains(c) { plan.warn(place, "hidden column \"\(text)\" skipped"); continue }
            let looksLikeMeeting = SheetDate.day(of: cell.value) != nil || SheetDate.leadingDay(text) != nil || picture.meetings.contains { $0.id == text }
            if !looksLikeMeeting {
                if text.first?.isNumber == true {
                    plan.error(Builder.ref(columns.headerRow, c), "\"\(CellText.shown(cell.value))\" is not a date; use 2026-03-12, 12/03/2026 or 12 March 2026 (days first, never US order)")
                } else {
                    plan.warn(place, "column \"\(text)\" skipped: not a date, a meeting id or a known column")
                }
                continue
            }
            guard let m = meeting(named: cell.value, at: Builder.ref(columns.headerRow, c)) else { continue }
            if let other = seen[m.id] {
                plan.error(Builder.ref(columns.headerRow, c), "names the same meeting (\(m.id)) as column \(SheetColumns.letters(other))")
                continue
            }
            seen[m.id] = c
            meetingColumns.append((c, m.id, m.day))
        }
        if meetingColumns.isEmpty && plan.errors.isEmpty {
            plan.error("row \(columns.headerRow + 1)", "no meeting columns: after the organisation columns, give one column per meeting headed by its date (e.g. 2026-03-12 Spring network meeting)")
        }
        for r in (columns.headerRow + 1)..<sheet.rows.count {
            if rowIsBlank(r) { continue }
            guard let org = organisation(row: r) else {
                if columns.column(.orgID).map({ CellText.plain(sheet.rows[r][$0].value).isEmpty }) ?? true,
                   columns.column(.orgName).map({ CellText.plain(sheet.rows[r][$0].value).isEmpty }) ?? true,
                   meetingColumns.contains(where: { $0.col < sheet.rows[r].count && !CellText.plain(sheet.rows[r][$0.col].value).isEmpty }) {
                    plan.error("row \(r + 1)", "statuses but no organisation: fill in org_id or name")
                }
                continue
            }
            for m in meetingColumns {
                let value = m.col < sheet.rows[r].count ? sheet.rows[r][m.col].value : .empty
                record(value, meeting: (m.id, m.day), org: org.id, person: "", at: Builder.ref(r, m.col), column: m.col)
            }
        }
    }

    mutating func readLong() {
        guard let meetingCol = columns.column(.meeting), let statusCol = columns.column(.status) else { return }
        let personCol = columns.column(.person)
        var meetingCache: [String: (id: String, day: String)] = [:]
        for r in (columns.headerRow + 1)..<sheet.rows.count {
            if rowIsBlank(r) { continue }
            let cells = sheet.rows[r]
            guard let org = organisation(row: r) else {
                plan.error("row \(r + 1)", "no organisation: fill in org_id or name")
                continue
            }
            let mValue = meetingCol < cells.count ? cells[meetingCol].value : .empty
            let mText = CellText.plain(mValue)
            if mText.isEmpty { plan.error(Builder.ref(r, meetingCol), "no meeting date"); continue }
            let m: (id: String, day: String)
            if let cached = meetingCache[mText] { m = cached } else {
                guard let found = meeting(named: mValue, at: Builder.ref(r, meetingCol)) else { continue }
                meetingCache[mText] = found
                m = found
            }
            var person = ""
            if let pc = personCol, pc < cells.count {
                person = CellText.plain(cells[pc].value)
                if !person.isEmpty {
                    guard let owner = picture.people[person] else {
                        plan.error(Builder.ref(r, pc), "no person \"\(person)\" in the ledger (a person is given by id; leave it empty to record the organisation)")
                        continue
                    }
                    if owner != org.id {
                        plan.error(Builder.ref(r, pc), "person \(person) belongs to \(owner), not \(org.id)")
                        continue
                    }
                }
            }
            let value = statusCol < cells.count ? cells[statusCol].value : .empty
            record(value, meeting: m, org: org.id, person: person, at: Builder.ref(r, statusCol), column: statusCol)
        }
    }

    // MARK: Result

    mutating func finish() {
        for key in order {
            guard let (status, cell) = records[key] else { continue }
            let previous = picture.counting[key]
            if previous?.status == status { plan.unchanged += 1; continue }
            let id = RegisterImport.attendanceID(meeting: key.meeting, org: key.org, person: key.person, status: status, previousSeq: previous?.seq ?? 0)
            // Every value is an identifier the ledger validated (meeting, org, person ids), a
            // date or a status: nothing to escape, so the line is written directly (60,000 of
            // them for a 2,000 × 30 register).
            let person = key.person.isEmpty ? "" : #","person_id":""# + key.person + "\""
            let line = #"{"id":""# + id + #"","type":"AttendanceRecorded","occurred_at":""# + (meetingsOnSheet[key.meeting] ?? "")
                + #"","data":{"meeting_id":""# + key.meeting + #"","org_id":""# + key.org + "\"" + person + #","status":""# + status + "\"}}"
            plan.appendLine(line, type: .attendanceRecorded, from: cell)
        }
        for (col, cells) in emptyCells.sorted(by: { $0.key < $1.key }) {
            let header = CellText.plain(sheet.rows[columns.headerRow][col].value)
            plan.warn("column \(SheetColumns.letters(col))", "\(cells.count) empty cell\(cells.count == 1 ? "" : "s") under \"\(header)\" record nothing (the organisation counts as absent): \(Self.list(cells))")
        }
        for (org, cells) in guests.sorted(by: { $0.key < $1.key }) {
            plan.warn(cells[0], "\(name(org)) was not a member of \(network) on the meeting's date: recorded as a guest (\(Self.list(cells)))")
        }
        var missing: [String: [String]] = [:]
        for (meeting, day) in meetingsOnSheet {
            let present = orgsAtMeeting[meeting] ?? []
            for org in picture.membership.members(of: network, on: day) where !present.contains(org) {
                missing[org, default: []].append(day)
            }
        }
        for (org, days) in missing.sorted(by: { $0.key < $1.key }) {
            plan.warn(nil, "\(name(org)) was a member on \(Self.list(days.sorted())) but is not on the sheet (counts as absent)")
        }
    }

    func name(_ org: String) -> String {
        guard let o = picture.organisations[org], o.name != org else { return org }
        return "\(o.name) (\(org))"
    }

    static func list(_ items: [String], limit: Int = 20) -> String {
        items.count <= limit ? items.joined(separator: ", ") : items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
    }
}
