/*
 * vm_state.c - the one address-space map, its initialisation, its counters,
 * the commit charge, and the invariant checker used by the tests.
 */
#include "vm_internal.h"

struct vm_state vm = { .lock = MS_MUTEX_INIT };

ms_status vm_init(uintptr_t max_address)
{
    if (__atomic_load_n(&vm.initialised, __ATOMIC_ACQUIRE))
        return MS_OK;
    vm_map_lock();
    ms_status st = MS_OK;
    if (!vm.initialised) {
        uintptr_t table = 0;
        size_t table_size = (size_t)VM_MAX_ALLOCATIONS * sizeof(struct vm_allocation);
        if (host_reserve(&table, table_size, MS_GRANULARITY, false, 0) < 0) {
            st = MS_ERROR_NOT_ENOUGH_MEMORY;
        } else {
            vm.allocs = (struct vm_allocation *)table;
            vm.max_address = max_address ? max_address : MS_USER_SPACE_LIMIT + 1;
            __atomic_store_n(&vm.initialised, true, __ATOMIC_RELEASE);
        }
    }
    vm_map_unlock();
    return st;
}

/* Windows' commit limit is RAM plus page files; the host's equivalent is
 * RAM (or the cgroup limit) plus swap. */
static uint64_t host_commit_limit(void)
{
    struct host_memory_facts facts;
    if (host_memory_facts(&facts) < 0)
        return UINT64_MAX;
    return facts.total_ram + facts.total_swap;
}

/* The limit, read from the host the first time it is needed. */
static uint64_t commit_limit_locked(void)
{
    if (!vm.commit_limit)
        vm.commit_limit = host_commit_limit();
    return vm.commit_limit;
}

bool vm_charge_commit(uint64_t pages)
{
    uint64_t bytes = (vm.committed_pages + pages) << MS_PAGE_SHIFT;
    if (bytes > commit_limit_locked())
        return false;
    vm.committed_pages += pages;
    if (vm.committed_pages > vm.peak_committed_pages)
        vm.peak_committed_pages = vm.committed_pages;
    return true;
}

void vm_uncharge_commit(uint64_t pages)
{
    vm.committed_pages -= pages;
}

void vm_set_commit_limit(uint64_t bytes)
{
    vm_map_lock();
    vm.commit_limit = bytes ? bytes : host_commit_limit();
    vm_map_unlock();
}

uint64_t vm_commit_limit(void)
{
    vm_map_lock();
    uint64_t limit = commit_limit_locked();
    vm_map_unlock();
    return limit;
}

void vm_get_counters(struct vm_counters *c)
{
    vm_map_lock();
    commit_limit_locked();
    c->committed_bytes = vm.committed_pages << MS_PAGE_SHIFT;
    c->peak_committed_bytes = vm.peak_committed_pages << MS_PAGE_SHIFT;
    c->reserved_bytes = vm.reserved_bytes;
    c->arena_bytes = vm.arena_bytes;
    c->commit_limit = vm.commit_limit;
    c->views = vm.views;
    c->view_bytes = vm.view_bytes;
    c->kept_bytes = vm_keep_bytes_locked();
    vm_map_unlock();
}

void vm_get_commit_counters(struct vm_counters *c)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq;
        if (!ms_seq_read_begin(&vm.seq, &seq))
            continue;
        c->committed_bytes = vm.committed_pages << MS_PAGE_SHIFT;
        c->reserved_bytes = vm.reserved_bytes;
        c->commit_limit = vm.commit_limit;
        /* (A limit still unread from the host is read under the lock.) */
        if (ms_seq_read_valid(&vm.seq, seq) && c->commit_limit)
            return;
    }
    vm_get_counters(c);
}

/* Checks one allocation's pages: committed ones counted, none past its end. */
static const char *check_allocation(const struct vm_arena *a, const struct vm_allocation *al, uint64_t *committed)
{
    size_t p0 = arena_page(a, al->base), p1 = arena_page(a, al->base + al->size), n = 0, kept = 0;
    for (size_t p = p0; p < p1; p++) {
        uint32_t state = page_byte_state(a->pages[p]);
        kept += vm_page_bit(a->written, p);
        if (state != PAGE_STATE_COMMITTED && a->pages[p] > PAGE_STATE_STALE)
            return "page byte of a reserved page is neither RESERVED nor STALE";
        n += state == PAGE_STATE_COMMITTED;
        uintptr_t page = a->base + (p << MS_PAGE_SHIFT);
        if (state == PAGE_STATE_COMMITTED && (page < al->commit_lo || page >= al->commit_hi))
            return "a committed page lies outside the allocation's commit span";
    }
    if (n != al->committed_pages)
        return "committed_pages differs from the page bytes";
    if (kept != al->kept_written || (kept && !al->write_watch))
        return "kept-write bits differ from kept_written, or lie outside a write-watch allocation";
    if (al->type == VM_MEM_PRIVATE)
        *committed += n;
    /* The rest of its last granule is free space: bytes 0. */
    size_t tail = arena_page(a, ms_align_up(al->base + al->size, MS_GRANULARITY));
    for (size_t p = p1; p < tail && p < a->npages; p++)
        if (a->pages[p] > PAGE_STATE_STALE)
            return "page past an allocation's end is not free";
    return NULL;
}

const char *vm_check_invariants(void)
{
    const char *err = NULL;
    vm_map_lock();
    uint64_t committed = 0, reserved = 0;
    for (size_t i = 0; i < vm.narenas && !err; i++) {
        struct vm_arena *a = vm.arenas[i];
        if (!ms_is_aligned(a->base, MS_GRANULARITY) || a->end <= a->base)
            err = "arena misaligned or empty";
        else if (i && vm.arenas[i - 1]->end > a->base)
            err = "arenas overlap or are unsorted";
        if (a->dedicated) {
            if (!a->only_alloc || a->only_alloc > vm.alloc_high) {
                err = "dedicated arena without a valid allocation";
                break;
            }
            struct vm_allocation *al = &vm.allocs[a->only_alloc - 1];
            if (al->base < a->base || al->base + al->size > a->end || al->size == 0)
                err = "dedicated arena's allocation lies outside it";
            else {
                reserved += al->size;
                err = check_allocation(a, al, &committed);
            }
            continue;
        }
        for (size_t g = 0; g < a->ngranules && !err; g++) {
            uint32_t slot = a->granules[g];
            uintptr_t gaddr = a->base + (g << MS_GRANULE_SHIFT);
            if (!slot) {
                for (size_t p = g * 16; p < g * 16 + 16; p++)
                    if (a->pages[p] > PAGE_STATE_STALE)
                        err = "page of a free granule is not free";
                continue;
            }
            if (slot > vm.alloc_high) {
                err = "granule names a record beyond the table";
                break;
            }
            struct vm_allocation *al = &vm.allocs[slot - 1];
            if (al->size == 0 || gaddr < ms_align_down(al->base, MS_GRANULARITY) || gaddr >= al->base + al->size)
                err = "granule names an allocation that does not cover it";
            else if (gaddr == al->base) {
                reserved += al->size;
                err = check_allocation(a, al, &committed);
            }
        }
    }
    if (!err && committed != vm.committed_pages)
        err = "commit charge differs from the committed private pages";
    if (!err && reserved != vm.reserved_bytes)
        err = "reserved bytes differ from the allocations";
    if (!err)
        err = vm_keep_check_locked();
    vm_map_unlock();
    return err;
}
