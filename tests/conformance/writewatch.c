/*
 * Conformance: GetWriteWatch and ResetWriteWatch. Exact per page: writes by
 * the program and by the system on its behalf (ReadFile into the buffer)
 * are reported, in address order; WRITE_WATCH_FLAG_RESET and
 * ResetWriteWatch forget them; a write outlives the decommit of its page
 * until a reset (Wine's tests, run on Windows, find a written page still
 * reported after the region is decommitted); a buffer too small gets the
 * first pages; memory without MEM_WRITE_WATCH
 * is refused.
 */
#include "harness.h"

#define NPAGES 16

static char *region;

static ULONG_PTR written(DWORD flags, void **pages, ULONG_PTR max)
{
    ULONG_PTR count = max;
    ULONG gran = 0;
    UINT ret = GetWriteWatch(flags, region, NPAGES * PAGE, pages, &count, &gran);
    ok(ret == 0, "GetWriteWatch: ret %u, error %lu", ret, GetLastError());
    ok(gran == PAGE, "granularity %lu", gran);
    return ret == 0 ? count : 0;
}

static void test_write_watch(void)
{
    void *pages[NPAGES];
    ULONG_PTR n;
    char path[MAX_PATH], dir[MAX_PATH];
    HANDLE file;
    DWORD done;

    region = VirtualAlloc(NULL, NPAGES * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    ok(region != NULL, "VirtualAlloc(MEM_WRITE_WATCH): error %lu", GetLastError());
    if (!region) return;

    n = written(0, pages, NPAGES);
    ok(n == 0, "fresh region: %lu written pages", (unsigned long)n);
    region[1 * PAGE] = 1;
    region[5 * PAGE + 100] = 1;
    region[5 * PAGE + 200] = 2;
    n = written(0, pages, NPAGES);
    ok(n == 2 && pages[0] == region + PAGE && pages[1] == region + 5 * PAGE,
       "two pages written: %lu (%p %p)", (unsigned long)n, n > 0 ? pages[0] : NULL, n > 1 ? pages[1] : NULL);
    /* Reading does not count. */
    ok(region[9 * PAGE] == 0, "read");
    n = written(0, pages, NPAGES);
    ok(n == 2, "a read is no write: %lu", (unsigned long)n);

    /* A write by the system on the program's behalf counts too. */
    GetTempPathA(sizeof dir, dir);
    GetTempFileNameA(dir, "mww", 0, path);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
    ok(file != INVALID_HANDLE_VALUE, "temp file: error %lu", GetLastError());
    ok(WriteFile(file, "data", 4, &done, NULL) && done == 4, "WriteFile");
    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    ok(ReadFile(file, region + 9 * PAGE, 4, &done, NULL) && done == 4, "ReadFile into the region: error %lu",
       GetLastError());
    CloseHandle(file);
    n = written(0, pages, NPAGES);
    ok(n == 3 && pages[2] == region + 9 * PAGE, "ReadFile's page reported: %lu", (unsigned long)n);

    /* A buffer too small gets the first pages; with the reset flag only
     * those are forgotten. */
    n = written(WRITE_WATCH_FLAG_RESET, pages, 1);
    ok(n == 1 && pages[0] == region + PAGE, "one slot: %lu %p", (unsigned long)n, pages[0]);
    n = written(0, pages, NPAGES);
    ok(n == 2 && pages[0] == region + 5 * PAGE, "the rest still written: %lu", (unsigned long)n);
    n = written(WRITE_WATCH_FLAG_RESET, pages, NPAGES);
    ok(n == 2, "reset read: %lu", (unsigned long)n);
    n = written(0, pages, NPAGES);
    ok(n == 0, "after WRITE_WATCH_FLAG_RESET: %lu", (unsigned long)n);

    region[3 * PAGE] = 1;
    ok(ResetWriteWatch(region, NPAGES * PAGE) == 0, "ResetWriteWatch: error %lu", GetLastError());
    n = written(0, pages, NPAGES);
    ok(n == 0, "after ResetWriteWatch: %lu", (unsigned long)n);

    /* A range inside the region only reports its own pages. */
    region[2 * PAGE] = region[12 * PAGE] = 1;
    {
        ULONG_PTR count = NPAGES;
        ULONG gran;
        ok(GetWriteWatch(0, region + 8 * PAGE, 8 * PAGE, pages, &count, &gran) == 0 && count == 1 &&
           pages[0] == region + 12 * PAGE, "sub-range: %lu", (unsigned long)count);
    }
    ResetWriteWatch(region, NPAGES * PAGE);

    /* Decommitted and committed again: still written until a reset, and
     * tracked afresh after it. */
    region[7 * PAGE] = 1;
    ok(VirtualFree(region + 7 * PAGE, PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    n = written(0, pages, NPAGES);
    ok(n == 1 && pages[0] == region + 7 * PAGE, "a decommitted page keeps its write: %lu", (unsigned long)n);
    ok(VirtualAlloc(region + 7 * PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) == region + 7 * PAGE, "recommit");
    n = written(WRITE_WATCH_FLAG_RESET, pages, NPAGES);
    ok(n == 1 && pages[0] == region + 7 * PAGE, "and after the recommit: %lu", (unsigned long)n);
    n = written(0, pages, NPAGES);
    ok(n == 0, "reset: %lu", (unsigned long)n);
    region[7 * PAGE] = 2;
    n = written(0, pages, NPAGES);
    ok(n == 1 && pages[0] == region + 7 * PAGE, "and tracked again: %lu", (unsigned long)n);

    /* Memory without MEM_WRITE_WATCH is refused. */
    {
        char *plain = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        ULONG_PTR count = NPAGES;
        ULONG gran;
        SetLastError(0xdeadbeef);
        ok(GetWriteWatch(0, plain, PAGE, pages, &count, &gran) != 0, "GetWriteWatch of plain memory fails");
        ok(GetLastError() == ERROR_INVALID_PARAMETER, "plain memory: error %lu", GetLastError());
        VirtualFree(plain, 0, MEM_RELEASE);
    }
    ok(VirtualFree(region, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

/* Bad arguments, in Windows' order (as Wine's conformance tests pin it
 * on Windows): the count is read first, a zero count or unknown flags are
 * refused, and the granularity and the array must be writable. */
static void test_bad_write_watch_args(void)
{
    void *pages[NPAGES];
    ULONG_PTR count;
    ULONG gran;
    UINT ret;
    char *w = VirtualAlloc(NULL, NPAGES * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    ok(w != NULL, "VirtualAlloc(MEM_WRITE_WATCH): error %lu", GetLastError());
    if (!w) return;
    w[0] = 1;
    static const struct { int count_null, gran_null, pages_null; ULONG_PTR count; DWORD flags, error; } cases[] = {
        { 1, 0, 0, 0, 0, ERROR_NOACCESS },
        { 0, 1, 0, NPAGES, 0, ERROR_NOACCESS },
        { 0, 0, 1, NPAGES, 0, ERROR_NOACCESS },
        { 0, 0, 1, 0, 0, ERROR_INVALID_PARAMETER },
        { 0, 0, 0, 0, 0, ERROR_INVALID_PARAMETER },
        { 0, 0, 0, NPAGES, 0xdeadbeef, ERROR_INVALID_PARAMETER },
    };
    for (size_t i = 0; i < ARRAYSIZE(cases); i++)
    {
        count = cases[i].count;
        SetLastError(0xdeadbeef);
        ret = GetWriteWatch(cases[i].flags, w, NPAGES * PAGE, cases[i].pages_null ? NULL : pages,
                            cases[i].count_null ? NULL : &count, cases[i].gran_null ? NULL : &gran);
        ok(ret == ~0u && GetLastError() == cases[i].error, "case %zu: ret %u error %lu, expected %lu", i, ret,
           GetLastError(), cases[i].error);
    }
    SetLastError(0xdeadbeef);
    count = NPAGES;
    ret = GetWriteWatch(0, w, NPAGES * PAGE, pages, (ULONG_PTR *)0x1000, &gran);
    ok(ret == ~0u && GetLastError() == ERROR_NOACCESS, "count at 0x1000: error %lu", GetLastError());
    ret = GetWriteWatch(0, w, NPAGES * PAGE, (void **)0x1000, &count, &gran);
    ok(ret == ~0u && GetLastError() == ERROR_NOACCESS, "array at 0x1000: error %lu", GetLastError());
    count = NPAGES;
    ok(GetWriteWatch(0, w, NPAGES * PAGE, pages, &count, &gran) == 0 && count == 1 && pages[0] == w &&
       gran == PAGE, "after the refusals: %lu pages (%p), granularity %lu", (unsigned long)count, pages[0], gran);
    VirtualFree(w, 0, MEM_RELEASE);
}

int main(void)
{
    harness_init();
    test_write_watch();
    test_bad_write_watch_args();
    return harness_done();
}
