#ifndef CTRELLIS_SQLITE_H
#define CTRELLIS_SQLITE_H

#include <stddef.h>

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS) for this process. With them
/// on, every sqlite3_malloc and sqlite3_free takes one process-wide mutex, so two threads
/// working SQLite at once (full verify's replay beside its read-model rebuild) queue on it.
/// Trellis reads none of those statistics. Runs by itself when the binary loads, before any
/// connection is opened; calling it again later changes nothing (SQLite refuses a change
/// once initialised). Returns SQLite's result code.
int ctrellis_sqlite_memstatus_off(void);

/// SQLite's allocator in this process is Trellis's (installed at load, SQLITE_CONFIG_MALLOC):
/// malloc, with a count of the live bytes allocated by *confined* threads. From this call
/// until ``ctrellis_sqlite_release``, every SQLite allocation on the calling thread is
/// counted, and one that would take the count past `bytes` fails (SQLite reports
/// SQLITE_NOMEM, the statement stops). The projection gate confines a user definition's run
/// with it. Other threads are not limited and not counted.
void ctrellis_sqlite_confine(long long bytes);

/// Ends the calling thread's confinement. Returns 1 if an allocation was refused since
/// ``ctrellis_sqlite_confine``, else 0.
int ctrellis_sqlite_release(void);

/// Asks the CPU to bring the cache line at `p` in, for a read soon (`__builtin_prefetch`):
/// the import's writer asks for the rule cache's slots an event or two ahead.
static inline void ctrellis_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Where `needle` first occurs in `haystack` (glibc's `memmem`, a GNU extension the Swift
/// Glibc module does not export): `trellis log --org` and `trellis audit` test each row's
/// bytes for the organisation's id before building anything of it.
const void *ctrellis_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
