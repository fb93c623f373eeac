import GRDB
import Testing
import TrellisProjections
@testable import TrellisReports

/// Network g1: a, b, c, d, e (e takes part in nothing); f is a member of g2 only and a
/// guest at a g1 meeting.
enum GraphFixture {
    static let lines: [String] = [
        E.network("g1", region: "North"), E.network("g2", region: "South"),
        E.org("a", name: "Ash & <Oak> Trust", region: "North"), E.org("b", region: "North"), E.org("c", region: "South"),
        E.org("d", region: "North"), E.org("e", name: "Eden Lonely Academy", region: "North"), E.org("f", region: "South"),
        E.join("a", n: "g1"), E.join("b", n: "g1"), E.join("c", n: "g1"), E.join("d", n: "g1"), E.join("e", n: "g1"),
        E.join("f", n: "g2"),
        E.meeting("M1", "2025-10-01", n: "g1"),
        E.attend("t1", "M1", "a", "present", day: "2025-10-01"),
        E.attend("t2", "M1", "b", "present", day: "2025-10-01"),
        E.attend("t3", "M1", "c", "present", day: "2025-10-01"),
        E.attend("t4", "M1", "d", "apologies", day: "2025-10-01"),
        E.attend("t5", "M1", "f", "present", day: "2025-10-01"),
        E.meeting("M2", "2026-02-01", n: "g1"),
        E.attend("u1", "M2", "a", "present", day: "2026-02-01"),
        E.attend("u2", "M2", "b", "present", day: "2026-02-01"),
        E.document("doc1", by: "a", kind: "policy", day: "2025-10-10", n: "g1"),
        E.adopt("doc1", by: "d", day: "2025-11-01"),
        E.document("doc2", by: "b", kind: "job_description", day: "2025-10-12", n: "g1"),
        E.adopt("doc2", by: "a", day: "2026-05-01"),
        E.commit("r1", reviewers: ["c", "d"], reviewee: "a", due: "2026-03-01", day: "2025-10-01", n: "g1"),
        E.complete("r1", day: "2026-01-10"),
        E.commit("r2", reviewers: ["a"], reviewee: "c", due: "2026-03-01", day: "2025-10-01", n: "g1"),
        E.complete("r2", day: "2026-04-10"),
    ]
}

@Suite struct GraphTests {
    func graph(_ networks: [String] = ["g1"], kinds: [TieKind] = TieKind.allCases, slicing: Period.Slicing? = nil) throws -> GraphReport {
        let s = try Scratch()
        try s.append(GraphFixture.lines)
        return try s.source().graph(ReportQuery(networks: networks, period: year2025), kinds: kinds, slicing: slicing).report
    }

    @Test func smallNetworkHasTheHandComputedFigures() throws {
        let g = try graph().whole
        #expect(g.nodes.map(\.id) == ["a", "b", "c", "d", "e"], "f is no member of g1: its ties are left out")
        #expect(g.edges.map { "\($0.source)-\($0.target) \($0.weight) \($0.coAttendance)/\($0.document)/\($0.review)" } == [
            "a-b 3 2/1/0", "a-c 3 1/0/2", "a-d 2 0/1/1", "b-c 1 1/0/0",
        ])
        #expect(close(g.density, 0.4))
        #expect(g.components == 2)
        #expect(g.isolates == ["e"])
        let n = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.id, $0) })
        #expect(n.values.sorted { $0.id < $1.id }.map(\.degree) == [3, 2, 2, 1, 0])
        #expect(n.values.sorted { $0.id < $1.id }.map(\.weightedDegree) == [8, 4, 4, 2, 0])
        #expect(close(n["a"]!.betweenness, 1.0 / 3), "a is on the shortest paths d–b and d–c: 2 of 6 pairs")
        #expect(n["b"]!.betweenness == 0 && n["e"]!.betweenness == 0)
        #expect(close(n["a"]!.clustering, 1.0 / 3))
        #expect(close(n["b"]!.clustering, 1))
        #expect(n["d"]!.clustering == 0)
        #expect(n["e"]!.component == 1 && n["a"]!.component == 0)
        #expect(close(g.reciprocity, 0.5), "review ties c→a, d→a, a→c: {a,c} both ways of 2 pairs")
        #expect(close(g.eiIndexNetwork, -1), "one network: every tie within")
        #expect(close(g.eiIndexRegion, (2.0 - 2.0) / 4), "c is South: a-c and b-c cross, a-b and a-d do not")
    }

    @Test func chosenKindsAloneMakeTheWeight() throws {
        let g = try graph(kinds: [.review]).whole
        #expect(g.edges.map { "\($0.source)-\($0.target) \($0.weight) \($0.coAttendance)/\($0.document)/\($0.review)" } == ["a-c 2 0/0/2", "a-d 1 0/0/1"])
        #expect(g.isolates == ["b", "e"])
        #expect(close(g.reciprocity, 0.5))
    }

    @Test func tiesArisingInAChosenNetworkJoinMembersOfAnyChosenNetwork() throws {
        let g = try graph(["g1", "g2"]).whole
        #expect(g.nodes.map(\.id) == ["a", "b", "c", "d", "e", "f"])
        #expect(g.edges.filter { $0.source == "f" || $0.target == "f" }.map { "\($0.source)-\($0.target) \($0.weight)" } == ["a-f 1", "b-f 1", "c-f 1"])
        #expect(close(g.eiIndexNetwork, (3.0 - 4.0) / 7))
        #expect(g.nodes.first { $0.id == "f" }?.homeNetwork == "g2")
    }

    @Test func slicesByTermSplitTheTies() throws {
        let r = try graph(slicing: .term)
        #expect(r.slices.map { $0.label ?? "" } == ["2025/26 autumn", "2025/26 spring", "2025/26 summer"])
        #expect(r.slices.map { $0.edges.map { "\($0.source)-\($0.target) \($0.weight)" } } == [
            ["a-b 1", "a-c 1", "a-d 1", "b-c 1"],   // M1, doc1 adopted
            ["a-b 1", "a-c 1", "a-d 1"],            // M2, r1 completed
            ["a-b 1", "a-c 1"],                     // doc2 adopted, r2 completed
        ])
    }

    /// The figures count ties exactly as the `ties` view defines them.
    @Test func tieCountsAgreeWithTheTiesView() throws {
        let s = try Scratch()
        try s.append(GraphFixture.lines + ParticipationFixture.lines)
        let source = try s.source()
        for networks in [["g1"], ["npn"], ["g1", "npn"]] {
            let g = try source.graph(ReportQuery(networks: networks, period: year2025)).report.whole
            let nodes = Set(g.nodes.map(\.id))
            var expected: [String: [Int]] = [:]
            let rows = try source.readModels { db in
                try Row.fetchAll(db, sql: """
                    SELECT min(source, target), max(source, target), kind, count(*) FROM ties
                    WHERE network_id IN (\(networks.map { "'\($0)'" }.joined(separator: ","))) AND day >= '2025-09-01' AND day < '2026-09-01'
                    GROUP BY 1, 2, 3
                    """)
            }
            for r in rows {
                let (a, b, kind, n): (String, String, String, Int) = (r[0], r[1], r[2], r[3])
                guard nodes.contains(a), nodes.contains(b) else { continue }
                let k = ["co_attendance", "document", "review"].firstIndex(of: kind)!
                expected["\(a)-\(b)", default: [0, 0, 0]][k] += n
            }
            let got = Dictionary(uniqueKeysWithValues: g.edges.map { ("\($0.source)-\($0.target)", [$0.coAttendance, $0.document, $0.review]) })
            #expect(got == expected, "networks \(networks)")
        }
    }
}
