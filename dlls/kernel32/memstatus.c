/*
 * memstatus.c - GlobalMemoryStatus(Ex): memory figures from the host and
 * the core (src/status), in Windows' structures.
 */
#include "private.h"
#include "../../src/status/mem_status.h"

/* Free address space as Wine sees it: the core's arenas count as taken
 * there, so the core adds back what is free inside them. */
static uint64_t wine_available_virtual(void)
{
    typedef BOOL(WINAPI * fn_t)(LPMEMORYSTATUSEX);
    MEMORYSTATUSEX wine = { .dwLength = sizeof(wine) };
    if (!WINE_FN(fn_t, GlobalMemoryStatusEx)(&wine))
        return 0;
    return wine.ullAvailVirtual;
}

BOOL WINAPI GlobalMemoryStatusEx(LPMEMORYSTATUSEX status)
{
    if (status->dwLength != sizeof(*status)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct mem_status s;
    if (mem_status_get(&s, wine_available_virtual()) != MS_OK) {
        set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    status->dwMemoryLoad = s.memory_load;
    status->ullTotalPhys = s.total_phys;
    status->ullAvailPhys = s.avail_phys;
    status->ullTotalPageFile = s.total_page_file;
    status->ullAvailPageFile = s.avail_page_file;
    status->ullTotalVirtual = s.total_virtual;
    status->ullAvailVirtual = s.avail_virtual;
    status->ullAvailExtendedVirtual = 0;
    TRACE("load %lu%%, phys %I64u/%I64u, commit %I64u/%I64u\n", status->dwMemoryLoad, status->ullAvailPhys,
          status->ullTotalPhys, status->ullAvailPageFile, status->ullTotalPageFile);
    return TRUE;
}

/* The 32-bit-era form: figures above 4 GiB are clamped as Windows does
 * for a 64-bit program (SIZE_T is 64-bit, so only the total virtual
 * space needs care: it is reported in full). */
void WINAPI GlobalMemoryStatus(LPMEMORYSTATUS status)
{
    MEMORYSTATUSEX ex = { .dwLength = sizeof(ex) };
    if (!GlobalMemoryStatusEx(&ex))
        return;
    status->dwLength = sizeof(*status);
    status->dwMemoryLoad = ex.dwMemoryLoad;
    status->dwTotalPhys = ex.ullTotalPhys;
    status->dwAvailPhys = ex.ullAvailPhys;
    status->dwTotalPageFile = ex.ullTotalPageFile;
    status->dwAvailPageFile = ex.ullAvailPageFile;
    status->dwTotalVirtual = ex.ullTotalVirtual;
    status->dwAvailVirtual = ex.ullAvailVirtual;
}
