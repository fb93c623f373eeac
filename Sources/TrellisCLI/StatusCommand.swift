import ArgumentParser
import TrellisLedger
import TrellisCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "How many events the ledger holds, its head hash and the period it covers.")

    @OptionGroup var ledger: LedgerOptions

    @Option(help: "table or json.")
    var format: TableOrJSON = .table

    func run() throws {
        // Status is the log's own (for a shared ledger, the server's figures; the cache is not read).
        let l = try ledger.openStore()
        let s = try l.status()
        if format == .json {
            Console.out(JSONValue.object(JSONObject([
                ("events", .int(s.events)), ("head_seq", .int(s.head.seq)), ("head_hash", .string(s.head.hashHex)),
                ("first_occurred_at", .optional(s.firstOccurredAt)), ("last_occurred_at", .optional(s.lastOccurredAt)),
                ("file_bytes", .int(s.storageBytes)),
            ])).rendered(pretty: true))
        } else {
            Console.out("""
                ledger     \(l.location)
                events     \(s.events)
                head       seq \(s.head.seq), \(s.head.hashHex)
                occurred   \(s.firstOccurredAt.map { String($0.prefix(10)) } ?? "–") to \(s.lastOccurredAt.map { String($0.prefix(10)) } ?? "–")
                \(ledger.isShared ? "database   " : "file       ")\(s.storageBytes) bytes
                """)
        }
    }
}
