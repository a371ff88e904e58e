/*
 * test_heap_debug.c - the heap debugging modes (src/heap/heap_debug.c),
 * natively: leak records (exactly the live blocks and regions, with their
 * sites, across free, realloc, destroy and refused frees), fill patterns
 * and tail checks, the page heap's layout (block end against an
 * inaccessible page, or start after one), its freed-block FIFO, double and
 * interior frees, realloc, fixed-size heaps and the statistics, and
 * several threads at once.
 *
 * The modes are process-wide and meant to be set once; this test switches
 * them between phases with no debug block outstanding.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../../src/heap/heap_debug.h"
#include "../../src/vm/vm.h"
#include "unit.h"

/* The "call site" the capture callback reports: set by the test. */
static _Thread_local uintptr_t current_site;

static void fake_capture(uintptr_t frames[HEAP_DEBUG_FRAMES])
{
    for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
        frames[i] = i == 0 ? current_site : 0;
}

static int problems[2];
static struct heap_debug_record last_problem;

static void note_problem(enum heap_debug_problem what, const struct heap_debug_record *rec)
{
    problems[what]++;
    last_problem = *rec;
}

static const struct heap_debug_callbacks callbacks = { fake_capture, note_problem };

struct live_scan {
    unsigned blocks, regions;
    uint64_t bytes;
    uintptr_t want;                     /* a block or region to find */
    struct heap_debug_record found;
    int seen;
};

static void scan_one(const struct heap_debug_record *rec, void *ctx)
{
    struct live_scan *s = ctx;
    if (rec->kind == HEAP_DEBUG_REGION)
        s->regions++;
    else
        s->blocks++;
    s->bytes += rec->size;
    if (rec->block == s->want) {
        s->found = *rec;
        s->seen++;
    }
}

static struct live_scan scan(uintptr_t want)
{
    struct live_scan s = { 0 };
    s.want = want;
    heap_debug_for_each_live(scan_one, &s);
    return s;
}

static bool all_pattern(const void *p, size_t n, uint32_t pattern)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)(pattern >> (8 * (i & 3))))
            return false;
    return true;
}

static void test_tracking(void)
{
    CHECK_EQ(heap_debug_enable(HEAP_DEBUG_TRACK | HEAP_DEBUG_FILL, &callbacks, 0), MS_OK);
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    CHECK(h != NULL, "heap_create");
    struct live_scan before = scan(0);

    current_site = 0x1111;
    char *a = heap_alloc(h, 0, 100, &err);
    current_site = 0x2222;
    char *b = heap_alloc(h, 0, 300000, &err);      /* a large block */
    current_site = 0x3333;
    char *c = heap_alloc(h, MS_HEAP_ZERO_MEMORY, 50, &err);
    CHECK(a && b && c, "three blocks");
    CHECK(all_pattern(a, 100, HEAP_DEBUG_FILL_FRESH), "a fresh block reads 0xBAADF00D");
    CHECK(all_pattern(b, 300000, HEAP_DEBUG_FILL_FRESH), "a fresh large block too");
    CHECK(all_pattern(c, 50, 0), "HEAP_ZERO_MEMORY wins over the fill");

    struct live_scan s = scan((uintptr_t)b);
    CHECK_EQ(s.blocks - before.blocks, 3);
    CHECK_EQ(s.bytes - before.bytes, 300150);
    CHECK_EQ(s.seen, 1);
    CHECK_EQ(s.found.size, 300000);
    CHECK_EQ(s.found.alloc_frames[0], 0x2222);
    CHECK(s.found.heap == h, "the record names its heap");

    /* Free: the record goes, the freed bytes read 0xFEEEFEEE (the engine
     * keeps nothing in a small block). */
    CHECK_EQ(heap_free(h, 0, a), MS_OK);
    CHECK(all_pattern(a, 100, HEAP_DEBUG_FILL_FREED), "a freed block reads 0xFEEEFEEE");
    CHECK_EQ(scan((uintptr_t)a).seen, 0);
    /* A refused free (double free) changes nothing. */
    CHECK_EQ(heap_free(h, 0, a), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(heap_free(h, 0, c + 8), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(scan((uintptr_t)c).seen, 1);

    /* Realloc: the record follows the block, with the realloc's site;
     * the growth is filled. */
    current_site = 0x4444;
    char *c2 = heap_realloc(h, 0, c, 5000, &err);
    CHECK(c2 != NULL, "realloc");
    CHECK(all_pattern(c2, 50, 0) && all_pattern(c2 + 50, 4950, HEAP_DEBUG_FILL_FRESH),
          "realloc keeps the contents and fills the growth");
    s = scan((uintptr_t)c2);
    CHECK(s.seen == 1 && s.found.size == 5000 && s.found.alloc_frames[0] == 0x4444, "the record moved");
    CHECK(c2 == c || scan((uintptr_t)c).seen == 0, "no record is left at the old address");
    CHECK(heap_realloc(h, 0, c2 + 16, 10, &err) == NULL && err == MS_ERROR_INVALID_PARAMETER,
          "a refused realloc");
    CHECK_EQ(scan((uintptr_t)c2).seen, 1);

    /* Tail check: one byte past a 13-byte block (slack in its class). */
    char *t = heap_alloc(h, 0, 13, &err);
    t[13] = 0x41;
    int bad_before = problems[HEAP_DEBUG_BAD_TAIL];
    CHECK(!heap_validate(h, 0, t), "heap_validate sees the damaged tail");
    CHECK_EQ(heap_free(h, 0, t), MS_OK);
    CHECK_EQ(problems[HEAP_DEBUG_BAD_TAIL] - bad_before, 1);
    CHECK(last_problem.block == (uintptr_t)t && last_problem.size == 13, "the problem names the block");

    /* Regions: listed while allocated. */
    current_site = 0x5555;
    uintptr_t r = 0;
    CHECK_EQ(vm_allocate(&r, 1 << 16, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    heap_debug_note_region(r, 1 << 16);
    s = scan(r);
    CHECK(s.seen == 1 && s.found.kind == HEAP_DEBUG_REGION && s.found.alloc_frames[0] == 0x5555, "a region");
    size_t zero = 0;
    CHECK_EQ(vm_free(&r, &zero, VM_MEM_RELEASE), MS_OK);
    CHECK_EQ(scan(r).seen, 0);

    /* Destroy forgets the heap's blocks. */
    CHECK_EQ(heap_destroy(h), MS_OK);
    s = scan(0);
    CHECK_EQ(s.blocks, before.blocks);
    CHECK_EQ(s.bytes, before.bytes);
}

static bool page_accessible(uintptr_t addr)
{
    struct vm_region_info info;
    return vm_query(addr, &info) == MS_OK && info.state == VM_MEM_COMMIT;
}

static void test_page_heap(void)
{
    CHECK_EQ(heap_debug_enable(HEAP_DEBUG_PAGE, &callbacks, 4), MS_OK);
    CHECK(heap_debug_mode & HEAP_DEBUG_TRACK, "the page heap tracks blocks");
    ms_status err = 0;
    struct ms_heap *h = heap_create(0, 0, 0, &err);
    static const size_t sizes[] = { 0, 1, 13, 16, 32, 4095, 4096, 4097, 100000 };
    char *blocks[9];
    for (unsigned i = 0; i < 9; i++) {
        current_site = 0x100 + i;
        blocks[i] = heap_alloc(h, MS_HEAP_ZERO_MEMORY, sizes[i], &err);
        uintptr_t p = (uintptr_t)blocks[i];
        size_t span = ms_align_up(sizes[i] ? sizes[i] : 1, 16);
        CHECK(p && (p & 15) == 0 && ((p + span) & (MS_PAGE_SIZE - 1)) == 0,
              "block of %zu: 16-aligned, ends where its pages end", sizes[i]);
        CHECK(page_accessible(p) && !page_accessible(p + span), "block of %zu: an inaccessible page follows",
              sizes[i]);
        CHECK_EQ(heap_size(h, 0, blocks[i]), sizes[i]);
        CHECK(heap_owner_of(blocks[i]) == h, "its heap owns it");
        CHECK(heap_validate(h, 0, blocks[i]), "validates");
        struct heap_debug_record rec;
        CHECK(heap_debug_find_fault(p + span, &rec) && rec.block == p && !rec.freed,
              "a fault on the next page finds the block");
    }
    CHECK_EQ(heap_size(h, 0, blocks[4] + 16), (size_t)-1);
    CHECK_EQ(heap_free(h, 0, blocks[4] + 16), MS_ERROR_INVALID_PARAMETER);

    /* Free: inaccessible, found as freed with the free's site. */
    current_site = 0x999;
    uintptr_t first = (uintptr_t)blocks[4];
    CHECK_EQ(heap_free(h, 0, blocks[4]), MS_OK);
    CHECK(!page_accessible(first), "a freed block is inaccessible");
    struct heap_debug_record rec;
    CHECK(heap_debug_find_fault(first + 8, &rec) && rec.freed && rec.free_frames[0] == 0x999 &&
          rec.alloc_frames[0] == 0x104, "a use after free finds the block, its allocation and free sites");
    CHECK_EQ(heap_size(h, 0, blocks[4]), (size_t)-1);
    int doubles = problems[HEAP_DEBUG_DOUBLE_FREE];
    CHECK_EQ(heap_free(h, 0, blocks[4]), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(problems[HEAP_DEBUG_DOUBLE_FREE] - doubles, 1);

    /* Tail: 13 bytes leave 3 of slack before the guard page. */
    blocks[2][13] = 1;
    int bad = problems[HEAP_DEBUG_BAD_TAIL];
    CHECK(!heap_validate(h, 0, blocks[2]), "validate sees the damaged slack");
    CHECK_EQ(heap_free(h, 0, blocks[2]), MS_OK);
    CHECK_EQ(problems[HEAP_DEBUG_BAD_TAIL] - bad, 1);

    /* Realloc moves and keeps the contents. */
    memset(blocks[5], 7, 4095);
    char *moved = heap_realloc(h, 0, blocks[5], 9000, &err);
    CHECK(moved && moved != blocks[5] && moved[0] == 7 && moved[4094] == 7, "realloc moves, contents kept");
    CHECK_EQ(heap_size(h, 0, moved), 9000);
    CHECK(heap_realloc(h, MS_HEAP_REALLOC_IN_PLACE_ONLY, moved, 20000, &err) == NULL &&
          err == MS_ERROR_NOT_ENOUGH_MEMORY, "in place only cannot grow a page-heap block");
    char *same = heap_realloc(h, MS_HEAP_REALLOC_IN_PLACE_ONLY, blocks[3], 12, &err);
    CHECK(same == NULL || same == blocks[3], "in place only never moves");

    /* The FIFO keeps 4 freed blocks: after 4 more frees the first is gone. */
    heap_free(h, 0, blocks[0]);
    heap_free(h, 0, blocks[1]);
    heap_free(h, 0, blocks[6]);
    CHECK(!heap_debug_find_fault(first, &rec), "the oldest freed block left the FIFO");
    struct vm_allocation_info info;
    CHECK(!vm_lookup(first, &info), "and its region was released");

    /* Destroy releases the rest (live and freed). */
    uintptr_t live = (uintptr_t)blocks[8];
    CHECK_EQ(heap_destroy(h), MS_OK);
    CHECK(!vm_lookup(live, &info), "heap_destroy releases its page-heap blocks");
    CHECK_EQ(scan(0).blocks, 0);

    /* A fixed-size heap's maximum holds; the statistics count the blocks'
     * pages, and whole-heap validation still agrees with the engine. */
    struct ms_heap *fixed = heap_create(0, 0x10000, 0x10000, &err);
    CHECK(fixed != NULL, "a fixed 64 KiB heap");
    CHECK(heap_alloc(fixed, 0, 0x20000, &err) == NULL && err == MS_ERROR_NOT_ENOUGH_MEMORY,
          "0x20000 bytes do not fit in it");
    struct heap_totals t0, t1, t2;
    heap_totals(&t0);
    char *small = heap_alloc(fixed, 0, 100, &err);
    heap_totals(&t1);
    CHECK(small != NULL, "100 bytes fit");
    CHECK_EQ(t1.in_use - t0.in_use, MS_PAGE_SIZE);
    CHECK(heap_validate(fixed, 0, NULL), "whole-heap validation with a page-heap block");
    CHECK_EQ(heap_free(fixed, 0, small), MS_OK);
    heap_totals(&t2);
    CHECK_EQ(t2.in_use, t0.in_use);
    CHECK_EQ(heap_destroy(fixed), MS_OK);

    /* Front: the block starts right after an inaccessible page. */
    CHECK_EQ(heap_debug_enable(HEAP_DEBUG_PAGE | HEAP_DEBUG_FRONT, &callbacks, 4), MS_OK);
    h = heap_create(0, 0, 0, &err);
    char *f = heap_alloc(h, 0, 40, &err);
    CHECK(f && ((uintptr_t)f & (MS_PAGE_SIZE - 1)) == 0 && !page_accessible((uintptr_t)f - 1) &&
          page_accessible((uintptr_t)f), "front: the page before the block is inaccessible");
    CHECK(heap_debug_find_fault((uintptr_t)f - 1, &rec) && rec.block == (uintptr_t)f, "an underrun finds it");
    CHECK_EQ(heap_free(h, 0, f), MS_OK);
    CHECK_EQ(heap_destroy(h), MS_OK);
}

#define THREADS 4
#define ROUNDS 500

static struct ms_heap *shared_heap;

static void *worker(void *arg)
{
    current_site = (uintptr_t)arg;
    char *mine[16] = { 0 };
    for (int i = 0; i < ROUNDS; i++) {
        int k = i % 16;
        if (mine[k] && heap_free(shared_heap, 0, mine[k]) != MS_OK)
            return (void *)1;
        mine[k] = heap_alloc(shared_heap, 0, (size_t)(i % 300) + 1, NULL);
        if (!mine[k])
            return (void *)1;
        mine[k][0] = (char)i;
        if (i % 7 == 0) {
            mine[k] = heap_realloc(shared_heap, 0, mine[k], 500, NULL);
            if (!mine[k])
                return (void *)1;
        }
    }
    for (int k = 0; k < 16; k++)
        if (heap_free(shared_heap, 0, mine[k]) != MS_OK)
            return (void *)1;
    return NULL;
}

static void test_threads(unsigned mode)
{
    CHECK_EQ(heap_debug_enable(mode, &callbacks, 64), MS_OK);
    ms_status err;
    shared_heap = heap_create(0, 0, 0, &err);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed += r != NULL;
    }
    CHECK(failed == 0, "mode %#x: %d threads allocate, reallocate and free at once", mode, THREADS);
    CHECK_EQ(scan(0).blocks, 0);
    CHECK_EQ(heap_destroy(shared_heap), MS_OK);
}

int main(void)
{
    test_tracking();
    test_page_heap();
    test_threads(HEAP_DEBUG_TRACK | HEAP_DEBUG_FILL);
    test_threads(HEAP_DEBUG_PAGE);
    return unit_done();
}
