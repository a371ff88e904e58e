/*
 * vm_shadow.c - lending the core's pages to I/O that checks another map.
 *
 * Under Wine, a read from a pipe or a device, and an ioctl's output, are
 * written into the caller's buffer only if ntdll's own page map says the
 * buffer is writable; the core's pages are reserved in that map, so such
 * calls failed with ERROR_INVALID_USER_BUFFER for every buffer of the
 * core's heap or VirtualAlloc (host_shadow.c has the details). vm_shadow
 * makes the allocations under a buffer shadowed: the host's second keeper
 * (Wine) is told the host protection of each of their pages, and from then
 * on host.h's functions keep it told, until the allocation is released
 * (vm_allocation_destroy ends it).
 *
 * Whole allocations, once: a buffer is usually reused, and the keeper is
 * then kept in step by the changes the allocation sees anyway (a heap
 * segment's commits, a VirtualProtect), which are rare next to the reads;
 * an allocation never lent to such a call costs nothing.
 */
#include "vm_internal.h"

/* Tell the keeper the protection of every page of alloc, in runs of alike
 * pages. The allocation stays shadowed even if the keeper refused a run:
 * that run keeps what the keeper had ("reserved", never more than the host
 * allows) and later changes to it are still told. False if nothing could
 * be told (the table of shadowed ranges is full). */
static bool shadow_allocation_locked(struct vm_arena *arena, struct vm_allocation *alloc)
{
    if (host_shadow_begin(alloc->base, alloc->size) < 0)
        return false;
    alloc->shadowed = 1;
    size_t p = arena_page(arena, alloc->base), p1 = p + (alloc->size >> MS_PAGE_SHIFT);
    bool ok = true;
    while (p < p1) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        if (host_shadow_set(arena->base + (p << MS_PAGE_SHIFT), run << MS_PAGE_SHIFT,
                            vm_host_prot(alloc, arena->pages[p])) < 0)
            ok = false;
        p += run;
    }
    return ok;
}

/* vm_each_allocation_locked's visit; ctx: the status to fail. */
static void shadow_visit(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t lo, uintptr_t hi, void *ctx)
{
    MS_UNUSED(lo);
    MS_UNUSED(hi);
    if (!alloc->shadowed && !shadow_allocation_locked(arena, alloc))
        *(ms_status *)ctx = MS_ERROR_NOT_ENOUGH_MEMORY;
}

ms_status vm_shadow(uintptr_t addr, size_t size)
{
    if (!size || addr + size < addr || !host_shadow_available())
        return MS_ERROR_INVALID_PARAMETER;
    ms_status st = MS_OK;
    vm_map_lock();
    /* Protections waiting since a bare thread's change (the heap purge's)
     * reach the keeper before the buffer is lent. */
    host_shadow_flush();
    vm_each_allocation_locked(addr, ms_align_up(addr + size, MS_PAGE_SIZE), shadow_visit, &st);
    vm_map_unlock();
    return st;
}

bool vm_shadowed(uintptr_t addr)
{
    bool shadowed = false;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(addr);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, addr) : NULL;
    if (alloc)
        shadowed = alloc->shadowed;
    vm_map_unlock();
    return shadowed;
}
