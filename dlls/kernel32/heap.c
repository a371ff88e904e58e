/*
 * heap.c - the Heap* family on the core's heaps.
 *
 * Handles: GetProcessHeap keeps returning the process heap handle Wine set
 * in the PEB (programs and Wine's DLLs compare against it); requests on that
 * handle are served by the core's process heap. HeapCreate returns the
 * core's heap object. Any other handle is a heap Wine made (RtlCreateHeap)
 * and goes to ntdll.
 *
 * Blocks: every pointer is routed by ownership, not by handle: a block the
 * core did not allocate (Wine's, from before memshim loaded or from ntdll
 * directly) is freed, sized and reallocated by ntdll.
 */
#include "private.h"
#include "stats.h"
#include "heap_private.h"
#include "../../src/heap/heap.h"
#include "../../src/heap/heap_userlock.h"
#include "../../src/heap/heap_info.h"
#include "../../src/heap/heap_fast.h"
#include "../../src/vm/vm.h"

static struct ms_heap *core_heap(HANDLE handle)
{
    return memshim_core_heap(handle);
}

/* A block no heap of ours owns, named with one of our private heaps'
 * handles: not a block of that heap (the process heap's handle also names
 * Wine's blocks allocated before memshim took over). */
static bool foreign_to_private(HANDLE handle)
{
    return handle != peb_process_heap() && core_heap(handle);
}

/* Whether Wine's heap may be asked about a pointer no heap of ours owns:
 * not in the core's memory (Wine places its heaps' memory itself, so no
 * block of Wine's is there), and readable where Wine reads a block's header
 * (the bytes before it) and the block. Anything else would fault in ntdll;
 * it is no block, and the call fails as Wine fails a bad pointer. */
static bool wine_may_read_block(const void *block)
{
    enum { HEADER = 16 };
    return !vm_owns((uintptr_t)block) && memshim_probe_read((const void *)((uintptr_t)block - HEADER), HEADER + 1);
}

/* Who serves a call on `block` through `handle`: one of our heaps (*owner,
 * the block's shard), Wine, or nobody (another heap's block, or no block
 * at all: refused). */
enum block_route { ROUTE_OURS, ROUTE_WINE, ROUTE_REFUSED };

static enum block_route route_block(HANDLE handle, const void *block, struct ms_heap **owner)
{
    *owner = heap_owner_of(block);
    if (!*owner)
        return foreign_to_private(handle) || !wine_may_read_block(block) ? ROUTE_REFUSED : ROUTE_WINE;
    return heap_parent(*owner) == core_heap(handle) ? ROUTE_OURS : ROUTE_REFUSED;
}

HANDLE WINAPI GetProcessHeap(void)
{
    return peb_process_heap();
}

static HANDLE HeapCreate_impl(DWORD flags, SIZE_T initial, SIZE_T maximum)
{
    ms_status err = MS_OK;
    struct ms_heap *heap = heap_create(flags, initial, maximum, &err);
    HANDLE handle = heap ? heap_handle(heap) : NULL;
    TRACE("%#lx %#Ix %#Ix -> %p\n", flags, initial, maximum, handle);
    if (!heap)
        set_last_error(err);
    return handle;
}

HANDLE WINAPI HeapCreate(DWORD flags, SIZE_T initial, SIZE_T maximum)
{
    HANDLE ret = HeapCreate_impl(flags, initial, maximum);
    STAT_COUNT(STAT_HEAPCREATE, !ret);
    return ret;
}

static BOOL HeapDestroy_impl(HANDLE handle)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE);
    if (handle == peb_process_heap()) {
        /* The process heap cannot be destroyed: RtlDestroyHeap refuses it,
         * and kernel32 reports every refusal as ERROR_INVALID_HANDLE. */
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct ms_heap *heap = core_heap(handle);
    if (!heap) {
        TRACE("%p: not memshim's, passthrough\n", handle);
        if (handle && !memshim_wine_heap(handle)) {
            set_last_error(ERROR_INVALID_HANDLE);   /* a destroyed heap of ours, say */
            return FALSE;
        }
        return WINE_FN(fn_t, HeapDestroy)(handle);
    }
    TRACE("%p\n", handle);
    ms_status st = heap_destroy(heap);
    if (st) {
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI HeapDestroy(HANDLE handle)
{
    BOOL ret = HeapDestroy_impl(handle);
    STAT_COUNT(STAT_HEAPDESTROY, !ret);
    return ret;
}

static LPVOID HeapAlloc_impl(HANDLE handle, DWORD flags, SIZE_T size)
{
    struct ms_heap *heap = core_heap(handle);
    if (MS_UNLIKELY(!heap)) {
        TRACE("%p: not memshim's, passthrough\n", handle);
        return RtlAllocateHeap(memshim_wine_heap(handle), flags, size);
    }
    ms_status err = MS_OK;
    void *block = heap_alloc(heap, heap_userlock_flags(heap, flags), size, &err);
    TRACE("%p %#lx %#Ix -> %p\n", handle, flags, size, block);
    if (MS_UNLIKELY(!block)) {
        set_last_error(err);
        memshim_raise_no_memory(heap, flags, size);
    }
    return block;
}

/* Out of line, so that the exports' fast paths need no stack frame. */
static MS_NOINLINE LPVOID HeapAlloc_counted(HANDLE handle, DWORD flags, SIZE_T size)
{
    LPVOID ret = HeapAlloc_impl(handle, flags, size);
    STAT_COUNT(STAT_HEAPALLOC, !ret);
    return ret;
}

LPVOID WINAPI HeapAlloc(HANDLE handle, DWORD flags, SIZE_T size)
{
    /* The common case first, with nothing to trace: a small block of the
     * process heap from the calling thread's own shard (which counts the
     * call itself when statistics are on: heap_process_fast_calls). */
    if (MS_LIKELY(handle == peb_process_heap()) && MS_LIKELY(!TRACE_ON())) {
        void *fast = heap_process_fast_alloc(flags, size, STAT_FAST_COUNTING);
        if (MS_LIKELY(fast != NULL))
            return fast;
    }
    return HeapAlloc_counted(handle, flags, size);
}

/* fast_tried: HeapFree already tried the owner's fast path. */
static BOOL HeapFree_impl(HANDLE handle, DWORD flags, LPVOID block, bool fast_tried)
{
    if (!block)
        return TRUE;
    if (!fast_tried && handle == peb_process_heap() && heap_process_fast_free(block, STAT_FAST_COUNTING)) {
        TRACE("%p %#lx %p\n", handle, flags, block);
        return TRUE;
    }
    /* A block of memshim's is freed only through its own heap's handle:
     * another heap's (or a handle of none) leaves it live and fails. */
    bool ours;
    ms_status st = heap_free_routed(flags, block, core_heap(handle), &ours);
    if (MS_UNLIKELY(!ours)) {
        /* No heap of ours owns it: Wine's block, of the process heap or of
         * one of Wine's heaps. A private heap of ours holds none. */
        if (foreign_to_private(handle) || !wine_may_read_block(block)) {
            memshim_heap_corruption(handle, block);
            set_last_error(ERROR_INVALID_PARAMETER);
            return FALSE;
        }
        TRACE("%p %p: not memshim's, passthrough\n", handle, block);
        if (RtlFreeHeap(memshim_wine_heap(handle), flags, block))
            return TRUE;
        /* Wine's heap refused it: corruption for Windows too (Wine 8.0
         * does not terminate on its own). */
        if (heap_termination_on_corruption())
            memshim_heap_corruption(handle, block);
        return FALSE;
    }
    TRACE("%p %#lx %p\n", handle, flags, block);
    if (MS_UNLIKELY(st)) {
        memshim_heap_corruption(handle, block);
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

static MS_NOINLINE BOOL HeapFree_counted(HANDLE handle, DWORD flags, LPVOID block, bool fast_tried)
{
    BOOL ret = HeapFree_impl(handle, flags, block, fast_tried);
    STAT_COUNT(STAT_HEAPFREE, !ret);
    return ret;
}

BOOL WINAPI HeapFree(HANDLE handle, DWORD flags, LPVOID block)
{
    /* As in HeapAlloc: the owner's own small block, nothing to trace. */
    bool quiet = !TRACE_ON();
    if (MS_LIKELY(handle == peb_process_heap()) && MS_LIKELY(quiet) &&
        MS_LIKELY(heap_process_fast_free(block, STAT_FAST_COUNTING)))
        return TRUE;
    return HeapFree_counted(handle, flags, block, quiet);
}

static LPVOID HeapReAlloc_impl(HANDLE handle, DWORD flags, LPVOID block, SIZE_T size)
{
    if (!block) {
        /* Windows fails without an error code here. */
        set_last_error(ERROR_SUCCESS);
        return NULL;
    }
    struct ms_heap *owner;
    enum block_route route = route_block(handle, block, &owner);
    if (route == ROUTE_WINE) {
        TRACE("%p %p: not memshim's, passthrough\n", handle, block);
        return RtlReAllocateHeap(memshim_wine_heap(handle), flags, block, size);
    }
    if (route == ROUTE_REFUSED) {
        TRACE("%p %p: not a block of this heap\n", handle, block);
        set_last_error(ERROR_INVALID_PARAMETER);
        memshim_heap_corruption(handle, block);
        return NULL;
    }
    ms_status err = MS_OK;
    void *result = heap_realloc(owner, heap_userlock_flags(heap_parent(owner), flags), block, size, &err);
    TRACE("%p %#lx %p %#Ix -> %p\n", handle, flags, block, size, result);
    if (!result)
        memshim_heap_realloc_failed(handle, owner, block, flags, size, err);
    return result;
}

void memshim_heap_realloc_failed(HANDLE handle, struct ms_heap *owner, const void *block, DWORD flags, SIZE_T size,
                                 ms_status err)
{
    set_last_error(err);
    if (err == MS_ERROR_INVALID_PARAMETER)
        memshim_heap_corruption(handle, block);
    else
        memshim_raise_no_memory(owner, flags, size);
}

LPVOID WINAPI HeapReAlloc(HANDLE handle, DWORD flags, LPVOID block, SIZE_T size)
{
    LPVOID ret = HeapReAlloc_impl(handle, flags, block, size);
    STAT_COUNT(STAT_HEAPREALLOC, !ret);
    return ret;
}

static SIZE_T HeapSize_impl(HANDLE handle, DWORD flags, LPCVOID block)
{
    struct ms_heap *owner;
    enum block_route route = route_block(handle, block, &owner);
    if (route == ROUTE_WINE) {
        TRACE("%p %p: not memshim's, passthrough\n", handle, block);
        return RtlSizeHeap(memshim_wine_heap(handle), flags, block);
    }
    size_t size = route == ROUTE_OURS ? heap_size(owner, heap_userlock_flags(heap_parent(owner), flags), block)
                                      : (size_t)-1;
    if (size == (size_t)-1)
        set_last_error(ERROR_INVALID_PARAMETER);
    return size;
}

SIZE_T WINAPI HeapSize(HANDLE handle, DWORD flags, LPCVOID block)
{
    SIZE_T ret = HeapSize_impl(handle, flags, block);
    STAT_COUNT(STAT_HEAPSIZE, ret == (SIZE_T)-1);
    return ret;
}

BOOL WINAPI HeapValidate(HANDLE handle, DWORD flags, LPCVOID block)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, DWORD, LPCVOID);
    struct ms_heap *heap = core_heap(handle);
    struct ms_heap *owner = block ? heap_owner_of(block) : NULL;
    /* Wine's heaps, and Wine's own blocks in the process heap, are Wine's to check. */
    if (block && !owner && !wine_may_read_block(block))
        return FALSE;                   /* no block anywhere */
    if (!heap || (block && !owner && handle == peb_process_heap()))
        return WINE_FN(fn_t, HeapValidate)(memshim_wine_heap(handle), flags, block);
    if (block && heap_parent(owner) != heap)
        return FALSE;
    return heap_validate(heap, heap_userlock_flags(heap, flags), block);
}

/* The process heap handle names both Wine's heap (its older blocks) and
 * the core's: locking it locks both. Recursive per thread, and the holder
 * goes on using the heap (heap_userlock.c). */
BOOL WINAPI HeapLock(HANDLE handle)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE);
    struct ms_heap *heap = core_heap(handle);
    if (heap && handle != peb_process_heap()) {
        heap_user_lock(heap);
        return TRUE;
    }
    if (!WINE_FN(fn_t, HeapLock)(memshim_wine_heap(handle)))
        return FALSE;
    if (heap)
        heap_user_lock(heap);
    return TRUE;
}

BOOL WINAPI HeapUnlock(HANDLE handle)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE);
    struct ms_heap *heap = core_heap(handle);
    if (heap && !heap_user_unlock(heap)) {
        set_last_error(ERROR_INVALID_PARAMETER);    /* held by another thread */
        return FALSE;
    }
    if (heap && handle != peb_process_heap())
        return TRUE;
    return WINE_FN(fn_t, HeapUnlock)(memshim_wine_heap(handle));
}

/* Wine's heaps (the process heap among them), then the core's private ones. */
DWORD WINAPI GetProcessHeaps(DWORD count, PHANDLE heaps)
{
    typedef DWORD(WINAPI * fn_t)(DWORD, PHANDLE);
    DWORD wine_count = WINE_FN(fn_t, GetProcessHeaps)(0, NULL);
    size_t ours = heap_enumerate(NULL, 0);
    DWORD total = wine_count + (DWORD)ours;
    if (total <= count && heaps) {
        /* A buffer that cannot take them: ERROR_NOACCESS and 0, where
         * Windows' and Wine's would fault. */
        if (!memshim_probe_write(heaps, total * sizeof(*heaps))) {
            set_last_error(ERROR_NOACCESS);
            return 0;
        }
        wine_count = WINE_FN(fn_t, GetProcessHeaps)(count, heaps);
        if (wine_count > count)
            wine_count = count;
        ours = heap_enumerate((void **)heaps + wine_count, count - wine_count);
        total = wine_count + (DWORD)ours;
    }
    return total;
}
