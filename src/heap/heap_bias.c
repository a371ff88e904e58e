/*
 * heap_bias.c - thread-owned shards of the process heap: allocation and
 * free without a lock for the thread that owns the shard.
 *
 * Why: a malloc-heavy program spends most of an uncontended HeapAlloc +
 * HeapFree pair in the two lock/unlock pairs (an atomic read-modify-write
 * each, ~9 ns here). Blocks are mostly freed by the thread that made them,
 * so that thread gets a shard of its own and pays for no atomic at all.
 *
 * Protocol (see heap_internal.h for who may touch what):
 *  - Ownership: shard->owner is the thread key of its owner; it is set and
 *    cleared under the shard's mutex (claim, heap_thread_detach). A thread
 *    owns at most one shard of the heap; threads beyond the shards use
 *    shard 0, the locked heap itself.
 *  - Owner fast path (heap_owner_enter/leave): store active, compiler
 *    barrier, load revoked. No fence.
 *  - Revocation (heap_exclusive_enter, with the mutex held): store revoked,
 *    host_membarrier(), then wait for active == 0. The membarrier makes the
 *    owner's pending store of `active` visible, or orders its later load of
 *    `revoked` after our store: either we see it inside, or it sees it is
 *    revoked and goes to the mutex. Then meta_lock is taken too, which
 *    also holds off remote frees, as HeapLock does on Windows.
 *  - Remote free: under meta_lock, check the block is live and set its bit
 *    in the span's remote bitmap; whoever allocates from the shard merges
 *    those bits when a bin runs dry (heap_collect_remote).
 * Without membarrier (kernels before 4.14) no shard is ever owned and the
 * shards are plain locked heaps chosen by thread, as before.
 *
 * Solo heaps (private heaps, heap_lock in heap_internal.h) use the same
 * owner fast path with a simpler revocation: there are no remote frees,
 * every other thread takes the mutex, and the first one to do so disowns
 * the creator for good (heap_lock_mutex), so the membarrier is paid once
 * per heap, not once per call.
 *
 * A thread key can be reused after its thread exits; that is harmless here
 * (a dead thread is never inside a call), and heap_thread_detach gives the
 * shard back when the thread exits so the next thread can own it.
 */
#include "heap_internal.h"

bool heap_bias_enabled;

bool heap_bias_init(void)
{
    heap_bias_enabled = host_membarrier_init();
    return heap_bias_enabled;
}

/* Hold an owned heap's owner off: from here its calls take the mutex, and
 * the one it may be inside has returned. */
static void revoke_owner(struct ms_heap *heap)
{
    atomic_store_explicit(&heap->revoked, 1, memory_order_relaxed);
    host_membarrier();
    /* At process exit an owner killed inside a call stays "active":
     * wait a bounded time then (ms_lock.c). */
    for (unsigned spins = 0; atomic_load_explicit(&heap->active, memory_order_acquire); spins++) {
        if (ms_lock_process_exiting && spins >= MS_LOCK_EXIT_SPINS)
            break;
        host_yield();
    }
}

/* With the owner held off: meta_lock too, which also holds off remote
 * frees, and the remote frees so far merged. */
static void meta_enter(struct ms_heap *shard)
{
    ms_mutex_lock(&shard->meta_lock);
    shard->meta_held = true;
    if (atomic_load_explicit(&shard->remote_pending, memory_order_relaxed))
        heap_collect_remote(shard);
}

/* Hold an owner off as revoke_owner does, but give up (and let it go on)
 * if it stays inside its call for a hundred yields (~1 ms with another
 * thread to run, less without): a thread killed inside a call
 * (TerminateThread) stays "active" for ever. */
#define PURGE_HOLD_SPINS 100

static bool owner_try_hold(struct ms_heap *heap)
{
    atomic_store_explicit(&heap->revoked, 1, memory_order_relaxed);
    host_membarrier();
    for (unsigned spins = 0; atomic_load_explicit(&heap->active, memory_order_acquire); spins++) {
        if (spins >= PURGE_HOLD_SPINS) {
            atomic_store_explicit(&heap->revoked, 0, memory_order_release);
            return false;
        }
        host_yield();
    }
    return true;
}

bool heap_purge_hold(struct ms_heap *heap, bool *held_off)
{
    *held_off = false;
    if (!ms_mutex_trylock(&heap->lock))
        return false;
    if ((heap->biasable || heap->solo) && atomic_load_explicit(&heap->owner, memory_order_relaxed)) {
        if (!owner_try_hold(heap)) {
            ms_mutex_unlock(&heap->lock);
            return false;
        }
        *held_off = true;
    }
    if (heap->biasable)
        meta_enter(heap);
    return true;
}

void heap_purge_release(struct ms_heap *heap, bool held_off)
{
    /* (A shard's revocation is always over at its leave; a solo heap's
     * only if this hold made it.) */
    if (heap->biasable)
        heap_exclusive_leave(heap);
    else if (held_off)
        atomic_store_explicit(&heap->revoked, 0, memory_order_release);
    ms_mutex_unlock(&heap->lock);
}

void heap_exclusive_enter(struct ms_heap *shard)
{
    if (atomic_load_explicit(&shard->owner, memory_order_relaxed))
        revoke_owner(shard);
    meta_enter(shard);
}

void heap_lock_mutex(struct ms_heap *heap, uintptr_t me)
{
    ms_mutex_lock(&heap->lock);
    /* A revoker writes the holder's fields only once the owner is out. */
    if (heap->solo) {
        uintptr_t owner = atomic_load_explicit(&heap->owner, memory_order_relaxed);
        if (owner && owner != me) {
            revoke_owner(heap);         /* revoked stays set: everybody locks from now on */
            atomic_store_explicit(&heap->owner, 0, memory_order_relaxed);
        }
        heap->owner_entry = false;
    }
    atomic_store_explicit(&heap->holder, me, memory_order_relaxed);
    heap->depth = 1;
    if (heap->biasable)
        heap_exclusive_enter(heap);
}

void heap_exclusive_leave(struct ms_heap *shard)
{
    shard->meta_held = false;
    ms_mutex_unlock(&shard->meta_lock);
    atomic_store_explicit(&shard->revoked, 0, memory_order_release);
}

/* Set a live block's remote bit and list its span for the owner's merge. */
static void remote_mark(struct ms_heap *shard, struct heap_span *span, uint32_t index)
{
    _Atomic uint64_t *word = &span->remote[index / 64];
    heap_bits_put(word, heap_bits_get(word) | (uint64_t)1 << (index % 64));
    if (!atomic_load_explicit(&span->remote_listed, memory_order_relaxed)) {
        atomic_store_explicit(&span->remote_listed, 1, memory_order_relaxed);
        span->remote_next = shard->remote_spans;
        shard->remote_spans = span;
        atomic_store_explicit(&shard->remote_pending, 1, memory_order_relaxed);
    }
}

ms_status heap_remote_free_meta(struct ms_heap *shard, void *block)
{
    uint32_t index;
    struct heap_span *span = heap_small_resolve(shard, (uintptr_t)block, &index);
    if (!span)
        return MS_ERROR_INVALID_PARAMETER;
    remote_mark(shard, span, index);
    return MS_OK;
}

ms_status heap_remote_free(struct ms_heap *shard, struct heap_segment *seg, void *block)
{
    ms_mutex_lock(&shard->meta_lock);
    uintptr_t p = (uintptr_t)block;
    uint32_t index;
    /* Checked again under the lock: the segment may have left the shard
     * (and the segment map) since the caller read its header. While it
     * is in the map and the shard's, meta_lock keeps it so. */
    struct heap_span *span = heap_segmap_contains((uintptr_t)seg) ? heap_small_resolve_in(seg, shard, p, &index) : NULL;
    if (span)
        remote_mark(shard, span, index);
    ms_mutex_unlock(&shard->meta_lock);
    return span ? MS_OK : MS_ERROR_INVALID_PARAMETER;
}

/* Make the calling thread the owner of `shard` if nobody owns it. */
static bool shard_claim(struct ms_heap *shard, uintptr_t key)
{
    bool claimed = false;
    ms_mutex_lock(&shard->lock);
    if (!atomic_load_explicit(&shard->owner, memory_order_relaxed)) {
        atomic_store_explicit(&shard->owner, key, memory_order_release);
        claimed = true;
    }
    ms_mutex_unlock(&shard->lock);
    return claimed;
}

struct ms_heap *heap_shard_for_thread_slow(struct ms_heap *heap)
{
    uintptr_t key = host_thread_key();
    unsigned first = heap_shard_hint(key);
    bool claimable = false;
    for (unsigned i = 1; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = atomic_load_explicit(&heap->shards[i], memory_order_acquire);
        if (s && atomic_load_explicit(&s->owner, memory_order_relaxed) == key) {
            host_thread_slot_set(s);
            return s;
        }
        claimable |= !s || !atomic_load_explicit(&s->owner, memory_order_relaxed);
    }
    if (heap_bias_enabled && !claimable)
        return heap;                    /* every shard is owned: the locked shard 0 */
    /* Creating or claiming a shard happens under the heap's own lock, so a
     * HeapLock holder (who holds it) keeps the set of shards it locked. */
    bool locked = heap_lock(heap, 0);
    struct ms_heap *result = heap;
    if (!heap_bias_enabled) {
        result = heap_shard_get(heap, first);
    } else {
        for (unsigned n = 0; n < HEAP_SHARDS - 1; n++) {
            struct ms_heap *s = heap_shard_get(heap, 1 + (first - 1 + n) % (HEAP_SHARDS - 1));
            if (s->biasable && !atomic_load_explicit(&s->owner, memory_order_relaxed) && shard_claim(s, key)) {
                host_thread_slot_set(s);
                result = s;
                break;
            }
        }
    }
    heap_unlock(heap, locked);
    return result;
}

void heap_thread_detach(void)
{
    struct ms_heap *heap = heap_process_if_created();
    if (!heap || !heap_bias_enabled)
        return;
    uintptr_t key = host_thread_key();
    host_thread_slot_set(NULL);
    for (unsigned i = 1; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = atomic_load_explicit(&heap->shards[i], memory_order_acquire);
        if (!s || atomic_load_explicit(&s->owner, memory_order_relaxed) != key)
            continue;
        ms_mutex_lock(&s->lock);
        atomic_store_explicit(&s->owner, 0, memory_order_release);
        /* Nobody allocates here until another thread claims the shard: its
         * emptied segments go back now, not at a span change that may
         * never come. */
        if (s->empty_segments) {
            ms_mutex_lock(&s->meta_lock);
            heap_small_sweep_segments(s, true);
            ms_mutex_unlock(&s->meta_lock);
        }
        ms_mutex_unlock(&s->lock);
    }
}
