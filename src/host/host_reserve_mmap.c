/*
 * host_reserve_mmap.c - address-space reservation for the native build.
 *
 * Natively nobody else keeps a map of the address space, so a PROT_NONE
 * anonymous mapping is a reservation. (Under Wine, host_reserve_wine.c is
 * used instead: Wine must be told, or it would place its own memory there.)
 */
#include "host.h"
#include "linux_syscall.h"

#define MAPF (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_NORESERVE)

static int64_t unmap(uintptr_t addr, size_t size)
{
    return linux_syscall3(LINUX_SYS_munmap, addr, size, 0);
}

int host_reserve(uintptr_t *addr, size_t size, size_t align, bool top_down, uintptr_t limit)
{
    if (host_fault_now())
        return -12;                             /* ENOMEM */
    MS_UNUSED(top_down);
    if (*addr) {
        int64_t r = linux_syscall6(LINUX_SYS_mmap, (int64_t)*addr, (int64_t)size, 0, MAPF | LINUX_MAP_FIXED_NOREPLACE, -1, 0);
        if (linux_is_error(r))
            return (int)r;
        if ((uintptr_t)r != *addr) {            /* old kernel ignored NOREPLACE */
            unmap((uintptr_t)r, size);
            return -17;                         /* EEXIST */
        }
        return 0;
    }
    /* Over-reserve and trim to get the alignment. */
    size_t span = size + align;
    int64_t r = linux_syscall6(LINUX_SYS_mmap, 0, (int64_t)span, 0, MAPF, -1, 0);
    if (linux_is_error(r))
        return (int)r;
    uintptr_t base = ms_align_up((uintptr_t)r, align);
    if (base > (uintptr_t)r)
        unmap((uintptr_t)r, base - (uintptr_t)r);
    uintptr_t end = (uintptr_t)r + span;
    if (end > base + size)
        unmap(base + size, end - base - size);
    if (limit && base + size > limit) {
        unmap(base, size);
        return -12;                             /* ENOMEM */
    }
    *addr = base;
    return 0;
}

int host_unreserve(uintptr_t addr, size_t size)
{
    return (int)unmap(addr, size);
}
