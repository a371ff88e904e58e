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
 *
 * Routing in the sharded process heap (heap_bias.c): small blocks come from
 * the calling thread's own shard, large ones from shard 0 (the heap
 * itself, locked); a block goes back to the shard that made it, directly
 * when the caller owns that shard, as a remote free otherwise.
 */
#include "heap_fast.h"
#include "heap_debug.h"

static void *alloc_locked(struct ms_heap *heap, size_t size, size_t headroom, ms_status *err)
{
    if (size <= HEAP_SMALL_MAX)
        return heap_small_alloc_locked(heap, size, err);
    return heap_large_alloc_locked(heap, size, headroom, err);
}

static void *alloc_routed(struct ms_heap *heap, uint32_t flags, size_t size, size_t headroom, ms_status *err);

static MS_NOINLINE void *alloc_general(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err);
static MS_NOINLINE ms_status free_general(struct ms_heap *heap, uint32_t flags, void *block);
static ms_status free_in_owned_shard(struct ms_heap *shard, struct heap_segment *seg, void *block);

/* The fast paths first, the rest out of line so that they stay lean. */
void *heap_alloc(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_alloc(heap, flags, size, err);
    void *fast = heap_fast_alloc(heap, flags, size);
    if (MS_LIKELY(fast))
        return fast;
    return alloc_general(heap, flags, size, err);
}

ms_status heap_free(struct ms_heap *heap, uint32_t flags, void *block)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return block ? heap_debug_free(heap, flags, block) : MS_OK;
    if (MS_LIKELY(heap_fast_free(heap, block)))
        return MS_OK;
    return free_general(heap, flags, block);
}

ms_status heap_free_routed(uint32_t flags, void *block, const struct ms_heap *named, bool *ours)
{
    uintptr_t base = (uintptr_t)block & ~(HEAP_SEG_SIZE - 1);
    *ours = true;
    if (MS_LIKELY(heap_segmap_contains(base))) {
        struct heap_segment *seg = (struct heap_segment *)base;
        struct ms_heap *shard = seg->heap;
        if (shard) {
            struct ms_heap *heap = shard->parent ? shard->parent : shard;
            if (MS_UNLIKELY(heap != named))
                return MS_ERROR_INVALID_PARAMETER;      /* another heap's block */
            if (MS_LIKELY(shard->biasable) && !heap_debug_mode)
                return free_in_owned_shard(shard, seg, block);
            return heap_free_slow(heap, flags, block);
        }
    }
    struct ms_heap *owner = heap_owner_of(block);
    if (!owner) {
        *ours = false;
        return MS_ERROR_INVALID_PARAMETER;
    }
    if (heap_parent(owner) != named)
        return MS_ERROR_INVALID_PARAMETER;
    return heap_free_slow(owner, flags, block);
}

ms_status heap_free_slow(struct ms_heap *heap, uint32_t flags, void *block)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return block ? heap_debug_free(heap, flags, block) : MS_OK;
    return free_general(heap, flags, block);
}

static void *alloc_general(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err)
{
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (MS_UNLIKELY(size > HEAP_MAX_REQUEST)) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    return alloc_routed(heap, flags, size, 0, err);
}

static void *alloc_routed(struct ms_heap *heap, uint32_t flags, size_t size, size_t headroom, ms_status *err)
{
    void *p;
    if (heap->sharded && size <= HEAP_SMALL_MAX) {
        heap = heap_shard_for_thread(heap);
        if (heap->biasable && MS_LIKELY(heap_owner_enter(heap))) {
            p = heap_small_alloc_locked(heap, size, err);
            heap_owner_leave(heap);
            goto done;
        }
    }
    bool locked = heap_lock(heap, flags);
    p = alloc_locked(heap, size, headroom, err);
    heap_unlock(heap, locked);
done:
    /* Large blocks are fresh pages from the vm core: zero already. */
    if (p && (flags & MS_HEAP_ZERO_MEMORY) && size <= HEAP_SMALL_MAX)
        memset(p, 0, size);
    return p;
}

static ms_status free_locked(struct ms_heap *heap, void *block)
{
    uint32_t index;
    struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
    if (MS_LIKELY(span)) {
        heap_small_free_locked(heap, span, index);
        return MS_OK;
    }
    struct heap_large *large = heap_large_resolve(heap, (uintptr_t)block);
    if (!large)
        return MS_ERROR_INVALID_PARAMETER;
    heap_large_free_locked(heap, large);
    return MS_OK;
}

/* A block in `seg`, a segment of `shard`, a thread-owned shard: freed as
 * its owner or HeapLock holder, or remotely by any other thread. */
static ms_status free_in_owned_shard(struct ms_heap *shard, struct heap_segment *seg, void *block)
{
    uintptr_t me = host_thread_key();
    if (atomic_load_explicit(&shard->owner, memory_order_relaxed) != me &&
        atomic_load_explicit(&shard->holder, memory_order_relaxed) != me)
        return heap_remote_free(shard, seg, block);     /* the usual case here: another thread's block */
    enum heap_access access = heap_access_begin(shard);
    ms_status st = MS_OK;
    if (access == HEAP_ACCESS_META) {
        st = heap_remote_free_meta(shard, block);
    } else {
        uint32_t index;
        struct heap_span *span = heap_small_resolve_in(seg, shard, (uintptr_t)block, &index);
        if (span)
            heap_small_free_locked(shard, span, index);
        else
            st = MS_ERROR_INVALID_PARAMETER;
    }
    heap_access_end(shard, access);
    return st;
}

static ms_status free_general(struct ms_heap *heap, uint32_t flags, void *block)
{
    if (!block)
        return MS_OK;
    uintptr_t base = (uintptr_t)block & ~(HEAP_SEG_SIZE - 1);
    if (heap->sharded && MS_LIKELY(heap_segmap_contains(base))) {
        /* The common case, a small block of a thread-owned shard: one
         * segment-map lookup for routing and validation together. */
        struct heap_segment *seg = (struct heap_segment *)base;
        struct ms_heap *shard = seg->heap;
        if (shard && shard->parent == heap && shard->biasable)
            return free_in_owned_shard(shard, seg, block);
    }
    heap = heap_shard_of_block(heap, block);
    ms_status st;
    if (heap->biasable) {
        enum heap_access access = heap_access_begin(heap);
        st = access == HEAP_ACCESS_META ? heap_remote_free_meta(heap, block) : free_locked(heap, block);
        heap_access_end(heap, access);
        return st;
    }
    bool locked = heap_lock(heap, flags);
    st = free_locked(heap, block);
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

/* Realloc of a block in a thread-owned shard: resize in place with the
 * block's span read consistently (as its owner, or under meta_lock), else
 * allocate in the caller's own shard, copy, and free the old block. */
static void *realloc_owned_shard(struct ms_heap *whole, struct ms_heap *shard, uint32_t flags, void *block,
                                 size_t size, ms_status *err)
{
    enum heap_access access = heap_access_begin(shard);
    uint32_t index;
    struct heap_span *span = heap_small_resolve(shard, (uintptr_t)block, &index);
    size_t old = 0, cap = 0;
    bool resized = false;
    ms_status st = MS_OK;
    if (!span) {
        st = MS_ERROR_INVALID_PARAMETER;
    } else if (size > HEAP_MAX_REQUEST) {
        st = MS_ERROR_NOT_ENOUGH_MEMORY;
    } else {
        cap = span->block_size;
        old = heap_small_requested(span, index);
        if (size <= cap && ((flags & MS_HEAP_REALLOC_IN_PLACE_ONLY) || size >= cap / 2 || cap <= 128)) {
            heap_small_set_requested(span, index, size);
            heap_canary_set((uintptr_t)block, size, cap);
            resized = true;
        } else if (flags & MS_HEAP_REALLOC_IN_PLACE_ONLY) {
            st = MS_ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    heap_access_end(shard, access);
    if (st) {
        *err = st;
        return NULL;
    }
    void *result = block;
    if (!resized) {
        /* Growing past a small class: leave room to grow in place next time. */
        result = alloc_routed(whole, flags & ~MS_HEAP_ZERO_MEMORY, size, size > old ? size / 2 : 0, err);
        if (!result)
            return NULL;
        memcpy(result, block, old < size ? old : size);
        heap_free(whole, flags, block);
    }
    if ((flags & MS_HEAP_ZERO_MEMORY) && size > old)
        memset((char *)result + old, 0, size - old);
    return result;
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
    struct ms_heap *whole = heap;
    heap = heap_shard_of_block(heap, block);
    if (heap->biasable)
        return realloc_owned_shard(whole, heap, flags, block, size, err);
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
        size_t cap = heap_small_capacity(span, index);
        old = heap_small_requested(span, index);
        /* A young block keeps its place whenever it fits (a move would
         * only use more of the young span). */
        if (size <= cap && (in_place || size >= cap / 2 || cap <= 128 || span->young)) {
            heap_small_resize_locked(heap, span, index, size);
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
