import TrellisCore
import TrellisProjections
import TrellisReports

/// Everything one report run writes (output text or bytes, warnings), captured so that it is
/// written now and kept in the ledger's ``ReportCache``; a repeated run on the same state
/// writes the kept copy through the same calls, so both runs give the same bytes.
final class ReportCapture: @unchecked Sendable {
    enum Kind: UInt8 { case text = 1, humanText = 2, bytes = 3, warning = 4 }

    /// The capture of the report being computed, if any (single-threaded CLI).
    @TaskLocal static var current: ReportCapture?

    /// Every piece, encoded (``encoded``), and where each one's bytes lie in it.
    private(set) var encoded: [UInt8] = []
    private(set) var pieces: [(kind: Kind, range: Range<Int>)] = []

    /// Kind (1 byte), length (8 bytes, little-endian), bytes.
    func add(_ kind: Kind, _ bytes: [UInt8]) {
        encoded.append(kind.rawValue)
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { encoded.append(contentsOf: $0) }
        pieces.append((kind, encoded.count..<(encoded.count + bytes.count)))
        encoded.append(contentsOf: bytes)
    }

    /// nil when `bytes` are not what ``encoded`` holds.
    static func decode(_ bytes: [UInt8]) -> ReportCapture? {
        let c = ReportCapture()
        var i = 0
        while i < bytes.count {
            guard i + 9 <= bytes.count, let kind = Kind(rawValue: bytes[i]) else { return nil }
            var n: UInt64 = 0
            for k in 0..<8 { n |= UInt64(bytes[i + 1 + k]) << (8 * UInt64(k)) }
            i += 9
            guard n <= UInt64(bytes.count - i) else { return nil }
            c.pieces.append((kind, i..<(i + Int(n))))
            i += Int(n)
        }
        c.encoded = bytes
        return c
    }

    /// Writes the warnings on stderr, then the output, as the report itself does: machine
    /// text as its exact bytes, human text (table, Markdown) through the terminal's escaping.
    func replay(_ options: ReportOptions) throws {
        for p in pieces where p.kind == .warning { Console.err("trellis: warning: " + String(decoding: encoded[p.range], as: UTF8.self)) }
        for p in pieces {
            switch p.kind {
            case .text, .bytes: try encoded.withUnsafeBytes { try Output.emit(raw: UnsafeRawBufferPointer(rebasing: $0[p.range]), to: options.out) }
            case .humanText: try options.write(String(decoding: encoded[p.range], as: UTF8.self), humanText: true)
            case .warning: break
            }
        }
    }
}

extension ReportRun {
    /// Runs a report through the ledger's report cache: the read models are caught up, then
    /// a cached copy for exactly this state and request is written if there is one; else
    /// `body` computes the report (captured), it is written, and kept. `cacheable` false
    /// (time travel, extra files written, a signature) or `--no-cache` runs `body` as it is.
    static func cached(_ options: ReportOptions, cacheable: Bool = true, _ body: (ReportSource) throws -> Void) throws {
        let source = try source(options)
        guard cacheable, !options.noCache, source.snapshot == nil else { return try body(source) }
        let request = try options.cacheRequest()
        var lookup = try ReportCache.lookup(source, request: request)
        if case .hit(let bytes, let key) = lookup {
            if let kept = ReportCapture.decode(bytes) { return try kept.replay(options) }
            lookup = .damaged(key)
        }
        if case .damaged = lookup {
            Console.err("trellis: warning: the cached copy of this report does not match its check sum: not used, recomputed")
        }
        let capture = ReportCapture()
        try ReportCapture.$current.withValue(capture) { try body(source) }
        try capture.replay(options)
        switch lookup {
        case .miss(let key), .damaged(let key): ReportCache.store(source, key: key, output: capture.encoded)
        default: break
        }
    }
}

extension ReportOptions {
    /// What shapes a report's bytes besides the ledger's state: the command line as typed
    /// (report, options, --out, --db), the format and width it resolves to here, whether
    /// standard output is a terminal, and the small-cell threshold.
    func cacheRequest() throws -> String {
        let k = try smallCellThreshold().map(String.init) ?? "-"
        return "\(ReportRun.commandLine())\ntty=\(Console.stdoutIsTTY) columns=\(Terminal.columns()) min_count=\(k)"
    }
}

/// `trellis verify`'s word on the report cache: after the derived state is checked, every
/// cached report is discarded (the next report recomputes from the checked read models), so
/// nothing a verify passed is served from a copy it did not check.
enum ReportCacheCheck {
    static func discard(_ engine: ProjectionEngine) {
        do {
            let n = try ReportCache.clear(engine.readSide)
            if n > 0 { Console.out("report cache: \(n) cached report\(n == 1 ? "" : "s") discarded (reports recompute from the checked read models)") }
        } catch {
            Console.out("report cache: not emptied (\(error)); run a report with --no-cache or trellis projections rebuild")
        }
    }
}
