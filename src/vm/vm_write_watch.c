/*
 * vm_write_watch.c - GetWriteWatch and ResetWriteWatch on MEM_WRITE_WATCH
 * allocations, exact per page, kernel writes included.
 *
 * The host tracks writes (host_write_watch.c); the core decides which pages
 * are asked about: committed ones, run by run, since each commit starts its
 * pages unwritten with the host (vm_commit_range registers fresh pages).
 *
 * Decommitting a page drops its host page and the host's record with it,
 * but Windows keeps a write until a reset: Wine's tests, run there, find a
 * page written and then decommitted still reported. So before a decommit
 * the host's record of the run is copied into arena->written, one bit per
 * page (vm_write_watch_keep); GetWriteWatch reports a page whose bit is set
 * whatever its state, ResetWriteWatch and WRITE_WATCH_FLAG_RESET clear the
 * bits they cover, and a release forgets them. alloc->kept_written counts
 * the bits, so an allocation never decommitted after a write costs nothing
 * more than before.
 *
 * Invariant: a kept-write bit is set only on a page of a write-watch
 * allocation.
 */
#include "vm_internal.h"

static bool kept_bit(const struct vm_arena *a, size_t p)
{
    return vm_page_bit(a->written, p);
}

static void set_kept_bit(struct vm_arena *a, struct vm_allocation *alloc, size_t p, bool on)
{
    vm_page_bit_set(a->written, p, on, &alloc->kept_written);
}

/* The first page in [p, end) with a kept-write bit, or end; zero bytes of
 * the bitmap are stepped over eight pages at a time. */
static size_t next_kept(const struct vm_arena *a, size_t p, size_t end)
{
    while (p < end) {
        if (!(p & 7) && !a->written[p >> 3]) {
            p += 8;
            continue;
        }
        if (kept_bit(a, p))
            return p;
        p++;
    }
    return end;
}

void vm_write_watch_keep(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    uintptr_t found[64];
    uintptr_t addr = arena->base + (p0 << MS_PAGE_SHIFT), end = arena->base + (p1 << MS_PAGE_SHIFT);
    while (addr < end) {
        long got = host_write_watch_collect(addr, end - addr, false, found, sizeof found / sizeof found[0]);
        if (got <= 0)
            return;                 /* (the host could not say: nothing more is known) */
        for (long i = 0; i < got; i++)
            set_kept_bit(arena, alloc, arena_page(arena, found[i]), true);
        if ((size_t)got < sizeof found / sizeof found[0])
            return;
        addr = found[got - 1] + MS_PAGE_SIZE;
    }
}

void vm_write_watch_forget(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    for (size_t p = next_kept(arena, p0, p1); p < p1 && alloc->kept_written; p = next_kept(arena, p + 1, p1))
        set_kept_bit(arena, alloc, p, false);
}

bool vm_write_watch_supported(void)
{
    return host_write_watch_available();
}

/* The write-watch allocation holding [start, end), with vm.lock held. */
static ms_status watched_range(uintptr_t addr, size_t size, struct vm_arena **arena, struct vm_allocation **alloc,
                               size_t *p0, size_t *p1)
{
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    *arena = vm_arena_find(start);
    if (!*arena)
        return VM_NOT_OWNED;
    *alloc = vm_allocation_at(*arena, start);
    if (!*alloc || !(*alloc)->write_watch || size == 0 || end <= start || end > (*alloc)->base + (*alloc)->size)
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
    struct vm_allocation *alloc;
    ms_status st = watched_range(addr, size, &arena, &alloc, &p0, &p1);
    for (size_t p = p0; st == MS_OK && p < p1 && n < *count;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        bool committed = page_byte_state(arena->pages[p]) == PAGE_STATE_COMMITTED;
        if (alloc->kept_written) {
            /* Page by page where a kept write may lie, in address order:
             * a kept page is reported (and re-armed with the host on a
             * reset); the pages between go to the host as before. */
            size_t q = p, end = p + run;
            while (q < end && n < *count && st == MS_OK) {
                if (kept_bit(arena, q)) {
                    pages[n++] = arena->base + (q << MS_PAGE_SHIFT);
                    if (reset) {
                        set_kept_bit(arena, alloc, q, false);
                        if (committed && host_write_watch_reset(arena->base + (q << MS_PAGE_SHIFT), MS_PAGE_SIZE) < 0)
                            st = MS_ERROR_NOT_ENOUGH_MEMORY;
                    }
                    q++;
                    continue;
                }
                size_t r = next_kept(arena, q, end);
                if (committed) {
                    long got = host_write_watch_collect(arena->base + (q << MS_PAGE_SHIFT), (r - q) << MS_PAGE_SHIFT,
                                                        reset, pages + n, *count - n);
                    if (got < 0)
                        st = MS_ERROR_NOT_ENOUGH_MEMORY;
                    else
                        n += (size_t)got;
                }
                q = r;
            }
        } else if (committed) {
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
    struct vm_allocation *alloc;
    ms_status st = watched_range(addr, size, &arena, &alloc, &p0, &p1);
    if (st == MS_OK)
        vm_write_watch_forget(arena, alloc, p0, p1);
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
