import GRDB
import GRDBSQLite

/// Thin helpers over GRDB's raw statement handle, for the hot paths (import, verify, scans)
/// where GRDB's convenience layer costs speed. Not a second SQLite wrapper: statements are
/// prepared and owned by GRDB; these only bind, step and read columns.
public enum Raw {
    nonisolated(unsafe) public static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public static func bind(_ s: SQLiteStatement, _ i: Int32, _ v: Int64) { sqlite3_bind_int64(s, i, v) }

    public static func bind(_ s: SQLiteStatement, _ i: Int32, _ v: String?) {
        guard var v else { sqlite3_bind_null(s, i); return }
        v.withUTF8 { p in
            guard let base = p.baseAddress else { _ = sqlite3_bind_text(s, i, "", 0, transient); return }
            _ = sqlite3_bind_text(s, i, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(p.count), transient)
        }
    }

    public static func bind(_ s: SQLiteStatement, _ i: Int32, bytes v: [UInt8], asText: Bool) {
        v.withUnsafeBufferPointer { p in
            let base = UnsafeRawPointer(p.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            if asText {
                _ = sqlite3_bind_text(s, i, base.assumingMemoryBound(to: CChar.self), Int32(p.count), transient)
            } else {
                _ = sqlite3_bind_blob(s, i, base, Int32(p.count), transient)
            }
        }
    }

    /// The bytes of a text or blob column, valid until the next step or reset.
    public static func column(_ s: SQLiteStatement, _ i: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(s, i) != SQLITE_NULL else { return nil }
        let n = Int(sqlite3_column_bytes(s, i))
        guard n > 0, let p = sqlite3_column_blob(s, i) else {
            return UnsafeBufferPointer(start: UnsafePointer(bitPattern: 1), count: 0)
        }
        return UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: n)
    }

    public static func string(_ s: SQLiteStatement, _ i: Int32) -> String? {
        column(s, i).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func int(_ s: SQLiteStatement, _ i: Int32) -> Int64 { sqlite3_column_int64(s, i) }

    /// Steps once; true when a row is available, false when done; throws SQLite's error.
    public static func step(_ s: SQLiteStatement, _ db: Database) throws -> Bool {
        let rc = sqlite3_step(s)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }
}
