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
 *    are free is a bitmap in the span record, and the size each block was
 *    asked for is an array there too: nothing about a block lives next to
 *    it, so an overrun of user data cannot corrupt the allocator, and every
 *    pointer handed to free/size/realloc is checked against the bitmap
 *    (double free, interior pointer, foreign pointer are all refused).
 *  - large block: more than HEAP_SMALL_MAX bytes, a vm region of its own
 *    whose first page is its header; the user pointer is base + 4 KiB.
 *
 * A global segment map (heap_segmap.c) says which 4 MiB-aligned addresses
 * are live segments, so resolving a pointer never dereferences memory that
 * may not be mapped.
 *
 * Locking: one mutex per heap guards everything of that heap (skipped under
 * HEAP_NO_SERIALIZE). Lock order: heap lock, then segment-map lock, then the
 * vm lock. Thread caches can later sit in front of the bins: a cache owns
 * whole spans taken from a bin, and frees from other threads go to the
 * owning span under the heap lock (or a future atomic remote-free bitmap).
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

#define HEAP_CLASSES        52
#define HEAP_SHARDS         8          /* internal heaps of a sharded heap */
#define HEAP_SMALL_MAX      ((size_t)262144)   /* largest size class */
#define HEAP_SIZE16_MAX     2048u      /* classes up to here keep sizes in 16 bits */

#define HEAP_LARGE_HEADER   ((size_t)4096)
/* Beyond this a request can never succeed (keeps size arithmetic safe). */
#define HEAP_MAX_REQUEST    ((size_t)1 << 46)

#define HEAP_MAGIC          0x5041454853534d31ull   /* "1MSSHEAP" */
#define HEAP_SEG_MAGIC      0x4745534853534d31ull
#define HEAP_LARGE_MAGIC    0x47524c4853534d31ull
#define HEAP_CANARY         0xFDu
#define HEAP_CANARY_MAX     16u        /* bytes of canary checked after a block */

struct ms_heap;

struct heap_span {
    struct heap_span *next, *prev;     /* in heap->bins[cls] while nfree > 0 */
    uint8_t used;                      /* this record heads a live span */
    uint8_t cls;
    uint8_t nslices;
    uint8_t in_bin;
    uint16_t back;                     /* slices back to the first slice of its span (0: itself);
                                        * zero-filled records are valid free slices */
    uint16_t cursor;                   /* no free bit below this bitmap word */
    uint32_t block_size;
    uint64_t recip;                    /* ceil(2^32 / (block_size / 16)): index by multiply */
    uint32_t nblocks, nfree;
    uintptr_t start;                   /* address of block 0 */
    uint64_t freebits[HEAP_SPAN_MAX_BLOCKS / 64];   /* 1 = free */
    union {                            /* what each block was asked for, in 4 KiB whatever the class */
        uint8_t slack[HEAP_SPAN_MAX_BLOCKS];        /* 16-byte class (4096 blocks): 16 - asked */
        uint16_t size16[HEAP_SPAN_MAX_BLOCKS / 2];  /* 32..2048 bytes (<= 2048 blocks): asked */
        uint32_t size32[HEAP_SPAN_MAX_BLOCKS / 4];  /* larger classes (<= 1024 blocks): asked */
    } req;
};

struct heap_segment {
    uint64_t magic;
    struct ms_heap *heap;
    struct heap_segment *next, *prev;
    uint64_t free_slices;              /* bit s set: data slice s is in no span */
    uint64_t committed_slices;         /* bit s set: slice s is committed (all
                                        * slices are reserved; commit follows use,
                                        * so the commit charge is what the heap uses) */
    uint32_t nspans;
    struct heap_span spans[HEAP_DATA_SLICES];   /* record of slice s at [s - HEAP_META_SLICES] */
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
    uint64_t magic;
    uint32_t flags;
    uint32_t prot;                     /* VM_PAGE_* of its memory */
    ms_mutex lock;
    size_t maximum;                    /* 0 = growable */
    size_t in_use;                     /* bytes of live blocks (class sizes, large regions) */
    struct heap_segment *home;         /* holds this struct; released last */
    struct heap_segment *segments;     /* all segments, home included */
    struct heap_large *large;
    struct heap_span *bins[HEAP_CLASSES];
    struct ms_heap *next_heap, *prev_heap;  /* all private heaps (heap_enumerate) */
    /* Sharding (the process heap): threads allocate from one of several
     * internal heaps, each with its own lock and segments, chosen by thread;
     * a block is freed into the shard that owns it. shards[0] is the heap
     * itself; a shard's parent is the heap it belongs to (NULL: itself). */
    bool sharded;
    bool listed;                       /* on the private-heap list */
    struct ms_heap *parent;
    _Atomic(struct ms_heap *) shards[HEAP_SHARDS];
};

_Static_assert(sizeof(struct heap_segment) + 64 + sizeof(struct ms_heap) <= HEAP_META_SLICES * HEAP_SLICE_SIZE,
               "segment metadata must fit in the metadata slices");

/* heap_small.c: size classes and spans. All *_locked functions run with the
 * heap lock held (or under HEAP_NO_SERIALIZE). */
extern const uint32_t heap_class_size[HEAP_CLASSES];
static inline unsigned heap_size_class(size_t size)
{
    if (size <= 128)
        return size ? (unsigned)((size + 15) >> 4) - 1 : 0;
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(s);
    return 8 + (b - 7) * 4 + (unsigned)((s >> (b - 2)) & 3);
}
void *heap_small_alloc_locked(struct ms_heap *heap, size_t size, ms_status *err);
void heap_small_free_locked(struct ms_heap *heap, struct heap_span *span, uint32_t index);
size_t heap_small_requested(const struct heap_span *span, uint32_t index);
void heap_small_set_requested(struct heap_span *span, uint32_t index, size_t size);
struct heap_span *heap_small_resolve(struct ms_heap *heap, uintptr_t p, uint32_t *index);
bool heap_small_validate_span(struct heap_segment *seg, struct heap_span *span);

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
struct ms_heap *heap_shard_for_thread(struct ms_heap *heap);
struct ms_heap *heap_shard_of_block(struct ms_heap *heap, const void *block);

/* heap_block.c: canaries in the slack after a block. */
void heap_canary_set(uintptr_t block, size_t requested, size_t capacity);
bool heap_canary_ok(uintptr_t block, size_t requested, size_t capacity);

static inline bool heap_lock(struct ms_heap *heap, uint32_t flags)
{
    if ((flags | heap->flags) & MS_HEAP_NO_SERIALIZE)
        return false;
    ms_mutex_lock(&heap->lock);
    return true;
}

static inline void heap_unlock(struct ms_heap *heap, bool locked)
{
    if (locked)
        ms_mutex_unlock(&heap->lock);
}

#endif
