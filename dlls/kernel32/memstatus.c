/*
 * memstatus.c - GlobalMemoryStatus(Ex): memory figures from the host and
 * the core (src/status), in Windows' structures.
 */
#include "private.h"
#include "stats.h"
#include "../../src/status/mem_status.h"
#include "../../src/vm/vm.h"

/* Address space in use outside the core's arenas: a walk of the regions
 * Wine knows (the arenas show up there as Wine reservations and are
 * skipped; the core counts its own use live). */
static uint64_t used_outside_arenas(void)
{
    typedef SIZE_T(WINAPI * fn_t)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
    fn_t query = WINE_FN(fn_t, VirtualQueryEx);
    uint64_t used = 0;
    uintptr_t addr = MS_USER_SPACE_MIN;
    MEMORY_BASIC_INFORMATION mbi;
    while (addr < MS_USER_SPACE_LIMIT && query(CURRENT_PROCESS, (void *)addr, &mbi, sizeof(mbi))) {
        uintptr_t next = (uintptr_t)mbi.BaseAddress + mbi.RegionSize;
        if (mbi.State != MEM_FREE && !vm_owns((uintptr_t)mbi.BaseAddress))
            used += mbi.RegionSize;
        if (next <= addr)
            break;
        addr = next;
    }
    return used;
}

static BOOL GlobalMemoryStatusEx_impl(LPMEMORYSTATUSEX status)
{
    if (status->dwLength != sizeof(*status)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct mem_status s;
    if (mem_status_get(&s, used_outside_arenas) != MS_OK) {
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

BOOL WINAPI GlobalMemoryStatusEx(LPMEMORYSTATUSEX status)
{
    BOOL ret = GlobalMemoryStatusEx_impl(status);
    STAT_COUNT(STAT_GLOBALMEMORYSTATUSEX, !ret);
    return ret;
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
