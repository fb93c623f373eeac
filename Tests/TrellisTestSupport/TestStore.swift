import Foundation

// The CLI suites run twice in `make test`: on ledger files, then with TRELLIS_TEST_STORE=postgresql
// on the PostgreSQL store. In the second run every `trellis` the tests start (``Trellis/run``,
// ``runProcess`` on its path) gets, for each ledger file it names (`--db PATH`, `TRELLIS_DB=PATH`),
// a database of its own on the server TRELLIS_TEST_PG_URL names, created on first use, with PATH
// as the local cache (TRELLIS_CACHE), so that the read side lives where the test expects its file.
// A study file `replay --out` writes stays a file. The databases live as long as the throw-away
// cluster (`make test` removes it).

/// Which store the CLI tests run against.
public enum TestStore {
    /// TRELLIS_TEST_STORE=postgresql.
    public static let isPostgreSQL: Bool = ProcessInfo.processInfo.environment["TRELLIS_TEST_STORE"] == "postgresql"

    /// The ledger is a file: for `.enabled(if: TestStore.isFile, "why")` on a test that looks at
    /// or tampers with the SQLite file itself, which a PostgreSQL ledger does not have.
    public static var isFile: Bool { !isPostgreSQL }

    /// Edits the ledger behind Trellis's back, as whoever holds it could, so that a test states
    /// the same tamper for both stores: on a file `sqlite3 PATH FILE-SQL`; on PostgreSQL `psql`
    /// as the database's owner (the test cluster's superuser) on the database standing for PATH,
    /// running `postgres` in one transaction (`SET LOCAL session_replication_role = replica`
    /// there lets it past the append-only triggers without touching them).
    public static func tamper(_ path: String, file: String, postgres: String) throws -> ProcessResult {
        guard isPostgreSQL else { return try runTool("sqlite3", [path, file]) }
        return try psql(path, postgres)
    }

    /// `psql` on the database standing for the ledger file `path` (PostgreSQL run only): one
    /// transaction, stop at the first error, rows unaligned (`-At`).
    public static func psql(_ path: String, _ sql: String) throws -> ProcessResult {
        let url = try database(for: path.hasPrefix("/") ? path : URL(fileURLWithPath: path).standardizedFileURL.path)
        return try runTool("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, "-c", sql], timeout: 300)
    }

    /// PostgreSQL run: the files on the (local, throw-away) test server that hold `table`'s rows,
    /// after a CHECKPOINT has written every page out, so that a test can look for bytes in
    /// them as it does in a ledger file (the server's data folder; root, as CI runs, reads it).
    /// The checkpoint writes the whole cluster's dirty pages: under a loaded parallel run it
    /// can take minutes.
    public static func serverFiles(_ path: String, table: String) throws -> [String] {
        let url = try database(for: path.hasPrefix("/") ? path : URL(fileURLWithPath: path).standardizedFileURL.path)
        let r = try runTool("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", "CHECKPOINT",
                                     "-c", "SELECT current_setting('data_directory') || '/' || pg_relation_filepath('\(table)')"], timeout: 600)
        guard r.status == 0, let base = r.stdout.split(separator: "\n").last.map(String.init), !base.isEmpty else {
            throw SupportError("cannot find \(table)'s files on the server: \(r)")
        }
        // The main fork and its 1 GB segments (base, base.1, …); not the free-space or visibility maps.
        let dir = (base as NSString).deletingLastPathComponent, name = (base as NSString).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0 == name || ($0.hasPrefix(name + ".") && Int($0.dropFirst(name.count + 1)) != nil) }
            .map { dir + "/" + $0 }.sorted()
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var created: [String: String] = [:]
    /// Study files `replay --out` wrote: SQLite files by design, read as files on either store.
    nonisolated(unsafe) private static var studies: Set<String> = []

    private static func isStudy(_ path: String) -> Bool { lock.lock(); defer { lock.unlock() }; return studies.contains(path) }

    /// The URL of the database standing for the ledger file at `path` (absolute), created on first use.
    public static func database(for path: String) throws -> String {
        guard let server = ProcessInfo.processInfo.environment["TRELLIS_TEST_PG_URL"], !server.isEmpty else {
            throw SupportError("TRELLIS_TEST_STORE=postgresql needs TRELLIS_TEST_PG_URL (run `make test`, or tools/pg/cluster.sh start and eval \"$(tools/pg/cluster.sh env)\")")
        }
        lock.lock(); defer { lock.unlock() }
        if let url = created[path] { return url }
        let name = "trellis_f_" + sha256Hex(Data(path.utf8)).prefix(32)
        let r = try runTool("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server, "-c", "CREATE DATABASE \(name)"], timeout: 60)
        guard r.status == 0 || r.stderr.contains("already exists") else {
            throw SupportError("cannot create the database \(name) for \(path): \(r)")
        }
        let url = replacingDatabase(in: server, with: name)
        created[path] = url
        return url
    }

    /// `base` with its database replaced by `name` (query kept).
    static func replacingDatabase(in base: String, with name: String) -> String {
        let q = base.firstIndex(of: "?")
        let query = q.map { String(base[$0...]) } ?? ""
        let noQuery = q.map { String(base[..<$0]) } ?? base
        let afterScheme = noQuery.range(of: "://").map(\.upperBound) ?? noQuery.startIndex
        guard let slash = noQuery[afterScheme...].firstIndex(of: "/") else { return noQuery + "/" + name + query }
        return String(noQuery[...slash]) + name + query
    }

    /// The words that run `trellis args` from a shell script or a wrapper (`time`, `script`,
    /// `ulimit`), which ``Trellis/run`` does not see: `[trellis] + args` on the file store;
    /// on PostgreSQL `/usr/bin/env TRELLIS_CACHE=… trellis` and the mapped arguments.
    public static func commandWords(_ args: [String], cwd: String? = nil) throws -> [String] {
        let trellis = try Trellis.path()
        guard isPostgreSQL else { return [trellis] + args }
        var args = args
        var env: [String: String] = [:]
        try mapToPostgreSQL(&args, environment: &env, cwd: cwd)
        return ["/usr/bin/env"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [trellis] + args
    }

    /// Rewrites a `trellis` command line for the PostgreSQL run: each ledger file becomes its
    /// database, and the file the local cache.
    static func mapToPostgreSQL(_ args: inout [String], environment env: inout [String: String], cwd: String?) throws {
        func absolute(_ p: String) -> String {
            if p.hasPrefix("/") { return p }
            let base = cwd ?? FileManager.default.currentDirectoryPath
            return URL(fileURLWithPath: p, relativeTo: URL(fileURLWithPath: base, isDirectory: true)).standardizedFileURL.path
        }
        func isFile(_ v: String) -> Bool {
            !v.isEmpty && !v.hasPrefix("postgresql://") && !v.hasPrefix("postgres://") && !v.hasPrefix("-") && !isStudy(absolute(v))
        }
        if args.first == "replay" {
            for (k, a) in args.enumerated() {
                let out = a == "--out" && k + 1 < args.count ? args[k + 1] : a.hasPrefix("--out=") ? String(a.dropFirst(6)) : nil
                if let out { lock.lock(); studies.insert(absolute(out)); lock.unlock() }
            }
        }
        var cache: String?
        var i = 0
        while i < args.count {
            if args[i] == "--" { break }
            if args[i] == "--db", i + 1 < args.count, isFile(args[i + 1]) {
                let path = absolute(args[i + 1])
                args[i + 1] = try database(for: path)
                cache = path
                i += 2
                continue
            }
            if args[i].hasPrefix("--db="), isFile(String(args[i].dropFirst(5))) {
                let path = absolute(String(args[i].dropFirst(5)))
                args[i] = "--db=" + (try database(for: path))
                cache = path
            }
            i += 1
        }
        if cache == nil, let db = env["TRELLIS_DB"], isFile(db) {
            let path = absolute(db)
            env["TRELLIS_DB"] = try database(for: path)
            cache = path
        }
        if let cache, env["TRELLIS_CACHE"] == nil, !args.contains(where: { $0 == "--cache" || $0.hasPrefix("--cache=") }) {
            env["TRELLIS_CACHE"] = cache
        }
    }
}
