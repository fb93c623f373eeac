import Foundation
import Testing
import TrellisLedger
@testable import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// Input that cannot hurt: lines too long to hold, control characters on the terminal, key
/// files that are not keys, temporary files left by an interrupted command. Through the real
/// binary, with real files, pipes and signals.
@Suite struct InputHardeningTests {
    // MARK: Long lines

    /// A 1 GiB line without a newline, streamed through a pipe by `head | tr` (never in this
    /// process's memory), into the real binary: refused at once, naming line 1, in bounded
    /// memory. Before, it was read whole (3.1 GB RSS, over two minutes).
    @Test func aGibibyteLineOnAPipeIsRefusedAtOnceInBoundedMemory() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        let r = try measuredPipeline(producer: "head -c 1073741824 /dev/zero | tr '\\000' a",
                                     trellis: ["import", "--db", dir.ledgerPath, "-"], dir: dir)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("stdin: line 1: longer than 1 MiB"), "\(r)")
        #expect(r.maxRSSBytes < 100 << 20, "peak RSS \(r.maxRSSBytes >> 20) MiB")
        #expect(r.seconds < 20, "took \(r.seconds) s")
        #expect(try eventCount(dir.ledgerPath) == 0)
    }

    @Test func aGibibyteLineGivenToAppendOnStdinIsRefusedAtOnceInBoundedMemory() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        let r = try measuredPipeline(producer: "head -c 1073741824 /dev/zero | tr '\\000' a",
                                     trellis: ["append", "--db", dir.ledgerPath], dir: dir)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("stdin: line 1: longer than 1 MiB"), "\(r)")
        #expect(r.maxRSSBytes < 100 << 20, "peak RSS \(r.maxRSSBytes >> 20) MiB")
        #expect(r.seconds < 20, "took \(r.seconds) s")
    }

    /// The same from a file: a sparse 1 GiB file (no disk used) is one line of zero bytes.
    @Test func aGibibyteLineInAFileIsRefusedAtOnceInBoundedMemory() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        let big = dir.file("big.ndjson")
        let fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, 1 << 30) == 0)
        close(fd)
        let r = try measuredPipeline(producer: nil, trellis: ["import", "--db", dir.ledgerPath, big], dir: dir)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("\(big): line 1: longer than 1 MiB"), "\(r)")
        #expect(r.maxRSSBytes < 100 << 20, "peak RSS \(r.maxRSSBytes >> 20) MiB")
        #expect(r.seconds < 20, "took \(r.seconds) s")
    }

    /// A long line after good ones is named by its number, and nothing is appended.
    @Test func aLongLineAfterGoodOnesIsNamedAndNothingIsAppended() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        let long = #"{"type":"OrganisationRegistered","occurred_at":"2025-08-02","data":{"org_id":"x","name":""# + String(repeating: "x", count: 3 << 20) + "\"}}"
        let file = try dir.writeLines("long.ndjson", Array(Fixture.lines.prefix(3)) + [long] + Array(Fixture.lines.dropFirst(3)))
        let r = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("line 4: longer than 1 MiB"), "\(r)")
        #expect(try eventCount(dir.ledgerPath) == 0)
        // A line just under the limit is read (and refused by the decoder as an event, not as a line).
        let reader = try LineReader(path: try dir.write("edge.txt", String(repeating: "y", count: 1 << 20) + "\r\nz\n"))
        defer { reader.close() }
        var lengths: [Int] = []
        try reader.forEachLine { line, _, _ in lengths.append(line.count); return true }
        #expect(lengths == [1 << 20, 1])
    }

    // MARK: Control characters on the terminal

    /// Names, actors and reasons holding ESC, BEL, CR, C1 CSI, a right-to-left override and a
    /// line separator are shown escaped by `log`, `audit` and error messages; JSON keeps them exact.
    @Test func controlCharactersAreNeutralisedInTextAndExactInJSON() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        let evil = "Evil\u{1B}[2J\u{07}\rTrust\u{9B}31m\u{202E}gpj.exe\u{2028}x"
        let lines = Fixture.lines + [
            envelope("OrganisationUpdated", id: "evil-name", at: "2025-09-20", actor: "clerk\u{1B}]0;pwned\u{07}", ["org_id": "oak", "name": .string(evil)]),
            envelope("MemberLeft", id: "evil-leave", at: "2025-09-21", ["network_id": "npn", "org_id": "oak", "reason": .string("moved\u{1B}[31m\nseq 99 forged")]),
        ]
        let file = try dir.writeLines("evil.ndjson", lines)
        let imported = try runTrellis(["import", "--db", dir.ledgerPath, file])
        #expect(imported.status == 0, "\(imported)")

        func assertNeutral(_ text: String, _ what: String) {
            for bad: Unicode.Scalar in ["\u{1B}", "\u{07}", "\r", "\u{9B}", "\u{202E}", "\u{2028}"] {
                #expect(!text.unicodeScalars.contains(bad), "\(what) holds U+\(String(bad.value, radix: 16))")
            }
        }
        let log = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "table"])
        #expect(log.status == 0, "\(log)")
        assertNeutral(log.stdout, "log")
        #expect(log.stdout.contains(#"Evil\x1b[2J\x07\x0dTrust\x9b31m\u202egpj.exe\u2028x"#), "\(log.stdout)")
        #expect(!log.stdout.contains("\nseq 99 forged"), "a reason's line break must not start a row")

        for format in ["table", "md"] {
            let audit = try runTrellis(["audit", "--db", dir.ledgerPath, "oak", "--format", format])
            #expect(audit.status == 0, "\(audit)")
            assertNeutral(audit.stdout, "audit --format \(format)")
            #expect(audit.stdout.contains(#"clerk\x1b]0;pwned\x07"#), "\(audit.stdout)")
        }

        // JSON keeps the exact text (escaped), NDJSON the recorded bytes.
        let json = try runTrellis(["audit", "--db", dir.ledgerPath, "oak", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        assertNeutral(json.stdout, "audit --format json")
        let events = try #require(try parseJSONObject(json.stdout)["events"] as? [[String: Any]])
        #expect(events.contains { $0["actor"] as? String == "clerk\u{1B}]0;pwned\u{07}" })
        let ndjson = try runTrellis(["log", "--db", dir.ledgerPath, "--format", "ndjson"])
        let names = try parseNDJSON(ndjson.stdout).compactMap { ($0["data"] as? [String: Any])?["name"] as? String }
        #expect(names.contains(evil))

        // An error message echoing the input: the type is shown escaped.
        let bad = try dir.writeLines("bad.ndjson", [envelope("Evil\u{1B}[31mType\u{202E}", ["org_id": "x"])])
        let refused = try runTrellis(["import", "--db", dir.ledgerPath, bad])
        #expect(refused.status == 65, "\(refused)")
        assertNeutral(refused.stderr, "the error message")
        #expect(refused.stderr.contains(#"Evil\x1b[31mType\u202e"#), "\(refused)")
    }

    @Test func terminalTextEscapesExactlyTheControls() {
        #expect(TerminalText.neutralised("plain café – ok") == "plain café – ok")
        #expect(TerminalText.neutralised("a\u{1B}[0m\u{7F}\u{85}b") == #"a\x1b[0m\x7f\x85b"#)
        #expect(TerminalText.neutralised("l1\nl2\tx") == #"l1\x0al2\x09x"#)
        #expect(TerminalText.neutralised("l1\nl2\tx\r", keepingLineBreaks: true) == "l1\nl2\tx\\x0d")
        #expect(TerminalText.neutralised("\u{202A}\u{202E}\u{2066}\u{2069}\u{200F}\u{061C}\u{2029}")
                == #"\u202a\u202e\u2066\u2069\u200f\u061c\u2029"#)
        // The JSON renderer escapes the same characters, so its output is terminal-safe and exact.
        let value = JSONValue.string("x\u{1B}\u{9B}\u{202E}\u{2028}é")
        #expect(value.rendered() == #""x\u001b\u009b\u202e\u2028é""#)
        #expect((try? JSONParser.parse(value.rendered())) == value)
    }

    // MARK: Key files

    @Test func keyFilesAreReadBoundedAndWeakOrOddOnesAreRefused() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        try importFixtureWithCLI(in: dir)
        func export(_ key: String) throws -> ProcessResult {
            try runTrellis(["export", "--db", dir.ledgerPath, "--out", dir.file("p.lz4"), "--pseudonymise", "--key", key, "--force"])
        }
        // /dev/zero used to be taken as a key; a FIFO blocked on open: killed after 20 s if so.
        func exportOrKill(_ key: String) throws -> ProcessResult {
            let p = try launchTrellis(["export", "--db", dir.ledgerPath, "--out", dir.file("p.lz4"), "--pseudonymise", "--key", key, "--force"])
            if !waitFor(seconds: 20, { !p.process.isRunning }) { kill(p.process.processIdentifier, SIGKILL) }
            return p.finish()
        }
        let zero = try exportOrKill("/dev/zero")
        #expect(zero.status == 64 && zero.stderr.contains("is a character device, not a regular file"), "\(zero)")
        let fifo = dir.file("key.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let piped = try exportOrKill(fifo)
        #expect(piped.status == 64 && piped.stderr.contains("a FIFO"), "\(piped)")

        let cases: [(String, [UInt8], String)] = [
            ("short.key", Array(repeating: 0x61, count: 16), "holds 16 bytes; a key is exactly 32 bytes"),
            ("same.key", Array(repeating: 0x61, count: 32), "weak key: every byte is the same"),
            ("pattern.key", (0..<32).map { UInt8($0 % 4) }, "only 4 different byte values"),
            ("text.key", Array("correct horse battery staple 123".utf8), "32 characters of text"),
            ("newline.key", (0..<32).map { UInt8($0 * 7 + 1) } + [0x0A], "holds 33 bytes"),
            ("huge.key", Array(repeating: 0x41, count: 5000), "more than 4096 bytes"),
            ("badhex.key", Array((String(repeating: "0f", count: 31) + "zz\n").utf8), "holds 65 bytes"),
        ]
        for (name, bytes, message) in cases {
            let r = try export(try dir.write(name, Data(bytes)))
            #expect(r.status == 64 && r.stderr.contains(message), "\(name): \(r)")
        }
        #expect(try export(dir.file("absent.key")).status == 66)
        #expect(!FileManager.default.fileExists(atPath: dir.file("p.lz4")))

        // Raw 32 bytes and the same key as 64 hex digits and a newline: one key, one fingerprint.
        let raw: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) % 256) }
        let hex = raw.map { String(format: "%02x", $0) }.joined()
        #expect(try KeyFile.read(path: try dir.write("raw.key", Data(raw))) == raw)
        #expect(try KeyFile.read(path: try dir.write("hex.key", hex + "\n")) == raw)
        #expect(try KeyFile.read(path: try dir.write("HEX.key", hex.uppercased())) == raw)
        let a = try export(dir.file("raw.key"))
        #expect(a.status == 0, "\(a)")
        let b = try export(dir.file("hex.key"))
        #expect(b.status == 0, "\(b)")
        let urandom = try runTool("sh", ["-c", "head -c 32 /dev/urandom > '\(dir.file("random.key"))'"])
        #expect(urandom.status == 0)
        #expect(try export(dir.file("random.key")).status == 0)
    }

    // MARK: Temporary files

    /// SIGTERM (and SIGINT) in the middle of an export: the `.partial-<pid>` file is removed,
    /// no archive appears, and the process ends by the signal.
    @Test(arguments: [SIGTERM, SIGINT])
    func anInterruptedExportLeavesNoPartialFile(signal: Int32) throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        try generatedLedger(dir)
        let out = dir.file("region.lz4")
        let p = try launchTrellis(["export", "--db", dir.ledgerPath, "--out", out, "--hc"])
        let partial = out + ".partial-\(p.process.processIdentifier)"
        #expect(waitFor { FileManager.default.fileExists(atPath: partial) || !p.process.isRunning },
                "no partial file appeared")
        #expect(p.process.isRunning, "the export ended before it could be interrupted: make the region bigger")
        kill(p.process.processIdentifier, signal)
        let r = p.finish()
        #expect(p.process.terminationReason == .uncaughtSignal && r.status == signal, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: partial))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial-") } == [])
    }

    /// A `.partial-<pid>` of a process that is gone is removed by the next export (or replay)
    /// of the same file; one of a live process is left alone.
    @Test func aStalePartialFileIsRemovedByTheNextExport() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        try importFixtureWithCLI(in: dir)
        let out = dir.file("fixture.lz4")
        try dir.write("fixture.lz4.partial-99999999", "left by a killed export")
        try dir.write("fixture.lz4.partial-99999999-journal", "and its journal")
        try dir.write("fixture.lz4.partial-1", "pid 1 is alive")
        try dir.write("other.lz4.partial-99999999", "another output's")
        let r = try runTrellis(["export", "--db", dir.ledgerPath, "--out", out])
        #expect(r.status == 0, "\(r)")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial-") })
        #expect(left == ["fixture.lz4.partial-1", "other.lz4.partial-99999999"])

        // The same for a study file and its SQLite companions.
        try dir.write("study.db.partial-99999999", "left by a killed replay")
        try dir.write("study.db.partial-99999999-wal", "and its WAL")
        let replay = try runTrellis(["replay", out, "--out", dir.file("study.db")])
        #expect(replay.status == 0, "\(replay)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("study.db.partial-") } == [])
    }

    /// SIGINT while a time-travel report builds its snapshot: no `trellis-snapshot-*` remains;
    /// and a stale snapshot of a dead process, older than an hour, is removed by the next one.
    @Test func anInterruptedTimeTravelReportLeavesNoSnapshotAndStaleOnesAreRemoved() throws {
        let dir = try ScratchDir("hardening")
        defer { dir.remove() }
        try generatedLedger(dir)
        let tmp = dir.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        func snapshots() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("trellis-snapshot-") }.sorted()
        }
        let p = try launchTrellis(["report", "participation", "--db", dir.ledgerPath, "--known-at", "2100-01-01", "--format", "json"],
                                  env: ["TMPDIR": tmp])
        #expect(waitFor { !snapshots().isEmpty || !p.process.isRunning }, "no snapshot appeared")
        #expect(p.process.isRunning, "the report ended before it could be interrupted: make the region bigger")
        kill(p.process.processIdentifier, SIGINT)
        let r = p.finish()
        #expect(p.process.terminationReason == .uncaughtSignal && r.status == SIGINT, "\(r)")
        #expect(snapshots() == [])

        // Stale: dead pid and two hours old. Kept: a live pid (ours), or a dead one that is recent.
        let old = Date().addingTimeInterval(-7200)
        for name in ["trellis-snapshot-99999999-abcdef", "trellis-snapshot-99999999-abcdef-journal",
                     "trellis-snapshot-\(getpid())-ghijkl", "trellis-snapshot-99999998-mnopqr"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: tmp + "/" + name))
            if name != "trellis-snapshot-99999998-mnopqr" {
                try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: tmp + "/" + name)
            }
        }
        let again = try runTrellis(["report", "participation", "--db", dir.ledgerPath, "--known-at", "2100-01-01", "--format", "json"],
                                   env: ["TMPDIR": tmp])
        #expect(again.status == 0, "\(again)")
        #expect(snapshots() == ["trellis-snapshot-\(getpid())-ghijkl", "trellis-snapshot-99999998-mnopqr"])
    }

    // MARK: Support

    struct Measured: CustomStringConvertible {
        var status: Int32
        var maxRSSBytes: Int
        var seconds: Double
        var stderr: String
        var description: String { "exit \(status), peak RSS \(maxRSSBytes >> 20) MiB, \(seconds) s\n--- stderr\n\(stderr)" }
    }

    /// Runs `producer | trellis ARGS` (or `trellis ARGS` alone) in `sh`, in its own process
    /// group, killed after two minutes; the trellis binary's peak RSS is measured by GNU time
    /// (its own fork, so the figure is the binary's alone: `wait4` on a child spawned from this
    /// big test process would count this process's memory, shared until exec).
    func measuredPipeline(producer: String?, trellis args: [String], dir: ScratchDir) throws -> Measured {
        let time = "/usr/bin/time"
        try #require(FileManager.default.isExecutableFile(atPath: time), "GNU time is needed to measure the peak RSS")
        let rssPath = dir.file("measured.rss")
        let quoted = ([time, "-o", rssPath, "-f", "%M"] + (try TestStore.commandWords(args)))
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let errPath = dir.file("measured.stderr")
        let script = (producer.map { $0 + " | " } ?? "") + quoted + " 2>'\(errPath)' >/dev/null"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { (s: String) in strdup(s) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = childEnvironment([:]).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let started = Date()
        let rc = posix_spawn(&pid, "/bin/sh", nil, &attributes, argv, envp)
        guard rc == 0 else { throw SupportError("posix_spawn: \(rc)") }
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw SupportError("wait4: \(errno)") }
            if Date().timeIntervalSince(started) > 120 {
                kill(-pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                break
            }
            usleep(20_000)
        }
        let seconds = Date().timeIntervalSince(started)
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let rss = (try? String(contentsOfFile: rssPath, encoding: .utf8))?.split(separator: "\n").last.flatMap { Int($0) }
        return Measured(status: exit, maxRSSBytes: (rss ?? Int.max / 2048) * 1024, seconds: seconds, stderr: stderr)
    }

    /// A generated region big enough that an export with `--hc` or a snapshot takes a while.
    func generatedLedger(_ dir: ScratchDir) throws {
        let g = try runTrellis(["generate", "--networks", "6", "--orgs", "400", "--years", "3", "--seed", "9"])
        #expect(g.status == 0, "\(g)")
        let gen = try dir.write("region.ndjson", g.stdout)
        let r = try runTrellis(["import", "--db", dir.ledgerPath, gen])
        #expect(r.status == 0, "\(r)")
    }

    func waitFor(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return false
    }

    func eventCount(_ db: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: db) else { return 0 }
        let r = try runTrellis(["status", "--db", db, "--format", "json"])
        return try parseJSONObject(r.stdout)["events"] as? Int ?? -1
    }
}
