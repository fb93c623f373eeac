import TrellisSheets

/// Finds the header row of a sheet and what each column holds, by its header.
/// Headers are compared with case, spacing and punctuation ignored (`Org ID` = `org_id`).
struct SheetColumns {
    enum Role: Equatable {
        case orgID, orgName, status, meeting, person
        case kind, schools, region, joined, left
    }

    /// 0-based index of the header row.
    var headerRow: Int
    var roles: [Int: Role] = [:]

    static func key(_ s: String) -> String {
        String(String.UnicodeScalarView(s.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }))
    }

    static let names: [String: Role] = [
        "orgid": .orgID, "organisationid": .orgID, "organizationid": .orgID, "id": .orgID,
        "name": .orgName, "organisation": .orgName, "organization": .orgName, "org": .orgName,
        "organisationname": .orgName, "organizationname": .orgName, "orgname": .orgName,
        "school": .orgName, "schoolname": .orgName, "trust": .orgName, "trustname": .orgName,
        "member": .orgName, "membername": .orgName,
        "status": .status, "attendance": .status, "attended": .status,
        "date": .meeting, "meeting": .meeting, "meetingid": .meeting, "meetingdate": .meeting,
        "person": .person, "personid": .person,
        "kind": .kind, "type": .kind, "organisationkind": .kind, "organisationtype": .kind,
        "schools": .schools, "numberofschools": .schools, "schoolcount": .schools, "academies": .schools,
        "region": .region, "area": .region,
        "joined": .joined, "joinedon": .joined, "datejoined": .joined, "joindate": .joined, "memberfrom": .joined, "from": .joined,
        "left": .left, "lefton": .left, "dateleft": .left, "leavedate": .left, "memberto": .left, "to": .left,
    ]

    /// The first of the first 20 rows naming an organisation column; nil when there is none.
    static func find(in sheet: Sheet) -> SheetColumns? {
        for (r, row) in sheet.rows.prefix(20).enumerated() {
            var roles: [Int: Role] = [:]
            for (c, cell) in row.enumerated() {
                guard case .text(let t) = cell.value, let role = names[key(t)] else { continue }
                if !roles.values.contains(role) { roles[c] = role }
            }
            if roles.values.contains(.orgID) || roles.values.contains(.orgName) {
                return SheetColumns(headerRow: r, roles: roles)
            }
        }
        return nil
    }

    func column(_ role: Role) -> Int? { roles.first { $0.value == role }?.key }

    /// Column letters of a 0-based index: 0 → A, 26 → AA.
    static func letters(_ index: Int) -> String {
        var n = index + 1, out = ""
        while n > 0 {
            let r = (n - 1) % 26
            out = String(UnicodeScalar(UInt8(65 + r))) + out
            n = (n - 1) / 26
        }
        return out
    }
}
