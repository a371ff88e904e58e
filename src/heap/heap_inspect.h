/*
 * heap_inspect.h - how HeapWalk, HeapCompact, HeapSummary and
 * HeapOptimizeResources (heap_walk.c, heap_info.c) hold a heap still and
 * read its blocks' state. This is the only place those files depend on the
 * engine's locking and on how a span records free blocks: when the engine
 * changes (thread-owned shards, remote frees, block state kept elsewhere),
 * adapt these helpers and nothing else.
 *
 * Thread safety: between heap_inspect_begin and heap_inspect_end the
 * shards in parts[] are held with heap_lock (recursive for a HeapLock
 * holder; owners of thread-owned shards held off; nothing for an
 * unserialised private heap), so their segments, spans and large blocks do
 * not change.
 */
#ifndef MS_HEAP_INSPECT_H
#define MS_HEAP_INSPECT_H

#include "heap_internal.h"

struct heap_inspect {
    struct ms_heap *parts[HEAP_SHARDS];     /* the heap, or its shards in shard order */
    unsigned n;
    bool locked;
    bool part_locked[HEAP_SHARDS];
};

/* The shards that exist now, each locked in shard order (as HeapLock takes
 * them): a shard another thread makes meanwhile is left out of this call. */
static inline void heap_inspect_begin(struct ms_heap *heap, uint32_t flags, struct heap_inspect *in)
{
    in->n = 0;
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (s)
            in->parts[in->n++] = s;
    }
    /* heap_lock: recursive for a HeapLock holder, and on a thread-owned
     * shard it holds the owner off and merges its remote frees first. */
    in->locked = true;
    for (unsigned k = 0; k < in->n; k++)
        in->part_locked[k] = heap_lock(in->parts[k], flags);
}

static inline void heap_inspect_end(struct heap_inspect *in)
{
    for (unsigned k = in->n; k-- > 0;)
        heap_unlock(in->parts[k], in->part_locked[k]);
}

/* Is block i of a live span free (or freed by another thread, not merged)? */
static inline bool heap_inspect_block_free(const struct heap_span *span, uint32_t i)
{
    return ((heap_bits_get(&span->freebits[i / 64]) | heap_bits_get(&span->remote[i / 64])) >> (i % 64)) & 1;
}

#endif
