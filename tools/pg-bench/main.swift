// trellis-pg-bench: the PostgreSQL store's import next to its physical limit, in one run.
//
//   tools/pg/cluster.sh start && eval "$(tools/pg/cluster.sh env)"
//   swift build -c release --product trellis-pg-bench && .build/release/trellis-pg-bench [--events N] [--pg URL]
//
// 1. generates N events (the same generator as `trellis generate`);
// 2. imports them into the SQLite store (a temporary file), for comparison;
// 3. imports them into a fresh PostgreSQL database with Trellis (decode, rules, seal, chain,
//    append lock, COPY);
// 4. COPYs the very rows step 3 stored into the events table of a second fresh database with
//    plain libpq, one transaction: the limit;
// 5. a reader's cache caught up from the store: the whole log into a fresh cache, then one
//    new event; next to a raw SELECT of the same rows and the store's scan;
// 6. four writers on four connections, each appending N/4 new organisations in batches of
//    10,000, at once; then one writer appending the same number alone.
// The server is TRELLIS_TEST_PG_URL (or --pg); its password comes from PGPASSWORD/~/.pgpass.
import CLibPQ
import Foundation
import Dispatch
import TrellisLedger
import TrellisCore
import TrellisGenerator
import TrellisPostgres
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("trellis-pg-bench: \(message)\n".utf8))
    exit(1)
}

let (events, server, withWriters, storeOnly): (Int, String, Bool, Bool) = {
    var events = 200_000
    var withWriters = true, storeOnly = false
    var server = getenv("TRELLIS_TEST_PG_URL").map { String(cString: $0) } ?? ""
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--events": events = Int(args.next() ?? "") ?? events
        case "--pg": server = args.next() ?? server
        case "--no-writers": withWriters = false
        case "--store-only": storeOnly = true   // for a profiler: generate, then only step 3
        default: print("usage: trellis-pg-bench [--events N] [--pg URL] [--no-writers] [--store-only]"); exit(64)
        }
    }
    return (events, server, withWriters, storeOnly)
}()
guard PostgresStore.isURL(server) else { fail("no server: set TRELLIS_TEST_PG_URL (tools/pg/cluster.sh env) or pass --pg postgresql://…") }

/// The server URL with another database.
func url(_ database: String) -> String {
    let q = server.firstIndex(of: "?")
    let base = q.map { String(server[..<$0]) } ?? server
    let query = q.map { String(server[$0...]) } ?? ""
    let afterScheme = base.range(of: "://")!.upperBound
    let slash = base[afterScheme...].firstIndex(of: "/") ?? base.endIndex
    return String(base[..<slash]) + "/" + database + query
}

func admin(_ sql: String) {
    guard let c = TPQconnectdb(server), TPQstatus(c) == CONNECTION_OK else { fail("cannot connect to \(server)") }
    defer { TPQfinish(c) }
    let r = TPQexec(c, sql)
    defer { TPQclear(r) }
    if TPQresultStatus(r) != PGRES_COMMAND_OK { fail(String(cString: TPQresultErrorMessage(r))) }
}

let pid = getpid()
let labels = ["store", "raw", "writers", "one"]
func freshDatabase(_ label: String) -> String {
    let name = "trellis_bench_\(label)_\(pid)"
    admin("DROP DATABASE IF EXISTS \(name)")
    admin("CREATE DATABASE \(name)")
    return url(name)
}
/// Drops the bench's databases (at the end, and when a step fails).
func dropAll() {
    for l in labels { admin("DROP DATABASE IF EXISTS trellis_bench_\(l)_\(pid) WITH (FORCE)") }
}

/// CPU seconds this process has used (all its threads).
func clientCPU() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// CPU seconds a server process has used (/proc/PID/stat, utime + stime): the server is local.
func serverCPU(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func cpuSplit(client: Double, server: Double) -> String {
    String(format: "(CPU: client %.2f s, server %.2f s)", client, server)
}

func rate(_ n: Int, _ seconds: Double) -> String {
    let r = Double(n) / seconds
    return r >= 1000 ? "\(Int(r / 1000)) k/s" : "\(Int(r))/s"
}

// 1. Generate.
var input: [UInt8] = []
RegionGenerator(GeneratorOptions(networks: 12, orgs: max(60, events / 400), years: 10, seed: 42, maxEvents: events)).runChunks { input.append(contentsOf: $0) }
let lines = input.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
print("events: \(lines) lines, \(input.count / 1_048_576) MB of NDJSON")

do {
    // 2. SQLite, for comparison.
    let sqlitePath = "/tmp/trellis-pg-bench-\(pid).db"
    if storeOnly { print("(--store-only: no SQLite import)") }
    defer { for s in ["", "-wal", "-shm"] { unlink(sqlitePath + s) } }
    var t = now()
    if !storeOnly {
        let sqlite = try Ledger.open(at: sqlitePath, create: true)
        let s = try sqlite.append(Lines.feed(input))
        let sqliteSeconds = now() - t
        print("SQLite store import:      \(s.appended) events in \(String(format: "%.2f", sqliteSeconds)) s, \(rate(s.appended, sqliteSeconds))")
    }

    // 3. PostgreSQL store.
    let pgURL = freshDatabase("store")
    let store = try PostgresStore.create(url: pgURL)
    let storeBackend = try store.backendPID()
    var (client0, server0) = (clientCPU(), serverCPU(storeBackend))
    t = now()
    let p = try store.append(Lines.feed(input))
    let pgSeconds = now() - t
    print("PostgreSQL store import:  \(p.appended) events in \(String(format: "%.2f", pgSeconds)) s, \(rate(p.appended, pgSeconds)) "
          + cpuSplit(client: clientCPU() - client0, server: serverCPU(storeBackend) - server0))
    guard p.head.hash.count == 32, try store.verifyChain().broken == nil else { fail("the chain does not verify") }
    guard !storeOnly else { throw Finished() }

    // 4. The same rows, COPY'd raw into the same table of a second database.
    var rows: [UInt8] = []
    rows.reserveCapacity(input.count * 2)
    try store.scan { e in
        func put(_ s: String?) {
            guard let s else { rows += [92, 78]; return }
            for c in s.utf8 {
                switch c {
                case 92: rows += [92, 92]
                case 10: rows += [92, 110]
                case 13: rows += [92, 114]
                case 9: rows += [92, 116]
                default: rows.append(c)
                }
            }
        }
        put(String(e.seq)); rows.append(9); put(e.id); rows.append(9); put(e.type); rows.append(9); put(String(e.v)); rows.append(9)
        put(e.occurredAt); rows.append(9); put(e.recordedAt); rows.append(9); put(e.actor); rows.append(9); put(e.data); rows.append(9)
        rows += [92, 92, 120]
        let digits = Array("0123456789abcdef".utf8)
        for x in e.hash { rows.append(digits[Int(x >> 4)]); rows.append(digits[Int(x & 15)]) }
        rows.append(10)
        return true
    }
    let rawURL = freshDatabase("raw")
    _ = try PostgresStore.create(url: rawURL)
    guard let c = TPQconnectdb(rawURL), TPQstatus(c) == CONNECTION_OK else { fail("cannot connect for the raw COPY") }
    defer { TPQfinish(c) }
    let rawBackend = TPQbackendPID(c)
    (client0, server0) = (clientCPU(), serverCPU(rawBackend))
    t = now()
    TPQclear(TPQexec(c, "BEGIN"))
    let start = TPQexec(c, "COPY events (seq, id, type, v, occurred_at, recorded_at, actor, data, hash) FROM STDIN")
    guard TPQresultStatus(start) == PGRES_COPY_IN else { fail(String(cString: TPQerrorMessage(c))) }
    TPQclear(start)
    rows.withUnsafeBufferPointer { b in
        var o = 0
        while o < b.count {
            let n = min(1 << 20, b.count - o)
            _ = b.baseAddress!.advanced(by: o).withMemoryRebound(to: CChar.self, capacity: n) { TPQputCopyData(c, $0, Int32(n)) }
            o += n
        }
    }
    TPQputCopyEnd(c, nil)
    while let r = TPQgetResult(c) {
        if TPQresultStatus(r) != PGRES_COMMAND_OK { fail(String(cString: TPQresultErrorMessage(r))) }
        TPQclear(r)
    }
    TPQclear(TPQexec(c, "COMMIT"))
    let rawSeconds = now() - t
    print("raw COPY, same rows:      \(p.appended) rows in \(String(format: "%.2f", rawSeconds)) s, \(rate(p.appended, rawSeconds)) "
          + cpuSplit(client: clientCPU() - client0, server: serverCPU(rawBackend) - server0))
    print(String(format: "store / raw COPY:         %.2f (target ≥ 0.5)", rawSeconds / pgSeconds))

    // 5. A reader's cache: the first catch-up of the whole log into a fresh cache, then the
    //    catch-up after one appended event (what every read pays), next to the raw read of the
    //    server's rows and the store's own scan of them.
    try catchUp(store, pgURL: pgURL, events: p.appended)

    // 6. Four writers at once, then one alone, the same number of new events in batches of 10,000.
    guard withWriters else { throw Finished() }
    let perWriter = max(10_000, events / 4), batch = 10_000
    let writersURL = freshDatabase("writers")
    _ = try PostgresStore.create(url: writersURL)
    let failures = Failures()
    t = now()
    DispatchQueue.concurrentPerform(iterations: 4) { w in
        do {
            let s = try PostgresStore.open(url: writersURL)
            for b in 0..<(perWriter / batch) { _ = try s.append(Lines.feed(Lines.batch("w\(w)-b\(b)", batch))) }
        } catch { failures.add("\(error)") }
    }
    let fourSeconds = now() - t
    if let f = failures.first { fail(f) }
    let oneURL = freshDatabase("one")
    let one = try PostgresStore.create(url: oneURL)
    t = now()
    for b in 0..<(4 * perWriter / batch) { _ = try one.append(Lines.feed(Lines.batch("one-b\(b)", batch))) }
    let oneSeconds = now() - t
    let total = 4 * (perWriter / batch) * batch
    let four = try PostgresStore.open(url: writersURL)
    guard try four.head().seq == Int64(total), try four.verifyChain().broken == nil else { fail("the four writers' log is not gap-free and valid") }
    print("4 writers at once:        \(total) events in \(String(format: "%.2f", fourSeconds)) s, \(rate(total, fourSeconds))")
    print("1 writer alone:           \(total) events in \(String(format: "%.2f", oneSeconds)) s, \(rate(total, oneSeconds))")
} catch is Finished {
} catch {
    dropAll()
    fail("\(error)")
}
dropAll()

/// Step 5: times `LogMirror.catchUp` (what a reader of a shared ledger runs before every read)
/// against the rows' raw read.
func catchUp(_ store: PostgresStore, pgURL: String, events: Int) throws {
    guard let c = TPQconnectdb(pgURL), TPQstatus(c) == CONNECTION_OK else { fail("cannot connect for the raw read") }
    defer { TPQfinish(c) }
    let rawBackend = TPQbackendPID(c)
    var (client0, server0) = (clientCPU(), serverCPU(rawBackend))
    var t = now()
    let all = TPQexec(c, "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data, hash FROM events ORDER BY seq")
    guard TPQresultStatus(all) == PGRES_TUPLES_OK, Int(TPQntuples(all)) == events else { fail(String(cString: TPQerrorMessage(c))) }
    TPQclear(all)
    let rawSeconds = now() - t
    print("raw SELECT of the rows:   \(events) rows in \(String(format: "%.2f", rawSeconds)) s, \(rate(events, rawSeconds)) "
          + cpuSplit(client: clientCPU() - client0, server: serverCPU(rawBackend) - server0))

    let backend = try store.backendPID()
    (client0, server0) = (clientCPU(), serverCPU(backend))
    t = now()
    var scanned = 0
    try store.scan { _ in scanned += 1; return true }
    let scanSeconds = now() - t
    print("store scan (cursor):      \(scanned) events in \(String(format: "%.2f", scanSeconds)) s, \(rate(scanned, scanSeconds)) "
          + cpuSplit(client: clientCPU() - client0, server: serverCPU(backend) - server0))

    let path = "/tmp/trellis-pg-bench-cache-\(pid).db"
    defer { for s in ["", "-wal", "-shm", ".cache-of"] { unlink(path + s) } }
    var cache = try LogMirror.openCache(at: path, of: store)
    (client0, server0) = (clientCPU(), serverCPU(backend))
    t = now()
    let first = try LogMirror.catchUp(&cache, from: store)
    let firstSeconds = now() - t
    guard first.copied == events, first.head == (try store.head()) else { fail("the first catch-up copied \(first.copied) of \(events)") }
    print("cache, first catch-up:    \(first.copied) events in \(String(format: "%.2f", firstSeconds)) s, \(rate(first.copied, firstSeconds)) "
          + cpuSplit(client: clientCPU() - client0, server: serverCPU(backend) - server0)
          + String(format: "; / raw SELECT %.2f", rawSeconds / firstSeconds))

    _ = try store.append(json: #"{"type":"NetworkFormed","occurred_at":"2026-01-05","data":{"network_id":"net-bench-catch-up","name":"One more"}}"#)
    t = now()
    let next = try LogMirror.catchUp(&cache, from: store)
    let nextSeconds = now() - t
    guard next.copied == 1 else { fail("the catch-up after one event copied \(next.copied)") }
    t = now()
    let idle = try LogMirror.catchUp(&cache, from: store)
    let idleSeconds = now() - t
    print(String(format: "cache, one new event:     %.1f ms (nothing new: %.1f ms)", nextSeconds * 1000, idleSeconds * 1000) + (idle.copied == 0 ? "" : " ?"))
}

/// Ends the run early (`--no-writers`).
struct Finished: Error {}

final class Failures: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var items: [String] = []
    init() { pthread_mutex_init(&mutex, nil) }
    func add(_ s: String) { pthread_mutex_lock(&mutex); items.append(s); pthread_mutex_unlock(&mutex) }
    var first: String? { pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }; return items.first }
}
