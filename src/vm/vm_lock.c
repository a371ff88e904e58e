/*
 * vm_lock.c - VirtualLock and VirtualUnlock: pages kept in RAM (mlock).
 *
 * Windows answers ERROR_NOT_LOCKED when unlocking a page that is not locked,
 * so the core remembers which pages are, one bit per page beside the page
 * bytes (metadata that is only touched when a program locks). The host's
 * lock goes away with the pages on decommit, and so do the bits.
 * An unprivileged process may lock only RLIMIT_MEMLOCK bytes; beyond that
 * the host refuses and the call fails with ERROR_WORKING_SET_QUOTA, which
 * is what Windows reports past the working-set minimum.
 */
#include "vm_internal.h"

bool vm_page_locked(const struct vm_arena *a, size_t p)
{
    return vm_page_bit(a->locked, p);
}

/* Set or clear the bits of [p0, p1), keeping alloc's count. */
static void set_bits(struct vm_arena *a, struct vm_allocation *alloc, size_t p0, size_t p1, bool on)
{
    for (size_t p = p0; p < p1; p++)
        vm_page_bit_set(a->locked, p, on, &alloc->locked_pages);
}

void vm_lock_bits_clear(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    /* The count keeps the bitmap untouched (no page fault) when nothing of
     * the allocation was ever locked, the common case. */
    if (alloc->locked_pages)
        set_bits(arena, alloc, p0, p1, false);
}

/* The arena and range of a lock request, with vm.lock held. */
static ms_status lock_range(uintptr_t addr, size_t size, struct vm_arena **arena, struct vm_allocation **out,
                            size_t *p0, size_t *p1)
{
    if (size == 0)
        size = 1;       /* a zero size still names the page at addr */
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    *arena = vm_arena_find(start);
    if (!*arena)
        return VM_NOT_OWNED;
    struct vm_allocation *alloc = vm_allocation_at(*arena, start);
    if (!alloc || end <= start || end > alloc->base + alloc->size)
        return MS_ERROR_NOACCESS;
    *out = alloc;
    *p0 = arena_page(*arena, start);
    *p1 = arena_page(*arena, end);
    return MS_OK;
}

ms_status vm_lock(uintptr_t addr, size_t size)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    size_t p0, p1;
    vm_map_lock();
    ms_status st = lock_range(addr, size, &arena, &alloc, &p0, &p1);
    for (size_t p = p0; st == MS_OK && p < p1; p++) {
        uint8_t b = arena->pages[p];
        /* Only committed, accessible pages can be locked. */
        if (page_byte_state(b) != PAGE_STATE_COMMITTED || page_host_prot(b) == HOST_PROT_NONE)
            st = MS_ERROR_NOACCESS;
    }
    if (st == MS_OK) {
        uintptr_t start = arena->base + (p0 << MS_PAGE_SHIFT);
        if (host_lock_pages(start, (p1 - p0) << MS_PAGE_SHIFT) < 0)
            st = MS_ERROR_WORKING_SET_QUOTA;
        else
            set_bits(arena, alloc, p0, p1, true);
    }
    vm_map_unlock();
    return st;
}

ms_status vm_unlock(uintptr_t addr, size_t size)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    size_t p0, p1;
    vm_map_lock();
    ms_status st = lock_range(addr, size, &arena, &alloc, &p0, &p1);
    if (st == MS_ERROR_NOACCESS)
        st = MS_ERROR_NOT_LOCKED;
    for (size_t p = p0; st == MS_OK && p < p1; p++)
        if (!alloc->locked_pages || !vm_page_locked(arena, p))
            st = MS_ERROR_NOT_LOCKED;
    if (st == MS_OK) {
        host_unlock_pages(arena->base + (p0 << MS_PAGE_SHIFT), (p1 - p0) << MS_PAGE_SHIFT);
        set_bits(arena, alloc, p0, p1, false);
    }
    vm_map_unlock();
    return st;
}
