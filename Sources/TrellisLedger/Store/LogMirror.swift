import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrellisCore

/// A local SQLite copy of a shared log (the PostgreSQL store), for the read side.
///
/// Projection definitions are SQLite SQL and may read `events`; reports, time travel, proofs
/// and exports read a SQLite ledger. A reader of a shared log therefore keeps a cache file: a
/// SQLite ledger holding the log's events exactly as stored (same seq, recorded_at, data and
/// hash), caught up by seq before every read. Every event copied goes through the archive
/// path: its hash is recomputed from its content and the hash before it, and the append rules
/// are checked again, so a cache can only ever hold a prefix of a valid log. Person keys are
/// never copied: names are read from the shared store's keys, so an erasure there is an
/// erasure everywhere.
public enum LogMirror {
    /// What a catch-up did.
    public struct Outcome: Sendable, Equatable {
        /// Events copied into the cache now.
        public var copied: Int
        /// The cache's head after the catch-up (the store's head as it was read).
        public var head: LedgerHead
        /// The cache held events the store does not have at the same seq with the same hash
        /// (the shared log was restored from an older backup, or replaced): it was emptied and
        /// filled again.
        public var rebuilt: Bool
    }

    /// Opens (or creates) the cache of `store` at `path`. A file is a cache only if Trellis made
    /// it one: a marker beside it (`PATH.cache-of`) names the log it mirrors. An existing file
    /// with events and no marker, or the marker of another log, is refused and left untouched:
    /// `--cache` given a real ledger by mistake must never be emptied and rebuilt.
    public static func openCache(at path: String, of store: any LedgerStore) throws -> Ledger {
        let marker = path + ".cache-of"
        let named = (try? String(contentsOfFile: marker, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if named != store.location {
            if Ledger.exists(at: path), try Ledger.open(at: path).head().seq > 0 {
                throw LedgerError.cannotOpen(path: path, reason: named.map { "it is the cache of \($0), not of \(store.location)" }
                                             ?? "it holds a ledger that is not a cache of \(store.location); give --cache a new file")
            }
            do {
                try (store.location + "\n").write(toFile: marker, atomically: true, encoding: .utf8)
            } catch {
                throw LedgerError.storage(path: marker, reason: "cannot write the cache's marker (\(error.localizedDescription))")
            }
        }
        return try Ledger.open(at: path, create: true, mirrorOf: store.location)
    }

    /// Copies the events of `store` after `cache`'s head into `cache`, in one transaction.
    /// When the cache is not a prefix of the store, the cache file is removed and rebuilt.
    public static func catchUp(_ cache: inout Ledger, from store: any LedgerStore, chunk: Int64 = 50_000,
                               progress: ((Int64, Int64) -> Void)? = nil) throws -> Outcome {
        let target = try store.head()
        var rebuilt = false
        var local = try cache.head()
        if local.seq > 0 {
            let theirs = local.seq <= target.seq ? try store.hash(at: local.seq) : nil
            if theirs != local.hash {
                // Only a file opened as a cache (``openCache(at:of:)``) is ever emptied.
                guard cache.mirrorOf == store.location else {
                    throw LedgerError.corrupt(path: cache.path, reason: "it does not hold a prefix of \(store.location), and it is not a cache Trellis may rebuild")
                }
                let path = cache.path
                for suffix in ["", "-wal", "-shm"] { _ = unlink(path + suffix) }
                cache = try Ledger.open(at: path, create: true, mirrorOf: cache.mirrorOf)
                local = try cache.head()
                rebuilt = true
            }
        }
        var copied = 0
        // In chunks, each one transaction: a long first catch-up keeps what it copied if interrupted.
        while local.seq < target.seq {
            let through = min(target.seq, local.seq + chunk)
            var chain = ArchiveChain(after: local)
            var current = ""
            do {
                _ = try cache.appendArchived { visit in
                    try store.scan(from: local.seq + 1, through: through) { e in
                        current = e.type
                        do {
                            try visit(try chain.admit(e, line: Int(e.seq)))
                        } catch let error as ArchiveEventError {
                            throw LedgerError.corrupt(path: store.location,
                                                      reason: "the shared log is " + error.description + "; run trellis verify against it")
                        }
                        return true
                    }
                }
            } catch let e as AppendRejected {
                // The chain is intact, but the rules refuse an event given those before it: a
                // writer let it in because the server's rule tables were altered.
                let first = e.errors.first
                throw SharedLogRuleViolation(location: store.location, violation: "seq \(first?.line ?? Int(local.seq + 1)) (\(current))"
                    + (first.map { ": " + ($0.path.isEmpty ? "" : $0.path + ": ") + $0.expected + ($0.found.map { ", got " + $0 } ?? "") } ?? ""))
            }
            copied += Int(through - local.seq)
            local = try cache.head()
            progress?(local.seq, target.seq)
        }
        return Outcome(copied: copied, head: local, rebuilt: rebuilt)
    }
}

/// The shared log holds an event its append rules refuse given the events before it: its
/// chain is intact, so a writer let it in, reading rule tables altered behind Trellis's back.
/// No cache can hold it (exit 65); `trellis verify` names it as a ledger file's verify does.
public struct SharedLogRuleViolation: UserFacingError, CustomStringConvertible, Sendable {
    public var location: String
    /// `seq N (Type): rule`, in the words of a ledger file's verify.
    public var violation: String
    public var exitCode: Int32 { 65 }
    public var diagnostic: String {
        "the shared log at \(location) breaks an append rule at \(violation): its rule tables were altered behind Trellis's back (trellis verify names them)"
    }
    public var description: String { diagnostic }
}
