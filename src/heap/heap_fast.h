/*
 * heap_fast.h - the allocation and free of a small block by the thread that
 * owns its shard of the process heap: the path every malloc and free of a
 * program takes, written out on its own so that it stays short.
 *
 * Each function either does the whole job or declines (NULL / false) having
 * changed nothing, and the general path in heap_alloc.c takes over: it
 * handles every other case, and every error, with the same rules. What the
 * fast path still checks is what keeps a bad pointer from corrupting the
 * heap: the segment map, the span record, the exact block boundary, the
 * free bit and the remote bit (heap_internal.h, heap_bias.c).
 *
 * Thread safety: runs between heap_owner_enter and heap_owner_leave on the
 * calling thread's own shard (host_thread_slot), so no lock is taken.
 */
#ifndef MS_HEAP_FAST_H
#define MS_HEAP_FAST_H

#include "heap_internal.h"

#define HEAP_FAST_MAX 1024u            /* sizes served here; sizes kept in 16 bits */

static inline void *heap_fast_alloc(struct ms_heap *heap, uint32_t flags, size_t size)
{
    struct ms_heap *shard = host_thread_slot_get();
    if (!shard || shard->parent != heap || size - 1 >= HEAP_FAST_MAX || (flags & MS_HEAP_ZERO_MEMORY))
        return NULL;
    unsigned cls = heap_size_class(size);
    if (MS_UNLIKELY(!heap_owner_enter(shard)))
        return NULL;
    struct heap_span *span = shard->bins[cls];
    uint64_t bits;
    if (MS_UNLIKELY(!span || !(bits = heap_bits_get(&span->freebits[span->cursor])))) {
        heap_owner_leave(shard);        /* a new span, or a scan: the general path */
        return NULL;
    }
    uint32_t w = span->cursor;
    heap_bits_put(&span->freebits[w], bits & (bits - 1));
    uint32_t index = w * 64 + (uint32_t)__builtin_ctzll(bits);
    uint32_t bs = span->block_size;
    if (MS_UNLIKELY(--span->nfree == 0))
        heap_small_span_full(shard, span);
    shard->in_use += bs;
    if (bs == 16)
        span->req.slack[index] = (uint8_t)(16u - size);
    else
        span->req.size16[index] = (uint16_t)size;
    uintptr_t block = span->start + (uintptr_t)index * bs;
    heap_canary_set(block, size, bs);
    heap_owner_leave(shard);
    return (void *)block;
}

static inline bool heap_fast_free(struct ms_heap *heap, void *block)
{
    uintptr_t p = (uintptr_t)block, base = p & ~(HEAP_SEG_SIZE - 1);
    struct ms_heap *shard = host_thread_slot_get();
    if (!shard || !heap_segmap_contains(base))
        return false;
    struct heap_segment *seg = (struct heap_segment *)base;
    if (seg->heap != shard || shard->parent != heap || MS_UNLIKELY(!heap_owner_enter(shard)))
        return false;
    uint32_t index;
    struct heap_span *span = heap_small_resolve_in(seg, shard, p, &index);
    if (MS_LIKELY(span))
        heap_small_free_locked(shard, span, index);
    heap_owner_leave(shard);
    return span != NULL;                /* not a live block: the general path refuses it */
}

#endif
