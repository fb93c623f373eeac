#define _GNU_SOURCE
#include <string.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "ctrellis_sqlite.h"

int ctrellis_sqlite_memstatus_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// The allocator SQLite uses (SQLITE_CONFIG_MALLOC): malloc with a 16-byte header holding
// the block's size and whether it was allocated on a confined thread. Only those blocks are
// counted, in one atomic total, so the hot paths (import, rebuild, verify, on any thread)
// pay a header and no shared counter.
typedef struct { size_t size; size_t counted; } ctrellis_header;

static _Atomic long long ctrellis_counted_bytes = 0;
static _Thread_local long long ctrellis_cap = -1;   // < 0: this thread is not confined
static _Thread_local int ctrellis_refused = 0;

static void *ctrellis_malloc(int n) {
    if (n <= 0) return NULL;
    int counted = ctrellis_cap >= 0;
    if (counted && atomic_load_explicit(&ctrellis_counted_bytes, memory_order_relaxed) + n > ctrellis_cap) {
        ctrellis_refused = 1;
        return NULL;
    }
    ctrellis_header *h = malloc(sizeof *h + (size_t)n);
    if (!h) return NULL;
    h->size = (size_t)n;
    h->counted = (size_t)counted;
    if (counted) atomic_fetch_add_explicit(&ctrellis_counted_bytes, n, memory_order_relaxed);
    return h + 1;
}

static void ctrellis_free(void *p) {
    if (!p) return;
    ctrellis_header *h = (ctrellis_header *)p - 1;
    if (h->counted) atomic_fetch_sub_explicit(&ctrellis_counted_bytes, (long long)h->size, memory_order_relaxed);
    free(h);
}

static void *ctrellis_realloc(void *p, int n) {
    if (!p) return ctrellis_malloc(n);
    if (n <= 0) return NULL;
    ctrellis_header *h = (ctrellis_header *)p - 1;
    long long old = (long long)h->size;
    int wasCounted = h->counted != 0;
    int counted = wasCounted || ctrellis_cap >= 0;
    long long growth = counted ? (long long)n - (wasCounted ? old : 0) : 0;
    if (ctrellis_cap >= 0 && growth > 0
        && atomic_load_explicit(&ctrellis_counted_bytes, memory_order_relaxed) + growth > ctrellis_cap) {
        ctrellis_refused = 1;
        return NULL;
    }
    ctrellis_header *q = realloc(h, sizeof *q + (size_t)n);
    if (!q) return NULL;
    q->size = (size_t)n;
    q->counted = (size_t)counted;
    if (counted) atomic_fetch_add_explicit(&ctrellis_counted_bytes, growth, memory_order_relaxed);
    return q + 1;
}

static int ctrellis_size(void *p) { return p ? (int)((ctrellis_header *)p - 1)->size : 0; }
static int ctrellis_roundup(int n) { return (n + 7) & ~7; }
static int ctrellis_init(void *unused) { (void)unused; return SQLITE_OK; }
static void ctrellis_shutdown(void *unused) { (void)unused; }

static const sqlite3_mem_methods ctrellis_methods = {
    ctrellis_malloc, ctrellis_free, ctrellis_realloc, ctrellis_size, ctrellis_roundup,
    ctrellis_init, ctrellis_shutdown, NULL
};

void ctrellis_sqlite_confine(long long bytes) {
    ctrellis_cap = bytes < 0 ? 0 : bytes;
    ctrellis_refused = 0;
}

int ctrellis_sqlite_release(void) {
    ctrellis_cap = -1;
    int refused = ctrellis_refused;
    ctrellis_refused = 0;
    return refused;
}

// sqlite3_config must come before sqlite3_initialize (the first open): at load time.
__attribute__((constructor)) static void ctrellis_sqlite_at_load(void) {
    (void)sqlite3_config(SQLITE_CONFIG_MALLOC, &ctrellis_methods);
    (void)ctrellis_sqlite_memstatus_off();
}

const void *ctrellis_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}
