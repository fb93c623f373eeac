import ArgumentParser
import Foundation
import TrellisCore
import TrellisLedger
import TrellisPostgres

// A ledger shared by a region: `--db postgresql://user@host:port/dbname` (or $TRELLIS_DB). Every
// command appends to the shared log and reads a local cache of it (``LogMirror``): a SQLite
// file holding the log's events as stored, caught up by seq before every read, with the read
// models beside them. The password comes from PGPASSWORD or ~/.pgpass (libpq); messages show
// the URL without it.

/// `init`'s options for a PostgreSQL ledger.
struct PostgresInitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PostgreSQL only: the role that appends (INSERT and SELECT; it can never rewrite the log).", valueName: "role"))
    var writerRole = "trellis_writer"

    @Option(help: ArgumentHelp("PostgreSQL only: the role that only reads.", valueName: "role"))
    var readerRole = "trellis_reader"

    @Flag(help: "PostgreSQL only: create the two roles (NOLOGIN) when missing and grant them their privileges, instead of printing the GRANTs.")
    var createRoles = false
}

enum SharedLedger {
    /// The cache file of a shared ledger when `--cache` is not given: $TRELLIS_CACHE, else one
    /// file per database under $XDG_CACHE_HOME/trellis (default ~/.cache/trellis).
    static func defaultCachePath(for store: PostgresStore) throws -> String {
        if let env = getenv("TRELLIS_CACHE"), let s = String(validatingCString: env), !s.isEmpty { return s }
        let base: String
        if let x = getenv("XDG_CACHE_HOME"), let s = String(validatingCString: x), s.hasPrefix("/") {
            base = s + "/trellis"
        } else if let h = getenv("HOME"), let s = String(validatingCString: h), !s.isEmpty {
            base = s + "/.cache/trellis"
        } else {
            base = NSTemporaryDirectory() + "trellis-cache"
        }
        do {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure(exitCode: 74, "cannot create the cache folder \(base): \(error.localizedDescription); give --cache FILE")
        }
        // One file per server, port, database and user: the location has no password.
        let name = store.location.drop { $0 != "/" }.dropFirst(2)
            .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        return base + "/" + String(name) + ".db"
    }

    /// The cache of `store` at `path`, caught up with the shared log.
    static func caughtUp(_ store: PostgresStore, cachePath: String) throws -> Ledger {
        var cache = try LogMirror.openCache(at: cachePath, of: store)
        let bar = ProgressBar("catching up the local cache")
        let outcome = try LogMirror.catchUp(&cache, from: store) { done, total in bar.update(done, of: total, unit: "events") }
        bar.finish()
        if outcome.rebuilt {
            Console.err("trellis: note: the cache \(cachePath) did not match the shared ledger (restored or replaced?): it was rebuilt from it")
        }
        return cache
    }

    static func initLedger(url: String, options: PostgresInitOptions) throws {
        let store = try PostgresStore.create(url: url)
        let head = try store.head()
        Console.out(head.seq == 0 ? "PostgreSQL ledger ready at \(store.location): empty"
                                  : "PostgreSQL ledger at \(store.location): \(head.seq) events, head \(head.hashHex)")
        if options.createRoles {
            try store.createRoles(writer: options.writerRole, reader: options.readerRole)
            Console.out("roles \(options.writerRole) (append) and \(options.readerRole) (read) exist with their privileges; "
                        + "give them to people with: GRANT \(options.writerRole) TO alice;")
        } else {
            Console.out("-- the privileges for the writer and reader roles (run as the owner; --create-roles does it):")
            Console.out(PostgresSchema.grants(writer: options.writerRole, reader: options.readerRole))
        }
    }

    /// The shared log's own chain check (the server's rows, recomputed hash by hash).
    /// Prints and exits 1 when broken; returns the report otherwise.
    static func verifyChain(_ store: PostgresStore) throws -> PostgresStore.ChainReport {
        let bar = ProgressBar("verifying the shared log")
        let report = try store.verifyChain { bar.update($0, of: nil, unit: "events") }
        bar.finish()
        if let broken = report.broken {
            Console.out("broken at seq \(broken.seq): \(broken.why)")
            throw ExitCode(1)
        }
        return report
    }

    /// The server's schema against the migrations' (triggers and their function, tables,
    /// indexes, ledger_meta): one `warning:` line each and exit 1, as for a ledger file.
    static func verifySchema(_ store: PostgresStore, chain: PostgresStore.ChainReport) throws {
        let problems = try store.schemaProblems()
        guard !problems.isEmpty else { return }
        for p in problems { Console.err("warning: \(p)") }
        Console.out("broken: the ledger's schema is not the one Trellis creates (\(chain.events) events chain correctly, head \(chain.head.hashHex))")
        throw ExitCode(1)
    }
}
