/*
 * heap_inspect.h - how HeapWalk, HeapCompact, HeapSummary and
 * HeapOptimizeResources (heap_walk.c, heap_info.c) hold a heap still and
 * read its blocks' state. This is the only place those files depend on the
 * engine's locking and on how a span records free blocks: when the engine
 * changes (thread-owned shards, remote frees, block state kept elsewhere),
 * adapt these helpers and nothing else.
 *
 * Thread safety: between heap_inspect_begin and heap_inspect_end the
 * shards in parts[] are locked (unless flags or the heap say
 * HEAP_NO_SERIALIZE, i.e. the caller holds them through HeapLock or the
 * heap is unserialised), so their segments, spans and large blocks do not
 * change.
 */
#ifndef MS_HEAP_INSPECT_H
#define MS_HEAP_INSPECT_H

#include "heap_internal.h"

struct heap_inspect {
    struct ms_heap *parts[HEAP_SHARDS];     /* the heap, or its shards in shard order */
    unsigned n;
    bool locked;
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
    in->locked = !((flags | heap->flags) & MS_HEAP_NO_SERIALIZE);
    for (unsigned k = 0; in->locked && k < in->n; k++)
        ms_mutex_lock(&in->parts[k]->lock);
}

static inline void heap_inspect_end(struct heap_inspect *in)
{
    for (unsigned k = in->n; in->locked && k-- > 0;)
        ms_mutex_unlock(&in->parts[k]->lock);
}

/* Is block i of a live span free? */
static inline bool heap_inspect_block_free(const struct heap_span *span, uint32_t i)
{
    return (span->freebits[i / 64] >> (i % 64)) & 1;
}

#endif
