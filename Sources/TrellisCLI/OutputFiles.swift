import ArgumentParser
import TrellisLedger

/// Output of reports, audit and orgs: to `--out` all or nothing (``AtomicFile``), or to standard output.
enum Output {
    /// Machine bytes (xlsx, CSV, JSON) to `--out` (all or nothing) or standard output, exactly.
    static func emit(_ bytes: [UInt8], to out: String?) throws {
        try bytes.withUnsafeBytes { try emit(raw: $0, to: out) }
    }

    /// The same for bytes that lie elsewhere: written from where they are, not copied first
    /// (a repeated report's cached bytes; a region's summary is 40 MB).
    static func emit(raw bytes: UnsafeRawBufferPointer, to out: String?) throws {
        if let out { try AtomicFile.write(raw: bytes, to: out); return }
        Sink.writeAll(fd: 1, bytes)
    }

    /// A workbook is binary: never to a terminal (exit 64).
    static func refuseBinaryOnTerminal(xlsx: Bool, out: String?) throws {
        if xlsx && out == nil && Console.stdoutIsTTY {
            throw ValidationError("xlsx is a binary file: give --out FILE.xlsx (or redirect standard output to a file)")
        }
    }

    /// `--format` as given, else what `--out`'s extension names (`.xlsx`, `.json`, `.csv`, …), else table.
    static func format<F: FormatOption>(_ explicit: F?, out: String?) -> ReportFormat {
        explicit?.format ?? out.flatMap { ReportFormat(fileName: $0) } ?? .table
    }
}
