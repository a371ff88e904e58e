/*
 * heap_small.c - blocks of up to 256 KiB: size classes, spans and their
 * out-of-line free bitmaps.
 *
 * Size classes: multiples of 16 up to 128 bytes, eight per doubling up to
 * 1 KiB (at most 12.5% internal waste), 32 per doubling up to 8 KiB (at
 * most 3.1%), then sixteen per doubling up to 256 KiB (at most 6.25%):
 * 208 classes. A batch of random sizes then needs little more memory than
 * a first-fit heap's: on the benchmarks' mixed batch (8 B..4 KiB) rounding
 * took 4.1% of the bytes asked with eight per doubling everywhere, 2.2%
 * with sixteen from 1 KiB, 1.2% now. Up to 1 KiB, where the fast path's
 * table (heap_fast.h) serves the sizes, rounding is a smaller share of the
 * pages, and more classes there would spread a small heap over more
 * spans. A span of a class is 1..16 slices of 64 KiB (heap_class_slices),
 * chosen so that the tail of the span no block fits stays small; it holds
 * at least 4 blocks.
 *
 * Why a bitmap rather than the usual in-block free list: the heap has to
 * answer "is this a live block?" for every pointer it is given (Windows
 * programs do free garbage and expect FALSE, not a corrupted heap), and a
 * free list inside the blocks would be overwritten by the first
 * use-after-free or overrun. With the bitmap, allocation is a scan from a
 * cursor plus a count-trailing-zeros, and free is one bit test and set.
 *
 * Bins: heap->bins[cls] lists the spans of the class that have a free block.
 * A span that becomes empty goes back to its segment unless it is the last
 * one of its bin (so an alloc/free loop does not rebuild a span each time)
 * or the first of its bin in the order the class made its spans
 * (span_emptied); its slices stay committed for the next spans up to a
 * bound and a delay (HEAP_IDLE_SLICES), then go back to the host; a
 * segment left without spans goes back to the vm core after the same
 * delay (heap_small_sweep_segments) unless it is the heap's home.
 */
#include "heap_fast.h"

const uint32_t heap_class_size[HEAP_CLASSES] = {
    16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480,
    512, 576, 640, 704, 768, 832, 896, 960, 1024, 1056, 1088, 1120, 1152, 1184, 1216, 1248, 1280, 1312, 1344,
    1376, 1408, 1440, 1472, 1504, 1536, 1568, 1600, 1632, 1664, 1696, 1728, 1760, 1792, 1824, 1856, 1888, 1920,
    1952, 1984, 2016, 2048, 2112, 2176, 2240, 2304, 2368, 2432, 2496, 2560, 2624, 2688, 2752, 2816, 2880, 2944,
    3008, 3072, 3136, 3200, 3264, 3328, 3392, 3456, 3520, 3584, 3648, 3712, 3776, 3840, 3904, 3968, 4032, 4096,
    4224, 4352, 4480, 4608, 4736, 4864, 4992, 5120, 5248, 5376, 5504, 5632, 5760, 5888, 6016, 6144, 6272, 6400,
    6528, 6656, 6784, 6912, 7040, 7168, 7296, 7424, 7552, 7680, 7808, 7936, 8064, 8192, 8704, 9216, 9728, 10240,
    10752, 11264, 11776, 12288, 12800, 13312, 13824, 14336, 14848, 15360, 15872, 16384, 17408, 18432, 19456,
    20480, 21504, 22528, 23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720, 31744, 32768, 34816, 36864,
    38912, 40960, 43008, 45056, 47104, 49152, 51200, 53248, 55296, 57344, 59392, 61440, 63488, 65536, 69632,
    73728, 77824, 81920, 86016, 90112, 94208, 98304, 102400, 106496, 110592, 114688, 118784, 122880, 126976,
    131072, 139264, 147456, 155648, 163840, 172032, 180224, 188416, 196608, 204800, 212992, 221184, 229376,
    237568, 245760, 253952, 262144,
};

const uint8_t heap_fast_class[HEAP_FAST_MAX / 16 + 1] = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 16, 17, 17, 18,
    18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26,
    26, 27, 27, 27, 27, 28, 28, 28, 28, 29, 29, 29, 29, 30, 30, 30, 30, 31, 31, 31, 31,
};

/* Slices of a span of each class. One up to 1 KiB (the fast path's free
 * then finds the span record without following `back`, and a slice's
 * tail that no block fits is at most 1.5% of it there). Beyond, the
 * fewest slices, from the least that hold 8 blocks (4 for the largest
 * classes, 16 slices) up to 3 more, whose tail is at most 1/128 of the
 * span, else the one with the smallest tail: mimalloc's choice of span
 * length. One slice each up to 8 KiB would leave up to 11% of a slice
 * unused (7296-byte blocks: 7168 bytes), most of it in resident pages;
 * now at most 2.6% below 8 KiB. The pages of a span are touched only as its
 * blocks are used, so a longer span costs no resident memory before it
 * fills; test_span_slices pins the rule. */
const uint8_t heap_class_slices[HEAP_CLASSES] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
    1, 2, 2, 1, 3, 2, 2, 2, 2, 2, 2, 2, 2, 3, 1, 3, 2, 3, 1, 2, 3, 4, 2, 1, 2, 1, 2, 1, 1, 1, 4, 3, 2, 4, 4, 2,
    4, 3, 3, 4, 3, 4, 3, 3, 4, 3, 1, 3, 4, 4, 2, 4, 4, 2, 3, 1, 3, 2, 4, 1, 2, 1, 2, 1, 4, 3, 1, 4, 3, 1, 4, 2,
    3, 1, 4, 3, 3, 1, 1, 4, 2, 3, 4, 1, 4, 4, 3, 2, 3, 4, 1, 1, 2, 2, 3, 5, 2, 5, 2, 3, 2, 5, 3, 2, 5, 4, 2, 2,
    4, 4, 3, 5, 3, 6, 4, 3, 4, 7, 6, 7, 5, 4, 4, 4, 8, 8, 6, 5, 6, 9, 8, 6, 8, 9, 7, 7, 10, 8, 8, 8, 12, 9, 12,
    10, 12, 11, 13, 12, 16, 13, 14, 14, 15, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16,
};

static unsigned span_slices(unsigned cls)
{
    return heap_class_slices[cls];
}

static inline struct heap_segment *span_segment(const struct heap_span *span)
{
    return (struct heap_segment *)((uintptr_t)span & ~(HEAP_SEG_SIZE - 1));
}

static unsigned popcount64(uint64_t v)
{
    /* No __builtin_popcountll: without -mpopcnt it calls libgcc, which the
     * PE build does not link. */
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* --- side area ------------------------------------------------------------- */

static unsigned side_units(uint32_t nblocks, uint32_t block_size)
{
    return (unsigned)((heap_side_bytes(nblocks, block_size) + HEAP_SIDE_UNIT - 1) / HEAP_SIDE_UNIT);
}

static uint8_t *side_base(struct heap_segment *seg)
{
    return (uint8_t *)seg + HEAP_SIDE_OFFSET;
}

/* The first unit of the span's state in the side area (a span not inline). */
static unsigned side_unit_of(struct heap_segment *seg, const struct heap_span *span)
{
    return (unsigned)(((uint8_t *)span->freebits - side_base(seg)) / HEAP_SIDE_UNIT);
}

static void side_mark(uint64_t *used, unsigned at, unsigned n, bool taken)
{
    for (unsigned u = at; u < at + n;) {
        unsigned bit = u % 64, len = 64 - bit < at + n - u ? 64 - bit : at + n - u;
        uint64_t mask = (len == 64 ? ~0ull : (((uint64_t)1 << len) - 1)) << bit;
        used[u / 64] = taken ? used[u / 64] | mask : used[u / 64] & ~mask;
        u += len;
    }
}

/* First unit of a run of n free units, or -1: from each free unit on, the
 * next taken one ends the run. */
static int side_find(const uint64_t *used, unsigned n)
{
    unsigned u = 0;
    while (u + n <= HEAP_SIDE_UNITS) {
        unsigned w = u / 64;
        uint64_t freeb = ~used[w] & (~0ull << (u % 64));
        while (!freeb && ++w < HEAP_SIDE_WORDS)
            freeb = ~used[w];
        if (!freeb)
            return -1;
        u = w * 64 + (unsigned)__builtin_ctzll(freeb);
        if (u + n > HEAP_SIDE_UNITS)
            return -1;
        uint64_t taken = used[w] & (~0ull << (u % 64));
        while (!taken && (w + 1) * 64 < u + n && ++w < HEAP_SIDE_WORDS)
            taken = used[w];
        unsigned end = taken ? w * 64 + (unsigned)__builtin_ctzll(taken) : HEAP_SIDE_UNITS;
        if (end >= u + n)
            return (int)u;
        u = end;
    }
    return -1;
}

/* Move the side state of seg's live spans down to the start of the area,
 * in address order, so that all free units are one run at the end. Runs
 * with the allocation rights and meta_lock (span_create): nobody else
 * reads a span's bitmaps or sizes then (remote frees, HeapSize from other
 * threads and heap_lock all take meta_lock). Rare: it takes free units
 * scattered between live spans' state and a new span needing more than
 * any gap, with the area nearly full (spans of 16- and 32-byte blocks on
 * most slices). */
static void side_compact(struct heap_segment *seg)
{
    struct heap_span *order[HEAP_DATA_SLICES];
    unsigned n = 0;
    for (unsigned i = 0; i < HEAP_DATA_SLICES; i++) {
        struct heap_span *span = &seg->spans[i];
        if (!span->used || span->back || span->freebits == &span->inline_bits[0])
            continue;
        unsigned at = side_unit_of(seg, span), j = n++;
        for (; j > 0 && side_unit_of(seg, order[j - 1]) > at; j--)
            order[j] = order[j - 1];
        order[j] = span;
    }
    memset(seg->side_used, 0, sizeof(seg->side_used));
    unsigned next = 0;
    for (unsigned i = 0; i < n; i++) {
        struct heap_span *span = order[i];
        unsigned units = side_units(span->nblocks, span->block_size);
        uint8_t *to = side_base(seg) + (size_t)next * HEAP_SIDE_UNIT;
        /* Sorted by address, each moves down (or stays): memmove is safe. */
        memmove(to, (uint8_t *)span->freebits, heap_side_bytes(span->nblocks, span->block_size));
        heap_side_layout(to, span->nblocks, &span->freebits, &span->remote, &span->req.slack);
        side_mark(seg->side_used, next, units, true);
        next += units;
    }
}

/* Side state for a new span of seg (meta lock held, allocation rights). */
static uint8_t *side_alloc(struct heap_segment *seg, uint32_t nblocks, uint32_t block_size)
{
    unsigned units = side_units(nblocks, block_size);
    int at = side_find(seg->side_used, units);
    if (at < 0) {
        side_compact(seg);
        at = side_find(seg->side_used, units);  /* fits: see HEAP_SIDE_UNITS */
    }
    side_mark(seg->side_used, (unsigned)at, units, true);
    return side_base(seg) + (size_t)at * HEAP_SIDE_UNIT;
}

static void side_free(struct heap_segment *seg, struct heap_span *span)
{
    if (span->freebits != &span->inline_bits[0])
        side_mark(seg->side_used, side_unit_of(seg, span), side_units(span->nblocks, span->block_size), false);
}

/* --- bins ------------------------------------------------------------------ */

static void bin_push(struct ms_heap *heap, struct heap_span *span)
{
    struct heap_span **bin = &heap->bins[span->cls];
    span->prev = NULL;
    span->next = *bin;
    if (*bin)
        (*bin)->prev = span;
    *bin = span;
    span->in_bin = 1;
}

static void bin_remove(struct ms_heap *heap, struct heap_span *span)
{
    if (span->prev)
        span->prev->next = span->next;
    else
        heap->bins[span->cls] = span->next;
    if (span->next)
        span->next->prev = span->prev;
    span->next = span->prev = NULL;
    span->in_bin = 0;
}

/* --- spans ----------------------------------------------------------------- */

/* First slice of a run of k free slices in mask, or -1. */
static int find_run(uint64_t mask, unsigned k)
{
    uint64_t r = mask;
    for (unsigned i = 1; i < k && r; i++)
        r &= mask >> i;
    return r ? __builtin_ctzll(r) : -1;
}

/* Commit the slices in `need`, rounding up to groups of eight (512 KiB)
 * so that a growing heap makes one host call per group, not per span.
 * Not in a young heap: it has a span or so, and what it commits is
 * the range that HeapDestroy and the next HeapCreate mprotect (vm_keep.c),
 * where each page costs even when not resident (~1.5 ns a page table
 * entry walked: ~0.4 us a cycle for 7 slices committed ahead). */
static bool commit_slices(struct heap_segment *seg, uint64_t need)
{
    unsigned lo = (unsigned)__builtin_ctzll(need);
    unsigned hi = 64u - (unsigned)__builtin_clzll(need);
    if (!seg->heap || !seg->heap->young)
        hi = (hi + 7u) & ~7u;
    if (hi > HEAP_SLICES)
        hi = HEAP_SLICES;
    if (vm_commit_internal((uintptr_t)seg + ((size_t)lo << HEAP_SLICE_SHIFT),
                           (size_t)(hi - lo) << HEAP_SLICE_SHIFT) != MS_OK)
        return false;
    seg->committed_slices |= (hi - lo == 64 ? ~0ull : (((uint64_t)1 << (hi - lo)) - 1)) << lo;
    return true;
}

/* Free data slices a segment keeps committed for its next spans, and for
 * how long it keeps more. Slices freed beyond HEAP_IDLE_SLICES go back to
 * the host once the excess has lasted HEAP_PURGE_DELAY TSC cycles (10-30
 * ms at today's clock rates) and the segment's spans change again, highest
 * slices first. The delay is what keeps a heap that drains and refills
 * (a batch freed, then allocated again) from decommitting and committing
 * the same slices every round: each round's allocations take the idle
 * slices back below the bound and cancel the purge. An immediate bound
 * did exactly that on the mixed-batch bench, 20x slower. Emptied whole
 * segments are bounded by heap_create.c's segment cache;
 * HeapOptimizeResources gives back the bins' empty spans too and
 * decommits every idle slice at once (HeapCompact only measures, as on
 * Windows). */
#define HEAP_IDLE_SLICES 8u
#define HEAP_EMPTY_SEGMENTS_MAX 8u
#define HEAP_CLASS_SEARCH_SEGMENTS 64u
#define HEAP_PURGE_DELAY ((uint64_t)1 << 25)
#define HEAP_DATA_MASK (~0ull << HEAP_META_SLICES)

static uint64_t segment_idle(const struct heap_segment *seg)
{
    return seg->committed_slices & seg->free_slices & HEAP_DATA_MASK;
}

/* After a span came or went in seg (meta lock held): arm, cancel or run
 * the purge of its idle slices beyond the bound. */
static void segment_purge_check(struct heap_segment *seg)
{
    uint64_t idle = segment_idle(seg);
    unsigned count = popcount64(idle);
    if (count <= HEAP_IDLE_SLICES) {
        seg->purge_after = 0;
        return;
    }
    uint64_t now = host_cycles();
    if (!seg->purge_after) {
        seg->purge_after = now + HEAP_PURGE_DELAY;
        return;
    }
    if (now < seg->purge_after)
        return;
    seg->purge_after = 0;
    while (count > HEAP_IDLE_SLICES) {
        unsigned hi = 64u - (unsigned)__builtin_clzll(idle), lo = hi - 1;
        while (count - (hi - lo) > HEAP_IDLE_SLICES && lo > HEAP_META_SLICES && ((idle >> (lo - 1)) & 1))
            lo--;
        uint64_t run = (hi - lo == 64 ? ~0ull : (((uint64_t)1 << (hi - lo)) - 1)) << lo;
        if (vm_decommit_internal((uintptr_t)seg + ((uintptr_t)lo << HEAP_SLICE_SHIFT),
                                 (size_t)(hi - lo) << HEAP_SLICE_SHIFT, false) == MS_OK)
            seg->committed_slices &= ~run;
        idle &= ~run;
        count -= hi - lo;
    }
}

/* Segments left without spans stay in the heap for HEAP_PURGE_DELAY, as
 * idle slices do, and go back when a span comes or goes after that, or
 * at HeapOptimizeResources (`all`: whatever their age), or when the thread
 * owning a shard exits; at most HEAP_EMPTY_SEGMENTS_MAX wait at once (the
 * oldest goes back when one more empties), so a heap that frees a lot and
 * then only reuses the spans it kept holds at most that many. A heap that
 * drains and refills then finds its segments where they were, each
 * class's slices in them (slice_of_class); given back at once, they came
 * back from the cache in another order and the classes landed on other
 * slices every round: the mixed batch run four times on the process heap
 * touched 3.5 MB more than once. */
void heap_small_sweep_segments(struct ms_heap *heap, bool all)
{
    uint64_t now = host_cycles();
    for (struct heap_segment *seg = heap->segments, *next; seg && heap->empty_segments; seg = next) {
        next = seg->next;
        if (seg->release_after && (all || now >= seg->release_after)) {
            seg->release_after = 0;
            heap->empty_segments--;
            heap_segment_release_locked(heap, seg);
        }
    }
}

/* The waiting empty segment whose delay ends first goes back now. */
static void release_oldest_empty(struct ms_heap *heap)
{
    struct heap_segment *oldest = NULL;
    for (struct heap_segment *seg = heap->segments; seg; seg = seg->next)
        if (seg->release_after && (!oldest || seg->release_after < oldest->release_after))
            oldest = seg;
    if (oldest) {
        oldest->release_after = 0;
        heap->empty_segments--;
        heap_segment_release_locked(heap, oldest);
    }
}

void heap_small_decommit_idle(struct heap_segment *seg)
{
    uint64_t idle = seg->committed_slices & seg->free_slices & HEAP_DATA_MASK;
    while (idle) {
        unsigned lo = (unsigned)__builtin_ctzll(idle), hi = lo;
        while (hi < HEAP_SLICES && ((idle >> hi) & 1))
            hi++;
        uint64_t run = (hi - lo == 64 ? ~0ull : (((uint64_t)1 << (hi - lo)) - 1)) << lo;
        if (vm_decommit_internal((uintptr_t)seg + ((uintptr_t)lo << HEAP_SLICE_SHIFT),
                                 (size_t)(hi - lo) << HEAP_SLICE_SHIFT, true) == MS_OK)
            seg->committed_slices &= ~run;
        idle &= ~run;
    }
}

static struct heap_span *span_create_meta(struct ms_heap *heap, unsigned cls, ms_status *err);

static struct heap_span *span_create(struct ms_heap *heap, unsigned cls, ms_status *err)
{
    bool meta = heap_meta_lock(heap);
    struct heap_span *span = span_create_meta(heap, cls, err);
    heap_meta_unlock(heap, meta);
    return span;
}

/* Of the free slices of the heap's segments (committed ones only, or
 * all), the first of a run of k whose record last headed a span of this
 * class, the one earliest in the class's order (seq); NULL if none. A
 * span made there has its blocks at the offsets the old one had, so the
 * data pages it touches are resident ones, and taking a class's slices
 * in their first order makes a heap that drains and refills use its
 * spans in the same order each time: the span left partly used is the
 * same one (span_emptied keeps the class's first span), and no round
 * touches pages the last one left alone. On a heap rebuilt on kept pages
 * (vm_keep.c) the resident set then stays one cycle's instead of growing
 * cycle after cycle (each resident page costs each keep and reuse
 * mprotect ~60 ns). Records of free slices keep cls, nslices and seq
 * (span_release, segment_scrub): a hint, never trusted for anything else;
 * the run itself is checked free. Each segment says which of its free
 * slices head such a hint, by class (class_free), so only records of the
 * class are read. */
static struct heap_segment *slice_of_class(struct ms_heap *heap, bool committed, unsigned cls, unsigned k, int *slice)
{
    struct heap_segment *found = NULL;
    uint32_t first = 0;
    /* A bounded search: in a heap of thousands of segments, each new span
     * would otherwise read them all (twice). Heaps of up to this many
     * segments (256 MiB) are searched whole. */
    unsigned budget = HEAP_CLASS_SEARCH_SEGMENTS;
    for (struct heap_segment *seg = heap->segments; seg && budget; seg = seg->next, budget--) {
        uint64_t candidates = seg->free_slices & HEAP_DATA_MASK & (committed ? seg->committed_slices : ~0ull);
        for (uint64_t left = seg->class_free[cls] & candidates; left; left &= left - 1) {
            unsigned s = (unsigned)__builtin_ctzll(left);
            const struct heap_span *rec = &seg->spans[s - HEAP_META_SLICES];
            if (rec->nslices != k || s + k > HEAP_SLICES || (found && rec->seq >= first))
                continue;
            uint64_t run = (k == 64 ? ~0ull : (((uint64_t)1 << k) - 1)) << s;
            if ((candidates & run) == run) {
                found = seg;
                first = rec->seq;
                *slice = (int)s;
            }
        }
    }
    return found;
}

static struct heap_span *span_create_meta(struct ms_heap *heap, unsigned cls, ms_status *err)
{
    uint32_t bs = heap_class_size[cls];
    unsigned k = span_slices(cls);
    struct heap_segment *seg;
    int s = -1;
    /* The class's own slices first (slice_of_class), committed ones
     * before those the idle bound decommitted: their pages are likely
     * still resident (MADV_FREE), and taking them back costs one commit
     * where a fresh run would fault in new pages. Then committed free
     * slices: they cost no host call and no page faults, and taking them
     * keeps the idle bound from decommitting slices that a later span
     * then commits again. */
    bool same = true;
    if (heap->empty_segments)
        heap_small_sweep_segments(heap, false);     /* those whose delay has passed */
    seg = slice_of_class(heap, true, cls, k, &s);
    if (!seg)
        seg = slice_of_class(heap, false, cls, k, &s);
    if (!seg) {
        same = false;
        for (seg = heap->segments; seg; seg = seg->next)
            if ((s = find_run(seg->free_slices & seg->committed_slices & HEAP_DATA_MASK, k)) >= 0)
                break;
    }
    if (!seg)
        for (seg = heap->segments; seg; seg = seg->next)
            if ((s = find_run(seg->free_slices, k)) >= 0)
                break;
    if (!seg) {
        seg = heap_segment_new_locked(heap, err);
        if (!seg)
            return NULL;
        s = find_run(seg->free_slices, k);
    }
    uint64_t run = (k == 64 ? ~0ull : (((uint64_t)1 << k) - 1)) << s;
    if (run & ~seg->committed_slices && !commit_slices(seg, run & ~seg->committed_slices)) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    seg->free_slices &= ~run;
    /* These slices head no free span of their class any more (a bit of
     * class_free is set only where the record names that class). */
    for (unsigned i = 0; i < k; i++)
        seg->class_free[seg->spans[s + i - HEAP_META_SLICES].cls] &= ~((uint64_t)1 << (s + i));
    if (seg->release_after) {
        seg->release_after = 0;
        heap->empty_segments--;
    }
    seg->nspans++;
    if (seg->purge_after)
        segment_purge_check(seg);
    for (unsigned i = 1; i < k; i++)
        seg->spans[s + i - HEAP_META_SLICES].back = (uint16_t)i;
    struct heap_span *span = &seg->spans[s - HEAP_META_SLICES];
    if (!same)
        span->seq = ++heap->span_seq;
    span->cls = (uint8_t)cls;
    span->nslices = (uint8_t)k;
    span->young = 0;
    span->block_size = bs;
    span->recip = (((uint64_t)1 << 32) + (bs >> 4) - 1) / (bs >> 4);
    span->nblocks = (uint32_t)(((size_t)k << HEAP_SLICE_SHIFT) / bs);
    span->nfree = span->nblocks;
    span->cursor = 0;
    span->start = (uintptr_t)seg + ((size_t)s << HEAP_SLICE_SHIFT);
    size_t width = bs == 16 ? 1 : bs <= HEAP_SIZE16_MAX ? 2 : 4;
    if (span->nblocks <= HEAP_SPAN_INLINE_BLOCKS && span->nblocks * width <= sizeof(span->inline_req)) {
        span->freebits = &span->inline_bits[0];
        span->remote = &span->inline_bits[1];
        span->req.slack = span->inline_req;
    } else {
        heap_side_layout(side_alloc(seg, span->nblocks, bs), span->nblocks, &span->freebits, &span->remote,
                         &span->req.slack);
    }
    span->used = 1;                     /* after side_alloc: side_compact moves only older spans */
    uint32_t full = span->nblocks / 64, rest = span->nblocks % 64;
    /* A reused segment (heap_create.c's cache) may hold old remote bits. */
    for (uint32_t w = 0; w < (span->nblocks + 63) / 64; w++)
        heap_bits_put(&span->remote[w], 0);
    atomic_store_explicit(&span->remote_listed, 0, memory_order_relaxed);
    span->remote_next = NULL;
    for (uint32_t w = 0; w < full; w++)
        heap_bits_put(&span->freebits[w], ~0ull);
    if (rest)
        heap_bits_put(&span->freebits[full], ((uint64_t)1 << rest) - 1);
    bin_push(heap, span);
    return span;
}

static void span_release(struct ms_heap *heap, struct heap_span *span)
{
    bool meta = heap_meta_lock(heap);
    struct heap_segment *seg = span_segment(span);
    unsigned s = (unsigned)(span - seg->spans) + HEAP_META_SLICES, k = span->nslices;
    if (span->in_bin)
        bin_remove(heap, span);
    side_free(seg, span);
    span->used = 0;
    for (unsigned i = 1; i < k; i++)
        seg->spans[s + i - HEAP_META_SLICES].back = 0;
    uint64_t run = (k == 64 ? ~0ull : (((uint64_t)1 << k) - 1)) << s;
    seg->free_slices |= run;
    seg->class_free[span->cls] |= (uint64_t)1 << s;
    if (--seg->nspans == 0 && seg != heap->home) {
        if (heap->empty_segments >= HEAP_EMPTY_SEGMENTS_MAX)
            release_oldest_empty(heap);
        seg->release_after = host_cycles() + HEAP_PURGE_DELAY;
        heap->empty_segments++;
    }
    segment_purge_check(seg);
    if (heap->empty_segments)
        heap_small_sweep_segments(heap, false);
    if (heap->sharded || heap->parent || (heap->listed && !(heap->flags & MS_HEAP_NO_SERIALIZE)))
        heap_purge_note(heap);
    heap_meta_unlock(heap, meta);
}

/* --- blocks ---------------------------------------------------------------- */

/* --- young heaps ----------------------------------------------------------
 *
 * A growable private heap starts young: its blocks up to 1 KiB are packed
 * one after the other in a single span of 16-byte granules (the 16-byte
 * class's layout, so resolving a pointer and the free bits work as for any
 * span: a block's first granule is its index, and only first granules of
 * live blocks have their free bit clear, so interior pointers and double
 * frees are refused as elsewhere). Its size lives in the slack array: the
 * first granule holds the slack (0..15 bytes; 16 for a 0-byte block),
 * every further granule HEAP_YOUNG_CONT. Every granule from the cursor on
 * reads HEAP_YOUNG_CONT already (set when the span turns young, and again
 * for the granules the cursor moves back over), so handing out a block
 * writes one byte: marking its further granules was an eighth of the
 * instructions of a private heap's create/allocate/destroy cycle
 * (callgrind), ~3% of its time. Granules are handed out in order (the
 * span's cursor) and come back when every block of the span is free,
 * which resets it, or at once for the last block handed out. When a
 * request does not fit, the heap grows up for good: from then on the
 * size classes, and the young span goes when its last block does. A shrink in place gives the block's tail back as
 * a run nobody owns (HEAP_YOUNG_DEAD), until the span resets.
 *
 * Why: with size classes every class a heap uses is a 64 KiB slice with
 * at least one resident page of its own, plus metadata. A short-lived heap
 * that asks for a hundred sizes between 16 bytes and 1 KiB touched ~70
 * pages (~28 with three coarse classes), and those pages are what
 * destroying it costs: an mprotect over each resident page, twice, when
 * the next HeapCreate reuses them (vm_keep.c). Packed, it touches what it
 * asked for: ~19. Windows' NT heap grows the same way: a new heap serves
 * blocks from its dense back end and turns on a size's low-fragmentation
 * bucket only once that size has been asked for many times. Fixed-size
 * heaps are never young: how many blocks fit below their maximum stays
 * what the size classes give (young_alloc does not check a maximum); nor
 * is the process heap, whose owners' fast path knows only size classes. */

/* Granules a request takes (a 0-byte block one, to be unique). */
static uint32_t young_granules_for(size_t size)
{
    return size ? (uint32_t)((size + 15) >> 4) : 1;
}

/* Granule i heads a live block. */
static bool young_live(const struct heap_span *span, uint32_t i)
{
    return !((heap_bits_get(&span->freebits[i / 64]) >> (i % 64)) & 1);
}

static void *young_alloc(struct ms_heap *heap, size_t size, ms_status *err)
{
    if (size > HEAP_YOUNG_SIZE_MAX)
        return NULL;
    struct heap_span *span = heap->young_span;
    if (!span) {
        span = span_create(heap, 0, err);
        if (!span)
            return NULL;
        bin_remove(heap, span);         /* served here, never from the 16-byte bin */
        memset(span->req.slack, HEAP_YOUNG_CONT, span->nblocks);
        span->young = 1;
        heap->young_span = span;
    }
    uint32_t k = young_granules_for(size);
    uint32_t i = span->cursor;
    if (i + k > span->nblocks) {
        heap->young = false;            /* full: the size classes from now on */
        return NULL;
    }
    span->cursor = (uint16_t)(i + k);
    heap_bits_put(&span->freebits[i / 64], heap_bits_get(&span->freebits[i / 64]) & ~((uint64_t)1 << (i % 64)));
    span->nfree--;
    heap->in_use += (size_t)k * 16;
    span->req.slack[i] = (uint8_t)(k * 16 - size);
    uintptr_t block = span->start + (uintptr_t)i * 16;
    heap_canary_set_fresh(block, size, (size_t)k * 16);
    return (void *)block;
}

void heap_young_free_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index)
{
    heap_bits_put(&span->freebits[index / 64],
                  heap_bits_get(&span->freebits[index / 64]) | (uint64_t)1 << (index % 64));
    uint32_t k = heap_young_granules(span, index);
    heap->in_use -= (size_t)k * 16;
    /* The last block handed out: its granules are the next ones again, so
     * a heap used like a stack (a buffer allocated and freed, again and
     * again) stays young. */
    if (index + k == span->cursor) {
        span->cursor = (uint16_t)index;
        span->req.slack[index] = HEAP_YOUNG_CONT;
    }
    if (++span->nfree < span->nblocks)
        return;
    /* Every block is back: start over, or go if the heap grew up. */
    if (heap->young && heap->young_span == span) {
        memset(span->req.slack, HEAP_YOUNG_CONT, span->cursor);
        span->cursor = 0;
        return;
    }
    if (heap->young_span == span)
        heap->young_span = NULL;
    span->young = 0;
    span->cursor = 0;
    span_release(heap, span);
}

void heap_small_resize_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index, size_t size)
{
    if (MS_UNLIKELY(span->young)) {
        uint32_t k = heap_young_granules(span, index), need = young_granules_for(size);
        if (need < k) {
            /* The tail becomes a run nobody owns (its free bit stays set),
             * back with the rest when the span resets. */
            span->req.slack[index + need] = HEAP_YOUNG_DEAD;
            heap->in_use -= (size_t)(k - need) * 16;
        }
    }
    heap_small_set_requested(span, index, size);
    heap_canary_set((uintptr_t)span->start + (uintptr_t)index * span->block_size, size,
                    heap_small_capacity(span, index));
}

void *heap_small_alloc_locked(struct ms_heap *heap, size_t size, ms_status *err)
{
    if (MS_UNLIKELY(heap->young)) {
        void *block = young_alloc(heap, size, err);
        if (block)
            return block;
    }
    unsigned cls = heap_size_class(size);
    uint32_t bs = heap_class_size[cls];
    if (MS_UNLIKELY(heap->maximum && heap->in_use + bs > heap->maximum)) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    struct heap_span *span = heap->bins[cls];
    if (MS_UNLIKELY(!span)) {
        /* Blocks other threads gave back come first: they may refill the bin. */
        if (atomic_load_explicit(&heap->remote_pending, memory_order_relaxed)) {
            heap_collect_remote(heap);
            span = heap->bins[cls];
        }
        if (!span)
            span = span_create(heap, cls, err);
        if (!span)
            return NULL;
    }
    uint32_t w = span->cursor;
    while (!heap_bits_get(&span->freebits[w]))  /* terminates: nfree > 0 for a span in a bin */
        w++;
    uint64_t bits = heap_bits_get(&span->freebits[w]);
    heap_bits_put(&span->freebits[w], bits & (bits - 1));
    span->cursor = (uint16_t)w;
    uint32_t index = w * 64 + (uint32_t)__builtin_ctzll(bits);
    if (--span->nfree == 0)
        bin_remove(heap, span);
    heap->in_use += bs;
    heap_small_set_requested(span, index, size);
    uintptr_t block = span->start + (uintptr_t)index * bs;
    heap_canary_set_fresh(block, size, bs);
    return (void *)block;
}

void heap_small_span_full(struct ms_heap *heap, struct heap_span *span)
{
    bin_remove(heap, span);
}

/* An empty span that may go back to its segment. An empty span has no
 * remote bits (they are set only for live blocks), but one may still be
 * listed for the owner's merge. */
static bool span_releasable(const struct heap_span *span)
{
    return span->nfree == span->nblocks && !atomic_load_explicit(&span->remote_listed, memory_order_relaxed);
}

/* A span that became empty while its bin has others. It goes back to its
 * segment, unless it comes before every other span of the bin in the
 * class's order (seq): then it stays (and an empty one it replaces goes),
 * so that the span a class keeps once a heap drains is its first one.
 * When the heap refills, the class fills that span first and its new
 * spans on the slices it had in their order (slice_of_class), and the
 * span left partly used is again the last: each round touches the pages
 * the last one did. Keeping whichever span emptied last instead made the
 * partly used span a different one each round, and the resident set grew
 * towards every page of every span of the class (the mixed batch, run
 * four times: +2 MB). A long bin is not searched: the span goes back. */
#define HEAP_KEEP_SEARCH 16

static void span_emptied(struct ms_heap *heap, struct heap_span *span)
{
    unsigned seen = 0;
    struct heap_span *last = NULL;
    for (struct heap_span *other = heap->bins[span->cls]; other; other = other->next) {
        if (other != span && (other->seq < span->seq || ++seen > HEAP_KEEP_SEARCH)) {
            span_release(heap, span);
            return;
        }
        last = other;
    }
    /* Kept: last in its bin, so that the spans with live blocks serve the
     * next allocations (an alloc/free loop on the kept span would empty
     * it, and come here, on every free). */
    if (last != span) {
        bin_remove(heap, span);
        for (last = heap->bins[span->cls]; last->next; last = last->next)
            ;
        last->next = span;
        span->prev = last;
        span->in_bin = 1;
    }
    for (struct heap_span *other = heap->bins[span->cls], *next; other; other = next) {
        next = other->next;
        if (other != span && span_releasable(other))
            span_release(heap, other);
    }
}

void heap_small_release_empty_spans(struct ms_heap *heap)
{
    for (unsigned c = 0; c < HEAP_CLASSES; c++)
        for (struct heap_span *span = heap->bins[c], *next; span; span = next) {
            next = span->next;
            /* (A span listed for the owner's merge of remote frees is
             * merged by heap_inspect_begin's lock before this runs.) */
            if (span_releasable(span))
                span_release(heap, span);
        }
}

void heap_small_span_changed(struct ms_heap *heap, struct heap_span *span)
{
    if (span->nfree == 1)
        bin_push(heap, span);
    else if (span->nfree == span->nblocks && (span->next || span->prev))
        span_emptied(heap, span);
}

/* A young span: granules below the cursor are runs, each a block (its
 * first slack byte 0..16) or a tail an in-place shrink gave back (DEAD),
 * followed by CONT bytes; only first granules of blocks may be live (free
 * bit clear), and each live block's slack after its size holds canaries;
 * every granule from the cursor on is free and CONT; nfree counts the blocks' free
 * bits (the granules' bits but those of live blocks). Not in a bin. */
static bool young_validate(const struct heap_span *span)
{
    if (span->cls != 0 || span->nslices != 1 || span->in_bin || span->cursor > span->nblocks)
        return false;
    uint32_t live = 0;
    for (uint32_t i = 0; i < span->cursor;) {
        uint8_t first = span->req.slack[i];
        if (first == HEAP_YOUNG_CONT || (first > 16 && first != HEAP_YOUNG_DEAD))
            return false;
        uint32_t k = heap_young_granules(span, i);
        if (k * 16 > HEAP_YOUNG_SIZE_MAX)
            return false;
        for (uint32_t j = i + 1; j < i + k; j++)
            if (young_live(span, j))
                return false;           /* a live bit inside a run */
        if (young_live(span, i)) {
            if (first == HEAP_YOUNG_DEAD)
                return false;
            size_t req = (size_t)k * 16 - first;
            if (!heap_canary_ok(span->start + (uintptr_t)i * 16, req, (size_t)k * 16))
                return false;
            live++;
        }
        i += k;
    }
    for (uint32_t j = span->cursor; j < span->nblocks; j++)
        if (young_live(span, j) || span->req.slack[j] != HEAP_YOUNG_CONT)
            return false;               /* (young_alloc writes only a block's first granule) */
    return span->nfree == span->nblocks - live;
}

/* Bytes of the live blocks of a young span (heap_block.c's in_use check). */
size_t heap_young_live_bytes(const struct heap_span *span)
{
    size_t bytes = 0;
    for (uint32_t i = 0; i < span->cursor;) {
        uint32_t k = heap_young_granules(span, i);
        if (young_live(span, i))
            bytes += (size_t)k * 16;
        i += k;
    }
    return bytes;
}

bool heap_small_validate_span(struct heap_segment *seg, struct heap_span *span)
{
    unsigned s = (unsigned)(span - seg->spans) + HEAP_META_SLICES;
    if (span->back != 0 || span->cls >= HEAP_CLASSES || span->block_size != heap_class_size[span->cls] ||
        span->nslices != span_slices(span->cls) || s + span->nslices > HEAP_SLICES ||
        span->start != (uintptr_t)seg + ((uintptr_t)s << HEAP_SLICE_SHIFT) ||
        span->nblocks != ((size_t)span->nslices << HEAP_SLICE_SHIFT) / span->block_size)
        return false;
    for (unsigned i = 1; i < span->nslices; i++)
        if (seg->spans[s + i - HEAP_META_SLICES].back != i || seg->spans[s + i - HEAP_META_SLICES].used)
            return false;
    bool inline_state = span->freebits == &span->inline_bits[0];
    if (inline_state) {
        if (span->remote != &span->inline_bits[1] || span->req.slack != span->inline_req ||
            span->nblocks > HEAP_SPAN_INLINE_BLOCKS)
            return false;
    } else {
        /* In the side area, on a unit boundary, its units all taken, the
         * parts where heap_side_layout puts them. */
        uintptr_t at = (uintptr_t)span->freebits, base = (uintptr_t)side_base(seg);
        unsigned units = side_units(span->nblocks, span->block_size);
        if (at < base || (at - base) % HEAP_SIDE_UNIT || (at - base) / HEAP_SIDE_UNIT + units > HEAP_SIDE_UNITS)
            return false;
        unsigned first = side_unit_of(seg, span);
        for (unsigned u = first; u < first + units; u++)
            if (!((seg->side_used[u / 64] >> (u % 64)) & 1))
                return false;
        _Atomic uint64_t *side_free, *side_remote;
        uint8_t *side_req;
        heap_side_layout((uint8_t *)span->freebits, span->nblocks, &side_free, &side_remote, &side_req);
        if (span->remote != side_remote || span->req.slack != side_req)
            return false;
    }
    if (span->young)
        return young_validate(span);
    uint32_t words = (span->nblocks + 63) / 64, nfree = 0;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = heap_bits_get(&span->freebits[w]);
        if (heap_bits_get(&span->remote[w]))
            return false;               /* the caller merges remote frees first */
        if (w == words - 1 && span->nblocks % 64 && (bits >> (span->nblocks % 64)))
            return false;               /* a free bit beyond the last block */
        if (w < span->cursor && bits)
            return false;
        nfree += popcount64(bits);
        for (uint64_t used = ~bits; used; used &= used - 1) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(used);
            if (i >= span->nblocks)
                break;
            size_t req = heap_small_requested(span, i);
            if (req > span->block_size ||
                !heap_canary_ok(span->start + (uintptr_t)i * span->block_size, req, span->block_size))
                return false;
        }
    }
    if (nfree != span->nfree || (span->in_bin != 0) != (nfree != 0))
        return false;
    return true;
}

/* Merge the blocks other threads freed into the free bitmaps. Runs with the
 * shard's allocation rights (owner inside a call, or heap_lock held). */
void heap_collect_remote(struct ms_heap *heap)
{
    bool meta = heap_meta_lock(heap);
    bool held = heap->meta_held;
    heap->meta_held = true;             /* span_release below must not take it again */
    struct heap_span *span = heap->remote_spans;
    heap->remote_spans = NULL;
    atomic_store_explicit(&heap->remote_pending, 0, memory_order_relaxed);
    while (span) {
        struct heap_span *next = span->remote_next;
        span->remote_next = NULL;
        atomic_store_explicit(&span->remote_listed, 0, memory_order_relaxed);
        uint32_t words = (span->nblocks + 63) / 64, added = 0;
        for (uint32_t w = 0; w < words; w++) {
            uint64_t r = heap_bits_get(&span->remote[w]);
            if (!r)
                continue;
            heap_bits_put(&span->remote[w], 0);
            uint64_t free = heap_bits_get(&span->freebits[w]);
            uint64_t add = r & ~free;   /* a block freed twice counts once */
            heap_bits_put(&span->freebits[w], free | add);
            added += popcount64(add);
            if (add && w < span->cursor)
                span->cursor = (uint16_t)w;
        }
        if (added) {
            heap->in_use -= (size_t)added * span->block_size;
            bool was_full = span->nfree == 0;
            span->nfree += added;
            if (was_full)
                bin_push(heap, span);
            if (span->nfree == span->nblocks && (span->next || span->prev))
                span_emptied(heap, span);
        }
        span = next;
    }
    heap->meta_held = held;
    heap_meta_unlock(heap, meta);
}
