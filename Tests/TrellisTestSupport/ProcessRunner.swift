import Foundation

// One way for every test target to run a program: the real `trellis` binary (found next to
// the test bundle), python3, sqlite3, lz4… stdout and stderr are drained at the same time on
// two threads, so a child that fills one pipe while we wait on the other never deadlocks,
// and every run has a timeout after which the child is killed.

/// What a finished process left behind.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdoutData: Data
    public var stderrData: Data
    /// The child was killed because it outlived its timeout.
    public var timedOut: Bool

    public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    /// Non-empty lines of stdout / stderr.
    public var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    public var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    public var description: String {
        (timedOut ? "TIMED OUT, killed\n" : "") + "exit \(status)\n--- stdout\n\(stdout.prefix(4000))\n--- stderr\n\(stderr.prefix(4000))"
    }
}

/// Where a child's standard input comes from.
public enum ChildInput {
    /// /dev/null.
    case none
    /// These bytes (from a temporary file, so the child sees them all and then end of file).
    case data(Data)
    /// A file.
    case file(String)
    /// A pipe the test writes to (and closes) itself.
    case pipe(Pipe)

    public static func text(_ s: String) -> ChildInput { .data(Data(s.utf8)) }
}

public struct SupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Bytes collected by a reader thread.
private final class Sink: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A started child process; `finish` waits for it (at most `timeout`) and collects its output.
public final class RunningProcess: @unchecked Sendable {
    public let process: Process
    public let timeout: TimeInterval
    private let exited = DispatchSemaphore(value: 0)
    private let drained = DispatchGroup()
    private let out = Sink(), err = Sink()
    private let stdinFile: URL?
    private let lock = NSLock()
    private var result: ProcessResult?

    public init(executable: String, arguments: [String], stdin: ChildInput = .none,
                environment: [String: String?] = [:], cwd: String? = nil, timeout: TimeInterval = 600) throws {
        self.timeout = timeout
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var env = ProcessInfo.processInfo.environment
        env["TRELLIS_DB"] = nil
        for (k, v) in environment { env[k] = v }
        var arguments = arguments
        if TestStore.isPostgreSQL, let trellis = try? Trellis.path() {
            if executable == trellis {
                try TestStore.mapToPostgreSQL(&arguments, environment: &env, cwd: cwd)
            } else if executable == "/usr/bin/env", let k = arguments.firstIndex(of: trellis) {
                // `env VAR=… trellis …`: its own arguments.
                var own = Array(arguments[(k + 1)...])
                try TestStore.mapToPostgreSQL(&own, environment: &env, cwd: cwd)
                arguments = Array(arguments[...k]) + own
            }
        }
        process.environment = env
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var tempInput: URL?
        switch stdin {
        case .none:
            process.standardInput = FileHandle.nullDevice
        case .data(let d):
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-stdin-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: url.path, contents: d) else { throw SupportError("cannot write \(url.path)") }
            tempInput = url
            process.standardInput = try FileHandle(forReadingFrom: url)
        case .file(let path):
            guard let h = FileHandle(forReadingAtPath: path) else { throw SupportError("cannot read \(path)") }
            process.standardInput = h
        case .pipe(let p):
            process.standardInput = p
        }
        stdinFile = tempInput
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        for (pipe, sink) in [(outPipe, out), (errPipe, err)] {
            let handle = pipe.fileHandleForReading
            drained.enter()
            Thread.detachNewThread { [drained] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    sink.append(chunk)
                }
                drained.leave()
            }
        }
    }

    /// What the child has written to stdout so far (it may still be running).
    public func stdoutSoFar() -> String { String(decoding: out.get(), as: UTF8.self) }

    /// Waits for the child (killing it after `timeout`) and for both pipes to be drained.
    public func finish() -> ProcessResult {
        lock.lock(); defer { lock.unlock() }
        if let result { return result }
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        process.waitUntilExit()
        // A grandchild may still hold a pipe open: do not wait on it for ever.
        _ = drained.wait(timeout: .now() + 30)
        if let stdinFile { try? FileManager.default.removeItem(at: stdinFile) }
        let r = ProcessResult(status: process.terminationStatus, stdoutData: out.get(), stderrData: err.get(), timedOut: timedOut)
        result = r
        return r
    }
}

/// Runs a program to completion. `executable` is a path, or a name looked up on PATH.
public func runProcess(_ executable: String, _ args: [String], stdin: ChildInput = .none,
                       env: [String: String?] = [:], cwd: String? = nil, timeout: TimeInterval = 600) throws -> ProcessResult {
    let (exe, argv) = executable.contains("/") ? (executable, args) : ("/usr/bin/env", [executable] + args)
    return try RunningProcess(executable: exe, arguments: argv, stdin: stdin, environment: env, cwd: cwd, timeout: timeout).finish()
}

/// Runs a tool found on PATH (python3, sqlite3, lz4…).
public func runTool(_ name: String, _ args: [String], stdin: ChildInput = .none,
                    env: [String: String?] = [:], cwd: String? = nil, timeout: TimeInterval = 600) throws -> ProcessResult {
    try runProcess("/usr/bin/env", [name] + args, stdin: stdin, env: env, cwd: cwd, timeout: timeout)
}

/// The programs this package builds, found where the build put the test bundle.
public enum BuiltProducts {
    /// The directory holding the built products: $TRELLIS_BIN's directory if set, else the
    /// directory of the running test bundle (`swift test` runs `<build>/<Package>PackageTests.xctest`,
    /// next to `trellis`; on macOS the bundle's executable is a few levels further in).
    public static func path(of name: String) throws -> String {
        let fm = FileManager.default
        if name == "trellis", let override = ProcessInfo.processInfo.environment["TRELLIS_BIN"], !override.isEmpty {
            guard fm.isExecutableFile(atPath: override) else { throw SupportError("TRELLIS_BIN=\(override) is not an executable file") }
            return override
        }
        var starts: [URL] = []
        if let arg0 = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: arg0).resolvingSymlinksInPath()) }
        starts.append(Bundle.main.bundleURL)
        if let exe = Bundle.main.executableURL { starts.append(exe) }
        starts += Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }
        var tried: [String] = []
        for start in starts {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent(name).path
                if fm.isExecutableFile(atPath: candidate), !fm.fileExists(atPath: candidate + "/Contents") {
                    var isDir: ObjCBool = false
                    if fm.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue { return candidate }
                }
                tried.append(dir.path)
                dir = dir.deletingLastPathComponent()
            }
        }
        throw SupportError("no built \(name) next to the test bundle (looked in \(Set(tried).sorted().joined(separator: ", "))): run `swift build`, or set TRELLIS_BIN")
    }
}

/// The real `trellis` binary.
public enum Trellis {
    private static let located: Result<String, SupportError> = {
        do { return .success(try BuiltProducts.path(of: "trellis")) } catch let e as SupportError { return .failure(e) } catch {
            return .failure(SupportError("\(error)"))
        }
    }()

    /// Its path (the built product; $TRELLIS_BIN overrides).
    public static func path() throws -> String { try located.get() }

    /// Starts it without waiting.
    public static func launch(_ args: [String], stdin: ChildInput = .none, env: [String: String?] = [:],
                              cwd: String? = nil, timeout: TimeInterval = 600) throws -> RunningProcess {
        try RunningProcess(executable: try path(), arguments: args, stdin: stdin, environment: env, cwd: cwd, timeout: timeout)
    }

    /// Runs it to completion.
    public static func run(_ args: [String], stdin: ChildInput = .none, env: [String: String?] = [:],
                           cwd: String? = nil, timeout: TimeInterval = 600) throws -> ProcessResult {
        try launch(args, stdin: stdin, env: env, cwd: cwd, timeout: timeout).finish()
    }
}
