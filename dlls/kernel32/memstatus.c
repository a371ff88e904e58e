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

/* The program's structure is read and written through the guarded copy:
 * a pointer to memory that cannot be read or written fails with
 * ERROR_NOACCESS, where Windows' and Wine's code would fault. */
static BOOL GlobalMemoryStatusEx_impl(LPMEMORYSTATUSEX status)
{
    /* The common case, a structure on the caller's own stack, is read and
     * written in place (through the guarded copy it cost ~12 ns of ~60). */
    BOOL direct = on_own_stack(status, sizeof(*status));
    DWORD length;
    if (direct)
        length = status->dwLength;
    else if (!memshim_guarded_copy(&length, &status->dwLength, sizeof(length))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    if (length != sizeof(*status)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct mem_status s;
    if (mem_status_get(&s, used_outside_arenas) != MS_OK) {
        set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    /* Written in place when it is on the stack: a copy of a freshly built
     * structure stalls on store forwarding. */
    MEMORYSTATUSEX copy, *out = direct ? status : &copy;
    out->dwLength = sizeof(*out);
    out->dwMemoryLoad = s.memory_load;
    out->ullTotalPhys = s.total_phys;
    out->ullAvailPhys = s.avail_phys;
    out->ullTotalPageFile = s.total_page_file;
    out->ullAvailPageFile = s.avail_page_file;
    out->ullTotalVirtual = s.total_virtual;
    out->ullAvailVirtual = s.avail_virtual;
    out->ullAvailExtendedVirtual = 0;
    if (!direct && !memshim_guarded_copy(status, &copy, sizeof(copy))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    TRACE("load %lu%%, phys %I64u/%I64u, commit %I64u/%I64u\n", out->dwMemoryLoad, out->ullAvailPhys,
          out->ullTotalPhys, out->ullAvailPageFile, out->ullTotalPageFile);
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
    MEMORYSTATUS out = {
        .dwLength = sizeof(out),
        .dwMemoryLoad = ex.dwMemoryLoad,
        .dwTotalPhys = ex.ullTotalPhys,
        .dwAvailPhys = ex.ullAvailPhys,
        .dwTotalPageFile = ex.ullTotalPageFile,
        .dwAvailPageFile = ex.ullAvailPageFile,
        .dwTotalVirtual = ex.ullTotalVirtual,
        .dwAvailVirtual = ex.ullAvailVirtual,
    };
    /* No result to fail with: a structure that cannot be written is left
     * alone (with ERROR_NOACCESS), where Windows would fault. */
    if (!memshim_guarded_copy(status, &out, sizeof(out)))
        set_last_error(ERROR_NOACCESS);
}
