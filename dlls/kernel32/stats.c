/*
 * stats.c - see stats.h. The report goes straight to the host's stderr
 * (file descriptor 2, Wine's own stderr), formatted without a C runtime.
 *
 * Counting: each call increments a counter in one of STAT_STRIPES stripes
 * chosen by thread, each on cache lines of its own, so threads of a busy
 * program do not fight over one line (two threads on one shared counter
 * made every HeapAlloc+HeapFree pair ~45% slower). The totals are folded
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

#define STAT_STRIPES 16
static struct {
    _Alignas(64) volatile LONG64 calls[STAT_COUNT_OF];
    volatile LONG64 failures[STAT_COUNT_OF];
} stripes[STAT_STRIPES];

void memshim_stats_count(enum memshim_stat which, int failed)
{
    /* Thread pointers are page-aligned and spaced by stacks: mix the bits
     * above the page. */
    unsigned s = (unsigned)(((uint64_t)(host_thread_key() >> 12) * 0x9E3779B97F4A7C15ull) >> 60) % STAT_STRIPES;
    InterlockedIncrement64(&stripes[s].calls[which]);
    if (failed)
        InterlockedIncrement64(&stripes[s].failures[which]);
}

void memshim_stats_fold(void)
{
    for (int i = 0; i < STAT_COUNT_OF; i++) {
        uint64_t calls = 0, failures = 0;
        for (int s = 0; s < STAT_STRIPES; s++) {
            calls += (uint64_t)__atomic_load_n(&stripes[s].calls[i], __ATOMIC_RELAXED);
            failures += (uint64_t)__atomic_load_n(&stripes[s].failures[i], __ATOMIC_RELAXED);
        }
        __atomic_store_n(&counts[i].calls, calls, __ATOMIC_RELAXED);
        __atomic_store_n(&counts[i].failures, failures, __ATOMIC_RELAXED);
    }
}

/* An environment switch: set, not empty and not starting with '0'. */
static BOOL env_on(const WCHAR *name)
{
    typedef DWORD(WINAPI * fn_t)(LPCWSTR, LPWSTR, DWORD);
    WCHAR value[8];
    DWORD n = WINE_FN(fn_t, GetEnvironmentVariableW)(name, value, 8);
    return n > 0 && n < 8 && value[0] != '0';
}

void memshim_stats_init(void)
{
    report_at_exit = env_on(L"MEMSHIM_STATS");
    if (!report_at_exit && !env_on(L"MEMSHIM_LIVE"))
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
    live_page_start(STAT_COUNT_OF);
    memshim_stats_on = 1;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = ms_vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    host_write(2, line, n < sizeof line ? n : sizeof line - 1);
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
    out("memshim stats (process %d):\n", host_getpid());
    out("  %-22s %12s %10s\n", "function", "calls", "failed");
    for (int i = 0; i < STAT_COUNT_OF; i++)
        if (counts[i].calls)
            out("  %-22s %12llu %10llu\n", stat_names[i], (unsigned long long)counts[i].calls,
                (unsigned long long)counts[i].failures);
    struct vm_counters c;
    vm_get_counters(&c);
    out("  committed %llu KiB now, %llu KiB peak; reserved %llu KiB; views %llu (%llu KiB)\n",
        kib(c.committed_bytes), kib(c.peak_committed_bytes), kib(c.reserved_bytes),
        (unsigned long long)c.views, kib(c.view_bytes));
    struct heap_totals h;
    heap_totals(&h);
    out("  heaps: %llu private live; %llu KiB in use (process heap %llu KiB)\n", (unsigned long long)h.private_heaps,
        kib(h.in_use), kib(h.process_in_use));
    struct memshim_live_heap heaps[MEMSHIM_LIVE_HEAPS];
    unsigned total = live_heaps_sample(heaps, MEMSHIM_LIVE_HEAPS);
    for (unsigned i = 0; i < total && i < MEMSHIM_LIVE_HEAPS; i++)
        out("    %s %p: %llu blocks, %llu KiB in use; peak %llu blocks, %llu KiB\n",
            heaps[i].is_process_heap ? "process heap" : "heap", (void *)(uintptr_t)heaps[i].handle,
            (unsigned long long)heaps[i].blocks, kib(heaps[i].in_use), (unsigned long long)heaps[i].peak_blocks,
            kib(heaps[i].peak_in_use));
    if (total > MEMSHIM_LIVE_HEAPS)
        out("    ... and %u more heaps\n", total - MEMSHIM_LIVE_HEAPS);
    out("  host mappings: %ld\n", host_count_mappings());
}
