import TrellisCore
import ArgumentParser
import TrellisLedger

struct RetractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retract",
        abstract: "Retract an event: every figure then ignores it; the log keeps both.",
        discussion: """
            The usual correction is to retract the wrong event, then append the right one.
            Example: trellis retract reg-2026-03-12-ht --reason "recorded against the wrong meeting"
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The id of the event to retract.", valueName: "event-id"))
    var eventID: String

    @Option(help: "Why it is retracted (kept in the log).")
    var reason: String

    @Option(help: "Who is recording the retraction.")
    var actor: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: TableOrJSON = .table

    func run() throws {
        let l = try ledger.openStore()
        let outcome = try l.appendNow(.eventRetracted, ["event_id": eventID, "reason": reason], actor: actor)
        try printOutcome(outcome, format: format, ledger: l.location)
    }
}
