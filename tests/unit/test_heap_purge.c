/*
 * test_heap_purge.c - the process heap's background purge (src/heap/
 * heap_purge.c):
 *  - a drained heap keeps its pages while it is not quiet, gives them back
 *    (resident data pages, by mincore) in a pass once it is, clears its
 *    stamps, and serves and validates blocks afterwards;
 *  - passes forced on every round while two threads allocate, fill, check
 *    and free on their own shards: no block loses its contents or its
 *    size, and the heap stays valid (the owners are held off for each
 *    pass and resume their lock-free path);
 *  - a private heap its creator owns is given back too and stays owned;
 *    one made with HEAP_NO_SERIALIZE is never touched; private heaps made
 *    and destroyed by another thread while passes run stay sound;
 *  - the thread (heap_purge_thread_main on a pthread, with the kick the
 *    DLL would give) gives a drained heap back by itself, and
 *    heap_purge_stop ends it.
 * Run under ASan and TSan as every unit test is.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../../src/heap/heap.h"
#include "../../src/heap/heap_internal.h"
#include "unit.h"

enum { BATCH = 6000 };
static void *blocks[BATCH];
static uint64_t rng_state = 88172645463325252ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/* Resident data pages of every segment of a heap (of every shard of the
 * process heap), held as HeapLock holds it: the purge thread may be
 * changing them. */
static size_t heap_data_pages(struct ms_heap *heap)
{
    static unsigned char vec[HEAP_SEG_SIZE / 4096];
    size_t pages = 0;
    heap_lock_heap(heap);
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *shard = heap->sharded ? atomic_load(&heap->shards[i]) : i ? NULL : heap;
        for (struct heap_segment *seg = shard ? shard->segments : NULL; seg; seg = seg->next) {
            if (mincore(seg, HEAP_SEG_SIZE, vec) != 0)
                continue;
            for (size_t p = HEAP_META_SLICES * HEAP_SLICE_SIZE / 4096; p < HEAP_SEG_SIZE / 4096; p++)
                pages += vec[p] & 1;
        }
    }
    heap_unlock_heap(heap);
    return pages;
}

static size_t process_heap_data_pages(void)
{
    return heap_data_pages(heap_process());
}

/* Allocate a batch of 8 B..4 KiB blocks on a heap, touch every byte, free
 * it in another order; returns the KiB asked for. */
static size_t drain_heap(struct ms_heap *heap)
{
    ms_status err;
    size_t asked = 0;
    int failed = 0;
    for (int i = 0; i < BATCH; i++) {
        size_t size = 8 + rng() % 4089;
        blocks[i] = heap_alloc(heap, 0, size, &err);
        failed += !blocks[i];
        if (blocks[i])
            memset(blocks[i], 0x5a, size);
        asked += size;
    }
    for (int i = 0; i < BATCH; i++)
        failed += heap_free(heap, 0, blocks[(i * 7919) % BATCH]) != MS_OK;
    CHECK_EQ(failed, 0);
    return asked >> 10;
}

static size_t drain_batch(void)
{
    return drain_heap(heap_process());
}

static void test_pass_gives_back(void)
{
    size_t before = process_heap_data_pages();
    size_t asked = drain_batch();
    size_t drained = process_heap_data_pages();
    /* Not quiet yet: nothing goes, and the pass says a shard waits. */
    CHECK(heap_purge_pass(host_cycles(), UINT64_MAX), "a stamped shard waits for its quiet time");
    size_t kept = process_heap_data_pages();
    printf("# %zu KiB asked: data pages %zu KiB before, %zu drained, %zu after a pass too early\n", asked,
           before * 4, drained * 4, kept * 4);
    CHECK(drained * 4 > asked / 2, "the drained heap kept its pages (%zu KiB)", drained * 4);
    CHECK(kept == drained, "a pass before the quiet time kept them (%zu of %zu pages)", kept, drained);
    /* Quiet: everything the heap keeps goes back. */
    CHECK(!heap_purge_pass(UINT64_MAX, 0), "nothing waits after a pass at the end of time");
    size_t purged = process_heap_data_pages();
    printf("# after the pass: %zu KiB\n", purged * 4);
    CHECK(purged <= before + 16, "data pages %zu KiB after the pass, %zu KiB before the batch", purged * 4,
          before * 4);
    struct ms_heap *heap = heap_process();
    unsigned stamped = 0;
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *shard = atomic_load(&heap->shards[i]);
        stamped += shard && atomic_load(&shard->purge_stamp);
    }
    CHECK_EQ(stamped, 0);
    CHECK(heap_validate(heap, 0, NULL), "process heap valid after the pass");
    /* It serves again, from decommitted slices. */
    drain_batch();
    CHECK(heap_validate(heap, 0, NULL), "process heap valid after a batch on purged slices");
    CHECK(!heap_purge_pass(UINT64_MAX, 0), "second pass");
}

/* Two threads work on the process heap while passes run. */
enum { WORKERS = 2, ROUNDS = 60, LIVE = 400 };
static _Atomic int workers_left;
static _Atomic unsigned long worker_errors;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
    struct ms_heap *heap = heap_process();
    static _Thread_local unsigned char *mine[LIVE];
    static _Thread_local size_t sizes[LIVE];
    ms_status err;
    unsigned long errors = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < LIVE; i++) {
            seed = seed * 1103515245u + 12345u;
            sizes[i] = 1 + (seed >> 8) % 6000;
            mine[i] = heap_alloc(heap, 0, sizes[i], &err);
            if (!mine[i]) {
                errors++;
                continue;
            }
            memset(mine[i], (int)(i & 0xff), sizes[i]);
        }
        for (int i = 0; i < LIVE; i++) {
            if (!mine[i])
                continue;
            errors += heap_size(heap, 0, mine[i]) != sizes[i];
            for (size_t k = 0; k < sizes[i]; k += 97)
                errors += mine[i][k] != (unsigned char)(i & 0xff);
            errors += mine[i][sizes[i] - 1] != (unsigned char)(i & 0xff);
            errors += heap_free(heap, 0, mine[i]) != MS_OK;
        }
    }
    atomic_fetch_add(&worker_errors, errors);
    atomic_fetch_sub(&workers_left, 1);
    return NULL;
}

static void test_pass_while_owners_work(void)
{
    pthread_t t[WORKERS];
    atomic_store(&workers_left, WORKERS);
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    unsigned passes = 0;
    while (atomic_load(&workers_left)) {
        heap_purge_pass(UINT64_MAX, 0);
        passes++;
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("# %u forced passes while %d threads worked\n", passes, WORKERS);
    CHECK(passes > 0, "passes ran");
    CHECK_EQ(atomic_load(&worker_errors), 0);
    CHECK(heap_validate(heap_process(), 0, NULL), "process heap valid after the passes");
}

/* A private heap its creator owns: given back too, and still owned after
 * (its creator was held off for the pass, not disowned); one made with
 * HEAP_NO_SERIALIZE is never stamped, so never touched. */
static void test_private_heaps(void)
{
    ms_status err;
    struct ms_heap *own = heap_create(0, 0, 0, &err);
    struct ms_heap *unserialised = heap_create(MS_HEAP_NO_SERIALIZE, 0, 0, &err);
    CHECK(own && unserialised, "two private heaps");
    if (!own || !unserialised)
        return;
    bool solo = own->solo;
    drain_heap(own);
    drain_heap(unserialised);
    size_t own_drained = heap_data_pages(own), unserialised_drained = heap_data_pages(unserialised);
    CHECK(atomic_load(&own->purge_stamp) != 0, "the drained heap is stamped");
    CHECK(atomic_load(&unserialised->purge_stamp) == 0, "a HEAP_NO_SERIALIZE heap is never stamped");
    heap_purge_pass(UINT64_MAX, 0);
    size_t own_after = heap_data_pages(own), unserialised_after = heap_data_pages(unserialised);
    printf("# private heap: %zu KiB drained, %zu after the pass; unserialised: %zu and %zu\n", own_drained * 4,
           own_after * 4, unserialised_drained * 4, unserialised_after * 4);
    CHECK(own_after * 8 < own_drained, "the private heap gave back its pages (%zu of %zu KiB stay)", own_after * 4,
          own_drained * 4);
    CHECK(unserialised_after == unserialised_drained, "the HEAP_NO_SERIALIZE heap was left alone");
    CHECK(atomic_load(&own->purge_stamp) == 0, "stamp cleared");
    CHECK(own->solo == solo && (!solo || (atomic_load(&own->owner) != 0 && atomic_load(&own->revoked) == 0)),
          "the creator still owns its heap (solo %d, owner %#lx, revoked %u)", own->solo,
          (unsigned long)atomic_load(&own->owner), atomic_load(&own->revoked));
    drain_heap(own);
    CHECK(heap_validate(own, 0, NULL) && heap_validate(unserialised, 0, NULL), "both valid");
    CHECK_EQ(heap_destroy(own), MS_OK);
    CHECK_EQ(heap_destroy(unserialised), MS_OK);
}

/* An owner that never leaves its call (a thread killed inside one, as
 * TerminateThread can): the pass gives up on that heap after ~1 ms instead
 * of waiting for ever, leaves it as it was, and purges it once the owner
 * is out. The same for a heap whose lock a HeapLock holds. */
static void test_pass_does_not_wait(void)
{
    ms_status err;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    CHECK(h != NULL, "private heap");
    if (!h)
        return;
    drain_heap(h);
    CHECK(h->solo, "the heap is its creator's (membarrier is there)");
    if (h->solo) {
        size_t drained = heap_data_pages(h);
        atomic_store(&h->active, 1);           /* "inside a call" for ever */
        uint64_t before = heap_purge_count();
        CHECK(heap_purge_pass(UINT64_MAX, 0), "a heap whose owner stays inside waits for the next pass");
        CHECK(heap_purge_count() == before && atomic_load(&h->purge_stamp) != 0 && atomic_load(&h->revoked) == 0,
              "left as it was (stamped, its owner not held off)");
        atomic_store(&h->active, 0);
        CHECK(heap_data_pages(h) == drained, "nothing given back meanwhile");
    }
    heap_lock_heap(h);                          /* HeapLock */
    CHECK(heap_purge_pass(UINT64_MAX, 0), "a heap under HeapLock waits for the next pass");
    heap_unlock_heap(h);
    heap_purge_pass(UINT64_MAX, 0);
    CHECK(atomic_load(&h->purge_stamp) == 0 && heap_data_pages(h) == 0, "then it is given back");
    CHECK(heap_validate(h, 0, NULL), "valid");
    CHECK_EQ(heap_destroy(h), MS_OK);
}

/* Private heaps made, used and destroyed by another thread while passes
 * run: the list's lock keeps each heap a pass looks at alive. */
enum { CYCLES = 40 };
static _Atomic int cycler_done;

static void *cycler(void *arg)
{
    (void)arg;
    unsigned long errors = 0;
    for (int c = 0; c < CYCLES; c++) {
        ms_status err;
        struct ms_heap *h = heap_create(0, 0, 0, &err);
        if (!h) {
            errors++;
            continue;
        }
        /* Enough blocks for several spans a class: freeing them gives
         * spans back, which stamps the heap. */
        static _Thread_local unsigned char *keep[1500];
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 1500; i++) {
                size_t size = 1100 + (size_t)(i % 8) * 400;
                keep[i] = heap_alloc(h, 0, size, &err);
                if (keep[i]) {
                    keep[i][0] = keep[i][size - 1] = (unsigned char)i;
                } else {
                    errors++;
                }
            }
            for (int i = 0; i < 1500; i++)
                if (keep[i]) {
                    errors += keep[i][0] != (unsigned char)i ||
                              keep[i][1100 + (size_t)(i % 8) * 400 - 1] != (unsigned char)i;
                    errors += heap_free(h, 0, keep[i]) != MS_OK;
                }
            /* Every other cycle, give a pass the time to find the heap
             * drained (the two threads may share one CPU, where the passes
             * would otherwise run only while this thread waits for the
             * heap list in heap_create and heap_destroy). */
            uint64_t purged = heap_purge_count();
            for (int spins = 0; (c & 1) && spins < 20000 && heap_purge_count() == purged; spins++)
                sched_yield();
        }
        errors += !heap_validate(h, 0, NULL);
        errors += heap_destroy(h) != MS_OK;
    }
    atomic_fetch_add(&worker_errors, errors);
    atomic_store(&cycler_done, 1);
    return NULL;
}

static void test_pass_while_heaps_come_and_go(void)
{
    pthread_t t;
    atomic_store(&worker_errors, 0);
    uint64_t purged_before = heap_purge_count();
    pthread_create(&t, NULL, cycler, NULL);
    unsigned passes = 0;
    while (!atomic_load(&cycler_done)) {
        heap_purge_pass(UINT64_MAX, 0);
        passes++;
    }
    pthread_join(t, NULL);
    uint64_t purged = heap_purge_count() - purged_before;
    printf("# %u forced passes while %d private heaps came and went: %llu heaps given back\n", passes, CYCLES,
           (unsigned long long)purged);
    CHECK(passes > 0 && purged > 0, "passes ran and gave heaps back (%u, %llu)", passes, (unsigned long long)purged);
    CHECK_EQ(atomic_load(&worker_errors), 0);
}

/* The thread, kicked as the DLL does, purges on its own. */
static pthread_t purge_pthread;
static _Atomic int kicks;

static void *purge_thread(void *arg)
{
    (void)arg;
    heap_purge_thread_main();
    return NULL;
}

static void kick(void)
{
    if (atomic_fetch_add(&kicks, 1) == 0)
        pthread_create(&purge_pthread, NULL, purge_thread, NULL);
}

static void test_thread_purges(void)
{
    heap_purge_set_kick(kick);
    size_t before = process_heap_data_pages();
    drain_batch();
    size_t drained = process_heap_data_pages();
    size_t now = drained;
    /* ~100 ms of quiet, a pass every 50 ms: within 3 s under the sanitizers. */
    for (int waited = 0; waited < 300 && now > before + 16; waited++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
        now = process_heap_data_pages();
    }
    printf("# thread: data pages %zu KiB before, %zu drained, %zu after waiting\n", before * 4, drained * 4,
           now * 4);
    CHECK(atomic_load(&kicks) >= 1, "the first span given back kicked the thread");
    CHECK(now <= before + 16, "the thread gave the drained heap back (%zu KiB, %zu before)", now * 4, before * 4);
    heap_purge_stop();
    CHECK(pthread_join(purge_pthread, NULL) == 0, "the thread ended at heap_purge_stop");
    /* Stopped: no pass runs any more. */
    drain_batch();
    size_t after_stop = process_heap_data_pages();
    CHECK(!heap_purge_pass(UINT64_MAX, 0) && process_heap_data_pages() == after_stop,
          "no pass after heap_purge_stop");
    CHECK(heap_validate(heap_process(), 0, NULL), "process heap valid at the end");
}

int main(void)
{
    test_pass_gives_back();
    test_pass_while_owners_work();
    test_private_heaps();
    test_pass_does_not_wait();
    test_pass_while_heaps_come_and_go();
    test_thread_purges();
    return unit_done();
}
