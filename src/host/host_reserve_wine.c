/*
 * host_reserve_wine.c - address-space reservation when the core runs inside
 * Wine (the PE build).
 *
 * Wine keeps its own map of the process's address space and maps over
 * anything it believes free. So arenas are reserved through ntdll's
 * NtAllocateVirtualMemory(MEM_RESERVE): Wine then reports them reserved and
 * never places anything there, and the core manages the pages inside with
 * raw syscalls (host_linux.c). This file declares the two ntdll entry points
 * it needs itself, to keep windows.h out of the core.
 */
#include "host.h"
#include "host_wine.h"

typedef int32_t ntstatus;
#define NT_CURRENT_PROCESS ((void *)(intptr_t)-1)
#define NT_MEM_RESERVE  0x2000u
#define NT_MEM_RELEASE  0x8000u
#define NT_MEM_TOP_DOWN 0x100000u
#define NT_PAGE_NOACCESS 0x01u

__attribute__((dllimport)) ntstatus __stdcall NtAllocateVirtualMemory(void *process, void **base, uintptr_t zero_bits,
                                                                      size_t *size, uint32_t type, uint32_t protect);
__attribute__((dllimport)) ntstatus __stdcall NtFreeVirtualMemory(void *process, void **base, size_t *size,
                                                                  uint32_t type);

/* The originals once the DLL hooked ntdll; NULL = ntdll's exports. */
static host_nt_allocate_fn nt_allocate;
static host_nt_free_fn nt_free;

void host_wine_use_ntdll(host_nt_allocate_fn allocate, host_nt_free_fn release)
{
    nt_allocate = allocate;
    nt_free = release;
}

static int try_reserve(uintptr_t *addr, size_t size, bool top_down, uintptr_t limit)
{
    void *base = (void *)*addr;
    size_t len = size;
    /* On 64-bit, zero_bits above 32 is a mask of allowed address bits. A
     * mask makes Wine 8 search for free space itself, one mmap attempt per
     * 64 KiB step: bottom-up, past everything Linux mapped low, that is a
     * million failing syscalls for a 1 GiB reservation, so it is passed only
     * for a real limit (2 GiB for programs that are not large-address aware)
     * and for top-down requests, which Wine otherwise places below the
     * Linux libraries instead of at the top of the 128 TiB, as Windows does;
     * from the top down the search meets little. */
    uintptr_t zero_bits = 0;
    if (limit && limit < MS_USER_SPACE_LIMIT)
        zero_bits = limit - 1;
    else if (top_down)
        zero_bits = MS_USER_SPACE_LIMIT;
    ntstatus st = (nt_allocate ? nt_allocate : NtAllocateVirtualMemory)(NT_CURRENT_PROCESS, &base, zero_bits, &len,
                                          NT_MEM_RESERVE | (top_down ? NT_MEM_TOP_DOWN : 0), NT_PAGE_NOACCESS);
    if (st < 0)
        return st == (ntstatus)0xC0000018 /* STATUS_CONFLICTING_ADDRESSES */ ? -17 : -12;
    *addr = (uintptr_t)base;
    return 0;
}

/* Top-down reservations with no limit below the user space top. Wine 8
 * first looks for room in its own reserved areas, top-down among them, and
 * the one below 0x68000000 is mostly free: any top-down request that fits
 * there lands there (a 1 GiB arena rarely did; the smaller arenas do),
 * while Windows puts MEM_TOP_DOWN memory at the top of the 128 TiB. So the
 * range is asked for at explicit addresses from the top down, stepping by
 * its size past whatever is in the way (Wine's pages at the very top, the
 * Linux stack, earlier top-down arenas). An explicit address outside
 * Wine's reserved areas is taken with MAP_FIXED_NOREPLACE by Wine, so a
 * try never disturbs a mapping Wine does not know. A bounded number of
 * tries, then Wine's own choice. */
#define TOP_DOWN_TRIES 64

static int reserve_top(uintptr_t *addr, size_t size, size_t align)
{
    uintptr_t top = MS_USER_SPACE_LIMIT + 1;
    if (size < top - MS_USER_SPACE_MIN) {
        uintptr_t at = ms_align_down(top - size, align);
        for (int i = 0; i < TOP_DOWN_TRIES && at >= MS_USER_SPACE_MIN; i++) {
            uintptr_t want = at;
            if (try_reserve(&want, size, false, 0) == 0) {
                *addr = want;
                return 0;
            }
            if (at < MS_USER_SPACE_MIN + size)
                break;
            at = ms_align_down(at - size, align);
        }
    }
    return -12;
}

int host_reserve(uintptr_t *addr, size_t size, size_t align, bool top_down, uintptr_t limit)
{
    if (host_fault_now())
        return -12;                             /* ENOMEM */
    if (!*addr && top_down && !(limit && limit < MS_USER_SPACE_LIMIT) &&
        reserve_top(addr, size, align > MS_GRANULARITY ? align : MS_GRANULARITY) == 0)
        return 0;
    if (*addr || align <= MS_GRANULARITY)
        return try_reserve(addr, size, top_down, limit);
    /* Wine, like Windows, cannot release part of a reservation, so a larger
     * alignment is found by reserving a padded range, noting an aligned
     * address inside it, giving the range back and taking the aligned part.
     * Another thread may win the race for it: then try again. */
    for (int attempt = 0; attempt < 8; attempt++) {
        uintptr_t probe = 0;
        int r = try_reserve(&probe, size + align, top_down, limit);
        if (r < 0)
            return r;
        uintptr_t aligned = ms_align_up(probe, align);
        host_unreserve(probe, size + align);
        if (try_reserve(&aligned, size, false, limit) == 0) {
            *addr = aligned;
            return 0;
        }
    }
    return -12;
}

int host_unreserve(uintptr_t addr, size_t size)
{
    MS_UNUSED(size);
    void *base = (void *)addr;
    size_t len = 0;
    return (nt_free ? nt_free : NtFreeVirtualMemory)(NT_CURRENT_PROCESS, &base, &len, NT_MEM_RELEASE) < 0 ? -22 : 0;
}
