/*
 * virtual.c - VirtualAlloc/Free/Protect/Query and their Ex forms.
 *
 * Ownership routing: the core answers for every address inside its arenas;
 * anything else (images, stacks, memory Wine or ntdll allocated) goes to
 * Wine's implementation unchanged. Requests without an address are always
 * the core's. *Ex calls on another process go to Wine.
 */
#include "private.h"
#include "file_view_hold.h"
#include "../../src/heap/heap_debug.h"
#include "stats.h"
#include "../../src/vm/vm.h"

/* Does the core serve MEM_WRITE_WATCH? Decided once per process. */
static BOOL core_write_watch(void)
{
    static LONG decided;        /* 0 unknown, 1 core, 2 Wine */
    if (!decided) {
        typedef DWORD(WINAPI * fn_t)(LPCWSTR, LPWSTR, DWORD);
        WCHAR value[8];
        DWORD n = WINE_FN(fn_t, GetEnvironmentVariableW)(L"MEMSHIM_WRITE_WATCH", value, 8);
        BOOL forced_wine = n == 4 && value[0] == 'w' && value[1] == 'i' && value[2] == 'n' && value[3] == 'e';
        InterlockedExchange(&decided, !forced_wine && vm_write_watch_supported() ? 1 : 2);
    }
    return decided == 1;
}

/* One byte of each page of [p, p + n) and its last byte read (and, with
 * `write`, written back) through the guarded copy. */
static BOOL probe(char *at, SIZE_T n, BOOL write)
{
    char byte;
    for (SIZE_T off = 0; off < n; off = (off | (MS_PAGE_SIZE - 1)) + 1)
        if (!memshim_guarded_copy(&byte, at + off, 1) || (write && !memshim_guarded_copy(at + off, &byte, 1)))
            return FALSE;
    return !n || (memshim_guarded_copy(&byte, at + n - 1, 1) && (!write || memshim_guarded_copy(at + n - 1, &byte, 1)));
}

BOOL memshim_probe_write(void *p, SIZE_T n)
{
    return probe(p, n, TRUE);
}

BOOL memshim_probe_read(const void *p, SIZE_T n)
{
    return probe((char *)p, n, FALSE);
}

void memshim_fill_mbi(MEMORY_BASIC_INFORMATION *mbi, const struct vm_region_info *info)
{
    mbi->BaseAddress = (void *)info->base;
    mbi->AllocationBase = (void *)info->allocation_base;
    mbi->AllocationProtect = info->allocation_protect;
    mbi->RegionSize = info->region_size;
    mbi->State = info->state;
    mbi->Protect = info->protect;
    mbi->Type = info->type;
}

static LPVOID VirtualAllocEx_impl(HANDLE process, LPVOID addr, SIZE_T size, DWORD type, DWORD protect)
{
    typedef LPVOID(WINAPI * fn_t)(HANDLE, LPVOID, SIZE_T, DWORD, DWORD);
    /* Without the kernel's exact write tracking (or with
     * MEMSHIM_WRITE_WATCH=wine) write-watch regions are Wine's, whose
     * GetWriteWatch emulation (write-protect + exception handler) serves
     * them: that is the fallback. */
    if ((type & MEM_WRITE_WATCH) && !core_write_watch()) {
        static LONG warned;
        if (!InterlockedExchange(&warned, 1))
            WARN("MEM_WRITE_WATCH: the kernel cannot track writes for us, the region is Wine's\n");
    } else if (is_current_process(process)) {
        uintptr_t base = (uintptr_t)addr;
        /* A file's view has no pages to commit: its pages are the file's
         * (Windows: STATUS_ACCESS_DENIED). A pagefile view's are committed
         * again with the protection asked for (vm_allocate). */
        if (addr && (type & (MEM_COMMIT | MEM_RESERVE)) == MEM_COMMIT && mapping_is_file_view(base)) {
            TRACE("%p %#Ix %#lx %#lx: a file's view -> access denied\n", addr, size, type, protect);
            set_last_error(ERROR_ACCESS_DENIED);
            return NULL;
        }
        ms_status st = vm_allocate(&base, size, type, protect);
        if (st == MS_OK) {
            TRACE("%p %#Ix %#lx %#lx -> %p\n", addr, size, type, protect, (void *)base);
            if (MS_UNLIKELY(heap_debug_mode) && (type & MEM_RESERVE))
                heap_debug_note_region(base, size);
            return (void *)base;
        }
        if (st != VM_NOT_OWNED) {
            TRACE("%p %#Ix %#lx %#lx -> error %u\n", addr, size, type, protect, st);
            set_last_error(st);
            return NULL;
        }
    }
    TRACE("%p %p %#Ix %#lx %#lx: not memshim's, passthrough\n", process, addr, size, type, protect);
    return WINE_FN(fn_t, VirtualAllocEx)(process, addr, size, type, protect);
}

LPVOID WINAPI VirtualAllocEx(HANDLE process, LPVOID addr, SIZE_T size, DWORD type, DWORD protect)
{
    LPVOID ret = VirtualAllocEx_impl(process, addr, size, type, protect);
    STAT_COUNT(STAT_VIRTUALALLOCEX, !ret);
    return ret;
}

LPVOID WINAPI VirtualAlloc(LPVOID addr, SIZE_T size, DWORD type, DWORD protect)
{
    return VirtualAllocEx(CURRENT_PROCESS, addr, size, type, protect);
}

LPVOID WINAPI VirtualAllocExNuma(HANDLE process, LPVOID addr, SIZE_T size, DWORD type, DWORD protect, DWORD node)
{
    /* One NUMA node on this host, as Wine reports: the node is a preference. */
    TRACE("node %lu\n", node);
    return VirtualAllocEx(process, addr, size, type, protect);
}

static BOOL VirtualFreeEx_impl(HANDLE process, LPVOID addr, SIZE_T size, DWORD type)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPVOID, SIZE_T, DWORD);
    if (is_current_process(process)) {
        uintptr_t base = (uintptr_t)addr;
        size_t len = size;
        ms_status st = vm_free(&base, &len, type);
        if (st == MS_OK) {
            TRACE("%p %#Ix %#lx\n", addr, size, type);
            return TRUE;
        }
        if (st != VM_NOT_OWNED) {
            TRACE("%p %#Ix %#lx -> error %u\n", addr, size, type, st);
            set_last_error(st);
            return FALSE;
        }
    }
    TRACE("%p %p %#Ix %#lx: not memshim's, passthrough\n", process, addr, size, type);
    /* (Wine keeps the written state of decommitted pages of its write-watch
     * regions, the fallback's, as Windows does.) */
    return WINE_FN(fn_t, VirtualFreeEx)(process, addr, size, type);
}

BOOL WINAPI VirtualFreeEx(HANDLE process, LPVOID addr, SIZE_T size, DWORD type)
{
    BOOL ret = VirtualFreeEx_impl(process, addr, size, type);
    STAT_COUNT(STAT_VIRTUALFREEEX, !ret);
    return ret;
}

BOOL WINAPI VirtualFree(LPVOID addr, SIZE_T size, DWORD type)
{
    return VirtualFreeEx(CURRENT_PROCESS, addr, size, type);
}

static BOOL VirtualProtectEx_impl(HANDLE process, LPVOID addr, SIZE_T size, DWORD protect, PDWORD old)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPVOID, SIZE_T, DWORD, PDWORD);
    if (is_current_process(process)) {
        uint32_t old_protect = 0;
        /* Windows probes the output first: no protection changes when it
         * is not writable memory. */
        if (vm_owns((uintptr_t)addr) && !memshim_probe_write(old, sizeof(*old))) {
            set_last_error(ERROR_NOACCESS);
            return FALSE;
        }
        ms_status st = vm_protect((uintptr_t)addr, size, protect, &old_protect);
        if (st == MS_OK) {
            DWORD value = old_protect;
            /* The pointer may lie in the very page just made read-only:
             * Windows keeps the change and fails the call then. */
            if (!memshim_guarded_copy(old, &value, sizeof(value))) {
                set_last_error(ERROR_NOACCESS);
                return FALSE;
            }
            TRACE("%p %#Ix %#lx (was %#x)\n", addr, size, protect, old_protect);
            return TRUE;
        }
        if (st != VM_NOT_OWNED) {
            TRACE("%p %#Ix %#lx -> error %u\n", addr, size, protect, st);
            set_last_error(st);
            return FALSE;
        }
    }
    TRACE("%p %p %#Ix %#lx: not memshim's, passthrough\n", process, addr, size, protect);
    return WINE_FN(fn_t, VirtualProtectEx)(process, addr, size, protect, old);
}

BOOL WINAPI VirtualProtectEx(HANDLE process, LPVOID addr, SIZE_T size, DWORD protect, PDWORD old)
{
    BOOL ret = VirtualProtectEx_impl(process, addr, size, protect, old);
    STAT_COUNT(STAT_VIRTUALPROTECTEX, !ret);
    return ret;
}

BOOL WINAPI VirtualProtect(LPVOID addr, SIZE_T size, DWORD protect, PDWORD old)
{
    return VirtualProtectEx(CURRENT_PROCESS, addr, size, protect, old);
}

/* The core's answer has MEMORY_BASIC_INFORMATION's layout, so a query
 * into the calling thread's own stack (there for certain) is answered in
 * place: reading a freshly written structure back to copy it stalls on
 * store forwarding (memshim_fill_mbi's compiled copy loads State and Protect, two
 * 4-byte stores, as one 8-byte word), a quarter of the call. */
_Static_assert(sizeof(struct vm_region_info) == sizeof(MEMORY_BASIC_INFORMATION) &&
                   offsetof(struct vm_region_info, base) == offsetof(MEMORY_BASIC_INFORMATION, BaseAddress) &&
                   offsetof(struct vm_region_info, allocation_base) ==
                       offsetof(MEMORY_BASIC_INFORMATION, AllocationBase) &&
                   offsetof(struct vm_region_info, allocation_protect) ==
                       offsetof(MEMORY_BASIC_INFORMATION, AllocationProtect) &&
                   offsetof(struct vm_region_info, region_size) == offsetof(MEMORY_BASIC_INFORMATION, RegionSize) &&
                   offsetof(struct vm_region_info, state) == offsetof(MEMORY_BASIC_INFORMATION, State) &&
                   offsetof(struct vm_region_info, protect) == offsetof(MEMORY_BASIC_INFORMATION, Protect) &&
                   offsetof(struct vm_region_info, type) == offsetof(MEMORY_BASIC_INFORMATION, Type),
               "vm_region_info is laid out as MEMORY_BASIC_INFORMATION");

static SIZE_T VirtualQueryEx_impl(HANDLE process, LPCVOID addr, PMEMORY_BASIC_INFORMATION mbi, SIZE_T len)
{
    typedef SIZE_T(WINAPI * fn_t)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
    if (is_current_process(process)) {
        struct vm_region_info local, *info = &local;
        BOOL in_place = len >= sizeof(*mbi) && on_own_stack(mbi, sizeof(*mbi));
        /* (A query the core declines may leave a try of its own there:
         * Wine's answer overwrites it.) */
        if (in_place)
            info = (struct vm_region_info *)mbi;
        if (vm_query((uintptr_t)addr, info) == MS_OK) {
            if (len < sizeof(*mbi)) {
                set_last_error(ERROR_BAD_LENGTH);
                return 0;
            }
            if (!in_place) {
                MEMORY_BASIC_INFORMATION out;
                memshim_fill_mbi(&out, info);
                if (!memshim_guarded_copy(mbi, &out, sizeof(out))) {
                    set_last_error(ERROR_NOACCESS);
                    return 0;
                }
            }
            TRACE("%p -> base %p size %#Ix state %#x protect %#x\n", addr, (void *)info->base, info->region_size,
                  info->state, info->protect);
            return sizeof(*mbi);
        }
    }
    TRACE("%p %p: not memshim's, passthrough\n", process, addr);
    return WINE_FN(fn_t, VirtualQueryEx)(process, addr, mbi, len);
}

SIZE_T WINAPI VirtualQueryEx(HANDLE process, LPCVOID addr, PMEMORY_BASIC_INFORMATION mbi, SIZE_T len)
{
    SIZE_T ret = VirtualQueryEx_impl(process, addr, mbi, len);
    STAT_COUNT(STAT_VIRTUALQUERYEX, !ret);
    return ret;
}

/* The usual call (a MEMORY_BASIC_INFORMATION on the caller's stack) on its
 * own, without VirtualQueryEx_impl's frame: its five saved registers and
 * the checks of a process handle were a fifth of a query's instructions. */
SIZE_T WINAPI VirtualQuery(LPCVOID addr, PMEMORY_BASIC_INFORMATION mbi, SIZE_T len)
{
    typedef SIZE_T(WINAPI * fn_t)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
    if (len < sizeof(*mbi) || !on_own_stack(mbi, sizeof(*mbi)))
        return VirtualQueryEx(CURRENT_PROCESS, addr, mbi, len);
    if (MS_LIKELY(vm_query((uintptr_t)addr, (struct vm_region_info *)mbi) == MS_OK)) {
        TRACE("%p -> base %p size %#Ix state %#lx protect %#lx\n", addr, mbi->BaseAddress, mbi->RegionSize,
              mbi->State, mbi->Protect);
        STAT_COUNT(STAT_VIRTUALQUERYEX, 0);
        return sizeof(*mbi);
    }
    TRACE("%p: not memshim's, passthrough\n", addr);
    SIZE_T ret = WINE_FN(fn_t, VirtualQueryEx)(CURRENT_PROCESS, addr, mbi, len);
    STAT_COUNT(STAT_VIRTUALQUERYEX, !ret);
    return ret;
}

/* The lock state lives with the pages: memshim's pages in the core. */
static BOOL lock_call(ms_status (*core)(uintptr_t, size_t), const char *what, LPVOID addr, SIZE_T size)
{
    ms_status st = core((uintptr_t)addr, size);
    if (st == VM_NOT_OWNED)
        return -1;
    TRACE("%s %p %#Ix -> %u\n", what, addr, size, st);
    if (st) {
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

static BOOL VirtualLock_impl(LPVOID addr, SIZE_T size)
{
    typedef BOOL(WINAPI * fn_t)(LPVOID, SIZE_T);
    BOOL ret = lock_call(vm_lock, "lock", addr, size);
    return ret >= 0 ? ret : WINE_FN(fn_t, VirtualLock)(addr, size);
}

BOOL WINAPI VirtualLock(LPVOID addr, SIZE_T size)
{
    BOOL ret = VirtualLock_impl(addr, size);
    STAT_COUNT(STAT_VIRTUALLOCK, !ret);
    return ret;
}

static BOOL VirtualUnlock_impl(LPVOID addr, SIZE_T size)
{
    typedef BOOL(WINAPI * fn_t)(LPVOID, SIZE_T);
    BOOL ret = lock_call(vm_unlock, "unlock", addr, size);
    return ret >= 0 ? ret : WINE_FN(fn_t, VirtualUnlock)(addr, size);
}

BOOL WINAPI VirtualUnlock(LPVOID addr, SIZE_T size)
{
    BOOL ret = VirtualUnlock_impl(addr, size);
    STAT_COUNT(STAT_VIRTUALUNLOCK, !ret);
    return ret;
}

/* --- write watch ---------------------------------------------------------- */

static UINT GetWriteWatch_impl(DWORD flags, LPVOID base, SIZE_T size, PVOID *addresses, ULONG_PTR *count, ULONG *granularity)
{
    typedef UINT(WINAPI * fn_t)(DWORD, LPVOID, SIZE_T, PVOID *, ULONG_PTR *, ULONG *);
    if (!vm_owns((uintptr_t)base))
        return WINE_FN(fn_t, GetWriteWatch)(flags, base, size, addresses, count, granularity);
    /* Windows' order: the count is read first (a bad pointer: no access),
     * then the flags and a zero count are refused, then the granularity
     * and the array must be writable. */
    ULONG_PTR want;
    if (!memshim_guarded_copy(&want, count, sizeof(want))) {
        set_last_error(ERROR_NOACCESS);
        return ~0u;
    }
    if ((flags & ~WRITE_WATCH_FLAG_RESET) || !want) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return ~0u;
    }
    SIZE_T bytes = want > ((SIZE_T)-1) / sizeof(PVOID) ? (SIZE_T)-1 : want * sizeof(PVOID);
    if (!memshim_probe_write(granularity, sizeof(*granularity)) || !memshim_probe_write(addresses, bytes)) {
        set_last_error(ERROR_NOACCESS);
        return ~0u;
    }
    size_t n = want;
    ms_status st = vm_get_write_watch((uintptr_t)base, size, flags & WRITE_WATCH_FLAG_RESET, (uintptr_t *)addresses,
                                      &n);
    TRACE("%#lx %p %#Ix -> %u, %Iu pages\n", flags, base, size, st, n);
    if (st) {
        set_last_error(st);
        return ~0u;
    }
    ULONG_PTR found = n;
    ULONG page = MS_PAGE_SIZE;
    memshim_guarded_copy(count, &found, sizeof(found));
    memshim_guarded_copy(granularity, &page, sizeof(page));
    return 0;
}

UINT WINAPI GetWriteWatch(DWORD flags, LPVOID base, SIZE_T size, PVOID *addresses, ULONG_PTR *count, ULONG *granularity)
{
    UINT ret = GetWriteWatch_impl(flags, base, size, addresses, count, granularity);
    STAT_COUNT(STAT_GETWRITEWATCH, ret != 0);
    return ret;
}

static UINT ResetWriteWatch_impl(LPVOID base, SIZE_T size)
{
    typedef UINT(WINAPI * fn_t)(LPVOID, SIZE_T);
    if (!vm_owns((uintptr_t)base))
        return WINE_FN(fn_t, ResetWriteWatch)(base, size);
    ms_status st = vm_reset_write_watch((uintptr_t)base, size);
    TRACE("%p %#Ix -> %u\n", base, size, st);
    if (st) {
        set_last_error(st);
        return ~0u;
    }
    return 0;
}

UINT WINAPI ResetWriteWatch(LPVOID base, SIZE_T size)
{
    UINT ret = ResetWriteWatch_impl(base, size);
    STAT_COUNT(STAT_RESETWRITEWATCH, ret != 0);
    return ret;
}

/* The debugger APIs on memshim's memory in this process: copied from the
 * page map's view (partial copies stop at the first page that does not
 * allow it, with ERROR_PARTIAL_COPY). Other processes and other memory:
 * Wine. */
static BOOL copy_memory(HANDLE process, const void *addr, void *buffer, SIZE_T size, SIZE_T *done, BOOL write)
{
    size_t copied = 0;
    SIZE_T none = 0;
    if (!is_current_process(process) || !vm_owns((uintptr_t)addr))
        return -1;
    /* Windows probes the count first: a bad one copies nothing. The
     * program's buffer itself is touched through the guarded copy
     * (vm_set_user_copy, exception.c). */
    if (done && !memshim_guarded_copy(done, &none, sizeof(none))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    ms_status st = vm_copy_memory((uintptr_t)addr, buffer, size, write, &copied);
    if (st == VM_NOT_OWNED)
        return -1;
    TRACE("%s %p %#Ix -> %u (%Iu bytes)\n", write ? "write" : "read", addr, size, st, copied);
    if (done) {
        SIZE_T value = copied;
        memshim_guarded_copy(done, &value, sizeof(value));
    }
    if (st) {
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

static BOOL ReadProcessMemory_impl(HANDLE process, LPCVOID addr, LPVOID buffer, SIZE_T size, SIZE_T *read)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPCVOID, LPVOID, SIZE_T, SIZE_T *);
    BOOL ret = copy_memory(process, addr, buffer, size, read, FALSE);
    if (ret >= 0)
        return ret;
    /* Wine's read lands in the buffer through the host, which fails on a
     * copy-on-write page of a shared view instead of faulting: copy first. */
    vm_view_copy_for_write((uintptr_t)buffer, size);
    return WINE_FN(fn_t, ReadProcessMemory)(process, addr, buffer, size, read);
}

BOOL WINAPI ReadProcessMemory(HANDLE process, LPCVOID addr, LPVOID buffer, SIZE_T size, SIZE_T *read)
{
    BOOL ret = ReadProcessMemory_impl(process, addr, buffer, size, read);
    STAT_COUNT(STAT_READPROCESSMEMORY, !ret);
    return ret;
}

static BOOL WriteProcessMemory_impl(HANDLE process, LPVOID addr, LPCVOID buffer, SIZE_T size, SIZE_T *written)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPVOID, LPCVOID, SIZE_T, SIZE_T *);
    BOOL ret = copy_memory(process, addr, (void *)buffer, size, written, TRUE);
    return ret >= 0 ? ret : WINE_FN(fn_t, WriteProcessMemory)(process, addr, buffer, size, written);
}

BOOL WINAPI WriteProcessMemory(HANDLE process, LPVOID addr, LPCVOID buffer, SIZE_T size, SIZE_T *written)
{
    BOOL ret = WriteProcessMemory_impl(process, addr, buffer, size, written);
    STAT_COUNT(STAT_WRITEPROCESSMEMORY, !ret);
    return ret;
}

/* IsBad*Ptr on memshim's memory: answered from the page map, as Windows
 * answers them by probing (a guard page counts as bad and loses its guard).
 * Wine's probes do not catch guard-page exceptions: the program would die.
 * Other memory is Wine's to probe. */
static BOOL bad_range(const void *ptr, UINT_PTR size, BOOL write, BOOL *owned)
{
    ms_status st = vm_check_access((uintptr_t)ptr, size, write);
    *owned = st != VM_NOT_OWNED;
    return st != MS_OK;
}

BOOL WINAPI IsBadReadPtr(LPCVOID ptr, UINT_PTR size)
{
    typedef BOOL(WINAPI * fn_t)(LPCVOID, UINT_PTR);
    BOOL owned, bad;
    if (!size)
        return FALSE;
    if (!ptr)
        return TRUE;
    bad = bad_range(ptr, size, FALSE, &owned);
    return owned ? bad : WINE_FN(fn_t, IsBadReadPtr)(ptr, size);
}

BOOL WINAPI IsBadWritePtr(LPVOID ptr, UINT_PTR size)
{
    typedef BOOL(WINAPI * fn_t)(LPVOID, UINT_PTR);
    BOOL owned, bad;
    if (!size)
        return FALSE;
    if (!ptr)
        return TRUE;
    bad = bad_range(ptr, size, TRUE, &owned);
    return owned ? bad : WINE_FN(fn_t, IsBadWritePtr)(ptr, size);
}

BOOL WINAPI IsBadCodePtr(FARPROC ptr)
{
    typedef BOOL(WINAPI * fn_t)(FARPROC);
    BOOL owned, bad;
    if (!ptr)
        return TRUE;
    bad = bad_range((const void *)ptr, 1, FALSE, &owned);
    return owned ? bad : WINE_FN(fn_t, IsBadCodePtr)(ptr);
}

/* A string of `width`-byte characters: readable up to its terminator or
 * `max` characters, checked a page at a time. -1 = not memshim's memory. */
static int bad_string(const char *s, UINT_PTR max, size_t width)
{
    if (!vm_owns((uintptr_t)s))
        return -1;
    for (UINT_PTR i = 0; i < max; i++) {
        const char *c = s + i * width;
        /* Check each page when first entered (and a character across two). */
        if ((i == 0 || ((uintptr_t)c & (MS_PAGE_SIZE - 1)) < width) &&
            vm_check_access((uintptr_t)c, width, false) != MS_OK)
            return 1;
        if (width == 1 ? !*c : !*(const WCHAR *)c)
            return 0;
    }
    return 0;
}

BOOL WINAPI IsBadStringPtrA(LPCSTR str, UINT_PTR max)
{
    typedef BOOL(WINAPI * fn_t)(LPCSTR, UINT_PTR);
    if (!max)
        return FALSE;
    if (!str)
        return TRUE;
    int bad = bad_string(str, max, 1);
    return bad >= 0 ? bad : WINE_FN(fn_t, IsBadStringPtrA)(str, max);
}

BOOL WINAPI IsBadStringPtrW(LPCWSTR str, UINT_PTR max)
{
    typedef BOOL(WINAPI * fn_t)(LPCWSTR, UINT_PTR);
    if (!max)
        return FALSE;
    if (!str)
        return TRUE;
    int bad = bad_string((const char *)str, max, 2);
    return bad >= 0 ? bad : WINE_FN(fn_t, IsBadStringPtrW)(str, max);
}

BOOL WINAPI PrefetchVirtualMemory(HANDLE process, ULONG_PTR count, PWIN32_MEMORY_RANGE_ENTRY ranges, ULONG flags)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, ULONG_PTR, PWIN32_MEMORY_RANGE_ENTRY, ULONG);
    WIN32_MEMORY_RANGE_ENTRY range;
    ULONG_PTR i;
    if (!is_current_process(process) || flags || !count || !ranges)
        return WINE_FN(fn_t, PrefetchVirtualMemory)(process, count, ranges, flags);
    /* The program's array is read through the guarded copy: one it cannot
     * read goes to Wine, which fails it with ERROR_NOACCESS as Windows'
     * probe does. */
    for (i = 0; i < count; i++)
        if (!memshim_guarded_copy(&range, &ranges[i], sizeof(range)) || !vm_owns((uintptr_t)range.VirtualAddress) ||
            !range.NumberOfBytes)
            break;
    /* Some of it is Wine's memory (Wine's hint, for all), an empty range
     * (Windows: STATUS_INVALID_PARAMETER_4, which Wine gives too), or an
     * unreadable array. */
    if (i < count)
        return WINE_FN(fn_t, PrefetchVirtualMemory)(process, count, ranges, flags);
    for (i = 0; i < count; i++)
        if (memshim_guarded_copy(&range, &ranges[i], sizeof(range)))
            vm_prefetch((uintptr_t)range.VirtualAddress, range.NumberOfBytes);
    TRACE("%Iu ranges\n", count);
    return TRUE;
}

/* Wine's figures (page size, granularity, processors) are the host's; the
 * address range is the core's: programs that are not large-address aware
 * get 2 GiB, as on Windows. */
static void clamp_address_range(LPSYSTEM_INFO info)
{
    uintptr_t limit = vm_max_address();
    if (limit <= MS_USER_SPACE_LIMIT && (uintptr_t)info->lpMaximumApplicationAddress >= limit)
        info->lpMaximumApplicationAddress = (void *)(limit - MS_GRANULARITY - 1);
}

void WINAPI GetSystemInfo(LPSYSTEM_INFO info)
{
    typedef void(WINAPI * fn_t)(LPSYSTEM_INFO);
    WINE_FN(fn_t, GetSystemInfo)(info);
    clamp_address_range(info);
}

void WINAPI GetNativeSystemInfo(LPSYSTEM_INFO info)
{
    typedef void(WINAPI * fn_t)(LPSYSTEM_INFO);
    WINE_FN(fn_t, GetNativeSystemInfo)(info);
    clamp_address_range(info);
}

/* x86-64 keeps instruction fetches coherent with stores: for the current
 * process there is nothing to flush, and Windows returns TRUE for any
 * range. Another process: Wine (NtFlushInstructionCache). */
BOOL WINAPI FlushInstructionCache(HANDLE process, LPCVOID addr, SIZE_T size)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPCVOID, SIZE_T);
    TRACE("%p %p %#Ix\n", process, addr, size);
    if (is_current_process(process))
        return TRUE;
    return WINE_FN(fn_t, FlushInstructionCache)(process, addr, size);
}

SIZE_T WINAPI GetLargePageMinimum(void)
{
    SIZE_T size = vm_large_page_minimum();
    TRACE("-> %#Ix\n", size);
    return size;
}
