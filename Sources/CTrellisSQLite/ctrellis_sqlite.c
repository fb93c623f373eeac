#include <sqlite3.h>
#include "ctrellis_sqlite.h"

int ctrellis_sqlite_memstatus_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// sqlite3_config must come before sqlite3_initialize (the first open): at load time.
__attribute__((constructor)) static void ctrellis_sqlite_at_load(void) {
    (void)ctrellis_sqlite_memstatus_off();
}
