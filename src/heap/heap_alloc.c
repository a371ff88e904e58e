/*
 * heap_alloc.c - HeapAlloc, HeapFree and HeapReAlloc: Windows' rules on top
 * of the small (heap_small.c) and large (heap_large.c) engines.
 *
 * Rules kept here:
 *  - size 0 is a real, unique 16-byte block; every block is 16-byte aligned;
 *  - HEAP_ZERO_MEMORY zeroes what was asked for; on realloc only the growth
 *    (large blocks are fresh vm pages, already zero);
 *  - HeapFree(NULL) succeeds; any other pointer that is not a live block of
 *    this heap is refused with ERROR_INVALID_PARAMETER and changes nothing;
 *  - HEAP_REALLOC_IN_PLACE_ONLY never moves a block and fails with
 *    ERROR_NOT_ENOUGH_MEMORY when it cannot grow where it is;
 *  - a failed realloc leaves the old block valid.
 * Realloc keeps a block in place while the new size fits its class or
 * region and wastes no more than half of it; otherwise it moves.
 */
#include "heap_internal.h"
#include "heap_debug.h"

static void *alloc_locked(struct ms_heap *heap, size_t size, size_t headroom, ms_status *err)
{
    if (size <= HEAP_SMALL_MAX)
        return heap_small_alloc_locked(heap, size, err);
    return heap_large_alloc_locked(heap, size, headroom, err);
}

void *heap_alloc(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_alloc(heap, flags, size, err);
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (MS_UNLIKELY(size > HEAP_MAX_REQUEST)) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (heap->sharded)
        heap = heap_shard_for_thread(heap);
    bool locked = heap_lock(heap, flags);
    void *p = alloc_locked(heap, size, 0, err);
    heap_unlock(heap, locked);
    /* Large blocks are fresh pages from the vm core: zero already. */
    if (p && (flags & MS_HEAP_ZERO_MEMORY) && size <= HEAP_SMALL_MAX)
        memset(p, 0, size);
    return p;
}

ms_status heap_free(struct ms_heap *heap, uint32_t flags, void *block)
{
    if (!block)
        return MS_OK;
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_free(heap, flags, block);
    heap = heap_shard_of_block(heap, block);
    ms_status st = MS_OK;
    bool locked = heap_lock(heap, flags);
    uint32_t index;
    struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
    if (MS_LIKELY(span)) {
        heap_small_free_locked(heap, span, index);
    } else {
        struct heap_large *large = heap_large_resolve(heap, (uintptr_t)block);
        if (large)
            heap_large_free_locked(heap, large);
        else
            st = MS_ERROR_INVALID_PARAMETER;
    }
    heap_unlock(heap, locked);
    return st;
}

/* Move a block: allocate, copy what survives, free the old one. */
static void *move_locked(struct ms_heap *heap, void *block, size_t old, size_t size, ms_status *err)
{
    /* Blocks that move while growing into large ones get headroom to grow
     * in place next time. */
    void *p = alloc_locked(heap, size, size > old ? size / 2 : 0, err);
    if (!p)
        return NULL;
    memcpy(p, block, old < size ? old : size);
    uint32_t index;
    struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
    if (span)
        heap_small_free_locked(heap, span, index);
    else
        heap_large_free_locked(heap, heap_large_resolve(heap, (uintptr_t)block));
    return p;
}

void *heap_realloc(struct ms_heap *heap, uint32_t flags, void *block, size_t size, ms_status *err)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_realloc(heap, flags, block, size, err);
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (!block) {
        *err = MS_ERROR_INVALID_PARAMETER;
        return NULL;
    }
    bool in_place = flags & MS_HEAP_REALLOC_IN_PLACE_ONLY;
    heap = heap_shard_of_block(heap, block);
    bool locked = heap_lock(heap, flags);
    void *result = NULL;
    size_t old;
    uint32_t index;
    struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
    struct heap_large *large = span ? NULL : heap_large_resolve(heap, (uintptr_t)block);
    if (!span && !large) {
        *err = MS_ERROR_INVALID_PARAMETER;
        goto out;
    }
    if (size > HEAP_MAX_REQUEST) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        goto out;
    }
    if (span) {
        size_t cap = span->block_size;
        old = heap_small_requested(span, index);
        if (size <= cap && (in_place || size >= cap / 2 || cap <= 128)) {
            heap_small_set_requested(span, index, size);
            heap_canary_set((uintptr_t)block, size, cap);
            result = block;
        } else if (in_place) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        } else {
            result = move_locked(heap, block, old, size, err);
        }
    } else {
        size_t cap = large->committed - HEAP_LARGE_HEADER;
        old = large->requested;
        /* Grow into the block's own reserved room first: no copy. */
        if (size > cap && size <= large->region_size - HEAP_LARGE_HEADER && heap_large_grow_locked(large, size))
            cap = large->committed - HEAP_LARGE_HEADER;
        if (size <= cap && (in_place || size > HEAP_SMALL_MAX / 2)) {
            heap_large_resize_locked(large, size);
            result = block;
        } else if (size > cap && in_place) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        } else {
            result = move_locked(heap, block, old, size, err);
            if (!result && size <= cap) {
                /* Could not move down to a small block: shrink in place. */
                heap_large_resize_locked(large, size);
                result = block;
            }
        }
    }
    if (result && (flags & MS_HEAP_ZERO_MEMORY) && size > old)
        memset((char *)result + old, 0, size - old);
out:
    heap_unlock(heap, locked);
    return result;
}
