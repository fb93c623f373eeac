import Foundation
import GRDB
import Testing
import TrellisLedger
import TrellisProjections
@testable import TrellisReports
@testable import TrellisCore
@_exported import TrellisTestSupport

/// A fresh ledger in its own temporary directory (tests run in parallel).
final class Scratch {
    let dir: URL
    let ledger: Ledger
    var path: String { ledger.path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        ledger = try Ledger.open(at: dir.appendingPathComponent("t.db").path, create: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func append(_ lines: [String]) throws -> AppendOutcome {
        try ledger.append { visit in
            for (i, l) in lines.enumerated() {
                var text = l
                _ = try text.withUTF8 { try visit($0, i + 1, nil) }
            }
        }
    }

    /// Imports `lines` with the real binary (`trellis import --db PATH -`), as a user would: a
    /// CLI test that builds its ledger this way runs on both stores (``TestStore``).
    func importWithCLI(_ lines: [String]) throws {
        let r = try Trellis.run(["import", "--db", path, "-"], stdin: .text(lines.joined(separator: "\n") + "\n"))
        guard r.status == 0 else { throw SupportError("trellis import failed: \(r)") }
    }

    func source(knownAt: String? = nil, asOf: String? = nil) throws -> ReportSource {
        try ReportSource(ledger: ledger, engine: try ProjectionEngine(ledger: ledger), knownAt: knownAt, asOf: asOf)
    }

    func file(_ name: String) -> String { dir.appendingPathComponent(name).path }
}

/// Envelope builders for readable fixtures.
enum E {
    static func line(_ id: String, _ type: String, _ day: String, _ data: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(day)","data":{\#(data)}}"#
    }
    static func network(_ n: String = "npn", name: String? = nil, region: String? = nil) -> String {
        line("nf-\(n)", "NetworkFormed", "2025-09-01", #""network_id":"\#(n)","name":"\#(name ?? "Network \(n)")""# + (region.map { #","region":"\#($0)""# } ?? ""))
    }
    static func org(_ o: String, name: String? = nil, region: String? = nil) -> String {
        line("or-\(o)", "OrganisationRegistered", "2025-09-01",
             #""org_id":"\#(o)","name":"\#(name ?? "Trust \(o)")","kind":"mat","schools":3"# + (region.map { #","region":"\#($0)""# } ?? ""))
    }
    static func person(_ p: String, _ o: String) -> String {
        line("pr-\(p)", "PersonRegistered", "2025-09-01", #""person_id":"\#(p)","org_id":"\#(o)","name":"Person \#(p)""#)
    }
    static func join(_ o: String, _ day: String = "2025-09-02", n: String = "npn", id: String? = nil) -> String {
        line(id ?? "mj-\(n)-\(o)-\(day)", "MemberJoined", day, #""network_id":"\#(n)","org_id":"\#(o)""#)
    }
    static func leave(_ o: String, _ day: String, n: String = "npn", id: String? = nil) -> String {
        line(id ?? "ml-\(n)-\(o)-\(day)", "MemberLeft", day, #""network_id":"\#(n)","org_id":"\#(o)""#)
    }
    static func meeting(_ m: String, _ day: String, n: String = "npn") -> String {
        line("mh-\(m)", "MeetingHeld", day, #""meeting_id":"\#(m)","network_id":"\#(n)","title":"Meeting \#(m)""#)
    }
    static func attend(_ id: String, _ m: String, _ o: String, _ status: String, day: String, person: String? = nil) -> String {
        line(id, "AttendanceRecorded", day, #""meeting_id":"\#(m)","org_id":"\#(o)","status":"\#(status)""# + (person.map { #","person_id":"\#($0)""# } ?? ""))
    }
    static func retract(_ id: String, _ target: String, day: String = "2026-07-01") -> String {
        line(id, "EventRetracted", day, #""event_id":"\#(target)","reason":"mistake""#)
    }
    static func commit(_ r: String, reviewers: [String], reviewee: String, due: String, day: String, n: String = "npn",
                       areas: [String] = ["governance"]) -> String {
        let rs = reviewers.map { "\"\($0)\"" }.joined(separator: ",")
        let as_ = areas.map { "\"\($0)\"" }.joined(separator: ",")
        return line("rc-\(r)", "ReviewCommitted", day,
                    #""review_id":"\#(r)","network_id":"\#(n)","reviewer_org_ids":[\#(rs)],"reviewee_org_id":"\#(reviewee)","areas":[\#(as_)],"due_by":"\#(due)""#)
    }
    static func complete(_ r: String, day: String, outcomes: [(String, String, Int?)] = [("governance", "secure", nil)]) -> String {
        let os = outcomes.map { o in
            #"{"area":"\#(o.0)","judgement":"\#(o.1)""# + (o.2.map { #","actions":\#($0)"# } ?? "") + "}"
        }.joined(separator: ",")
        return line("rd-\(r)", "ReviewCompleted", day, #""review_id":"\#(r)","outcomes":[\#(os)]"#)
    }
    static func share(_ r: String, day: String) -> String {
        line("rs-\(r)", "ReviewOutcomeShared", day, #""review_id":"\#(r)","audience":"network""#)
    }
    static func withdraw(_ r: String, day: String) -> String {
        line("rw-\(r)", "ReviewWithdrawn", day, #""review_id":"\#(r)""#)
    }
    static func document(_ d: String, by o: String, kind: String, day: String, n: String = "npn") -> String {
        line("ds-\(d)", "DocumentShared", day, #""document_id":"\#(d)","org_id":"\#(o)","network_id":"\#(n)","title":"Doc \#(d)","kind":"\#(kind)""#)
    }
    static func adopt(_ d: String, by o: String, day: String) -> String {
        line("da-\(d)-\(o)", "DocumentAdopted", day, #""document_id":"\#(d)","org_id":"\#(o)""#)
    }
}

func day(_ s: String) -> Int { Timestamp.parseDate(s)! }

let year2025 = Period.academicYear(startingIn: 2025)

func close(_ a: Double?, _ b: Double?, _ tol: Double = 1e-12) -> Bool {
    switch (a, b) {
    case let (x?, y?): return abs(x - y) <= tol
    case (nil, nil): return true
    default: return false
    }
}

/// Runs `python3 -c script args…`; returns (exit status, stdout + stderr).
func python(_ script: String, _ args: [String] = []) throws -> (Int32, String) {
    let r = try runTool("python3", ["-c", script] + args)
    return (r.status, r.stdout + r.stderr)
}
