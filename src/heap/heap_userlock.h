/*
 * heap_userlock.h - which thread holds a heap through HeapLock (recursive,
 * as Windows' heap lock is). See heap_userlock.c.
 */
#ifndef MS_HEAP_USERLOCK_H
#define MS_HEAP_USERLOCK_H

#include <stdatomic.h>

#include "heap.h"

/* HeapLock / HeapUnlock: recursive per thread. heap_user_unlock is false
 * (and changes nothing) when another thread holds the heap. */
void heap_user_lock(struct ms_heap *heap);
bool heap_user_unlock(struct ms_heap *heap);

extern _Atomic uint32_t heap_userlock_active;
/* heap_create.c: make every shard of a sharded heap (before locking it). */
void heap_shards_create_all(struct ms_heap *heap);
bool heap_userlock_held_slow(struct ms_heap *heap);

/* Does the calling thread hold `heap` (the parent heap, not a shard) through
 * HeapLock? One relaxed load when no heap is held by anybody. */
static inline bool heap_userlock_held(struct ms_heap *heap)
{
    if (MS_LIKELY(!atomic_load_explicit(&heap_userlock_active, memory_order_relaxed)))
        return false;
    return heap_userlock_held_slow(heap);
}

/* The flags a call on `heap` should pass to the core: HEAP_NO_SERIALIZE
 * added when the caller holds the heap's locks already. */
static inline uint32_t heap_userlock_flags(struct ms_heap *heap, uint32_t flags)
{
    return heap_userlock_held(heap) ? flags | MS_HEAP_NO_SERIALIZE : flags;
}

#endif
