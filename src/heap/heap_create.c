/*
 * heap_create.c - heaps and their segments: HeapCreate, HeapDestroy, the
 * process heap, and which heap owns an address.
 *
 * A heap lives inside its first ("home") segment, in the metadata slices, so
 * creating a heap is one vm allocation and the heap handle is itself an
 * address the heap owns. Segments come from vm_allocate_internal (4 MiB,
 * 4 MiB-aligned, usage HEAP) and rely on fresh pages reading as zero: a
 * zero span record is a valid free slice, so a new segment touches only its
 * header page. Segments are tagged with owner = their heap, except the home
 * segment, which exists before the heap does (owner NULL); heap_owner_of
 * reads the owner of any segment from its header instead.
 */
#include "heap_internal.h"

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

struct ms_heap *heap_shard_for_thread(struct ms_heap *heap)
{
    /* Thread pointers are at least page-aligned and spaced by stacks: mix
     * the bits above the page before picking. */
    uint64_t h = (uint64_t)(host_thread_key() >> 12) * 0x9E3779B97F4A7C15ull;
    unsigned i = (unsigned)(h >> 61);
    struct ms_heap *shard = atomic_load_explicit(&heap->shards[i], memory_order_acquire);
    if (MS_LIKELY(shard))
        return shard;
    ms_status err;
    struct ms_heap *fresh = heap_new(heap->flags, 0, 0, &err);
    if (!fresh)
        return heap;                    /* share the heap itself rather than fail */
    fresh->parent = heap;
    struct ms_heap *expected = NULL;
    if (atomic_compare_exchange_strong(&heap->shards[i], &expected, fresh))
        return fresh;
    heap_destroy(fresh);                /* another thread was first */
    return expected;
}

struct ms_heap *heap_shard_of_block(struct ms_heap *heap, const void *block)
{
    if (!heap->sharded)
        return heap;
    struct ms_heap *owner = heap_owner_of(block);
    return owner && owner->parent == heap ? owner : heap;
}

struct ms_heap *heap_parent(struct ms_heap *heap)
{
    return heap && heap->parent ? heap->parent : heap;
}

/* Shards in index order: every HeapLock takes them the same way round. */
void heap_lock_heap(struct ms_heap *heap)
{
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (s)
            heap_lock(s, 0);
    }
}

void heap_unlock_heap(struct ms_heap *heap)
{
    for (unsigned i = HEAP_SHARDS; i-- > 0;) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (s)
            heap_unlock(s, !(s->flags & MS_HEAP_NO_SERIALIZE));
    }
}

static struct heap_segment *segment_alloc(uint32_t prot, struct ms_heap *owner, ms_status *err)
{
    uintptr_t base = 0;
    /* Reserve the whole segment, commit its metadata; data slices are
     * committed as spans need them (heap_small.c). */
    if (vm_reserve_internal(&base, HEAP_SEG_SIZE, (size_t)HEAP_META_SLICES << HEAP_SLICE_SHIFT, HEAP_SEG_SIZE, prot,
                            VM_USAGE_HEAP, owner) != MS_OK) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    struct heap_segment *seg = (struct heap_segment *)base;
    seg->magic = HEAP_SEG_MAGIC;
    seg->free_slices = ~0ull << HEAP_META_SLICES;
    seg->committed_slices = ~(~0ull << HEAP_META_SLICES);
    seg->nspans = 0;
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
    struct heap_segment *seg = segment_alloc(heap->prot, heap, err);
    if (!seg)
        return NULL;
    segment_link(heap, seg);
    /* Published last: from here on pointers into it resolve. */
    ms_status st = heap_segmap_set((uintptr_t)seg, true);
    if (st) {
        heap->segments = seg->next;
        if (seg->next)
            seg->next->prev = NULL;
        vm_release_internal((uintptr_t)seg);
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
    seg->magic = 0;
    vm_release_internal((uintptr_t)seg);
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
    struct heap_segment *seg = segment_alloc(prot, NULL, err);
    if (!seg)
        return NULL;
    struct ms_heap *heap = (struct ms_heap *)ms_align_up((uintptr_t)seg + sizeof(*seg), 64);
    heap->flags = flags & HEAP_CREATE_FLAGS;
    heap->prot = prot;
    atomic_init(&heap->lock.state, 0);
    heap->maximum = maximum;
    heap->in_use = 0;
    heap->home = seg;
    heap->segments = NULL;
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
    heap->sharded = false;
    heap->listed = false;
    heap->parent = NULL;
    for (unsigned i = 0; i < HEAP_SHARDS; i++)
        atomic_init(&heap->shards[i], NULL);
    return heap;
}

struct ms_heap *heap_create(uint32_t flags, size_t initial, size_t maximum, ms_status *err)
{
    struct ms_heap *heap = heap_new(flags, initial, maximum, err);
    if (heap)
        heap_list_add(heap);
    return heap;
}

ms_status heap_destroy(struct ms_heap *heap)
{
    if (!heap || heap->magic != HEAP_MAGIC)
        return MS_ERROR_INVALID_HANDLE;
    /* The process heap stays, as on Windows (HeapDestroy fails for it). */
    if (heap == atomic_load_explicit(&process_heap, memory_order_acquire))
        return MS_ERROR_INVALID_HANDLE;
    if (heap->listed)
        heap_list_remove(heap);
    heap->magic = 0;
    while (heap->large)
        heap_large_free_locked(heap, heap->large);
    struct heap_segment *home = heap->home;
    for (struct heap_segment *seg = heap->segments, *next; seg; seg = next) {
        next = seg->next;
        if (seg != home)
            heap_segment_release_locked(heap, seg);
    }
    /* The heap itself lives in the home segment: nothing of it is touched
     * after this. */
    heap_segmap_set((uintptr_t)home, false);
    home->magic = 0;
    vm_release_internal((uintptr_t)home);
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

struct ms_heap *heap_owner_of(const void *ptr)
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

static uint64_t in_use_of(struct ms_heap *heap)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        struct ms_heap *s = heap->sharded ? atomic_load(&heap->shards[i]) : (i ? NULL : heap);
        if (!s)
            continue;
        bool locked = heap_lock(s, 0);
        sum += s->in_use;
        heap_unlock(s, locked);
    }
    return sum;
}

void heap_totals(struct heap_totals *totals)
{
    totals->private_heaps = 0;
    totals->in_use = 0;
    ms_mutex_lock(&heap_list_lock);
    for (struct ms_heap *h = heap_list; h; h = h->next_heap) {
        totals->private_heaps++;
        totals->in_use += in_use_of(h);
    }
    ms_mutex_unlock(&heap_list_lock);
    struct ms_heap *process = atomic_load_explicit(&process_heap, memory_order_acquire);
    totals->process_in_use = process ? in_use_of(process) : 0;
    totals->in_use += totals->process_in_use;
}

/* For HeapLock of a sharded heap (heap_userlock.c): every shard made before
 * the locks are taken, so a thread that starts allocating while the heap is
 * held finds its shard locked instead of making a fresh, unlocked one. */
void heap_shards_create_all(struct ms_heap *heap)
{
    if (!heap->sharded)
        return;
    for (unsigned i = 0; i < HEAP_SHARDS; i++) {
        if (atomic_load_explicit(&heap->shards[i], memory_order_acquire))
            continue;
        ms_status err;
        struct ms_heap *fresh = heap_new(heap->flags, 0, 0, &err);
        if (!fresh)
            continue;           /* that slot's threads share the heap itself, which is locked */
        fresh->parent = heap;
        struct ms_heap *expected = NULL;
        if (!atomic_compare_exchange_strong(&heap->shards[i], &expected, fresh))
            heap_destroy(fresh);
    }
}
