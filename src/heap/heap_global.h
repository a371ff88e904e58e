/*
 * heap_global.h - the engine of the Global* and Local* families: fixed
 * blocks of the core's process heap, and moveable memory through a table
 * of handles (see heap_global.c for the layout Windows programs rely on).
 *
 * Each function takes `global`: true for the Global* flavour, false for
 * Local*; Windows makes them differ in a few results (noted per function).
 * Flags are the Windows GMEM_* / LMEM_* numbers.
 *
 * Errors: *err receives the Win32 code the call must leave in
 * GetLastError, MS_OK when it sets ERROR_SUCCESS, or GMEM_KEEP_ERROR when
 * Windows leaves the last error alone.
 * Thread safety: all functions are thread-safe.
 */
#ifndef MS_HEAP_GLOBAL_H
#define MS_HEAP_GLOBAL_H

#include "heap.h"

#define MS_GMEM_MOVEABLE        0x0002u
#define MS_GMEM_ZEROINIT        0x0040u
#define MS_GMEM_MODIFY          0x0080u
#define MS_GMEM_DISCARDABLE     0x0100u
#define MS_LMEM_DISCARDABLE     0x0F00u     /* any of these bits asks for it; LocalFlags reports all */
#define MS_GMEM_DDESHARE        0x2000u
#define MS_GMEM_DISCARDED       0x4000u
#define MS_GMEM_INVALID_HANDLE  0x8000u
#define MS_GMEM_LOCKCOUNT       0x00FFu

#define GMEM_KEEP_ERROR         0xFFFFFFFFu
#define GMEM_MAX_HANDLES        0x10000u    /* as Windows: the 65537th moveable block fails */

enum gmem_kind {
    GMEM_NOT_OURS,          /* neither a handle of the table nor a pointer into the core's process heap */
    GMEM_POINTER,           /* a pointer into the core's process heap (fixed memory) */
    GMEM_HANDLE,            /* a live handle of the table */
    GMEM_STALE_HANDLE,      /* a handle of the table that was freed */
};

/* What `mem` is to the core: the win32 layer passes GMEM_NOT_OURS to Wine. */
enum gmem_kind gmem_classify(const void *mem);

/* GlobalAlloc / LocalAlloc: a fixed pointer, or a handle (GMEM_MOVEABLE).
 * A moveable block of size 0 is born discarded. GlobalAlloc makes a fixed
 * block of size 0 one byte long; LocalAlloc keeps it 0. */
void *gmem_alloc(bool global, uint32_t flags, size_t size, ms_status *err);
/* GlobalFree / LocalFree: NULL on success, `mem` on failure. Locked
 * memory is freed too, as on Windows. */
void *gmem_free(void *mem, ms_status *err);
/* GlobalLock / LocalLock: the block's address; lock counts stop at 255. */
void *gmem_lock(void *mem, ms_status *err);
/* GlobalUnlock / LocalUnlock: true while still locked. A fixed pointer:
 * GlobalUnlock true, LocalUnlock false + ERROR_NOT_LOCKED. A freed handle:
 * GlobalUnlock true, LocalUnlock false, both ERROR_INVALID_HANDLE. */
bool gmem_unlock(bool global, void *mem, ms_status *err);
/* GlobalSize / LocalSize: 0 for discarded memory and on failure. */
size_t gmem_size(void *mem, ms_status *err);
/* GlobalFlags / LocalFlags: lock count, GMEM_DISCARDABLE (Local:
 * LMEM_DISCARDABLE), GMEM_DISCARDED, GMEM_DDESHARE (Global only);
 * GMEM_INVALID_HANDLE for a freed handle. */
uint32_t gmem_flags(bool global, void *mem, ms_status *err);
/* GlobalHandle / LocalHandle: the handle of a moveable block given its
 * address (or the handle itself); a fixed block's own address. */
void *gmem_handle(const void *mem, ms_status *err);
/* GlobalReAlloc / LocalReAlloc: the (possibly new) pointer or handle, NULL
 * on failure. GMEM_MODIFY with GMEM_MOVEABLE turns a fixed block into a
 * moveable one for GlobalReAlloc only (LocalReAlloc returns it unchanged). */
void *gmem_realloc(bool global, void *mem, size_t size, uint32_t flags, ms_status *err);

/* Live handles (for tests and the statistics). */
size_t gmem_handles_in_use(void);

#endif
