/*
 * stats.c - see stats.h. The report goes straight to the host's stderr
 * (file descriptor 2, Wine's own stderr), formatted without a C runtime.
 *
 * Counting: each thread increments counters of its own (a block found
 * through a TLS slot), without an atomic read-modify-write and on cache
 * lines no other thread writes (two threads on one shared counter made
 * every HeapAlloc+HeapFree pair ~45% slower; hashed stripes with atomic
 * increments still cost 10-20%). The totals are folded
 * into the slots of the live statistics page when it could be made
 * (live_page.c, at each snapshot: `memshim stat` figures are at most one
 * snapshot old), else into a private array of the same layout, and once
 * more for the report at exit.
 */
#include "private.h"
#include "stats.h"
#include "live_page.h"
#include "../../include/memshim_live.h"
#include "../../src/base/ms_format.h"
#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

unsigned char memshim_stats_on;
static unsigned char report_at_exit;

static const char *const stat_names[STAT_COUNT_OF] = {
    "VirtualAlloc(Ex)",
    "VirtualFree(Ex)",
    "VirtualProtect(Ex)",
    "VirtualQuery(Ex)",
    "VirtualLock",
    "VirtualUnlock",
    "GetWriteWatch",
    "ResetWriteWatch",
    "ReadProcessMemory",
    "WriteProcessMemory",
    "HeapCreate",
    "HeapDestroy",
    "HeapAlloc",
    "HeapFree",
    "HeapReAlloc",
    "HeapSize",
    "CreateFileMapping",
    "OpenFileMapping",
    "MapViewOfFile(Ex)",
    "UnmapViewOfFile",
    "FlushViewOfFile",
    "GlobalMemoryStatusEx",
};

_Static_assert(STAT_COUNT_OF <= MEMSHIM_LIVE_FUNCTIONS, "every counter needs a slot in the live page");

static struct memshim_live_function private_counts[STAT_COUNT_OF];
static struct memshim_live_function *counts = private_counts;

/* Per-thread counters: a thread takes a block of the pool on its first
 * counted call and keeps it in a TLS slot (stats.h: the increment is
 * inline); only it writes the block (relaxed load + store, no
 * read-modify-write), the folding reads it. At DLL_THREAD_DETACH its counts
 * move into `retired` and the block goes back to the pool. Threads beyond
 * the pool count in `overflow` with atomic adds. */
#define STAT_BLOCKS 64
struct stat_block {
    _Alignas(64) uint64_t v[2 * STAT_COUNT_OF];    /* calls, then failures */
};
static struct stat_block blocks[STAT_BLOCKS], retired, overflow;
static volatile LONG block_taken[STAT_BLOCKS];
DWORD memshim_stats_tls = TLS_OUT_OF_INDEXES;

void memshim_stats_count_slow(enum memshim_stat which, int failed)
{
    if (memshim_stats_tls < 64) {
        for (int i = 0; i < STAT_BLOCKS; i++)
            if (!block_taken[i] && !InterlockedCompareExchange(&block_taken[i], 1, 0)) {
                *memshim_stats_slot() = blocks[i].v;
                memshim_stats_count(which, failed);
                return;
            }
    }
    __atomic_fetch_add(&overflow.v[which], 1, __ATOMIC_RELAXED);
    if (failed)
        __atomic_fetch_add(&overflow.v[STAT_COUNT_OF + which], 1, __ATOMIC_RELAXED);
}

void memshim_stats_thread_detach(void)
{
    if (!memshim_stats_on || memshim_stats_tls >= 64)
        return;
    uint64_t **slot = memshim_stats_slot(), *v = *slot;
    if (!v)
        return;
    for (int i = 0; i < 2 * STAT_COUNT_OF; i++) {
        __atomic_fetch_add(&retired.v[i], __atomic_load_n(&v[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
        __atomic_store_n(&v[i], 0, __ATOMIC_RELAXED);
    }
    *slot = NULL;
    InterlockedExchange(&block_taken[(struct stat_block *)v - blocks], 0);
}

void memshim_stats_fold(void)
{
    for (int i = 0; i < STAT_COUNT_OF; i++) {
        uint64_t calls = 0, failures = 0;
        for (int k = 0; k <= STAT_BLOCKS + 1; k++) {
            const struct stat_block *b = k < STAT_BLOCKS ? &blocks[k] : k == STAT_BLOCKS ? &retired : &overflow;
            calls += __atomic_load_n(&b->v[i], __ATOMIC_RELAXED);
            failures += __atomic_load_n(&b->v[STAT_COUNT_OF + i], __ATOMIC_RELAXED);
        }
        if (i == STAT_HEAPALLOC || i == STAT_HEAPFREE) {
            /* The heap's fast paths count in their shards (never failing). */
            uint64_t allocs, frees;
            heap_process_fast_calls(&allocs, &frees);
            calls += i == STAT_HEAPALLOC ? allocs : frees;
        }
        __atomic_store_n(&counts[i].calls, calls, __ATOMIC_RELAXED);
        __atomic_store_n(&counts[i].failures, failures, __ATOMIC_RELAXED);
    }
}

void memshim_stats_init(void)
{
    typedef DWORD(WINAPI * tls_alloc_fn)(void);
    report_at_exit = memshim_env_flag(L"MEMSHIM_STATS", FALSE);
    if (!report_at_exit && !memshim_env_flag(L"MEMSHIM_LIVE", FALSE))
        return;
#ifdef MEMSHIM_NO_HOOKS
    ERR("this memshim was built with -Dhooks=false: no statistics\n");
    return;
#endif
    struct memshim_live_function *slots = live_page_create();
    if (slots)
        counts = slots;
    for (int i = 0; i < STAT_COUNT_OF; i++)
        for (size_t j = 0; stat_names[i][j] && j + 1 < MEMSHIM_LIVE_NAME_MAX; j++)
            counts[i].name[j] = stat_names[i][j];
    memshim_stats_tls = WINE_FN(tls_alloc_fn, TlsAlloc)();
    live_page_start(STAT_COUNT_OF);
    memshim_stats_on = 1;
}

/* Bytes as "N KiB" (rounded down), so the report lines stay short. */
static unsigned long long kib(uint64_t bytes)
{
    return (unsigned long long)(bytes >> 10);
}

void memshim_stats_report(void)
{
    if (!memshim_stats_on)
        return;
    live_page_remove();
    if (!report_at_exit)
        return;
    memshim_stats_fold();
    memshim_report("memshim stats (process %d):\n", host_getpid());
    memshim_report("  %-22s %12s %10s\n", "function", "calls", "failed");
    for (int i = 0; i < STAT_COUNT_OF; i++)
        if (counts[i].calls)
            memshim_report("  %-22s %12llu %10llu\n", stat_names[i], (unsigned long long)counts[i].calls,
                (unsigned long long)counts[i].failures);
    struct vm_counters c;
    vm_get_counters(&c);
    memshim_report("  committed %llu KiB now, %llu KiB peak; reserved %llu KiB; views %llu (%llu KiB)\n",
        kib(c.committed_bytes), kib(c.peak_committed_bytes), kib(c.reserved_bytes),
        (unsigned long long)c.views, kib(c.view_bytes));
    struct heap_totals h;
    heap_totals(&h);
    memshim_report("  heaps: %llu private live; %llu KiB in use (process heap %llu KiB)\n", (unsigned long long)h.private_heaps,
        kib(h.in_use), kib(h.process_in_use));
    struct memshim_live_heap heaps[MEMSHIM_LIVE_HEAPS];
    unsigned total = live_heaps_sample(heaps, MEMSHIM_LIVE_HEAPS);
    for (unsigned i = 0; i < total && i < MEMSHIM_LIVE_HEAPS; i++)
        memshim_report("    %s %p: %llu blocks, %llu KiB in use; peak %llu blocks, %llu KiB\n",
            heaps[i].is_process_heap ? "process heap" : "heap", (void *)(uintptr_t)heaps[i].handle,
            (unsigned long long)heaps[i].blocks, kib(heaps[i].in_use), (unsigned long long)heaps[i].peak_blocks,
            kib(heaps[i].peak_in_use));
    if (total > MEMSHIM_LIVE_HEAPS)
        memshim_report("    ... and %u more heaps\n", total - MEMSHIM_LIVE_HEAPS);
    uint64_t purges = heap_purge_count();
    if (purges)
        memshim_report("  background purge: quiet heaps gave back what they kept %llu times\n",
            (unsigned long long)purges);
    size_t lent = host_shadow_ranges(), waiting = host_shadow_queued();
    uint64_t dropped = host_shadow_lost();
    if (lent || waiting || dropped)
        memshim_report("  Wine's page map: %llu allocations lent to reads the server writes, kept told;"
                       " %llu changes waiting, %llu dropped\n",
            (unsigned long long)lent, (unsigned long long)waiting, (unsigned long long)dropped);
    memshim_report("  host mappings: %ld\n", host_count_mappings());
}
