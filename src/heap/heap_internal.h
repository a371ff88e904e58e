/*
 * heap_internal.h - the layout of a heap, shared by the files of src/heap/.
 *
 * A heap is a set of segments plus a list of large blocks:
 *
 *  - segment: 4 MiB from the vm core, aligned to 4 MiB, so the segment of any
 *    small block is found by masking its address. Its first HEAP_META_SLICES
 *    slices (64 KiB each) hold only metadata: the segment header, one record
 *    per data slice (struct heap_span) and, in the heap's first ("home")
 *    segment, the struct ms_heap itself. The other slices hold user blocks.
 *  - span: 1..16 contiguous data slices serving one size class. Which blocks
 *    are free is a bitmap, and the size each block was asked for an array,
 *    both in the span record or, for spans of many blocks, in the
 *    segment's side area (metadata slices too): nothing about a block
 *    lives next to it, so an overrun of user data cannot corrupt the allocator, and every
 *    pointer handed to free/size/realloc is checked against the bitmap
 *    (double free, interior pointer, foreign pointer are all refused).
 *    A young private heap has one span of another kind (`young`): blocks
 *    of any size up to 1 KiB packed in 16-byte granules (heap_small.c:
 *    young_alloc), checked by the same bitmap.
 *  - large block: more than HEAP_SMALL_MAX bytes, a vm region of its own
 *    whose first page is its header; the user pointer is base + 4 KiB.
 *
 * A global segment map (heap_segmap.c) says which 4 MiB-aligned addresses
 * are live segments, so resolving a pointer never dereferences memory that
 * may not be mapped.
 *
 * Locking. A private heap has one mutex guarding everything of it (skipped
 * under HEAP_NO_SERIALIZE); HeapLock holds it across calls and is
 * recursive for its holder, as a Windows heap's critical section is. Its
 * creator goes around the mutex (solo, heap_lock) until another thread
 * takes it, which ends that for good.
 * The process heap is sharded (heap_bias.c): shard 0 is the heap itself,
 * locked by its mutex, and holds every large block; shards 1.. are each
 * owned by one thread at a time, which allocates and frees its own blocks
 * there without a lock or atomic read-modify-write. Other threads reach an
 * owned shard only:
 *  - to free one of its blocks: under the shard's meta_lock they set the
 *    block's bit in the span's remote bitmap, which the owner merges later;
 *  - to look at a block (HeapSize, in-place HeapReAlloc): under meta_lock;
 *  - for anything else (HeapLock, HeapValidate, HeapWalk, totals): by
 *    heap_lock, which takes the mutex, revokes the owner's fast path (the
 *    owner's next call waits for the mutex) and takes meta_lock.
 * The owner changes span and segment records only under meta_lock, so
 * whoever holds it reads them consistently; free bitmaps are atomics read
 * relaxed by others. Lock order: mutex, meta_lock, segment-map lock, vm lock.
 */
#ifndef MS_HEAP_INTERNAL_H
#define MS_HEAP_INTERNAL_H

#include <stdatomic.h>

#include "heap.h"
#include "../base/ms_lock.h"
#include "../vm/vm.h"

#define HEAP_SEG_SHIFT      22
#define HEAP_SEG_SIZE       ((size_t)1 << HEAP_SEG_SHIFT)
#define HEAP_SLICE_SHIFT    16
#define HEAP_SLICE_SIZE     ((size_t)1 << HEAP_SLICE_SHIFT)
#define HEAP_SLICES         64
#define HEAP_META_SLICES    5          /* header + 59 span records fit in 5 slices */
#define HEAP_DATA_SLICES    (HEAP_SLICES - HEAP_META_SLICES)
#define HEAP_SPAN_MAX_SLICES 16
#define HEAP_SPAN_MAX_BLOCKS 4096      /* a 64 KiB slice of 16-byte blocks */

#define HEAP_CLASSES        208
#define HEAP_SHARDS         16         /* internal heaps of a sharded heap: 0 locked, 1.. thread-owned */
#define HEAP_SMALL_MAX      ((size_t)262144)   /* largest size class */
#define HEAP_SIZE16_MAX     2048u      /* classes up to here keep sizes in 16 bits */
/* A young heap (heap_small.c: young_alloc) packs requests up to
 * HEAP_YOUNG_SIZE_MAX in one span of 16-byte granules. In its slack
 * array a block's first granule holds the block's slack (0..16), each
 * further granule HEAP_YOUNG_CONT, and the first granule of a tail given
 * back by an in-place shrink HEAP_YOUNG_DEAD. */
#define HEAP_YOUNG_SIZE_MAX ((size_t)1024)
#define HEAP_YOUNG_CONT     0xFFu
#define HEAP_YOUNG_DEAD     0xFEu

#define HEAP_LARGE_HEADER   ((size_t)4096)
/* Beyond this a request can never succeed (keeps size arithmetic safe). */
#define HEAP_MAX_REQUEST    ((size_t)1 << 46)

#define HEAP_MAGIC          0x5041454853534d31ull   /* "1MSSHEAP" */
#define HEAP_SEG_MAGIC      0x4745534853534d31ull
#define HEAP_LARGE_MAGIC    0x47524c4853534d31ull
#define HEAP_CANARY         0xFDu
#define HEAP_CANARY_MAX     16u        /* bytes of canary checked after a block */

struct ms_heap;

/* A span record is four cache lines, laid out by who touches what (the
 * shard's owner allocates and frees all the time while other threads free
 * into the span remotely): line 0 is what resolving a pointer reads, fixed
 * while the span lives; line 1 is what the allocating thread changes on
 * every call; line 2 starts with what remote frees write; the rest holds
 * the requested sizes of a span of few blocks. Sharing a line between the
 * two sides made every remote free miss on it. */
struct heap_span {
    /* Line 0: read by every free, by any thread. */
    uint16_t back;                     /* slices back to the first slice of its span (0: itself);
                                        * zero-filled records are valid free slices */
    uint8_t used;                      /* this record heads a live span */
    uint8_t cls;
    uint8_t nslices;
    uint8_t young;                     /* a young heap's packed span (heap_small.c:
                                        * young_alloc): 16-byte granules, a block runs
                                        * from its first granule to the next start */
    uint32_t block_size;
    uint32_t nblocks;
    uint64_t recip;                    /* ceil(2^32 / (block_size / 16)): index by multiply */
    uintptr_t start;                   /* address of block 0 */
    /* The span's block state, where span_create put it: in the record
     * itself for spans of at most HEAP_SPAN_INLINE_BLOCKS blocks, else in
     * the segment's side area (heap_side_layout). Keeping the records
     * small keeps the pages a heap touches for metadata few: a record per
     * 64 KiB slice, 256 bytes. */
    _Atomic uint64_t *freebits;        /* 1 = free. Written by whoever allocates from the span (the
                                        * shard's owner or mutex holder); read by others, so atomic
                                        * (relaxed: plain moves on x86) */
    _Atomic uint64_t *remote;          /* 1 = freed by a thread that does not own the shard, not yet
                                        * merged into freebits (under meta_lock; read relaxed by the owner) */
    union {                            /* what each block was asked for */
        uint8_t *slack;                /* 16-byte class: 16 - asked */
        uint16_t *size16;              /* 32..2048 bytes: asked */
        uint32_t *size32;              /* larger classes: asked */
    } req;
    /* Line 1: the allocating thread's. */
    _Alignas(64) struct heap_span *next;   /* in heap->bins[cls] while nfree > 0 */
    struct heap_span *prev;
    uint32_t nfree;
    uint16_t cursor;                   /* no free bit below this bitmap word; in a young
                                        * span, the first granule never handed out */
    uint8_t in_bin;
    uint32_t seq;                      /* the class's order of spans (heap_small.c:
                                        * slice_of_class); kept by a free slice's record */
    _Atomic uint64_t inline_bits[2];   /* freebits and remote of an inline span */
    /* Line 2: what remote frees write (once per span between two merges
     * by the owner): apart from line 0, which the owner reads on every
     * allocation. */
    _Alignas(64) struct heap_span *remote_next;    /* in heap->remote_spans (under meta_lock) */
    _Atomic uint8_t remote_listed;     /* has remote bits (set and cleared under meta_lock) */
    _Alignas(8) uint8_t inline_req[112];
};
_Static_assert(sizeof(struct heap_span) == 256, "a span record is four cache lines");

/* The side area: the block state of spans with many blocks (free bits,
 * remote bits, requested sizes, each as long as the span's block count
 * needs: heap_side_layout) packed in 64-byte units after the segment
 * header (and, in a home segment, the heap), first fit, a bitmap in the
 * header saying which units are taken. Packed, the spans of a heap share
 * pages of it: 40 live classes touched some 30 side pages when each data
 * slice had a fixed 5 KiB slot, a few now; resident metadata pages are
 * also what a heap rebuilt on kept pages pays for in each mprotect.
 * A span never needs more than HEAP_SIDE_SIZE bytes per slice of it (4096
 * one-byte slacks of the 16-byte class), and the area holds that for every
 * data slice, so the units of live spans plus a new one always fit; when
 * they are free but scattered, span_create packs the live spans' state
 * down first (heap_small.c: side_compact). */
#define HEAP_SPAN_INLINE_BLOCKS 64
#define HEAP_SIDE_BITS      (HEAP_SPAN_MAX_BLOCKS / 8)
#define HEAP_SIDE_REQ       ((size_t)HEAP_SPAN_MAX_BLOCKS)
#define HEAP_SIDE_SIZE      (2 * HEAP_SIDE_BITS + HEAP_SIDE_REQ)
#define HEAP_SIDE_OFFSET    ((size_t)20480)   /* header, records and heap take 19584 bytes */
#define HEAP_SIDE_UNIT      ((size_t)64)
#define HEAP_SIDE_UNITS     ((HEAP_META_SLICES * HEAP_SLICE_SIZE - HEAP_SIDE_OFFSET) / HEAP_SIDE_UNIT)
#define HEAP_SIDE_WORDS     ((HEAP_SIDE_UNITS + 63) / 64)

/* Bytes of side state of a span of nblocks blocks of block_size. */
static inline size_t heap_side_bytes(uint32_t nblocks, uint32_t block_size)
{
    size_t width = block_size == 16 ? 1 : block_size <= HEAP_SIZE16_MAX ? 2 : 4;
    return 2 * 8 * (size_t)((nblocks + 63u) / 64u) + nblocks * width;
}

/* Where a span of nblocks blocks keeps its state from `side` on. */
static inline void heap_side_layout(uint8_t *side, uint32_t nblocks, _Atomic uint64_t **freebits,
                                    _Atomic uint64_t **remote, uint8_t **req)
{
    size_t words = (nblocks + 63u) / 64u;
    *freebits = (_Atomic uint64_t *)side;
    *remote = (_Atomic uint64_t *)(side + words * 8);
    *req = side + 2 * words * 8;
}

struct heap_segment {
    uint64_t magic;
    struct ms_heap *heap;
    struct heap_segment *next, *prev;
    uint64_t free_slices;              /* bit s set: data slice s is in no span */
    uint64_t committed_slices;         /* bit s set: slice s is committed (all
                                        * slices are reserved; commit follows use,
                                        * so the commit charge is what the heap uses) */
    uint64_t purge_after;              /* host_cycles() after which idle slices beyond
                                        * the bound are decommitted (0: none pending) */
    uint64_t release_after;            /* host_cycles() after which this segment, left
                                        * without spans, goes back (0: it has spans, or
                                        * is the home) */
    uint32_t nspans;
    uint64_t side_used[HEAP_SIDE_WORDS];    /* bit u set: unit u of the side area is a span's */
    uint64_t class_free[HEAP_CLASSES]; /* bit s set: slice s is free and last headed a span of
                                        * the class (heap_small.c: slice_of_class); then the
                                        * record of s says so too */
    struct heap_span spans[HEAP_DATA_SLICES];   /* 64-byte aligned (the segment is) */   /* record of slice s at [s - HEAP_META_SLICES] */
};

struct heap_large {
    uint64_t magic;
    struct ms_heap *heap;
    struct heap_large *next, *prev;
    size_t requested;
    size_t region_size;                /* bytes of the vm region */
    size_t committed;                  /* bytes from the base still committed */
};

struct ms_heap {
    /* Line 0: what every call reads, the shard's owner and other threads
     * alike (routing, ownership); written only at creation, when a thread
     * claims or gives back the shard, and by HeapLock. */
    uint64_t magic;
    uint32_t flags;
    uint32_t prot;                     /* VM_PAGE_* of its memory */
    struct ms_heap *parent;            /* a shard's heap (NULL: itself) */
    _Atomic uintptr_t owner;           /* thread key of the owning thread, 0: none (heap_bias.c) */
    /* HeapLock: the thread holding `lock` through heap_lock (0: none) and
     * how many times, so its own calls inside HeapLock do not deadlock. */
    _Atomic uintptr_t holder;
    size_t maximum;                    /* 0 = growable */
    bool sharded;                      /* made of shards (the process heap) */
    bool biasable;                     /* may be owned: shards 1.. of the process heap */
    bool solo;                         /* a private heap its creator owns until another
                                        * thread takes its lock (heap_lock, heap_bias.c) */
    bool listed;                       /* on the private-heap list */
    /* Line 1 on: the state whoever allocates changes (the owner on every
     * call); other threads never touch it while the owner may run. */
    _Alignas(64) _Atomic uint32_t active;   /* owner is inside a call (nesting depth) */
    _Atomic uint32_t revoked;          /* owner must take the mutex */
    uint32_t depth;
    bool meta_held;                    /* the mutex holder also holds meta_lock */
    bool owner_entry;                  /* a solo heap's holder came in as its owner,
                                        * without the mutex */
    size_t in_use;                     /* bytes of live blocks (class sizes, large regions) */
    bool young;                        /* small blocks packed in young_span until it is
                                        * full (heap_small.c: young_alloc) */
    struct heap_span *young_span;      /* NULL until the first small block */
    /* HeapAlloc and HeapFree calls the owner's fast path served while the
     * statistics asked for counting (heap_process_fast_calls): counted
     * here, on a line the owner writes anyway, not through a TLS slot. */
    _Atomic uint64_t fast_calls[2];
    struct heap_span *bins[HEAP_CLASSES];
    /* Locks, and what remote frees write (under meta_lock). */
    _Alignas(64) ms_mutex lock;
    ms_mutex meta_lock;
    _Atomic uint32_t remote_pending;   /* remote_spans is not empty */
    struct heap_span *remote_spans;
    /* host_cycles() (| 1) of the last span this heap or shard gave back,
     * 0 once the background purge has taken what it keeps (heap_purge.c);
     * written under its lock or meta_lock. */
    _Atomic uint64_t purge_stamp;
    struct heap_segment *home;         /* holds this struct; released last */
    struct heap_segment *segments;     /* all segments, home included */
    uint32_t empty_segments;           /* of them, without spans and not the home (heap_small.c) */
    uint32_t span_seq;                 /* last seq given to a span on a slice new to its class */
    struct heap_large *large;
    struct ms_heap *next_heap, *prev_heap;  /* all private heaps (heap_enumerate) */
    /* Sharding (the process heap): threads allocate from one of several
     * internal heaps, each with its own segments, chosen by thread; a
     * block is freed into the shard that owns it. shards[0] is the heap
     * itself, locked; the others are owned by one thread each. */
    _Atomic(struct ms_heap *) shards[HEAP_SHARDS];
    uint32_t locked_shards;            /* shards HeapLock took (bit i: shards[i]), under shard 0's lock */
};

_Static_assert(sizeof(struct heap_segment) + 64 + sizeof(struct ms_heap) <= HEAP_SIDE_OFFSET,
               "segment header and heap must fit before the side area");
_Static_assert(HEAP_DATA_SLICES * HEAP_SIDE_SIZE <= HEAP_SIDE_UNITS * HEAP_SIDE_UNIT,
               "the side area must hold the state of spans on every data slice");

static inline uint64_t heap_bits_get(const _Atomic uint64_t *word)
{
    return atomic_load_explicit(word, memory_order_relaxed);
}

static inline void heap_bits_put(_Atomic uint64_t *word, uint64_t value)
{
    atomic_store_explicit(word, value, memory_order_relaxed);
}

/* heap_small.c: size classes and spans. All *_locked functions run with the
 * heap lock held (or under HEAP_NO_SERIALIZE). */
extern const uint32_t heap_class_size[HEAP_CLASSES];
extern const uint8_t heap_class_slices[HEAP_CLASSES];  /* slices of a span of each class */
static inline unsigned heap_size_class(size_t size)
{
    if (size <= 128)
        return size ? (unsigned)((size + 15) >> 4) - 1 : 0;
    /* Eight classes per doubling up to 1 KiB, 32 up to 8 KiB, sixteen
     * beyond (heap_small.c): the mantissa's top three, five or four bits.
     * Sizes up to 1 KiB of the process heap's owner take the fast path's
     * table (heap_fast.h) instead. */
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(s);
    if (b < 10)
        return 8 + (b - 7) * 8 + (unsigned)((s >> (b - 3)) & 7);
    if (b < 13)
        return 32 + (b - 10) * 32 + (unsigned)((s >> (b - 5)) & 31);
    return 128 + (b - 13) * 16 + (unsigned)((s >> (b - 4)) & 15);
}
void *heap_small_alloc_locked(struct ms_heap *heap, size_t size, ms_status *err);
/* An allocation took the span's last free block: out of its bin. */
void heap_small_span_full(struct ms_heap *heap, struct heap_span *span);
/* A free made its span leave the full state or become empty: rebin it. */
void heap_small_span_changed(struct ms_heap *heap, struct heap_span *span);
/* Give back the segments left without spans longer than the purge delay
 * (all of them: `all`); meta lock held or not needed. */
void heap_small_sweep_segments(struct ms_heap *heap, bool all);
/* HeapOptimizeResources: the empty spans the bins keep for reuse (one a
 * class, heap_small_span_changed) go back to their segments, whose idle
 * slices the caller then decommits. The heap held whole (heap_inspect.h). */
void heap_small_release_empty_spans(struct ms_heap *heap);
/* Decommit a segment's committed free data slices at once (the heap held
 * whole). */
void heap_small_decommit_idle(struct heap_segment *seg);

/* heap_purge.c: a span of this heap (a shard of the process heap, or a
 * private heap that is not HEAP_NO_SERIALIZE) went back: stamp it. */
void heap_purge_note(struct ms_heap *shard);

void heap_young_free_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index);

static inline void heap_small_free_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index)
{
    if (MS_UNLIKELY(span->young)) {
        heap_young_free_locked(heap, span, index);
        return;
    }
    uint32_t w = index / 64;
    heap_bits_put(&span->freebits[w], heap_bits_get(&span->freebits[w]) | (uint64_t)1 << (index % 64));
    if (w < span->cursor)
        span->cursor = (uint16_t)w;
    heap->in_use -= span->block_size;
    uint32_t nfree = ++span->nfree;
    /* An emptied span alone in its bin stays (an alloc/free loop would
     * otherwise rebuild it each time): decided here, without a call. */
    if (MS_UNLIKELY(nfree == 1) || (nfree == span->nblocks && (span->next || span->prev)))
        heap_small_span_changed(heap, span);
}
/* Granules of the block (or shrink tail) starting at granule i of a young
 * span: up to the next start, at most HEAP_YOUNG_SIZE_MAX / 16. */
static inline uint32_t heap_young_granules(const struct heap_span *span, uint32_t i)
{
    uint32_t n = 1, end = span->cursor;
    while (i + n < end && span->req.slack[i + n] == HEAP_YOUNG_CONT)
        n++;
    return n;
}

/* Bytes block `index` of a span can hold. */
static inline size_t heap_small_capacity(const struct heap_span *span, uint32_t index)
{
    return MS_UNLIKELY(span->young) ? (size_t)heap_young_granules(span, index) * 16 : span->block_size;
}

static inline size_t heap_small_requested(const struct heap_span *span, uint32_t index)
{
    if (span->block_size == 16)
        return heap_small_capacity(span, index) - span->req.slack[index];
    if (span->block_size <= HEAP_SIZE16_MAX)
        return span->req.size16[index];
    return span->req.size32[index];
}

/* A slack byte for the 16-byte class, as zero-filled memory then reads as
 * full blocks; sizes elsewhere (a block may shrink in place to far below
 * its class). */
static inline void heap_small_set_requested(struct heap_span *span, uint32_t index, size_t size)
{
    if (span->block_size == 16)
        span->req.slack[index] = (uint8_t)(heap_small_capacity(span, index) - size);
    else if (span->block_size <= HEAP_SIZE16_MAX)
        span->req.size16[index] = (uint16_t)size;
    else
        span->req.size32[index] = (uint32_t)size;
}
bool heap_small_validate_span(struct heap_segment *seg, struct heap_span *span);
/* Resize block `index` in place to `size` <= its capacity (realloc); a
 * young block that shrinks by whole granules gives them back. */
void heap_small_resize_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index, size_t size);
size_t heap_young_live_bytes(const struct heap_span *span);

/* heap_large.c */
void *heap_large_alloc_locked(struct ms_heap *heap, size_t size, size_t headroom, ms_status *err);
void heap_large_free_locked(struct ms_heap *heap, struct heap_large *large);
struct heap_large *heap_large_resolve(struct ms_heap *heap, uintptr_t p);
bool heap_large_grow_locked(struct heap_large *large, size_t size);
void heap_large_resize_locked(struct heap_large *large, size_t size);
static inline uintptr_t heap_large_data(const struct heap_large *large)
{
    return (uintptr_t)large + HEAP_LARGE_HEADER;
}

/* heap_create.c: segments. */
struct heap_segment *heap_segment_new_locked(struct ms_heap *heap, ms_status *err);
void heap_segment_release_locked(struct ms_heap *heap, struct heap_segment *seg);
/* HeapOptimizeResources: the emptied segments kept for reuse go back to the
 * host, pages and all. Takes no heap lock. */
void heap_segment_cache_drop(void);

/* heap_segmap.c: the global map of live segments (lookup inline: it is on
 * every free). */
#define HEAP_MAP_L1_SHIFT   36
#define HEAP_MAP_L1_COUNT   ((size_t)1 << (47 - HEAP_MAP_L1_SHIFT))
#define HEAP_MAP_L2_BITS    ((size_t)1 << (HEAP_MAP_L1_SHIFT - HEAP_SEG_SHIFT))
typedef _Atomic uint64_t heap_map_word;
extern _Atomic(heap_map_word *) heap_map_l1[HEAP_MAP_L1_COUNT];
ms_status heap_segmap_set(uintptr_t seg_base, bool live);
static inline bool heap_segmap_contains(uintptr_t seg_base)
{
    size_t i1 = seg_base >> HEAP_MAP_L1_SHIFT;
    if (MS_UNLIKELY(i1 >= HEAP_MAP_L1_COUNT))
        return false;
    heap_map_word *l2 = atomic_load_explicit(&heap_map_l1[i1], memory_order_acquire);
    if (!l2)
        return false;
    size_t bit = (seg_base >> HEAP_SEG_SHIFT) & (HEAP_MAP_L2_BITS - 1);
    return (atomic_load_explicit(&l2[bit / 64], memory_order_acquire) >> (bit % 64)) & 1;
}

/* heap_create.c: the shard the calling thread allocates from, and the
 * shard of a sharded heap that owns a block (the heap itself otherwise). */
extern bool heap_bias_enabled;                                     /* heap_bias.c */
struct ms_heap *heap_shard_for_thread_slow(struct ms_heap *heap);   /* heap_bias.c */
/* Shard i of a sharded heap, created on first use (the heap itself if that fails). */
struct ms_heap *heap_shard_get(struct ms_heap *heap, unsigned i);
/* The process heap, or NULL before anything used it. */
struct ms_heap *heap_process_if_created(void);
struct ms_heap *heap_shard_of_block_slow(struct ms_heap *heap, const void *block);

/* Thread pointers are page-aligned and spaced by stacks: mix the bits
 * above the page before picking the thread's first-choice shard. */
static inline unsigned heap_shard_hint(uintptr_t key)
{
    uint64_t h = (uint64_t)(key >> 12) * 0x9E3779B97F4A7C15ull;
    return 1 + (unsigned)((h >> 32) % (HEAP_SHARDS - 1));
}

static inline struct ms_heap *heap_shard_for_thread(struct ms_heap *heap)
{
    /* The shard this thread owns, remembered in its thread slot (only the
     * owner itself claims and gives back, so the slot cannot go stale). */
    struct ms_heap *mine = host_thread_slot_get();
    if (MS_LIKELY(mine && mine->parent == heap))
        return mine;
    uintptr_t key = host_thread_key();
    struct ms_heap *shard = atomic_load_explicit(&heap->shards[heap_shard_hint(key)], memory_order_acquire);
    if (MS_LIKELY(shard && (atomic_load_explicit(&shard->owner, memory_order_relaxed) == key || !heap_bias_enabled)))
        return shard;
    return heap_shard_for_thread_slow(heap);
}

static inline struct ms_heap *heap_shard_of_block(struct ms_heap *heap, const void *block)
{
    if (!heap->sharded)
        return heap;
    uintptr_t base = (uintptr_t)block & ~(HEAP_SEG_SIZE - 1);
    if (MS_LIKELY(heap_segmap_contains(base))) {
        struct ms_heap *owner = ((struct heap_segment *)base)->heap;
        return owner && owner->parent == heap ? owner : heap;
    }
    return heap_shard_of_block_slow(heap, block);
}

/* heap_block.c: canaries in the slack after a block. */
static inline void heap_canary_set(uintptr_t block, size_t requested, size_t capacity)
{
    /* Overlapping fixed-size stores instead of a byte loop: the compiler
     * would turn the loop into a memset call, a third of an allocation. */
    const uint64_t pattern = 0x0101010101010101ull * HEAP_CANARY;
    size_t n = capacity - requested;
    uint8_t *p = (uint8_t *)block + requested;
    if (n >= 8) {
        size_t tail = n < HEAP_CANARY_MAX ? n - 8 : 8;
        memcpy(p, &pattern, 8);
        memcpy(p + tail, &pattern, 8);
    } else if (n >= 4) {
        memcpy(p, &pattern, 4);
        memcpy(p + n - 4, &pattern, 4);
    } else if (n) {
        /* 1..3 bytes: three stores cover them (a loop here became a
         * memset call, which gave the fast path a stack frame). */
        p[0] = HEAP_CANARY;
        p[n >> 1] = HEAP_CANARY;
        p[n - 1] = HEAP_CANARY;
    }
}

/* The same for a fresh small block, whose bytes are all still the heap's
 * (HeapAlloc's contents are undefined until the caller writes them): one
 * 16-byte store at min(requested, capacity - 16) covers the checked part
 * of the slack whatever its length, without a branch on it. With random
 * sizes the branches of heap_canary_set mispredicted on about every other
 * allocation, a quarter of an alloc+free pair. capacity >= 16. */
static inline void heap_canary_set_fresh(uintptr_t block, size_t requested, size_t capacity)
{
    const uint64_t pattern = 0x0101010101010101ull * HEAP_CANARY;
    size_t at = capacity - 16;
    at = requested < at ? requested : at;
    uint8_t *p = (uint8_t *)block + at;
    memcpy(p, &pattern, 8);
    memcpy(p + 8, &pattern, 8);
}

bool heap_canary_ok(uintptr_t block, size_t requested, size_t capacity);

/* The span and index of the live block at exactly p in this heap, or NULL.
 * Reads only memory known to be mapped: the segment map first, then the
 * segment's own metadata. */
static inline struct heap_span *heap_small_resolve_in(struct heap_segment *seg, struct ms_heap *heap, uintptr_t p,
                                                      uint32_t *index)
{
    if ((p & 15) || seg->heap != heap)
        return NULL;
    size_t slice = (p - (uintptr_t)seg) >> HEAP_SLICE_SHIFT;
    if (slice < HEAP_META_SLICES)
        return NULL;
    struct heap_span *rec = &seg->spans[slice - HEAP_META_SLICES];
    struct heap_span *span = rec - rec->back;
    if (!span->used)
        return NULL;
    uintptr_t off = p - span->start;
    uint32_t i = (uint32_t)(((uint64_t)(off >> 4) * span->recip) >> 32);
    if (i >= span->nblocks || (uintptr_t)i * span->block_size != off)
        return NULL;                    /* interior pointer or past the last block */
    uint64_t free = heap_bits_get(&span->freebits[i / 64]);
    /* The remote bitmap is a cache line further: read only when in use. */
    if (atomic_load_explicit(&span->remote_listed, memory_order_relaxed))
        free |= heap_bits_get(&span->remote[i / 64]);
    if ((free >> (i % 64)) & 1)
        return NULL;                    /* already free (or freed by another thread, not yet merged) */
    *index = i;
    return span;
}

static inline struct heap_span *heap_small_resolve(struct ms_heap *heap, uintptr_t p, uint32_t *index)
{
    uintptr_t base = p & ~(HEAP_SEG_SIZE - 1);
    if (!heap_segmap_contains(base))
        return NULL;
    return heap_small_resolve_in((struct heap_segment *)base, heap, p, index);
}

/* heap_bias.c: thread-owned shards. */
/* heap_purge.c's hold on a heap or a shard: all of it, as heap_lock from
 * another thread holds it, but without waiting on anybody for long: its
 * mutex only if free, its owner (a shard's, or a solo heap's creator) held
 * off only if it leaves its call within ~1 ms, and not disowned (its calls
 * take the mutex meanwhile, then it goes back to its lock-free path).
 * False: nothing held, try later. No holder is recorded: the purge only
 * gives memory back. */
bool heap_purge_hold(struct ms_heap *heap, bool *held_off);
void heap_purge_release(struct ms_heap *heap, bool held_off);
/* heap_create.c: fn on each private heap, with the list's lock held, so
 * none of them is destroyed meanwhile (heap_destroy takes that lock
 * first); fn must not create or destroy a heap. */
void heap_private_each(void (*fn)(struct ms_heap *heap, void *context), void *context);
void heap_exclusive_enter(struct ms_heap *shard);
void heap_exclusive_leave(struct ms_heap *shard);
void heap_collect_remote(struct ms_heap *shard);
/* heap_lock's way through the mutex (out of line: the recursive and the
 * owner's ways stay small enough to inline). On a solo heap another
 * thread's lock disowns the creator for good, once it is out of its call. */
void heap_lock_mutex(struct ms_heap *heap, uintptr_t me);
/* Free a block of a shard the caller has no allocation rights on; meta_lock held. */
ms_status heap_remote_free_meta(struct ms_heap *shard, void *block);
/* The same, taking meta_lock: `seg` is the block's segment as the caller
 * found it in the segment map (owned by `shard` then). */
ms_status heap_remote_free(struct ms_heap *shard, struct heap_segment *seg, void *block);
bool heap_bias_init(void);

/* The owner's side of the fast path: no atomic read-modify-write. The
 * compiler barrier between the store of `active` and the load of `revoked`
 * suffices because a revoker runs host_membarrier() in between its own
 * store and load (heap_bias.c). */
static inline bool heap_owner_enter(struct ms_heap *shard)
{
    uint32_t a = atomic_load_explicit(&shard->active, memory_order_relaxed);
    atomic_store_explicit(&shard->active, a + 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (MS_LIKELY(!atomic_load_explicit(&shard->revoked, memory_order_acquire)))
        return true;
    atomic_store_explicit(&shard->active, a, memory_order_release);
    return false;
}

static inline void heap_owner_leave(struct ms_heap *shard)
{
    uint32_t a = atomic_load_explicit(&shard->active, memory_order_relaxed);
    atomic_store_explicit(&shard->active, a - 1, memory_order_release);
}

/* meta_lock around changes of span and segment records (and reads of them
 * by threads that are not the owner); nothing to take when the caller
 * already holds it or the heap has no owner to race with. */
static inline bool heap_meta_lock(struct ms_heap *heap)
{
    if (!heap->biasable || heap->meta_held)
        return false;
    ms_mutex_lock(&heap->meta_lock);
    return true;
}

static inline void heap_meta_unlock(struct ms_heap *heap, bool locked)
{
    if (locked)
        ms_mutex_unlock(&heap->meta_lock);
}

/* How a call reaches a block of a thread-owned shard: as its owner, as
 * the holder of heap_lock (both may do anything), or under meta_lock
 * (look at blocks, free them remotely). */
enum heap_access { HEAP_ACCESS_OWNER, HEAP_ACCESS_HELD, HEAP_ACCESS_META };

static inline enum heap_access heap_access_begin(struct ms_heap *shard)
{
    uintptr_t me = host_thread_key();
    if (atomic_load_explicit(&shard->owner, memory_order_relaxed) == me && MS_LIKELY(heap_owner_enter(shard)))
        return HEAP_ACCESS_OWNER;
    if (atomic_load_explicit(&shard->holder, memory_order_relaxed) == me)
        return HEAP_ACCESS_HELD;
    ms_mutex_lock(&shard->meta_lock);
    return HEAP_ACCESS_META;
}

static inline void heap_access_end(struct ms_heap *shard, enum heap_access access)
{
    if (access == HEAP_ACCESS_OWNER)
        heap_owner_leave(shard);
    else if (access == HEAP_ACCESS_META)
        ms_mutex_unlock(&shard->meta_lock);
}

/* heap_lock flag, never a caller's: take the mutex even as a solo heap's
 * owner (HeapLock: other threads then wait on the mutex, not spin). */
#define HEAP_LOCK_MUTEX 0x40000000u

/* Lock a heap for one call (or, with HEAP_LOCK_MUTEX, across calls).
 * Recursive for the holder. A solo heap's owner holds it without the
 * mutex (heap_owner_enter): a private heap is mostly used by the thread
 * that made it, and the mutex's two atomic read-modify-writes were a
 * quarter of a create/allocate/destroy cycle. The first other thread to
 * lock it revokes that for good (heap_lock_mutex: one membarrier), and
 * from then on everybody takes the mutex. `holder`, `depth` and
 * `owner_entry` are written only by whoever holds the heap, so a revoker
 * writes them after the owner is out. */
static inline bool heap_lock(struct ms_heap *heap, uint32_t flags)
{
    if (!heap->biasable && ((flags | heap->flags) & MS_HEAP_NO_SERIALIZE))
        return false;
    uintptr_t me = host_thread_key();
    if (atomic_load_explicit(&heap->holder, memory_order_relaxed) == me) {
        heap->depth++;
        return true;
    }
    if (heap->solo && atomic_load_explicit(&heap->owner, memory_order_relaxed) == me &&
        !(flags & HEAP_LOCK_MUTEX) && MS_LIKELY(heap_owner_enter(heap))) {
        heap->owner_entry = true;
        atomic_store_explicit(&heap->holder, me, memory_order_relaxed);
        heap->depth = 1;
        return true;
    }
    heap_lock_mutex(heap, me);
    return true;
}

static inline void heap_unlock(struct ms_heap *heap, bool locked)
{
    if (!locked || --heap->depth)
        return;
    if (heap->solo && heap->owner_entry) {
        atomic_store_explicit(&heap->holder, 0, memory_order_relaxed);
        heap_owner_leave(heap);             /* last: a revoker waits for this */
        return;
    }
    if (heap->biasable)
        heap_exclusive_leave(heap);
    atomic_store_explicit(&heap->holder, 0, memory_order_relaxed);
    ms_mutex_unlock(&heap->lock);
}

#endif
