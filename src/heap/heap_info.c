/*
 * heap_info.c - HeapCompact, HeapSummary, HeapQueryInformation and
 * HeapSetInformation on the core's heaps (HeapWalk is heap_walk.c).
 *
 * The figures are computed by reading the heap's metadata under its locks
 * (heap_inspect.h): nothing is counted on the allocation path for them.
 * The LFH request of HeapSetInformation is remembered as a private bit of
 * heap->flags (above every HEAP_* flag HeapCreate keeps); the process-wide
 * termination switch is an atomic flag.
 * Thread safety: as heap_info.h says.
 */
#include "heap_info.h"
#include "heap_inspect.h"

#define HEAP_INFO_LFH_ON 0x40000000u

static _Atomic bool terminate_on_corruption;

static unsigned bits_set(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* Largest run of free committed memory in a segment: free slices, and free
 * blocks (with a span's unused tail) inside spans. */
static size_t segment_largest_free(struct heap_segment *seg)
{
    size_t best = 0, run = 0;
    for (unsigned s = HEAP_META_SLICES; s < HEAP_SLICES;) {
        struct heap_span *span = &seg->spans[s - HEAP_META_SLICES];
        if (!span->used) {
            run = ((seg->committed_slices >> s) & 1) ? run + HEAP_SLICE_SIZE : 0;
            if (run > best)
                best = run;
            s++;
            continue;
        }
        run = 0;
        size_t blocks_run = 0;
        for (uint32_t i = 0; i < span->nblocks;) {
            /* A young span's blocks are runs of granules (heap_small.c). */
            uint32_t k = span->young && i < span->cursor ? heap_young_granules(span, i) : 1;
            if (heap_inspect_block_free(span, i)) {
                blocks_run += (size_t)k * span->block_size;
                if (blocks_run > best)
                    best = blocks_run;
            } else {
                blocks_run = 0;
            }
            i += k;
        }
        s += span->nslices;
    }
    return best;
}

size_t heap_compact(struct ms_heap *heap, uint32_t flags)
{
    struct heap_inspect in;
    heap_inspect_begin(heap, flags, &in);
    size_t best = 0;
    for (unsigned k = 0; k < in.n; k++)
        for (struct heap_segment *seg = in.parts[k]->segments; seg; seg = seg->next) {
            size_t f = segment_largest_free(seg);
            if (f > best)
                best = f;
        }
    heap_inspect_end(&in);
    return best;
}

void heap_summarize(struct ms_heap *heap, uint32_t flags, struct heap_summary *out)
{
    struct heap_inspect in;
    out->allocated = out->committed = out->reserved = 0;
    heap_inspect_begin(heap, flags, &in);
    for (unsigned k = 0; k < in.n; k++) {
        for (struct heap_segment *seg = in.parts[k]->segments; seg; seg = seg->next) {
            out->reserved += HEAP_SEG_SIZE;
            out->committed += (size_t)bits_set(seg->committed_slices) << HEAP_SLICE_SHIFT;
            for (unsigned s = HEAP_META_SLICES; s < HEAP_SLICES;) {
                struct heap_span *span = &seg->spans[s - HEAP_META_SLICES];
                if (!span->used) {
                    s++;
                    continue;
                }
                for (uint32_t i = 0; i < span->nblocks; i++)
                    if (!heap_inspect_block_free(span, i))
                        out->allocated += heap_small_requested(span, i);
                s += span->nslices;
            }
        }
        for (struct heap_large *l = in.parts[k]->large; l; l = l->next) {
            out->reserved += l->region_size;
            out->committed += l->committed;
            out->allocated += l->requested;
        }
    }
    out->max_reserve = heap->maximum ? heap->maximum : out->reserved;
    heap_inspect_end(&in);
}

uint32_t heap_compat_info(struct ms_heap *heap)
{
    if (heap->sharded)
        return 2;               /* the process heap: LFH from the start, as on Windows */
    return (__atomic_load_n(&heap->flags, __ATOMIC_RELAXED) & HEAP_INFO_LFH_ON) ? 2 : 0;
}

ms_status heap_set_compat_info(struct ms_heap *heap, uint32_t value)
{
    uint32_t now = heap_compat_info(heap);
    if (value == now)
        return MS_OK;
    if (value != 2 || now == 2 || (heap->flags & MS_HEAP_NO_SERIALIZE) || heap->maximum)
        return MS_ERROR_GEN_FAILURE;
    __atomic_fetch_or(&heap->flags, HEAP_INFO_LFH_ON, __ATOMIC_RELAXED);
    /* The low-fragmentation heap is size buckets: the fine classes from
     * now on, as on Windows, where this turns them on at once. */
    heap_lock_heap(heap);
    heap->young = false;
    heap_unlock_heap(heap);
    return MS_OK;
}

static void optimize_one(struct ms_heap *heap)
{
    struct heap_inspect in;
    heap_inspect_begin(heap, 0, &in);
    for (unsigned k = 0; k < in.n; k++) {
        heap_small_release_empty_spans(in.parts[k]);
        heap_small_sweep_segments(in.parts[k], true);
        for (struct heap_segment *seg = in.parts[k]->segments; seg; seg = seg->next)
            heap_small_decommit_idle(seg);
    }
    heap_inspect_end(&in);
}

void heap_optimize_resources(struct ms_heap *heap)
{
    if (heap) {
        optimize_one(heap);
    } else {
        struct ms_heap *process = heap_process();
        if (process)
            optimize_one(process);
        void *handles[256];
        size_t n = heap_enumerate(handles, 256);
        for (size_t i = 0; i < n && i < 256; i++) {
            struct ms_heap *h = heap_from_handle(handles[i]);
            if (h)
                optimize_one(h);
        }
    }
    /* Last, as the segments the heaps emptied went there: the cache of
     * emptied segments and the pages the vm core keeps from released ones
     * (src/vm/vm_keep.c), resident both. */
    heap_segment_cache_drop();
    vm_keep_drop_all();
}

uint32_t heap_create_flags(struct ms_heap *heap)
{
    return heap_parent(heap)->flags & (MS_HEAP_NO_SERIALIZE | MS_HEAP_GENERATE_EXCEPTIONS | MS_HEAP_CREATE_ENABLE_EXECUTE);
}

void heap_enable_termination_on_corruption(void)
{
    atomic_store(&terminate_on_corruption, true);
}

bool heap_termination_on_corruption(void)
{
    return atomic_load_explicit(&terminate_on_corruption, memory_order_relaxed);
}
