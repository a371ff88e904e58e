/*
 * Conformance: the host mapping budget (issue 5). Linux allows a process
 * vm.max_map_count mappings (65530 by default); a page whose protection
 * differs from its neighbours' is a mapping of its own. This program
 * reserves and commits 100,000 pages, gives them alternating protections
 * (PAGE_READWRITE / PAGE_READONLY) page by page, and counts the process's
 * mappings (lines of /proc/<unix pid>/maps) before and after.
 *
 * Windows has no such limit: every VirtualProtect succeeds there. Under
 * Wine the limit is the host's, so what is checked depends on who answers:
 *  - memshim (strict): it keeps a safety margin below the limit for Wine
 *    itself (thread stacks, DLL loads): a change that would go past it fails
 *    with ERROR_NOT_ENOUGH_MEMORY, the page keeps its protection (VirtualQuery
 *    and the host agree), and the process keeps working (heap, threads,
 *    VirtualAlloc, a clean exit);
 *  - Wine's builtin (Wine 8.0): it goes up to the limit itself; there
 *    mprotect's ENOMEM becomes ERROR_ACCESS_DENIED with the page unchanged
 *    (checked), but the process may die next (a thread that exits needs a
 *    mapping for libgcc_s), so on builtin the program goes to the limit
 *    only with --everywhere (see README: it died in 2 of 3 runs); by
 *    default builtin alternates as many pages as fit well below the limit
 *    and every change must succeed (a CI run died at the limit once, with
 *    no check failed before).
 * Why ERROR_NOT_ENOUGH_MEMORY: Windows reports kernel resources it cannot
 * get for a memory operation as STATUS_NO_MEMORY / ERROR_NOT_ENOUGH_MEMORY;
 * ERROR_COMMITMENT_LIMIT means the commit charge, which is not what runs
 * out here, and the same refusal reaches ntdll callers as STATUS_NO_MEMORY.
 *
 * Reading the maps: Wine opens files in the wineserver, so Z:\proc\self\maps
 * is the wineserver's; the program asks Linux for its own pid (a raw getpid
 * system call, which Wine leaves to the kernel) and opens
 * Z:\proc\<pid>\maps.
 */
#include "harness.h"

#define NPAGES 100000
#define MiB (1024ull * 1024)
/* memshim keeps this many mappings free for Wine (src/vm/vm_maps.c). */
#define MEMSHIM_MARGIN 1000

static long unix_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
    return ret;
}

/* Lines of a /proc file, or -1. */
static long count_lines(const char *path)
{
    static char buf[65536];
    HANDLE file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    DWORD got;
    long lines = 0;
    if (file == INVALID_HANDLE_VALUE)
        return -1;
    while (ReadFile(file, buf, sizeof(buf), &got, NULL) && got)
        for (DWORD i = 0; i < got; i++)
            lines += buf[i] == '\n';
    CloseHandle(file);
    return lines;
}

static long read_number(const char *path)
{
    char buf[64];
    DWORD got = 0;
    HANDLE file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return -1;
    ReadFile(file, buf, sizeof(buf) - 1, &got, NULL);
    CloseHandle(file);
    buf[got] = 0;
    return got ? atol(buf) : -1;
}

static char maps_path[64];

static long count_maps(void)
{
    return count_lines(maps_path);
}

static DWORD WINAPI thread_proc(void *arg)
{
    volatile char buf[16384];
    buf[0] = 1;
    buf[sizeof(buf) - 1] = 2;
    *(LONG *)arg = buf[0] + buf[sizeof(buf) - 1];
    return 7;
}

/* After the budget ran out: the process must still work. */
static void test_still_working(void)
{
    LONG result = 0;
    DWORD code = 0;
    HANDLE thread;
    char *block, *region;

    block = HeapAlloc(GetProcessHeap(), 0, 3 * MiB);
    ok(block != NULL, "HeapAlloc of 3 MiB after the budget ran out: error %lu", GetLastError());
    if (block)
    {
        memset(block, 0x5a, 3 * MiB);
        ok(HeapFree(GetProcessHeap(), 0, block), "HeapFree: error %lu", GetLastError());
    }
    region = VirtualAlloc(NULL, 65536, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(region != NULL, "VirtualAlloc of 64 KiB after the budget ran out: error %lu", GetLastError());
    if (region)
    {
        region[100] = 1;
        ok(VirtualFree(region, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());
    }
    thread = CreateThread(NULL, 0, thread_proc, &result, 0, NULL);
    ok(thread != NULL, "CreateThread after the budget ran out: error %lu", GetLastError());
    if (thread)
    {
        ok(WaitForSingleObject(thread, 10000) == WAIT_OBJECT_0, "thread finished");
        ok(GetExitCodeThread(thread, &code) && code == 7, "thread exit code %lu", code);
        ok(result == 3, "thread ran: %ld", result);
        CloseHandle(thread);
    }
}

static void test_budget(int everywhere)
{
    MEMORYSTATUSEX ms;
    long limit, before, after, freed, server;
    char *base;
    DWORD old, first_error = 0;
    long failures = 0, first_failed = -1, last_done = -1, pages = NPAGES;
    MEMORY_BASIC_INFORMATION mbi;

    memset(&ms, 0, sizeof(ms));
    ms.dwLength = sizeof(ms);
    snprintf(maps_path, sizeof(maps_path), "Z:\\proc\\%ld\\maps", unix_getpid());
    limit = read_number("Z:\\proc\\sys\\vm\\max_map_count");
    before = count_maps();
    server = count_lines("Z:\\proc\\self\\maps");
    trace("vm.max_map_count %ld; %s: %ld lines (Z:\\proc\\self\\maps: %ld lines, the wineserver's)", limit,
          maps_path, before, server);
    if (!ok(limit > 0 && before > 0, "read the mapping limit (%ld) and %s (%ld lines)", limit, maps_path, before))
        return;

    ok(GlobalMemoryStatusEx(&ms), "GlobalMemoryStatusEx: error %lu", GetLastError());
    if (ms.ullAvailPageFile < (unsigned long long)NPAGES * PAGE + 256 * MiB)
    {
        skip("commit left %llu MiB: too little for %u MiB", ms.ullAvailPageFile / MiB, NPAGES * PAGE / (unsigned)MiB);
        return;
    }

    base = VirtualAlloc(NULL, (SIZE_T)NPAGES * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!ok(base != NULL, "VirtualAlloc of %u pages: error %lu", NPAGES, GetLastError()))
        return;
    before = count_maps();
    if (!is_memshim() && !everywhere && before + pages > limit - 2 * MEMSHIM_MARGIN)
        pages = (limit - 2 * MEMSHIM_MARGIN - before) & ~1L;

    for (long i = 0; i < pages; i++)
    {
        DWORD prot = (i & 1) ? PAGE_READONLY : PAGE_READWRITE;
        SetLastError(0xdeadbeef);
        if (VirtualProtect(base + (SIZE_T)i * PAGE, PAGE, prot, &old))
        {
            if (i & 1)
                last_done = i;
            continue;
        }
        if (!failures++)
        {
            first_failed = i;
            first_error = GetLastError();
        }
    }
    after = count_maps();
    trace("%s: %ld mappings before, %ld after alternating %ld pages; %ld VirtualProtect calls failed "
          "(first at page %ld, error %lu)", harness_kernel32_name(), before, after, pages, failures, first_failed,
          first_error);
    if (pages < NPAGES)
        ok(failures == 0 && after >= before + pages - 32, "%ld pages below the limit: %ld changes failed, %ld mappings",
           pages, failures, after);

    if (is_memshim())
    {
        /* Alternating N pages needs N mappings; memshim gives out at most
         * the limit less its margin. */
        long needed = before + NPAGES;
        long allowed = needed < limit - MEMSHIM_MARGIN ? needed : limit - MEMSHIM_MARGIN;
        ok(after <= allowed + 32, "memshim used %ld mappings, at most %ld expected (limit %ld)", after, allowed, limit);
        if (needed < limit - MEMSHIM_MARGIN)
            ok(failures == 0, "all changes fit: %ld failed", failures);
        else
        {
            ok(failures > 0, "changes beyond the budget are refused (%ld refused)", failures);
            ok(first_error == ERROR_NOT_ENOUGH_MEMORY, "error %lu, expected ERROR_NOT_ENOUGH_MEMORY", first_error);
            ok(after >= allowed - 32, "the budget is used up to the margin: %ld mappings", after);
        }
    }
    if (first_failed >= 0)
    {
        /* A refused change changes nothing, and the map says so. */
        char *page = base + (SIZE_T)first_failed * PAGE;
        ok(VirtualQuery(page, &mbi, sizeof(mbi)) == sizeof(mbi), "VirtualQuery: error %lu", GetLastError());
        ok(mbi.Protect == PAGE_READWRITE, "a refused page keeps its protection: %#lx", mbi.Protect);
        ok(!probe_write(page, 1), "and the host agrees: it is writable");
    }
    if (last_done >= 0)
    {
        char *page = base + (SIZE_T)last_done * PAGE;
        ok(VirtualQuery(page, &mbi, sizeof(mbi)) == sizeof(mbi), "VirtualQuery: error %lu", GetLastError());
        ok(mbi.Protect == PAGE_READONLY, "page %ld reads as PAGE_READONLY: %#lx", last_done, mbi.Protect);
        ok(mbi.RegionSize == PAGE, "its region is one page: %#zx", (size_t)mbi.RegionSize);
        ok(probe_write(page, 1), "page %ld is really read-only", last_done);
    }
    if (is_memshim() || everywhere)
        test_still_working();

    ok(VirtualFree(base, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());
    freed = count_maps();
    trace("%s: %ld mappings after the release", harness_kernel32_name(), freed);
    ok(freed <= before + 16, "releasing gives the mappings back: %ld (before %ld)", freed, before);
    test_still_working();
}

/* --everywhere: also check that the process still works at the limit on
 * Wine's builtin (which may die there: see README). */
int main(int argc, char **argv)
{
    harness_init();
    if (!is_wine())
        skip("the host mapping limit is a Linux matter");
    else
        test_budget(argc > 1 && !strcmp(argv[1], "--everywhere"));
    return harness_done();
}
