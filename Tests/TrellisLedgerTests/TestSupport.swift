import Foundation
import Testing
import TrellisLedger

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

struct SupportError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

// MARK: - Running processes

/// What a finished process left behind.
struct ProcessResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

    /// Non-empty lines of stdout.
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

/// A started process whose output goes to files (no pipes, so a chatty process never blocks).
final class RunningProcess: @unchecked Sendable {
    let process: Process
    let ioDir: URL
    let outURL: URL
    let errURL: URL

    init(executable: String, arguments: [String], stdin: Data?, stdinFile: String?,
         environment: [String: String], cwd: URL?, stdinPipe: Pipe? = nil) throws {
        ioDir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: ioDir, withIntermediateDirectories: true)
        outURL = ioDir.appendingPathComponent("stdout")
        errURL = ioDir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let cwd { process.currentDirectoryURL = cwd }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        if let stdinPipe {
            process.standardInput = stdinPipe
        } else if let stdinFile {
            process.standardInput = FileHandle(forReadingAtPath: stdinFile)
        } else if let stdin {
            let inURL = ioDir.appendingPathComponent("stdin")
            _ = FileManager.default.createFile(atPath: inURL.path, contents: stdin)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
    }

    func finish() -> ProcessResult {
        process.waitUntilExit()
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        try? FileManager.default.removeItem(at: ioDir)
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: out, as: UTF8.self),
                             stderr: String(decoding: err, as: UTF8.self))
    }
}

enum TestPaths {
    /// The package root: this file is at Tests/TrellisLedgerTests/TestSupport.swift.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `trellis` binary that `swift build` / `swift test` produce.
    static let trellis: String = packageRoot.appendingPathComponent(".build/debug/trellis").path
}

/// The environment a child process gets: ours, minus TRELLIS_DB and CI noise, plus `extra`.
func childEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["TRELLIS_DB"] = nil
    for (k, v) in extra { env[k] = v }
    return env
}

/// Starts the real `trellis` binary without waiting for it.
func launchTrellis(_ args: [String], stdin: Data? = nil, stdinFile: String? = nil, stdinPipe: Pipe? = nil,
                   env: [String: String] = [:], cwd: URL? = nil) throws -> RunningProcess {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.trellis) else {
        throw SupportError("no trellis binary at \(TestPaths.trellis): run `swift build` first")
    }
    return try RunningProcess(executable: TestPaths.trellis, arguments: args, stdin: stdin, stdinFile: stdinFile,
                              environment: childEnvironment(env), cwd: cwd, stdinPipe: stdinPipe)
}

/// Runs the real `trellis` binary to completion: (status, stdout, stderr).
func runTrellis(_ args: [String], stdin: Data? = nil, stdinFile: String? = nil,
                env: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
    try launchTrellis(args, stdin: stdin, stdinFile: stdinFile, env: env, cwd: cwd).finish()
}

func runTrellis(_ args: [String], stdin: String, env: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
    try runTrellis(args, stdin: Data(stdin.utf8), env: env, cwd: cwd)
}

/// Runs another tool (sqlite3, python3) found on PATH.
func runTool(_ name: String, _ args: [String], stdin: Data? = nil) throws -> ProcessResult {
    let path = ["/usr/bin", "/usr/local/bin", "/bin"].map { $0 + "/" + name }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    if let path {
        return try RunningProcess(executable: path, arguments: args, stdin: stdin, stdinFile: nil,
                                  environment: childEnvironment([:]), cwd: nil).finish()
    }
    return try RunningProcess(executable: "/usr/bin/env", arguments: [name] + args, stdin: stdin, stdinFile: nil,
                              environment: childEnvironment([:]), cwd: nil).finish()
}

/// `sqlite3 FILE SQL`.
func sqlite3(_ file: String, _ sql: String) throws -> ProcessResult {
    try runTool("sqlite3", [file, sql])
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
