import Foundation
import GRDB
import Testing
@_spi(ReadSide) import TrellisLedger
@_exported import TrellisTestSupport

/// A fresh ledger in its own directory (tests run in parallel), and the real binary.
final class Workspace {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bin = root.appendingPathComponent(".build/debug/trellis").path

    let dir: URL
    let ledger: Ledger
    var db: String { ledger.path }

    init(_ lines: [String] = Fixture.lines) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-registers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        ledger = try Ledger.open(at: dir.appendingPathComponent("t.db").path, create: true)
        if !lines.isEmpty {
            _ = try ledger.append { visit in
                for (i, l) in lines.enumerated() {
                    var text = l
                    _ = try text.withUTF8 { try visit($0, i + 1, nil) }
                }
            }
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func file(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Writes `text` as `name` in the given bytes (UTF-8 by default).
    @discardableResult
    func write(_ name: String, _ text: String, bom: Bool = false, windows1252: Bool = false) throws -> String {
        var bytes: [UInt8] = bom ? [0xEF, 0xBB, 0xBF] : []
        if windows1252 {
            for s in text.unicodeScalars {
                switch s.value {
                case 0..<0x80, 0xA0...0xFF: bytes.append(UInt8(s.value))
                case 0x2019: bytes.append(0x92)
                case 0x20AC: bytes.append(0x80)
                default: Issue.record("not in Windows-1252: \(s)")
                }
            }
        } else {
            bytes += Array(text.utf8)
        }
        let path = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    struct Run {
        var status: Int32
        var out: String
        var err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    func trellis(_ args: [String]) throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bin), "build trellis first (swift build)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.bin)
        p.arguments = args + ["--db", db]
        p.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// Event count, from the ledger itself.
    func events() throws -> Int64 { try ledger.status().events }

    /// The `AttendanceRecorded` events in log order: (meeting, org, status, id).
    func attendance() throws -> [(meeting: String, org: String, status: String, id: String)] {
        try ledger.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT json_extract(data, '$.meeting_id'), json_extract(data, '$.org_id'), json_extract(data, '$.status'), id
                FROM events WHERE type = 'AttendanceRecorded' ORDER BY seq
                """).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }
}

/// A small network: five members (two with the same name), a non-member, two meetings.
enum Fixture {
    static func line(_ id: String, _ type: String, _ day: String, _ data: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(day)","data":{\#(data)}}"#
    }
    static func org(_ id: String, _ name: String) -> String {
        line("or-\(id)", "OrganisationRegistered", "2025-09-01", #""org_id":"\#(id)","name":"\#(name)","kind":"mat""#)
    }
    static func join(_ id: String, _ day: String = "2025-09-02") -> String {
        line("mj-\(id)", "MemberJoined", day, #""network_id":"npn","org_id":"\#(id)""#)
    }
    static let lines: [String] = [
        line("nf", "NetworkFormed", "2025-09-01", #""network_id":"npn","name":"North Pennines Network""#),
        org("oak", "Oak Trust"), org("stm", "St. Mary's C of E Trust"), org("ash", "Ash Academy"),
        org("birch1", "Birch Trust"), org("birch2", "Birch Trust"), org("elm", "Elm Hub"), org("cafe", "Café Learning Trust"),
        join("oak"), join("stm"), join("ash"), join("birch1"), join("cafe"),
        line("mh-m1", "MeetingHeld", "2025-10-01", #""meeting_id":"m1","network_id":"npn","title":"Autumn meeting""#),
        line("mh-m2", "MeetingHeld", "2025-11-05", #""meeting_id":"m2","network_id":"npn","title":"Late autumn meeting""#),
        line("pr-p1", "PersonRegistered", "2025-09-01", #""person_id":"p1","org_id":"oak","name":"Pat Example""#),
    ]
}
