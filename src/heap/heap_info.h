/*
 * heap_info.h - looking into a heap from outside: HeapWalk, HeapCompact,
 * HeapSummary, HeapQueryInformation/HeapSetInformation, and the process-wide
 * "terminate on corruption" switch. Engines in heap_walk.c and heap_info.c.
 *
 * Thread safety: every function takes the heap's locks for its duration
 * (all shards of a sharded heap) unless `flags` has HEAP_NO_SERIALIZE (the
 * caller holds them through HeapLock, or the heap is unserialised).
 */
#ifndef MS_HEAP_INFO_H
#define MS_HEAP_INFO_H

#include "heap.h"

/* PROCESS_HEAP_ENTRY.wFlags values. */
#define MS_PHE_REGION           0x0001u
#define MS_PHE_UNCOMMITTED      0x0002u
#define MS_PHE_BUSY             0x0004u
/* iRegionIndex Windows gives blocks that have a vm region of their own. */
#define MS_PHE_LARGE_REGION_INDEX 64u

/* One PROCESS_HEAP_ENTRY, portably. */
struct heap_walk_entry {
    uintptr_t data;             /* lpData: 0 starts the walk */
    size_t size;                /* cbData */
    uint8_t overhead;           /* cbOverhead */
    uint8_t region_index;       /* iRegionIndex */
    uint16_t flags;             /* wFlags: MS_PHE_* (0: a free range) */
    size_t committed;           /* Region.dwCommittedSize (region entries) */
    size_t uncommitted;         /* Region.dwUnCommittedSize */
    uintptr_t first_block;      /* Region.lpFirstBlock */
    uintptr_t last_block;       /* Region.lpLastBlock */
};

/* HeapWalk: from the entry in *e (data 0: the first) to the next one.
 * Order: per internal heap (shard), its segments by address, each a region
 * entry followed by its blocks, free ranges and uncommitted ranges in
 * address order; then its large blocks (busy entries, region index 64).
 * Stateless: the position is the previous entry itself, as on Windows.
 * MS_ERROR_NO_MORE_ITEMS after the last entry, MS_ERROR_INVALID_PARAMETER
 * when e->data is not an entry of this heap. */
ms_status heap_walk(struct ms_heap *heap, uint32_t flags, struct heap_walk_entry *e);

/* HeapCompact: the size of the largest committed free range (0 if none).
 * Free slices wholly empty are not decommitted here (HeapOptimizeResources
 * does that). */
size_t heap_compact(struct ms_heap *heap, uint32_t flags);

/* HeapSummary figures. */
struct heap_summary {
    size_t allocated;           /* bytes of live blocks, as asked for */
    size_t committed;
    size_t reserved;
    size_t max_reserve;         /* the maximum of a fixed-size heap, else = reserved */
};
void heap_summarize(struct ms_heap *heap, uint32_t flags, struct heap_summary *out);

/* HeapCompatibilityInformation: 2 (LFH) for the process heap and for a
 * heap that asked for it, 0 for others (a fresh private heap, as on
 * Windows). Setting 2 succeeds, except on a HEAP_NO_SERIALIZE or fixed-size
 * heap (MS_ERROR_GEN_FAILURE); setting anything else fails the same way
 * once it is 2, and 0 is accepted while it is 0. */
uint32_t heap_compat_info(struct ms_heap *heap);
ms_status heap_set_compat_info(struct ms_heap *heap, uint32_t value);

/* HeapOptimizeResources: give back the empty spans kept for reuse and
 * decommit the free slices of a heap (NULL: every heap of the core, and the
 * pages kept from destroyed heaps); memory still holding a live block
 * stays, so a fragmented heap keeps some. */
void heap_optimize_resources(struct ms_heap *heap);

/* The HEAP_* flags the heap was created with (HEAP_NO_SERIALIZE,
 * HEAP_GENERATE_EXCEPTIONS, HEAP_CREATE_ENABLE_EXECUTE); for a shard, its
 * heap's. */
uint32_t heap_create_flags(struct ms_heap *heap);

/* HeapEnableTerminationOnCorruption (process-wide, cannot be undone). */
void heap_enable_termination_on_corruption(void);
bool heap_termination_on_corruption(void);

#endif
