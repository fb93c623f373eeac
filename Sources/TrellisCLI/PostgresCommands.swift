import ArgumentParser
import TrellisLedger
import TrellisPostgres

// `--db postgresql://…` for the commands that work with a PostgreSQL ledger so far: `init`
// (the schema, the GRANTs, the roles when asked), `import` (NDJSON, all or nothing, under the
// append lock) and `verify --chain-only`. Every other command refuses such a URL (exit 64)
// until the read-model cache lands. The password comes from PGPASSWORD or ~/.pgpass (libpq);
// messages show the URL without it.

/// `init`'s options for a PostgreSQL ledger.
struct PostgresInitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PostgreSQL only: the role that appends (INSERT and SELECT; it can never rewrite the log).", valueName: "role"))
    var writerRole = "trellis_writer"

    @Option(help: ArgumentHelp("PostgreSQL only: the role that only reads.", valueName: "role"))
    var readerRole = "trellis_reader"

    @Flag(help: "PostgreSQL only: create the two roles (NOLOGIN) when missing and grant them their privileges, instead of printing the GRANTs.")
    var createRoles = false
}

enum PostgresCLI {
    static func isURL(_ db: String) -> Bool { PostgresStore.isURL(db) }

    static func initLedger(url: String, options: PostgresInitOptions) throws {
        try Failure.guarded {
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
    }

    static func importFiles(url: String, readers: [LineReader], format: OutputFormat) throws {
        let store = try Failure.guarded { try PostgresStore.open(url: url) }
        let total = readers.compactMap(\.size).reduce(0, +)
        let bar = ProgressBar("importing")
        let outcome = try Failure.guarded {
            try store.append { visit in
                var before: Int64 = 0
                for r in readers {
                    let name = readers.count > 1 ? r.name : nil
                    try r.forEachLine { line, number, read in
                        if number & 0x3FFF == 0 { bar.update(before + read, of: total > 0 ? total : nil, unit: "bytes") }
                        return try visit(line, number, name)
                    }
                    before += r.size ?? 0
                }
            }
        }
        bar.finish()
        try printOutcome(outcome, format: format, ledger: store.location)
    }

    static func verifyChain(url: String, chainOnly: Bool) throws {
        guard chainOnly else {
            Console.err("trellis: for a PostgreSQL ledger, verify checks the chain only so far: add --chain-only")
            throw ExitCode(64)
        }
        let store = try Failure.guarded { try PostgresStore.open(url: url) }
        let bar = ProgressBar("verifying")
        let report = try Failure.guarded { try store.verifyChain { bar.update($0, of: nil, unit: "events") } }
        bar.finish()
        if let broken = report.broken {
            Console.out("broken at seq \(broken.seq): \(broken.why)")
            throw ExitCode(1)
        }
        Console.out("ok: \(report.events) events, head \(report.head.hashHex)")
    }

    /// Any other command given a PostgreSQL URL.
    static func unsupported(_ url: String) -> ExitCode {
        Console.err("trellis: this command does not work with a PostgreSQL ledger yet (\(PostgresStore.isURL(url) ? "init, import and verify --chain-only do" : "")); use a ledger file")
        return ExitCode(64)
    }
}
