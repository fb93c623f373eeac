import ArgumentParser
import Foundation
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

/// A mistyped subcommand, caught before argument parsing: `trellis report participaton
/// --db x` would otherwise be reported as "Unknown option '--db'" (the parser reads the typo
/// as an argument of `report`, which has no `--db`).
enum CommandTypos {
    /// The message for the first word of `arguments` that should name a subcommand and
    /// names none; nil when every such word is a subcommand.
    static func check(_ arguments: [String], root: ParsableCommand.Type = Trellis.self) -> String? {
        var command: ParsableCommand.Type = root
        var path: [String] = []
        for word in arguments {
            if word.hasPrefix("-") || word == "help" { return nil }
            let configuration = command.configuration
            if configuration.subcommands.isEmpty { return nil }
            var names: [String] = []
            var next: ParsableCommand.Type?
            for sub in configuration.subcommands {
                let name = sub._commandName
                names.append(name)
                if name == word || sub.configuration.aliases.contains(word) { next = sub }
            }
            if let next {
                command = next
                path.append(word)
                continue
            }
            if configuration.defaultSubcommand != nil { return nil }
            return message(word: word, path: path, names: names)
        }
        return nil
    }

    /// "unknown report 'participaton'; did you mean 'participation'? (see …)".
    static func message(word: String, path: [String], names: [String]) -> String {
        let what: String
        if path.last == "report" { what = "report" } else if path.isEmpty { what = "command" } else { what = "'" + path.joined(separator: " ") + "' command" }
        let typed = word.lowercased()
        var best: String?
        var bestDistance = Int.max
        for name in names {
            let d = OrganisationMatcher.editDistance(name, typed)
            let close = d <= max(2, name.count / 3) || (typed.count >= 3 && name.hasPrefix(typed))
            if close && d < bestDistance {
                best = name
                bestDistance = d
            }
        }
        var text = "unknown \(what) '\(word)'"
        if let best {
            text += "; did you mean '\(best)'?"
        } else {
            text += "; one of " + names.joined(separator: ", ")
        }
        return text + " (see trellis " + (path + ["--help"]).joined(separator: " ") + ")"
    }
}

/// The width text tables are laid out for.
enum Terminal {
    /// Standard output's terminal width when it is a terminal (TIOCGWINSZ), else `$COLUMNS`,
    /// else 80; kept within 40…1000.
    static func columns() -> Int {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return clamp(Int(size.ws_col))
        }
        if let env = getenv("COLUMNS"), let s = String(validatingCString: env), let n = Int(s), n > 0 {
            return clamp(n)
        }
        return 80
    }

    private static func clamp(_ n: Int) -> Int { min(1000, max(40, n)) }
}

/// The one-line warnings a report adds when what was asked for lies where nothing is
/// recorded (stderr, and `"warnings"` in JSON); the figures themselves are unchanged.
enum ReportWarnings {
    /// `period` (explicit, nil for the default) or `day` lying wholly before the first or
    /// after the last event's `occurred_at` day.
    static func outside(ledger: Ledger, period: Period?, day: Int?) throws -> [String] {
        guard period != nil || day != nil else { return [] }
        let status = try Failure.guarded { try ledger.status() }
        guard let first = status.firstOccurredAt.flatMap({ Timestamp.parseDate(String($0.prefix(10))) }),
              let last = status.lastOccurredAt.flatMap({ Timestamp.parseDate(String($0.prefix(10))) }) else {
            return ["the ledger holds no events: every figure is empty"]
        }
        let span = "\(Timestamp.dateText(days: first)) to \(Timestamp.dateText(days: last))"
        var out: [String] = []
        if let period {
            let shown = "\(period.fromText) to \(period.lastDayText)"
            if period.to <= first {
                out.append("the period \(shown) ends before the ledger's first event (events occurred \(span)): every figure is empty")
            } else if period.from > last {
                out.append("the period \(shown) starts after the ledger's last event (events occurred \(span)): every figure is empty")
            }
        }
        if let day, day < first || day > last {
            out.append("the day \(Timestamp.dateText(days: day)) lies outside the ledger's events (they occurred \(span))")
        }
        return out
    }
}

/// Command lines to suggest to the user that work from where they are.
enum Here {
    /// This executable, as the shortest working way to type it: `trellis` when that is what
    /// `$PATH` finds, else the path it was started by, else its path relative to the
    /// working directory when shorter, else absolute.
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "trellis" }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let path = getenv("PATH").flatMap({ String(validatingCString: $0) }) {
            for dir in path.split(separator: ":") where !dir.isEmpty {
                if resolved(String(dir) + "/trellis") == exe { return "trellis" }
            }
        }
        // As the user typed it (`.build/debug/trellis`, through its symlink), when that is this file.
        if let typed = CommandLine.arguments.first, typed.contains("/"), resolved(typed) == exe { return typed }
        return relative(exe)
    }

    /// The renderer script next to the executable's checkout, if there is one.
    static func renderer() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        var parts = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false)
        // <checkout>/.build/<config>/trellis, or <checkout>/.build/<triple>/<config>/trellis
        while let last = parts.popLast(), last != ".build" { if parts.isEmpty { return nil } }
        let script = parts.joined(separator: "/") + "/tools/render-report.sh"
        return access(script, X_OK) == 0 ? relative(script) : nil
    }

    /// `path` relative to the working directory when that is shorter.
    static func relative(_ path: String) -> String {
        guard let cwdPointer = getcwd(nil, 0) else { return path }
        let cwd = String(cString: cwdPointer)
        free(cwdPointer)
        let a = path.split(separator: "/"), b = cwd.split(separator: "/")
        var common = 0
        while common < a.count, common < b.count, a[common] == b[common] { common += 1 }
        let up = Array(repeating: "..", count: b.count - common)
        var rel = (up + a[common...].map(String.init)).joined(separator: "/")
        if up.isEmpty { rel = "./" + rel }
        return rel.count < path.count ? rel : path
    }

    private static func resolved(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

/// An organisation named on the command line by id or by name (``OrganisationMatcher``);
/// unknown or ambiguous is a usage error (exit 64), as for `report --org`.
enum OrganisationArgument {
    static func resolve(_ text: String, in ledger: Ledger) throws -> String {
        if try Failure.guarded({ try ledger.knows(.organisation, text) }) { return text }
        return try ReportRun.guarded {
            let engine = try ProjectionEngine(ledger: ledger)
            let bar = ProgressBar("catching up the read models")
            defer { bar.finish() }
            try engine.catchUp { bar.update($0, of: $1, unit: "events") }
            let matcher = try ledger.database.read { db in try ReportScope.organisationMatcher(db) }
            return try ReportScope.resolveOrganisation(text, matcher)
        }
    }
}

/// For work that reports no progress of its own (computing a report's figures: betweenness
/// on a large graph takes seconds): after a second, "label… 3 s" on stderr, redrawn every
/// half second until the work ends; only when stderr is a terminal (as ``ProgressBar``).
final class Ticker: @unchecked Sendable {
    private let label: String
    private let condition = NSCondition()
    private var stopped = false
    private var drawn = false

    private init(_ label: String) { self.label = label }

    static func run<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        guard Console.stderrIsTTY, getenv("CI") == nil else { return try body() }
        let ticker = Ticker(label)
        let worker = try? Pipeline.Worker { ticker.loop() }
        defer {
            ticker.stop()
            worker?.join()
            ticker.clear()
        }
        return try body()
    }

    private func loop() {
        let start = Timestamp.monotonic()
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.5))
            let elapsed = Timestamp.monotonic() - start
            if !stopped, elapsed > 1 {
                var sink = Sink(fd: 2)
                sink.write(raw: "\r\(label)… \(Int(elapsed)) s\u{1B}[K")  // our own label
                sink.flush()
                drawn = true
            }
        }
    }

    private func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func clear() {
        guard drawn else { return }
        var sink = Sink(fd: 2)
        sink.write(raw: "\r\u{1B}[K")
        sink.flush()
    }
}
