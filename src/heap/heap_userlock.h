/*
 * heap_userlock.h - HeapLock/HeapUnlock for the win32 layer: recursive per
 * thread, as Windows' heap lock is, and the holder keeps using the heap.
 *
 * The engine's heap locks already are recursive for their holder
 * (heap_internal.h: heap_lock) and HeapLock of the process heap takes every
 * shard, holding off their owners (heap_bias.c), so this is a thin layer:
 * it adds the Windows rule that only the holder may unlock.
 */
#ifndef MS_HEAP_USERLOCK_H
#define MS_HEAP_USERLOCK_H

#include "heap.h"

/* HeapLock / HeapUnlock. heap_user_unlock is false (and changes nothing)
 * when the calling thread does not hold the heap. */
void heap_user_lock(struct ms_heap *heap);
bool heap_user_unlock(struct ms_heap *heap);

/* Does the calling thread hold `heap` (the heap, not a shard) through
 * HeapLock? */
bool heap_userlock_held(struct ms_heap *heap);

/* The flags a call on `heap` passes to the core: unchanged, as the holder's
 * own calls find its locks recursive. (Kept so that callers need not know.) */
static inline uint32_t heap_userlock_flags(struct ms_heap *heap, uint32_t flags)
{
    (void)heap;
    return flags;
}

#endif
