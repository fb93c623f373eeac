import Foundation
import CLibPQ
import TrellisLedger
import TrellisCore

/// One libpq connection, used synchronously (a CLI does one thing at a time). Every failure
/// becomes a ``LedgerError`` naming the server by its URL without a password; libpq takes the
/// password from `PGPASSWORD` or `~/.pgpass` and it is never printed.
final class PGConnection {
    let handle: OpaquePointer
    /// The URL with any password removed, for messages.
    let location: String
    /// Statements sent so far (each a round trip): what the tests hold an import to.
    private(set) var statements = 0

    init(url: String) throws(LedgerError) {
        location = PGConnection.redacted(url)
        guard trellis_libpq_load() == 1 else {
            throw LedgerError.cannotOpen(path: location, reason: "the PostgreSQL client library could not be loaded ("
                                         + String(cString: trellis_libpq_error()) + "): install libpq5 (apt-get install libpq5)")
        }
        guard let conn = TPQconnectdb(url) else { throw LedgerError.cannotOpen(path: location, reason: "libpq could not allocate a connection") }
        guard TPQstatus(conn) == CONNECTION_OK else {
            let message = PGConnection.message(TPQerrorMessage(conn))
            TPQfinish(conn)
            throw PGConnection.connectError(message, location: location)
        }
        handle = conn
        // Notices (a CREATE … IF NOT EXISTS that skipped, say) are not the user's business.
        TPQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { TPQfinish(handle) }

    /// The URL as shown in messages: `postgresql://user:secret@host/db` loses `:secret`, and a
    /// `password=` parameter is dropped.
    static func redacted(_ url: String) -> String {
        var text = url
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                text.removeSubrange(colon..<at)
            }
        }
        if let q = text.firstIndex(of: "?") {
            let query = text[text.index(after: q)...].split(separator: "&").filter { !$0.lowercased().hasPrefix("password=") }
            text = String(text[..<q]) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        }
        return text
    }

    static func message(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "unknown error" }
        var s = Substring(String(cString: p))
        while let c = s.last, c == " " || c == "\n" { s.removeLast() }
        while let c = s.first, c == " " || c == "\n" { s.removeFirst() }
        return s.isEmpty ? "unknown error" : String(s)
    }

    private static func connectError(_ message: String, location: String) -> LedgerError {
        let m = message.lowercased()
        if m.contains("password authentication failed") || m.contains("no password supplied") || m.contains("authentication") {
            return .cannotOpen(path: location, reason: "the server refused the login (set PGPASSWORD or a ~/.pgpass line for this role): \(firstLine(message))")
        }
        if m.contains("does not exist") { return .missing(path: location) }
        if m.contains("connection refused") || m.contains("could not connect") || m.contains("timeout") || m.contains("starting up")
            || m.contains("shutting down") || m.contains("too many clients") || m.contains("closed the connection")
            || m.contains("terminating connection") || m.contains("in recovery") {
            return .unavailable(path: location, reason: firstLine(message) + "; nothing was written, try again")
        }
        return .cannotOpen(path: location, reason: firstLine(message))
    }

    static func firstLine(_ s: String) -> String {
        var line = String(s.split(separator: "\n").first ?? Substring(s))
        for prefix in ["ERROR:  ", "FATAL:  ", "connection to server at "] where line.hasPrefix(prefix) { line.removeFirst(prefix.count) }
        return line
    }

    /// `lock_timeout` for a writer waiting for the append lock: ``Ledger/busyTimeout`` in
    /// milliseconds, at least 1 (0 would mean no limit in PostgreSQL).
    static var lockTimeoutMillis: Int64 { Int64(max(1, min(Ledger.busyTimeout * 1000, Double(Int32.max)))) }

    /// Whether the connection is still usable (false after the server went away).
    var isOK: Bool { TPQstatus(handle) == CONNECTION_OK }

    /// An error of a command: the server's SQLSTATE decides the exit code.
    func failure(_ result: OpaquePointer?, during what: String, committing: Bool = false) -> LedgerError {
        let state = result.flatMap { TPQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        let text = PGConnection.firstLine(result.map { PGConnection.message(TPQresultErrorMessage($0)) } ?? PGConnection.message(TPQerrorMessage(handle)))
        let lost = !isOK || state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
        if lost {
            return .unavailable(path: location, reason: committing
                ? "the connection broke while committing (\(text)); the batch is either wholly there or wholly absent: 'trellis status' shows which, then retry if it is absent"
                : "the connection broke \(what) (\(text)); the server rolled the transaction back, nothing was written, try again")
        }
        switch state {
        case "55P03": return .busy(path: location, seconds: Ledger.busyTimeout)
        case "40001", "40P01", "57014": return .busy(path: location, seconds: 0)
        case "53100": return .storage(path: location, reason: "the database server's disk is full (\(text))")
        case "42501": return .storage(path: location, reason: "this role may not do that (\(text)): the writer role is needed to append")
        case "3D000": return .missing(path: location)
        case "42P01": return .corrupt(path: location, reason: "a PostgreSQL database, but not a Trellis ledger (\(text)); run 'trellis init --db …' first")
        default: return .database("\(text) (SQLSTATE \(state.isEmpty ? "?" : state), \(what))")
        }
    }

    /// A parameter: text, or bytes sent as binary (bytea).
    enum Param {
        case text(String)
        case int(Int64)
        case bytes([UInt8])
        case null
    }

    /// Runs one statement with parameters; rows come back as text.
    @discardableResult
    func exec(_ sql: String, _ params: [Param] = [], during what: String = "running a query") throws(LedgerError) -> PGResult {
        var texts: [[CChar]?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for p in params {
            switch p {
            case .text(let s): texts.append(Array(s.utf8CString)); lengths.append(0); formats.append(0)
            case .int(let i): texts.append(Array(String(i).utf8CString)); lengths.append(0); formats.append(0)
            case .bytes(let b): texts.append(b.map { CChar(bitPattern: $0) } + [0]); lengths.append(Int32(b.count)); formats.append(1)
            case .null: texts.append(nil); lengths.append(0); formats.append(0)
            }
        }
        statements += 1
        let result: OpaquePointer? = withPointers(texts) { values in
            lengths.withUnsafeBufferPointer { l in
                formats.withUnsafeBufferPointer { f in
                    TPQexecParams(handle, sql, Int32(params.count), nil, values, l.baseAddress, f.baseAddress, 0)
                }
            }
        }
        let status = result.map { TPQresultStatus($0) } ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let error = failure(result, during: what, committing: sql == "COMMIT")
            if let result { TPQclear(result) }
            throw error
        }
        return PGResult(result!)
    }

    /// Sends `rows` (COPY text format, one row a line) to `COPY … FROM STDIN`.
    func copy(_ sql: String, _ rows: [UInt8], during what: String) throws(LedgerError) {
        statements += 1
        guard let start = TPQexec(handle, sql) else { throw failure(nil, during: what) }
        guard TPQresultStatus(start) == PGRES_COPY_IN else {
            let error = failure(start, during: what)
            TPQclear(start)
            throw error
        }
        TPQclear(start)
        let sent: Int32 = rows.withUnsafeBufferPointer { b in
            var offset = 0
            // libpq copies what it is given into its own buffer: send in slices.
            while offset < b.count {
                let n = min(1 << 20, b.count - offset)
                let r = b.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: n) { TPQputCopyData(handle, $0, Int32(n)) }
                if r != 1 { return r }
                offset += n
            }
            return TPQputCopyEnd(handle, nil)
        }
        var error: LedgerError?
        if sent != 1 { error = failure(nil, during: what) }
        while let r = TPQgetResult(handle) {
            if error == nil, TPQresultStatus(r) != PGRES_COMMAND_OK { error = failure(r, during: what) }
            TPQclear(r)
        }
        if let error { throw error }
    }

    /// Runs statements with no parameters and no rows (schema, transaction control).
    func run(_ sql: String, during what: String = "running a command") throws(LedgerError) {
        statements += 1
        let result = TPQexec(handle, sql)
        let status = result.map { TPQresultStatus($0) } ?? PGRES_FATAL_ERROR
        defer { if let result { TPQclear(result) } }
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw failure(result, during: what, committing: sql == "COMMIT")
        }
    }
}

private func withPointers<R>(_ arrays: [[CChar]?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    var owned: [UnsafeMutablePointer<CChar>] = []
    defer { owned.forEach { $0.deallocate() } }
    for a in arrays {
        guard let a else { pointers.append(nil); continue }
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: a.count)
        p.initialize(from: a, count: a.count)
        owned.append(p)
        pointers.append(UnsafePointer(p))
    }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// A result's rows, read as text; cleared when released.
final class PGResult {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { TPQclear(handle) }

    var count: Int { Int(TPQntuples(handle)) }
    func isNull(_ row: Int, _ column: Int) -> Bool { TPQgetisnull(handle, Int32(row), Int32(column)) != 0 }

    func string(_ row: Int, _ column: Int) -> String? {
        guard !isNull(row, column), let p = TPQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        return String(cString: p)
    }

    func int(_ row: Int, _ column: Int) -> Int64 {
        guard !isNull(row, column), let p = TPQgetvalue(handle, Int32(row), Int32(column)) else { return 0 }
        var v: Int64 = 0
        var negative = false
        var q = p
        if q.pointee == 45 { negative = true; q += 1 }
        while q.pointee >= 48 && q.pointee <= 57 { v = v &* 10 &+ Int64(q.pointee - 48); q += 1 }
        return negative ? -v : v
    }

    /// A bytea column in PostgreSQL's hex output form (`\x…`).
    func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard !isNull(row, column), let p = TPQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        let n = Int(TPQgetlength(handle, Int32(row), Int32(column)))
        guard n >= 2, p[0] == 92, p[1] == 120 else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity((n - 2) / 2)
        func nibble(_ c: CChar) -> UInt8 {
            let u = UInt8(bitPattern: c)
            switch u {
            case 48...57: return u - 48
            case 97...102: return u - 87
            case 65...70: return u - 55
            default: return 0
            }
        }
        var i = 2
        while i + 1 < n { out.append(nibble(p[i]) << 4 | nibble(p[i + 1])); i += 2 }
        return out
    }
}
