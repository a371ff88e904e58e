/*
 * bench_heap_cases.h - the heap workloads, written once and built against
 * each allocator: Windows' HeapAlloc (builtin or memshim) in win_bench.c,
 * and glibc, mimalloc and memshim's core natively in native_bench.c. The
 * including file provides, for the allocator under test:
 *   void *ba_alloc(size_t); void ba_free(void *); void *ba_realloc(void *, size_t);
 *   void *ba_heap_create(void); void *ba_heap_alloc(void *h, size_t); void ba_heap_destroy(void *h);
 *   bench_thread_run(void (*fn)(void *), void *arg) -> handle; bench_thread_join(handle).
 * Identical code on every side is what makes the numbers comparable.
 */
#ifndef BENCH_HEAP_CASES_H
#define BENCH_HEAP_CASES_H

#define MIXED_BATCH 10000

static void *mixed_slots[MIXED_BATCH];
static uint32_t mixed_order[MIXED_BATCH];

/* n alloc+free pairs of 16..256 bytes. */
static void heap_small_pairs(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t size = 16 + (size_t)(bench_rand() % 241);
        char *p = ba_alloc(size);
        BENCH_CHECK(p, "alloc %zu", size);
        p[0] = (char)i;
        ba_free(p);
    }
}

/* Batches of 10,000 random sizes 8 B..4 KiB, each freed in random order;
 * n counts alloc+free pairs (rounded up to whole batches). */
static void heap_mixed_batch(size_t n)
{
    for (size_t done = 0; done < n; done += MIXED_BATCH) {
        for (uint32_t i = 0; i < MIXED_BATCH; i++) {
            size_t size = 8 + (size_t)(bench_rand() % 4089);
            char *p = ba_alloc(size);
            BENCH_CHECK(p, "alloc %zu", size);
            p[0] = p[size - 1] = 1;
            mixed_slots[i] = p;
            mixed_order[i] = i;
        }
        for (uint32_t i = MIXED_BATCH - 1; i > 0; i--) {
            uint32_t j = (uint32_t)(bench_rand() % (i + 1));
            uint32_t t = mixed_order[i];
            mixed_order[i] = mixed_order[j];
            mixed_order[j] = t;
        }
        for (uint32_t i = 0; i < MIXED_BATCH; i++)
            ba_free(mixed_slots[mixed_order[i]]);
    }
}

/* A block grown from 64 KiB to 4 MiB in 64 KiB steps; n counts steps. */
static void heap_realloc_growth(size_t n)
{
    size_t steps = 0;
    while (steps < n) {
        size_t size = 64 << 10;
        char *p = ba_alloc(size);
        BENCH_CHECK(p, "alloc 64 KiB");
        p[0] = 7;
        while (size < (4u << 20) && steps < n) {
            size += 64 << 10;
            p = ba_realloc(p, size);
            BENCH_CHECK(p && p[0] == 7, "realloc to %zu", size);
            p[size - 1] = 1;
            steps++;
        }
        ba_free(p);
    }
}

/* Create a private heap, make 100 blocks of 16..1024 bytes, destroy it. */
static void heap_private_cycle(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *h = ba_heap_create();
        BENCH_CHECK(h, "heap create");
        for (int k = 0; k < 100; k++) {
            size_t size = 16 + (size_t)(bench_rand() % 1009);
            char *p = ba_heap_alloc(h, size);
            BENCH_CHECK(p, "heap alloc %zu", size);
            p[0] = 1;
        }
        ba_heap_destroy(h);
    }
}

/* Two threads, each n/2 small pairs on the shared (process) heap. n is
 * large because each sample starts and joins two threads: under Wine that
 * costs about a millisecond, which with 100,000 pairs a thread was a third
 * of the time and hid whether the threads run in parallel. Throughput
 * scaling = heap_small_pairs ns / heap_two_threads ns. */
struct pairs_job {
    size_t n;
    uint64_t seed;
};

static void pairs_thread(void *arg)
{
    struct pairs_job *job = arg;
    uint64_t x = job->seed;
    for (size_t i = 0; i < job->n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t size = 16 + (size_t)(x % 241);
        char *p = ba_alloc(size);
        BENCH_CHECK(p, "alloc %zu", size);
        p[0] = 1;
        ba_free(p);
    }
}

static void heap_two_threads(size_t n)
{
    struct pairs_job a = { n / 2, 88172645463325252ull }, b = { n - n / 2, 0x2545F4914F6CDD1Dull };
    bench_thread t1 = bench_thread_run(pairs_thread, &a);
    bench_thread t2 = bench_thread_run(pairs_thread, &b);
    bench_thread_join(t1);
    bench_thread_join(t2);
}

/* Allocate here, free there: the main thread fills a batch of blocks, the
 * other thread frees it while the next batch is filled. n counts pairs.
 * Batches are large because under Wine an event wait or set is a
 * wineserver round trip (6 or 50-70 us on the Intel VM, depending on
 * whether the host still polls the idle vCPU). The threads hand batches
 * over through counters and wait for each other as a spin-then-block lock
 * does: spin up to CROSS_SPIN_NS, then sleep on an event that the other
 * side sets only if someone sleeps. With plain events, four round trips a
 * batch were 5-8 ns of each pair on both sides; with spinning alone, a
 * side whose threads are unbalanced burnt the vCPU its other thread
 * needed. */
#define CROSS_BATCH 8192
#define CROSS_SPIN_NS 50000

struct cross_counter {
    _Atomic size_t count; /* batches filled, or freed */
    _Atomic int sleeping; /* the one waiter sleeps, or is about to */
    bench_event wake;
};

static struct {
    void *blocks[2][CROSS_BATCH];
    size_t batches;
    struct cross_counter filled, freed;
} cross;

/* Returns once c->count >= at_least; acquire, so that what the other side
 * did before posting (the blocks it filled, the slots it emptied) is seen.
 * The seq_cst pair sleeping/count against count/sleeping in cross_post
 * means one of the two sides sees the other: no wake-up is lost. A stale
 * wake-up only makes one loop turn. */
static void cross_wait(struct cross_counter *c, size_t at_least)
{
    uint64_t start = bench_now_ns();
    do {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&c->count, memory_order_acquire) >= at_least)
                return;
            bench_cpu_relax();
        }
    } while (bench_now_ns() - start < CROSS_SPIN_NS);
    for (;;) {
        atomic_store(&c->sleeping, 1);
        if (atomic_load(&c->count) >= at_least)
            break;
        bench_event_wait(&c->wake);
    }
    atomic_store(&c->sleeping, 0);
}

static void cross_post(struct cross_counter *c, size_t count)
{
    atomic_store(&c->count, count);
    if (atomic_load(&c->sleeping))
        bench_event_set(&c->wake);
}

static void cross_freer(void *arg)
{
    (void)arg;
    for (size_t b = 0; b < cross.batches; b++) {
        cross_wait(&cross.filled, b + 1);
        for (int i = 0; i < CROSS_BATCH; i++)
            ba_free(cross.blocks[b & 1][i]);
        cross_post(&cross.freed, b + 1);
    }
}

static void heap_cross_thread_free(size_t n)
{
    cross.batches = (n + CROSS_BATCH - 1) / CROSS_BATCH;
    struct cross_counter *counters[2] = { &cross.filled, &cross.freed };
    for (int k = 0; k < 2; k++) {
        atomic_store(&counters[k]->count, 0);
        atomic_store(&counters[k]->sleeping, 0);
        bench_event_init(&counters[k]->wake);
    }
    bench_thread t = bench_thread_run(cross_freer, NULL);
    for (size_t b = 0; b < cross.batches; b++) {
        /* Slot b & 1 last held batch b - 2. */
        cross_wait(&cross.freed, b < 2 ? 0 : b - 1);
        for (int i = 0; i < CROSS_BATCH; i++) {
            size_t size = 16 + (size_t)(bench_rand() % 241);
            char *p = ba_alloc(size);
            BENCH_CHECK(p, "alloc %zu", size);
            p[0] = 1;
            cross.blocks[b & 1][i] = p;
        }
        cross_post(&cross.filled, b + 1);
    }
    bench_thread_join(t);
    for (int k = 0; k < 2; k++)
        bench_event_destroy(&counters[k]->wake);
}

#define BENCH_HEAP_CASES                                          \
    { "heap_small_pairs", heap_small_pairs, 200000, 20000 },      \
    { "heap_mixed_batch", heap_mixed_batch, 30000, 10000 },       \
    { "heap_realloc_growth", heap_realloc_growth, 630, 126 },     \
    { "heap_private_cycle", heap_private_cycle, 200, 20 },        \
    { "heap_two_threads", heap_two_threads, 2000000, 100000 },    \
    { "heap_cross_thread_free", heap_cross_thread_free, 262144, 16384 }

#endif
