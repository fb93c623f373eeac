import ArgumentParser
import TrellisLedger
import TrellisPostgres
import TrellisCore

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person's personal data (name, e-mail) for good, keeping the log verifiable.",
        discussion: """
            Appends PersonErased and destroys the person's encryption key. The
            sealed name and e-mail stay in the log (so every hash still verifies)
            but can never be read again: every output shows the person as
            (erased). This cannot be undone. A person whose registration was
            retracted can (and should) still be erased.

            The old page holding the key stays on disk until SQLite checkpoints
            its WAL, which cannot happen while another process reads the ledger.
            Then erase exits 75: the erasure is recorded, and 'trellis erase
            --finish' completes it once that reader is gone.

            On PostgreSQL the key row is deleted in the erasing transaction and
            person_keys is rewritten (VACUUM FULL) after it, which only the
            table's owner may do: erasing as a writer role records the erasure
            and says so, and the owner completes it with 'trellis erase
            --finish', which also lists where PostgreSQL may still hold the key
            (WAL, WAL archives, replicas, backups).

            Examples:
              trellis erase p-jane --reason "right to erasure request 2026-04"
              trellis erase --finish
            """)

    @OptionGroup var ledger: LedgerOptions

    @Argument(help: ArgumentHelp("The person id.", valueName: "person-id"))
    var personID: String?

    @Option(help: "Why (kept in the log; do not put personal data here).")
    var reason: String?

    @Flag(help: "Complete earlier erasures: checkpoint and truncate the WAL so that no copy of a destroyed key remains (PostgreSQL: rewrite person_keys as its owner, and list what the server may still hold).")
    var finish = false

    @Option(help: "Who is recording the erasure.")
    var actor: String?

    @Option(help: "Output: table (a sentence) or json.")
    var format: TableOrJSON = .table

    func validate() throws {
        if finish {
            if personID != nil || reason != nil { throw ValidationError("--finish takes no person id or --reason: it completes earlier erasures") }
        } else {
            if personID == nil { throw ValidationError("name the person to erase (or give --finish)") }
            if reason == nil { throw ValidationError("give --reason (kept in the log; no personal data)") }
        }
    }

    func run() throws {
        if ledger.isShared {
            let store = try ledger.openStore()
            guard let shared = store as? PostgresStore else { throw CommandFailure(exitCode: 70, "a shared ledger that is not PostgreSQL") }
            if finish {
                // PostgreSQL's erasure ends at its commit and the rewrite of person_keys, unless
                // an older snapshot, a non-owner role or a foreign trigger left something.
                if let residue = try shared.finishErasure() {
                    // A role that may not rewrite the table cannot finish by trying again (74).
                    throw CommandFailure(exitCode: residue.notOwner ? 74 : 75, "the erasure is still not complete: \(residue)")
                }
                let done = try shared.erasureAftermath()
                if done.erasedKeysLeft > 0 {
                    throw CommandFailure(exitCode: 1, "person_keys still holds \(done.erasedKeysLeft) key(s) of erased persons: something outside Trellis wrote them; "
                                         + "delete those rows (SELECT person_id FROM person_keys JOIN rule_entities …) and run this again")
                }
                if format == .json {
                    Console.out(JSONValue.object(JSONObject([("erasure_complete", .bool(true)), ("wal_position", .string(done.walPosition)),
                                                             ("archive_mode", .string(done.archiveMode)), ("standbys", .int(Int64(done.standbys))),
                                                             ("replication_slots", .int(Int64(done.replicationSlots))),
                                                             ("may_still_hold", .array(done.stillHeld.map { .string($0) }))])).rendered())
                } else {
                    Console.out("erasure complete in the database: person_keys rewritten (VACUUM FULL), no erased person's key is left in its files and no session holds a snapshot from before\n"
                                + "PostgreSQL may still hold erased keys in:\n" + done.stillHeld.map { "  - " + $0 }.joined(separator: "\n"))
                }
                return
            }
            guard let personID, let reason else { throw CommandFailure.usage("name the person to erase and give --reason (or --finish)") }
            let outcome = try store.appendNow(.personErased, ["person_id": personID, "reason": reason], actor: actor)
            try printOutcome(outcome, format: format, ledger: store.location,
                             sentence: outcome.erasureResidue != nil ? "erased \(personID): PersonErased recorded at seq \(outcome.head.seq), key row deleted" : "erased \(personID): PersonErased recorded at seq \(outcome.head.seq), key row deleted and person_keys rewritten (VACUUM FULL); "
                                 + "PostgreSQL's WAL, WAL archives and backups made before now may still hold the key (trellis erase --finish lists them)")
            return
        }
        let l = try ledger.open()
        if finish {
            let residue = l.finishErasure()
            if let residue {
                throw CommandFailure(exitCode: 75, "the erasure is still not complete: \(residue)"
                                     + (residue.foreignTriggers.isEmpty ? "; try again when no other process has the ledger open" : ""))
            }
            if format == .json {
                Console.out(JSONValue.object(JSONObject([("erasure_complete", .bool(true))])).rendered())
            } else {
                Console.out("erasure complete: the WAL is checkpointed and truncated; no earlier copy of a destroyed key remains in \(l.path) or its -wal")
            }
            return
        }
        guard let personID, let reason else { throw CommandFailure.usage("name the person to erase and give --reason (or --finish)") }
        let outcome = try l.appendNow(.personErased, ["person_id": personID, "reason": reason], actor: actor)
        try printOutcome(outcome, format: format, ledger: l.path, sentence: outcome.erasureResidue == nil
            ? "erased \(personID): key destroyed, no copy left in the database or its WAL; the log still verifies (head seq \(outcome.head.seq))"
            : "erased \(personID): PersonErased recorded at seq \(outcome.head.seq), key row deleted")
    }
}
