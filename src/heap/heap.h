/*
 * heap.h - heaps on top of the vm core: the engine of HeapCreate, HeapAlloc
 * and the rest of the Heap* family (the win32 layer adds handles, error codes
 * and exceptions).
 *
 * Ownership: a block belongs to a heap of the core if and only if its address
 * is inside a region the vm core tagged VM_USAGE_HEAP (heap_owner_of). The
 * win32 layer passes every other pointer through to ntdll, so Wine's blocks
 * keep working.
 *
 * Flags are the Windows HEAP_* numbers. Errors are Win32 codes (ms_error.h).
 * Thread safety: all functions are thread-safe unless the heap was created
 * with HEAP_NO_SERIALIZE, in which case the caller serialises.
 */
#ifndef MS_HEAP_H
#define MS_HEAP_H

#include "../base/ms_base.h"
#include "../base/ms_error.h"

#define MS_HEAP_NO_SERIALIZE            0x00000001u
#define MS_HEAP_GROWABLE                0x00000002u
#define MS_HEAP_GENERATE_EXCEPTIONS     0x00000004u
#define MS_HEAP_ZERO_MEMORY             0x00000008u
#define MS_HEAP_REALLOC_IN_PLACE_ONLY   0x00000010u
#define MS_HEAP_CREATE_ENABLE_EXECUTE   0x00040000u

struct ms_heap;

/* HeapCreate: maximum 0 = growable. */
struct ms_heap *heap_create(uint32_t flags, size_t initial, size_t maximum, ms_status *err);
/* HeapDestroy: releases every block and region of the heap. */
ms_status heap_destroy(struct ms_heap *heap);

/* HeapAlloc: 16-byte aligned; size 0 gives a unique block. NULL + *err on failure. */
void *heap_alloc(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err);
/* HeapFree: MS_OK, or MS_ERROR_INVALID_PARAMETER for a pointer that is not a
 * live block of this heap (double free, interior pointer, other heap); the
 * heap is unchanged then. */
ms_status heap_free(struct ms_heap *heap, uint32_t flags, void *block);
/* HeapAlloc's and HeapFree's common cases (heap_process_fast_alloc,
 * heap_process_fast_free) are inline, in heap_fast.h. The calls they
 * served while asked to count, summed over the process heap's shards. */
void heap_process_fast_calls(uint64_t *allocs, uint64_t *frees);
/* HeapFree routed by the pointer (the win32 layer finds the block's heap
 * by ownership: Wine's blocks go back to ntdll), after
 * heap_process_fast_free declined: *ours false (and nothing done) when no
 * heap of the core owns it; MS_ERROR_INVALID_PARAMETER (nothing done) when
 * its heap is not `named`, the heap the call names (NULL: none of the
 * core's); else heap_free's result on its heap. One segment-map lookup
 * routes and checks a small block of the process heap (another thread's,
 * usually). */
ms_status heap_free_routed(uint32_t flags, void *block, const struct ms_heap *named, bool *ours);
/* heap_free for a block heap_process_fast_free already declined: the same result
 * without trying the owner's path a second time. */
ms_status heap_free_slow(struct ms_heap *heap, uint32_t flags, void *block);
/* HeapReAlloc: NULL + *err on failure (the old block stays valid). */
void *heap_realloc(struct ms_heap *heap, uint32_t flags, void *block, size_t size, ms_status *err);
/* HeapSize: the size asked for; (size_t)-1 for a pointer that is not a live block. */
size_t heap_size(struct ms_heap *heap, uint32_t flags, const void *block);
/* HeapValidate: block NULL = the whole heap. */
bool heap_validate(struct ms_heap *heap, uint32_t flags, const void *block);

/* Handles: like a Windows heap handle, the address of the heap's first
 * segment (64 KiB-aligned, inside memory the heap owns). */
void *heap_handle(const struct ms_heap *heap);
/* The heap whose handle is `handle`, or NULL for anything else. */
struct ms_heap *heap_from_handle(const void *handle);
/* HeapLock/HeapUnlock: hold the heap's lock across calls (no-op for a
 * HEAP_NO_SERIALIZE heap, as on Windows). */
void heap_lock_heap(struct ms_heap *heap);
void heap_unlock_heap(struct ms_heap *heap);
/* Handles of the private heaps (not the process heap): stores up to `max`
 * and returns how many there are. */
size_t heap_enumerate(void **handles, size_t max);

/* The heap a shard belongs to (itself for a heap that is no shard): heaps
 * may be made of internal shards (the process heap is). */
struct ms_heap *heap_parent(struct ms_heap *heap);

/* Figures for the statistics report. */
struct heap_totals {
    uint64_t private_heaps;             /* live heaps made by heap_create */
    uint64_t in_use;                    /* bytes of live blocks, all heaps */
    uint64_t process_in_use;            /* of which the process heap's */
};
void heap_totals(struct heap_totals *totals);
/* Per heap, for the statistics: the process heap first (if it exists),
 * then the private heaps; stores up to `max` and returns how many there
 * are. `heap` identifies a heap only for as long as it lives. */
struct heap_usage {
    const struct ms_heap *heap;
    void *handle;                       /* heap_handle() */
    uint64_t in_use;                    /* bytes of live blocks */
    uint64_t blocks;                    /* live blocks */
    bool is_process_heap;
};
size_t heap_usage_list(struct heap_usage *out, size_t max);

/* The heap that owns `ptr` (any address inside one of its regions; for the
 * process heap, the heap itself, not one of its shards), or NULL. */
struct ms_heap *heap_owner_of(const void *ptr);

/* The calling thread is exiting: give back the process-heap shard it owns
 * (DLL_THREAD_DETACH), so a later thread can own it. Its blocks stay valid. */
void heap_thread_detach(void);

/* The process heap of the core (created on first use). */
struct ms_heap *heap_process(void);

/* Background purge (heap_purge.c): what a shard of the process heap or a
 * private heap (not HEAP_NO_SERIALIZE) keeps for reuse goes back to the
 * host once it has made no span change for ~100 ms. The embedder runs
 * heap_purge_thread_main (which returns at heap_purge_stop) on a thread of
 * its own; `kick` (called at most once per arming, possibly with heap
 * locks held, so it must not wait for the heap) makes sure that thread
 * exists. Without a kick nothing runs by itself. heap_purge_pass is one
 * pass at `now` (host_cycles()) with a quiet time of `quiet` cycles, for
 * tests; it returns whether a stamped heap is not quiet yet.
 * heap_purge_stop: the process is exiting; no pass starts after it
 * returns, and one under way is waited for (a bounded time): then it
 * returns true. */
void heap_purge_set_kick(void (*kick)(void));
void heap_purge_thread_main(void);
bool heap_purge_pass(uint64_t now, uint64_t quiet);
bool heap_purge_stop(void);
/* How many times a heap (or a shard) has been given back so far. */
uint64_t heap_purge_count(void);

#endif
