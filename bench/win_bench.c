/*
 * win_bench.c - the Windows side of the benchmark: one case per memory
 * operation, run under Wine against the builtin kernel32 and against
 * memshim (bench/run_bench.py runs both, alternately). Uses only kernel32
 * and the C runtime, so it also runs on native Windows.
 * Usage: win_bench.exe [--quick] [CASE]
 */
#include <windows.h>
#include <stdint.h>
#include "../include/memshim.h"

static uint64_t bench_now_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (uint64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
}

#include "bench_common.h"

/* --- the allocator under test: the process heap --------------------------- */
static void *ba_alloc(size_t size) { return HeapAlloc(GetProcessHeap(), 0, size); }
static void ba_free(void *p) { BENCH_CHECK(HeapFree(GetProcessHeap(), 0, p), "HeapFree: %lu", GetLastError()); }
static void *ba_realloc(void *p, size_t size) { return HeapReAlloc(GetProcessHeap(), 0, p, size); }
static void *ba_heap_create(void) { return HeapCreate(0, 0, 0); }
static void *ba_heap_alloc(void *h, size_t size) { return HeapAlloc(h, 0, size); }
static void ba_heap_destroy(void *h) { BENCH_CHECK(HeapDestroy(h), "HeapDestroy: %lu", GetLastError()); }

typedef HANDLE bench_thread;
typedef HANDLE bench_event;
struct thread_start { void (*fn)(void *); void *arg; };
static DWORD WINAPI thread_entry(void *p)
{
    struct thread_start *s = p;
    s->fn(s->arg);
    HeapFree(GetProcessHeap(), 0, s);
    return 0;
}
static bench_thread bench_thread_run(void (*fn)(void *), void *arg)
{
    struct thread_start *s = HeapAlloc(GetProcessHeap(), 0, sizeof(*s));
    BENCH_CHECK(s, "alloc");
    s->fn = fn;
    s->arg = arg;
    HANDLE t = CreateThread(NULL, 0, thread_entry, s, 0, NULL);
    BENCH_CHECK(t, "CreateThread: %lu", GetLastError());
    return t;
}
static void bench_thread_join(bench_thread t)
{
    BENCH_CHECK(WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0, "wait");
    CloseHandle(t);
}
static void bench_event_init(bench_event *e) { *e = CreateEventW(NULL, FALSE, FALSE, NULL); BENCH_CHECK(*e, "event"); }
static void bench_event_set(bench_event *e) { SetEvent(*e); }
static void bench_event_wait(bench_event *e) { WaitForSingleObject(*e, INFINITE); }
static void bench_event_destroy(bench_event *e) { CloseHandle(*e); }

#include "bench_heap_cases.h"

/* --- virtual memory ----------------------------------------------------- */
#define KiB ((SIZE_T)1024)
#define PAGE (4 * KiB)

static void vm_alloc_touch_free_64k(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *p = VirtualAlloc(NULL, 64 * KiB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        BENCH_CHECK(p, "VirtualAlloc: %lu", GetLastError());
        for (SIZE_T off = 0; off < 64 * KiB; off += PAGE)
            p[off] = 1;
        BENCH_CHECK(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: %lu", GetLastError());
    }
}

static void vm_reserve_release_1g(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *p = VirtualAlloc(NULL, 1024 * 1024 * KiB, MEM_RESERVE, PAGE_NOACCESS);
        BENCH_CHECK(p, "VirtualAlloc 1 GiB: %lu", GetLastError());
        BENCH_CHECK(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: %lu", GetLastError());
    }
}

static char *reservation(void)
{
    static char *r;
    if (!r) {
        r = VirtualAlloc(NULL, 64 * KiB, MEM_RESERVE, PAGE_NOACCESS);
        BENCH_CHECK(r, "VirtualAlloc reserve: %lu", GetLastError());
    }
    return r;
}

static void vm_commit_decommit_page(size_t n)
{
    char *r = reservation();
    for (size_t i = 0; i < n; i++) {
        char *p = VirtualAlloc(r, PAGE, MEM_COMMIT, PAGE_READWRITE);
        BENCH_CHECK(p == r, "commit: %lu", GetLastError());
        p[0] = 1;
        BENCH_CHECK(VirtualFree(r, PAGE, MEM_DECOMMIT), "decommit: %lu", GetLastError());
    }
}

static char *committed_block(void)
{
    static char *b;
    if (!b) {
        b = VirtualAlloc(NULL, 64 * KiB, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        BENCH_CHECK(b, "VirtualAlloc: %lu", GetLastError());
        b[0] = 1;
    }
    return b;
}

static void vm_protect_toggle(size_t n)
{
    char *b = committed_block();
    DWORD old;
    for (size_t i = 0; i < n; i++) {
        DWORD want = (i & 1) ? PAGE_READWRITE : PAGE_READONLY;
        BENCH_CHECK(VirtualProtect(b, PAGE, want, &old), "VirtualProtect: %lu", GetLastError());
    }
    BENCH_CHECK(VirtualProtect(b, PAGE, PAGE_READWRITE, &old), "VirtualProtect: %lu", GetLastError());
}

static void vm_query(size_t n)
{
    char *b = committed_block();
    MEMORY_BASIC_INFORMATION mbi;
    for (size_t i = 0; i < n; i++) {
        BENCH_CHECK(VirtualQuery(b + PAGE, &mbi, sizeof(mbi)) == sizeof(mbi), "VirtualQuery: %lu", GetLastError());
        BENCH_CHECK(mbi.State == MEM_COMMIT, "state %#lx", mbi.State);
    }
}

/* One op = a walk of the whole user address space. */
static void vm_query_walk(size_t n)
{
    MEMORY_BASIC_INFORMATION mbi;
    for (size_t i = 0; i < n; i++) {
        char *addr = NULL;
        size_t regions = 0;
        while (VirtualQuery(addr, &mbi, sizeof(mbi)) == sizeof(mbi)) {
            regions++;
            char *next = (char *)mbi.BaseAddress + mbi.RegionSize;
            if (next <= addr)
                break;
            addr = next;
        }
        BENCH_CHECK(regions > 10, "only %zu regions", regions);
    }
}

/* --- sections ------------------------------------------------------------ */
static void section_cycle(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 64 * KiB, NULL);
        BENCH_CHECK(h, "CreateFileMapping: %lu", GetLastError());
        char *v = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 64 * KiB);
        BENCH_CHECK(v, "MapViewOfFile: %lu", GetLastError());
        v[0] = 1;
        v[32 * KiB] = 2;
        BENCH_CHECK(UnmapViewOfFile(v), "UnmapViewOfFile: %lu", GetLastError());
        BENCH_CHECK(CloseHandle(h), "CloseHandle: %lu", GetLastError());
    }
}

/* VirtualQuery inside a mapped view (one view, made once). */
static void view_query(size_t n)
{
    static char *view;
    if (!view) {
        HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 64 * KiB, NULL);
        BENCH_CHECK(h, "CreateFileMapping: %lu", GetLastError());
        view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 64 * KiB);
        BENCH_CHECK(view, "MapViewOfFile: %lu", GetLastError());
        view[0] = 1;
    }
    MEMORY_BASIC_INFORMATION mbi;
    for (size_t i = 0; i < n; i++) {
        BENCH_CHECK(VirtualQuery(view + PAGE, &mbi, sizeof(mbi)) == sizeof(mbi), "VirtualQuery: %lu", GetLastError());
        BENCH_CHECK(mbi.Type == MEM_MAPPED, "type %#lx", mbi.Type);
    }
}

static void section_open_cycle(size_t n)
{
    static HANDLE keep;
    if (!keep) {
        keep = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 64 * KiB, L"Local\\memshim-bench");
        BENCH_CHECK(keep, "CreateFileMapping: %lu", GetLastError());
    }
    for (size_t i = 0; i < n; i++) {
        HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, L"Local\\memshim-bench");
        BENCH_CHECK(h, "OpenFileMapping: %lu", GetLastError());
        char *v = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 64 * KiB);
        BENCH_CHECK(v, "MapViewOfFile: %lu", GetLastError());
        v[0] = 1;
        BENCH_CHECK(UnmapViewOfFile(v), "UnmapViewOfFile: %lu", GetLastError());
        BENCH_CHECK(CloseHandle(h), "CloseHandle: %lu", GetLastError());
    }
}

static void memory_status(size_t n)
{
    MEMORYSTATUSEX ms;
    for (size_t i = 0; i < n; i++) {
        ms.dwLength = sizeof(ms);
        BENCH_CHECK(GlobalMemoryStatusEx(&ms), "GlobalMemoryStatusEx: %lu", GetLastError());
        BENCH_CHECK(ms.ullTotalPhys > 0, "no RAM");
    }
}

static const struct bench_case cases[] = {
    { "vm_alloc_touch_free_64k", vm_alloc_touch_free_64k, 20000, 2000 },
    { "vm_reserve_release_1g", vm_reserve_release_1g, 5000, 500 },
    { "vm_commit_decommit_page", vm_commit_decommit_page, 20000, 2000 },
    { "vm_protect_toggle", vm_protect_toggle, 50000, 5000 },
    { "vm_query", vm_query, 200000, 20000 },
    { "vm_query_walk", vm_query_walk, 50, 5 },
    BENCH_HEAP_CASES,
    { "section_cycle", section_cycle, 2000, 200 },
    { "section_open_cycle", section_open_cycle, 2000, 200 },
    { "view_query", view_query, 200000, 20000 },
    { "memory_status", memory_status, 100000, 10000 },
};

int main(int argc, char **argv)
{
    bench_impl = memshim_is_active() ? "memshim" : "builtin";
    bench_main(cases, BENCH_COUNT(cases), argc, argv);
    return 0;
}
