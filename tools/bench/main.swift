// trellis-bench: the import path next to its physical limit, measured in one run.
//
//   swift build -c release --product trellis-bench && .build/release/trellis-bench [--events N] [--dir DIR]
//
// 1. generates N events (the same generator as `trellis generate`) to a file;
// 2. imports them into a fresh ledger with Trellis (decode, rules, seal, chain, insert);
// 3. inserts the same rows with the raw sqlite3 C API into the same `events` schema, one
//    transaction, synchronous=FULL, twelve ways (a rollback journal, as an import into an
//    empty ledger writes, or the WAL; 4, 16 or 64 KiB pages; a row or 256 rows a statement):
//    the fastest is the limit (``importLimit(from:into:)``);
// 4. verifies the chain, next to a raw scan of the same table.
// It prints rates, their ratios, peak RSS and bytes per event. Not a test: the numbers go
// in the issue notes.
import CoreFoundation  // `stat`'s fields, as the compiler resolves them here
import GRDB
import GRDBSQLite
import TrellisLedger
import TrellisProjections
import TrellisReports
import TrellisGraph
import TrellisResearch
import TrellisCore
import TrellisGenerator
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func peakRSSMB() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_maxrss) / 1024
}

/// User and system CPU seconds of every thread of this process so far.
func processCPU() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
}

var events = 1_000_000
var dir = "/tmp/trellis-bench"
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--events": events = Int(args.next() ?? "") ?? events
    case "--dir": dir = args.next() ?? dir
    default:
        print("usage: trellis-bench [--events N] [--dir DIR]")
        exit(64)
    }
}
mkdir(dir, 0o755)
let input = dir + "/region.ndjson"
let ledgerPath = dir + "/bench.db"
let rawPath = dir + "/raw.db"
for p in [ledgerPath, rawPath] { for s in ["", "-wal", "-shm", "-journal"] { unlink(p + s) } }

// 1. Generate.
var t0 = now()
// About 42 events per organisation per year: 12 networks × 10 years, orgs sized to reach N.
let options = GeneratorOptions(networks: 12, orgs: max(60, events / 400), years: 10, seed: 42, maxEvents: events)
let fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
RegionGenerator(options).runChunks { chunk in _ = write(fd, chunk.baseAddress, chunk.count) }
close(fd)
let genSeconds = now() - t0
let inputBytes = fileSize(input)

// 2. Trellis import.
let ledger = try Ledger.open(at: ledgerPath, create: true)
let reader = try LineReader(path: input)
t0 = now()
let importCPU0 = processCPU()
let outcome = try ledger.append { visit in
    try reader.forEachLine { line, n, _ in try visit(line, n, nil) }
}
let oursSeconds = now() - t0
let importCPU = processCPU() - importCPU0
reader.close()
let oursRSS = peakRSSMB()
let n = outcome.appended

// 3. Raw sqlite3 insert of the same lines.
var db: OpaquePointer?
sqlite3_open(rawPath, &db)
sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE lines(seq INTEGER PRIMARY KEY, line TEXT NOT NULL)", nil, nil, nil)
var stmt: OpaquePointer?
sqlite3_prepare_v2(db, "INSERT INTO lines(seq, line) VALUES (?, ?)", -1, &stmt, nil)
let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
let rawReader = try LineReader(path: input)
t0 = now()
sqlite3_exec(db, "BEGIN", nil, nil, nil)
var seq: Int64 = 0
try rawReader.forEachLine { line, _, _ in
    seq += 1
    sqlite3_bind_int64(stmt, 1, seq)
    sqlite3_bind_text(stmt, 2, UnsafeRawPointer(line.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(line.count), transient)
    sqlite3_step(stmt)
    sqlite3_reset(stmt)
    return true
}
sqlite3_exec(db, "COMMIT", nil, nil, nil)
let rawSeconds = now() - t0
sqlite3_finalize(stmt)

// 3b. The import limit: the same rows (as the Trellis import stored them) into the same
//     `events` schema (unique id, 32-byte hash blob), raw C API, one transaction, the same
//     cache, with each journal, page size and number of rows a statement (``importLimit(from:into:)``).
//     Rows are read from the ledger in chunks outside the clock.
let sameSchemaPath = dir + "/raw-events.db"
let sameSchema = importLimit(from: ledgerPath, into: sameSchemaPath)

// 3b'. Not the target's limit, but the ceiling under it: the SQL any import of these events must
//      do is the log's rows and the rule tables' (``ruleRows(of:)``). Both raw, at the limit's
//      fastest setting, back to back, the faster of two runs each.
//      The same at a new ledger's page size (``Ledger/pageSize``), with the rollback journal
//      an import into an empty ledger writes.
let importRuleRows = ruleRows(of: ledgerPath)
var eventsAlone = Double.infinity, withRuleRows = Double.infinity, withRuleRowsOwnPages = Double.infinity
for _ in 0..<2 {
    eventsAlone = min(eventsAlone, rawSameSchemaInsert(from: ledgerPath, into: sameSchemaPath, journal: sameSchema.journal, pageSize: sameSchema.pageSize,
                                                       rowsPerStatement: sameSchema.rowsPerStatement).seconds)
    withRuleRows = min(withRuleRows, rawSameSchemaInsert(from: ledgerPath, into: sameSchemaPath, journal: sameSchema.journal, pageSize: sameSchema.pageSize,
                                                         rowsPerStatement: sameSchema.rowsPerStatement, ruleRows: importRuleRows).seconds)
    withRuleRowsOwnPages = min(withRuleRowsOwnPages, rawSameSchemaInsert(from: ledgerPath, into: sameSchemaPath, journal: "DELETE", pageSize: Ledger.pageSize,
                                                                         rowsPerStatement: PendingEvents.largeGroup, ruleRows: importRuleRows).seconds)
}

// 3b''. Why a first import holds its rows for 256 a statement (PendingEvents.swift): the raw
//       insert of the events at a new ledger's page size, rollback journal, with each number of
//       rows a statement, µs a row (the insert loop and the commit).
let rowsPerStatementSweep: [(rows: Int, microseconds: Double)] = [1, 8, 32, 64, PendingEvents.largeGroup].map { k in
    let r = rawSameSchemaInsert(from: ledgerPath, into: sameSchemaPath, journal: "DELETE", pageSize: Ledger.pageSize, rowsPerStatement: k)
    return (k, r.seconds / Double(max(r.rows, 1)) * 1e6)
}

// 3c. Two more pairs, each an import into a scratch ledger and then the limit again, back to
//     back: the machine's speed drifts within a run (the same import has taken 3.8 to 5.3 CPU
//     seconds here), so the ratio is also given as the median of three pairs measured together.
let scratchPath = dir + "/scratch.db"
/// Two more ratios of an import into a scratch ledger (`run` imports and returns how many
/// events it appended) to the same-schema limit measured right after it.
func twoMorePairs(_ run: (Ledger) throws -> Int) throws -> [Double] {
    var ratios: [Double] = []
    for _ in 0..<2 {
        for s in ["", "-wal", "-shm", "-journal"] { unlink(scratchPath + s) }
        let seconds: Double, appended: Int
        do {
            let scratch = try Ledger.open(at: scratchPath, create: true)
            let start = now()
            appended = try run(scratch)
            seconds = now() - start
        }
        let limit = importLimit(from: ledgerPath, into: sameSchemaPath)
        ratios.append(Double(appended) / seconds / (Double(limit.rows) / limit.seconds))
    }
    for s in ["", "-wal", "-shm", "-journal"] { unlink(scratchPath + s) }
    return ratios
}
let importPairs = [Double(n) / oursSeconds / (Double(sameSchema.rows) / sameSchema.seconds)] + (try twoMorePairs { scratch in
    let lines = try LineReader(path: input)
    defer { lines.close() }
    return try scratch.append { visit in try lines.forEachLine { line, n, _ in try visit(line, n, nil) } }.appended
})

/// The median of three or more ratios, and all of them, for a line of the report.
func pairsLine(_ ratios: [Double]) -> String {
    let sorted = ratios.sorted()
    return "median of \(ratios.count) pairs measured back to back \(ratio(sorted[sorted.count / 2], 1))× ("
        + ratios.map { ratio($0, 1) + "×" }.joined(separator: ", ") + ")"
}

// 4. Verify vs raw scan.
t0 = now()
let report = try ledger.verify()
let verifySeconds = now() - t0
sqlite3_prepare_v2(db, "SELECT seq, line FROM lines ORDER BY seq", -1, &stmt, nil)
t0 = now()
var scanned = 0
var sink = 0
while sqlite3_step(stmt) == SQLITE_ROW {
    scanned += 1
    sink &+= Int(sqlite3_column_bytes(stmt, 1))
}
let scanSeconds = now() - t0
sqlite3_finalize(stmt)
sqlite3_close(db)

// 5. Projections: full rebuild of every built-in read model, then catch-up after one event.
let engine = try ProjectionEngine(ledger: ledger)
resetPeakRSS()
t0 = now()
try engine.rebuild()
let rebuildSeconds = now() - t0
let rebuildRSS = residentHighWaterMB()
let rebuildLine = rebuildRow(events: Int(try ledger.head().seq), seconds: rebuildSeconds, rss: rebuildRSS, path: ledgerPath, dir: dir)
let lastMeeting = try ReadSide(ledger: ledger).read { db in try String.fetchOne(db, sql: "SELECT meeting_id FROM meetings ORDER BY seq DESC LIMIT 1") } ?? ""
let lastOrg = try ReadSide(ledger: ledger).read { db in try String.fetchOne(db, sql: "SELECT org_id FROM attendance WHERE meeting_id = ? LIMIT 1", arguments: [lastMeeting]) } ?? ""
_ = try ledger.append(json: #"{"type":"AttendanceRecorded","occurred_at":"2030-01-01","data":{"meeting_id":"\#(lastMeeting)","org_id":"\#(lastOrg)","status":"present"}}"#)
t0 = now()
try engine.catchUp()
let catchUpMs = (now() - t0) * 1000

// 5b. Full verify's derived-state check: the log replayed through the rules into a scratch
//     ledger and the rule tables compared, then every read model against a scratch rebuild.
t0 = now()
let derived = try ledger.verifyDerivedState()
let derivedSeconds = now() - t0
t0 = now()
let models = try engine.checkReadModels()
let modelsSeconds = now() - t0
let derivedOK = derived.findings.isEmpty && models.allSatisfy { $0.state == .consistent }

// 5c. Verify next to its limits (see `verifyRows`): the chain on one core and on every core
//     against SHA-256 of the same canonical bytes on one core; full verify (the replay and the
//     read-model rebuilds at once) against the rebuild limit.
let verifyLines = try verifyRows(ledger: ledger, engine: engine, path: ledgerPath, dir: dir)

let ledgerBytes = fileSize(ledgerPath) + fileSize(ledgerPath + "-wal")
func rate(_ count: Int, _ s: Double) -> String { String(Int(Double(count) / s / 1000)) + " k/s" }
func ratio(_ a: Double, _ b: Double) -> String { String(Double(Int(a / b * 100)) / 100) }
print("""
    trellis-bench: \(n) events (\(inputBytes / Int64(max(n, 1))) B/line NDJSON, generated in \(format1(genSeconds)) s)

    import      trellis \(rate(n, oursSeconds))   raw sqlite3 insert, same schema \(rate(sameSchema.rows, sameSchema.seconds)) (the fastest of twelve: \(sameSchema.setting); the slowest \(sameSchema.slowest) \(rate(sameSchema.rows, sameSchema.slowestSeconds)))   ratio \(ratio(Double(n) / oursSeconds, Double(sameSchema.rows) / sameSchema.seconds))× (target ≥ 0.75×)
                \(pairsLine(importPairs))
                the SQL an import must do, raw (\(sameSchema.setting)): the events and the \(importRuleRows.count) rule-table rows they write \(rate(sameSchema.rows, withRuleRows)), the events alone \(rate(sameSchema.rows, eventsAlone)) (\(ratio(eventsAlone, withRuleRows))×); trellis at \(ratio(Double(n) / oursSeconds, Double(sameSchema.rows) / withRuleRows))× of the first
                the same SQL with a new ledger's \(Ledger.pageSize / 1024) KiB pages, the rollback journal and \(PendingEvents.largeGroup) rows a statement, as a first import writes: \(format2(withRuleRowsOwnPages)) s, \(ratio(eventsAlone, withRuleRowsOwnPages))× of the limit's events alone; trellis \(format2(oursSeconds)) s
                rows a statement, raw, \(Ledger.pageSize / 1024) KiB pages, rollback journal, µs a row: \(rowsPerStatementSweep.map { "\($0.rows): \(format2($0.microseconds))" }.joined(separator: ", "))
                lines only: raw sqlite3 insert \(rate(Int(seq), rawSeconds))   ratio \(ratio(Double(n) / oursSeconds, Double(seq) / rawSeconds))×
                CPU \(format2(importCPU)) s in all threads over \(format2(oursSeconds)) s wall: \(format2(importCPU / oursSeconds)) cores busy
    verify      trellis \(rate(Int(report.events), verifySeconds))   raw sqlite3 scan \(rate(scanned, scanSeconds))   ratio \(ratio(Double(report.events) / verifySeconds, Double(scanned) / scanSeconds))× raw
    \(rebuildLine)
    catch-up    after one appended event: \(format1(catchUpMs)) ms (target < 5 ms)
    derived     rule tables, keys, checkpoints \(rate(Int(derived.headSeq), derivedSeconds)) (\(format1(derivedSeconds)) s); read models vs a rebuild \(format1(modelsSeconds)) s; full verify ≈ \(format1(verifySeconds + derivedSeconds + modelsSeconds)) s, \(derivedOK ? "consistent" : "DIFFERS")
    peak RSS    of this bench process, which holds everything it ran: \(Int(oursRSS)) MB after import, \(Int(rebuildRSS)) MB after rebuild (the target, < 150 MB and flat, is each command as its own process: below)
    on disk     \(ledgerBytes / Int64(max(n, 1))) B/event (ledger, with rule tables and indexes)   \(fileSize(rawPath) / Int64(max(Int(seq), 1))) B/line (raw table)
    chain       \(report.ok ? "ok" : "BROKEN"), head \(Hex.encode(report.head).prefix(16))…  (\(scanned) raw rows, \(sink / max(scanned, 1)) B each)
    """)
print(verifyLines)
print(childRSSLines(input: input, dir: dir, events: n))

func format1(_ x: Double) -> String { String(Double(Int(x * 10)) / 10) }
func format2(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }

// 6. Research archives (TrellisResearch): export the bench ledger to an LZ4 archive (fast and
//    HC), verify it on its own, import it into an empty ledger (chain checked, rules and rule
//    tables as for a normal import), and compute the Merkle root of the log once.
let archivePath = dir + "/bench.trellis.lz4"
let archiveHCPath = dir + "/bench-hc.trellis.lz4"
let importedPath = dir + "/imported.db"
for p in [archivePath, archiveHCPath] { unlink(p) }
for s in ["", "-wal", "-shm", "-journal"] { unlink(importedPath + s) }
t0 = now()
let exported = try ArchiveExporter.export(from: ledger, to: archivePath, options: ExportOptions(force: true))
let exportSeconds = now() - t0
t0 = now()
let exportedHC = try ArchiveExporter.export(from: ledger, to: archiveHCPath, options: ExportOptions(highCompression: true, force: true))
let exportHCSeconds = now() - t0
t0 = now()
let archiveManifest = try ArchiveReader.verify(path: archivePath)
let archiveVerifySeconds = now() - t0
let importedLedger = try Ledger.open(at: importedPath, create: true)
t0 = now()
let archiveImportCPU0 = processCPU()
let archiveImport = try ArchiveImporter.run(path: archivePath, into: importedLedger)
let archiveImportSeconds = now() - t0
let archiveImportCPU = processCPU() - archiveImportCPU0
let archiveRSS = peakRSSMB()
let sameHead = archiveImport.outcome.head.hash == (try ledger.head().hash)
// The limit again right after it, then two more pairs (as for the NDJSON import, 3c).
let archiveLimit = importLimit(from: ledgerPath, into: sameSchemaPath)
let archivePairs = [Double(archiveImport.outcome.appended) / archiveImportSeconds / (Double(archiveLimit.rows) / archiveLimit.seconds)]
    + (try twoMorePairs { scratch in try ArchiveImporter.run(path: archivePath, into: scratch).outcome.appended })
t0 = now()
let merkleRoot = try MerkleTree.root(size: Int(archiveManifest.events), leaves: MerkleLeaves.ledger(ledger))
let merkleSeconds = now() - t0
func mbps(_ bytes: Int64, _ s: Double) -> String { String(Int(Double(bytes) / s / 1_000_000)) + " MB/s" }
let archived = archiveImport.outcome.appended
print("""

    archive     \(archiveManifest.events) events, \(exported.ndjsonBytes / 1_000_000) MB NDJSON
    export      \(mbps(exported.ndjsonBytes, exportSeconds)) of NDJSON before compression (target ≥ 300 MB/s)   \(format1(exportSeconds)) s wall
                stages (CPU s): scan+lines \(format2(exported.scanCPUSeconds))   compress \(format2(exported.compressCPUSeconds))   → \(mbps(exported.ndjsonBytes, max(exported.scanCPUSeconds, exported.compressCPUSeconds))) with both on free cores
    ratio       lz4 \(ratio(Double(exported.ndjsonBytes), Double(exported.archiveBytes)))× (\(exported.archiveBytes / 1_000_000) MB)   lz4 HC-9 \(ratio(Double(exportedHC.ndjsonBytes), Double(exportedHC.archiveBytes)))× (\(exportedHC.archiveBytes / 1_000_000) MB, \(mbps(exportedHC.ndjsonBytes, exportHCSeconds)))
    verify      --archive \(rate(Int(archiveManifest.events), archiveVerifySeconds))   \(mbps(exported.ndjsonBytes, archiveVerifySeconds)) of NDJSON
    import      archive \(rate(archived, archiveImportSeconds))   raw sqlite3 insert, same schema, right after \(rate(archiveLimit.rows, archiveLimit.seconds)) (the fastest of twelve: \(archiveLimit.setting); the slowest \(archiveLimit.slowest) \(rate(archiveLimit.rows, archiveLimit.slowestSeconds)))   ratio \(ratio(Double(archived) / archiveImportSeconds, Double(archiveLimit.rows) / archiveLimit.seconds))× (target ≥ 0.75×)   same head: \(sameHead ? "yes" : "NO")
                \(pairsLine(archivePairs))
                lines only: ratio \(ratio(Double(archived) / archiveImportSeconds, Double(seq) / rawSeconds))× raw
                CPU \(format2(archiveImportCPU)) s in all threads over \(format2(archiveImportSeconds)) s wall: \(format2(archiveImportCPU / archiveImportSeconds)) cores busy
    merkle      root of \(archiveManifest.events) leaves in \(format1(merkleSeconds * 1000)) ms (\(Hex.encode(Array(merkleRoot)).prefix(16))…)
    peak RSS    \(Int(archiveRSS)) MB after the archive round trip
    """)

// 7. Reports on the 1 M-event ledger with current read models (each the best of three, as
// the CLI runs them: catch-up, scope, figures), and betweenness on a 3,000-node graph.
func bestOf3(_ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<3 {
        let t = now()
        try body()
        best = min(best, now() - t)
    }
    return best * 1000
}
let reportEngine = try ProjectionEngine(ledger: ledger)
try reportEngine.catchUp()
let source = try ReportSource(ledger: ledger, engine: reportEngine)
let query = ReportQuery()
let reportTimes: [(String, Double)] = [
    ("participation", try bestOf3 { _ = try ReportSource(ledger: ledger, engine: reportEngine).participation(query) }),
    ("coverage", try bestOf3 { _ = try source.coverage(query) }),
    ("outcomes", try bestOf3 { _ = try source.outcomes(query) }),
    ("documents", try bestOf3 { _ = try source.documents(query) }),
    ("graph", try bestOf3 { _ = try source.graph(query) }),
    ("summary", try bestOf3 { _ = try source.summary(query, commandLine: "trellis-bench") }),
]
var rng = SystemRandomNumberGenerator()
var sparse = WeightedGraph()
for i in 0..<3000 { sparse.addNode("n\(i)") }
while sparse.edgeCount < 15_000 {
    let a = Int.random(in: 0..<3000, using: &rng), b = Int.random(in: 0..<3000, using: &rng)
    if a != b { sparse.addEdge("n\(a)", "n\(b)") }
}
let betweennessMs = bestOf3 { _ = GraphMetrics.betweenness(sparse) }
print("""

    reports     \(reportTimes.map { "\($0.0) \(Int($0.1)) ms" }.joined(separator: ", ")) (target < 100 ms each)
    betweenness 3,000 nodes, 15,000 edges: \(Int(betweennessMs)) ms (target < 2 s)
    """)
print(try reportCacheRows(ledger: ledger, engine: reportEngine, path: ledgerPath, dir: dir))

/// The import limit: the fastest of ``rawSameSchemaInsert(from:into:journal:pageSize:rowsPerStatement:ruleRows:)``
/// with a rollback journal (as an import into an empty ledger writes, BulkLoad.swift) and with
/// the WAL (as any other import writes), each with 4 KiB pages (SQLite's default), 16 KiB (a
/// new ledger's, ``Ledger/pageSize``) and 64 KiB (SQLite's largest), each with a row or 256
/// rows a statement, measured back to back: the best the raw C API does with any page size
/// the ledger could have chosen and either way of inserting. The slowest's time is kept for
/// the report.
struct ImportLimit {
    var rows: Int, seconds: Double, setting: String
    /// The slowest setting and its time.
    var slowest: String, slowestSeconds: Double
    /// The fastest setting, for ``rawSameSchemaInsert(from:into:journal:pageSize:rowsPerStatement:ruleRows:)``
    /// with the rule tables' rows too.
    var journal: String, pageSize: Int, rowsPerStatement: Int
}

func importLimit(from ledgerPath: String, into path: String) -> ImportLimit {
    var runs: [(setting: String, rows: Int, seconds: Double, journal: String, pageSize: Int, rowsPerStatement: Int)] = []
    for pageSize in [4096, 16_384, 65_536] {
        for (journal, name) in [("DELETE", "rollback journal"), ("WAL", "WAL")] {
            for rowsPerStatement in [1, PendingEvents.largeGroup] {
                let r = rawSameSchemaInsert(from: ledgerPath, into: path, journal: journal, pageSize: pageSize, rowsPerStatement: rowsPerStatement)
                runs.append(("\(name), \(pageSize / 1024) KiB pages, \(rowsPerStatement == 1 ? "a row" : "\(rowsPerStatement) rows") a statement",
                             r.rows, r.seconds, journal, pageSize, rowsPerStatement))
            }
        }
    }
    let sorted = runs.sorted { $0.seconds < $1.seconds }
    let best = sorted[0], worst = sorted[sorted.count - 1]
    return ImportLimit(rows: best.rows, seconds: best.seconds, setting: best.setting, slowest: worst.setting, slowestSeconds: worst.seconds,
                       journal: best.journal, pageSize: best.pageSize, rowsPerStatement: best.rowsPerStatement)
}

/// The rows of the rule tables an import writes beside the log, as they stand in the ledger at
/// `ledgerPath` once it is done, each with the seq of the event that wrote it (a person's key
/// with the seq of the registration): `rule_entities`, `rule_memberships`, `retractions` and
/// `person_keys`. Not the import's exact writes (it also updates some entity rows, and an
/// erasure deletes a key): the least SQL any import of these events must do beside the log.
struct RuleRow {
    var seq: Int64
    /// 0 entity (kind, key, seq, parent, state), 1 membership (network, org, seq, joined),
    /// 2 retraction (target, seq), 3 person key (person, key).
    var table: Int
    var texts: [String?]
    var ints: [Int64]
    var blob: [UInt8] = []
}

func ruleRows(of ledgerPath: String) -> [RuleRow] {
    var src: OpaquePointer?
    sqlite3_open_v2(ledgerPath, &src, SQLITE_OPEN_READONLY, nil)
    defer { sqlite3_close(src) }
    var rows: [RuleRow] = []
    func each(_ sql: String, _ row: (OpaquePointer) -> RuleRow) {
        var st: OpaquePointer?
        sqlite3_prepare_v2(src, sql, -1, &st, nil)
        while let st, sqlite3_step(st) == SQLITE_ROW { rows.append(row(st)) }
        sqlite3_finalize(st)
    }
    func text(_ st: OpaquePointer, _ c: Int32) -> String? {
        sqlite3_column_type(st, c) == SQLITE_NULL ? nil : String(cString: sqlite3_column_text(st, c))
    }
    each("SELECT kind, key, seq, parent, state FROM rule_entities") { st in
        RuleRow(seq: sqlite3_column_int64(st, 2), table: 0, texts: [text(st, 0), text(st, 1), text(st, 3)], ints: [sqlite3_column_int64(st, 4)])
    }
    each("SELECT network_id, org_id, seq, joined FROM rule_memberships") { st in
        RuleRow(seq: sqlite3_column_int64(st, 2), table: 1, texts: [text(st, 0), text(st, 1)], ints: [sqlite3_column_int64(st, 3)])
    }
    each("SELECT target_seq, retraction_seq FROM retractions") { st in
        RuleRow(seq: sqlite3_column_int64(st, 1), table: 2, texts: [], ints: [sqlite3_column_int64(st, 0)])
    }
    each("SELECT k.person_id, k.key, e.seq FROM person_keys k JOIN rule_entities e ON e.kind = 'person' AND e.key = k.person_id") { st in
        let n = Int(sqlite3_column_bytes(st, 1))
        let blob = n > 0 ? Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(st, 1), count: n)) : []
        return RuleRow(seq: sqlite3_column_int64(st, 2), table: 3, texts: [text(st, 0)], ints: [], blob: blob)
    }
    return rows.sorted { $0.seq < $1.seq }
}

/// One measurement of the import limit: every row of `events` in the ledger at `ledgerPath`,
/// inserted with the raw C API into a fresh file with the same `events` table (same columns,
/// `id UNIQUE`, 32-byte `hash`), one prepared statement, one transaction, `synchronous = FULL`,
/// the import's 64 MB cache, in `journal` mode, with pages of `pageSize` bytes. Rows are read
/// 16 k at a time into memory off the clock, so memory stays flat and only the inserts (and
/// the commit) are timed.
///
/// With `ruleRows` (``ruleRows(of:)``), the rule tables too (the ledger's own DDL), each row
/// inserted just before the event that wrote it, each table through its own prepared
/// statement, in the same transaction: the SQL an import must do, and nothing else.
///
/// `rowsPerStatement` above 1: that many rows to a statement (`INSERT … VALUES (…), (…), …`),
/// which SQLite takes faster than a statement a row (PendingEvents.swift), the rest of each
/// chunk one at a time.
func rawSameSchemaInsert(from ledgerPath: String, into path: String, journal: String, pageSize: Int, rowsPerStatement: Int = 1,
                         ruleRows: [RuleRow]? = nil) -> (rows: Int, seconds: Double) {
    for s in ["", "-wal", "-shm", "-journal"] { unlink(path + s) }
    var src: OpaquePointer?, dst: OpaquePointer?
    sqlite3_open_v2(ledgerPath, &src, SQLITE_OPEN_READONLY, nil)
    sqlite3_open(path, &dst)
    sqlite3_exec(dst, """
        PRAGMA page_size=\(pageSize); PRAGMA journal_mode=\(journal); PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;
        CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, v INTEGER NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT, data TEXT NOT NULL, hash BLOB NOT NULL)
        """, nil, nil, nil)
    var ruleStatements: [OpaquePointer?] = [nil, nil, nil, nil]
    if ruleRows != nil {
        // The rule tables as the ledger itself declares them (its `sqlite_master`), not a copy.
        var ddl: OpaquePointer?
        sqlite3_prepare_v2(src, """
            SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN ('rule_entities', 'rule_memberships', 'retractions', 'person_keys')
            """, -1, &ddl, nil)
        while let ddl, sqlite3_step(ddl) == SQLITE_ROW, let sql = sqlite3_column_text(ddl, 0) {
            sqlite3_exec(dst, String(cString: sql), nil, nil, nil)
        }
        sqlite3_finalize(ddl)
        for (k, sql) in ["INSERT INTO rule_entities (kind, key, seq, parent, state) VALUES (?, ?, ?, ?, ?)",
                         "INSERT INTO rule_memberships (network_id, org_id, seq, joined) VALUES (?, ?, ?, ?)",
                         "INSERT INTO retractions (target_seq, retraction_seq) VALUES (?, ?)",
                         "INSERT INTO person_keys (person_id, key) VALUES (?, ?)"].enumerated() {
            sqlite3_prepare_v2(dst, sql, -1, &ruleStatements[k], nil)
        }
    }
    // Its own: the script's top-level `transient` is the main actor's.
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    var nextRule = 0
    /// Inserts the rule rows written by events up to `seq`.
    func insertRuleRows(through seq: Int64) {
        guard let ruleRows else { return }
        while nextRule < ruleRows.count, ruleRows[nextRule].seq <= seq {
            let r = ruleRows[nextRule]
            nextRule += 1
            let st = ruleStatements[r.table]
            func bind(_ i: Int32, _ t: String?) {
                if let t { sqlite3_bind_text(st, i, t, -1, transient) } else { sqlite3_bind_null(st, i) }
            }
            switch r.table {
            case 0: bind(1, r.texts[0]); bind(2, r.texts[1]); sqlite3_bind_int64(st, 3, r.seq); bind(4, r.texts[2]); sqlite3_bind_int64(st, 5, r.ints[0])
            case 1: bind(1, r.texts[0]); bind(2, r.texts[1]); sqlite3_bind_int64(st, 3, r.seq); sqlite3_bind_int64(st, 4, r.ints[0])
            case 2: sqlite3_bind_int64(st, 1, r.ints[0]); sqlite3_bind_int64(st, 2, r.seq)
            default: bind(1, r.texts[0]); r.blob.withUnsafeBytes { _ = sqlite3_bind_blob(st, 2, $0.baseAddress, Int32($0.count), transient) }
            }
            sqlite3_step(st)
            sqlite3_reset(st)
        }
    }
    var read: OpaquePointer?, insert: OpaquePointer?
    sqlite3_prepare_v2(src, "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq", -1, &read, nil)
    sqlite3_prepare_v2(dst, "INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &insert, nil)
    var insertMany: OpaquePointer?
    if rowsPerStatement > 1 {
        sqlite3_prepare_v2(dst, "INSERT INTO events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) VALUES "
                           + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rowsPerStatement).joined(separator: ", "), -1, &insertMany, nil)
    }
    // One chunk: the text/blob columns of each row back to back in `bytes`, their ends in `ends`.
    let textColumns: [Int32] = [1, 2, 4, 5, 6, 7, 8]
    var bytes: [UInt8] = [], ends: [Int] = [], ints: [(Int64, Int64)] = [], nullActor: [Bool] = []
    var rows = 0, seconds = 0.0, more = true
    var t = now()
    sqlite3_exec(dst, "BEGIN", nil, nil, nil)
    seconds += now() - t
    while more {
        bytes.removeAll(keepingCapacity: true); ends.removeAll(keepingCapacity: true)
        ints.removeAll(keepingCapacity: true); nullActor.removeAll(keepingCapacity: true)
        while ints.count < 16_384 {
            guard sqlite3_step(read) == SQLITE_ROW else { more = false; break }
            ints.append((sqlite3_column_int64(read, 0), sqlite3_column_int64(read, 3)))
            nullActor.append(sqlite3_column_type(read, 6) == SQLITE_NULL)
            for c in textColumns {
                let n = Int(sqlite3_column_bytes(read, c))
                if n > 0, let p = sqlite3_column_blob(read, c) {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
                }
                ends.append(bytes.count)
            }
        }
        t = now()
        bytes.withUnsafeBufferPointer { b in
            let base = UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            var start = 0
            var r = 0
            while r < ints.count {
                // `rowsPerStatement` rows through the multi-row statement while that many are
                // left in the chunk, else one through the one-row statement.
                let group = ints.count - r >= rowsPerStatement ? rowsPerStatement : 1
                let statement = group == 1 ? insert : insertMany
                if ruleRows != nil { insertRuleRows(through: ints[r + group - 1].0) }
                for g in 0..<group {
                    let o = Int32(g * 9)
                    sqlite3_bind_int64(statement, o + 1, ints[r].0)
                    sqlite3_bind_int64(statement, o + 4, ints[r].1)
                    for (k, c) in textColumns.enumerated() {
                        let end = ends[r * textColumns.count + k]
                        let p = (base + start).assumingMemoryBound(to: CChar.self)
                        if c == 6 && nullActor[r] {
                            sqlite3_bind_null(statement, o + c + 1)
                        } else if c == 8 {
                            sqlite3_bind_blob(statement, o + c + 1, p, Int32(end - start), nil)
                        } else {
                            sqlite3_bind_text(statement, o + c + 1, p, Int32(end - start), nil)
                        }
                        start = end
                    }
                    r += 1
                }
                sqlite3_step(statement)
                sqlite3_reset(statement)
            }
        }
        seconds += now() - t
        rows += ints.count
    }
    t = now()
    insertRuleRows(through: .max)
    sqlite3_exec(dst, "COMMIT", nil, nil, nil)
    seconds += now() - t
    sqlite3_finalize(read); sqlite3_finalize(insert); sqlite3_finalize(insertMany)
    for st in ruleStatements { sqlite3_finalize(st) }
    sqlite3_close(src); sqlite3_close(dst)
    return (rows, seconds)
}

// MARK: - Rebuild row (5)

/// The rebuild row: `projections rebuild` of every built-in, timed by the caller, next to the
/// rebuild limit measured right after it in this run (a raw scan of `events`, then a raw bulk
/// insert of the final rows of every read model, with their indexes: ``rebuildLimit(path:dir:)``),
/// with the ratio and the peak resident set during the rebuild alone.
func rebuildRow(events n: Int, seconds: Double, rss: Double, path: String, dir: String) -> String {
    let limit = rebuildLimit(path: path, dir: dir)
    let ours = Double(n) / seconds, bound = Double(n) / limit.seconds
    return "rebuild     all read models \(Int(ours / 1000)) k events/s (\(format2(seconds)) s)   rebuild limit (scan + bulk insert of \(limit.rows) read-model rows) \(Int(bound / 1000)) k/s   ratio \(format2(ours / bound))× (target ≥ 0.75×)   bench process peak RSS \(Int(rss)) MB"
}

// MARK: - Verify rows (5c)

/// Peak resident set since the last ``resetPeakRSS()`` (VmHWM), in MB.
func residentHighWaterMB() -> Double {
    guard let f = fopen("/proc/self/status", "r") else { return peakRSSMB() }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            return Double(text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) / 1024
        }
    }
    return peakRSSMB()
}

/// Resets VmHWM to the current resident set (Linux: `echo 5 > /proc/self/clear_refs`).
func resetPeakRSS() {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    if fd >= 0 { _ = write(fd, "5", 1); close(fd) }
}

/// SHA-256 chained over the canonical envelopes of 64 k events spread evenly over the log
/// (every k-th: the log's first events, registrations, are longer than its average, which
/// made the limit slower than the log it stands for), built once from the stored columns and
/// held in memory, cycled to `total` events, on this one core: events per second. The limit
/// of the chain check on one core. Each step is the cheapest call there is, the one verify
/// makes (``ChainSHA256``: BoringSSL's context on the stack, nothing allocated; the previous
/// hash and the envelope hashed where they lie).
func sha256ChainRate(path: String, total: Int) -> Double {
    var c: OpaquePointer?
    sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, nil)
    defer { sqlite3_close(c) }
    var s: OpaquePointer?
    sqlite3_prepare_v2(c, "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data FROM events WHERE seq % ? = 0 ORDER BY seq LIMIT 65536", -1, &s, nil)
    sqlite3_bind_int64(s, 1, Int64(max(1, total / 65536)))
    var bytes: [UInt8] = []
    var ends: [Int] = []
    let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    while sqlite3_step(s) == SQLITE_ROW {
        CanonicalEnvelope.write(seq: Raw.int(s!, 0), id: Raw.column(s!, 1) ?? empty, type: Raw.column(s!, 2) ?? empty, v: Raw.int(s!, 3),
                                occurredAt: Raw.column(s!, 4) ?? empty, recordedAt: Raw.column(s!, 5) ?? empty,
                                actor: Raw.column(s!, 6), data: Raw.column(s!, 7) ?? empty, into: &bytes)
        ends.append(bytes.count)
    }
    sqlite3_finalize(s)
    guard !ends.isEmpty, total > 0 else { return 0 }
    var previous = Digest32()
    let t0 = now()
    bytes.withUnsafeBytes { all in
        var done = 0
        while done < total {
            var start = 0
            for end in ends where done < total {
                previous = previous.withUnsafeBufferPointer { p in
                    ChainSHA256.digest(UnsafeRawBufferPointer(p), UnsafeRawBufferPointer(rebasing: all[start..<end]))
                }
                start = end
                done += 1
            }
        }
    }
    let seconds = now() - t0
    if previous == Digest32() { print("sha256: unexpected digest") }
    return Double(total) / seconds
}

/// The rebuild limit: the fastest of ``rebuildLimit(path:dir:pageSize:)`` into a file of 4, 16
/// (a new ledger's) and 64 KiB pages.
func rebuildLimit(path: String, dir: String) -> (seconds: Double, rows: Int) {
    [4096, 16_384, 65_536].map { rebuildLimit(path: path, dir: dir, pageSize: $0) }.min { $0.seconds < $1.seconds }!
}

/// One measurement of the rebuild limit: a raw scan of `events` (every column read), then the
/// final rows of every read model inserted, with the C API in one transaction, into empty
/// tables that already have their indexes (schema copied from the ledger), streamed from the
/// ledger's built tables, in a file of `pageSize`-byte pages. Returns (seconds, rows inserted).
func rebuildLimit(path: String, dir: String, pageSize: Int) -> (seconds: Double, rows: Int) {
    let own: Set<String> = ["events", "rule_entities", "rule_memberships", "retractions", "person_keys", "ledger_meta", "projection_state"]
    let target = dir + "/rebuild-limit.db"
    for suffix in ["", "-wal", "-shm", "-journal"] { unlink(target + suffix) }
    defer { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(target + suffix) } }
    var src: OpaquePointer?, dst: OpaquePointer?
    sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, nil)
    sqlite3_open(target, &dst)
    defer { sqlite3_close(src); sqlite3_close(dst) }
    var s: OpaquePointer?
    // The read models' tables and indexes, as the ledger holds them.
    var tables: [String] = []
    var schema: [String] = []
    sqlite3_prepare_v2(src, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY type = 'index', name", -1, &s, nil)
    while sqlite3_step(s) == SQLITE_ROW {
        let type = Raw.string(s!, 0) ?? "", name = Raw.string(s!, 1) ?? "", table = Raw.string(s!, 2) ?? ""
        guard !own.contains(table) else { continue }
        if type == "table" { tables.append(name) }
        schema.append(Raw.string(s!, 3) ?? "")
    }
    sqlite3_finalize(s)
    sqlite3_exec(dst, "PRAGMA page_size = \(pageSize); PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", nil, nil, nil)
    for sql in schema { sqlite3_exec(dst, sql, nil, nil, nil) }
    let t0 = now()
    // Scan of the log.
    sqlite3_prepare_v2(src, "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq", -1, &s, nil)
    var sink = 0
    while sqlite3_step(s) == SQLITE_ROW {
        for i in Int32(0)..<9 { sink &+= Int(sqlite3_column_bytes(s, i)) }
    }
    sqlite3_finalize(s)
    // Bulk insert of the final rows.
    var rows = 0
    sqlite3_exec(dst, "BEGIN", nil, nil, nil)
    for table in tables {
        sqlite3_prepare_v2(src, "SELECT * FROM \"\(table)\"", -1, &s, nil)
        let n = sqlite3_column_count(s)
        var ins: OpaquePointer?
        sqlite3_prepare_v2(dst, "INSERT INTO \"\(table)\" VALUES (" + Array(repeating: "?", count: Int(n)).joined(separator: ", ") + ")", -1, &ins, nil)
        while sqlite3_step(s) == SQLITE_ROW {
            for i in Int32(0)..<n { sqlite3_bind_value(ins, i + 1, sqlite3_column_value(s, i)) }
            if sqlite3_step(ins) == SQLITE_DONE { rows += 1 }
            sqlite3_reset(ins)
        }
        sqlite3_finalize(ins)
        sqlite3_finalize(s)
    }
    sqlite3_exec(dst, "COMMIT", nil, nil, nil)
    let seconds = now() - t0
    if sink == 0 { print("rebuild limit: empty log") }
    return (seconds, rows)
}

/// The verify rows: each path timed in this run next to its limit, with the ratio and the peak
/// resident set during that path alone.
func verifyRows(ledger: Ledger, engine: ProjectionEngine, path: String, dir: String) throws -> String {
    let head = try ledger.head().seq
    let n = Int(head)
    // Each side of the chain's ratio is the median of three runs, alternated: each run is
    // about 0.2 s, where one busy moment of the machine moved a single run by a tenth.
    var shaRates: [Double] = [], oneTimes: [Double] = [], allTimes: [Double] = []
    var one: VerifyReport?, all: VerifyReport?
    resetPeakRSS()
    for _ in 0..<3 {
        shaRates.append(sha256ChainRate(path: path, total: n))
        var t = now()
        one = try ledger.verify(parallelism: 1)
        oneTimes.append(now() - t)
        t = now()
        all = try ledger.verify()
        allTimes.append(now() - t)
    }
    let chainRSS = residentHighWaterMB()
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    let shaRate = median(shaRates), oneSeconds = median(oneTimes), allSeconds = median(allTimes)
    var t = now()
    // Full verify as a user runs it, when the release `trellis` is next to this binary: one
    // process (the chain, the replay and the read models at once), its wall time and its own
    // peak RSS (this process's would count everything the bench holds). Else in process.
    var fullSeconds: Double, fullRSS: Double, fullOK: Bool, fullHow = "trellis verify"
    if let cli = runTrellis(["verify", "--db", path], dir: dir) {
        (fullSeconds, fullRSS, fullOK) = (cli.seconds, cli.mb, cli.status == 0)
    } else {
        resetPeakRSS()
        t = now()
        let chain = try ledger.verify()
        let (derived, models) = try engine.checkDerivedState()
        (fullSeconds, fullRSS) = (now() - t, residentHighWaterMB())
        fullOK = chain.ok && derived.findings.isEmpty && models.allSatisfy { $0.state == .consistent || $0.state == .notBuilt }
        fullHow = "in process, chain then derived state"
    }
    let chainRSSCLI = runTrellis(["verify", "--chain-only", "--db", path], dir: dir)?.mb
    // The two halves alone, one after the other (as full verify ran them before): wall time and
    // peak RSS of each, to see what running them together costs in memory.
    resetPeakRSS()
    t = now()
    _ = try ledger.verifyDerivedState()
    let replaySeconds = now() - t
    let replayRSS = residentHighWaterMB()
    resetPeakRSS()
    t = now()
    _ = try engine.checkReadModels()
    let modelsAloneSeconds = now() - t
    let modelsRSS = residentHighWaterMB()
    let limit = rebuildLimit(path: path, dir: dir)
    let limitRate = Double(n) / limit.seconds
    func k(_ r: Double) -> String { String(Int(r / 1000)) + " k/s" }
    func x(_ a: Double, _ b: Double) -> String { String(Double(Int(a / b * 100)) / 100) + "×" }
    let fullRate = Double(n) / fullSeconds
    return """

        verify (chain)  \(Ledger.verifyParallelism) cores \(k(Double(n) / allSeconds)), 1 core \(k(Double(n) / oneSeconds))   SHA-256 of the same canonical bytes, 1 core \(k(shaRate))   ratio \(x(Double(n) / allSeconds, shaRate)) (target ≥ 1.0×)   same report: \(one != nil && one == all && all?.ok == true ? "yes" : "NO")   peak RSS \(chainRSSCLI.map { "\(Int($0)) MB (trellis verify --chain-only)" } ?? "\(Int(chainRSS)) MB")
        verify (full)   chain ∥ replay ∥ read-model rebuilds (\(fullHow)) \(k(fullRate)) (\(format1(fullSeconds)) s)   rebuild limit (scan + bulk insert of \(limit.rows) read-model rows) \(k(limitRate))   ratio \(x(fullRate, limitRate)) (target ≥ 0.5×)   \(fullOK ? "consistent" : "DIFFERS")   peak RSS \(Int(fullRSS)) MB
                        one after the other: replay \(format1(replaySeconds)) s (peak RSS \(Int(replayRSS)) MB), read models \(format1(modelsAloneSeconds)) s (\(Int(modelsRSS)) MB); chain + both \(k(Double(n) / (allSeconds + replaySeconds + modelsAloneSeconds))), ratio \(x(Double(n) / (allSeconds + replaySeconds + modelsAloneSeconds), limitRate))
        """
}

// MARK: - Reports, first and repeated (7b)

/// Each report computed cold (figures, JSON, kept in the report cache), then repeated on the
/// unchanged ledger (catch-up, cache look-up) in process and as a `trellis` process (the
/// release binary beside this one), best of 3; and the graph report on a period not yet
/// cached against python-igraph's betweenness on the same graph (skipped, said so, when
/// python3 or igraph is missing).
func reportCacheRows(ledger: Ledger, engine: ProjectionEngine, path: String, dir: String) throws -> String {
    let query = ReportQuery()
    let kinds: [(String, (ReportSource) throws -> JSONValue)] = [
        ("participation", { s in let r = try s.participation(query); return JSONReports.participation(r.report, provenance: r.provenance) }),
        ("coverage", { s in let r = try s.coverage(query); return JSONReports.coverage(r.report, provenance: r.provenance) }),
        ("outcomes", { s in let r = try s.outcomes(query); return JSONReports.outcomes(r.report, provenance: r.provenance) }),
        ("documents", { s in let r = try s.documents(query); return JSONReports.documents(r.report, provenance: r.provenance) }),
        ("graph", { s in let r = try s.graph(query); return JSONReports.graph(r.report, provenance: r.provenance) }),
        ("summary", { s in JSONReports.summary(try s.summary(query, commandLine: "trellis-bench")) }),
    ]
    try ReportCache.clear(engine.readSide)
    // The CLI processes run on a copy, so that their cache entries and catch-ups never touch
    // the ledger this process holds open. (This once also hid a real bug: the erasure's key
    // search closed its own descriptors on the ledger, dropping this process's POSIX locks;
    // fixed, `ErasureLocksTests`.)
    let cliPath = dir + "/report-cli.db"
    for suffix in ["", "-wal", "-shm"] { unlink(cliPath + suffix) }
    var copier: OpaquePointer?
    sqlite3_open(path, &copier)
    sqlite3_exec(copier, "VACUUM INTO '\(cliPath)'", nil, nil, nil)
    sqlite3_close(copier)
    var lines: [String] = []
    var worst = (inProcess: 0.0, cli: 0.0)
    let binary = siblingBinary("trellis")
    for (name, compute) in kinds {
        let request = "trellis-bench " + name
        var t = now()
        let source = try ReportSource(ledger: ledger, engine: engine)
        guard case .miss(let key) = try ReportCache.lookup(source, request: request) else { return "    report cache: unexpected entry for \(name)" }
        let bytes = Array(try compute(source).rendered(pretty: true).utf8)
        let firstMs = (now() - t) * 1000
        ReportCache.store(source, key: key, output: bytes)
        var same = true
        let repeatMs = try bestOf3 {
            guard case .hit(let cached, _) = try ReportCache.lookup(ReportSource(ledger: ledger, engine: engine), request: request) else { same = false; return }
            same = same && cached == bytes
        }
        var cliText = "no trellis binary beside trellis-bench"
        if let binary {
            let args = [binary, "report", name, "--db", cliPath, "--format", "json", "--out", dir + "/report-" + name + ".json"]
            _ = spawnAndWait(args)   // cold: computes and keeps it
            var status: Int32 = 0
            t = now()
            let cliMs = bestOf3 { status |= spawnAndWait(args) }
            worst.cli = max(worst.cli, cliMs)
            cliText = "CLI process \(Int(cliMs)) ms" + (status == 0 ? "" : " (exit \(status))")
        }
        worst.inProcess = max(worst.inProcess, repeatMs)
        lines.append("    \(name + String(repeating: " ", count: max(0, 13 - name.count))) first \(Int(firstMs)) ms   repeated \(format1(repeatMs)) ms in process   \(cliText)   same bytes: \(same ? "yes" : "NO")")
    }

    // The graph report computed afresh (in process nothing is read from the cache: the
    // first time on a period), then igraph's betweenness on the same graph, as an edge list.
    let source = try ReportSource(ledger: ledger, engine: engine)
    var graph: CollaborationGraph?
    let oursMs = try bestOf3 { graph = try source.graph(query).report.whole }
    var igraphText = "python-igraph: skipped"
    if let g = graph {
        var index: [String: Int] = [:]
        for (i, node) in g.nodes.enumerated() { index[node.id] = i }
        var edgeList = "\(g.nodes.count)\n"
        for e in g.edges { edgeList += "\(index[e.source] ?? 0) \(index[e.target] ?? 0)\n" }
        let edgesPath = dir + "/graph.edges", scriptPath = dir + "/igraph_betweenness.py", outPath = dir + "/igraph.out"
        writeFile(edgesPath, edgeList)
        writeFile(scriptPath, """
            import sys, time
            try:
                import igraph
            except ImportError:
                print("missing"); sys.exit(0)
            lines = open(sys.argv[1]).read().split("\\n")
            n = int(lines[0])
            edges = [tuple(map(int, l.split())) for l in lines[1:] if l]
            g = igraph.Graph(n=n, edges=edges)
            best = min((lambda t: (g.betweenness(directed=False), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(3))
            print("%.6f" % best)
            """)
        let status = spawnAndWait(["/usr/bin/env", "python3", scriptPath, edgesPath], stdout: outPath)
        let out = readFile(outPath).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? ""
        let oursBetweenness = bestOf3 { _ = GraphMetrics.betweenness(g.weightedGraph) }
        if status == 0, let igraphSeconds = Double(out) {
            let igraphMs = igraphSeconds * 1000
            igraphText = "python-igraph betweenness \(Int(igraphMs)) ms   ratio \(format2(oursMs / igraphMs))× (target ≤ 1.0×)   ours, betweenness alone \(Int(oursBetweenness)) ms"
        } else {
            igraphText = "python-igraph: skipped (\(status != 0 ? "python3 not found" : out == "missing" ? "igraph not installed: make deps" : "no timing: " + out))"
        }
    }
    lines.append("    graph, first time on a period (\(graph?.nodes.count ?? 0) nodes, \(graph?.edges.count ?? 0) edges) first \(Int(oursMs)) ms   \(igraphText)")

    // What a lead runs after an import, each a `trellis` process on the copy, best of 3: the
    // summary in the formats people open (no cache: the first run after an import), an
    // organisation's audit and log, the status, the read models' digests, the Merkle root.
    if let binary {
        let org = try engine.readSide.read { db in
            try String.fetchOne(db, sql: "SELECT org_id FROM organisations ORDER BY org_id LIMIT 1 OFFSET 100")
        } ?? "org0101"
        let commands: [(String, [String])] = [
            ("summary html", ["report", "summary", "--no-cache", "--format", "html", "--out", dir + "/summary.html"]),
            ("summary xlsx", ["report", "summary", "--no-cache", "--format", "xlsx", "--out", dir + "/summary.xlsx"]),
            ("audit", ["audit", org, "--format", "json", "--out", dir + "/audit.json"]),
            ("log --org", ["log", "--org", org, "--format", "ndjson"]),
            ("status", ["status"]),
            ("projections digest", ["projections", "digest"]),
            ("proof root", ["proof", "root"]),
        ]
        var timed: [String] = []
        for (name, args) in commands {
            var status: Int32 = 0
            let ms = bestOf3 { status |= spawnAndWait([binary] + args + ["--db", cliPath]) }
            timed.append("\(name) \(format2(ms / 1000)) s" + (status == 0 ? "" : " (exit \(status))"))
        }
        lines.append("    a lead's commands after an import, each a process (\(org)): " + timed.joined(separator: ", "))
    }
    return "\n    reports, first and repeated (read models current, log unchanged; best of 3; targets < 100 ms in process, < 150 ms CLI):\n"
        + lines.joined(separator: "\n")
        + "\n    worst repeat  \(format1(worst.inProcess)) ms in process, \(Int(worst.cli)) ms as a CLI process"
}

/// `name` in the directory of this executable, if it is there.
func siblingBinary(_ name: String) -> String? {
    let me = CommandLine.arguments[0]
    guard let slash = me.lastIndex(of: "/") else { return nil }
    let candidate = String(me[..<slash]) + "/" + name
    return access(candidate, X_OK) == 0 ? candidate : nil
}

/// Runs `args` (stdout to `stdout` or /dev/null, stderr to /dev/null) and returns its exit status.
func spawnAndWait(_ args: [String], stdout: String = "/dev/null") -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cArgs = args.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, args[0], &actions, nil, &cArgs, environ)
    guard spawned == 0 else { return 127 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return }
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func readFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

// MARK: - Peak RSS of the CLI (5d)

/// Runs the release `trellis` next to this binary with `args` (stdout and stderr to
/// /dev/null) and returns its exit status, wall seconds and peak resident set in MB. The peak
/// comes from `/usr/bin/time -f %M`, which forks it from its own small process: a child spawned
/// from this one would inherit this process's high-water mark at exec (Linux keeps it in
/// `ru_maxrss`). nil when either binary is not there.
func runTrellis(_ args: [String], dir: String) -> (status: Int32, seconds: Double, mb: Double)? {
    let me = CommandLine.arguments[0]
    let binary = (me.contains("/") ? String(me[..<me.lastIndex(of: "/")!]) : ".") + "/trellis"
    let time = "/usr/bin/time"
    guard access(binary, X_OK) == 0, access(time, X_OK) == 0 else { return nil }
    let report = dir + "/rss-\(getpid()).txt"
    defer { unlink(report) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([time, "-f", "%M", "-o", report, binary] + args).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid = pid_t()
    let t = now()
    guard posix_spawn(&pid, time, &actions, nil, argv, environ) == 0 else { return nil }
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    let seconds = now() - t
    var kb = 0.0
    if let f = fopen(report, "r") {
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        // The last line is the figure (a line before it says so when the command failed).
        while getline(&line, &capacity, f) > 0 { if let l = line, let v = Double(String(cString: l).trimmingNewline) { kb = v } }
        free(line); fclose(f)
    }
    return (status, seconds, kb / 1024)
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// Peak RSS of import, rebuild, verify, `log --format ndjson` and export, each a process of
/// the release binary, on the first quarter of the generated events and on all of them: the
/// target is < 150 MB and flat in N.
func childRSSLines(input: String, dir: String, events: Int) -> String {
    let quarter = dir + "/region-quarter.ndjson"
    if let f = fopen(input, "r"), let q = fopen(quarter, "w") {
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        var n = 0
        while n < events / 4, getline(&line, &capacity, f) > 0 { fputs(line, q); n += 1 }
        free(line)
        fclose(f); fclose(q)
    }
    var rows: [String] = []
    for (label, file) in [("¼ N", quarter), ("N", input)] {
        let db = dir + "/rss.db", out = dir + "/rss.trellis.lz4"
        for s in ["", "-wal", "-shm", "-journal"] { unlink(db + s) }
        let steps: [(String, [String])] = [
            ("import", ["import", "--db", db, file]),
            ("rebuild", ["projections", "rebuild", "--db", db]),
            ("verify", ["verify", "--db", db]),
            ("verify --chain-only", ["verify", "--chain-only", "--db", db]),
            ("log ndjson", ["log", "--format", "ndjson", "--db", db]),
            ("export", ["export", "--db", db, "--out", out, "--force"]),
        ]
        var parts: [String] = []
        var lines = 0
        if let f = fopen(file, "r") {
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while getline(&line, &capacity, f) > 0 { lines += 1 }
            free(line); fclose(f)
        }
        for (name, args) in steps {
            guard let r = runTrellis(args, dir: dir) else { return "peak RSS    (no release trellis binary next to trellis-bench: build it with swift build -c release)" }
            parts.append("\(name) \(Int(r.mb)) MB" + (r.status == 0 ? "" : " (exit \(r.status >> 8))"))
        }
        rows.append("            \(label) = \(lines) events: " + parts.joined(separator: ", "))
        for s in ["", "-wal", "-shm", "-journal"] { unlink(db + s) }
        unlink(out)
    }
    unlink(quarter)
    return "\npeak RSS    each a `trellis` process (target < 150 MB, flat in N)\n" + rows.joined(separator: "\n")
}
