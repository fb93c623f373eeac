import Foundation
import Testing
import TrellisLedger
import TrellisCore
import TrellisGenerator
@testable import TrellisPostgres

// A fresh database per test on the server TRELLIS_TEST_PG_URL names (`make test` starts a
// throw-away cluster and sets it, with PGPASSWORD). Without it every test here FAILS: the
// PostgreSQL store is never silently left untested.

/// Every suite that uses the test server, one at a time: one of them restarts the server,
/// which would break the others' connections if they ran beside it.
@Suite(.serialized) enum PostgreSQLServer {}

enum PG {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "TRELLIS_TEST_PG_URL is not set: run the tests with `make test`, or start a cluster with tools/pg/cluster.sh start and eval \"$(tools/pg/cluster.sh env)\""
        }
    }

    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TRELLIS_TEST_PG_URL"], !url.isEmpty else { throw Missing() }
        return url
    }

    /// The server URL with its database replaced by `name`.
    static func url(database name: String) throws -> String {
        let base = try serverURL()
        let query = base.firstIndex(of: "?").map { String(base[$0...]) } ?? ""
        let noQuery = base.firstIndex(of: "?").map { String(base[..<$0]) } ?? base
        guard let slash = noQuery.range(of: "/", options: .backwards), slash.lowerBound > noQuery.index(noQuery.startIndex, offsetBy: 13) else {
            return noQuery + "/" + name + query
        }
        return String(noQuery[..<slash.upperBound]) + name + query
    }

    /// Creates an empty database for one test; `drop` removes it.
    struct Database {
        let name: String
        let url: String

        init() throws {
            name = "trellis_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            url = try PG.url(database: name)
            try PG.admin("CREATE DATABASE \(name)")
        }

        func drop() {
            try? PG.admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }

        /// Runs SQL in this database as the test role (the superuser of the test cluster).
        @discardableResult
        func sql(_ text: String) throws -> PGResult {
            let c = try PGConnection(url: url)
            return try c.exec(text)
        }
    }

    static func admin(_ sql: String) throws {
        let c = try PGConnection(url: try serverURL())
        try c.run(sql)
    }
}

extension PG.Database {
    /// Whether `bytes` are anywhere in the files of a table (its current file, and `also`, a
    /// file it had before), after a CHECKPOINT has written every page: the test cluster runs
    /// on this machine, as this user or as `postgres` with the tests run as root.
    func tableFiles(_ table: String, hold bytes: [UInt8], also earlier: String? = nil) throws -> Bool {
        try sql("CHECKPOINT")
        let dir = try sql("SHOW data_directory").string(0, 0) ?? ""
        var paths = [dir + "/" + (try relationPath(table))]
        if let earlier { paths.append(earlier) }
        return paths.contains { path in
            guard let data = FileManager.default.contents(atPath: path) else { return false }
            return data.range(of: Data(bytes)) != nil
        }
    }

    /// The path of a table's main file inside the data directory.
    func relationPath(_ table: String) throws -> String {
        try sql("SELECT pg_relation_filepath('\(table)')").string(0, 0) ?? ""
    }

    func dataDirectory() throws -> String { try sql("SHOW data_directory").string(0, 0) ?? "" }
}

/// Events of a small synthetic region, as NDJSON lines.
func regionLines(events: Int, seed: UInt64 = 7) -> [UInt8] {
    var bytes: [UInt8] = []
    RegionGenerator(GeneratorOptions(networks: 3, orgs: 60, years: 3, seed: seed, maxEvents: events)).runChunks { chunk in
        bytes.append(contentsOf: chunk)
    }
    return bytes
}

/// Feeds NDJSON bytes line by line to an append.
func feed(_ bytes: [UInt8]) -> ((UnsafeBufferPointer<UInt8>, Int, String?) throws -> Bool) throws -> Void {
    { visit in
        try bytes.withUnsafeBufferPointer { b in
            var start = 0
            var number = 0
            for i in 0..<b.count where b[i] == 10 {
                number += 1
                if try !visit(UnsafeBufferPointer(rebasing: b[start..<i]), number, nil) { return }
                start = i + 1
            }
            if start < b.count { number += 1; _ = try visit(UnsafeBufferPointer(rebasing: b[start...]), number, nil) }
        }
    }
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("trellis-pg-\(UUID().uuidString)-\(name)").path
}
