import Foundation
import Testing
import TrellisLedger
@_exported import TrellisTestSupport

// Helpers for the research tests: a scratch directory per test, the real `trellis` binary
// (built by `swift build`), other tools (lz4, python3, sqlite3), and a generated region.

struct Scratch: Sendable {
    let path: String

    init(_ label: String = "trellis-research") throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension ProcessResult {
    var outcome: Outcome { Outcome(status: status, stdout: stdout, stderr: stderr) }
}

struct Outcome: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

enum Paths {
    /// This file is Tests/TrellisResearchTests/Support.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The built `trellis` (TrellisTestSupport finds it next to the test bundle).
    static let trellis: String = (try? Trellis.path()) ?? "trellis-binary-not-found"
    static let verifyProof = root.appendingPathComponent("tools/verify_proof.py").path
}

/// Runs a program to completion (TrellisTestSupport's runner).
func run(_ executable: String, _ args: [String], stdinFile: String? = nil) throws -> Outcome {
    let r = try runProcess(executable, args, stdin: stdinFile.map { .file($0) } ?? .none)
    return Outcome(status: r.status, stdout: r.stdout, stderr: r.stderr)
}

func trellis(_ args: String...) throws -> Outcome {
    try run(try Trellis.path(), args)
}

/// A tool on PATH (lz4, python3, sqlite3).
func tool(_ name: String, _ args: [String], stdinFile: String? = nil) throws -> Outcome {
    try run("/usr/bin/env", [name] + args, stdinFile: stdinFile)
}

/// `lz4 -dc FILE` into `to`, returning the text.
@discardableResult
func decompress(_ archive: String, to: String) throws -> String {
    let r = try tool("lz4", ["-d", "-q", "-f", archive, to])
    guard r.status == 0 else { throw SupportFailure("lz4 -d failed: \(r)") }
    return try String(contentsOfFile: to, encoding: .utf8)
}

func compress(_ plain: String, to: String) throws {
    let r = try tool("lz4", ["-q", "-f", plain, to])
    guard r.status == 0 else { throw SupportFailure("lz4 failed: \(r)") }
}

struct SupportFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func jsonObject(_ text: String) throws -> [String: Any] {
    guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw SupportFailure("not a JSON object: \(text)") }
    return o
}

/// How many events the ledger at `db` holds, read through the CLI (`status`), so that a test runs
/// on both stores (``TestStore``); no ledger at all counts as none.
func eventCount(_ db: String) throws -> Int {
    let r = try trellis("status", "--db", db, "--format", "json")
    if r.status == 66 { return 0 }
    guard r.status == 0, let n = try jsonObject(r.stdout)["events"] as? Int else { throw SupportFailure("status failed: \(r)") }
    return n
}

/// A ledger holding a generated region (retractions, erasures, reviews included).
func regionLedger(in dir: Scratch, name: String = "source.db", seed: Int = 5, orgs: Int = 30) throws -> String {
    let ndjson = dir.file("region-\(seed).ndjson")
    let db = dir.file(name)
    let gen = try run(Paths.trellis, ["generate", "--seed", String(seed), "--orgs", String(orgs), "--years", "2"])
    guard gen.status == 0 else { throw SupportFailure("generate failed: \(gen)") }
    try gen.stdout.write(toFile: ndjson, atomically: true, encoding: .utf8)
    let imp = try trellis("import", "--db", db, ndjson)
    guard imp.status == 0 else { throw SupportFailure("import failed: \(imp)") }
    return db
}

/// A generated region's ledger (``regionLedger(in:name:seed:orgs:)``) and its `trellis export`
/// archive, `name` in `dir`.
func exportedRegion(in dir: Scratch, seed: Int = 5, orgs: Int = 30, name: String = "a.lz4") throws -> (source: String, archive: String) {
    let source = try regionLedger(in: dir, seed: seed, orgs: orgs)
    let archive = dir.file(name)
    let r = try trellis("export", "--db", source, "--out", archive)
    guard r.status == 0 else { throw SupportFailure("export failed: \(r)") }
    return (source, archive)
}

/// The event lines of an exported region (the manifest line dropped), as bytes.
func archivedEventLines(in dir: Scratch, seed: Int, orgs: Int) throws -> [[UInt8]] {
    let (_, archive) = try exportedRegion(in: dir, seed: seed, orgs: orgs)
    _ = try decompress(archive, to: dir.file("a.ndjson"))
    return try Data(contentsOf: URL(fileURLWithPath: dir.file("a.ndjson"))).split(separator: 0x0A).dropFirst().map { Array($0) }
}

/// `trellis projections digest --format json` without the head_seq, as name → digest.
func digests(_ db: String, _ extra: String...) throws -> [String: String] {
    let r = try run(Paths.trellis, ["projections", "digest", "--db", db, "--format", "json"] + extra)
    guard r.status == 0 else { throw SupportFailure("digest failed: \(r)") }
    let o = try jsonObject(r.stdout)
    var out: [String: String] = [:]
    for p in o["projections"] as? [[String: Any]] ?? [] { out[p["name"] as? String ?? ""] = p["digest"] as? String }
    return out
}

/// Rows of a query of the ledger's own tables (`a|b` lines, NULL empty): sqlite3 on the file,
/// or psql on the PostgreSQL database standing for it; `postgres` when its SQL differs.
func ledgerRows(_ db: String, _ sql: String, postgres: String? = nil) throws -> String {
    let r = try TestStore.tamper(db, file: sql, postgres: postgres ?? sql)
    guard r.status == 0 else { throw SupportFailure("the query failed: \(r)") }
    return r.stdout
}

func sqliteRows(_ db: String, _ sql: String) throws -> String {
    let r = try tool("sqlite3", [db, sql])
    guard r.status == 0 else { throw SupportFailure("sqlite3 failed: \(r)") }
    return r.stdout
}
