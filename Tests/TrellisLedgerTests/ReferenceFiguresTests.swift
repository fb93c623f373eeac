import Foundation
import Testing

/// `trellis report participation|coverage` against an independent implementation of
/// DOMAIN.md written straight from the events (tools/reference/figures.py), on generated
/// regions with joins and leaves, late registers, corrections and retractions.
@Suite struct ReferenceFiguresTests {
    static let reference = TestPaths.packageRoot.appendingPathComponent("tools/reference/figures.py").path

    func region(seed: Int) throws -> (ScratchDir, String) {
        let dir = try ScratchDir("reference")
        let gen = try runTrellis(["generate", "--networks", "2", "--orgs", "40", "--years", "2", "--seed", String(seed)])
        try #require(gen.status == 0)
        let file = try dir.write("region.ndjson", gen.stdout)
        let imp = try runTrellis(["import", "--db", dir.ledgerPath, file])
        try #require(imp.status == 0, "\(imp)")
        return (dir, file)
    }

    /// Rows keyed by their id (networks, members, edges): the reference and we must have exactly
    /// the same keys, so a row missing on either side, or an extra one, is a difference.
    struct Rows {
        var byKey: [String: Any]
    }

    /// Fields we print that the reference does not compute (names, provenance, per-meeting and
    /// review lists): the only keys ours may have beyond the reference's.
    static let notInReference: Set<String> = [
        "provenance", "name", "meetings", "meeting_count", "member_count", "expected", "present",
        "window_from", "warnings", "completed_in_window", "shared_in_window", "not_reviewed", "overdue_count", "overdue_reviews",
    ]

    /// Walks both documents: every reference key must be ours with the same value; rows
    /// must match as sets; ours may add only `extra` fields to a record.
    func compare(_ ref: Any?, _ ours: Any?, _ path: String, extra: Set<String> = notInReference, into issues: inout [String]) {
        switch (ref, ours) {
        case (let a as Rows, let b as Rows):
            let missing = Set(a.byKey.keys).subtracting(b.byKey.keys), added = Set(b.byKey.keys).subtracting(a.byKey.keys)
            if !missing.isEmpty { issues.append("\(path): rows only in the reference: \(missing.sorted().prefix(5))") }
            if !added.isEmpty { issues.append("\(path): rows only in ours: \(added.sorted().prefix(5))") }
            for (k, v) in a.byKey where b.byKey[k] != nil { compare(v, b.byKey[k], path + "[" + k + "]", extra: extra, into: &issues) }
        case (let a as [String: Any], let b as [String: Any]):
            for (k, v) in a { compare(v, b[k], path + "." + k, extra: extra, into: &issues) }
            for k in b.keys where a[k] == nil && !extra.contains(k) { issues.append("\(path).\(k): only in ours") }
        case (let a as [Any], let b as [Any]):
            if a.count != b.count { issues.append("\(path): \(a.count) vs \(b.count) items"); return }
            for (i, pair) in zip(a, b).enumerated() { compare(pair.0, pair.1, "\(path)[\(i)]", extra: extra, into: &issues) }
        case (let a as NSNumber, let b as NSNumber):
            if abs(a.doubleValue - b.doubleValue) > 1e-12 { issues.append("\(path): \(a) vs \(b)") }
        case (is NSNull, is NSNull): break
        case (let a as String, let b as String): if a != b { issues.append("\(path): \(a) vs \(b)") }
        default: issues.append("\(path): \(String(describing: ref)) vs \(String(describing: ours))")
        }
    }

    /// Members keyed by org, networks by id, so order does not matter.
    func normalised(_ json: [String: Any]) -> [String: Any] {
        var out = json
        if let networks = json["networks"] as? [[String: Any]] {
            var byID: [String: Any] = [:]
            for var n in networks {
                if let overdue = n["overdue"] as? [String] { n["overdue"] = overdue.sorted() }  // a set: order is not part of the figure
                if let members = n["members"] as? [[String: Any]] {
                    n["members"] = Rows(byKey: Dictionary(members.map { ($0["org_id"] as? String ?? "", $0 as Any) }, uniquingKeysWith: { a, _ in a }))
                    if Set(members.map { $0["org_id"] as? String ?? "" }).count != members.count { n["duplicate_members"] = true }
                }
                byID[n["network_id"] as? String ?? ""] = n
            }
            out["networks"] = Rows(byKey: byID)
        }
        return out
    }

    /// The comparison itself can fail: a row added, removed or changed on either side is reported.
    @Test func compareReportsExtraMissingAndChangedRows() throws {
        let ref: [String: Any] = ["networks": [["network_id": "n1", "attendance_rate": 0.5,
                                                "members": [["org_id": "a", "rate": 0.5], ["org_id": "b", "rate": NSNull()]]]]]
        var issues: [String] = []
        compare(normalised(ref), normalised(ref), "same", into: &issues)
        #expect(issues.isEmpty, "\(issues)")
        func issuesFor(_ ours: [String: Any]) -> [String] {
            var found: [String] = []
            compare(normalised(ref), normalised(ours), "p", into: &found)
            return found
        }
        let extraRow: [String: Any] = ["networks": [["network_id": "n1", "attendance_rate": 0.5,
                                                     "members": [["org_id": "a", "rate": 0.5], ["org_id": "b", "rate": NSNull()], ["org_id": "c", "rate": 1.0]]]]]
        #expect(issuesFor(extraRow) == ["p.networks[n1].members: rows only in ours: [\"c\"]"])
        let extraNetwork: [String: Any] = ["networks": (ref["networks"] as? [[String: Any]] ?? []) + [["network_id": "n2"]]]
        #expect(issuesFor(extraNetwork) == ["p.networks: rows only in ours: [\"n2\"]"])
        let missingRow: [String: Any] = ["networks": [["network_id": "n1", "attendance_rate": 0.5, "members": [["org_id": "a", "rate": 0.5]]]]]
        #expect(issuesFor(missingRow) == ["p.networks[n1].members: rows only in the reference: [\"b\"]"])
        let extraField: [String: Any] = ["networks": [["network_id": "n1", "attendance_rate": 0.5, "invented": 1,
                                                       "members": [["org_id": "a", "rate": 0.5], ["org_id": "b", "rate": NSNull()]]]]]
        #expect(issuesFor(extraField) == ["p.networks[n1].invented: only in ours"])
    }

    @Test(arguments: [1, 2])
    func participationAgreesWithTheReference(seed: Int) throws {
        let (dir, file) = try region(seed: seed)
        defer { dir.remove() }
        for year in ["2022/23", "2023/24"] {
            let from = String(year.prefix(4)) + "-09-01", to = String(Int(year.prefix(4))! + 1) + "-09-01"
            let ours = try runTrellis(["report", "participation", "--db", dir.ledgerPath, "--year", year, "--format", "json"])
            try #require(ours.status == 0, "\(ours)")
            let ref = try runTool("python3", [Self.reference, "participation", file, from, to])
            try #require(ref.status == 0, "\(ref)")
            var issues: [String] = []
            compare(normalised(try parseJSONObject(ref.stdout)), normalised(try parseJSONObject(ours.stdout)), year, into: &issues)
            #expect(issues.isEmpty, "\(issues.prefix(10))")
        }
    }

    @Test(arguments: [1, 2])
    func coverageAgreesWithTheReference(seed: Int) throws {
        let (dir, file) = try region(seed: seed)
        defer { dir.remove() }
        for (on, window) in [("2023-03-31", 365), ("2023-12-15", 180), ("2024-08-31", 365)] {
            let ours = try runTrellis(["report", "coverage", "--db", dir.ledgerPath, "--on", on, "--window-days", String(window), "--format", "json"])
            try #require(ours.status == 0, "\(ours)")
            let ref = try runTool("python3", [Self.reference, "coverage", file, on, String(window)])
            try #require(ref.status == 0, "\(ref)")
            var issues: [String] = []
            compare(normalised(try parseJSONObject(ref.stdout)), normalised(try parseJSONObject(ours.stdout)), on, into: &issues)
            #expect(issues.isEmpty, "\(issues.prefix(10))")
        }
    }

    @Test(arguments: [1, 2])
    func collaborationGraphAgreesWithTheReference(seed: Int) throws {
        let (dir, file) = try region(seed: seed)
        defer { dir.remove() }
        let ours = try runTrellis(["report", "graph", "--db", dir.ledgerPath, "--year", "2023/24", "--format", "json"])
        try #require(ours.status == 0, "\(ours)")
        let ref = try runTool("python3", [Self.reference, "graph", file, "2023-09-01", "2024-09-01"])
        try #require(ref.status == 0, "\(ref)")
        let a = try parseJSONObject(ref.stdout), b = try parseJSONObject(ours.stdout)
        var issues: [String] = []
        for k in ["node_count", "edge_count", "isolates", "density", "reciprocity"] { compare(a[k], b[k], k, into: &issues) }
        func byPair(_ edges: Any?) -> Rows {
            let list = (edges as? [[String: Any]]) ?? []
            let rows = Dictionary(list.map { e in
                let pair = [e["source"] as? String ?? "", e["target"] as? String ?? ""].sorted().joined(separator: "|")
                return (pair, e.filter { ["weight", "co_attendance", "document", "review"].contains($0.key) } as Any)
            }, uniquingKeysWith: { a, _ in a })
            if rows.count != list.count { issues.append("edges: a pair listed twice") }
            return Rows(byKey: rows)
        }
        compare(byPair(a["edges"]), byPair(b["edges"]), "edges", into: &issues)
        #expect(issues.isEmpty, "\(issues.prefix(10))")
    }
}
