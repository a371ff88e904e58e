/*
 * vm_alloc.c - VirtualAlloc: reserving and committing, with Windows' rules
 * for addresses, sizes, flags and protections.
 */
#include "vm_internal.h"

/* --- allocation records ------------------------------------------------- */

static ms_status table_grow(void)
{
    size_t need = (size_t)(vm.alloc_high + 1) * sizeof(struct vm_allocation);
    if (need <= vm.alloc_committed)
        return MS_OK;
    if (vm.alloc_high + 1 > VM_MAX_ALLOCATIONS)
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    if (host_commit((uintptr_t)vm.allocs + vm.alloc_committed, VM_TABLE_COMMIT_STEP,
                    HOST_PROT_READ | HOST_PROT_WRITE) < 0)
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    vm.alloc_committed += VM_TABLE_COMMIT_STEP;
    return MS_OK;
}

struct vm_allocation *vm_allocation_at(const struct vm_arena *arena, uintptr_t addr)
{
    uint32_t slot = arena->dedicated ? arena->only_alloc : arena->granules[arena_granule(arena, addr)];
    if (!slot)
        return NULL;
    struct vm_allocation *alloc = &vm.allocs[slot - 1];
    /* The tail of the last granule beyond the allocation is free space. */
    if (addr >= alloc->base + alloc->size)
        return NULL;
    return alloc;
}

ms_status vm_allocation_create(struct vm_arena *arena, uintptr_t base, size_t size, uint32_t protect,
                               uint32_t type, struct vm_allocation **out)
{
    /* Pages kept for a heap segment's return must not reach anybody else. */
    vm_keep_claim_locked(arena, base, size);
    uint32_t index;
    if (vm.free_head) {
        index = vm.free_head - 1;
        vm.free_head = vm.allocs[index].next_free;
    } else {
        ms_status st = table_grow();
        if (st)
            return st;
        index = vm.alloc_high++;
    }
    struct vm_allocation *alloc = &vm.allocs[index];
    *alloc = (struct vm_allocation){ .base = base, .size = size, .alloc_protect = protect, .type = type };
    /* Its page bytes are already 0 = RESERVED (see vm_internal.h). */
    if (arena->dedicated) {
        arena->only_alloc = index + 1;
    } else {
        size_t g0 = arena_granule(arena, base), g1 = arena_granule(arena, base + size - 1);
        for (size_t g = g0; g <= g1; g++)
            arena->granules[g] = index + 1;
        if (g0 == arena->free_hint)
            arena->free_hint = g1 + 1;
    }
    vm.reserved_bytes += size;
    *out = alloc;
    return MS_OK;
}

void vm_each_allocation_locked(uintptr_t start, uintptr_t end, vm_allocation_fn fn, void *ctx)
{
    for (uintptr_t page = ms_align_down(start, MS_PAGE_SIZE); page < end;) {
        struct vm_arena *arena = vm_arena_find(page);
        if (!arena) {
            /* Not the core's: on to the next arena, if any is in range. */
            struct vm_arena *next = vm_arena_next(page);
            if (!next)
                break;
            page = next->base;
            continue;
        }
        struct vm_allocation *alloc = vm_allocation_at(arena, page);
        if (!alloc) {
            /* Free up to the next allocation granule. */
            page = ms_align_down(page, MS_GRANULARITY) + MS_GRANULARITY;
            continue;
        }
        fn(arena, alloc, start > alloc->base ? ms_align_down(start, MS_PAGE_SIZE) : alloc->base,
           end < alloc->base + alloc->size ? end : alloc->base + alloc->size, ctx);
        page = alloc->base + alloc->size;
    }
}

uint8_t *vm_committed_page_locked(uintptr_t page, struct vm_arena **arena, struct vm_allocation **alloc)
{
    *arena = vm_arena_find(page);
    *alloc = *arena ? vm_allocation_at(*arena, page) : NULL;
    if (!*alloc)
        return NULL;
    uint8_t *byte = &(*arena)->pages[arena_page(*arena, page)];
    return page_byte_state(*byte) == PAGE_STATE_COMMITTED ? byte : NULL;
}

void vm_allocation_destroy(struct vm_arena *arena, struct vm_allocation *alloc)
{
    /* Its pages were decommitted first: their bytes are 0 again, and a
     * shadow keeper was told so (vm_shadow.c). */
    if (alloc->shadowed)
        host_shadow_end(alloc->base, alloc->size);
    if (arena->dedicated) {
        arena->only_alloc = 0;
    } else {
        size_t g0 = arena_granule(arena, alloc->base), g1 = arena_granule(arena, alloc->base + alloc->size - 1);
        for (size_t g = g0; g <= g1; g++)
            arena->granules[g] = 0;
        if (g0 < arena->free_hint)
            arena->free_hint = g0;
    }
    vm.reserved_bytes -= alloc->size;
    uint32_t index = (uint32_t)(alloc - vm.allocs);
    alloc->base = 0;
    alloc->size = 0;
    alloc->next_free = vm.free_head;
    vm.free_head = index + 1;
}

/* --- commit and decommit ------------------------------------------------ */

/* Commit pages decommitted lazily: make them writable, zero them (a page
 * the host already took back comes in as a fresh zero page), then give
 * them their protection. No new mapping, and no page fault for pages the
 * host still had. */
static int recommit_stale(uintptr_t addr, size_t len, int host_prot)
{
    int r = host_protect(addr, len, HOST_PROT_READ | HOST_PROT_WRITE);
    if (r < 0)
        return r;
    memset((void *)addr, 0, len);
    if (host_prot != (HOST_PROT_READ | HOST_PROT_WRITE) && (r = host_protect(addr, len, host_prot)) < 0)
        host_decommit(addr, len);
    return r;
}

/* Undo what vm_commit_range did to the runs of [p0, p_stop) before a host
 * call failed: the page bytes still hold the state before the call. */
static void commit_rollback(struct vm_arena *arena, size_t p0, size_t p_stop, uint8_t byte)
{
    for (size_t p = p0; p < p_stop;) {
        size_t run = vm_pages_run(arena->pages, p, p_stop);
        uintptr_t addr = arena->base + (p << MS_PAGE_SHIFT);
        uint8_t was = arena->pages[p];
        if (page_byte_state(was) != PAGE_STATE_COMMITTED)
            host_decommit(addr, run << MS_PAGE_SHIFT);
        else if (was != byte && host_protect_undo(addr, run << MS_PAGE_SHIFT, page_host_prot(was)) < 0)
            /* The host keeps the new protection: so must the map. */
            memset(arena->pages + p, byte, run);
        p += run;
    }
}

ms_status vm_commit_range(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                          uint32_t protect)
{
    size_t p0 = arena_page(arena, start), p1 = arena_page(arena, end);
    uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, vm_protect_cached_as(alloc, protect));
    int host_prot = page_host_prot(byte);
    uint64_t fresh = 0;
    for (size_t p = p0; p < p1; p++)
        fresh += page_byte_state(arena->pages[p]) != PAGE_STATE_COMMITTED;
    bool charged = alloc->type == VM_MEM_PRIVATE;
    if (fresh && charged && !vm_charge_commit(fresh))
        return MS_ERROR_COMMITMENT_LIMIT;
    /* New mappings must leave the process room for Wine's own (vm_maps.c). */
    long maps = vm_maps_delta(arena, p0, p1, byte);
    if (!vm_maps_take(maps, VM_MAP_MARGIN_COMMIT)) {
        if (fresh && charged)
            vm_uncharge_commit(fresh);
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    /* Reserved runs get fresh zero pages; committed runs keep their contents
     * and only change protection. The page bytes change only once every host
     * call succeeded: a commit is all or nothing, as on Windows. */
    for (size_t p = p0; p < p1;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        uintptr_t addr = arena->base + (p << MS_PAGE_SHIFT);
        size_t len = run << MS_PAGE_SHIFT;
        uint8_t was = arena->pages[p];
        int r;
        if (page_byte_state(was) == PAGE_STATE_COMMITTED)
            r = was == byte ? 0 : host_protect(addr, len, host_prot);
        else if (was == PAGE_STATE_STALE && !alloc->write_watch)
            r = recommit_stale(addr, len, host_prot);
        else
            r = host_commit(addr, len, host_prot);
        /* Fresh pages of a write-watch allocation start unwritten; the new
         * mapping must be registered with the host's tracking again. */
        if (r == 0 && alloc->write_watch && page_byte_state(arena->pages[p]) != PAGE_STATE_COMMITTED &&
            host_write_watch_track(addr, len) < 0) {
            host_decommit(addr, len);
            r = -1;
        }
        if (r < 0) {
            commit_rollback(arena, p0, p, byte);
            vm_maps_note(-maps);
            vm_maps_recount_soon();
            if (charged)
                vm_uncharge_commit(fresh);
            return MS_ERROR_NOT_ENOUGH_MEMORY;
        }
        p += run;
    }
    memset(arena->pages + p0, byte, p1 - p0);
    alloc->committed_pages += fresh;
    vm_commit_span_add(alloc, start, end);
    return MS_OK;
}

void vm_decommit_range(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                       bool at_once)
{
    vm_isolation_end(alloc, start, end);
    if (!alloc->committed_pages)
        return;                     /* nothing to scan: a pure reservation */
    if (start < alloc->commit_lo)
        start = alloc->commit_lo;
    if (end > alloc->commit_hi)
        end = alloc->commit_hi;
    if (start >= end)
        return;
    size_t p0 = arena_page(arena, start), p1 = arena_page(arena, end);
    uint64_t dropped = 0;
    for (size_t p = p0; p < p1;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        uint8_t state = PAGE_STATE_RESERVED;
        if (page_byte_state(arena->pages[p]) == PAGE_STATE_COMMITTED) {
            uintptr_t addr = arena->base + (p << MS_PAGE_SHIFT);
            size_t len = run << MS_PAGE_SHIFT;
            if (alloc->write_watch)
                vm_write_watch_keep(arena, alloc, p, p + run);
            /* Small private runs keep their pages for a cheap recommit (the
             * host frees them when it needs the memory). Replacing pages
             * with reserved ones cannot fail for lack of memory; if the host
             * still refuses, the pages stay mapped but are accounted free,
             * which loses nothing. */
            if (!at_once && alloc->type == VM_MEM_PRIVATE && run <= VM_LAZY_DECOMMIT_PAGES)
                state = host_decommit_lazy(addr, len) == 0 ? PAGE_STATE_STALE : PAGE_STATE_RESERVED;
            else
                host_decommit(addr, len);
            vm_lock_bits_clear(arena, alloc, p, p + run);
            vm_reset_bits_clear(arena, alloc, p, p + run);
            vm_maps_note(vm_maps_delta(arena, p, p + run, state));
            dropped += run;
            memset(arena->pages + p, state, run);
        }
        /* (Reserved and stale runs stay as they are, and are not written:
         * a write of the same bytes would still give every untouched page
         * of the page map a host page, 1 GiB of them for a 4 TiB
         * reservation released.) */
        p += run;
    }
    alloc->committed_pages -= dropped;
    if (!alloc->committed_pages)
        alloc->commit_lo = alloc->commit_hi = 0;
    if (alloc->type == VM_MEM_PRIVATE)
        vm_uncharge_commit(dropped);
}

/* --- VirtualAlloc -------------------------------------------------------- */

#define TYPE_KNOWN (VM_MEM_COMMIT | VM_MEM_RESERVE | VM_MEM_RESET | VM_MEM_RESET_UNDO | VM_MEM_TOP_DOWN | \
                    VM_MEM_WRITE_WATCH | VM_MEM_PHYSICAL | VM_MEM_LARGE_PAGES)

/* Reserve [base, base+size) (base 0: anywhere) as a new allocation. */
ms_status vm_reserve_locked(uintptr_t base, size_t size, size_t align, bool top_down, uint32_t protect,
                                uint32_t type, struct vm_arena **arena_out, struct vm_allocation **alloc_out)
{
    struct vm_arena *arena = NULL;
    if (base) {
        arena = vm_arena_find(base);
        if (arena) {
            if (base + size > arena->end || !vm_arena_range_free(arena, base, size))
                return MS_ERROR_INVALID_ADDRESS;
        } else {
            /* Outside our arenas: the range must be free in the whole process,
             * which only the host knows. Take exactly that range. */
            if (vm_arena_find(base + size - 1))
                return MS_ERROR_INVALID_ADDRESS;
            ms_status st = vm_arena_create(base, ms_align_up(size, MS_GRANULARITY), false, true, &arena);
            if (st)
                return st;
        }
    } else if (vm_arena_find_free(size, align, top_down, &arena, &base)) {
        /* Elsewhere, if there is room, than over a destroyed heap's kept pages. */
        vm_keep_avoid_locked(size, align, top_down, &arena, &base);
    } else {
        /* Room an aligned request may need in a fresh 64 KiB-aligned arena. */
        size_t padded = ms_align_up(size, MS_GRANULARITY) + (align > MS_GRANULARITY ? align - MS_GRANULARITY : 0);
        ms_status st = MS_ERROR_NOT_ENOUGH_MEMORY;
        if (padded <= VM_ARENA_LARGE)
            st = vm_arena_create_normal(padded, top_down, &arena);
        if (st)
            /* Large, or no room for a normal arena (a 2 GiB limit, a
             * fragmented address space): an arena of just this allocation's
             * size (and alignment) may still fit. */
            st = vm_arena_create(0, ms_align_up(size, MS_GRANULARITY) + (align > MS_GRANULARITY ? align : 0),
                                 top_down, true, &arena);
        if (st)
            return st;
        base = top_down ? ms_align_down(arena->end - ms_align_up(size, MS_GRANULARITY), align)
                        : ms_align_up(arena->base, align);
    }
    ms_status st = vm_allocation_create(arena, base, size, protect, type, alloc_out);
    if (st && arena->dedicated)
        vm_arena_destroy(arena);
    *arena_out = arena;
    return st;
}

void vm_release_locked(struct vm_arena *arena, struct vm_allocation *alloc)
{
    /* Nothing asks a released allocation about its writes: the decommit
     * below need not keep them (vm_write_watch_keep). */
    alloc->write_watch = 0;
    vm_decommit_range(arena, alloc, alloc->base, alloc->base + alloc->size, false);
    if (alloc->kept_written)
        vm_write_watch_forget(arena, alloc, arena_page(arena, alloc->base),
                              arena_page(arena, alloc->base + alloc->size));
    vm_allocation_destroy(arena, alloc);
    if (arena->dedicated)
        vm_arena_destroy(arena);
}

static ms_status check_request(uintptr_t addr, size_t size, uint32_t type, uint32_t *protect)
{
    if (size == 0)
        return MS_ERROR_INVALID_PARAMETER;
    if (type & ~TYPE_KNOWN)
        return MS_ERROR_INVALID_PARAMETER;
    if (type & (VM_MEM_RESET | VM_MEM_RESET_UNDO)) {
        uint32_t which = type & (VM_MEM_RESET | VM_MEM_RESET_UNDO);
        if (type != which || which == (VM_MEM_RESET | VM_MEM_RESET_UNDO))
            return MS_ERROR_INVALID_PARAMETER;
        return addr ? MS_OK : MS_ERROR_INVALID_ADDRESS;
    }
    if (!(type & (VM_MEM_COMMIT | VM_MEM_RESERVE)))
        return MS_ERROR_INVALID_PARAMETER;
    if (type & VM_MEM_LARGE_PAGES)
        /* Needs SeLockMemoryPrivilege, which no Wine process holds. */
        return MS_ERROR_PRIVILEGE_NOT_HELD;
    if (type & VM_MEM_PHYSICAL)
        /* AWE memory (AllocateUserPhysicalPages) is not provided. */
        return MS_ERROR_INVALID_PARAMETER;
    if ((type & VM_MEM_WRITE_WATCH) && !(type & VM_MEM_RESERVE))
        return MS_ERROR_INVALID_PARAMETER;
    if ((type & VM_MEM_WRITE_WATCH) && !host_write_watch_available())
        return MS_ERROR_NOT_SUPPORTED;
    /* A commit inside an existing allocation may ask for copy-on-write: a
     * view's pages take it (vm_allocate refuses it for private memory). */
    bool commit_only = (type & (VM_MEM_COMMIT | VM_MEM_RESERVE)) == VM_MEM_COMMIT && addr;
    if (!vm_protect_take_cfg(protect) || !vm_protect_is_valid(*protect, commit_only))
        return MS_ERROR_INVALID_PARAMETER;
    if (addr > MS_USER_SPACE_LIMIT || size > MS_USER_SPACE_LIMIT || addr + size > MS_USER_SPACE_LIMIT + 1)
        return addr ? MS_ERROR_INVALID_PARAMETER : MS_ERROR_NOT_ENOUGH_MEMORY;
    if (addr && addr < MS_USER_SPACE_MIN)
        return MS_ERROR_INVALID_PARAMETER;
    return MS_OK;
}

ms_status vm_allocate(uintptr_t *addr_inout, size_t size, uint32_t type, uint32_t protect)
{
    uintptr_t addr = *addr_inout;
    ms_status st = check_request(addr, size, type, &protect);
    if (st)
        return st;
    vm_init(0);
    vm_map_lock();
    if (type & (VM_MEM_RESET | VM_MEM_RESET_UNDO)) {
        st = vm_reset_locked(addr, size, type & VM_MEM_RESET_UNDO);
        vm_map_unlock();
        if (!st)
            *addr_inout = ms_align_down(addr, MS_PAGE_SIZE);
        return st;
    }
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    /* MEM_COMMIT alone at no address reserves too, as on Windows. */
    if ((type & VM_MEM_RESERVE) || !addr) {
        uintptr_t base = addr ? ms_align_down(addr, MS_GRANULARITY) : 0;
        uintptr_t end = ms_align_up(addr + size, MS_PAGE_SIZE);
        size_t len = addr ? end - base : ms_align_up(size, MS_PAGE_SIZE);
        if (len < size && !addr) {
            st = MS_ERROR_NOT_ENOUGH_MEMORY;
            goto out;
        }
        st = vm_reserve_locked(base, len, MS_GRANULARITY, type & VM_MEM_TOP_DOWN, protect, VM_MEM_PRIVATE, &arena,
                            &alloc);
        if (st)
            goto out;
        alloc->write_watch = (type & VM_MEM_WRITE_WATCH) != 0;
        if (type & VM_MEM_COMMIT) {
            st = vm_commit_range(arena, alloc, alloc->base, alloc->base + alloc->size, protect);
            if (st) {
                vm_release_locked(arena, alloc);
                goto out;
            }
        }
        *addr_inout = alloc->base;
        goto out;
    }
    /* MEM_COMMIT inside an existing reservation. */
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    arena = vm_arena_find(start);
    if (!arena) {
        st = VM_NOT_OWNED;
        goto out;
    }
    alloc = vm_allocation_at(arena, start);
    if (!alloc || end > alloc->base + alloc->size ||
        (alloc->usage != VM_USAGE_USER && alloc->usage != VM_USAGE_VIEW)) {
        st = MS_ERROR_INVALID_ADDRESS;
        goto out;
    }
    /* A view's pages are its section's, committed while it is mapped (the
     * core maps SEC_COMMIT sections only): committing them again gives them
     * the protection asked for, within what the view allows, as on Windows,
     * copy-on-write included (the page is copied at its first write). */
    if (alloc->usage == VM_USAGE_VIEW)
        st = vm_protect_locked(arena, alloc, start, end, protect, NULL);
    else if (!vm_protect_is_valid(protect, false))
        st = MS_ERROR_INVALID_PARAMETER;    /* copy-on-write: views only */
    else
        st = vm_commit_range(arena, alloc, start, end, protect);
    if (!st)
        *addr_inout = start;
out:
    vm_map_unlock();
    return st;
}

ms_status vm_internal_request_check(size_t *reserve, size_t *commit, size_t *align, uint32_t protect)
{
    if (*reserve == 0 || *reserve > MS_USER_SPACE_LIMIT || *commit > *reserve || !vm_protect_is_valid(protect, false))
        return MS_ERROR_INVALID_PARAMETER;
    if (*align < MS_GRANULARITY)
        *align = MS_GRANULARITY;
    vm_init(0);
    *reserve = ms_align_up(*reserve, MS_PAGE_SIZE);
    *commit = ms_align_up(*commit, MS_PAGE_SIZE);
    return MS_OK;
}

ms_status vm_reserve_internal(uintptr_t *addr, size_t reserve, size_t commit, size_t align, uint32_t protect,
                              enum vm_usage usage, void *owner)
{
    if (vm_internal_request_check(&reserve, &commit, &align, protect))
        return MS_ERROR_INVALID_PARAMETER;
    vm_map_lock();
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    ms_status st = vm_reserve_locked(0, reserve, align, false, protect, VM_MEM_PRIVATE, &arena, &alloc);
    if (!st) {
        alloc->usage = (uint8_t)usage;
        alloc->owner = owner;
        st = commit ? vm_commit_range(arena, alloc, alloc->base, alloc->base + commit, protect) : MS_OK;
        if (st)
            vm_release_locked(arena, alloc);
        else
            *addr = alloc->base;
    }
    vm_map_unlock();
    return st;
}

ms_status vm_allocate_internal(uintptr_t *addr, size_t size, size_t align, uint32_t protect, enum vm_usage usage,
                               void *owner)
{
    return vm_reserve_internal(addr, size, size, align, protect, usage, owner);
}

struct vm_allocation *vm_internal_range_locked(uintptr_t base, size_t size, struct vm_arena **arena_out)
{
    struct vm_arena *arena = vm_arena_find(base);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, base) : NULL;
    if (!alloc || alloc->usage == VM_USAGE_USER || alloc->type != VM_MEM_PRIVATE || base + size <= base ||
        base + size > alloc->base + alloc->size)
        return NULL;
    *arena_out = arena;
    return alloc;
}

ms_status vm_commit_internal(uintptr_t base, size_t size)
{
    if (!ms_is_aligned(base, MS_PAGE_SIZE) || !ms_is_aligned(size, MS_PAGE_SIZE) || size == 0)
        return MS_ERROR_INVALID_PARAMETER;
    vm_map_lock();
    ms_status st = MS_ERROR_INVALID_ADDRESS;
    struct vm_arena *arena;
    struct vm_allocation *alloc = vm_internal_range_locked(base, size, &arena);
    if (alloc)
        st = vm_commit_range(arena, alloc, base, base + size, alloc->alloc_protect);
    vm_map_unlock();
    return st;
}
