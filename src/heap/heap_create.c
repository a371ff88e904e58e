/*
 * heap_create.c - heaps and their segments: HeapCreate, HeapDestroy, the
 * process heap, and which heap owns an address.
 *
 * A heap lives inside its first ("home") segment, in the metadata slices, so
 * creating a heap is one vm allocation and the heap handle is itself an
 * address the heap owns. Segments come from vm_reserve_warm (4 MiB,
 * 4 MiB-aligned, usage HEAP) and rely on their span records reading as
 * zero: a zero span record is a valid free slice, so a fresh segment
 * touches only its header page; a warm one (an emptied segment, or the
 * pages of a destroyed heap's segment the vm core kept) had its records
 * reset when it left its heap (segment_scrub). Segments are tagged with
 * owner = their heap, except the home segment, which exists before the
 * heap does (owner NULL); heap_owner_of reads the owner of any segment
 * from its header instead.
 */
#include "heap_internal.h"
#include "heap_debug.h"

#define HEAP_CREATE_FLAGS (MS_HEAP_NO_SERIALIZE | MS_HEAP_GENERATE_EXCEPTIONS | MS_HEAP_CREATE_ENABLE_EXECUTE)

static _Atomic(struct ms_heap *) process_heap;
static ms_mutex process_heap_lock = MS_MUTEX_INIT;
/* Private heaps, for GetProcessHeaps; guarded by heap_list_lock. */
static struct ms_heap *heap_list;
static ms_mutex heap_list_lock = MS_MUTEX_INIT;

static void heap_list_add(struct ms_heap *heap)
{
    ms_mutex_lock(&heap_list_lock);
    heap->listed = true;
    heap->prev_heap = NULL;
    heap->next_heap = heap_list;
    if (heap_list)
        heap_list->prev_heap = heap;
    heap_list = heap;
    ms_mutex_unlock(&heap_list_lock);
}

static void heap_list_remove(struct ms_heap *heap)
{
    ms_mutex_lock(&heap_list_lock);
    if (heap->prev_heap)
        heap->prev_heap->next_heap = heap->next_heap;
    else
        heap_list = heap->next_heap;
    if (heap->next_heap)
        heap->next_heap->prev_heap = heap->prev_heap;
    ms_mutex_unlock(&heap_list_lock);
}

void heap_private_each(void (*fn)(struct ms_heap *heap, void *context), void *context)
{
    ms_mutex_lock(&heap_list_lock);
    for (struct ms_heap *h = heap_list; h; h = h->next_heap)
        fn(h, context);
    ms_mutex_unlock(&heap_list_lock);
}

size_t heap_enumerate(void **handles, size_t max)
{
    size_t n = 0;
    ms_mutex_lock(&heap_list_lock);
    for (struct ms_heap *h = heap_list; h; h = h->next_heap, n++)
        if (n < max)
            handles[n] = heap_handle(h);
    ms_mutex_unlock(&heap_list_lock);
    return n;
}

void *heap_handle(const struct ms_heap *heap)
{
    return heap->home;
}

struct ms_heap *heap_from_handle(const void *handle)
{
    uintptr_t h = (uintptr_t)handle;
    if (!h || (h & (HEAP_SEG_SIZE - 1)) || !heap_segmap_contains(h))
        return NULL;
    struct ms_heap *heap = ((struct heap_segment *)h)->heap;
    return heap && heap->home == (struct heap_segment *)h && heap->magic == HEAP_MAGIC ? heap : NULL;
}

static struct ms_heap *heap_new(uint32_t flags, size_t initial, size_t maximum, ms_status *err);

struct ms_heap *heap_shard_get(struct ms_heap *heap, unsigned i)
{
    struct ms_heap *shard = atomic_load_explicit(&heap->shards[i], memory_order_acquire);
    if (MS_LIKELY(shard))
        return shard;
    ms_status err;
    struct ms_heap *fresh = heap_new(heap->flags, 0, 0, &err);
    if (!fresh)
        return heap;                    /* share the heap itself rather than fail */
    fresh->parent = heap;
    fresh->biasable = heap_bias_enabled;
    struct ms_heap *expected = NULL;
    if (atomic_compare_exchange_strong(&heap->shards[i], &expected, fresh))
        return fresh;
    heap_destroy(fresh);                /* another thread was first */
    return expected;
}

/* Large blocks: not in a segment, found through the vm core's records. */
static struct ms_heap *shard_owner_of(const void *ptr);

struct ms_heap *heap_shard_of_block_slow(struct ms_heap *heap, const void *block)
{
    struct ms_heap *owner = shard_owner_of(block);
    return owner && owner->parent == heap ? owner : heap;
}

struct ms_heap *heap_parent(struct ms_heap *heap)
{
    return heap && heap->parent ? heap->parent : heap;
}

/* Shards in index order: every HeapLock takes them the same way round,
 * shard 0 (the heap itself) first. Shards are created and claimed under
 * shard 0's lock (heap_bias.c), so the set locked here stays the set that
 * exists until HeapUnlock; it is remembered for the unlock. */
void heap_lock_heap(struct ms_heap *heap)
{
    if (!heap->sharded) {
        heap_lock(heap, HEAP_LOCK_MUTEX);
        return;
    }
    heap_lock(heap, 0);
    if (heap->depth == 1) {
        uint32_t mask = 0;
        for (unsigned i = 1; i < HEAP_SHARDS; i++)
            if (atomic_load_explicit(&heap->shards[i], memory_order_acquire))
                mask |= 1u << i;
        heap->locked_shards = mask;
    }
    for (uint32_t mask = heap->locked_shards; mask; mask &= mask - 1)
        heap_lock(atomic_load(&heap->shards[__builtin_ctz(mask)]), 0);
}

void heap_unlock_heap(struct ms_heap *heap)
{
    if (!heap->sharded) {
        heap_unlock(heap, !(heap->flags & MS_HEAP_NO_SERIALIZE));
        return;
    }
    for (unsigned i = HEAP_SHARDS; i-- > 1;)
        if (heap->locked_shards & (1u << i))
            heap_unlock(atomic_load(&heap->shards[i]), true);
    heap_unlock(heap, true);
}

/* Segments a live heap empties are kept for reuse, a few of them: a heap
 * that breathes around a segment boundary, or the next HeapCreate, then
 * finds metadata and data pages already committed and faulted in instead
 * of paying a page fault per page touched again (~2 us each under Wine).
 * Bounded: HEAP_SEG_CACHE segments, at most 16 MiB of commit kept. Only
 * read-write segments. HeapDestroy does not feed the cache: on Windows the
 * memory of a destroyed heap is free address space afterwards (VirtualQuery
 * says MEM_FREE, VirtualAlloc may take it), and so it is here. What it
 * does instead is release two of its segments through vm_release_keep:
 * the vm core keeps their host pages (PROT_NONE, outside every allocation;
 * see src/vm/vm_keep.c) and gives them back to the next segment
 * reservation (vm_reserve_warm), faulted in and committed, with the
 * contents they had. A live heap's segments the cache has no room for go
 * the same way. */
#define HEAP_SEG_CACHE 4
static struct heap_segment *seg_cache[HEAP_SEG_CACHE];
static unsigned seg_cache_count;
static ms_mutex seg_cache_lock = MS_MUTEX_INIT;

/* Written into a segment's header when it leaves its heap with its span
 * records reset: a segment that comes back warm (cache or vm_reserve_warm)
 * with this mark reads like a fresh one where the heap relies on zeroes. */
#define HEAP_SEG_SCRUBBED 0x4253534853534d31ull

/* Reset the span records to "free slice" (zero used, back, remote_listed)
 * where spans were, touching only records in use, and list them among the
 * free slices of their class (class_free). Everything else a span
 * keeps (bitmaps, sizes, side state) span_create initialises itself; the
 * side area's bitmap segment_alloc clears. */
static void segment_scrub(struct heap_segment *seg)
{
    for (uint64_t spans = ~seg->free_slices & (~0ull << HEAP_META_SLICES); spans; spans &= spans - 1) {
        unsigned slice = (unsigned)__builtin_ctzll(spans);
        struct heap_span *rec = &seg->spans[slice - HEAP_META_SLICES];
        if (rec->used)                  /* its slices become free ones of its class (slice_of_class) */
            seg->class_free[rec->cls] |= (uint64_t)1 << slice;
        rec->used = 0;
        rec->back = 0;
        atomic_store_explicit(&rec->remote_listed, 0, memory_order_relaxed);
    }
    seg->magic = HEAP_SEG_SCRUBBED;
}

/* How a segment leaves its heap. */
enum segment_fate {
    SEG_CACHE,          /* a live heap's: to the cache, else kept by the vm core */
    SEG_KEEP,           /* to the vm core, which may keep its pages */
    SEG_RELEASE,        /* to the vm core, pages and all */
};

/* Give back a segment that is out of the segment map. */
static void segment_free(struct heap_segment *seg, uint32_t prot, enum segment_fate fate)
{
    if (fate == SEG_RELEASE) {
        vm_release_internal((uintptr_t)seg);
        return;
    }
    segment_scrub(seg);
    if (fate == SEG_CACHE && prot == VM_PAGE_READWRITE) {
        ms_mutex_lock(&seg_cache_lock);
        if (seg_cache_count < HEAP_SEG_CACHE) {
            seg_cache[seg_cache_count++] = seg;
            ms_mutex_unlock(&seg_cache_lock);
            return;
        }
        ms_mutex_unlock(&seg_cache_lock);
    }
    vm_release_keep((uintptr_t)seg);
}

void heap_segment_cache_drop(void)
{
    struct heap_segment *drop[HEAP_SEG_CACHE];
    ms_mutex_lock(&seg_cache_lock);
    unsigned n = seg_cache_count;
    memcpy(drop, seg_cache, n * sizeof(drop[0]));
    seg_cache_count = 0;
    ms_mutex_unlock(&seg_cache_lock);
    for (unsigned i = 0; i < n; i++)
        segment_free(drop[i], VM_PAGE_READWRITE, SEG_RELEASE);
}

static uint64_t slice_mask_below(size_t bytes)
{
    size_t n = bytes >> HEAP_SLICE_SHIFT;
    return n >= HEAP_SLICES ? ~0ull : ((uint64_t)1 << n) - 1;
}

/* A heap's home segment does not come from the cache of emptied segments:
 * those are as resident as their last heap left them (a whole mixed batch
 * of the process heap's, say), and a home segment is what HeapDestroy
 * keeps (vm_keep.c), where every resident page costs each later
 * HeapCreate/HeapDestroy pair ~0.12 us of mprotect: a private heap cycle
 * after a big batch took 31 us instead of 19. Homes come from kept ranges,
 * which hold only what a small heap touched, or fresh. */
static struct heap_segment *segment_alloc(uint32_t prot, struct ms_heap *owner, bool home, ms_status *err)
{
    if (prot == VM_PAGE_READWRITE && !home) {
        ms_mutex_lock(&seg_cache_lock);
        struct heap_segment *seg = seg_cache_count ? seg_cache[--seg_cache_count] : NULL;
        ms_mutex_unlock(&seg_cache_lock);
        if (seg) {
            seg->magic = HEAP_SEG_MAGIC;
            seg->free_slices = ~0ull << HEAP_META_SLICES;
            seg->nspans = 0;            /* committed_slices stay: that is the point */
            seg->purge_after = 0;
            seg->release_after = 0;
            memset(seg->side_used, 0, sizeof(seg->side_used));
            return seg;
        }
    }
    uintptr_t base = 0;
    size_t meta = (size_t)HEAP_META_SLICES << HEAP_SLICE_SHIFT, stale = 0;
    /* Reserve the whole segment, commit its metadata; data slices are
     * committed as spans need them (heap_small.c). A warm segment comes
     * back with whatever its last heap had committed. */
    if (vm_reserve_warm(&base, HEAP_SEG_SIZE, meta, HEAP_SEG_SIZE, prot, VM_USAGE_HEAP, owner, &stale) != MS_OK) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    struct heap_segment *seg = (struct heap_segment *)base;
    /* Only a scrubbed segment comes back warm; should anything else ever
     * do, reset every record rather than trust it. */
    if (stale && seg->magic != HEAP_SEG_SCRUBBED) {
        memset(seg->spans, 0, sizeof(seg->spans));
        memset(seg->class_free, 0, sizeof(seg->class_free));
    }
    seg->magic = HEAP_SEG_MAGIC;
    seg->free_slices = ~0ull << HEAP_META_SLICES;
    seg->committed_slices = slice_mask_below(stale > meta ? stale : meta);
    seg->nspans = 0;
    seg->purge_after = 0;
    seg->release_after = 0;
    memset(seg->side_used, 0, sizeof(seg->side_used));
    return seg;
}

static void segment_link(struct ms_heap *heap, struct heap_segment *seg)
{
    seg->heap = heap;
    seg->prev = NULL;
    seg->next = heap->segments;
    if (heap->segments)
        heap->segments->prev = seg;
    heap->segments = seg;
}

struct heap_segment *heap_segment_new_locked(struct ms_heap *heap, ms_status *err)
{
    struct heap_segment *seg = segment_alloc(heap->prot, heap, false, err);
    if (!seg)
        return NULL;
    segment_link(heap, seg);
    /* Published last: from here on pointers into it resolve. */
    ms_status st = heap_segmap_set((uintptr_t)seg, true);
    if (st) {
        heap->segments = seg->next;
        if (seg->next)
            seg->next->prev = NULL;
        segment_free(seg, heap->prot, SEG_CACHE);
        *err = st;
        return NULL;
    }
    return seg;
}

void heap_segment_release_locked(struct ms_heap *heap, struct heap_segment *seg)
{
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        heap->segments = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
    heap_segmap_set((uintptr_t)seg, false);
    segment_free(seg, heap->prot, SEG_CACHE);
}

static struct ms_heap *heap_new(uint32_t flags, size_t initial, size_t maximum, ms_status *err)
{
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (maximum) {
        /* As Windows: the maximum is at least the initial size, in pages. */
        if (initial > maximum)
            maximum = initial;
        if (maximum > HEAP_MAX_REQUEST) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
            return NULL;
        }
        maximum = ms_align_up(maximum, MS_PAGE_SIZE);
    }
    uint32_t prot = (flags & MS_HEAP_CREATE_ENABLE_EXECUTE) ? VM_PAGE_EXECUTE_READWRITE : VM_PAGE_READWRITE;
    struct heap_segment *seg = segment_alloc(prot, NULL, true, err);
    if (!seg)
        return NULL;
    struct ms_heap *heap = (struct ms_heap *)ms_align_up((uintptr_t)seg + sizeof(*seg), 64);
    heap->flags = flags & HEAP_CREATE_FLAGS;
    heap->prot = prot;
    atomic_init(&heap->lock.state, 0);
    heap->maximum = maximum;
    heap->in_use = 0;
    heap->young = false;
    heap->young_span = NULL;
    heap->home = seg;
    heap->segments = NULL;
    heap->empty_segments = 0;
    heap->large = NULL;
    for (unsigned c = 0; c < HEAP_CLASSES; c++)
        heap->bins[c] = NULL;
    segment_link(heap, seg);
    heap->magic = HEAP_MAGIC;
    ms_status st = heap_segmap_set((uintptr_t)seg, true);
    if (st) {
        vm_release_internal((uintptr_t)seg);
        *err = st;
        return NULL;
    }
    heap->next_heap = heap->prev_heap = NULL;
    atomic_init(&heap->holder, 0);
    heap->depth = 0;
    heap->biasable = false;
    heap->solo = false;
    heap->owner_entry = false;
    heap->meta_held = false;
    atomic_init(&heap->owner, 0);
    atomic_init(&heap->active, 0);
    atomic_init(&heap->revoked, 0);
    atomic_init(&heap->meta_lock.state, 0);
    atomic_init(&heap->remote_pending, 0);
    heap->remote_spans = NULL;
    atomic_init(&heap->purge_stamp, 0);
    heap->sharded = false;
    heap->listed = false;
    heap->parent = NULL;
    for (unsigned i = 0; i < HEAP_SHARDS; i++)
        atomic_init(&heap->shards[i], NULL);
    heap->locked_shards = 0;
    return heap;
}

struct ms_heap *heap_create(uint32_t flags, size_t initial, size_t maximum, ms_status *err)
{
    struct ms_heap *heap = heap_new(flags, initial, maximum, err);
    if (heap) {
        heap->young = !heap->maximum;
        /* Owned by its creator (heap_lock) where the owner fast path can
         * be revoked: membarrier, known once the process heap exists. */
        if (!(heap->flags & MS_HEAP_NO_SERIALIZE) && heap_process_if_created() && heap_bias_enabled) {
            heap->solo = true;
            atomic_store_explicit(&heap->owner, host_thread_key(), memory_order_relaxed);
        }
        heap_list_add(heap);
    }
    return heap;
}

ms_status heap_destroy(struct ms_heap *heap)
{
    if (!heap || heap->magic != HEAP_MAGIC)
        return MS_ERROR_INVALID_HANDLE;
    /* The process heap stays, as on Windows (HeapDestroy fails for it). */
    if (heap == atomic_load_explicit(&process_heap, memory_order_acquire))
        return MS_ERROR_INVALID_HANDLE;
    if (MS_UNLIKELY(heap_debug_mode))
        heap_debug_forget_heap(heap);
    if (heap->listed)
        heap_list_remove(heap);
    heap->magic = 0;
    while (heap->large)
        heap_large_free_locked(heap, heap->large);
    /* The vm core keeps the pages of two segments at most: the home one,
     * which the next HeapCreate takes, and the newest other one (first in
     * the list), for that heap's second segment. Keeping more would only
     * make the core drop them again, two host calls instead of one. */
    struct heap_segment *home = heap->home;
    enum segment_fate fate = SEG_KEEP;
    for (struct heap_segment *seg = heap->segments, *next; seg; seg = next) {
        next = seg->next;
        if (seg == home)
            continue;
        heap_segmap_set((uintptr_t)seg, false);
        segment_free(seg, heap->prot, fate);
        fate = SEG_RELEASE;
    }
    /* The heap itself lives in the home segment: nothing of it is touched
     * after this. */
    heap_segmap_set((uintptr_t)home, false);
    segment_free(home, heap->prot, SEG_KEEP);
    return MS_OK;
}

struct ms_heap *heap_process(void)
{
    struct ms_heap *heap = atomic_load_explicit(&process_heap, memory_order_acquire);
    if (MS_LIKELY(heap))
        return heap;
    ms_mutex_lock(&process_heap_lock);
    heap = atomic_load_explicit(&process_heap, memory_order_relaxed);
    if (!heap) {
        ms_status err;
        heap_bias_init();
        heap = heap_new(MS_HEAP_GROWABLE, 0, 0, &err);
        if (heap) {
            /* Every thread of the program allocates here: spread them. */
            heap->sharded = true;
            atomic_store_explicit(&heap->shards[0], heap, memory_order_relaxed);
        }
        atomic_store_explicit(&process_heap, heap, memory_order_release);
    }
    ms_mutex_unlock(&process_heap_lock);
    return heap;
}

struct ms_heap *heap_process_if_created(void)
{
    return atomic_load_explicit(&process_heap, memory_order_acquire);
}

void heap_process_fast_calls(uint64_t *allocs, uint64_t *frees)
{
    *allocs = *frees = 0;
    struct ms_heap *heap = heap_process_if_created();
    if (!heap)
        return;
    /* Shards are never freed: reading one while its owner counts is safe. */
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *shard = atomic_load_explicit(&heap->shards[i], memory_order_acquire);
        if (!shard)
            continue;
        *allocs += atomic_load_explicit(&shard->fast_calls[0], memory_order_relaxed);
        *frees += atomic_load_explicit(&shard->fast_calls[1], memory_order_relaxed);
    }
}

/* The heap or shard whose memory holds ptr. */
static struct ms_heap *shard_owner_of(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    uintptr_t base = p & ~(HEAP_SEG_SIZE - 1);
    if (heap_segmap_contains(base))
        return ((struct heap_segment *)base)->heap;
    struct vm_allocation_info info;
    if (!vm_lookup(p, &info) || info.usage != VM_USAGE_HEAP)
        return NULL;
    return (struct ms_heap *)info.owner;    /* a large block's heap; NULL for the segment map */
}

struct ms_heap *heap_owner_of(const void *ptr)
{
    return heap_parent(shard_owner_of(ptr));
}

/* Live blocks of one heap or shard, counted from its spans and large
 * blocks (for the statistics: nothing on the allocation path counts them). */
static uint64_t blocks_locked(const struct ms_heap *heap)
{
    uint64_t n = 0;
    for (const struct heap_segment *seg = heap->segments; seg; seg = seg->next)
        for (unsigned s = HEAP_META_SLICES; s < HEAP_SLICES; s++) {
            const struct heap_span *span = &seg->spans[s - HEAP_META_SLICES];
            if (span->used)
                n += span->nblocks - span->nfree;
        }
    for (const struct heap_large *large = heap->large; large; large = large->next)
        n++;
    return n;
}

static uint64_t in_use_of(struct ms_heap *heap, uint64_t *blocks)
{
    uint64_t sum = 0, count = 0;
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (!s)
            continue;
        bool locked = heap_lock(s, 0);
        sum += s->in_use;
        if (blocks)
            count += blocks_locked(s);
        heap_unlock(s, locked);
    }
    if (MS_UNLIKELY(heap_debug_mode))
        sum += heap_debug_charged(heap);
    if (blocks)
        *blocks = count;
    return sum;
}

size_t heap_usage_list(struct heap_usage *out, size_t max)
{
    size_t n = 0;
    struct ms_heap *process = atomic_load_explicit(&process_heap, memory_order_acquire);
    if (process) {
        if (n < max) {
            uint64_t blocks, bytes = in_use_of(process, &blocks);
            out[n] = (struct heap_usage){ process, heap_handle(process), bytes, blocks, true };
        }
        n++;
    }
    ms_mutex_lock(&heap_list_lock);
    for (struct ms_heap *h = heap_list; h; h = h->next_heap, n++)
        if (n < max) {
            uint64_t blocks, bytes = in_use_of(h, &blocks);
            out[n] = (struct heap_usage){ h, heap_handle(h), bytes, blocks, false };
        }
    ms_mutex_unlock(&heap_list_lock);
    return n;
}

void heap_totals(struct heap_totals *totals)
{
    totals->private_heaps = 0;
    totals->in_use = 0;
    ms_mutex_lock(&heap_list_lock);
    for (struct ms_heap *h = heap_list; h; h = h->next_heap) {
        totals->private_heaps++;
        totals->in_use += in_use_of(h, NULL);
    }
    ms_mutex_unlock(&heap_list_lock);
    struct ms_heap *process = atomic_load_explicit(&process_heap, memory_order_acquire);
    totals->process_in_use = process ? in_use_of(process, NULL) : 0;
    totals->in_use += totals->process_in_use;
}

