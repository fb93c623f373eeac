import TrellisCore
#if canImport(Glibc)
import Glibc
#endif
import TrellisLedger

/// Buffered writes to a file descriptor, without Foundation and without the global `stdout`
/// (which Swift 6 strict concurrency rejects).
///
/// The one place human text reaches the terminal: ``write(_:)`` shows control characters
/// (ESC, BEL, CR, C1, bidi overrides, …) as visible escapes (``TerminalText``), keeping line
/// breaks; so does every `Console` message. Machine formats whose bytes must stay exact
/// (NDJSON, CSV, GraphML, HTML) go through ``write(bytes:)`` / ``write(raw:)``.
struct Sink {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 20)
    }

    /// Human text: control characters neutralised.
    mutating func write(_ s: String) {
        write(raw: TerminalText.neutralised(s, keepingLineBreaks: true))
    }

    /// Text written exactly as given (a machine format).
    mutating func write(raw s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func line(_ s: String = "") { write(s); buffer.append(0x0A) }

    mutating func flush() {
        buffer.withUnsafeBytes { Self.writeAll(fd: fd, $0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte of `p` to `fd` (a closed pipe or a full disk ends it, as for the buffer).
    static func writeAll(fd: Int32, _ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress else { return }
        var off = 0
        while off < p.count {
            let n = Glibc.write(fd, base + off, p.count - off)
            if n <= 0 { if errno == EINTR { continue }; break }
            off += n
        }
    }
}

enum Console {
    static func out(_ s: String) {
        var sink = Sink(fd: 1)
        sink.line(s)
        sink.flush()
    }

    static func err(_ s: String) {
        var sink = Sink(fd: 2)
        sink.line(s)
        sink.flush()
    }

    static var stdoutIsTTY: Bool { isatty(1) != 0 }
    static var stderrIsTTY: Bool { isatty(2) != 0 }
}

/// A progress bar on stderr, drawn only when stderr is a terminal and the work has taken
/// more than a second; never in pipes or CI.
final class ProgressBar {
    private let label: String
    private let start = Timestamp.monotonic()
    private var lastDraw = 0.0
    private var drawn = false
    private let enabled: Bool

    init(_ label: String) {
        self.label = label
        enabled = Console.stderrIsTTY && getenv("CI") == nil
    }

    /// `done` of `total` units (total nil when unknown).
    func update(_ done: Int64, of total: Int64?, unit: String) {
        guard enabled else { return }
        let now = Timestamp.monotonic()
        guard now - start > 1, now - lastDraw > 0.1 else { return }
        lastDraw = now
        var text = "\r\(label) "
        if let total, total > 0 {
            let f = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(f * Double(width))
            text += "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] "
            text += String(Int(f * 100)) + "%"
        } else {
            text += "\(done) \(unit)"
        }
        var sink = Sink(fd: 2)
        sink.write(raw: text + "\u{1B}[K")  // our own label and figures
        sink.flush()
        drawn = true
    }

    func finish() {
        guard drawn else { return }
        var sink = Sink(fd: 2)
        sink.write(raw: "\r\u{1B}[K")
        sink.flush()
    }
}

extension Timestamp {
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Substring(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
