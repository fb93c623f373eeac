import Foundation
import TrellisLedger
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

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
