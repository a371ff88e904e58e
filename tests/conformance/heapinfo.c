/*
 * Conformance: looking into heaps and the heap's reactions to failure:
 * HeapWalk (regions, busy blocks, uncommitted ranges, the end, a bad
 * position, a walk under HeapLock while another thread waits to allocate,
 * the process heap), HeapCompact, HeapSummary, HeapQueryInformation /
 * HeapSetInformation (HeapOptimizeResources gives freed memory back),
 * HEAP_GENERATE_EXCEPTIONS given at HeapCreate, and
 * HeapEnableTerminationOnCorruption (a double free ends a child process
 * with STATUS_HEAP_CORRUPTION; without it HeapFree returns FALSE).
 */
#include "harness.h"
#include <psapi.h>

#define MY_HeapOptimizeResources ((HEAP_INFORMATION_CLASS)3)
typedef struct { DWORD Version; DWORD Flags; } MY_HEAP_OPTIMIZE_RESOURCES_INFORMATION;

static const char *program;

struct walk_count {
    int entries, regions, busy, uncommitted, found;
    SIZE_T found_size;
    DWORD end_error;
    PROCESS_HEAP_ENTRY first;
};

static struct walk_count walk(HANDLE heap, const void *block)
{
    struct walk_count c = { 0 };
    PROCESS_HEAP_ENTRY e;
    memset(&e, 0xcd, sizeof(e));
    e.lpData = NULL;
    SetLastError(0xdeadbeef);
    while (HeapWalk(heap, &e)) {
        if (!c.entries)
            c.first = e;
        c.entries++;
        if (e.wFlags & PROCESS_HEAP_REGION)
            c.regions++;
        if (e.wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE)
            c.uncommitted++;
        if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) {
            c.busy++;
            if (e.lpData == block) {
                c.found++;
                c.found_size = e.cbData;
            }
        }
        if (c.entries > 10000000)
            break;
    }
    c.end_error = GetLastError();
    return c;
}

static void test_walk(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    struct walk_count c = walk(heap, NULL);
    ok(c.end_error == ERROR_NO_MORE_ITEMS, "end of walk: error %lu", c.end_error);
    ok(c.first.wFlags == PROCESS_HEAP_REGION, "first entry is a region: %#x", c.first.wFlags);
    ok(c.first.lpData == heap, "first region is the heap: %p", c.first.lpData);
    ok(c.first.iRegionIndex == 0, "region index %u", c.first.iRegionIndex);
    ok(c.busy == 0, "fresh heap: %d busy entries", c.busy);
    ok(c.uncommitted >= 1, "an uncommitted range");
    if (c.first.wFlags == PROCESS_HEAP_REGION) {
        ok(c.first.Region.dwCommittedSize && c.first.Region.dwUnCommittedSize, "region sizes %#lx %#lx",
           c.first.Region.dwCommittedSize, c.first.Region.dwUnCommittedSize);
        ok((BYTE *)c.first.Region.lpFirstBlock > (BYTE *)c.first.lpData, "first block %p", c.first.Region.lpFirstBlock);
        ok((BYTE *)c.first.Region.lpLastBlock > (BYTE *)c.first.Region.lpFirstBlock, "last block %p",
           c.first.Region.lpLastBlock);
    }

    void *small = HeapAlloc(heap, 0, 123);
    c = walk(heap, small);
    ok(c.end_error == ERROR_NO_MORE_ITEMS, "end of walk: error %lu", c.end_error);
    ok(c.found == 1 && c.found_size == 123, "small block walked once: %d, %zu", c.found, c.found_size);

    SIZE_T large_size = 5 << 20;
    void *large = HeapAlloc(heap, 0, large_size);
    c = walk(heap, large);
    ok(c.end_error == ERROR_NO_MORE_ITEMS, "end of walk: error %lu", c.end_error);
    ok(c.found == 1 && c.found_size == large_size, "large block walked once: %d, %zu", c.found, c.found_size);

    /* a position that is no entry of the heap */
    int not_in_heap[4] = { 0 };
    PROCESS_HEAP_ENTRY e = { 0 };
    e.lpData = not_in_heap;
    e.wFlags = PROCESS_HEAP_ENTRY_BUSY;
    e.cbData = 4;
    SetLastError(0xdeadbeef);
    ok(!HeapWalk(heap, &e), "walk from a foreign lpData fails");
    ok(GetLastError() == ERROR_INVALID_PARAMETER, "error %lu", GetLastError());

    HeapFree(heap, 0, small);
    HeapFree(heap, 0, large);
    HeapDestroy(heap);

    /* the process heap: the walk ends, and shows a block of this program
     * (memshim's) and a block ntdll made in it directly (Wine's, under
     * memshim); moveable Global memory shows no MOVEABLE flag (Windows 10) */
    typedef void *(WINAPI * rtl_alloc_fn)(HANDLE, ULONG, SIZE_T);
    typedef BOOLEAN(WINAPI * rtl_free_fn)(HANDLE, ULONG, void *);
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    rtl_alloc_fn rtl_alloc = (rtl_alloc_fn)(void *)GetProcAddress(nt, "RtlAllocateHeap");
    rtl_free_fn rtl_free = (rtl_free_fn)(void *)GetProcAddress(nt, "RtlFreeHeap");
    void *mine = HeapAlloc(GetProcessHeap(), 0, 4567);
    void *nt_block = rtl_alloc(GetProcessHeap(), 0, 2345);
    HGLOBAL moveable = GlobalAlloc(GMEM_MOVEABLE | GMEM_DDESHARE, 100);
    ok(HeapLock(GetProcessHeap()), "HeapLock");
    c = walk(GetProcessHeap(), mine);
    struct walk_count c2 = walk(GetProcessHeap(), nt_block);
    PROCESS_HEAP_ENTRY e2 = { 0 };
    int flagged = 0;
    while (HeapWalk(GetProcessHeap(), &e2))
        flagged += (e2.wFlags & (PROCESS_HEAP_ENTRY_MOVEABLE | PROCESS_HEAP_ENTRY_DDESHARE)) != 0;
    ok(HeapUnlock(GetProcessHeap()), "HeapUnlock");
    ok(c.end_error == ERROR_NO_MORE_ITEMS, "process heap walk: error %lu", c.end_error);
    ok(c.found == 1 && c.found_size == 4567, "process heap block walked once: %d, %zu", c.found, c.found_size);
    ok(c2.found == 1 && c2.found_size == 2345, "ntdll's block in the process heap walked once: %d, %zu", c2.found,
       c2.found_size);
    ok(c.regions >= 1 && c.busy >= 3, "process heap: %d regions, %d busy", c.regions, c.busy);
    ok(!flagged, "%d entries flagged moveable or DDE-shared", flagged);
    GlobalFree(moveable);
    rtl_free(GetProcessHeap(), 0, nt_block);
    HeapFree(GetProcessHeap(), 0, mine);
}

struct waiter {
    HANDLE heap;
    HANDLE done;
};

static DWORD WINAPI waiting_thread(void *arg)
{
    struct waiter *w = arg;
    void *p = HeapAlloc(w->heap, 0, 48);
    HeapFree(w->heap, 0, p);
    SetEvent(w->done);
    return 0;
}

static void test_walk_locked(HANDLE heap, const char *what)
{
    struct waiter w = { heap, CreateEventW(NULL, FALSE, FALSE, NULL) };
    void *mine = HeapAlloc(heap, 0, 40);
    ok(HeapLock(heap), "%s: HeapLock", what);
    ok(HeapLock(heap), "%s: HeapLock again (recursive)", what);
    HANDLE t = CreateThread(NULL, 0, waiting_thread, &w, 0, NULL);
    ok(WaitForSingleObject(w.done, 100) == WAIT_TIMEOUT, "%s: the other thread waits", what);
    /* the holder keeps using the heap */
    void *more = HeapAlloc(heap, 0, 64);
    ok(more != NULL, "%s: HeapAlloc by the holder", what);
    struct walk_count c = walk(heap, more);
    ok(c.end_error == ERROR_NO_MORE_ITEMS, "%s: walk under HeapLock ends: %lu", what, c.end_error);
    ok(c.found == 1, "%s: the holder's new block is walked", what);
    ok(HeapFree(heap, 0, more), "%s: HeapFree by the holder", what);
    ok(HeapUnlock(heap), "%s: HeapUnlock", what);
    ok(WaitForSingleObject(w.done, 100) == WAIT_TIMEOUT, "%s: still held once", what);
    ok(HeapUnlock(heap), "%s: HeapUnlock", what);
    ok(WaitForSingleObject(w.done, 5000) == WAIT_OBJECT_0, "%s: the other thread allocated", what);
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    CloseHandle(w.done);
    HeapFree(heap, 0, mine);
}

static void test_compact_summary(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    void *blocks[16];
    for (int i = 0; i < 16; i++)
        blocks[i] = HeapAlloc(heap, 0, 1000);
    for (int i = 0; i < 16; i += 2)
        HeapFree(heap, 0, blocks[i]);
    SetLastError(0xdeadbeef);
    SIZE_T largest = HeapCompact(heap, 0);
    todo_wine ok(largest >= 1000, "HeapCompact: largest free %zu", largest);

    if (is_wine_builtin()) {
        /* Wine 8.0's kernel32 lacks HeapSummary: the call would abort. */
        skip("HeapSummary is not implemented by Wine 8.0");
        HeapDestroy(heap);
        return;
    }
    HEAP_SUMMARY s;
    memset(&s, 0, sizeof(s));
    s.cb = sizeof(s);
    BOOL ret = HeapSummary(heap, 0, &s);
    ok(ret, "HeapSummary: error %lu", GetLastError());
    if (ret) {
        ok(s.cbAllocated >= 8 * 1000, "allocated %zu", s.cbAllocated);
        ok(s.cbCommitted >= s.cbAllocated && s.cbReserved >= s.cbCommitted && s.cbMaxReserve >= s.cbReserved,
           "committed %zu reserved %zu max %zu", s.cbCommitted, s.cbReserved, s.cbMaxReserve);
    }
    s.cb = sizeof(s) - 1;
    SetLastError(0xdeadbeef);
    ok(!HeapSummary(heap, 0, &s), "HeapSummary with a wrong cb fails");
    ok(GetLastError() == ERROR_INVALID_PARAMETER, "error %lu", GetLastError());
    HeapDestroy(heap);

    /* The process heap: memshim's blocks and Wine's together. */
    void *p = HeapAlloc(GetProcessHeap(), 0, 100000);
    s.cb = sizeof(s);
    ok(HeapSummary(GetProcessHeap(), 0, &s), "HeapSummary of the process heap: error %lu", GetLastError());
    ok(s.cbAllocated >= 100000 && s.cbCommitted >= s.cbAllocated, "allocated %zu committed %zu", s.cbAllocated,
       s.cbCommitted);
    HeapFree(GetProcessHeap(), 0, p);

    /* A heap Wine made (ntdll's RtlCreateHeap): its figures too. */
    typedef HANDLE(WINAPI * rtl_create_fn)(ULONG, void *, SIZE_T, SIZE_T, void *, void *);
    typedef HANDLE(WINAPI * rtl_destroy_fn)(HANDLE);
    rtl_create_fn rtl_create = (rtl_create_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "RtlCreateHeap");
    rtl_destroy_fn rtl_destroy = (rtl_destroy_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "RtlDestroyHeap");
    HANDLE nt_heap = rtl_create(HEAP_GROWABLE, NULL, 0, 0, NULL, NULL);
    p = HeapAlloc(nt_heap, 0, 5000);
    s.cb = sizeof(s);
    ok(HeapSummary(nt_heap, 0, &s), "HeapSummary of an ntdll heap: error %lu", GetLastError());
    ok(s.cbAllocated >= 5000 && s.cbCommitted >= s.cbAllocated, "allocated %zu committed %zu", s.cbAllocated,
       s.cbCommitted);
    HeapFree(nt_heap, 0, p);
    rtl_destroy(nt_heap);
}

static void test_information(void)
{
    HANDLE heap = HeapCreate(0, 0, 0);
    ULONG info = 0xdeadbeef;
    SIZE_T size = 0;
    SetLastError(0xdeadbeef);
    ok(!HeapQueryInformation(heap, HeapCompatibilityInformation, NULL, 0, &size), "no buffer");
    ok(GetLastError() == ERROR_INSUFFICIENT_BUFFER, "error %lu", GetLastError());
    ok(size == sizeof(ULONG), "needed %zu", size);
    ok(HeapQueryInformation(heap, HeapCompatibilityInformation, &info, sizeof(info) + 1, NULL), "query");
    ok(info == 0, "a fresh heap: %lu", info);
    info = 2;
    ok(HeapSetInformation(heap, HeapCompatibilityInformation, &info, sizeof(info)), "set LFH");
    info = 0xdeadbeef;
    HeapQueryInformation(heap, HeapCompatibilityInformation, &info, sizeof(info), &size);
    todo_wine ok(info == 2, "LFH on: %lu", info);
    info = 0;
    SetLastError(0xdeadbeef);
    todo_wine ok(!HeapSetInformation(heap, HeapCompatibilityInformation, &info, sizeof(info)), "LFH cannot be undone");
    todo_wine ok(GetLastError() == ERROR_GEN_FAILURE, "error %lu", GetLastError());
    ULONG buffer[4] = { 0 };
    SetLastError(0xdeadbeef);
    ok(!HeapQueryInformation(heap, (HEAP_INFORMATION_CLASS)99, buffer, sizeof(buffer), &size), "unknown class");
    ok(GetLastError() == ERROR_INVALID_PARAMETER, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(!HeapSetInformation(heap, (HEAP_INFORMATION_CLASS)99, buffer, sizeof(buffer)), "unknown class");
    todo_wine ok(GetLastError() == ERROR_INVALID_PARAMETER, "error %lu", GetLastError());
    HeapDestroy(heap);

    /* Windows reads the heap's header: no heap at NULL (Wine's newer
     * tests pin ERROR_NOACCESS; Wine 8.0 answers 0 for any handle). */
    info = 0xdeadbeef;
    SetLastError(0xdeadbeef);
    todo_wine ok(!HeapQueryInformation(NULL, HeapCompatibilityInformation, &info, sizeof(info), &size) &&
                 GetLastError() == ERROR_NOACCESS, "query heap NULL: error %lu", GetLastError());

    info = 0xdeadbeef;
    ok(HeapQueryInformation(GetProcessHeap(), HeapCompatibilityInformation, &info, sizeof(info), NULL),
       "query the process heap");
    todo_wine ok(info == 2, "the process heap uses the LFH: %lu", info);

    MY_HEAP_OPTIMIZE_RESOURCES_INFORMATION opt = { 1, 0 };
    ok(HeapSetInformation(NULL, MY_HeapOptimizeResources, &opt, sizeof(opt)), "HeapOptimizeResources: %lu",
                 GetLastError());
    ok(HeapValidate(GetProcessHeap(), 0, NULL), "process heap valid");
}

/* The working set, as the process's own counters give it (0: unknown). */
static SIZE_T working_set(void)
{
    PROCESS_MEMORY_COUNTERS c;
    memset(&c, 0, sizeof(c));
    c.cb = sizeof(c);
    return K32GetProcessMemoryInfo(GetCurrentProcess(), &c, sizeof(c)) ? c.WorkingSetSize : 0;
}

/* HeapOptimizeResources gives freed memory back: after ~20 MiB of blocks
 * of many sizes on the process heap are freed, the working set returns to
 * about where it was (Windows: "decommitted if possible"; Wine's heap
 * gives large free ranges back on HeapFree already). memshim kept a span
 * per size class, its emptied segments and the kept pages of released
 * ones until 2026-12-07: 14 MiB of the 20 stayed. */
/* A batch of 10,000 blocks of 8 B..4 KiB on a heap, each touched at both
 * ends; returns how many were made. */
static int make_batch(HANDLE heap, char **blocks, int count)
{
    int made = 0;
    for (int i = 0; i < count; i++) {
        SIZE_T size = 8 + (i * 2654435761u) % 4089;
        blocks[i] = HeapAlloc(heap, 0, size);
        if (!blocks[i])
            break;
        blocks[i][0] = blocks[i][size - 1] = 1;
        made++;
    }
    ok(made == count, "made %d blocks: error %lu", made, GetLastError());
    return made;
}

static void free_batch(HANDLE heap, char **blocks, int made)
{
    for (int i = 0; i < made; i++)
        HeapFree(heap, 0, blocks[i]);
}

static void allocates_again(HANDLE heap)
{
    ok(HeapValidate(heap, 0, NULL), "heap valid");
    char *again = HeapAlloc(heap, 0, 3000);
    ok(again != NULL, "allocates again: error %lu", GetLastError());
    if (again) {
        memset(again, 0x5a, 3000);
        ok(HeapFree(heap, 0, again), "HeapFree: error %lu", GetLastError());
    }
}

static void test_optimize_gives_back(void)
{
    static char *blocks[10000];
    SIZE_T before = working_set(), peak, after;
    MY_HEAP_OPTIMIZE_RESOURCES_INFORMATION opt = { 1, 0 };
    int made = make_batch(GetProcessHeap(), blocks, 10000);
    peak = working_set();
    if (!before || peak < before + (16 << 20)) {
        skip("the working set moved from %zu to %zu KiB only", before >> 10, peak >> 10);
        free_batch(GetProcessHeap(), blocks, made);
        return;
    }
    free_batch(GetProcessHeap(), blocks, made);
    ok(HeapSetInformation(NULL, MY_HeapOptimizeResources, &opt, sizeof(opt)), "HeapOptimizeResources: %lu",
       GetLastError());
    after = working_set();
    trace("working set %zu KiB, %zu with the blocks, %zu after freeing them and HeapOptimizeResources",
          before >> 10, peak >> 10, after >> 10);
    ok(after < before + (peak - before) / 8, "the freed memory went back: %zu KiB of %zu stayed",
       (after > before ? after - before : 0) >> 10, (peak - before) >> 10);
    allocates_again(GetProcessHeap());
}

/* Without HeapOptimizeResources: a program that frees a batch and then
 * makes no heap call sees the memory go back within a few seconds (Wine's
 * heap gives it back at HeapFree; memshim's keeps it for reuse until the
 * heap has been quiet for ~100 ms, then its purge thread gives it back),
 * on the process heap and on a private heap alike. */
static void test_quiet_heap_gives_back(HANDLE heap, const char *which)
{
    static char *blocks[10000];
    SIZE_T before = working_set(), peak, after = 0;
    int made = make_batch(heap, blocks, 10000);
    peak = working_set();
    if (!before || peak < before + (16 << 20)) {
        skip("%s: the working set moved from %zu to %zu KiB only", which, before >> 10, peak >> 10);
        free_batch(heap, blocks, made);
        return;
    }
    free_batch(heap, blocks, made);
    DWORD start = GetTickCount(), waited = 0;
    while ((after = working_set()) >= before + (peak - before) / 8 && (waited = GetTickCount() - start) < 5000)
        Sleep(20);
    trace("%s: working set %zu KiB, %zu with the blocks, %zu after freeing them and %lu ms without heap calls",
          which, before >> 10, peak >> 10, after >> 10, waited);
    ok(after < before + (peak - before) / 8, "%s: the freed memory went back: %zu KiB of %zu stayed after %lu ms",
       which, (after > before ? after - before : 0) >> 10, (peak - before) >> 10, waited);
    allocates_again(heap);
}

static int exception_count;

static LONG CALLBACK no_memory_handler(EXCEPTION_POINTERS *ep)
{
    if (ep->ExceptionRecord->ExceptionCode != (DWORD)STATUS_NO_MEMORY)
        return EXCEPTION_CONTINUE_SEARCH;
    exception_count++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void test_generate_exceptions(void)
{
    void *handler = AddVectoredExceptionHandler(1, no_memory_handler);
    HANDLE heap = HeapCreate(HEAP_GENERATE_EXCEPTIONS, 0, 0x100000);
    exception_count = 0;
    void *p = HeapAlloc(heap, 0, 0x200000);
    ok(!p, "allocation beyond a fixed heap's maximum fails");
    todo_wine ok(exception_count == 1, "HEAP_GENERATE_EXCEPTIONS from HeapCreate: %d exceptions", exception_count);
    exception_count = 0;
    p = HeapAlloc(heap, 0, 100);
    ok(p != NULL && exception_count == 0, "a successful allocation raises nothing");
    void *q = HeapReAlloc(heap, 0, p, 0x200000);
    todo_wine ok(!q && exception_count == 1, "HeapReAlloc too: %d", exception_count);
    HeapDestroy(heap);

    heap = HeapCreate(0, 0, 0x100000);
    exception_count = 0;
    p = HeapAlloc(heap, 0, 0x200000);
    ok(!p && exception_count == 0, "no exception without the flag");
    if (is_wine_builtin()) {
        /* Wine 8.0 hangs when the handler continues after its exception. */
        skip("HEAP_GENERATE_EXCEPTIONS on the call: Wine 8.0 hangs");
    } else {
        p = HeapAlloc(heap, HEAP_GENERATE_EXCEPTIONS, 0x200000);
        ok(!p && exception_count == 1, "the flag on the call: %d", exception_count);
    }
    HeapDestroy(heap);
    RemoveVectoredExceptionHandler(handler);
}

/* Runs in a child: frees a block twice; the exit code says what happened.
 * rtl: the block is from a heap ntdll made (Wine's, under memshim). */
static int child_double_free(int terminate, int rtl)
{
    if (terminate)
        HeapSetInformation(NULL, HeapEnableTerminationOnCorruption, NULL, 0);
    typedef HANDLE(WINAPI * rtl_create_fn)(ULONG, void *, SIZE_T, SIZE_T, void *, void *);
    rtl_create_fn rtl_create = (rtl_create_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "RtlCreateHeap");
    HANDLE heap = rtl ? rtl_create(HEAP_GROWABLE, NULL, 0, 0, NULL, NULL) : HeapCreate(0, 0, 0);
    void *p = HeapAlloc(heap, 0, 64);
    HeapFree(heap, 0, p);
    SetLastError(0xdeadbeef);
    BOOL ret = HeapFree(heap, 0, p);
    DWORD err = GetLastError();
    if (ret)
        return 2;                       /* the double free "succeeded" */
    return err == ERROR_INVALID_PARAMETER ? 0 : 3;
}

static DWORD run_child(const char *arg)
{
    char cmd[MAX_PATH + 64];
    snprintf(cmd, sizeof(cmd), "\"%s\" %s", program, arg);
    STARTUPINFOA si;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return 0xdeadbeef;
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 0xdeadbeef;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return code;
}

static void test_corruption(void)
{
    DWORD code = run_child("double-free");
    ok(code == 0, "double free: FALSE with ERROR_INVALID_PARAMETER (child exit %#lx)", code);
    code = run_child("double-free-terminate");
    todo_wine ok(code == (DWORD)STATUS_HEAP_CORRUPTION, "terminate on corruption: child exit %#lx", code);
    code = run_child("double-free-terminate-rtl");
    todo_wine ok(code == (DWORD)STATUS_HEAP_CORRUPTION, "terminate on corruption, ntdll's heap: child exit %#lx", code);
}

/* Bad buffers given to HeapQueryInformation and HeapSetInformation: memshim
 * answers ERROR_NOACCESS where Windows' user-mode code (and Wine 8.0)
 * would fault; checked on memshim only. */
static void test_info_bad_buffers(void)
{
    if (!memshim_only("a bad buffer faults in Windows' and Wine's heap calls"))
        return;
    HANDLE h = HeapCreate(0, 0, 0);
    ok(h != NULL, "HeapCreate: error %lu", GetLastError());
    if (!h) return;
    ULONG value = 0;
    SIZE_T needed = 0;
    SetLastError(0xdeadbeef);
    ok(!HeapQueryInformation(h, HeapCompatibilityInformation, (void *)0x1000, sizeof(value), &needed) &&
       GetLastError() == ERROR_NOACCESS, "query into 0x1000: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!HeapQueryInformation(h, HeapCompatibilityInformation, NULL, sizeof(value), &needed) &&
       GetLastError() == ERROR_NOACCESS, "query into NULL, size 4: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!HeapQueryInformation(h, HeapCompatibilityInformation, &value, sizeof(value), (SIZE_T *)0x1000) &&
       GetLastError() == ERROR_NOACCESS, "length at 0x1000: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!HeapSetInformation(h, HeapCompatibilityInformation, (void *)0x1000, sizeof(value)) &&
       GetLastError() == ERROR_NOACCESS, "set from 0x1000: error %lu", GetLastError());
    ok(HeapQueryInformation(h, HeapCompatibilityInformation, &value, sizeof(value), &needed) && value == 0 &&
       needed == sizeof(value), "after the refusals (a fresh heap, LFH off): %lu (%zu bytes)", value, needed);
    /* A pointer no heap owns, given to a private heap: refused, the heap intact. */
    char *gone = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    VirtualFree(gone, 0, MEM_RELEASE);
    void *const bad[] = { (void *)0x1000, gone + 64, &value };
    for (size_t i = 0; i < ARRAYSIZE(bad); i++)
    {
        SetLastError(0xdeadbeef);
        ok(!HeapFree(h, 0, bad[i]) && GetLastError() == ERROR_INVALID_PARAMETER, "HeapFree(%p): error %lu", bad[i],
           GetLastError());
        SetLastError(0xdeadbeef);
        ok(HeapSize(h, 0, bad[i]) == (SIZE_T)-1 && GetLastError() == ERROR_INVALID_PARAMETER,
           "HeapSize(%p): error %lu", bad[i], GetLastError());
        SetLastError(0xdeadbeef);
        ok(!HeapReAlloc(h, 0, bad[i], 10) && GetLastError() == ERROR_INVALID_PARAMETER, "HeapReAlloc(%p): error %lu",
           bad[i], GetLastError());
    }
    ok(HeapValidate(h, 0, NULL), "heap valid after the refusals");
    /* Output structures that cannot be written: HeapWalk, HeapSummary and
     * GetProcessHeaps fail with ERROR_NOACCESS, for a private heap and the
     * process heap (whose walk ends in Wine's part). */
    char *ro = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    ok(ro && VirtualProtect(ro, 4096, PAGE_READONLY, &old), "read-only page: error %lu", GetLastError());
    const HANDLE heaps[] = { h, GetProcessHeap() };
    for (size_t i = 0; ro && i < ARRAYSIZE(heaps); i++)
    {
        SetLastError(0xdeadbeef);
        ok(!HeapWalk(heaps[i], (PROCESS_HEAP_ENTRY *)ro) && GetLastError() == ERROR_NOACCESS,
           "HeapWalk into read-only memory: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        ok(!HeapWalk(heaps[i], (PROCESS_HEAP_ENTRY *)0x1000) && GetLastError() == ERROR_NOACCESS,
           "HeapWalk into 0x1000: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        ok(!HeapSummary(heaps[i], 0, (HEAP_SUMMARY *)ro) && GetLastError() == ERROR_NOACCESS,
           "HeapSummary into read-only memory: error %lu", GetLastError());
    }
    SetLastError(0xdeadbeef);
    ok(ro && GetProcessHeaps(64, (HANDLE *)ro) == 0 && GetLastError() == ERROR_NOACCESS,
       "GetProcessHeaps into read-only memory: error %lu", GetLastError());
    PROCESS_HEAP_ENTRY entry = { 0 };
    ok(HeapWalk(h, &entry), "a walk into a good entry after the refusals: error %lu", GetLastError());
    if (ro) VirtualFree(ro, 0, MEM_RELEASE);
    ok(HeapDestroy(h), "HeapDestroy: error %lu", GetLastError());
}

int main(int argc, char **argv)
{
    program = argv[0];
    if (argc > 1 && !strcmp(argv[1], "double-free"))
        return child_double_free(0, 0);
    if (argc > 1 && !strcmp(argv[1], "double-free-terminate"))
        return child_double_free(1, 0);
    if (argc > 1 && !strcmp(argv[1], "double-free-terminate-rtl"))
        return child_double_free(1, 1);
    harness_init();
    test_info_bad_buffers();
    test_walk();
    HANDLE heap = HeapCreate(0, 0, 0);
    test_walk_locked(heap, "private heap");
    HeapDestroy(heap);
    test_walk_locked(GetProcessHeap(), "process heap");
    test_compact_summary();
    test_information();
    test_optimize_gives_back();
    test_quiet_heap_gives_back(GetProcessHeap(), "process heap");
    HANDLE private_heap = HeapCreate(0, 0, 0);
    ok(private_heap != NULL, "HeapCreate: error %lu", GetLastError());
    if (private_heap) {
        test_quiet_heap_gives_back(private_heap, "private heap");
        ok(HeapDestroy(private_heap), "HeapDestroy: error %lu", GetLastError());
    }
    test_generate_exceptions();
    test_corruption();
    return harness_done();
}
