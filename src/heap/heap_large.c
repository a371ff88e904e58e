/*
 * heap_large.c - blocks above 256 KiB, each in a vm region of its own.
 *
 * Layout: [header page][user data ... up to the end of the last 64 KiB
 * granule]. The header sits before the data, where an overrun cannot reach
 * it, and the region is committed to the granule's end (the vm core keeps
 * the tail of a granule unusable anyway). Beyond that, a growable heap's
 * block reserves address space (not memory) to grow into: twice its size,
 * at least 4 MiB more; growing commits more of it in place, so a buffer
 * grown step by step is never copied until it outgrows its reservation.
 * A block that must move to grow gets 50% headroom as well.
 *
 * Shrinking a block by a megabyte or more decommits the tail; the block can
 * then regrow in place only up to what is still committed.
 *
 * Pointer check: the data starts exactly 4 KiB past a 64 KiB boundary, so
 * most foreign pointers are refused by arithmetic; the rest are looked up in
 * the vm map (usage HEAP, owner this heap, based right before the pointer).
 */
#include "heap_internal.h"

#define LARGE_SHRINK_DECOMMIT ((size_t)1 << 20)
#define LARGE_GROW_ROOM       ((size_t)4 << 20)

void *heap_large_alloc_locked(struct ms_heap *heap, size_t size, size_t headroom, ms_status *err)
{
    if (size > HEAP_MAX_REQUEST) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    /* A fixed-size heap charges what it commits, page by page, and gets no
     * headroom: it must be able to use its whole maximum. */
    size_t region = heap->maximum ? ms_align_up(HEAP_LARGE_HEADER + size, MS_PAGE_SIZE)
                                  : ms_align_up(HEAP_LARGE_HEADER + size + headroom, MS_GRANULARITY);
    if (heap->maximum && heap->in_use + region > heap->maximum) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    /* Address space to grow into: free to reserve, committed on demand. */
    size_t reserve = region;
    if (!heap->maximum) {
        size_t room = region > LARGE_GROW_ROOM ? region : LARGE_GROW_ROOM;
        reserve = region + room > region ? ms_align_up(region + room, MS_GRANULARITY) : region;
    }
    uintptr_t base = 0;
    ms_status st = vm_reserve_internal(&base, reserve, region, MS_GRANULARITY, heap->prot, VM_USAGE_HEAP, heap);
    if (st != MS_OK && reserve != region) {
        reserve = region;       /* no room for the growth reserve: none, then */
        st = vm_reserve_internal(&base, region, region, MS_GRANULARITY, heap->prot, VM_USAGE_HEAP, heap);
    }
    if (st != MS_OK) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    struct heap_large *large = (struct heap_large *)base;
    large->magic = HEAP_LARGE_MAGIC;
    large->heap = heap;
    large->requested = size;
    large->region_size = reserve;
    large->committed = region;
    large->prev = NULL;
    large->next = heap->large;
    if (heap->large)
        heap->large->prev = large;
    heap->large = large;
    heap->in_use += region;
    heap_canary_set(heap_large_data(large), size, region - HEAP_LARGE_HEADER);
    return (void *)heap_large_data(large);
}

void heap_large_free_locked(struct ms_heap *heap, struct heap_large *large)
{
    if (large->prev)
        large->prev->next = large->next;
    else
        heap->large = large->next;
    if (large->next)
        large->next->prev = large->prev;
    heap->in_use -= large->committed;
    large->magic = 0;
    vm_release_internal((uintptr_t)large);
}

struct heap_large *heap_large_resolve(struct ms_heap *heap, uintptr_t p)
{
    if ((p & (MS_GRANULARITY - 1)) != HEAP_LARGE_HEADER)
        return NULL;
    struct vm_allocation_info info;
    if (!vm_lookup(p, &info) || info.usage != VM_USAGE_HEAP || info.owner != heap ||
        info.base + HEAP_LARGE_HEADER != p)
        return NULL;
    struct heap_large *large = (struct heap_large *)info.base;
    if (large->magic != HEAP_LARGE_MAGIC || large->heap != heap)
        return NULL;
    return large;
}

/* Change the size of a block in place; the caller checked it fits. */
void heap_large_resize_locked(struct heap_large *large, size_t size)
{
    /* Only a shrink gives memory back: growth must keep its headroom. */
    size_t keep = ms_align_up(HEAP_LARGE_HEADER + size, MS_PAGE_SIZE);
    if (size < large->requested && keep < large->committed && large->committed - keep >= LARGE_SHRINK_DECOMMIT &&
        vm_decommit_internal((uintptr_t)large + keep, large->committed - keep, false) == MS_OK) {
        large->heap->in_use -= large->committed - keep;
        large->committed = keep;
    }
    large->requested = size;
    heap_canary_set(heap_large_data(large), size, large->committed - HEAP_LARGE_HEADER);
}

/* Make room for `size` bytes by committing more of the block's reservation
 * (in 64 KiB steps, at least a quarter more at a time); false if it does
 * not fit there or the heap's maximum forbids it. */
bool heap_large_grow_locked(struct heap_large *large, size_t size)
{
    size_t need = ms_align_up(HEAP_LARGE_HEADER + size, MS_GRANULARITY);
    if (need <= large->committed)
        return true;
    if (need > large->region_size)
        return false;
    size_t step = large->committed / 4;
    size_t target = need - large->committed < step ? ms_align_up(large->committed + step, MS_GRANULARITY) : need;
    if (target > large->region_size)
        target = large->region_size;
    struct ms_heap *heap = large->heap;
    if (heap->maximum && heap->in_use + (target - large->committed) > heap->maximum)
        return false;
    if (vm_commit_internal((uintptr_t)large + large->committed, target - large->committed) != MS_OK)
        return false;
    heap->in_use += target - large->committed;
    large->committed = target;
    return true;
}
