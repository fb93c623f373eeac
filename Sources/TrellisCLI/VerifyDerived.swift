import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisCore

/// The part of `trellis verify` after the chain: every piece of derived state against the log.
enum DerivedStateCheck {
    /// Checks the derived state (the replay and the read-model rebuilds at once; the bar
    /// follows the replay). Prints nothing: ``report(_:chain:)`` does, once the chain is known.
    static func check(engine: ProjectionEngine, chain: ChainCheckedRange? = nil) throws -> (DerivedStateReport, [ReadModelVerdict]) {
        let bar = ProgressBar("checking derived state")
        defer { bar.finish() }
        return try engine.checkDerivedState(chain: chain) { done, total in bar.update(done, of: total, unit: "events") }
    }

    /// Prints `ok: …` and what was checked, or `broken: …` and one line per difference (exit 1).
    /// `shared` adds what a shared ledger's server holds beside the log (its rule tables and
    /// keys, compared with the cache's), in the same words.
    static func report(_ result: (DerivedStateReport, [ReadModelVerdict]), chain: VerifyReport, shared: (() throws -> Findings)? = nil) throws {
        let head = "\(chain.events) events, head \(Hex.encode(chain.head))"
        let (report, models) = result
        var findings = report.findings
        if let shared { findings.merge(try shared()) }
        for m in models {
            if case .differs(let what) = m.state { findings.add("read model \(m.name) (checkpoint \(m.checkpoint ?? 0)): \(what)") }
        }
        if !findings.isEmpty {
            Console.out("broken: derived state differs from what the log implies (\(head) chain correctly)")
            for line in findings.lines { Console.out("derived state: " + line) }
            if findings.unlisted > 0 { Console.out("derived state: … and \(findings.unlisted) more") }
            throw ExitCode(1)
        }
        let compared = models.filter { $0.state == .consistent }.count
        let notBuilt = models.filter { $0.state == .notBuilt }.count
        let other = models.filter { $0.state == .otherDefinition }.count
        var checked = report.checked
        checked.insert("triggers", at: 0)
        checked.append("\(compared) read model\(compared == 1 ? "" : "s")")
        var notes: [String] = []
        if notBuilt > 0 { notes.append("\(notBuilt) not built") }
        if other > 0 { notes.append("\(other) built by another definition, rebuilt on the next read") }
        let unknown = models.filter { $0.state == .definitionNotGiven }.map(\.name)
        if !unknown.isEmpty { notes.append("not checked: \(unknown.joined(separator: ", ")), whose definition was not given (--projection FILE.sql)") }
        Console.out("ok: \(head)")
        Console.out("derived state: " + checked.joined(separator: ", ") + ": consistent" + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")"))
    }
}
