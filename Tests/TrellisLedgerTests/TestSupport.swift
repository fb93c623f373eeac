import Foundation
import Testing
import TrellisLedger
@_exported import TrellisTestSupport

// Shared helpers for RulesTests, IntegrityTests and CLITests: scratch directories, the real
// `trellis` binary and other tools run as processes, a tiny envelope builder, and a standard
// fixture region. Every test makes its own directory and ledger, so tests run in parallel.

// MARK: - Scratch directories

/// A fresh directory under the system temp directory; `remove()` deletes it and everything in it.
struct ScratchDir: Sendable {
    let url: URL

    init(_ label: String = "trellis-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The standard ledger path of a test.
    var ledgerPath: String { file("ledger.db") }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let p = file(name)
        guard FileManager.default.createFile(atPath: p, contents: data) else {
            throw SupportError("cannot write \(p)")
        }
        return p
    }

    /// Writes NDJSON lines (each followed by a newline) and returns the path.
    @discardableResult
    func writeLines(_ name: String, _ lines: [String]) throws -> String {
        try write(name, lines.map { $0 + "\n" }.joined())
    }

    func remove() {
        // Restore write permission first, in case a test made a subdirectory read-only.
        if let items = FileManager.default.enumerator(atPath: path) {
            for case let item as String in items {
                try? FileManager.default.setAttributes([.posixPermissions: 0o755],
                                                       ofItemAtPath: url.appendingPathComponent(item).path)
            }
        }
        try? FileManager.default.removeItem(at: url)
    }
}

// MARK: - Running processes (TrellisTestSupport's runner)

enum TestPaths {
    /// The package root: this file is at Tests/TrellisLedgerTests/TestSupport.swift.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `trellis` binary (for shell scripts; `runTrellis` says why when it is missing).
    static var trellis: String { (try? Trellis.path()) ?? "trellis-binary-not-found" }
}

/// The environment a child process gets: ours, minus TRELLIS_DB, plus `extra` (for posix_spawn).
func childEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["TRELLIS_DB"] = nil
    for (k, v) in extra { env[k] = v }
    return env
}

private func input(_ data: Data?, _ file: String?, _ pipe: Pipe?) -> ChildInput {
    if let pipe { return .pipe(pipe) }
    if let file { return .file(file) }
    if let data { return .data(data) }
    return .none
}

/// Starts the real `trellis` binary without waiting for it.
func launchTrellis(_ args: [String], stdin: Data? = nil, stdinFile: String? = nil, stdinPipe: Pipe? = nil,
                   env: [String: String] = [:], cwd: URL? = nil) throws -> RunningProcess {
    try Trellis.launch(args, stdin: input(stdin, stdinFile, stdinPipe), env: env, cwd: cwd?.path)
}

/// Runs the real `trellis` binary to completion: (status, stdout, stderr).
func runTrellis(_ args: [String], stdin: Data? = nil, stdinFile: String? = nil,
                env: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
    try Trellis.run(args, stdin: input(stdin, stdinFile, nil), env: env, cwd: cwd?.path)
}

func runTrellis(_ args: [String], stdin: String, env: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
    try runTrellis(args, stdin: Data(stdin.utf8), env: env, cwd: cwd)
}

/// Runs another tool (sqlite3, python3) found on PATH.
func runTool(_ name: String, _ args: [String], stdin: Data? = nil) throws -> ProcessResult {
    try TrellisTestSupport.runTool(name, args, stdin: input(stdin, nil, nil))
}

/// `sqlite3 FILE SQL`.
func sqlite3(_ file: String, _ sql: String) throws -> ProcessResult {
    // SQL longer than one argument may be (128 KiB on Linux) goes through stdin, stopping at
    // the first error as the argument form does.
    if sql.utf8.count > 64 << 10 { return try runTool("sqlite3", ["-bail", file], stdin: Data(sql.utf8)) }
    return try runTool("sqlite3", [file, sql])
}

/// Hex SHA-256 of `previous ‖ bytes`, computed by Python's hashlib (independent of the ledger's code).
func pythonChainHash(previousHex: String, bytes: [UInt8]) throws -> String {
    let r = try runTool("python3", ["-c", """
        import hashlib, sys
        prev = bytes.fromhex(sys.argv[1])
        print(hashlib.sha256(prev + sys.stdin.buffer.read()).hexdigest())
        """, previousHex], stdin: Data(bytes))
    guard r.status == 0 else { throw SupportError("python3 failed: \(r)") }
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Parses one JSON document (a CLI's `--format json` output, or an ndjson line).
func parseJSONObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    guard let object = value as? [String: Any] else { throw SupportError("not a JSON object: \(text)") }
    return object
}

/// Parses `log --format ndjson` output.
func parseNDJSON(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n", omittingEmptySubsequences: true).map { try parseJSONObject(String($0)) }
}

// MARK: - Envelope builder

/// A JSON value written as a Swift literal; objects keep the order they are written in.
indirect enum J: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([J])
    case object([(String, J)])

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: J...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, J)...) { self = .object(elements) }
    init(nilLiteral: ()) { self = .null }

    /// Compact JSON; strings escape only `"`, `\` and control characters.
    var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return J.quote(s)
        case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { J.quote($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// One NDJSON envelope line: `{"id":…,"type":…,"occurred_at":…,"actor":…,"data":…}`.
func envelope(_ type: String, id: String? = nil, at occurredAt: String = "2025-10-01", actor: String? = nil,
              v: Int? = nil, _ data: J) -> String {
    var fields: [(String, J)] = []
    if let id { fields.append(("id", .string(id))) }
    fields.append(("type", .string(type)))
    if let v { fields.append(("v", .int(v))) }
    fields.append(("occurred_at", .string(occurredAt)))
    if let actor { fields.append(("actor", .string(actor))) }
    fields.append(("data", data))
    return J.object(fields).json
}

// MARK: - The fixture region

/// A small region: network `npn`; organisations `oak` (mat), `ash` (sat), `elm` (school); persons
/// `p-oak` (of oak) and `p-ash` (of ash); oak and ash are members of npn, elm is not; meeting `m1`.
/// Every fixture event has an id.
enum Fixture {
    static let lines: [String] = [
        envelope("NetworkFormed", id: "f-npn", at: "2025-08-01", ["network_id": "npn", "name": "North Pennines Network", "region": "North East"]),
        envelope("OrganisationRegistered", id: "f-oak", at: "2025-08-02", ["org_id": "oak", "name": "Oak Trust", "kind": "mat", "schools": 7]),
        envelope("OrganisationRegistered", id: "f-ash", at: "2025-08-02", ["org_id": "ash", "name": "Ash Academy", "kind": "sat", "schools": 1]),
        envelope("OrganisationRegistered", id: "f-elm", at: "2025-08-02", ["org_id": "elm", "name": "Elm School", "kind": "school"]),
        envelope("PersonRegistered", id: "f-p-oak", at: "2025-08-03", ["person_id": "p-oak", "org_id": "oak", "role": "CEO", "name": "Olive Oakes", "email": "olive@oak.example"]),
        envelope("PersonRegistered", id: "f-p-ash", at: "2025-08-03", ["person_id": "p-ash", "org_id": "ash", "name": "Ashok Patel"]),
        envelope("MemberJoined", id: "f-join-oak", at: "2025-09-01", ["network_id": "npn", "org_id": "oak"]),
        envelope("MemberJoined", id: "f-join-ash", at: "2025-09-01", ["network_id": "npn", "org_id": "ash"]),
        envelope("MeetingHeld", id: "f-m1", at: "2025-09-15T16:00:00Z", ["meeting_id": "m1", "network_id": "npn", "title": "Autumn network meeting", "format": "in_person"]),
    ]

    static var count: Int { lines.count }

    static var ndjson: String { lines.map { $0 + "\n" }.joined() }
}

// MARK: - Library helpers

extension Ledger {
    /// Appends `lines` as one batch, numbering them from 1 like an imported file.
    @discardableResult
    func appendLines(_ lines: [String]) throws -> AppendOutcome {
        try append { visit in
            for (k, line) in lines.enumerated() {
                var text = line
                let more = try text.withUTF8 { try visit($0, k + 1, nil) }
                if !more { break }
            }
        }
    }
}

/// A new ledger in `dir` holding the fixture region.
func fixtureLedger(in dir: ScratchDir) throws -> Ledger {
    let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
    try ledger.appendLines(Fixture.lines)
    return ledger
}

/// The fixture region imported into `dir`'s ledger by the real binary (`trellis import`), so that a
/// test that builds its ledger this way runs on both stores (``TestStore``).
func importFixtureWithCLI(in dir: ScratchDir) throws {
    let r = try runTrellis(["import", "--db", dir.ledgerPath, "-"], stdin: Fixture.ndjson)
    guard r.status == 0 else { throw SupportError("trellis import failed: \(r)") }
}

/// The `AppendRejected` that `body` throws, or nil (and a recorded issue) when it throws nothing or something else.
func rejection(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> AppendRejected? {
    do {
        try body()
        Issue.record("expected the batch to be rejected, but it was accepted", sourceLocation: sourceLocation)
        return nil
    } catch let e as AppendRejected {
        return e
    } catch {
        Issue.record("expected AppendRejected, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// `trellis erase`, completed. On PostgreSQL a snapshot elsewhere on the server that predates
/// the erasure (another test's session, say) makes the rewrite of person_keys keep the erased
/// row: erase then exits 75 saying so, and `erase --finish` completes once that snapshot is gone.
/// What must never happen is exit 0 with a copy left: the callers look for the key's bytes.
func eraseCompletely(_ args: [String]) throws -> ProcessResult {
    let erase = try runTrellis(["erase"] + args)
    guard TestStore.isPostgreSQL, erase.status == 75, erase.stderr.contains("so the rewrite had to keep") || erase.stderr.contains("another process is reading the ledger") else { return erase }
    let db = args.firstIndex(of: "--db").map { args[$0 + 1] } ?? ""
    for _ in 0..<40 {
        usleep(250_000)
        if try runTrellis(["erase", "--finish", "--db", db]).status == 0 {
            var completed = erase
            completed.status = 0
            return completed
        }
    }
    return erase
}

/// The fixture region plus `extra` lines imported by the real binary into a new scratch
/// ledger, and its read models built (they are built on first use): the starting point of
/// the tamper tests.
func importedFixture(_ name: String, _ extra: [String]) throws -> ScratchDir {
    let dir = try ScratchDir(name)
    let file = try dir.writeLines("region.ndjson", Fixture.lines + extra)
    let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
    #expect(r.status == 0, "\(r)")
    let built = try runTrellis(["projections", "digest", "--db", dir.ledgerPath])
    #expect(built.status == 0, "\(built)")
    return dir
}

/// Runs `text` with the sqlite3 shell on the file `db`, expecting it to succeed.
func sql(_ db: String, _ text: String) throws {
    let r = try sqlite3(db, text)
    #expect(r.status == 0, "\(r)")
}
