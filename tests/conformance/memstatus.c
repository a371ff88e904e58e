/*
 * Conformance: GlobalMemoryStatusEx / GlobalMemoryStatus, GetSystemInfo /
 * GetNativeSystemInfo, GetLargePageMinimum on 64-bit Windows.
 */
#include "harness.h"

#define MiB (1024ull * 1024)

static int get_status(MEMORYSTATUSEX *ms)
{
    memset(ms, 0, sizeof(*ms));
    ms->dwLength = sizeof(*ms);
    return GlobalMemoryStatusEx(ms);
}

static void test_length(void)
{
    MEMORYSTATUSEX ms;
    BOOL ret;
    DWORD lens[] = { 0, sizeof(ms) - 1, sizeof(ms) + 1, sizeof(MEMORYSTATUS) };
    for (size_t i = 0; i < ARRAYSIZE(lens); i++)
    {
        memset(&ms, 0xcc, sizeof(ms));
        ms.dwLength = lens[i];
        SetLastError(0xdeadbeef);
        ret = GlobalMemoryStatusEx(&ms);
        ok(!ret, "GlobalMemoryStatusEx with dwLength %lu fails", lens[i]);
        ok(GetLastError() == ERROR_INVALID_PARAMETER, "dwLength %lu: error %lu, expected 87", lens[i], GetLastError());
    }
}

static void test_figures(void)
{
    MEMORYSTATUSEX ms;
    MEMORYSTATUS old;
    unsigned long long used;
    unsigned load;

    ok(get_status(&ms), "GlobalMemoryStatusEx: error %lu", GetLastError());
    trace("load %lu%%, phys %llu/%llu MiB, pagefile %llu/%llu MiB, virtual %llu/%llu MiB", ms.dwMemoryLoad,
          ms.ullAvailPhys / MiB, ms.ullTotalPhys / MiB, ms.ullAvailPageFile / MiB, ms.ullTotalPageFile / MiB,
          ms.ullAvailVirtual / MiB, ms.ullTotalVirtual / MiB);
    ok(ms.dwLength == sizeof(ms), "dwLength kept: %lu", ms.dwLength);
    ok(ms.dwMemoryLoad <= 100, "dwMemoryLoad %lu <= 100", ms.dwMemoryLoad);
    ok(ms.ullTotalPhys >= 64 * MiB, "ullTotalPhys %llu is sane", ms.ullTotalPhys);
    ok(ms.ullAvailPhys > 0 && ms.ullAvailPhys <= ms.ullTotalPhys, "0 < ullAvailPhys %llu <= ullTotalPhys %llu",
       ms.ullAvailPhys, ms.ullTotalPhys);
    ok(ms.ullTotalPageFile > 0 && ms.ullAvailPageFile <= ms.ullTotalPageFile,
       "ullAvailPageFile %llu <= ullTotalPageFile %llu", ms.ullAvailPageFile, ms.ullTotalPageFile);
    ok(ms.ullTotalVirtual == 0x7FFFFFFE0000ull, "ullTotalVirtual %#llx, expected 0x7FFFFFFE0000", ms.ullTotalVirtual);
    ok(ms.ullAvailVirtual > 0 && ms.ullAvailVirtual <= ms.ullTotalVirtual,
       "0 < ullAvailVirtual %#llx <= ullTotalVirtual", ms.ullAvailVirtual);
    ok(ms.ullAvailExtendedVirtual == 0, "ullAvailExtendedVirtual %llu, expected 0", ms.ullAvailExtendedVirtual);

    /* dwMemoryLoad is the used share of physical memory. */
    used = ms.ullTotalPhys - ms.ullAvailPhys;
    load = (unsigned)(used * 100 / ms.ullTotalPhys);
    ok(ms.dwMemoryLoad + 1 >= load && ms.dwMemoryLoad <= load + 1,
       "dwMemoryLoad %lu matches the used physical memory (%u%%)", ms.dwMemoryLoad, load);

    /* The old GlobalMemoryStatus reports the same figures (64-bit: no clamping). */
    memset(&old, 0xcc, sizeof(old));
    GlobalMemoryStatus(&old);
    ok(old.dwLength == sizeof(old), "GlobalMemoryStatus sets dwLength %lu", old.dwLength);
    ok(old.dwTotalPhys == ms.ullTotalPhys, "GlobalMemoryStatus dwTotalPhys %zu, expected %llu",
       (size_t)old.dwTotalPhys, ms.ullTotalPhys);
    ok(old.dwTotalVirtual == ms.ullTotalVirtual, "GlobalMemoryStatus dwTotalVirtual %#zx",
       (size_t)old.dwTotalVirtual);
    ok(old.dwMemoryLoad <= 100, "GlobalMemoryStatus dwMemoryLoad %lu", old.dwMemoryLoad);
}

static void test_accounting(void)
{
    MEMORYSTATUSEX before, reserved, committed;
    SIZE_T size = 256 * MiB;
    char *p;
    long long dv, dc;

    ok(get_status(&before), "GlobalMemoryStatusEx: error %lu", GetLastError());
    p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_READWRITE);
    ok(p != NULL, "reserve 256 MiB: error %lu", GetLastError());
    if (!p) return;
    ok(get_status(&reserved), "GlobalMemoryStatusEx: error %lu", GetLastError());
    /* ullAvailVirtual is the process's free user address space; Wine 8.0
     * does not follow reservations. */
    dv = (long long)(before.ullAvailVirtual - reserved.ullAvailVirtual);
    todo_wine ok(dv >= (long long)(size - 16 * MiB) && dv <= (long long)(size + 16 * MiB),
       "a 256 MiB reservation lowers ullAvailVirtual by %lld MiB", dv / (long long)MiB);

    ok(VirtualAlloc(p, size, MEM_COMMIT, PAGE_READWRITE) == p, "commit 256 MiB: error %lu", GetLastError());
    ok(get_status(&committed), "GlobalMemoryStatusEx: error %lu", GetLastError());
    /* Commit charge: Windows takes committed pages from the commit limit
     * (ullAvailPageFile) at commit time, touched or not. Wine 8.0 keeps no
     * commit charge. */
    dc = (long long)(reserved.ullAvailPageFile - committed.ullAvailPageFile);
    todo_wine ok(dc >= (long long)(size - 64 * MiB),
                 "committing 256 MiB lowers ullAvailPageFile by %lld MiB", dc / (long long)MiB);
    ok(VirtualFree(p, 0, MEM_RELEASE), "release: error %lu", GetLastError());
    ok(get_status(&committed), "GlobalMemoryStatusEx: error %lu", GetLastError());
    dv = (long long)(committed.ullAvailVirtual - reserved.ullAvailVirtual);
    todo_wine ok(dv >= (long long)(size - 16 * MiB), "releasing gives the address space back (+%lld MiB)",
       dv / (long long)MiB);
}

static void test_system_info(void)
{
    SYSTEM_INFO si, nsi;
    SIZE_T large;

    GetSystemInfo(&si);
    GetNativeSystemInfo(&nsi);
    ok(si.wProcessorArchitecture == PROCESSOR_ARCHITECTURE_AMD64, "wProcessorArchitecture %u",
       si.wProcessorArchitecture);
    ok(si.dwPageSize == 0x1000, "dwPageSize %#lx", si.dwPageSize);
    ok(si.dwAllocationGranularity == 0x10000, "dwAllocationGranularity %#lx", si.dwAllocationGranularity);
    ok(si.lpMinimumApplicationAddress == (void *)0x10000, "lpMinimumApplicationAddress %p",
       si.lpMinimumApplicationAddress);
    ok(si.lpMaximumApplicationAddress == (void *)0x7FFFFFFEFFFFull, "lpMaximumApplicationAddress %p",
       si.lpMaximumApplicationAddress);
    ok(si.dwNumberOfProcessors >= 1 && si.dwActiveProcessorMask != 0, "processors %lu mask %#zx",
       si.dwNumberOfProcessors, (size_t)si.dwActiveProcessorMask);
    ok(!memcmp(&si, &nsi, sizeof(si)), "GetNativeSystemInfo equals GetSystemInfo in a 64-bit process");

    large = GetLargePageMinimum();
    ok(large == 0x200000, "GetLargePageMinimum %#zx, expected 0x200000", (size_t)large);
}

/* A structure that cannot be read or written: memshim fails with
 * ERROR_NOACCESS and leaves the memory alone. Checked on memshim only:
 * Windows' and Wine's GlobalMemoryStatus(Ex) fault there. */
static void test_bad_buffers(void)
{
    if (!memshim_only("Windows and Wine fault on a bad buffer"))
        return;
    SetLastError(0xdeadbeef);
    ok(!GlobalMemoryStatusEx(NULL), "GlobalMemoryStatusEx(NULL) succeeded");
    ok(GetLastError() == ERROR_NOACCESS, "NULL: error %lu", GetLastError());
    MEMORYSTATUSEX *ro = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    ok(ro != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!ro) return;
    DWORD old;
    ro->dwLength = sizeof(*ro);
    ok(VirtualProtect(ro, 0x1000, PAGE_READONLY, &old), "VirtualProtect: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!GlobalMemoryStatusEx(ro), "GlobalMemoryStatusEx into read-only memory succeeded");
    ok(GetLastError() == ERROR_NOACCESS, "read-only: error %lu", GetLastError());
    ok(ro->dwLength == sizeof(*ro) && ro->ullTotalPhys == 0, "read-only memory was left alone");
    SetLastError(0xdeadbeef);
    GlobalMemoryStatus((MEMORYSTATUS *)ro);
    ok(GetLastError() == ERROR_NOACCESS, "GlobalMemoryStatus into read-only memory: error %lu", GetLastError());
    ok(VirtualProtect(ro, 0x1000, PAGE_READWRITE, &old), "VirtualProtect: error %lu", GetLastError());
    ok(GlobalMemoryStatusEx(ro) && ro->ullTotalPhys > 0, "then writable: error %lu", GetLastError());
    VirtualFree(ro, 0, MEM_RELEASE);
}

int main(void)
{
    harness_init();
    test_length();
    test_figures();
    test_accounting();
    test_system_info();
    test_bad_buffers();
    return harness_done();
}
