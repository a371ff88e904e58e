/*
 * heap_purge.c - what a quiet process heap keeps for reuse goes back to the
 * host, from a background thread.
 *
 * Why: the heap keeps memory it emptied for the next allocations (each
 * class's empty span, idle slices, emptied segments, heap_small.c), and
 * gives the excess back only at a later span change, after a delay. A
 * program that frees a large batch and then stops changing spans (it
 * goes idle, or only reuses what was kept) held all of it: 52 of 59 MiB
 * after freeing 25,000 blocks of up to 4 KiB, still 42 MiB after further
 * small work, where Wine's heap was back at its starting 7.4 MiB. Only
 * another thread can notice that a heap has gone quiet, so memshim runs
 * one (started by the embedder's kick at the first span going back) that
 * gives back what a shard of the process heap, or a private heap, keeps
 * once it has made no span change for HEAP_PURGE_QUIET cycles:
 * HeapOptimizeResources for it, then the process-wide caches of emptied
 * segments and kept pages.
 *
 * Protocol:
 *  - A span going back to its segment (span_release) stamps its shard or
 *    heap with the time (purge_stamp, under its lock or meta_lock) and
 *    arms the thread (purge_armed: 0 -> 1 kicks and wakes it). A busy heap
 *    keeps moving its stamp, so it is never purged while it works, and a
 *    heap that drains and refills within the quiet time (the mixed-batch
 *    benchmark) keeps its pages.
 *  - The pass (heap_purge_pass) holds a quiet heap whole, as heap_lock
 *    from another thread (HeapWalk) would, but only if that needs no
 *    long wait (heap_purge_hold: its mutex if free, its owner held off if
 *    it leaves its call within ~1 ms; else the next pass tries again), so
 *    an owner killed inside a call (TerminateThread) or a long HeapLock
 *    never blocks the thread. The owner is not disowned: it resumes its
 *    lock-free path after the pass. The stamp is cleared under the hold,
 *    after the purge (whose own span releases stamp it again).
 *  - The thread sleeps on purge_armed while nothing is stamped. Disarming
 *    is a store of 0 and then a look at every stamp (both sequentially
 *    consistent, as the stamping side's store and load are), so a
 *    stamp made meanwhile either sees the thread armed or is seen by it.
 *  - Process exit (heap_purge_stop, before Wine terminates the other
 *    threads): no pass starts after it, and the one running is waited for
 *    (a bounded time), so the thread is never killed inside a heap's lock
 *    with the heap half changed.
 *  - Private heaps (never HEAP_NO_SERIALIZE ones: the program promised
 *    that nothing else touches them) are looked at with the heap list's
 *    lock held, which heap_destroy takes before anything else, so none is
 *    destroyed under a pass; a solo heap's creator is held off for the
 *    pass only, where another thread's heap_lock would disown it for good.
 */
#include "heap_internal.h"

/* ~100 ms at 2.5-3.5 GHz: far longer than a refill after a drain. */
#define HEAP_PURGE_QUIET ((uint64_t)1 << 28)
#define HEAP_PURGE_PERIOD_NS 50000000u
#define HEAP_PURGE_STOP_WAIT_NS 200000000u

static _Atomic uint32_t purge_armed;
static _Atomic uint32_t purge_stopping;
static _Atomic uint32_t purge_busy;
static _Atomic uint64_t purge_count;
static void (*purge_kick)(void);

void heap_purge_set_kick(void (*kick)(void))
{
    purge_kick = kick;
    if (kick && atomic_load(&purge_armed) == 1)
        kick();                         /* armed before there was a kick */
}

void heap_purge_note(struct ms_heap *shard)
{
    atomic_store(&shard->purge_stamp, host_cycles() | 1);     /* never 0 */
    /* Read before the exchange: threads giving spans back at once would
     * otherwise bounce the line of purge_armed between them. */
    if (!atomic_load(&purge_armed) && !atomic_exchange(&purge_armed, 1)) {
        if (purge_kick && !atomic_load(&purge_stopping))
            purge_kick();
        host_futex_wake((volatile uint32_t *)&purge_armed, 1);
    }
}

/* Has the shard made no span change for `quiet` cycles? (A stamp ahead
 * of `now`, from a CPU whose counter runs ahead, is recent.) */
static bool purge_quiet(uint64_t stamp, uint64_t now, uint64_t quiet)
{
    return now > stamp && now - stamp >= quiet;
}

/* Give back what a locked shard keeps: HeapOptimizeResources for it. */
static void purge_shard(struct ms_heap *shard)
{
    heap_small_release_empty_spans(shard);
    heap_small_sweep_segments(shard, true);
    for (struct heap_segment *seg = shard->segments; seg; seg = seg->next)
        heap_small_decommit_idle(seg);
}

struct purge_pass {
    uint64_t now, quiet;
    bool waiting;                       /* a stamped heap is not quiet yet, or was busy */
    bool purged;
};

/* fn on every heap a pass looks at: the shards of the process heap (never
 * freed), then the private heaps, with the heap list's lock held so that
 * none is destroyed meanwhile (heap_private_each). */
static void purge_each(void (*fn)(struct ms_heap *heap, void *context), void *context)
{
    struct ms_heap *process = heap_process_if_created();
    for (unsigned i = 0; process && i < HEAP_SHARDS; i++) {
        struct ms_heap *shard = atomic_load_explicit(&process->shards[i], memory_order_acquire);
        if (shard)
            fn(shard, context);
    }
    heap_private_each(fn, context);
}

/* A heap (a shard, or a private heap: never a HEAP_NO_SERIALIZE one, those
 * are never stamped), if quiet: held whole without waiting on anybody for
 * long (heap_purge_hold: a HeapLock holder, a caller that stays inside, is
 * left for the next pass), its owner held off for the pass only, not
 * disowned. */
static void purge_one(struct ms_heap *heap, void *context)
{
    struct purge_pass *pass = context;
    uint64_t stamp = atomic_load(&heap->purge_stamp);
    if (!stamp || atomic_load(&purge_stopping))
        return;
    bool held_off;
    if (!purge_quiet(stamp, pass->now, pass->quiet) || !heap_purge_hold(heap, &held_off)) {
        pass->waiting = true;
        return;
    }
    stamp = atomic_load(&heap->purge_stamp);        /* (a span may have gone meanwhile) */
    if (stamp && purge_quiet(stamp, pass->now, pass->quiet)) {
        purge_shard(heap);
        atomic_store(&heap->purge_stamp, 0);
        pass->purged = true;
        atomic_fetch_add_explicit(&purge_count, 1, memory_order_relaxed);
    } else if (stamp) {
        pass->waiting = true;
    }
    heap_purge_release(heap, held_off);
}

bool heap_purge_pass(uint64_t now, uint64_t quiet)
{
    struct purge_pass pass = { now, quiet, false, false };
    atomic_store(&purge_busy, 1);
    if (!atomic_load(&purge_stopping))
        purge_each(purge_one, &pass);
    if (pass.purged && !atomic_load(&purge_stopping)) {
        /* Where the heaps' emptied segments went, resident both. */
        heap_segment_cache_drop();
        vm_keep_drop_all();
    }
    atomic_store(&purge_busy, 0);
    return pass.waiting;
}

static void find_stamp(struct ms_heap *heap, void *context)
{
    if (atomic_load(&heap->purge_stamp))
        *(bool *)context = true;
}

/* Does any heap carry a stamp? */
static bool purge_stamped(void)
{
    bool stamped = false;
    purge_each(find_stamp, &stamped);
    return stamped;
}

void heap_purge_thread_main(void)
{
    static _Atomic uint32_t never;      /* nobody wakes it: a timed sleep */
    while (!atomic_load(&purge_stopping)) {
        if (!atomic_load(&purge_armed)) {
            host_futex_wait((volatile uint32_t *)&purge_armed, 0);
            continue;
        }
        host_futex_wait_timeout((volatile uint32_t *)&never, 0, HEAP_PURGE_PERIOD_NS);
        if (atomic_load(&purge_stopping))
            break;
        if (heap_purge_pass(host_cycles(), HEAP_PURGE_QUIET))
            continue;
        atomic_store(&purge_armed, 0);
        if (purge_stamped())
            atomic_store(&purge_armed, 1);
    }
}

uint64_t heap_purge_count(void)
{
    return atomic_load_explicit(&purge_count, memory_order_relaxed);
}

bool heap_purge_stop(void)
{
    atomic_store(&purge_stopping, 1);
    /* Out of its sleep (a value no stamp sets, so no kick either). */
    atomic_store(&purge_armed, 2);
    host_futex_wake((volatile uint32_t *)&purge_armed, 1);
    if (!atomic_load(&purge_busy))
        return false;
    uint64_t start = host_clock_ns();
    while (atomic_load(&purge_busy) && host_clock_ns() - start < HEAP_PURGE_STOP_WAIT_NS)
        host_yield();
    return true;
}
