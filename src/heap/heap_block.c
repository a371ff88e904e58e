/*
 * heap_block.c - checking blocks and heaps: HeapSize, HeapValidate, and the
 * canary in the slack after each block.
 *
 * Why a canary: a block's class is usually larger than what was asked for;
 * the first bytes of that gap (up to 16) are filled with 0xFD when a block
 * is handed out, so HeapValidate can report a program that wrote past its
 * block, as Windows' heap does with its tail checking. It costs one or two
 * stores per allocation. Blocks that fill their class exactly have no gap
 * and no canary; the allocator's own metadata is elsewhere either way.
 *
 * Whole-heap validation walks every segment, span and large block and
 * checks the counts, links and canaries against each other.
 */
#include "heap_internal.h"
#include "heap_debug.h"

bool heap_canary_ok(uintptr_t block, size_t requested, size_t capacity)
{
    size_t n = capacity - requested;
    if (n > HEAP_CANARY_MAX)
        n = HEAP_CANARY_MAX;
    const uint8_t *p = (const uint8_t *)block + requested;
    for (size_t i = 0; i < n; i++)
        if (p[i] != HEAP_CANARY)
            return false;
    return true;
}

size_t heap_size(struct ms_heap *heap, uint32_t flags, const void *block)
{
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_size(heap, flags, block);
    size_t size = (size_t)-1;
    heap = heap_shard_of_block(heap, block);
    uint32_t index;
    if (heap->biasable) {
        enum heap_access access = heap_access_begin(heap);
        struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
        if (span)
            size = heap_small_requested(span, index);
        heap_access_end(heap, access);
        return size;
    }
    bool locked = heap_lock(heap, flags);
    struct heap_span *span = heap_small_resolve(heap, (uintptr_t)block, &index);
    if (span) {
        size = heap_small_requested(span, index);
    } else {
        struct heap_large *large = heap_large_resolve(heap, (uintptr_t)block);
        if (large)
            size = large->requested;
    }
    heap_unlock(heap, locked);
    return size;
}

static bool validate_block(struct ms_heap *heap, uintptr_t p)
{
    uint32_t index;
    struct heap_span *span = heap_small_resolve(heap, p, &index);
    if (span)
        return heap_canary_ok(p, heap_small_requested(span, index), heap_small_capacity(span, index));
    struct heap_large *large = heap_large_resolve(heap, p);
    return large && heap_canary_ok(p, large->requested, large->committed - HEAP_LARGE_HEADER);
}

static bool validate_segment(struct ms_heap *heap, struct heap_segment *seg, size_t *in_use, size_t *binned)
{
    if (seg->magic != HEAP_SEG_MAGIC || seg->heap != heap || ((uintptr_t)seg & (HEAP_SEG_SIZE - 1)) ||
        !heap_segmap_contains((uintptr_t)seg) || (seg->free_slices & ((1ull << HEAP_META_SLICES) - 1)))
        return false;
    uint64_t covered = 0;
    uint32_t nspans = 0;
    size_t side_units = 0, side_taken = 0;
    for (unsigned s = HEAP_META_SLICES; s < HEAP_SLICES;) {
        struct heap_span *span = &seg->spans[s - HEAP_META_SLICES];
        if (!span->used) {
            if (span->back || !((seg->free_slices >> s) & 1))
                return false;
            s++;
            continue;
        }
        if (!heap_small_validate_span(seg, span))
            return false;
        uint64_t run = (span->nslices == 64 ? ~0ull : ((1ull << span->nslices) - 1)) << s;
        if ((seg->free_slices & run) || (covered & run))
            return false;
        covered |= run;
        nspans++;
        if (span->freebits != &span->inline_bits[0])
            side_units += (heap_side_bytes(span->nblocks, span->block_size) + HEAP_SIDE_UNIT - 1) / HEAP_SIDE_UNIT;
        *in_use += span->young ? heap_young_live_bytes(span)
                               : (size_t)(span->nblocks - span->nfree) * span->block_size;
        *binned += span->in_bin;
        s += span->nslices;
    }
    /* The free slices of each class (slice_of_class's hints) are free
     * slices whose record names the class. */
    for (unsigned c = 0; c < HEAP_CLASSES; c++) {
        if (seg->class_free[c] & ~seg->free_slices)
            return false;
        for (uint64_t bits = seg->class_free[c]; bits; bits &= bits - 1)
            if (seg->spans[__builtin_ctzll(bits) - HEAP_META_SLICES].cls != c)
                return false;
    }
    /* Each span's units are taken (heap_small_validate_span): as many
     * taken as the spans have means no two of them overlap. */
    for (unsigned w = 0; w < HEAP_SIDE_WORDS; w++)
        for (uint64_t bits = seg->side_used[w]; bits; bits &= bits - 1)
            side_taken++;
    return nspans == seg->nspans && (covered | seg->free_slices) == ~0ull << HEAP_META_SLICES &&
           side_units == side_taken;
}

static bool validate_heap(struct ms_heap *heap)
{
    size_t in_use = 0, binned = 0, listed = 0;
    bool home_seen = false;
    struct heap_segment *prev_seg = NULL;
    for (struct heap_segment *seg = heap->segments; seg; prev_seg = seg, seg = seg->next) {
        if (seg->prev != prev_seg || !validate_segment(heap, seg, &in_use, &binned))
            return false;
        home_seen |= seg == heap->home;
    }
    if (!home_seen)
        return false;
    for (unsigned c = 0; c < HEAP_CLASSES; c++) {
        struct heap_span *prev = NULL;
        for (struct heap_span *span = heap->bins[c]; span; prev = span, span = span->next) {
            if (span->prev != prev || !span->used || !span->in_bin || span->cls != c || !span->nfree)
                return false;
            listed++;
        }
    }
    if (listed != binned)
        return false;
    struct heap_large *prev_large = NULL;
    for (struct heap_large *large = heap->large; large; prev_large = large, large = large->next) {
        if (large->magic != HEAP_LARGE_MAGIC || large->heap != heap || large->prev != prev_large ||
            large->committed > large->region_size || large->requested > large->committed - HEAP_LARGE_HEADER ||
            !heap_canary_ok(heap_large_data(large), large->requested, large->committed - HEAP_LARGE_HEADER))
            return false;
        in_use += large->committed;
    }
    return in_use == heap->in_use;
}

bool heap_validate(struct ms_heap *heap, uint32_t flags, const void *block)
{
    if (!heap || heap->magic != HEAP_MAGIC)
        return false;
    if (MS_UNLIKELY(heap_debug_mode) && !(flags & HEAP_DEBUG_INTERNAL))
        return heap_debug_validate(heap, flags, block);
    if (block) {
        heap = heap_shard_of_block(heap, block);
        if (heap->biasable) {
            enum heap_access access = heap_access_begin(heap);
            bool ok = validate_block(heap, (uintptr_t)block);
            heap_access_end(heap, access);
            return ok;
        }
        bool locked = heap_lock(heap, flags);
        bool ok = validate_block(heap, (uintptr_t)block);
        heap_unlock(heap, locked);
        return ok;
    }
    bool ok = true;
    for (unsigned i = 0; i < HEAP_SHARDS && ok; i++) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (!s)
            continue;
        bool locked = heap_lock(s, flags);
        ok = validate_heap(s);
        heap_unlock(s, locked);
    }
    return ok;
}
