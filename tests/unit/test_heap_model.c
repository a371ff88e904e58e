/*
 * test_heap_model.c - the heap engine against a simple model, with random
 * operation sequences.
 *
 * The model is a list of live blocks: address, size asked for, and a tag
 * that generates the block's contents (byte i is tag + 31 * i). Each
 * operation (allocate, free, reallocate with HEAP_REALLOC_IN_PLACE_ONLY /
 * HEAP_ZERO_MEMORY or not, a double free, a free of a misaligned pointer,
 * a forced pass of the background purge)
 * is applied to the heap and to the model; then:
 *  - results are what the Windows rules say (16-byte alignment, HeapSize is
 *    the size asked for, zeroed memory where asked, in-place reallocation
 *    keeps the address, a failed reallocation leaves the block as it was,
 *    refused pointers change nothing, only a fixed-size heap or an
 *    impossible size may run out of memory);
 *  - no two live blocks overlap, and every block keeps its contents (the
 *    block touched now in full, all blocks sampled now and then, all in
 *    full at the end);
 *  - heap_validate accepts the heap, HeapWalk reports exactly the live
 *    blocks with their sizes, and HeapSummary's allocated bytes add up.
 * Heaps: growable, fixed-size (maximum 2 MiB), HEAP_NO_SERIALIZE, and the
 * process heap. Any seed is reproducible: MEMSHIM_SEED=N runs that one
 * (MEMSHIM_HEAP_OPS=N changes the number of operations per seed).
 *
 * Built with -DMEMSHIM_FUZZ (and clang's -fsanitize=fuzzer) the same model
 * becomes a libFuzzer target: the operations come from the fuzzer's input
 * (`ninja -C build tests/unit/fuzz_heap`, see the README).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/heap/heap.h"
#include "../../src/heap/heap_info.h"
#include "unit.h"
#include "model_random.h"

#define MAX_BLOCKS 48
#define FIXED_MAX ((size_t)2 << 20)

struct model_block {
    uint8_t *p;
    size_t size;
    uint8_t tag;
};

static struct model_block blocks[MAX_BLOCKS];
static unsigned nblocks;
static struct ms_heap *heap;
static int heap_kind;           /* 0 growable, 1 fixed, 2 no-serialize, 3 the process heap */
static unsigned long long current_seed;
static int failed_seed;
static unsigned long ops_done, ops_failed;  /* operations applied; of them, allocation failures */


#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            if (!failed_seed)                                                  \
                CHECK(0, "seed %llu (heap kind %d): %s", current_seed, heap_kind, #cond); \
            failed_seed = 1;                                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

static size_t random_size(void)
{
    unsigned r = rnd(1000);
    if (r < 700)
        return rnd(300);
    if (r < 900)
        return rnd(9000);
    if (r < 985)
        return rnd(300000);
    if (r < 998)
        return 300000 + rnd(1200000);
    return (size_t)1 << 50;                 /* never possible */
}

static inline uint8_t pattern(uint8_t tag, size_t i)
{
    return (uint8_t)(tag + 31u * (unsigned)i);
}

static void fill(struct model_block *b, size_t from)
{
    for (size_t i = from; i < b->size; i++)
        b->p[i] = pattern(b->tag, i);
}

static int contents_ok(const struct model_block *b, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (b->p[i] != pattern(b->tag, i))
            return 0;
    return 1;
}

static int zero_from(const uint8_t *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Does [p, p+size) overlap a live block other than `self`? Zero-size
 * blocks count as one byte: they are distinct blocks too. */
static int overlaps(const uint8_t *p, size_t size, int self)
{
    size_t len = size ? size : 1;
    for (unsigned i = 0; i < nblocks; i++) {
        if ((int)i == self)
            continue;
        size_t other = blocks[i].size ? blocks[i].size : 1;
        if (p < blocks[i].p + other && blocks[i].p < p + len)
            return 1;
    }
    return 0;
}

static int may_run_out(size_t size)
{
    return heap_kind == 1 || size > ((size_t)1 << 40);
}

static void op_alloc(void)
{
    if (nblocks == MAX_BLOCKS)
        return;
    size_t size = random_size();
    uint32_t flags = rnd(3) ? 0 : MS_HEAP_ZERO_MEMORY;
    ms_status err = MS_OK;
    uint8_t *p = heap_alloc(heap, flags, size, &err);
    ops_done++;
    if (!p) {
        ops_failed++;
        EXPECT(may_run_out(size) && err == MS_ERROR_NOT_ENOUGH_MEMORY);
        return;
    }
    EXPECT(((uintptr_t)p & 15) == 0);
    EXPECT(heap_size(heap, 0, p) == size);
    EXPECT(heap_parent(heap_owner_of(p)) == heap);
    EXPECT(!(flags & MS_HEAP_ZERO_MEMORY) || zero_from(p, 0, size));
    EXPECT(!overlaps(p, size, -1));
    struct model_block *b = &blocks[nblocks++];
    b->p = p;
    b->size = size;
    b->tag = (uint8_t)rnd(256);
    fill(b, 0);
}

static void op_free(unsigned i)
{
    struct model_block b = blocks[i];
    EXPECT(contents_ok(&b, b.size));
    EXPECT(heap_free(heap, 0, b.p) == MS_OK);
    blocks[i] = blocks[--nblocks];
    /* A second free is refused and changes nothing (unless the address
     * was handed out again meanwhile: it was not, nothing ran since). */
    if (!rnd(4))
        EXPECT(heap_free(heap, 0, b.p) == MS_ERROR_INVALID_PARAMETER);
}

static void op_realloc(unsigned i)
{
    struct model_block *b = &blocks[i];
    size_t size = random_size();
    uint32_t flags = (rnd(3) ? 0 : MS_HEAP_ZERO_MEMORY) | (rnd(4) ? 0 : MS_HEAP_REALLOC_IN_PLACE_ONLY);
    ms_status err = MS_OK;
    uint8_t *p = heap_realloc(heap, flags, b->p, size, &err);
    ops_done++;
    if (!p) {
        ops_failed++;
        EXPECT(err == MS_ERROR_NOT_ENOUGH_MEMORY);
        EXPECT((flags & MS_HEAP_REALLOC_IN_PLACE_ONLY) || may_run_out(size));
        EXPECT(heap_size(heap, 0, b->p) == b->size);
        EXPECT(contents_ok(b, b->size));
        return;
    }
    EXPECT(!(flags & MS_HEAP_REALLOC_IN_PLACE_ONLY) || p == b->p);
    EXPECT(((uintptr_t)p & 15) == 0);
    EXPECT(heap_size(heap, 0, p) == size);
    size_t kept = b->size < size ? b->size : size;
    b->p = p;
    EXPECT(contents_ok(b, kept));
    EXPECT(!(flags & MS_HEAP_ZERO_MEMORY) || zero_from(p, kept, size));
    EXPECT(!overlaps(p, size, (int)i));
    b->size = size;
    fill(b, kept);
}

static void op_bad_pointer(unsigned i)
{
    /* A misaligned pointer into a block is never a block. */
    uint8_t *inside = blocks[i].p + 8;
    EXPECT(heap_free(heap, 0, inside) == MS_ERROR_INVALID_PARAMETER);
    EXPECT(heap_size(heap, 0, inside) == (size_t)-1);
    ms_status err = MS_OK;
    EXPECT(heap_realloc(heap, 0, inside, 10, &err) == NULL && err == MS_ERROR_INVALID_PARAMETER);
    EXPECT(!heap_validate(heap, 0, inside));
}

/* What the background purge does to a quiet heap (heap_purge.c), forced:
 * whatever it gives back, every live block keeps its contents. */
static void op_purge(void)
{
    heap_purge_pass(UINT64_MAX, 0);
    for (unsigned i = 0; i < nblocks; i++)
        EXPECT(contents_ok(&blocks[i], blocks[i].size));
}

/* The whole heap against the model: validation, the walk, the summary. */
static void check_heap(int full_contents)
{
    EXPECT(heap_validate(heap, 0, NULL));
    size_t sum = 0;
    for (unsigned i = 0; i < nblocks; i++) {
        sum += blocks[i].size;
        EXPECT(heap_validate(heap, 0, blocks[i].p));
        EXPECT(contents_ok(&blocks[i], full_contents ? blocks[i].size : (blocks[i].size < 64 ? blocks[i].size : 64)));
    }
    if (heap_kind == 3)
        return;                         /* other tests' blocks live in the process heap too */
    struct heap_summary s;
    heap_summarize(heap, 0, &s);
    EXPECT(s.allocated == sum);
    EXPECT(s.committed >= s.allocated && s.reserved >= s.committed);
    struct heap_walk_entry e = { 0 };
    unsigned busy = 0, matched = 0;
    ms_status st;
    while ((st = heap_walk(heap, 0, &e)) == MS_OK) {
        if (!(e.flags & MS_PHE_BUSY))
            continue;
        busy++;
        for (unsigned i = 0; i < nblocks; i++)
            if ((uintptr_t)blocks[i].p == e.data && blocks[i].size == e.size)
                matched++;
        EXPECT(busy <= nblocks);
    }
    EXPECT(st == MS_ERROR_NO_MORE_ITEMS);
    EXPECT(busy == nblocks && matched == nblocks);
}

static void run_seed(unsigned long long seed, int ops)
{
    current_seed = seed;
    failed_seed = 0;
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
#ifdef MEMSHIM_FUZZ
    heap_kind = (int)rnd(4);
#else
    heap_kind = (int)(seed % 4);        /* CI's seeds cover every kind */
#endif
    ms_status err = MS_OK;
    switch (heap_kind) {
    case 0: heap = heap_create(0, 0, 0, &err); break;
    case 1: heap = heap_create(0, 0, FIXED_MAX, &err); break;
    case 2: heap = heap_create(MS_HEAP_NO_SERIALIZE, 0, 0, &err); break;
    default: heap = heap_process(); break;
    }
    if (!heap) {
        CHECK(0, "seed %llu: no heap (%u)", seed, err);
        failed_seed = 1;
        return;
    }
    for (int k = 0; k < ops && !failed_seed; k++) {
        unsigned r = rnd(100);
        if (nblocks == 0 || r < 40)
            op_alloc();
        else if (r < 70)
            op_free(rnd(nblocks));
        else if (r < 95)
            op_realloc(rnd(nblocks));
        else if (r < 98)
            op_bad_pointer(rnd(nblocks));
        else
            op_purge();
        if (!failed_seed && (k % 64) == 63)
            check_heap(0);
    }
    if (!failed_seed)
        check_heap(1);
    while (nblocks)
        heap_free(heap, 0, blocks[--nblocks].p);
    if (heap_kind != 3)
        heap_destroy(heap);
    heap = NULL;
}

#ifdef MEMSHIM_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data = data;
    fuzz_left = size;
    run_seed(size, (int)(size / 4) + 1);
    if (failed_seed)
        __builtin_trap();           /* the heap and the model disagree */
    return 0;
}
#else
int main(void)
{
    const char *one = getenv("MEMSHIM_SEED");
    const char *ops_env = getenv("MEMSHIM_HEAP_OPS");
    int ops = ops_env ? atoi(ops_env) : 3000;
    int seeds = one ? 1 : 8, bad = 0;
    for (int s = 0; s < seeds; s++) {
        unsigned long long seed = one ? strtoull(one, NULL, 0) : (unsigned long long)s + 1;
        run_seed(seed, ops);
        bad += failed_seed;
    }
    CHECK(bad == 0, "%d of %d seeds disagreed with the model (rerun one with MEMSHIM_SEED=N)", bad, seeds);
    CHECK(ops_done > (unsigned long)seeds * (unsigned long)ops / 2 && ops_failed > 0 && ops_failed < ops_done / 4,
          "%lu allocations and reallocations ran, %lu failed as allowed", ops_done, ops_failed);
    return unit_done();
}
#endif
