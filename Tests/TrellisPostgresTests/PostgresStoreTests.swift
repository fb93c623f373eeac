import Foundation
import Testing
import TrellisLedger
import TrellisCore
@testable import TrellisPostgres
import TrellisTestSupport

extension PostgreSQLServer {
    @Suite("PostgreSQL store", .serialized)
    struct PostgresStoreTests {
        @Test func theTestServerIsConfiguredAndReachable() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            #expect(try store.head().seq == 0)
            #expect(try store.head().hash == CanonicalEnvelope.genesis)
            #expect(!store.location.contains(ProcessInfo.processInfo.environment["PGPASSWORD"] ?? "\u{0}"))
        }

        @Test func aPasswordInTheURLIsNeverShown() {
            #expect(PGConnection.redacted("postgresql://w:s3cret@db.example:5432/ledger?sslmode=require&password=x")
                    == "postgresql://w@db.example:5432/ledger?sslmode=require")
        }

        @Test func aWrongPasswordIsRefusedWithoutShowingIt() throws {
            let url = try PG.serverURL().replacingOccurrences(of: "://trellis_test@", with: "://trellis_test:not-the-password@")
            do {
                _ = try PostgresStore.open(url: url)
                Issue.record("a wrong password was accepted")
            } catch {
                #expect(error.exitCode == 66)
                #expect(!error.description.contains("not-the-password"))
                #expect(error.description.contains("refused the login"))
            }
        }

        @Test func openingADatabaseWithoutTheSchemaSaysSo() throws {
            let db = try PG.Database()
            defer { db.drop() }
            #expect(throws: LedgerError.self) { _ = try PostgresStore.open(url: db.url) }
            do { _ = try PostgresStore.open(url: db.url) } catch { #expect(error.exitCode == 66) }
            _ = try PostgresStore.create(url: db.url)
            _ = try PostgresStore.create(url: db.url)   // a second init is a no-op
            _ = try PostgresStore.open(url: db.url)
        }

        @Test func aNewerSchemaIsRefusedWithExit65() throws {
            let db = try PG.Database()
            defer { db.drop() }
            _ = try PostgresStore.create(url: db.url)
            try db.sql("UPDATE ledger_meta SET value = '2' WHERE key = 'format'")
            do { _ = try PostgresStore.open(url: db.url); Issue.record("a newer format was opened") } catch {
                guard case .newerFormat = error else { Issue.record("\(error)"); return }
                #expect(error.exitCode == 65)
            }
            try db.sql("UPDATE ledger_meta SET value = '1' WHERE key = 'format'")
            try db.sql("INSERT INTO ledger_migrations (name) VALUES ('v9: from the future')")
            do { _ = try PostgresStore.create(url: db.url); Issue.record("unknown migrations were accepted") } catch {
                #expect(error.exitCode == 65)
            }
        }

        @Test func theLogRefusesUpdateDeleteAndTruncateEvenForItsOwner() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            _ = try store.append(feed(regionLines(events: 50)))
            for sql in ["UPDATE events SET actor = 'x' WHERE seq = 1", "DELETE FROM events WHERE seq = 50", "TRUNCATE events"] {
                do { try db.sql(sql); Issue.record("\(sql) was allowed") } catch {
                    #expect("\(error)".contains("append-only"), "\(sql): \(error)")
                }
            }
            #expect(try store.head().seq == 50)
            #expect(try store.verifyChain().broken == nil)
        }

        @Test func theWriterRoleCanAppendButNotRewriteAndTheReaderOnlyRead() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            let suffix = String(db.name.suffix(8))
            let writer = "w_" + suffix, reader = "r_" + suffix
            try store.createRoles(writer: writer, reader: reader)
            try store.createRoles(writer: writer, reader: reader)   // again: no error
            let password = ProcessInfo.processInfo.environment["PGPASSWORD"] ?? ""
            try db.sql("ALTER ROLE \(writer) LOGIN PASSWORD '\(password)'")
            try db.sql("ALTER ROLE \(reader) LOGIN PASSWORD '\(password)'")
            defer { try? PG.admin("DROP OWNED BY \(writer), \(reader) CASCADE") }
            let asWriter = db.url.replacingOccurrences(of: "://trellis_test@", with: "://\(writer)@")
            let asReader = db.url.replacingOccurrences(of: "://trellis_test@", with: "://\(reader)@")
            let w = try PostgresStore.open(url: asWriter)
            let outcome = try w.append(feed(regionLines(events: 300)))
            #expect(outcome.appended == 300)
            let writerConnection = try PGConnection(url: asWriter)
            for sql in ["UPDATE events SET actor = 'x'", "DELETE FROM events", "TRUNCATE events", "DROP TRIGGER events_no_update ON events"] {
                #expect(throws: LedgerError.self, "\(sql)") { try writerConnection.run(sql) }
            }
            let r = try PostgresStore.open(url: asReader)
            #expect(try r.head().seq == 300)
            #expect(try r.verifyChain().broken == nil)
            do { _ = try r.append(feed(orgLines("reader", 10))); Issue.record("the reader appended") } catch let e as LedgerError {
                #expect(e.exitCode == 74, "\(e)")
            }
            #expect(PostgresSchema.grants(writer: "w", reader: "r").contains("GRANT SELECT, INSERT ON events"))
        }

        /// The same NDJSON into SQLite and into PostgreSQL: the same events, line for line, apart
        /// from recorded_at, the hashes (which cover recorded_at) and the sealed personal fields.
        @Test func theSameInputGivesTheSameEventsAsSQLite() throws {
            let lines = regionLines(events: 3_000)
            let path = temporaryPath("ledger.db")
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let sqlite = try Ledger.open(at: path, create: true)
            let a = try sqlite.append(feed(lines))
            let db = try PG.Database()
            defer { db.drop() }
            let pg = try PostgresStore.create(url: db.url)
            let b = try pg.append(feed(lines))
            #expect(a.appended == b.appended && a.skipped == b.skipped)
            #expect(a.appended > 2_500)
            var left: [RecordedEvent] = []
            try sqlite.scan { left.append($0); return true }
            var right: [RecordedEvent] = []
            try pg.scan { right.append($0); return true }
            #expect(left.count == right.count)
            func comparable(_ e: RecordedEvent) -> String {
                guard case .object(var data)? = try? JSONParser.parse(e.data) else { return e.data }
                if e.type == "PersonRegistered" { for f in PersonalData.fields(of: .personRegistered) { data[f] = data[f] == nil ? nil : .string("sealed") } }
                return "\(e.seq) \(e.id) \(e.type) \(e.v) \(e.occurredAt) \(e.actor ?? "-") " + String(decoding: CanonicalJSON.bytes(.object(data)), as: UTF8.self)
            }
            for (l, r) in zip(left, right) where comparable(l) != comparable(r) {
                Issue.record("seq \(l.seq) differs:\n\(comparable(l))\n\(comparable(r))")
                break
            }
            #expect(try pg.verifyChain().broken == nil)
            #expect(try pg.verifyChain().events == Int64(right.count))
            // Rule state is the same as SQLite's: the same line refused, the same one skipped.
            let again = try pg.append(feed(lines))
            let againSQLite = try sqlite.append(feed(lines))
            #expect(again.appended == 0 && again.skipped > 0)
            #expect(again.skipped == againSQLite.skipped && again.notComparedErased == againSQLite.notComparedErased)
            #expect(try pg.personKeys().count == (try sqlite.personKeys().count))
            #expect(try pg.retractions() == (try sqlite.retractions()))

            // A longer run of the same region into both non-empty logs: every rule is checked
            // against state the batch did not write (fetched in bulk per chunk in PostgreSQL).
            let longer = regionLines(events: 6_000)
            let c = try sqlite.append(feed(longer)), d = try pg.append(feed(longer))
            #expect(c.appended == d.appended && c.skipped == d.skipped && c.notComparedErased == d.notComparedErased)
            #expect(c.appended > 2_000)
            var left2: [String] = [], right2: [String] = []
            try sqlite.scan { left2.append(comparable($0)); return true }
            try pg.scan { right2.append(comparable($0)); return true }
            #expect(left2 == right2)
            // A line a rule refuses given the stored state only: an organisation id used before.
            let reused = #"{"type":"OrganisationRegistered","occurred_at":"2026-01-01","data":{"org_id":"org0001","name":"Again","kind":"sat"}}"#
            #expect(throws: AppendRejected.self) { _ = try pg.append(json: reused) }
            #expect(throws: AppendRejected.self) { _ = try sqlite.append(json: reused) }
            #expect(try pg.verifyChain().broken == nil)
        }

        /// Event rows travel in COPY's binary format, and a batch reads an unsent row back from
        /// those bytes: a line sent twice in one batch is the same event (skipped), the same id
        /// with other content is refused, a retraction finds its target; text with tabs,
        /// newlines, backslashes and non-ASCII, and an actor or none, arrive unchanged.
        @Test func rowsInTheBinaryCopyFormatReadBackAndArriveUnchanged() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            let name = #"Tab\t, newline\n, backslash \\, quote \", é ü 日本"#
            let first = #"{"id":"org-x","type":"OrganisationRegistered","occurred_at":"2026-01-01","actor":"clerk\tone","data":{"org_id":"x","name":"\#(name)","kind":"sat"}}"#
            let second = #"{"id":"org-y","type":"OrganisationRegistered","occurred_at":"2026-01-02","data":{"org_id":"y","name":"Y","kind":"mat"}}"#
            let retract = #"{"id":"r-y","type":"EventRetracted","occurred_at":"2026-01-03","data":{"event_id":"org-y","reason":"mistake"}}"#
            let lines = Array([first, second, first, retract, second].joined(separator: "\n").utf8) + [10]
            let outcome = try store.append(feed(lines))
            #expect(outcome.appended == 3 && outcome.skipped == 2)
            let path = temporaryPath("ledger.db")
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let sqlite = try Ledger.open(at: path, create: true)
            let expected = try sqlite.append(feed(lines))
            #expect(expected.appended == 3 && expected.skipped == 2)
            func rows(_ scan: ((RecordedEvent) throws -> Bool) throws -> Void) throws -> [String] {
                var out: [String] = []
                try scan { e in out.append("\(e.seq) \(e.id) \(e.type) \(e.v) \(e.occurredAt) \(e.actor ?? "-") \(e.data)"); return true }
                return out
            }
            let stored = try rows { try store.scan($0) }
            #expect(stored.count == 3)
            #expect(stored == (try rows { try sqlite.scan($0) }))
            #expect(stored.first?.contains("é ü 日本") == true && stored.first?.contains("clerk") == true)
            #expect(try store.retractions().count == 1)
            #expect(try store.verifyChain().broken == nil)

            let other = #"{"id":"org-z","type":"OrganisationRegistered","occurred_at":"2026-01-01","data":{"org_id":"z","name":"Z","kind":"sat"}}"#
            let clash = Array([other, other.replacingOccurrences(of: #""Z""#, with: #""Zed""#)].joined(separator: "\n").utf8) + [10]
            #expect(throws: AppendRejected.self) { _ = try store.append(feed(clash)) }
            #expect(try store.head().seq == 3)
        }

        /// A batch reads back what it wrote (a retraction's target, a person's key, a state bit)
        /// from its own buffers: an import into an empty log is a handful of statements, not a
        /// flush and a round trip per read (3,000 events took ~50 flushes of five COPYs each and
        /// a single-row UPDATE per state change). With rows sent every few kilobytes, reads go
        /// to the server mid-batch; the log and the rule tables come out the same either way,
        /// and the same as SQLite's.
        @Test func aBatchReadsItsOwnRowsWithoutFlushingAndGivesTheSameState() throws {
            let lines = regionLines(events: 3_000)
            let text = String(decoding: lines, as: UTF8.self)
            for type in ["EventRetracted", "PersonErased", "MemberLeft"] { #expect(text.contains(type), "the region has no \(type)") }
            let path = temporaryPath("ledger.db")
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let sqlite = try Ledger.open(at: path, create: true)
            let expected = try sqlite.append(feed(lines))

            let bulkDB = try PG.Database(), smallDB = try PG.Database()
            defer { bulkDB.drop(); smallDB.drop() }
            let bulk = try PostgresStore.create(url: bulkDB.url)
            let before = bulk.statementsSent
            let a = try bulk.append(feed(lines))
            // BEGIN, SET LOCAL lock_timeout, the lock, the head, a COPY per table (at most 5), the
            // state UPDATE, the transaction id, COMMIT (12); after the erasures, who may rewrite
            // person_keys, SET lock_timeout, VACUUM FULL, RESET, the rows it kept, older
            // snapshots, foreign triggers (7): at most 19.
            #expect(bulk.statementsSent - before <= 19, "an import into an empty log sent \(bulk.statementsSent - before) statements")

            let small = try PostgresStore.create(url: smallDB.url)
            small.flushBytes = 4_096
            let b = try small.append(feed(lines))
            for o in [a, b] { #expect(o.appended == expected.appended && o.skipped == expected.skipped) }

            func comparable(_ e: RecordedEvent) -> String {
                guard case .object(var data)? = try? JSONParser.parse(e.data) else { return e.data }
                if e.type == "PersonRegistered" { for f in PersonalData.fields(of: .personRegistered) { data[f] = data[f] == nil ? nil : .string("sealed") } }
                return "\(e.seq) \(e.id) \(e.type) \(e.occurredAt) " + String(decoding: CanonicalJSON.bytes(.object(data)), as: UTF8.self)
            }
            var logs: [[String]] = [[], [], []]
            try sqlite.scan { logs[0].append(comparable($0)); return true }
            try bulk.scan { logs[1].append(comparable($0)); return true }
            try small.scan { logs[2].append(comparable($0)); return true }
            #expect(logs[0] == logs[1] && logs[0] == logs[2])
            func ruleState(_ db: PG.Database) throws -> [String] {
                var out: [String] = []
                for q in ["SELECT kind || ' ' || key || ' ' || seq || ' ' || coalesce(parent, '-') || ' ' || state FROM rule_entities ORDER BY kind, key",
                          "SELECT network_id || ' ' || org_id || ' ' || seq || ' ' || joined FROM rule_memberships ORDER BY 1",
                          "SELECT target_seq || ' ' || retraction_seq FROM retractions ORDER BY target_seq",
                          "SELECT person_id FROM person_keys ORDER BY person_id"] {
                    let r = try db.sql(q)
                    out.append(contentsOf: (0..<r.count).map { r.string($0, 0) ?? "" })
                    out.append("--")
                }
                return out
            }
            let bulkState = try ruleState(bulkDB)
            #expect(bulkState.count > 500)
            #expect(bulkState == (try ruleState(smallDB)))
            #expect(try bulk.personKeys().keys.sorted() == (try sqlite.personKeys().keys.sorted()))
            #expect(try small.retractions() == (try sqlite.retractions()))
            for s in [bulk, small] { #expect(try s.verifyChain().broken == nil) }

            // Into the non-empty logs, the same again and a longer run: the same skips and
            // refusals as SQLite, with rows sent mid-batch too.
            let longer = regionLines(events: 6_000)
            let c = try sqlite.append(feed(longer)), d = try bulk.append(feed(longer)), e = try small.append(feed(longer))
            for o in [d, e] { #expect(o.appended == c.appended && o.skipped == c.skipped && o.notComparedErased == c.notComparedErased) }
            #expect(try ruleState(bulkDB) == (try ruleState(smallDB)))
            #expect(try small.personKeys().keys.sorted() == (try sqlite.personKeys().keys.sorted()))
            #expect(try small.retractions() == (try sqlite.retractions()))
        }

        /// An archive of a SQLite ledger (its events, chained as `trellis export` writes them)
        /// appended into PostgreSQL gives the same head hash; appending it again skips everything.
        @Test func aSQLiteLedgersArchiveGivesTheSameHeadInPostgreSQL() throws {
            let path = temporaryPath("ledger.db")
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let sqlite = try Ledger.open(at: path, create: true)
            _ = try sqlite.append(feed(regionLines(events: 2_000)))
            _ = try sqlite.append(feed(regionLines(events: 2_500, seed: 7)))   // a second batch: another recorded_at
            var archived: [RecordedEvent] = []
            try sqlite.scan { e in
                archived.append(e)
                return true
            }
            let db = try PG.Database()
            defer { db.drop() }
            let pg = try PostgresStore.create(url: db.url)
            func importArchive() throws -> AppendOutcome {
                try pg.appendArchived { visit in
                    var chain = ArchiveChain()
                    for e in archived { try visit(try chain.admit(e, line: Int(e.seq) + 1)) }
                }
            }
            let outcome = try importArchive()
            #expect(outcome.head == (try sqlite.head()))
            #expect(try pg.head().hashHex == (try sqlite.head().hashHex))
            let again = try importArchive()
            #expect(again.appended == 0 && again.skipped == archived.count)
            #expect(try pg.verifyChain().broken == nil)
            // And the ledger takes new appends after the archive, chained onto its head.
            let more = try pg.append(json: #"{"type":"NetworkFormed","occurred_at":"2026-01-05","data":{"network_id":"net-after-archive","name":"After"}}"#)
            #expect(more.appended == 1 && more.head.seq == Int64(archived.count) + 1)
        }

        /// Erasure deletes the person's key row and rewrites the table after the commit
        /// (`VACUUM FULL`): the key's bytes are in none of the table's files, old or new (a plain
        /// VACUUM left them in the page's free space); the name stays sealed in the log.
        @Test func erasureDeletesTheKeyAndRewritesItsTable() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            _ = try store.append(feed(Array("""
                {"type":"OrganisationRegistered","occurred_at":"2026-01-01","data":{"org_id":"oak","name":"Oak","kind":"sat"}}
                {"type":"PersonRegistered","occurred_at":"2026-01-02","data":{"person_id":"p-2","org_id":"oak","name":"Sam Example"}}
                {"type":"PersonRegistered","occurred_at":"2026-01-02","data":{"person_id":"p-1","org_id":"oak","name":"Alex Example","email":"alex@example.org"}}

                """.utf8)))
            // p-1's key row is the later one, lower in the page: pruning moves p-2's row, at the
            // page's end, nowhere, so a plain VACUUM leaves p-1's bytes in the freed space.
            let key = try #require(try store.personKeys()["p-1"])
            #expect(try store.personKeys().count == 2)
            #expect(try db.tableFiles("person_keys", hold: key), "the key is in the table's file before the erasure")
            let before = try db.dataDirectory() + "/" + (try db.relationPath("person_keys"))
            let outcome = try store.append(json: #"{"type":"PersonErased","occurred_at":"2026-02-01","data":{"person_id":"p-1"}}"#)
            #expect(outcome.erasureResidue == nil, "\(String(describing: outcome.erasureResidue))")
            #expect(try store.personKeys().keys.sorted() == ["p-2"])
            #expect(try !db.tableFiles("person_keys", hold: key, also: before), "the key's bytes are gone from person_keys' files")
            #expect(try db.tableFiles("person_keys", hold: try #require(try store.personKeys()["p-2"])))
            #expect(try store.verifyChain().broken == nil)
            // The log still holds the sealed fields: nothing in clear.
            var clear = false
            try store.scan { e in clear = clear || e.data.contains("Alex Example") || e.data.contains("alex@example.org"); return true }
            #expect(!clear)
        }

        /// A refused line, a lost connection mid-batch: nothing of the batch is in the log.
        @Test func aRefusedBatchAndABrokenConnectionLeaveNothing() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let store = try PostgresStore.create(url: db.url)
            _ = try store.append(feed(regionLines(events: 100)))
            let before = try store.head()
            var bad = orgLines("refused", 200)
            bad += Array(#"{"type":"MemberJoined","occurred_at":"2026-01-01","data":{"network_id":"no-such","org_id":"no-such"}}"#.utf8) + [10]
            #expect(throws: AppendRejected.self) { _ = try store.append(feed(bad)) }
            #expect(try store.head() == before)

            // The server ends the writer's connection mid-batch (as when the writer is killed or
            // the server restarts): the batch is rolled back, the error says to retry (exit 75).
            let victim = try PostgresStore.open(url: db.url)
            let pid = try victim.backendPID()
            let lines = orgLines("victim", 20_000)
            var fed = 0
            do {
                _ = try victim.append { visit in
                    try feed(lines)({ line, n, s in
                        fed += 1
                        if fed == 15_000 { try? PG.admin("SELECT pg_terminate_backend(\(pid))") }
                        return try visit(line, n, s)
                    })
                }
                Issue.record("the batch survived its connection")
            } catch let e as LedgerError {
                #expect(e.exitCode == 75, "\(e)")
            }
            #expect(try store.head() == before)
            #expect(try db.sql("SELECT count(*) FROM events").int(0, 0) == before.seq)
            #expect(try db.sql("SELECT count(*) FROM rule_entities WHERE seq > \(before.seq)").int(0, 0) == 0)
            #expect(try store.verifyChain().broken == nil)
        }

        /// Four writers on four connections append 10,000 events each, in batches, at once:
        /// exactly 40,000 events, seq gap-free, the chain valid, every batch contiguous.
        @Test func fourWritersAtOnceGiveAGapFreeChainAndContiguousBatches() throws {
            let db = try PG.Database()
            defer { db.drop() }
            _ = try PostgresStore.create(url: db.url)
            let writers = 4, batches = 10, perBatch = 1_000
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: writers) { w in
                do {
                    let store = try PostgresStore.open(url: db.url)
                    for b in 0..<batches {
                        let lines = orgLines("w\(w)-b\(b)", perBatch, actor: "writer-\(w)")
                        let outcome = try store.append(feed(lines))
                        results.add(writer: w, appended: outcome.appended, head: outcome.head.seq)
                    }
                } catch {
                    results.fail("\(error)")
                }
            }
            #expect(results.failures.isEmpty, "\(results.failures)")
            let store = try PostgresStore.open(url: db.url)
            #expect(try store.head().seq == Int64(writers * batches * perBatch))
            let report = try store.verifyChain()
            #expect(report.broken == nil && report.events == Int64(writers * batches * perBatch))
            var actors: [Int64: String] = [:]
            try store.scan { actors[$0.seq] = $0.actor; return true }
            for batch in results.batches {
                #expect(batch.appended == perBatch)
                let range = (batch.head - Int64(batch.appended) + 1)...batch.head
                let owners = Set(range.map { actors[$0] ?? "?" })
                #expect(owners == ["writer-\(batch.writer)"], "batch ending at \(batch.head) holds \(owners)")
            }
        }
    }
}

/// `count` OrganisationRegistered lines with ids `<prefix>-<i>` (no event ids: generated).
func orgLines(_ prefix: String, _ count: Int, actor: String = "clerk") -> [UInt8] {
    var lines: [UInt8] = []
    for i in 0..<count {
        lines += Array(#"{"type":"OrganisationRegistered","occurred_at":"2026-01-01","actor":"\#(actor)","data":{"org_id":"\#(prefix)-\#(i)","name":"Org \#(i)","kind":"sat"}}"#.utf8)
        lines.append(10)
    }
    return lines
}

extension PostgreSQLServer {
    /// Writers whose connections the server ends at random moments (as a restart or a killed
    /// client does) and which retry the batch after an exit-75 error: every batch is there exactly
    /// once and whole, seq gap-free, the chain valid.
    @Suite("PostgreSQL store under broken connections", .serialized, .timeLimit(.minutes(3)))
    struct PostgresChaosTests {
        @Test func writersWhoseConnectionsAreKilledRetryAndLeaveAWholeLog() throws {
            let db = try PG.Database()
            defer { db.drop() }
            try writeUnderDisruption(db) { done in
                var rounds = 0
                while !done.isSet && rounds < 40 {
                    usleep(UInt32.random(in: 50_000...250_000))
                    _ = try? db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
                    rounds += 1
                }
            }
        }

        /// The same with the server itself restarted mid-run (`tools/pg/cluster.sh restart`, the
        /// throw-away cluster `make test` started for TRELLIS_TEST_PG_URL).
        @Test func writersRetryAcrossAServerRestartAndLeaveAWholeLog() throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let state = ProcessInfo.processInfo.environment["TRELLIS_PG_STATE"] ?? root.appendingPathComponent(".build/pg-cluster.state").path
            let port = try #require(try String(contentsOfFile: state, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("PORT=") }?.dropFirst(5),
                                    "the server restart needs the cluster of tools/pg/cluster.sh (make test starts it)")
            #expect(try PG.serverURL().contains(":\(port)/"), "TRELLIS_TEST_PG_URL is not the cluster tools/pg/cluster.sh started")
            let db = try PG.Database()
            defer { db.drop() }
            try writeUnderDisruption(db) { done in
                usleep(700_000)
                let status = system("'\(root.appendingPathComponent("tools/pg/cluster.sh").path)' restart >/dev/null 2>&1")
                if status != 0 { Issue.record("tools/pg/cluster.sh restart exited \(status)") }
            }
        }

        private func writeUnderDisruption(_ db: PG.Database, _ disrupt: @escaping @Sendable (Flag) -> Void) throws {
            _ = try PostgresStore.create(url: db.url)
            let writers = 4, batches = 10, perBatch = 1_000
            let results = Results()
            let done = Flag()
            let killer = Thread { disrupt(done) }
            killer.start()
            DispatchQueue.concurrentPerform(iterations: writers) { w in
                for b in 0..<batches {
                    // Explicit event ids: a batch whose COMMIT reply was lost is skipped when retried.
                    var lines: [UInt8] = []
                    for i in 0..<perBatch {
                        lines += Array(#"{"id":"w\#(w)-b\#(b)-\#(i)","type":"OrganisationRegistered","occurred_at":"2026-01-01","actor":"writer-\#(w)","data":{"org_id":"w\#(w)-b\#(b)-\#(i)","name":"Org","kind":"sat"}}"#.utf8)
                        lines.append(10)
                    }
                    var attempts = 0
                    while true {
                        attempts += 1
                        do {
                            let store = try PostgresStore.open(url: db.url)
                            let outcome = try store.append(feed(lines))
                            if outcome.appended > 0 { results.add(writer: w, appended: outcome.appended, head: outcome.head.seq) }
                            if outcome.appended + outcome.skipped != perBatch { results.fail("batch w\(w)-b\(b): \(outcome.appended) + \(outcome.skipped)") }
                            break
                        } catch let e as LedgerError where e.exitCode == 75 && attempts < 200 {
                            results.retried()
                            usleep(20_000)
                        } catch {
                            results.fail("w\(w) b\(b): \(error)")
                            break
                        }
                    }
                }
            }
            done.set()
            while killer.isExecuting { usleep(10_000) }
            #expect(results.failures.isEmpty, "\(results.failures)")
            #expect(results.retries > 0, "no connection was broken mid-batch: the test proved nothing")
            let store = try PostgresStore.open(url: db.url)
            let total = Int64(writers * batches * perBatch)
            #expect(try store.head().seq == total)
            let report = try store.verifyChain()
            #expect(report.broken == nil && report.events == total)
            var actors: [Int64: String] = [:]
            try store.scan { actors[$0.seq] = $0.actor; return true }
            #expect(results.batches.reduce(0) { $0 + $1.appended } <= Int(total))
            for batch in results.batches {
                let owners = Set(((batch.head - Int64(batch.appended) + 1)...batch.head).map { actors[$0] ?? "?" })
                #expect(owners == ["writer-\(batch.writer)"], "batch ending at \(batch.head) holds \(owners)")
            }
            // Every batch is there exactly once and contiguous, whoever acknowledged it.
            var runs: [String: (first: Int64, last: Int64, count: Int)] = [:]
            try store.scan { e in
                let batch = String(e.id.split(separator: "-").prefix(2).joined(separator: "-"))
                let r = runs[batch] ?? (e.seq, e.seq, 0)
                runs[batch] = (r.first, e.seq, r.count + 1)
                return true
            }
            #expect(runs.count == writers * batches)
            for (batch, r) in runs { #expect(r.count == perBatch && r.last - r.first + 1 == Int64(perBatch), "\(batch): \(r)") }
        }
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var batches: [(writer: Int, appended: Int, head: Int64)] = []
    private(set) var failures: [String] = []
    func add(writer: Int, appended: Int, head: Int64) { lock.withLock { batches.append((writer, appended, head)) } }
    func fail(_ s: String) { lock.withLock { failures.append(s) } }
    private(set) var retries = 0
    func retried() { lock.withLock { retries += 1 } }
}

extension PostgreSQLServer {
    /// The real binary against the real server: `trellis import --db postgresql://…` SIGKILLed
    /// after it has sent rows of its batch leaves nothing of it; the same import run again is
    /// all there; `verify --chain-only` passes after each.
    @Suite("PostgreSQL store through the CLI", .serialized)
    struct PostgresCLITests {
        func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let r = try Trellis.run(args)
            return (r.status, r.stdout, r.stderr)
        }

        @Test func aWriterKilledMidBatchLeavesNothingAndTheRetryIsWhole() throws {
            let db = try PG.Database()
            defer { db.drop() }
            let initialised = try run(["init", "--db", db.url])
            #expect(initialised.status == 0, "\(initialised)")
            #expect(initialised.out.contains("GRANT SELECT, INSERT ON events"))
            let first = temporaryPath("first.ndjson"), big = temporaryPath("big.ndjson")
            defer { try? FileManager.default.removeItem(atPath: first); try? FileManager.default.removeItem(atPath: big) }
            try Data(orgLines("first", 100)).write(to: URL(fileURLWithPath: first))
            try Data(orgLines("big", 60_000)).write(to: URL(fileURLWithPath: big))
            #expect(try run(["import", "--db", db.url, first]).status == 0)

            let p = Process()
            p.executableURL = URL(fileURLWithPath: try Trellis.path())
            p.arguments = ["import", "--db", db.url, big]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait until the writer has sent rows of its batch (a COPY in its open transaction).
            let deadline = Date().addingTimeInterval(120)
            var sending = false
            while !sending && Date() < deadline && p.isRunning {
                sending = try db.sql("""
                    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND xact_start IS NOT NULL AND query LIKE 'COPY events%'
                    """).int(0, 0) > 0
                if !sending { usleep(20_000) }
            }
            #expect(sending, "the writer never sent rows (it finished or stalled first)")
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal)
            // The server notices the closed socket and rolls the transaction back.
            var gone = false
            for _ in 0..<500 where !gone {
                gone = try db.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'").int(0, 0) == 0
                if !gone { usleep(10_000) }
            }
            #expect(try db.sql("SELECT count(*) FROM events").int(0, 0) == 100)
            #expect(try db.sql("SELECT count(*) FROM rule_entities").int(0, 0) == 100)
            let verified = try run(["verify", "--chain-only", "--db", db.url])
            #expect(verified.status == 0 && verified.out.hasPrefix("ok: 100 events"), "\(verified)")

            let retried = try run(["import", "--db", db.url, big, "--format", "json"])
            #expect(retried.status == 0, "\(retried)")
            #expect(retried.out.contains(#""appended":60000"#) && retried.out.contains(#""head_seq":60100"#), "\(retried)")
            let again = try run(["verify", "--chain-only", "--db", db.url])
            #expect(again.status == 0 && again.out.hasPrefix("ok: 60100 events"), "\(again)")
        }

        /// `erase` as a writer role records the erasure but may not rewrite person_keys: the
        /// key's bytes stay in the table's file (a DELETE leaves them), and it says so, naming the
        /// owner. `erase --finish` as the writer is refused (74); as the owner it rewrites the
        /// table (the bytes are gone from its files) and lists what PostgreSQL may still hold.
        @Test func eraseFinishRewritesTheKeyTableAsItsOwnerAndSaysWhatTheServerMayStillHold() throws {
            let db = try PG.Database()
            let suffix = String(db.name.suffix(8))
            let writer = "w_" + suffix, reader = "r_" + suffix
            defer { db.drop(); try? PG.admin("DROP ROLE IF EXISTS \(writer), \(reader)") }
            #expect(try run(["init", "--db", db.url, "--create-roles", "--writer-role", writer, "--reader-role", reader]).status == 0)
            try db.sql("ALTER ROLE \(writer) LOGIN PASSWORD '\(ProcessInfo.processInfo.environment["PGPASSWORD"] ?? "")'")
            let asWriter = db.url.replacingOccurrences(of: "://trellis_test@", with: "://\(writer)@")
            let input = temporaryPath("persons.ndjson")
            defer { try? FileManager.default.removeItem(atPath: input) }
            try Data("""
                {"type":"OrganisationRegistered","occurred_at":"2026-01-01","data":{"org_id":"oak","name":"Oak","kind":"sat"}}
                {"type":"PersonRegistered","occurred_at":"2026-01-02","data":{"person_id":"p-1","org_id":"oak","name":"Alex Example","email":"alex@example.org"}}
                {"type":"PersonRegistered","occurred_at":"2026-01-02","data":{"person_id":"p-2","org_id":"oak","name":"Sam Example"}}

                """.utf8).write(to: URL(fileURLWithPath: input))
            let imported = try run(["import", "--db", asWriter, input])
            #expect(imported.status == 0, "\(imported)")
            let key = try #require(try PostgresStore.open(url: db.url).personKeys()["p-1"])

            let erased = try run(["erase", "p-1", "--reason", "request 2026-04", "--db", asWriter])
            // Recorded (the batch is committed), but not complete: this role may not rewrite the table.
            #expect(erased.status == 75 && erased.err.contains("does not own person_keys") && erased.err.contains("trellis_test"), "\(erased)")
            #expect(try PostgresStore.open(url: db.url).personKeys().keys.sorted() == ["p-2"])
            #expect(try db.tableFiles("person_keys", hold: key), "the deleted row's bytes should still be in the file: the test proves nothing")

            let refused = try run(["erase", "--finish", "--db", asWriter])
            #expect(refused.status == 74 && refused.err.contains("trellis_test") && !refused.out.contains("complete"), "\(refused)")
            #expect(try db.tableFiles("person_keys", hold: key))

            let before = try db.dataDirectory() + "/" + (try db.relationPath("person_keys"))
            let finished = try run(["erase", "--finish", "--db", db.url])
            #expect(finished.status == 0, "\(finished)")
            for phrase in ["person_keys rewritten", "WAL in pg_wal written before", "archive_mode is off", "replicas: none", "base backups"] {
                #expect(finished.out.contains(phrase), "\(phrase): \(finished.out)")
            }
            #expect(try !db.tableFiles("person_keys", hold: key, also: before))
            let json = try run(["erase", "--finish", "--db", db.url, "--format", "json"])
            #expect(json.status == 0 && json.out.contains(#""erasure_complete":true"#) && json.out.contains(#""archive_mode":"off""#), "\(json)")
            let verified = try run(["verify", "--chain-only", "--db", db.url])
            #expect(verified.status == 0 && verified.out.hasPrefix("ok: 4 events"), "\(verified)")
        }

        @Test func anUnreachableServerIsExit75ForReadsAndWritesAndNeverShowsThePassword() throws {
            let dir = NSTemporaryDirectory() + "trellis-unreachable-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for args in [["log"], ["report", "participation"], ["verify", "--chain-only"], ["import", "-"], ["status"]] {
                let r = try Trellis.run(args + ["--db", "postgresql://nobody:secret-word@127.0.0.1:1/none", "--cache", dir + "/cache.db"],
                                        stdin: .text("{}\n"))
                #expect(r.status == 75, "\(args): \(r)")
                #expect(!r.stderr.contains("secret-word") && !r.stdout.contains("secret-word"), "\(args): \(r)")
                #expect(r.stderr.contains("postgresql://nobody@127.0.0.1:1/none"), "\(args): \(r)")
            }
            #expect(!FileManager.default.fileExists(atPath: "postgresql:"))
            // Nothing was cached from a server never reached.
            #expect(!FileManager.default.fileExists(atPath: dir + "/cache.db"))
        }
    }
}
