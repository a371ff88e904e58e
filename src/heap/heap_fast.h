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
 * Why it declines what it declines: a span that fills up or must move
 * between bin and segment is a call into heap_small.c, and a function
 * that makes a call saves registers on every path through it. Keeping
 * those (rare) cases out leaves both functions leaf code, no stack frame:
 * about a third fewer instructions per alloc+free pair than with them in.
 *
 * The win32 layer calls heap_process_fast_alloc/free from HeapAlloc and
 * HeapFree themselves: inline there, a pair saves two calls and their
 * frames (about 1.5 ns of 23 under Wine).
 *
 * Thread safety: runs between heap_owner_enter and heap_owner_leave on the
 * calling thread's own shard (host_thread_slot), so no lock is taken.
 */
#ifndef MS_HEAP_FAST_H
#define MS_HEAP_FAST_H

#include "heap_internal.h"
#include "heap_debug.h"

/* Inlined into each entry point whatever the size heuristics say: an
 * out-of-line copy costs a call and a frame on every free. */
#define HEAP_FAST_INLINE static inline __attribute__((always_inline))

#define HEAP_FAST_MAX 1024u            /* sizes served here; sizes kept in 16 bits */

/* The class of each size up to HEAP_FAST_MAX, indexed by size / 16
 * rounded up (every class up to there is a multiple of 16); heap_small.c. */
extern const uint8_t heap_fast_class[HEAP_FAST_MAX / 16 + 1];

/* `shard` is the calling thread's (host_thread_slot), known to be a shard
 * of the heap the call is for. */
HEAP_FAST_INLINE void *heap_fast_alloc_in(struct ms_heap *shard, uint32_t flags, size_t size)
{
    if (size - 1 >= HEAP_FAST_MAX || (flags & MS_HEAP_ZERO_MEMORY))
        return NULL;
    unsigned cls = heap_fast_class[(size + 15) >> 4];
    if (MS_UNLIKELY(!heap_owner_enter(shard)))
        return NULL;
    struct heap_span *span = shard->bins[cls];
    void *result = NULL;
    if (MS_UNLIKELY(!span))
        goto out;                       /* a new span: the general path */
    uint32_t w = span->cursor, nfree = span->nfree;
    _Atomic uint64_t *word = &span->freebits[w];
    uint64_t bits = heap_bits_get(word);
    if (MS_UNLIKELY(!bits || nfree == 1))
        goto out;                       /* a scan, or the span fills up: the general path */
    heap_bits_put(word, bits & (bits - 1));
    span->nfree = nfree - 1;
    uint32_t index = w * 64 + (uint32_t)__builtin_ctzll(bits);
    uint32_t bs = span->block_size;
    shard->in_use += bs;
    if (bs == 16)
        span->req.slack[index] = (uint8_t)(16u - size);
    else
        span->req.size16[index] = (uint16_t)size;
    uintptr_t block = span->start + (uintptr_t)index * bs;
    heap_canary_set_fresh(block, size, bs);
    result = (void *)block;
out:
    heap_owner_leave(shard);
    return result;
}

HEAP_FAST_INLINE bool heap_fast_free_in(struct ms_heap *shard, void *block)
{
    uintptr_t p = (uintptr_t)block, base = p & ~(HEAP_SEG_SIZE - 1);
    if ((p & 15) || !heap_segmap_contains(base))
        return false;
    struct heap_segment *seg = (struct heap_segment *)base;
    size_t slice = (p - base) >> HEAP_SLICE_SHIFT;
    if (seg->heap != shard || slice < HEAP_META_SLICES || MS_UNLIKELY(!heap_owner_enter(shard)))
        return false;
    bool done = false;
    /* Blocks up to 1 KiB live in single-slice spans (back 0): with the
     * branch, the processor goes on to the span's fields without waiting
     * for `back` to load. */
    struct heap_span *span = &seg->spans[slice - HEAP_META_SLICES];
    if (MS_UNLIKELY(span->back))
        span -= span->back;
    if (!span->used)
        goto out;
    uintptr_t off = p - span->start;
    uint32_t i = (uint32_t)(((uint64_t)(off >> 4) * span->recip) >> 32);
    uint32_t bs = span->block_size;
    if (i >= span->nblocks || (uintptr_t)i * bs != off)
        goto out;                       /* interior pointer or past the last block */
    uint32_t w = i / 64;
    uint64_t bit = (uint64_t)1 << (i % 64);
    _Atomic uint64_t *word = &span->freebits[w];
    uint64_t free = heap_bits_get(word);
    uint64_t gone = free;
    /* The remote bitmap is elsewhere: read only when in use. */
    if (atomic_load_explicit(&span->remote_listed, memory_order_relaxed))
        gone |= heap_bits_get(&span->remote[w]);
    uint32_t nfree = span->nfree + 1;
    /* Already free (or freed by another thread, not yet merged): the
     * general path refuses it. A span leaving the full state, or emptied
     * while its bin has others, changes bins: the general path too. */
    if ((gone & bit) || MS_UNLIKELY(nfree == 1) || (nfree == span->nblocks && (span->next || span->prev)))
        goto out;
    heap_bits_put(word, free | bit);
    span->nfree = nfree;
    if (w < span->cursor)
        span->cursor = (uint16_t)w;
    shard->in_use -= bs;
    done = true;
out:
    heap_owner_leave(shard);
    return done;
}

/* The same for a call on `heap`: the calling thread's shard, if it has
 * one of that heap. */
HEAP_FAST_INLINE void *heap_fast_alloc(struct ms_heap *heap, uint32_t flags, size_t size)
{
    struct ms_heap *shard = host_thread_slot_get();
    if (MS_UNLIKELY(!shard) || MS_UNLIKELY(shard->parent != heap))
        return NULL;
    return heap_fast_alloc_in(shard, flags, size);
}

HEAP_FAST_INLINE bool heap_fast_free(struct ms_heap *heap, void *block)
{
    struct ms_heap *shard = host_thread_slot_get();
    if (MS_UNLIKELY(!shard) || MS_UNLIKELY(shard->parent != heap))
        return false;
    return heap_fast_free_in(shard, block);
}

/* For the win32 layer (HeapAlloc, HeapFree; heap.h): the process heap,
 * tried before anything else. The thread slot holds only shards of the
 * process heap (heap_bias.c), so a thread with a shard needs no lookup of
 * the heap. NULL / false: nothing done; heap_alloc, or heap_owner_of and
 * heap_free_slow, do the call and set the error. Declines in debug modes. */
/* Only the owner writes a shard's counters: a relaxed load and store, no
 * read-modify-write; readers sum them relaxed. */
HEAP_FAST_INLINE void heap_fast_count(struct ms_heap *shard, int which)
{
    _Atomic uint64_t *c = &shard->fast_calls[which];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* count: statistics are on; the call is counted in the shard when served
 * (heap_process_fast_calls sums them). */
HEAP_FAST_INLINE void *heap_process_fast_alloc(uint32_t flags, size_t size, bool count)
{
    struct ms_heap *shard = host_thread_slot_get();
    if (MS_UNLIKELY(!shard) || MS_UNLIKELY(heap_debug_mode))
        return NULL;
    void *block = heap_fast_alloc_in(shard, flags, size);
    if (MS_UNLIKELY(count) && block)
        heap_fast_count(shard, 0);
    return block;
}

HEAP_FAST_INLINE bool heap_process_fast_free(void *block, bool count)
{
    struct ms_heap *shard = host_thread_slot_get();
    if (!shard || heap_debug_mode || !heap_fast_free_in(shard, block))
        return false;
    if (MS_UNLIKELY(count))
        heap_fast_count(shard, 1);
    return true;
}

#endif
