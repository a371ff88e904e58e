/*
 * ntdll_heap_hooks.c - memshim's heap blocks stay memshim's on every path.
 *
 * Wine's own DLLs reach the heap through kernel32 (us), but also through
 * kernelbase (which forwards to ntdll) and by calling ntdll's Rtl*Heap
 * directly. A block memshim allocated may therefore be freed, sized,
 * reallocated or validated by ntdll. We patch the entry of those ntdll
 * functions with a jump to a hook that serves memshim's blocks (found by
 * ownership lookup) and sends every other pointer on to the original code
 * through a trampoline. RtlAllocateHeap is hooked only for memshim's
 * private heap handles: what Wine allocates in its own heaps stays Wine's,
 * and our exports route Wine's blocks back to ntdll.
 *
 * The patching itself is hotpatch.c.
 */
#include "private.h"
#include "hotpatch.h"
#include "heap_private.h"
#include "../../src/heap/heap.h"
#include "../../src/heap/heap_userlock.h"
#include "../../src/vm/vm.h"

typedef void *(NTAPI *alloc_fn)(HANDLE, ULONG, SIZE_T);
typedef BOOLEAN(NTAPI *free_fn)(HANDLE, ULONG, void *);
typedef SIZE_T(NTAPI *size_fn)(HANDLE, ULONG, const void *);
typedef void *(NTAPI *realloc_fn)(HANDLE, ULONG, void *, SIZE_T);
typedef BOOLEAN(NTAPI *validate_fn)(HANDLE, ULONG, const void *);

static alloc_fn orig_alloc;
static free_fn orig_free;
static size_fn orig_size;
static realloc_fn orig_realloc;
static validate_fn orig_validate;

/* Wine code (kernelbase's HeapAlloc among it) given one of memshim's
 * private heap handles. Wine's own handles go on; the test is an alignment
 * check and a lock-free bitmap read. */
static void *NTAPI hook_RtlAllocateHeap(HANDLE handle, ULONG flags, SIZE_T size)
{
    struct ms_heap *heap = heap_from_handle(handle);
    if (MS_LIKELY(!heap))
        return orig_alloc(handle, flags, size);
    ms_status err = MS_OK;
    void *block = heap_alloc(heap, heap_userlock_flags(heap, flags), size, &err);
    if (!block)
        memshim_raise_no_memory(heap, flags, size);
    return block;
}

static BOOLEAN NTAPI hook_RtlFreeHeap(HANDLE heap, ULONG flags, void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_free(heap, flags, ptr);
    TRACE("%p %p: memshim's block, freed by memshim\n", heap, ptr);
    ms_status st = heap_free(owner, heap_userlock_flags(heap_parent(owner), flags), ptr);
    if (st) {
        /* As HeapFree, which is RtlFreeHeap on Windows: the error code, and
         * the corruption warning (or fail-fast) for a block that is not live. */
        memshim_heap_corruption(heap, ptr);
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

static SIZE_T NTAPI hook_RtlSizeHeap(HANDLE heap, ULONG flags, const void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_size(heap, flags, ptr);
    size_t size = heap_size(owner, heap_userlock_flags(heap_parent(owner), flags), ptr);
    if (size == (size_t)-1)
        set_last_error(ERROR_INVALID_PARAMETER);
    return size;
}

static void *NTAPI hook_RtlReAllocateHeap(HANDLE heap, ULONG flags, void *ptr, SIZE_T size)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_realloc(heap, flags, ptr, size);
    ms_status err = MS_OK;
    void *result = heap_realloc(owner, heap_userlock_flags(heap_parent(owner), flags), ptr, size, &err);
    if (!result)
        memshim_heap_realloc_failed(heap, owner, ptr, flags, size, err);
    return result;
}

static BOOLEAN NTAPI hook_RtlValidateHeap(HANDLE heap, ULONG flags, const void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_validate(heap, flags, ptr);
    return heap_validate(owner, heap_userlock_flags(heap_parent(owner), flags), ptr);
}

void memshim_install_heap_hooks(void)
{
    hotpatch_export("RtlAllocateHeap", (void *)hook_RtlAllocateHeap, (void **)&orig_alloc);
    hotpatch_export("RtlFreeHeap", (void *)hook_RtlFreeHeap, (void **)&orig_free);
    hotpatch_export("RtlSizeHeap", (void *)hook_RtlSizeHeap, (void **)&orig_size);
    hotpatch_export("RtlReAllocateHeap", (void *)hook_RtlReAllocateHeap, (void **)&orig_realloc);
    hotpatch_export("RtlValidateHeap", (void *)hook_RtlValidateHeap, (void **)&orig_validate);
}
