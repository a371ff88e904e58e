/*
 * stats.c - see stats.h. The report goes straight to the host's stderr
 * (file descriptor 2, Wine's own stderr), formatted without a C runtime.
 */
#include "private.h"
#include "stats.h"
#include "../../src/base/ms_format.h"
#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

unsigned char memshim_stats_on;

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

static struct {
    volatile LONG64 calls, failures;
} counts[STAT_COUNT_OF];

void memshim_stats_count(enum memshim_stat which, int failed)
{
    InterlockedIncrement64(&counts[which].calls);
    if (failed)
        InterlockedIncrement64(&counts[which].failures);
}

void memshim_stats_init(void)
{
    typedef DWORD(WINAPI * fn_t)(LPCWSTR, LPWSTR, DWORD);
    WCHAR value[8];
    DWORD n = WINE_FN(fn_t, GetEnvironmentVariableW)(L"MEMSHIM_STATS", value, 8);
    memshim_stats_on = n > 0 && n < 8 && value[0] != '0';
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
    out("  host mappings: %ld\n", host_count_mappings());
}
