/*
 * heap_userlock.c - HeapLock/HeapUnlock as Windows has them: recursive, and
 * the thread that holds a heap keeps using it.
 *
 * Why a registry: the heap's own mutex is not recursive, and on Windows the
 * thread that called HeapLock goes on calling HeapAlloc, HeapFree, HeapWalk
 * or GlobalAlloc on that heap (Wine's own tests do, and so do debuggers and
 * leak checkers). The registry says which thread holds which heap and how
 * deeply; a call from the holder runs as HEAP_NO_SERIALIZE (the locks are
 * already its own), anybody else waits on the mutexes as before.
 *
 * Invariants: a slot with heap != NULL is held by `owner` with depth >= 1
 * and every lock of the heap (all shards) is taken; `active` counts such
 * slots, so callers check one relaxed load before looking further.
 * Thread safety: the slots are guarded by reg_lock; a slot only changes
 * from its owner's thread, so the owner may read its own slot unlocked.
 */
#include "heap_internal.h"
#include "heap_userlock.h"

#define USERLOCK_SLOTS 32

struct userlock_slot {
    _Atomic(struct ms_heap *) heap;
    _Atomic uintptr_t owner;
    uint32_t depth;
};

static struct userlock_slot slots[USERLOCK_SLOTS];
static ms_mutex reg_lock = MS_MUTEX_INIT;
_Atomic uint32_t heap_userlock_active;

static struct userlock_slot *find_mine(struct ms_heap *heap, uintptr_t me)
{
    for (unsigned i = 0; i < USERLOCK_SLOTS; i++)
        if (atomic_load_explicit(&slots[i].heap, memory_order_relaxed) == heap &&
            atomic_load_explicit(&slots[i].owner, memory_order_relaxed) == me)
            return &slots[i];
    return NULL;
}

bool heap_userlock_held_slow(struct ms_heap *heap)
{
    return find_mine(heap, host_thread_key()) != NULL;
}

void heap_user_lock(struct ms_heap *heap)
{
    uintptr_t me = host_thread_key();
    struct userlock_slot *mine = find_mine(heap, me);
    if (mine) {
        mine->depth++;
        return;
    }
    heap_shards_create_all(heap);
    heap_lock_heap(heap);
    ms_mutex_lock(&reg_lock);
    for (unsigned i = 0; i < USERLOCK_SLOTS; i++) {
        if (!atomic_load_explicit(&slots[i].heap, memory_order_relaxed)) {
            slots[i].depth = 1;
            atomic_store_explicit(&slots[i].owner, me, memory_order_relaxed);
            atomic_store_explicit(&slots[i].heap, heap, memory_order_relaxed);
            atomic_fetch_add_explicit(&heap_userlock_active, 1, memory_order_relaxed);
            break;
        }
    }
    /* All slots taken (32 heaps held at once): the heap is locked but not
     * recursive for this holder, as before the registry existed. */
    ms_mutex_unlock(&reg_lock);
}

static bool held_by_other(struct ms_heap *heap, uintptr_t me)
{
    for (unsigned i = 0; i < USERLOCK_SLOTS; i++)
        if (atomic_load_explicit(&slots[i].heap, memory_order_relaxed) == heap &&
            atomic_load_explicit(&slots[i].owner, memory_order_relaxed) != me)
            return true;
    return false;
}

bool heap_user_unlock(struct ms_heap *heap)
{
    uintptr_t me = host_thread_key();
    struct userlock_slot *mine = find_mine(heap, me);
    if (mine && --mine->depth)
        return true;
    /* Another thread's lock is not ours to release. (A holder without a
     * slot, when 32 heaps are held at once, unlocks as before.) */
    if (!mine && held_by_other(heap, me))
        return false;
    if (mine) {
        ms_mutex_lock(&reg_lock);
        atomic_store_explicit(&mine->heap, NULL, memory_order_relaxed);
        atomic_store_explicit(&mine->owner, 0, memory_order_relaxed);
        atomic_fetch_sub_explicit(&heap_userlock_active, 1, memory_order_relaxed);
        ms_mutex_unlock(&reg_lock);
    }
    heap_unlock_heap(heap);
    return true;
}
