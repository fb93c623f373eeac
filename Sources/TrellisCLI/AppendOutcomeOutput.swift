import TrellisLedger
import TrellisCore

/// Prints what a batch did; then warns about a head ahead of the clock, and exits 75 when an
/// erasure in the batch left a copy of a key behind (the batch itself is committed).
func printOutcome(_ o: AppendOutcome, format: TableOrJSON, ledger: String, sentence: String? = nil) throws {
    if format == .json {
        var fields: [(String, JSONValue)] = [
            ("appended", .int(Int64(o.appended))), ("skipped", .int(Int64(o.skipped))),
            ("head_seq", .int(o.head.seq)), ("head_hash", .string(o.head.hashHex)),
        ]
        // Only when there are such lines: the keys above are CLI.md's contract.
        if o.notComparedErased > 0 { fields.append(("not_compared_erased", .int(Int64(o.notComparedErased)))) }
        if o.erasureResidue != nil { fields.append(("erasure_complete", .bool(false))) }
        Console.out(JSONValue.object(JSONObject(fields)).rendered())
    } else if let sentence {
        Console.out(sentence)
    } else {
        let erased = o.notComparedErased > 0 ? ", \(o.notComparedErased) could not be compared (person erased)" : ""
        Console.out("appended \(o.appended), skipped \(o.skipped) (already recorded)\(erased)")
    }
    if o.notComparedErased > 0, format != .json {
        Console.err("trellis: \(o.notComparedErased) PersonRegistered line\(o.notComparedErased == 1 ? " matches" : "s match") an erased person's event in everything but the name and e-mail, which can no longer be compared (the key is destroyed): whether they differ is unknown; nothing was appended for them")
    }
    if let ahead = o.headAheadOfClock {
        Console.err("trellis: warning: the ledger's head was recorded at \(ahead), ahead of this machine's clock; recorded_at never goes backwards, so these events were recorded at \(o.head.recordedAt ?? ahead) too. Check the clock, and how an event from the future got into the ledger")
    }
    if let residue = o.erasureResidue {
        Console.err("trellis: the erasure is recorded (PersonErased is committed, head seq \(o.head.seq)), but not complete: \(residue)")
        throw CommandFailure(exitCode: 75, residue.foreignTriggers.isEmpty
            ? "when that process has finished, run: trellis erase --finish --db \(ledger)"
            : "then run: trellis erase --finish --db \(ledger)")
    }
}
