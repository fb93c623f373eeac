import Foundation
import TrellisLedger
import TrellisReports
import TrellisSheets
import TrellisCore

/// Turns a member list (a row per organisation: name, and optionally org_id, kind, schools,
/// region, joined, left) into the events that make the ledger agree with it:
/// `OrganisationRegistered` for organisations it does not know, `OrganisationUpdated` when
/// the schools or region differ, `MemberJoined`/`MemberLeft` when the membership differs.
///
/// Like the register import it is safe to repeat: a row the ledger already agrees with adds
/// nothing, and event ids are derived from what is appended and the state it changes.
/// Organisation ids not given are derived from the name (`St. Mary's C of E Trust` →
/// `st-marys-c-of-e-trust`), with `-2`, `-3`… when that id is already used by another.
///
/// ## Topics
/// - ``plan(sheet:workbook:network:picture:today:)``
/// - ``slug(_:)``
/// - ``kind(_:)``
public enum RosterImport {
    public static func plan(sheet: Sheet, workbook: Workbook, network: String, picture: LedgerPicture, today: String) -> ImportPlan {
        let sheetName = workbook.format == "xlsx" ? sheet.name : nil
        var plan = ImportPlan(file: workbook.path, sheet: sheetName, format: workbook.format, layout: "roster")
        guard let columns = SheetColumns.find(in: sheet), columns.column(.orgName) != nil || columns.column(.orgID) != nil else {
            plan.error(nil, "no header row: expected a column named name (and optionally org_id, kind, schools, region, joined, left) in the first 20 rows")
            return plan
        }
        if columns.column(.orgName) == nil { plan.error("row \(columns.headerRow + 1)", "no name column: a member list needs the organisations' names") ; return plan }
        if columns.column(.kind) == nil {
            plan.warn("row \(columns.headerRow + 1)", "no kind column: new organisations are registered as kind other")
        }
        let matcher = OrganisationMatcher(picture.organisations.values.map { .init(id: $0.id, name: $0.name) })
        var usedIDs = picture.usedOrganisationIDs
        var seenOrgs: [String: String] = [:]   // org id → cell of its row
        var newNames: [String: String] = [:]   // name key → new org id
        func cell(_ r: Int, _ role: SheetColumns.Role) -> (value: CellValue, place: String)? {
            guard let c = columns.column(role) else { return nil }
            let row = sheet.rows[r]
            return (c < row.count ? row[c].value : .empty, SheetColumns.letters(c) + String(r + 1))
        }
        for r in (columns.headerRow + 1)..<sheet.rows.count {
            if sheet.rows[r].allSatisfy({ CellText.plain($0.value).isEmpty }) { continue }
            guard let nameCell = cell(r, .orgName) else { continue }
            let name = CellText.plain(nameCell.value)
            let givenID = cell(r, .orgID).map { CellText.plain($0.value) } ?? ""
            if name.isEmpty && givenID.isEmpty { plan.error("row \(r + 1)", "no name"); continue }
            // Kind, schools, region, dates: read (and checked) first.
            var kind = "other"
            if let k = cell(r, .kind), !CellText.plain(k.value).isEmpty {
                guard let parsed = Self.kind(CellText.plain(k.value)) else {
                    plan.error(k.place, "\"\(CellText.shown(k.value))\" is not a kind; use MAT, SAT, hub, school, local authority, provider or other")
                    continue
                }
                kind = parsed
            }
            var schools: Int?
            if let s = cell(r, .schools), !CellText.plain(s.value).isEmpty {
                let text = CellText.plain(s.value)
                guard let n = Int(text), n >= 0, n <= 100_000 else {
                    plan.error(s.place, "\"\(text)\" is not a number of schools (a whole number, 0 or more)")
                    continue
                }
                schools = n
            }
            var region: String?
            if let g = cell(r, .region) {
                let text = CellText.plain(g.value)
                if !text.isEmpty { region = String(text.prefix(500)) }
            }
            var joined: String?, left: String?
            var badDate = false
            for (role, label) in [(SheetColumns.Role.joined, "joined"), (.left, "left")] {
                guard let d = cell(r, role), !CellText.plain(d.value).isEmpty else { continue }
                guard let day = SheetDate.day(of: d.value) else {
                    plan.error(d.place, "\"\(CellText.shown(d.value))\" is not a date (\(label)); use 2026-03-12, 12/03/2026 or 12 March 2026")
                    badDate = true
                    continue
                }
                if role == .joined { joined = day } else { left = day }
            }
            if badDate { continue }
            if let j = joined, let l = left, l < j {
                plan.error("row \(r + 1)", "left (\(l)) is before joined (\(j))")
                continue
            }
            let place = nameCell.place
            // Which organisation the row is about.
            var orgID: String
            var existing: LedgerPicture.Organisation?
            if !givenID.isEmpty, let o = picture.organisations[givenID] {
                orgID = givenID; existing = o
            } else if !givenID.isEmpty, usedIDs.contains(givenID), newNames.values.contains(givenID) == false {
                plan.error(cell(r, .orgID)?.place, "org_id \(givenID) was used before (a retracted registration); choose another")
                continue
            } else if givenID.isEmpty, !name.isEmpty, case .found(let id) = matcher.match(name) {
                orgID = id; existing = picture.organisations[id]
            } else if givenID.isEmpty, case .ambiguous(let candidates) = matcher.match(name) {
                plan.error(place, "\"\(name)\" matches \(candidates.count) organisations: \(candidates.map(\.description).joined(separator: ", ")); give the org_id")
                continue
            } else if let id = newNames[SheetColumns.key(name)], givenID.isEmpty || givenID == id {
                orgID = id
            } else {
                if name.isEmpty { plan.error(place, "organisation \(givenID) is not in the ledger: give its name to register it"); continue }
                if !givenID.isEmpty {
                    guard Self.isIdentifier(givenID) else {
                        plan.error(cell(r, .orgID)?.place, "\"\(givenID)\" is not an id: 1–128 letters, digits and . _ : -")
                        continue
                    }
                    orgID = givenID
                } else {
                    let base = Self.slug(name)
                    orgID = base
                    var n = 2
                    while usedIDs.contains(orgID) { orgID = "\(base)-\(n)"; n += 1 }
                    if orgID != base {
                        plan.warn(place, "the id \(base) is taken by another organisation: \"\(name)\" is registered as \(orgID)")
                    }
                }
                usedIDs.insert(orgID)
                newNames[SheetColumns.key(name)] = orgID
                var data: [(String, JSONValue)] = [("org_id", .string(orgID)), ("name", .string(String(name.prefix(500)))), ("kind", .string(kind))]
                if let schools { data.append(("schools", .int(Int64(schools)))) }
                if let region { data.append(("region", .string(region))) }
                plan.append(.organisationRegistered, id: "roster-" + RegisterImport.shortHash(["OrganisationRegistered", orgID]),
                            day: joined ?? today, data: data, from: place)
            }
            if let earlier = seenOrgs[orgID] {
                plan.error(place, "\(orgID) is already on the sheet at \(earlier)")
                continue
            }
            seenOrgs[orgID] = place
            var changed = existing == nil
            if let o = existing {
                var update: [(String, JSONValue)] = []
                if let schools, schools != o.schools { update.append(("schools", .int(Int64(schools)))) }
                if let region, region != o.region { update.append(("region", .string(region))) }
                if !update.isEmpty {
                    changed = true
                    plan.append(.organisationUpdated, id: "roster-" + RegisterImport.shortHash(["OrganisationUpdated", orgID, update.map { "\($0.0)=\($0.1.rendered())" }.joined(separator: ","), String(o.schools ?? -1), o.region ?? ""]),
                                day: today, data: [("org_id", .string(orgID))] + update, from: place)
                }
            }
            // Membership: the latest join or leave must say what the row says.
            let latest = picture.latestMembership[orgID]
            let isMember = latest?.joined ?? false
            let previousSeq = String(latest?.seq ?? 0)
            func membership(_ type: EventType, _ day: String) {
                changed = true
                plan.append(type, id: "roster-" + RegisterImport.shortHash([type.rawValue, network, orgID, day, previousSeq]), day: day,
                            data: [("network_id", .string(network)), ("org_id", .string(orgID))], from: place)
            }
            if let left {
                if isMember { membership(.memberLeft, left) }
                else if latest == nil, let joined { membership(.memberJoined, joined); membership(.memberLeft, left) }
            } else if !isMember {
                if joined == nil { plan.warn(place, "no joined date: \(name.isEmpty ? orgID : name) joins on \(today)") }
                membership(.memberJoined, joined ?? today)
            }
            if !changed { plan.unchanged += 1 }
        }
        return plan
    }

    /// An id from a name: lower case ASCII letters and digits, words joined by `-`, at most 64 characters.
    public static func slug(_ name: String) -> String {
        var out = "", pendingDash = false
        for s in name.lowercased().decomposedASCII() {
            if s.isASCII && (s.isLetter || s.isNumber) {
                if pendingDash && !out.isEmpty { out.append("-") }
                pendingDash = false
                out.append(s)
            } else if s == "'" || s == "’" || s == "." {
                continue   // St. Mary's → st-marys
            } else {
                pendingDash = true
            }
            if out.count >= 64 { break }
        }
        return out.isEmpty ? "org-" + RegisterImport.shortHash([name]) : out
    }

    /// The kind a cell names: `MAT`, `multi-academy trust`, `SAT`, `hub`, `LA`… → the ledger's vocabulary.
    public static func kind(_ text: String) -> String? {
        let k = SheetColumns.key(text)
        let kinds: [String: String] = [
            "mat": "mat", "multiacademytrust": "mat", "sat": "sat", "singleacademytrust": "sat",
            "hub": "hub", "teachingschoolhub": "hub", "school": "school", "academy": "school",
            "localauthority": "local_authority", "la": "local_authority", "council": "local_authority",
            "provider": "provider", "other": "other",
        ]
        return kinds[k]
    }

    static func isIdentifier(_ s: String) -> Bool {
        (1...128).contains(s.utf8.count) && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D }
    }
}

extension String {
    /// Letters with their accents removed where they decompose to ASCII (`é` → `e`); other characters kept.
    func decomposedASCII() -> [Character] {
        var out: [Character] = []
        for ch in self {
            if ch.isASCII { out.append(ch); continue }
            if ch == "’" { out.append("'"); continue }
            // NFD: the first scalar of the decomposition is the base letter.
            if let f = String(ch).decomposedStringWithCanonicalMapping.unicodeScalars.first, f.isASCII {
                out.append(Character(f))
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
