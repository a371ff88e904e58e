/*
 * vm_keep.c - kept ranges: the host pages of a released heap segment, held
 * back (bounded) for the next segment reservation of the same shape.
 *
 * Why: a private heap's create/allocate/destroy cycle on fresh memory pays
 * a page fault for every page it touches (~60, ~2 us each under Wine) and
 * a host mmap per commit, where an allocator that keeps its memory
 * resident pays none. Windows semantics forbid keeping the region itself:
 * after HeapDestroy its memory is MEM_FREE and touching it faults. So the
 * region does leave the map - VirtualQuery says MEM_FREE, placement may
 * give the address to anybody - and only its committed prefix's pages stay
 * on the host, PROT_NONE (a touch still faults), their page bytes STALE
 * (reserved, old contents held: exactly what vm_internal.h means by it).
 * vm_reserve_warm then re-enters such a range at the same address and
 * makes the prefix accessible with one mprotect: no mmap, no page fault.
 *
 * Invariants (checked by vm_keep_check_locked, part of vm_check_invariants):
 *  - at most VM_KEEP_ENTRIES entries, pairwise disjoint, each inside one
 *    normal (not dedicated) arena, on a granule boundary;
 *  - every granule of an entry's range is free (the range is in no
 *    allocation): whatever allocation, view or reservation claims any of it
 *    first drops the entry (vm_keep_claim_locked, from
 *    vm_allocation_create), which replaces the pages with fresh reserved
 *    ones; so memory handed to anyone but a warm reservation is fresh zero
 *    memory, as Windows requires;
 *  - the kept prefix's page bytes are STALE, the host pages PROT_NONE.
 * Placement of new allocations goes around kept ranges while their arenas
 * have other room (vm_keep_avoid_locked), so that an unrelated allocation
 * does not cost the next heap its pages.
 * Bounds: an entry's range is at most VM_KEEP_MAX_BYTES (one heap segment),
 * so the core holds at most VM_KEEP_ENTRIES * VM_KEEP_MAX_BYTES = 8 MiB of
 * resident memory that no allocation accounts for (not charged as commit:
 * it is no commitment to anybody, and a warm reservation charges it again).
 * The oldest entry makes room for a new one.
 *
 * Contents: a warm reservation gets the bytes its predecessor left. Only
 * callers that accept that (heap segments, which re-initialise what they
 * read) use vm_reserve_warm and vm_release_keep, and a range only comes
 * back to a reservation of the same size, protection and usage.
 *
 * Thread safety: everything here runs under vm.lock.
 */
#include "vm_internal.h"

#define VM_KEEP_ENTRIES   2
#define VM_KEEP_MAX_BYTES ((size_t)4 << 20)

struct vm_kept {
    struct vm_arena *arena;     /* NULL: entry unused */
    uintptr_t base;
    size_t size;                /* the released region's size */
    size_t kept;                /* bytes from base whose pages are kept (STALE) */
    uint32_t protect;           /* the region's allocation protection */
    uint8_t usage;
    uint64_t age;               /* larger: kept later */
};

static struct vm_kept kept_ranges[VM_KEEP_ENTRIES];
static uint64_t kept_clock;

/* Give an entry's pages back to the host and forget it. */
static void keep_drop(struct vm_kept *k)
{
    struct vm_arena *arena = k->arena;
    size_t p0 = arena_page(arena, k->base), p1 = p0 + (k->kept >> MS_PAGE_SHIFT);
    long maps = vm_maps_delta(arena, p0, p1, PAGE_STATE_RESERVED);
    /* If the host refuses, the pages stay STALE in free space: whoever
     * commits them later zeroes them first (vm_commit_range), so nothing
     * stale can leak; only their memory stays in use. */
    if (host_decommit(k->base, k->kept) == 0) {
        vm_maps_note(maps);
        memset(arena->pages + p0, PAGE_STATE_RESERVED, p1 - p0);
    }
    k->arena = NULL;
}

void vm_keep_claim_locked(const struct vm_arena *arena, uintptr_t base, size_t size)
{
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++) {
        struct vm_kept *k = &kept_ranges[i];
        if (k->arena == arena && base < k->base + k->size && k->base < base + size)
            keep_drop(k);
    }
}

/* Granule slot of a kept range while placement looks elsewhere: taken,
 * for arena_search, which only asks whether a slot is 0. Never left in
 * the map (vm_keep_avoid_locked restores 0 before it returns). */
#define KEEP_GRANULE_BUSY UINT32_MAX

static void keep_mark(const struct vm_kept *k, uint32_t value)
{
    size_t g0 = arena_granule(k->arena, k->base), g1 = arena_granule(k->arena, k->base + k->size - 1);
    for (size_t g = g0; g <= g1; g++)
        k->arena->granules[g] = value;
}

void vm_keep_avoid_locked(size_t size, size_t align, bool top_down, struct vm_arena **arena, uintptr_t *base)
{
    bool overlaps = false;
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++) {
        const struct vm_kept *k = &kept_ranges[i];
        overlaps |= k->arena == *arena && *base < k->base + k->size && k->base < *base + size;
    }
    if (!overlaps)
        return;
    /* Placement is lowest (or highest) first, as on Windows; taking the
     * next fit instead costs the program nothing, and keeps the pages for
     * the next heap. With no other room, the kept range goes. */
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++)
        if (kept_ranges[i].arena)
            keep_mark(&kept_ranges[i], KEEP_GRANULE_BUSY);
    struct vm_arena *other;
    uintptr_t at;
    bool found = vm_arena_find_free(size, align, top_down, &other, &at);
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++)
        if (kept_ranges[i].arena)
            keep_mark(&kept_ranges[i], 0);
    if (found) {
        *arena = other;
        *base = at;
    }
}

/* Keep the committed prefix of a region being released; false: nothing
 * kept and nothing changed (the caller releases it normally). */
bool vm_keep_region_locked(struct vm_arena *arena, struct vm_allocation *alloc)
{
    if (arena->dedicated || alloc->size > VM_KEEP_MAX_BYTES || alloc->type != VM_MEM_PRIVATE ||
        alloc->write_watch || alloc->locked_pages || alloc->reset_pages || alloc->isolated_pages)
        return false;
    /* The prefix committed with the region's own protection (no guard
     * pages, nothing VirtualProtect changed): one mprotect brings it back. */
    uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, alloc->alloc_protect);
    size_t p0 = arena_page(arena, alloc->base), npages = alloc->size >> MS_PAGE_SHIFT, n = 0;
    while (n < npages && arena->pages[p0 + n] == byte)
        n++;
    if (!n)
        return false;
    struct vm_kept *slot = &kept_ranges[0];
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++) {
        struct vm_kept *k = &kept_ranges[i];
        if (!k->arena) {
            slot = k;
            break;
        }
        if (k->age < slot->age)
            slot = k;
    }
    long maps = vm_maps_delta(arena, p0, p0 + n, PAGE_STATE_STALE);
    if (host_protect(alloc->base, n << MS_PAGE_SHIFT, HOST_PROT_NONE) < 0)
        return false;
    if (slot->arena)
        keep_drop(slot);            /* the oldest makes room */
    vm_maps_note(maps);
    memset(arena->pages + p0, PAGE_STATE_STALE, n);
    alloc->committed_pages -= n;
    vm_uncharge_commit(n);
    *slot = (struct vm_kept){ .arena = arena, .base = alloc->base, .size = alloc->size,
                              .kept = n << MS_PAGE_SHIFT, .protect = alloc->alloc_protect,
                              .usage = alloc->usage, .age = ++kept_clock };
    /* The rest of the region (uncommitted, or committed beyond the prefix)
     * goes as in any release; the prefix's STALE bytes are left alone. */
    vm_release_locked(arena, alloc);
    return true;
}

/* Make a taken entry's prefix the committed start of its new allocation:
 * charge it, then one mprotect. False: the pages were dropped instead and
 * the allocation is a plain reservation. */
static bool keep_revive_locked(struct vm_arena *arena, struct vm_allocation *alloc, struct vm_kept *k)
{
    size_t p0 = arena_page(arena, alloc->base), n = k->kept >> MS_PAGE_SHIFT;
    uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, alloc->alloc_protect);
    if (vm_charge_commit(n)) {
        long maps = vm_maps_delta(arena, p0, p0 + n, byte);
        if (vm_maps_take(maps, VM_MAP_MARGIN_COMMIT)) {
            if (host_protect(alloc->base, k->kept, page_host_prot(byte)) == 0) {
                memset(arena->pages + p0, byte, n);
                alloc->committed_pages += n;
                vm_commit_span_add(alloc, alloc->base, alloc->base + k->kept);
                return true;
            }
            vm_maps_note(-maps);
            vm_maps_recount_soon();
        }
        vm_uncharge_commit(n);
    }
    keep_drop(k);
    return false;
}

/* The newest entry a reservation of this shape may take, or NULL. */
static struct vm_kept *keep_find_locked(size_t size, size_t align, uint32_t protect, enum vm_usage usage)
{
    struct vm_kept *best = NULL;
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++) {
        struct vm_kept *k = &kept_ranges[i];
        if (k->arena && k->size == size && ms_is_aligned(k->base, align) && k->protect == protect &&
            k->usage == usage && (!best || k->age > best->age))
            best = k;
    }
    return best;
}

ms_status vm_reserve_warm(uintptr_t *addr, size_t reserve, size_t commit, size_t align, uint32_t protect,
                          enum vm_usage usage, void *owner, size_t *stale)
{
    *stale = 0;
    if (usage == VM_USAGE_USER || vm_internal_request_check(&reserve, &commit, &align, protect))
        return MS_ERROR_INVALID_PARAMETER;
    vm_map_lock();
    struct vm_kept *k = keep_find_locked(reserve, align, protect, usage);
    if (k) {
        struct vm_kept taken = *k;
        k->arena = NULL;            /* taken: the claim below must not drop it */
        struct vm_allocation *alloc;
        ms_status st = vm_allocation_create(taken.arena, taken.base, reserve, protect, VM_MEM_PRIVATE, &alloc);
        if (st) {
            keep_drop(&taken);
        } else {
            alloc->usage = (uint8_t)usage;
            alloc->owner = owner;
            size_t have = keep_revive_locked(taken.arena, alloc, &taken) ? taken.kept : 0;
            st = commit > have ? vm_commit_range(taken.arena, alloc, alloc->base + have, alloc->base + commit, protect)
                               : MS_OK;
            if (!st) {
                *stale = have;
                *addr = alloc->base;
                vm_map_unlock();
                return MS_OK;
            }
            vm_release_locked(taken.arena, alloc);
        }
    }
    vm_map_unlock();
    return vm_reserve_internal(addr, reserve, commit, align, protect, usage, owner);
}

void vm_keep_drop_all(void)
{
    if (!__atomic_load_n(&vm.initialised, __ATOMIC_ACQUIRE))
        return;
    vm_map_lock();
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++)
        if (kept_ranges[i].arena)
            keep_drop(&kept_ranges[i]);
    vm_map_unlock();
}

uint64_t vm_keep_bytes_locked(void)
{
    uint64_t bytes = 0;
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++)
        if (kept_ranges[i].arena)
            bytes += kept_ranges[i].kept;
    return bytes;
}

const char *vm_keep_check_locked(void)
{
    for (unsigned i = 0; i < VM_KEEP_ENTRIES; i++) {
        const struct vm_kept *k = &kept_ranges[i];
        if (!k->arena)
            continue;
        const struct vm_arena *a = k->arena;
        bool known = false;
        for (size_t j = 0; j < vm.narenas; j++)
            known |= vm.arenas[j] == a;
        if (!known || a->dedicated)
            return "kept range in no normal arena";
        if (!ms_is_aligned(k->base, MS_GRANULARITY) || k->base < a->base || k->size > a->end - k->base ||
            !k->size || k->size > VM_KEEP_MAX_BYTES || !k->kept || k->kept > k->size ||
            !ms_is_aligned(k->kept, MS_PAGE_SIZE))
            return "kept range outside its arena or of a bad size";
        if (!vm_arena_range_free(a, k->base, k->size))
            return "kept range overlaps an allocation";
        for (size_t p = arena_page(a, k->base), e = p + (k->kept >> MS_PAGE_SHIFT); p < e; p++)
            if (a->pages[p] != PAGE_STATE_STALE)
                return "kept page is not STALE";
        for (unsigned j = i + 1; j < VM_KEEP_ENTRIES; j++) {
            const struct vm_kept *o = &kept_ranges[j];
            if (o->arena && o->base < k->base + k->size && k->base < o->base + o->size)
                return "kept ranges overlap";
        }
    }
    return NULL;
}
