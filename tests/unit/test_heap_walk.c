/*
 * test_heap_walk.c - HeapWalk, HeapCompact, HeapSummary, the information
 * classes and the recursive HeapLock natively (src/heap/heap_walk.c,
 * heap_info.c, heap_userlock.c): every live block is walked exactly once
 * with its size, the entries of a segment tile it without gaps, bad
 * positions are refused, a walk under HeapLock completes while another
 * thread waits to allocate, and the figures agree with what was allocated.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../../src/heap/heap_info.h"
#include "../../src/heap/heap_userlock.h"
#include "../../src/vm/vm.h"
#include "unit.h"

#define SEG_SIZE ((uintptr_t)4 << 20)

struct walk_result {
    size_t entries, regions, busy, free_ranges, uncommitted;
    size_t busy_found;          /* of the blocks asked about */
    int sizes_right, tiled, order_ok;
    ms_status end;
};

/* Walk the whole heap; check the blocks in `blocks` appear once with their
 * sizes and that the entries of each segment follow each other. */
static struct walk_result walk_all(struct ms_heap *heap, uint32_t flags, void **blocks, const size_t *sizes, size_t n)
{
    struct walk_result r = { .sizes_right = 1, .tiled = 1, .order_ok = 1 };
    struct heap_walk_entry e = { 0 };
    uintptr_t expect = 0, seg = 0;
    ms_status st;
    unsigned char seen[4096] = { 0 };
    while ((st = heap_walk(heap, flags, &e)) == MS_OK) {
        r.entries++;
        if (e.flags & MS_PHE_REGION) {
            r.regions++;
            if (seg && expect && expect != seg + SEG_SIZE)
                r.tiled = 0;    /* the previous segment was not covered to its end */
            seg = e.data;
            expect = e.first_block;
            if (e.committed + e.uncommitted != SEG_SIZE || e.last_block != seg + SEG_SIZE)
                r.order_ok = 0;
            continue;
        }
        if (e.flags & MS_PHE_BUSY) {
            r.busy++;
            for (size_t i = 0; i < n; i++)
                if ((uintptr_t)blocks[i] == e.data) {
                    if (seen[i]++)
                        r.sizes_right = 0;      /* twice */
                    r.busy_found++;
                    if (e.size != sizes[i])
                        r.sizes_right = 0;
                }
        } else if (e.flags & MS_PHE_UNCOMMITTED) {
            r.uncommitted++;
        } else {
            r.free_ranges++;
        }
        if (e.region_index == MS_PHE_LARGE_REGION_INDEX && (e.flags & MS_PHE_BUSY))
            continue;                           /* large blocks are outside segments */
        if (e.data < seg || e.data >= seg + SEG_SIZE)
            r.order_ok = 0;
        if (expect && e.data != expect)
            r.tiled = 0;
        /* the next entry starts where this one ends (a busy block's end is its class) */
        expect = e.data + e.size + ((e.flags & MS_PHE_BUSY) ? e.overhead : 0);
        if ((e.flags & MS_PHE_BUSY) && e.overhead == 255)
            expect = 0;                         /* capped overhead: end unknown, not compared */
    }
    r.end = st;
    return r;
}

static void test_walk_fresh(void)
{
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    struct heap_walk_entry e = { 0 };
    CHECK_EQ(heap_walk(h, 0, &e), MS_OK);
    CHECK(e.flags == MS_PHE_REGION && e.data == (uintptr_t)heap_handle(h), "first entry: the heap's region");
    CHECK_EQ(e.region_index, 0);
    CHECK(e.first_block > e.data && e.first_block == e.data + e.size, "first block after the metadata");
    struct walk_result r = walk_all(h, 0, NULL, NULL, 0);
    CHECK_EQ(r.end, MS_ERROR_NO_MORE_ITEMS);
    CHECK(r.regions == 1 && r.busy == 0 && r.uncommitted >= 1, "fresh heap: one region, no busy, uncommitted range");
    CHECK(r.tiled && r.order_ok, "entries tile the segment");
    heap_destroy(h);
}

static void test_walk_blocks(void)
{
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    static const size_t sizes[] = { 0, 1, 16, 17, 100, 123, 456, 1000, 5000, 70000, 300000, 3000000, 5 << 20 };
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    void *blocks[N];
    for (size_t i = 0; i < N; i++)
        blocks[i] = heap_alloc(h, 0, sizes[i], &err);
    /* a few freed in between, so there are free runs inside spans */
    void *gone[8];
    for (int i = 0; i < 8; i++)
        gone[i] = heap_alloc(h, 0, 100, &err);
    for (int i = 0; i < 8; i += 2)
        heap_free(h, 0, gone[i]);
    struct walk_result r = walk_all(h, 0, blocks, sizes, N);
    CHECK_EQ(r.end, MS_ERROR_NO_MORE_ITEMS);
    CHECK_EQ(r.busy_found, N);
    CHECK(r.sizes_right, "every block once, with its size");
    CHECK_EQ(r.busy, N + 4);
    CHECK(r.free_ranges >= 2, "free ranges: %zu", r.free_ranges);
    CHECK(r.tiled && r.order_ok, "entries tile their segments, in order");

    /* The large blocks come last, region index 64. */
    struct heap_walk_entry e = { 0 }, last = { 0 };
    while (heap_walk(h, 0, &e) == MS_OK)
        last = e;
    CHECK(last.flags == MS_PHE_BUSY && last.region_index == MS_PHE_LARGE_REGION_INDEX &&
              (last.data == (uintptr_t)blocks[N - 1] || last.data == (uintptr_t)blocks[N - 2] ||
               last.data == (uintptr_t)blocks[N - 3]),
          "last entry is a large block");

    /* Bad positions. */
    int stack_var = 0;
    e = (struct heap_walk_entry){ .data = (uintptr_t)&stack_var };
    CHECK_EQ(heap_walk(h, 0, &e), MS_ERROR_INVALID_PARAMETER);
    e = (struct heap_walk_entry){ .data = (uintptr_t)heap_handle(h) + 64 };
    CHECK_EQ(heap_walk(h, 0, &e), MS_ERROR_INVALID_PARAMETER);
    e = (struct heap_walk_entry){ .data = (uintptr_t)blocks[4], .flags = 0, .size = (size_t)-8 };
    CHECK_EQ(heap_walk(h, 0, &e), MS_ERROR_INVALID_PARAMETER);
    struct ms_heap *other = heap_create(0, 0, 0, &err);
    e = (struct heap_walk_entry){ .data = (uintptr_t)blocks[4], .flags = MS_PHE_BUSY, .size = 100 };
    CHECK_EQ(heap_walk(other, 0, &e), MS_ERROR_INVALID_PARAMETER);
    heap_destroy(other);

    /* Summary and compact agree with the blocks. */
    struct heap_summary s;
    heap_summarize(h, 0, &s);
    size_t total = 4 * 100;
    for (size_t i = 0; i < N; i++)
        total += sizes[i];
    CHECK_EQ(s.allocated, total);
    CHECK(s.committed >= s.allocated && s.reserved >= s.committed && s.max_reserve == s.reserved,
          "committed %zu reserved %zu max %zu", s.committed, s.reserved, s.max_reserve);
    size_t largest = heap_compact(h, 0);
    CHECK(largest >= 100 && largest < SEG_SIZE, "largest free %zu", largest);

    /* HeapOptimizeResources gives back the committed free slices, and the
     * empty spans the bins keep (a span emptied while alone in its bin
     * stays there otherwise, heap_small.c). Eight more 70000-byte blocks
     * fill the first span of their class and start a second: freed, one of
     * the two goes back to its segment and leaves its slices committed and
     * idle, the other stays in the bin; optimize gives back both. */
    void *more[8];
    for (int i = 0; i < 8; i++)
        more[i] = heap_alloc(h, 0, 70000, &err);
    for (int i = 0; i < 8; i++)
        heap_free(h, 0, more[i]);
    for (size_t i = 0; i < N; i++)
        if (sizes[i] >= 5000 && sizes[i] < 300000)
            heap_free(h, 0, blocks[i]), blocks[i] = NULL;
    struct heap_summary before, after;
    heap_summarize(h, 0, &before);
    heap_optimize_resources(h);
    heap_summarize(h, 0, &after);
    CHECK(after.committed < before.committed, "optimize decommitted: %zu -> %zu", before.committed, after.committed);
    CHECK(after.committed + 2 * 8 * 70000 <= before.committed, "both spans of the 70000-byte class went: %zu -> %zu",
          before.committed, after.committed);
    CHECK(heap_validate(h, 0, NULL), "valid after optimize");
    char *again = heap_alloc(h, 0, 70000, &err);
    memset(again, 0x77, 70000);
    CHECK(again && heap_validate(h, 0, NULL), "allocates again after optimize");
    heap_destroy(h);
}

static void test_empty_compact(void)
{
    ms_status err = 0;
    /* On cold memory an empty heap has committed nothing but metadata. (A
     * heap made on the kept pages of a destroyed one starts with what that
     * one had committed: see test_warm_compact.) */
    vm_keep_drop_all();
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    CHECK_EQ(heap_compact(h, 0), 0);
    struct heap_summary s;
    heap_summarize(h, 0, &s);
    CHECK(s.allocated == 0 && s.reserved == SEG_SIZE, "fresh heap summary");
    heap_destroy(h);
    h = heap_create(0, 0, 1 << 20, &err);
    heap_summarize(h, 0, &s);
    CHECK_EQ(s.max_reserve, 1 << 20);
    heap_destroy(h);
}

/* A heap on the warm pages of a destroyed one: its committed free slices
 * are free memory like any other, for HeapCompact and HeapSummary. */
static void test_warm_compact(void)
{
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    CHECK(h && heap_alloc(h, 0, 3000, &err) && heap_alloc(h, 0, 40, &err), "blocks in the first heap");
    heap_destroy(h);
    h = heap_create(0, 0, 0, &err);
    struct heap_summary s;
    heap_summarize(h, 0, &s);
    size_t largest = heap_compact(h, 0);
    CHECK(s.allocated == 0 && largest >= (64u << 10) && largest <= s.committed,
          "warm heap: largest free %zu of %zu committed", largest, s.committed);
    CHECK(heap_validate(h, 0, NULL), "warm heap validates");
    heap_destroy(h);
    /* HeapOptimizeResources for all heaps gives the kept pages back. */
    struct vm_counters c;
    vm_get_counters(&c);
    CHECK(c.kept_bytes > 0, "a destroyed heap's pages kept: %llu", (unsigned long long)c.kept_bytes);
    heap_optimize_resources(NULL);
    vm_get_counters(&c);
    CHECK_EQ(c.kept_bytes, 0);
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants after the drop: %s", why ? why : "ok");
}

static void test_compat(void)
{
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    CHECK_EQ(heap_compat_info(h), 0);
    CHECK_EQ(heap_set_compat_info(h, 0), MS_OK);
    CHECK_EQ(heap_set_compat_info(h, 2), MS_OK);
    CHECK_EQ(heap_compat_info(h), 2);
    CHECK_EQ(heap_set_compat_info(h, 0), MS_ERROR_GEN_FAILURE);
    CHECK_EQ(heap_set_compat_info(h, 1), MS_ERROR_GEN_FAILURE);
    CHECK_EQ(heap_compat_info(h), 2);
    heap_destroy(h);
    h = heap_create(MS_HEAP_NO_SERIALIZE, 0, 0, &err);
    CHECK_EQ(heap_set_compat_info(h, 2), MS_ERROR_GEN_FAILURE);
    heap_destroy(h);
    h = heap_create(0, 0, 1 << 20, &err);
    CHECK_EQ(heap_set_compat_info(h, 2), MS_ERROR_GEN_FAILURE);
    heap_destroy(h);
    CHECK_EQ(heap_compat_info(heap_process()), 2);
    CHECK(!heap_termination_on_corruption(), "termination off by default");
    heap_enable_termination_on_corruption();
    CHECK(heap_termination_on_corruption(), "termination on");
}

static atomic_int allocated_by_thread;

static void *waiting_allocator(void *arg)
{
    ms_status err;
    void *p = heap_alloc(arg, 0, 48, &err);
    atomic_store(&allocated_by_thread, p ? 1 : -1);
    heap_free(arg, 0, p);
    return NULL;
}

static void *foreign_unlock(void *arg)
{
    return (void *)(uintptr_t)heap_user_unlock(arg);
}

static void test_walk_under_lock(struct ms_heap *h, const char *what)
{
    ms_status err = 0;
    void *mine = heap_alloc(h, 0, 40, &err);
    atomic_store(&allocated_by_thread, 0);
    heap_user_lock(h);
    heap_user_lock(h);                  /* recursive */
    pthread_t t;
    pthread_create(&t, NULL, waiting_allocator, h);
    usleep(20000);
    /* The holder keeps using the heap while the other thread waits. */
    uint32_t flags = heap_userlock_flags(h, 0);
    CHECK(heap_userlock_held(h), "%s: held by this thread", what);
    void *more = heap_alloc(h, flags, 64, &err);
    size_t sizes[2] = { 40, 64 };
    void *blocks[2] = { mine, more };
    struct walk_result r = walk_all(h, flags, blocks, sizes, 2);
    CHECK(r.end == MS_ERROR_NO_MORE_ITEMS && r.busy_found == 2 && r.sizes_right, "%s: walk under HeapLock", what);
    CHECK_EQ(atomic_load(&allocated_by_thread), 0);
    pthread_t other;
    void *unlocked;
    pthread_create(&other, NULL, foreign_unlock, h);
    pthread_join(other, &unlocked);
    CHECK(!unlocked, "%s: another thread cannot release the holder's lock", what);
    CHECK(heap_userlock_held(h), "%s: still held", what);
    heap_free(h, flags, more);
    heap_user_unlock(h);
    usleep(10000);
    CHECK_EQ(atomic_load(&allocated_by_thread), 0);
    heap_user_unlock(h);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&allocated_by_thread), 1);
    CHECK(!heap_userlock_held(h), "%s: released", what);
    heap_free(h, 0, mine);
}

static void *walker(void *arg)
{
    struct ms_heap *h = arg;
    uintptr_t bad = 0;
    for (int round = 0; round < 50; round++) {
        struct heap_walk_entry e = { 0 };
        ms_status st;
        size_t n = 0;
        while ((st = heap_walk(h, 0, &e)) == MS_OK && n < 1000000)
            n++;
        bad += st != MS_ERROR_NO_MORE_ITEMS;
    }
    return (void *)bad;
}

/* Walks without HeapLock while other threads allocate and free: each walk
 * ends normally and the heap stays valid. On the process heap the
 * allocating threads may make new shards while a walk runs. */
static void *churn(void *arg)
{
    struct ms_heap *h = arg;
    ms_status err;
    void *live[64] = { 0 };
    uint64_t x = (uint64_t)(uintptr_t)&err | 1;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned k = (unsigned)(x % 64);
        if (live[k]) {
            heap_free(h, 0, live[k]);
            live[k] = NULL;
        } else {
            live[k] = heap_alloc(h, 0, (size_t)(x >> 20) % 2000, &err);
        }
    }
    for (unsigned k = 0; k < 64; k++)
        heap_free(h, 0, live[k]);
    return NULL;
}

static void test_walk_concurrent_process(void)
{
    pthread_t w, c[3];
    pthread_create(&w, NULL, walker, heap_process());
    for (int i = 0; i < 3; i++)
        pthread_create(&c[i], NULL, churn, heap_process());
    for (int i = 0; i < 3; i++)
        pthread_join(c[i], NULL);
    void *bad;
    pthread_join(w, &bad);
    CHECK(bad == NULL, "process heap: concurrent walks end with ERROR_NO_MORE_ITEMS");
    CHECK(heap_validate(heap_process(), 0, NULL), "process heap valid");
}

static void test_walk_concurrent(void)
{
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    pthread_t t;
    pthread_create(&t, NULL, walker, h);
    void *live[256] = { 0 };
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned k = (unsigned)(x % 256);
        if (live[k]) {
            heap_free(h, 0, live[k]);
            live[k] = NULL;
        } else {
            live[k] = heap_alloc(h, 0, (size_t)(x >> 20) % 3000, &err);
        }
    }
    void *bad;
    pthread_join(t, &bad);
    CHECK(bad == NULL, "concurrent walks end with ERROR_NO_MORE_ITEMS");
    CHECK(heap_validate(h, 0, NULL), "heap valid");
    heap_destroy(h);
}

static void *process_heap_user(void *arg)
{
    void **out = arg;
    ms_status err;
    out[0] = heap_alloc(heap_process(), 0, 333, &err);
    return NULL;
}

static void test_walk_process_heap(void)
{
    ms_status err = 0;
    void *blocks[2];
    size_t sizes[2] = { 333, 777 };
    pthread_t t;
    pthread_create(&t, NULL, process_heap_user, blocks);
    pthread_join(t, NULL);
    blocks[1] = heap_alloc(heap_process(), 0, 777, &err);
    struct walk_result r = walk_all(heap_process(), 0, blocks, sizes, 2);
    CHECK(r.end == MS_ERROR_NO_MORE_ITEMS && r.busy_found == 2 && r.sizes_right && r.tiled,
          "process heap: blocks of every shard walked");
    CHECK(r.regions >= 1, "regions %zu", r.regions);
    heap_free(heap_process(), 0, blocks[0]);
    heap_free(heap_process(), 0, blocks[1]);
}

int main(void)
{
    test_walk_fresh();
    test_walk_blocks();
    test_empty_compact();
    test_warm_compact();
    test_compat();
    test_walk_concurrent_process();     /* first: shards are still being made */
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    test_walk_under_lock(h, "private heap");
    heap_destroy(h);
    test_walk_under_lock(heap_process(), "process heap");
    test_walk_concurrent();
    test_walk_process_heap();
    return unit_done();
}
