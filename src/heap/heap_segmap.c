/*
 * heap_segmap.c - which 4 MiB-aligned addresses are live heap segments.
 *
 * Why: heap_free must reject any pointer (a stack address, a pointer into a
 * region that is not a heap) without touching memory that may be unmapped,
 * and must do it in a few instructions, without the vm lock. One bit per
 * 4 MiB of address space answers that: a two-level table, 2048 first-level
 * slots of 64 GiB each (static, 16 KiB), each pointing to a 2 KiB bitmap of
 * 16384 segments. Bitmaps are carved from 64 KiB vm regions (usage HEAP,
 * owner NULL) and never freed: a process touches few 64 GiB windows.
 *
 * Readers take no lock: a bit is set (release) after the segment header is
 * written, and read with acquire.
 */
#include "heap_internal.h"

#define MAP_L2_WORDS   (HEAP_MAP_L2_BITS / 64)
#define MAP_CHUNK      ((size_t)65536)

_Atomic(heap_map_word *) heap_map_l1[HEAP_MAP_L1_COUNT];
static ms_mutex map_lock = MS_MUTEX_INIT;
static uintptr_t map_chunk_next, map_chunk_end;     /* bump allocation of bitmaps */

static heap_map_word *map_level2(size_t i1, ms_status *err)
{
    heap_map_word *l2 = atomic_load_explicit(&heap_map_l1[i1], memory_order_acquire);
    if (l2)
        return l2;
    ms_mutex_lock(&map_lock);
    l2 = atomic_load_explicit(&heap_map_l1[i1], memory_order_relaxed);
    if (!l2) {
        size_t bytes = MAP_L2_WORDS * sizeof(uint64_t);
        if (map_chunk_next + bytes > map_chunk_end) {
            uintptr_t chunk = 0;
            *err = vm_allocate_internal(&chunk, MAP_CHUNK, MS_GRANULARITY, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL);
            if (*err) {
                ms_mutex_unlock(&map_lock);
                return NULL;
            }
            map_chunk_next = chunk;
            map_chunk_end = chunk + MAP_CHUNK;
        }
        l2 = (heap_map_word *)map_chunk_next;
        map_chunk_next += bytes;
        for (size_t i = 0; i < MAP_L2_WORDS; i++)
            atomic_init(&l2[i], 0);
        atomic_store_explicit(&heap_map_l1[i1], l2, memory_order_release);
    }
    ms_mutex_unlock(&map_lock);
    return l2;
}

ms_status heap_segmap_set(uintptr_t seg_base, bool live)
{
    size_t i1 = seg_base >> HEAP_MAP_L1_SHIFT;
    if (i1 >= HEAP_MAP_L1_COUNT)
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    ms_status err = MS_OK;
    heap_map_word *l2 = map_level2(i1, &err);
    if (!l2)
        return err;
    size_t bit = (seg_base >> HEAP_SEG_SHIFT) & (HEAP_MAP_L2_BITS - 1);
    uint64_t mask = (uint64_t)1 << (bit % 64);
    if (live)
        atomic_fetch_or_explicit(&l2[bit / 64], mask, memory_order_release);
    else
        atomic_fetch_and_explicit(&l2[bit / 64], ~mask, memory_order_release);
    return MS_OK;
}
