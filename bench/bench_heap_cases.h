/*
 * bench_heap_cases.h - the heap workloads, written once and built against
 * each allocator: Windows' HeapAlloc (builtin or memshim) in win_bench.c,
 * and glibc, mimalloc and memshim's core natively in native_bench.c. The
 * including file provides, for the allocator under test:
 *   void *ba_alloc(size_t); void ba_free(void *); void *ba_realloc(void *, size_t);
 *   void *ba_heap_create(void); void *ba_heap_alloc(void *h, size_t); void ba_heap_destroy(void *h);
 *   bench_thread_run(void (*fn)(void *), void *arg) -> handle; bench_thread_join(handle);
 *   a bench_event type with bench_event_init/set/wait/reset (auto-reset events).
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
 * Batches are large because under Wine an event wait or set is a wineserver
 * round trip (~20 us): with 1024-block batches those alone were ~80 ns of
 * each pair, on both sides, and the case measured Wine's events. */
#define CROSS_BATCH 8192
static struct {
    void *blocks[2][CROSS_BATCH];
    bench_event full[2], empty[2];
    size_t batches;
} cross;

static void cross_freer(void *arg)
{
    (void)arg;
    for (size_t b = 0; b < cross.batches; b++) {
        int k = (int)(b & 1);
        bench_event_wait(&cross.full[k]);
        for (int i = 0; i < CROSS_BATCH; i++)
            ba_free(cross.blocks[k][i]);
        bench_event_set(&cross.empty[k]);
    }
}

static void heap_cross_thread_free(size_t n)
{
    cross.batches = (n + CROSS_BATCH - 1) / CROSS_BATCH;
    for (int k = 0; k < 2; k++) {
        bench_event_init(&cross.full[k]);
        bench_event_init(&cross.empty[k]);
        bench_event_set(&cross.empty[k]);
    }
    bench_thread t = bench_thread_run(cross_freer, NULL);
    for (size_t b = 0; b < cross.batches; b++) {
        int k = (int)(b & 1);
        bench_event_wait(&cross.empty[k]);
        for (int i = 0; i < CROSS_BATCH; i++) {
            size_t size = 16 + (size_t)(bench_rand() % 241);
            char *p = ba_alloc(size);
            BENCH_CHECK(p, "alloc %zu", size);
            p[0] = 1;
            cross.blocks[k][i] = p;
        }
        bench_event_set(&cross.full[k]);
    }
    bench_thread_join(t);
    for (int k = 0; k < 2; k++) {
        bench_event_destroy(&cross.full[k]);
        bench_event_destroy(&cross.empty[k]);
    }
}

#define BENCH_HEAP_CASES                                          \
    { "heap_small_pairs", heap_small_pairs, 200000, 20000 },      \
    { "heap_mixed_batch", heap_mixed_batch, 30000, 10000 },       \
    { "heap_realloc_growth", heap_realloc_growth, 630, 126 },     \
    { "heap_private_cycle", heap_private_cycle, 200, 20 },        \
    { "heap_two_threads", heap_two_threads, 2000000, 100000 },    \
    { "heap_cross_thread_free", heap_cross_thread_free, 262144, 16384 }

#endif
