/*
 * heap_userlock.c - HeapLock/HeapUnlock on the engine's recursive locks.
 *
 * A heap created with HEAP_NO_SERIALIZE has no lock to take (HeapLock on it
 * is undefined on Windows); locking and unlocking it succeed and do nothing.
 * Thread safety: heap_lock_heap/heap_unlock_heap (heap_create.c).
 */
#include "heap_internal.h"
#include "heap_userlock.h"

static bool unserialised(const struct ms_heap *heap)
{
    return !heap->sharded && (heap->flags & MS_HEAP_NO_SERIALIZE);
}

bool heap_userlock_held(struct ms_heap *heap)
{
    return !unserialised(heap) && atomic_load_explicit(&heap->holder, memory_order_relaxed) == host_thread_key();
}

void heap_user_lock(struct ms_heap *heap)
{
    heap_lock_heap(heap);
}

bool heap_user_unlock(struct ms_heap *heap)
{
    if (unserialised(heap))
        return true;
    /* Another thread's lock is not ours to release. */
    if (!heap_userlock_held(heap))
        return false;
    heap_unlock_heap(heap);
    return true;
}
