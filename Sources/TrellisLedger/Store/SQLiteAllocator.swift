import CTrellisSQLite

/// SQLite's allocator in this process is Trellis's own (`CTrellisSQLite`, installed with
/// `SQLITE_CONFIG_MALLOC` when the binary loads): malloc with a size header, which counts the
/// live bytes allocated on a *confined* thread and refuses an allocation past the thread's
/// bound (SQLite then reports SQLITE_NOMEM and the statement stops, wherever it is). The
/// projection gate confines a user definition's run with it; other threads are neither
/// counted nor limited, so the import, rebuild and verify paths pay no shared counter.
public enum SQLiteAllocator {
    /// From now until ``release()``, SQLite allocations on this thread are counted, and one
    /// that would take the count of live counted bytes past `bytes` fails.
    public static func confine(toBytes bytes: Int64) { ctrellis_sqlite_confine(bytes) }

    /// Ends this thread's confinement: true when an allocation was refused since ``confine(toBytes:)``.
    public static func release() -> Bool { ctrellis_sqlite_release() != 0 }
}
