import ArgumentParser
import TrellisLedger

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, given as JSON or on standard input.",
        discussion: """
            Example:
              trellis append '{"type":"MemberJoined","occurred_at":"2026-01-15","data":{"network_id":"npn","org_id":"oak-trust"}}'
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The event envelope as JSON (default: read from standard input).", valueName: "json"))
    var json: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: TableOrJSON = .table

    func run() throws {
        let text: String
        if let json { text = json } else {
            // Through the line reader: a line longer than 1 MiB is refused after its first
            // MiB instead of being read whole, and reading stops at a second line.
            var lines: [String] = []
            let reader = try LineReader(path: "-")
            try reader.forEachLine { line, _, _ in
                let l = String(decoding: line, as: UTF8.self).trimmingWhitespace()
                if !l.isEmpty { lines.append(l) }
                return lines.count < 2
            }
            text = lines.joined(separator: "\n")
        }
        if text.isEmpty { throw CommandFailure.usage("give the event as an argument or on standard input") }
        if text.contains("\n") {
            throw CommandFailure.badInput("append takes one event on one line; use 'trellis import' for several")
        }
        let l = try ledger.openStore(create: true)
        let outcome = try l.append(json: text)
        try printOutcome(outcome, format: format, ledger: l.location)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let a = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let b = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[a...b])
    }
}
