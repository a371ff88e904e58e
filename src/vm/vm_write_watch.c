/*
 * vm_write_watch.c - GetWriteWatch and ResetWriteWatch on MEM_WRITE_WATCH
 * allocations, exact per page, kernel writes included.
 *
 * The host tracks writes (host_write_watch.c); the core decides which pages
 * are asked about: only committed ones, run by run, since reserved pages
 * cannot have been written and each commit starts its pages unwritten
 * (vm_commit_range registers fresh pages with the host).
 */
#include "vm_internal.h"

bool vm_write_watch_supported(void)
{
    return host_write_watch_available();
}

/* The write-watch allocation holding [start, end), with vm.lock held. */
static ms_status watched_range(uintptr_t addr, size_t size, struct vm_arena **arena, size_t *p0, size_t *p1)
{
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    *arena = vm_arena_find(start);
    if (!*arena)
        return VM_NOT_OWNED;
    struct vm_allocation *alloc = vm_allocation_at(*arena, start);
    if (!alloc || !alloc->write_watch || size == 0 || end <= start || end > alloc->base + alloc->size)
        return MS_ERROR_INVALID_PARAMETER;
    *p0 = arena_page(*arena, start);
    *p1 = arena_page(*arena, end);
    return MS_OK;
}

ms_status vm_get_write_watch(uintptr_t addr, size_t size, bool reset, uintptr_t *pages, size_t *count)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    struct vm_arena *arena;
    size_t p0, p1, n = 0;
    /* The addresses are stored under vm.lock: a copy-on-write page of a
     * shared view there must not fault into the handler that takes it. */
    vm_view_copy_for_write((uintptr_t)pages, *count * sizeof(*pages));
    vm_map_lock();
    ms_status st = watched_range(addr, size, &arena, &p0, &p1);
    for (size_t p = p0; st == MS_OK && p < p1 && n < *count;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        if (page_byte_state(arena->pages[p]) == PAGE_STATE_COMMITTED) {
            long got = host_write_watch_collect(arena->base + (p << MS_PAGE_SHIFT), run << MS_PAGE_SHIFT, reset,
                                                pages + n, *count - n);
            if (got < 0)
                st = MS_ERROR_NOT_ENOUGH_MEMORY;
            else
                n += (size_t)got;
        }
        p += run;
    }
    vm_map_unlock();
    if (st == MS_OK)
        *count = n;
    return st;
}

ms_status vm_reset_write_watch(uintptr_t addr, size_t size)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    struct vm_arena *arena;
    size_t p0, p1;
    vm_map_lock();
    ms_status st = watched_range(addr, size, &arena, &p0, &p1);
    for (size_t p = p0; st == MS_OK && p < p1;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        if (page_byte_state(arena->pages[p]) == PAGE_STATE_COMMITTED &&
            host_write_watch_reset(arena->base + (p << MS_PAGE_SHIFT), run << MS_PAGE_SHIFT) < 0)
            st = MS_ERROR_NOT_ENOUGH_MEMORY;
        p += run;
    }
    vm_map_unlock();
    return st;
}
