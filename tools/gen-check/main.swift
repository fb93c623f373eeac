// Development driver for RegionGenerator (not part of the package build).
//   swiftc -O -swift-version 6 -parse-as-library Sources/TrellisCore/Domain/Timestamp.swift Sources/TrellisCore/Domain/EventType.swift Sources/TrellisCore/JSON/*.swift Sources/TrellisCore/Text/TerminalText.swift Sources/TrellisGenerator/*.swift \
//       tools/gen-check/main.swift -o /tmp/gen
//   /tmp/gen --networks 3 --orgs 60 --years 3 --seed 1 [--events N] [--lines] [--stats] > region.ndjson
import Foundation

@main
struct GenCheck {
    static func main() {
        var options = GeneratorOptions()
        var perLine = false
        var stats = false
        var args = Array(CommandLine.arguments.dropFirst())
        func value(_ flag: String) -> String {
            guard !args.isEmpty else { fail("missing value for \(flag)") }
            return args.removeFirst()
        }
        func int(_ flag: String) -> Int {
            guard let v = Int(value(flag)) else { fail("\(flag) needs an integer") }
            return v
        }
        while !args.isEmpty {
            let a = args.removeFirst()
            switch a {
            case "--networks": options.networks = int(a)
            case "--orgs": options.orgs = int(a)
            case "--years": options.years = int(a)
            case "--start-year": options.startYear = int(a)
            case "--seed":
                guard let s = UInt64(value(a)) else { fail("--seed needs an unsigned integer") }
                options.seed = s
            case "--events": options.maxEvents = int(a)
            case "--lines": perLine = true
            case "--stats": stats = true
            default: fail("unknown argument \(a)")
            }
        }
        let generator = RegionGenerator(options)
        var events = 0
        var bytes = 0
        let t0 = now()
        if perLine {
            // Exercise the per-line API: copy lines into a 1 MiB buffer, write when full.
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20 + 4096)
            generator.run { line in
                buffer.append(contentsOf: line)
                buffer.append(0x0A)
                events += 1
                if buffer.count >= 1 << 20 {
                    writeAll(buffer)
                    bytes += buffer.count
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            writeAll(buffer)
            bytes += buffer.count
        } else {
            generator.runChunks { chunk in
                writeAll(chunk)
                bytes += chunk.count
                for b in chunk where b == 0x0A { events += 1 }
            }
        }
        let dt = now() - t0
        if stats {
            let mb = Double(bytes) / 1_000_000
            let line = "events=\(events) bytes=\(bytes) seconds=\(dt) events/s=\(Int(Double(events) / dt)) MB/s=\(Int(mb / dt))\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func writeAll(_ a: [UInt8]) {
        a.withUnsafeBytes { writeAll($0) }
    }

    static func writeAll(_ buf: UnsafeRawBufferPointer) {
        guard var p = buf.baseAddress else { return }
        var left = buf.count
        while left > 0 {
            let n = write(1, p, left)
            if n <= 0 { fail("write failed") }
            p += n
            left -= n
        }
    }

    static func fail(_ message: String) -> Never {
        let line = "gen-check: \(message)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        exit(2)
    }
}
