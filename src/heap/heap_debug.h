/*
 * heap_debug.h - the debugging modes of the heaps: leak tracking, the page
 * heap and fill patterns (issue 8). Off by default; when off, each heap
 * entry point pays one predictable branch on `heap_debug_mode`.
 *
 *  - HEAP_DEBUG_TRACK: every block (and every VirtualAlloc region the win32
 *    layer notes) gets a record in a side table, keyed by address and kept
 *    in memory of its own from the vm core, never next to user data: its
 *    size, heap and the return addresses of its allocation (captured by a
 *    callback of the win32 layer). The leak report lists what is still live.
 *  - HEAP_DEBUG_PAGE: every block is served from a vm region of its own:
 *    its data ends where its committed pages end and an uncommitted page
 *    follows (HEAP_DEBUG_FRONT: data starts right after an uncommitted
 *    page), so an overrun (underrun) faults at the faulting instruction.
 *    Freed blocks are decommitted but stay reserved and recorded in a FIFO
 *    of recent frees, so a use after free faults too and is reported with
 *    the free's call site. The slack between the block's end and its page's
 *    end is filled with a pattern and checked on free. Implies TRACK.
 *  - HEAP_DEBUG_FILL: fresh blocks are filled with 0xBAADF00D (unless
 *    HEAP_ZERO_MEMORY), freed ones with 0xFEEEFEEE (as Windows' debug heap
 *    does), and HeapFree checks the block's tail canary first.
 *
 * The mode is set once, before the program runs (heap_debug_enable), and
 * never changes. Blocks allocated before that are served and freed by the
 * ordinary engine as usual.
 *
 * Thread safety: one mutex guards the side table and the FIFO; it is a leaf
 * lock except that growing the table calls the vm core. The engine is
 * never called with it held. heap_debug_find_fault uses a try-lock, so it
 * may be called from an exception handler.
 */
#ifndef MS_HEAP_DEBUG_H
#define MS_HEAP_DEBUG_H

#include "heap.h"

#define HEAP_DEBUG_TRACK  1u
#define HEAP_DEBUG_PAGE   2u
#define HEAP_DEBUG_FRONT  4u
#define HEAP_DEBUG_FILL   8u

/* A heap flag the debug layer passes to the engine's entry points so that
 * they skip the debug hook (Windows defines no HEAP_* flag this high). */
#define HEAP_DEBUG_INTERNAL 0x80000000u

#define HEAP_DEBUG_FRAMES 6

#define HEAP_DEBUG_FILL_FRESH 0xBAADF00Du
#define HEAP_DEBUG_FILL_FREED 0xFEEEFEEEu
#define HEAP_DEBUG_FILL_TAIL  0xD0u

/* -Dhooks=false builds (MEMSHIM_NO_HOOKS) compile every hook out: the
 * baseline that bench/run_bench.py --baseline measures the hooks against. */
#if defined(MEMSHIM_NO_HOOKS) && !defined(HEAP_DEBUG_IMPLEMENTATION)
#define heap_debug_mode 0u
#else
extern unsigned heap_debug_mode;
#endif

enum heap_debug_kind { HEAP_DEBUG_BLOCK = 1, HEAP_DEBUG_REGION = 2 };

struct heap_debug_record {
    uintptr_t key;                      /* table key (internal): 0 empty, 1 deleted */
    uintptr_t block;                    /* the user pointer (region base for a REGION) */
    size_t size;                        /* bytes asked for */
    void *heap;                         /* the heap it came from (NULL for a REGION) */
    uintptr_t region;                   /* page heap: base of the block's own vm region; else 0 */
    size_t region_size;
    uint8_t kind;                       /* enum heap_debug_kind */
    uint8_t freed;                      /* page heap: freed, kept inaccessible */
    uintptr_t alloc_frames[HEAP_DEBUG_FRAMES];   /* innermost first; 0 = none */
    uintptr_t free_frames[HEAP_DEBUG_FRAMES];
};

enum heap_debug_problem {
    HEAP_DEBUG_BAD_TAIL,                /* bytes past the block were overwritten (found at free/validate) */
    HEAP_DEBUG_DOUBLE_FREE,             /* page heap: the block was freed already */
};

struct heap_debug_callbacks {
    /* Store the return addresses of the current call (the program's side
     * of it), innermost first, zero-filled. */
    void (*capture)(uintptr_t frames[HEAP_DEBUG_FRAMES]);
    /* A problem found by a heap call (not a fault): report it. */
    void (*problem)(enum heap_debug_problem problem, const struct heap_debug_record *record);
};

/* Turn the modes on (once, before the program runs; unit tests switch
 * between phases with no debug block outstanding); `keep_freed` is how
 * many freed page-heap blocks stay inaccessible (0: a default). */
ms_status heap_debug_enable(unsigned mode, const struct heap_debug_callbacks *callbacks, unsigned keep_freed);

/* The hooks of heap.h's entry points (called when heap_debug_mode is set
 * and the flags lack HEAP_DEBUG_INTERNAL); same contracts. */
void *heap_debug_alloc(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err);
ms_status heap_debug_free(struct ms_heap *heap, uint32_t flags, void *block);
void *heap_debug_realloc(struct ms_heap *heap, uint32_t flags, void *block, size_t size, ms_status *err);
size_t heap_debug_size(struct ms_heap *heap, uint32_t flags, const void *block);
bool heap_debug_validate(struct ms_heap *heap, uint32_t flags, const void *block);
/* heap_destroy is about to release the heap: forget its records and
 * release its page-heap blocks. */
void heap_debug_forget_heap(struct ms_heap *heap);

/* Bytes of the heap's live page-heap blocks (counted apart from the
 * engine's in_use; the statistics add them). */
size_t heap_debug_charged(struct ms_heap *heap);

/* VirtualAlloc reserved a region at base (tracked for the leak report;
 * no-op unless TRACK). */
void heap_debug_note_region(uintptr_t base, size_t size);

/* Call fn for each record that is live now (blocks not freed, regions
 * still allocated), with the table locked: fn must not call the heaps. */
void heap_debug_for_each_live(void (*fn)(const struct heap_debug_record *record, void *ctx), void *ctx);

/* The page-heap block whose region contains addr (live or freed), copied to
 * *out; false if none or if the table is busy. */
bool heap_debug_find_fault(uintptr_t addr, struct heap_debug_record *out);

#endif
