/*
 * heap_walk.c - HeapWalk: the entries of a heap, one per call, from the
 * previous entry alone (no iterator state), as Windows does it.
 *
 * What a walk shows, per internal heap (the heap itself, or each shard of
 * the process heap in shard order):
 *  - each segment in address order: a region entry (lpData = the segment,
 *    which for the heap's first segment is the heap handle; cbData = its
 *    metadata; committed/uncommitted sizes; lpFirstBlock/lpLastBlock = its
 *    data slices), then in address order its busy blocks (cbData = the size
 *    asked for, cbOverhead = the rest of the size class, capped at 255),
 *    its free ranges (runs of free blocks of a span, the unused tail of a
 *    span, runs of committed free slices) and its uncommitted ranges;
 *  - then its large blocks in address order, busy entries with region
 *    index 64 (Windows shows its directly allocated blocks that way, with
 *    no region entry of their own).
 *
 * Finding the next entry from the previous one: the segment (or large
 * block) is found from lpData; inside a segment the walk resumes at the
 * end of the previous entry (a busy block's end is recomputed from its
 * span, as cbOverhead is only a byte). An lpData that belongs to no
 * segment or large block of the heap is refused (ERROR_INVALID_PARAMETER).
 * If blocks change between calls (nobody holds HeapLock), the walk stays
 * inside the heap's memory and ends; entries may then be stale, as on
 * Windows.
 *
 * Thread safety: each call holds the lock of every shard it walks (unless
 * the caller holds them through HeapLock: flags has HEAP_NO_SERIALIZE then),
 * taken in shard order as HeapLock takes them.
 */
#include "heap_info.h"
#include "heap_inspect.h"

#define SEG_DATA_OFFSET ((uintptr_t)HEAP_META_SLICES << HEAP_SLICE_SHIFT)

static unsigned count_bits(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static struct heap_segment *next_segment(struct ms_heap *part, uintptr_t after)
{
    struct heap_segment *best = NULL;
    for (struct heap_segment *seg = part->segments; seg; seg = seg->next)
        if ((uintptr_t)seg > after && (!best || seg < best))
            best = seg;
    return best;
}

static struct heap_large *next_large(struct ms_heap *part, uintptr_t after)
{
    struct heap_large *best = NULL;
    for (struct heap_large *l = part->large; l; l = l->next)
        if ((uintptr_t)l > after && (!best || l < best))
            best = l;
    return best;
}

static unsigned region_index(struct ms_heap *part, struct heap_segment *seg)
{
    unsigned n = 0;
    for (struct heap_segment *s = part->segments; s; s = s->next)
        n += s < seg;
    return n;
}

static void clear_region_fields(struct heap_walk_entry *e)
{
    e->committed = e->uncommitted = 0;
    e->first_block = e->last_block = 0;
}

static void region_entry(struct ms_heap *part, struct heap_segment *seg, struct heap_walk_entry *e)
{
    e->data = (uintptr_t)seg;
    e->size = SEG_DATA_OFFSET;
    e->overhead = 0;
    e->region_index = (uint8_t)region_index(part, seg);
    e->flags = MS_PHE_REGION;
    e->committed = (size_t)count_bits(seg->committed_slices) << HEAP_SLICE_SHIFT;
    e->uncommitted = HEAP_SEG_SIZE - e->committed;
    e->first_block = (uintptr_t)seg + SEG_DATA_OFFSET;
    e->last_block = (uintptr_t)seg + HEAP_SEG_SIZE;
}

static void large_entry(struct heap_large *large, struct heap_walk_entry *e)
{
    e->data = heap_large_data(large);
    e->size = large->requested;
    e->overhead = 0;
    e->region_index = MS_PHE_LARGE_REGION_INDEX;
    e->flags = MS_PHE_BUSY;
    clear_region_fields(e);
}

static void range_entry(uintptr_t start, uintptr_t end, uint16_t flags, struct heap_walk_entry *e)
{
    e->data = start;
    e->size = end - start;
    e->overhead = 0;
    e->flags = flags;
    clear_region_fields(e);
}

/* The entry of a young span (heap_small.c: young_alloc) at or after pos:
 * a live block, or the run of freed blocks, given-back tails and never
 * used granules up to the next live block or the span's end. */
static void young_item(struct heap_span *span, uintptr_t pos, uintptr_t span_end, struct heap_walk_entry *e)
{
    uint32_t i = (uint32_t)((pos - span->start + 15) / 16);
    while (i < span->cursor && span->req.slack[i] == HEAP_YOUNG_CONT)
        i++;
    uintptr_t b = span->start + (uintptr_t)i * 16;
    if (i < span->cursor && !heap_inspect_block_free(span, i)) {
        size_t cap = (size_t)heap_young_granules(span, i) * 16, req = heap_small_requested(span, i);
        e->data = b;
        e->size = req;
        e->overhead = (uint8_t)(cap - req > 255 ? 255 : cap - req);
        e->flags = MS_PHE_BUSY;
        clear_region_fields(e);
        return;
    }
    uint32_t j = i;
    while (j < span->cursor && heap_inspect_block_free(span, j))
        j += heap_young_granules(span, j);
    range_entry(b, j >= span->cursor ? span_end : span->start + (uintptr_t)j * 16, 0, e);
}

/* The first entry of `seg` at or after `pos`; false past its end. */
static bool segment_item(struct heap_segment *seg, uintptr_t pos, struct heap_walk_entry *e)
{
    uintptr_t base = (uintptr_t)seg, end = base + HEAP_SEG_SIZE;
    if (pos < base + SEG_DATA_OFFSET)
        pos = base + SEG_DATA_OFFSET;
    while (pos < end) {
        unsigned s = (unsigned)((pos - base) >> HEAP_SLICE_SHIFT);
        struct heap_span *rec = &seg->spans[s - HEAP_META_SLICES];
        struct heap_span *span = rec - rec->back;
        if (span->used) {
            uintptr_t span_end = span->start + ((uintptr_t)span->nslices << HEAP_SLICE_SHIFT);
            if (span->young) {
                if (pos < span_end) {
                    young_item(span, pos, span_end, e);
                    return true;
                }
                pos = span_end;
                continue;
            }
            uintptr_t bs = span->block_size;
            uintptr_t blocks_end = span->start + (uintptr_t)span->nblocks * bs;
            if (pos < blocks_end) {
                uint32_t i = (uint32_t)((pos - span->start + bs - 1) / bs);
                if (i < span->nblocks) {
                    uintptr_t b = span->start + (uintptr_t)i * bs;
                    if (!heap_inspect_block_free(span, i)) {
                        size_t req = heap_small_requested(span, i);
                        e->data = b;
                        e->size = req;
                        e->overhead = (uint8_t)(bs - req > 255 ? 255 : bs - req);
                        e->flags = MS_PHE_BUSY;
                        clear_region_fields(e);
                        return true;
                    }
                    uint32_t j = i;
                    while (j < span->nblocks && heap_inspect_block_free(span, j))
                        j++;
                    range_entry(b, j == span->nblocks ? span_end : span->start + (uintptr_t)j * bs, 0, e);
                    return true;
                }
                pos = blocks_end;
            }
            if (pos < span_end) {
                range_entry(pos, span_end, 0, e);
                return true;
            }
            pos = span_end;
            continue;
        }
        /* A run of free slices, all committed or all not. */
        bool committed = (seg->committed_slices >> s) & 1;
        unsigned t = s + 1;
        while (t < HEAP_SLICES) {
            struct heap_span *r = &seg->spans[t - HEAP_META_SLICES];
            if (r->used || r->back || (((seg->committed_slices >> t) & 1) != committed))
                break;
            t++;
        }
        range_entry(pos, base + ((uintptr_t)t << HEAP_SLICE_SHIFT), committed ? 0 : MS_PHE_UNCOMMITTED, e);
        return true;
    }
    return false;
}

/* Where the entry *e (inside `seg`) ends. */
static uintptr_t entry_end(struct heap_segment *seg, const struct heap_walk_entry *e)
{
    if (e->flags & MS_PHE_BUSY) {
        unsigned s = (unsigned)((e->data - (uintptr_t)seg) >> HEAP_SLICE_SHIFT);
        struct heap_span *rec = &seg->spans[s - HEAP_META_SLICES];
        struct heap_span *span = rec - rec->back;
        if (span->used && span->young && e->data >= span->start)
            return e->data + heap_small_capacity(span, (uint32_t)((e->data - span->start) / 16));
        if (span->used && e->data >= span->start) {
            uintptr_t i = (e->data - span->start) / span->block_size;
            if (i < span->nblocks)
                return span->start + (i + 1) * span->block_size;
        }
    }
    return e->data + (e->size ? e->size : 1);
}

/* The first entry of parts[k..]: the region of its lowest segment. */
static ms_status first_from(struct ms_heap **parts, unsigned n, unsigned k, struct heap_walk_entry *e)
{
    for (; k < n; k++) {
        struct heap_segment *seg = next_segment(parts[k], 0);
        if (seg) {
            region_entry(parts[k], seg, e);
            return MS_OK;
        }
        struct heap_large *large = next_large(parts[k], 0);
        if (large) {
            large_entry(large, e);
            return MS_OK;
        }
    }
    return MS_ERROR_NO_MORE_ITEMS;
}

static ms_status after_large(struct ms_heap **parts, unsigned n, unsigned k, uintptr_t after,
                             struct heap_walk_entry *e)
{
    struct heap_large *large = next_large(parts[k], after);
    if (large) {
        large_entry(large, e);
        return MS_OK;
    }
    return first_from(parts, n, k + 1, e);
}

static ms_status after_segment(struct ms_heap **parts, unsigned n, unsigned k, struct heap_segment *seg,
                               struct heap_walk_entry *e)
{
    struct heap_segment *next = next_segment(parts[k], (uintptr_t)seg);
    if (next) {
        region_entry(parts[k], next, e);
        return MS_OK;
    }
    return after_large(parts, n, k, 0, e);
}

static ms_status walk_locked(struct ms_heap **parts, unsigned n, struct heap_walk_entry *e)
{
    if (!e->data)
        return first_from(parts, n, 0, e);
    uintptr_t base = e->data & ~(HEAP_SEG_SIZE - 1);
    bool in_segment = heap_segmap_contains(base);
    for (unsigned k = 0; k < n; k++) {
        if (in_segment && ((struct heap_segment *)base)->heap == parts[k]) {
            struct heap_segment *seg = (struct heap_segment *)base;
            uintptr_t pos;
            if ((e->flags & MS_PHE_REGION) && e->data == base)
                pos = base + SEG_DATA_OFFSET;
            else if (e->data < base + SEG_DATA_OFFSET || (e->flags & MS_PHE_REGION))
                return MS_ERROR_INVALID_PARAMETER;
            else if ((pos = entry_end(seg, e)) <= e->data)
                return MS_ERROR_INVALID_PARAMETER;      /* a size that wraps around */
            unsigned index = region_index(parts[k], seg);
            if (segment_item(seg, pos, e)) {
                e->region_index = (uint8_t)index;
                return MS_OK;
            }
            return after_segment(parts, n, k, seg, e);
        }
        for (struct heap_large *l = parts[k]->large; l; l = l->next)
            if (heap_large_data(l) == e->data)
                return after_large(parts, n, k, (uintptr_t)l, e);
    }
    return MS_ERROR_INVALID_PARAMETER;
}

ms_status heap_walk(struct ms_heap *heap, uint32_t flags, struct heap_walk_entry *e)
{
    /* A shard another thread makes meanwhile is walked by later calls. */
    struct heap_inspect in;
    heap_inspect_begin(heap, flags, &in);
    ms_status st = walk_locked(in.parts, in.n, e);
    heap_inspect_end(&in);
    return st;
}
