#ifndef CTRELLIS_SQLITE_H
#define CTRELLIS_SQLITE_H

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS) for this process. With them
/// on, every sqlite3_malloc and sqlite3_free takes one process-wide mutex, so two threads
/// working SQLite at once (full verify's replay beside its read-model rebuild) queue on it.
/// Trellis reads none of those statistics. Runs by itself when the binary loads, before any
/// connection is opened; calling it again later changes nothing (SQLite refuses a change
/// once initialised). Returns SQLite's result code.
int ctrellis_sqlite_memstatus_off(void);

#endif
