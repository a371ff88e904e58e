/*
 * vm_protect.c - VirtualProtect: new protection for committed pages of one
 * allocation, enforced by the host.
 *
 * Toggled runs: changing the protection of a run inside a larger mapping
 * of one protection makes the host split the mapping, and changing it back
 * merges it again; most of an mprotect's cost here (3 us of 3.3). Programs
 * that toggle do it on the same run again and again (a JIT flipping a code
 * page between writable and executable, a collector's card pages), so when
 * a private allocation gets the same run re-protected twice in a row, that
 * run becomes a host mapping of its own (host_isolate) and later toggles
 * cost an mprotect without split or merge (~1 us). One such run per
 * allocation; it counts as two mappings in the budget (vm_maps.c) and ends
 * when any of its pages is decommitted or released.
 */
#include "vm_internal.h"

void vm_isolation_end(struct vm_allocation *alloc, uintptr_t start, uintptr_t end)
{
    uintptr_t iso_end = alloc->isolated + (alloc->isolated_pages << MS_PAGE_SHIFT);
    if (!alloc->isolated_pages || end <= alloc->isolated || start >= iso_end)
        return;
    host_isolate_end(alloc->isolated, iso_end - alloc->isolated);
    vm_maps_note(-2);
    alloc->isolated_pages = 0;
}

static void note_repeat(struct vm_allocation *alloc, uintptr_t start, size_t pages)
{
    if (start == alloc->last_protect && pages == alloc->last_protect_pages && !alloc->isolated_pages &&
        alloc->type == VM_MEM_PRIVATE && pages < alloc->size >> MS_PAGE_SHIFT &&
        vm_maps_take(2, VM_MAP_MARGIN_PROTECT)) {
        if (host_isolate(start, pages << MS_PAGE_SHIFT) == 0) {
            alloc->isolated = start;
            alloc->isolated_pages = pages;
        } else {
            vm_maps_note(-2);
        }
    }
    alloc->last_protect = start;
    alloc->last_protect_pages = pages;
}

/* What a protection lets the program do, as Windows weighs it against a
 * view's (READ, WRITE, EXECUTE, and WRITECOPY for the executable
 * copy-on-write kinds): PAGE_WRITECOPY alone counts as reading, since its
 * writes go to a private copy. */
enum { VIEW_READ = 1, VIEW_WRITE = 2, VIEW_EXECUTE = 4, VIEW_WRITECOPY = 8 };

static uint32_t view_access(uint32_t protect)
{
    switch (protect & 0xFFu) {
    case VM_PAGE_READONLY:
    case VM_PAGE_WRITECOPY:          return VIEW_READ;
    case VM_PAGE_READWRITE:          return VIEW_READ | VIEW_WRITE;
    case VM_PAGE_EXECUTE:
    case VM_PAGE_EXECUTE_READ:       return VIEW_READ | VIEW_EXECUTE;
    case VM_PAGE_EXECUTE_WRITECOPY:  return VIEW_READ | VIEW_WRITECOPY | VIEW_EXECUTE;
    case VM_PAGE_EXECUTE_READWRITE:  return VIEW_READ | VIEW_WRITE | VIEW_WRITECOPY | VIEW_EXECUTE;
    default:                         return 0;
    }
}

/* Whether a view mapped with view_protect may be given protect. */
static bool view_allows(uint32_t view_protect, uint32_t protect)
{
    uint32_t view = view_access(view_protect), want = view_access(protect);
    return view == want || (view && (view & want) == want);
}

ms_status vm_protect_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                            uint32_t protect, uint32_t *old_protect)
{
    /* WRITECOPY only makes sense on mapped memory (a copy-on-write view). */
    if (!vm_protect_take_cfg(&protect) || !vm_protect_is_valid(protect, alloc->type == VM_MEM_MAPPED))
        return MS_ERROR_INVALID_PARAMETER;
    /* A view cannot be given an access it was not mapped with: no write to
     * a FILE_MAP_READ or FILE_MAP_COPY view, no execute without
     * FILE_MAP_EXECUTE (Windows: STATUS_INVALID_PAGE_PROTECTION). */
    if (alloc->type == VM_MEM_MAPPED && !view_allows(alloc->alloc_protect, protect))
        return MS_ERROR_INVALID_PARAMETER;
    /* A cache modifier asked for here is taken and has no effect: every
     * page keeps its allocation's caching (a view's: its section's). */
    protect = vm_protect_cached_as(alloc, protect);
    size_t p0 = arena_page(arena, start), p1 = arena_page(arena, end);
    for (size_t p = p0; p < p1; p++)
        if (page_byte_state(arena->pages[p]) != PAGE_STATE_COMMITTED)
            return MS_ERROR_INVALID_ADDRESS;
    uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, protect);
    uint32_t old = page_byte_protect(arena->pages[p0]);
    if (vm_pages_run(arena->pages, p0, p1) != p1 - p0 || arena->pages[p0] != byte) {
        /* Splitting the host's mappings further must leave the process
         * room for Wine's own (vm_maps.c). */
        long delta = vm_maps_delta(arena, p0, p1, byte);
        if (!vm_maps_take(delta, VM_MAP_MARGIN_PROTECT))
            return MS_ERROR_NOT_ENOUGH_MEMORY;
        if (host_protect(start, end - start, vm_host_prot(alloc, byte)) < 0) {
            /* The host ran out of mappings (vm.max_map_count) or memory,
             * possibly after changing part of the range: put every run
             * back as the map has it. */
            for (size_t p = p0; p < p1;) {
                size_t run = vm_pages_run(arena->pages, p, p1);
                host_protect_undo(arena->base + (p << MS_PAGE_SHIFT), run << MS_PAGE_SHIFT,
                                  vm_host_prot(alloc, arena->pages[p]));
                p += run;
            }
            vm_maps_note(-delta);
            vm_maps_recount_soon();
            return MS_ERROR_NOT_ENOUGH_MEMORY;
        }
        memset(arena->pages + p0, byte, p1 - p0);
        note_repeat(alloc, start, p1 - p0);
        if (alloc->shared_view && page_byte_writecopy(byte))
            atomic_store_explicit(&vm.shared_writecopy, true, memory_order_relaxed);
    }
    if (old_protect)
        *old_protect = old;
    return MS_OK;
}

ms_status vm_protect(uintptr_t addr, size_t size, uint32_t protect, uint32_t *old_protect)
{
    if (!vm_owns(addr))
        return VM_NOT_OWNED;
    if (size == 0)
        return MS_ERROR_INVALID_PARAMETER;
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    if (end <= start)
        return MS_ERROR_INVALID_PARAMETER;
    vm_map_lock();
    ms_status st;
    struct vm_arena *arena = vm_arena_find(start);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, start) : NULL;
    if (!arena)
        st = VM_NOT_OWNED;
    else if (!alloc || end > alloc->base + alloc->size)
        st = MS_ERROR_INVALID_ADDRESS;
    else
        st = vm_protect_locked(arena, alloc, start, end, protect, old_protect);
    vm_map_unlock();
    return st;
}

bool vm_guard_page_hit(uintptr_t addr)
{
    if (!vm.initialised)
        return false;
    uintptr_t page = ms_align_down(addr, MS_PAGE_SIZE);
    bool hit = false;
    vm_map_lock();
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    uint8_t *byte = vm_committed_page_locked(page, &arena, &alloc);
    if (byte) {
        if (*byte & PAGE_BYTE_GUARD) {
            uint8_t cleared = (uint8_t)(*byte & ~PAGE_BYTE_GUARD);
            /* Windows clears the guard before reporting it: the retry succeeds. */
            long delta = vm_maps_delta(arena, arena_page(arena, page), arena_page(arena, page) + 1, cleared);
            if (host_protect(page, MS_PAGE_SIZE, vm_host_prot(alloc, cleared)) == 0) {
                vm_maps_note(delta);
                *byte = cleared;
                hit = true;
            }
        }
    }
    vm_map_unlock();
    return hit;
}
