/*
 * heap_info.c - HeapWalk, HeapCompact, HeapSummary, HeapQueryInformation,
 * HeapSetInformation on the core's heaps (engines: src/heap/heap_walk.c,
 * heap_info.c), the HEAP_GENERATE_EXCEPTIONS exception and the
 * terminate-on-corruption switch.
 *
 * The process heap handle names two heaps: the core's (what memshim
 * allocates) and Wine's (blocks made before memshim loaded, or through
 * ntdll directly). HeapWalk of it walks the core's entries first, then
 * carries on into Wine's walk of its own heap, so a program that walks the
 * process heap (a leak checker) sees every block; an lpData that is not the
 * core's belongs to Wine's part of the walk and goes to Wine. The other
 * calls on the process heap handle answer for the core's heap.
 *
 * Heaps Wine made (RtlCreateHeap through ntdll) go to Wine for everything.
 */
#include "private.h"
#include "heap_private.h"
#include "../../src/heap/heap_info.h"
#include "../../src/heap/heap_userlock.h"
#include "../../src/vm/vm.h"

/* Not in mingw's headers. */
#define MEMSHIM_HeapOptimizeResources 3
#define MEMSHIM_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION 1
typedef struct {
    DWORD Version;
    DWORD Flags;
} MEMSHIM_HEAP_OPTIMIZE_RESOURCES_INFORMATION;

struct ms_heap *memshim_core_heap(HANDLE handle)
{
    if (handle == peb_process_heap())
        return heap_process();
    return heap_from_handle(handle);
}

HANDLE memshim_wine_heap(HANDLE handle)
{
    struct vm_region_info info;
    if (!handle || handle == peb_process_heap())
        return handle;
    if (vm_query((uintptr_t)handle, &info) != MS_OK) {
        /* Not the core's memory: Wine reads the header it expects there
         * (its magic number lies 0xb8 bytes in), and faults if it cannot:
         * an unreadable one is no heap. */
        if (!memshim_probe_read(handle, 0x100)) {
            TRACE("%p: unreadable, no heap\n", handle);
            return NULL;
        }
        return handle;
    }
    switch (info.state == VM_MEM_COMMIT && !(info.protect & VM_PAGE_GUARD) ? info.protect & 0xFFu : 0) {
    case VM_PAGE_READONLY:
    case VM_PAGE_READWRITE:
    case VM_PAGE_WRITECOPY:
    case VM_PAGE_EXECUTE_READ:
    case VM_PAGE_EXECUTE_READWRITE:
    case VM_PAGE_EXECUTE_WRITECOPY:
        return handle;
    default:
        TRACE("%p: no heap can be there\n", handle);
        return NULL;
    }
}

void memshim_raise_no_memory(struct ms_heap *heap, DWORD flags, SIZE_T size)
{
    if (!((flags | (heap ? heap_create_flags(heap) : 0)) & HEAP_GENERATE_EXCEPTIONS))
        return;
    /* What Windows' heap raises: STATUS_NO_MEMORY, the size asked for. */
    EXCEPTION_RECORD rec = { 0 };
    rec.ExceptionCode = (DWORD)STATUS_NO_MEMORY;
    rec.NumberParameters = 1;
    rec.ExceptionInformation[0] = size;
    RtlRaiseException(&rec);
}

void memshim_heap_corruption(HANDLE handle, const void *block)
{
    if (heap_termination_on_corruption()) {
        ERR("heap %p: %p is not a live block; terminating (HeapEnableTerminationOnCorruption)\n", handle, block);
        NtTerminateProcess(CURRENT_PROCESS, STATUS_HEAP_CORRUPTION);
    }
    WARN("heap %p: %p is not a live block\n", handle, block);
}

static void entry_to_core(const PROCESS_HEAP_ENTRY *in, struct heap_walk_entry *out)
{
    out->data = (uintptr_t)in->lpData;
    out->size = in->cbData;
    out->overhead = in->cbOverhead;
    out->region_index = in->iRegionIndex;
    out->flags = in->wFlags;
    out->committed = out->uncommitted = 0;
    out->first_block = out->last_block = 0;
}

static void entry_from_core(const struct heap_walk_entry *in, PROCESS_HEAP_ENTRY *out)
{
    out->lpData = (void *)in->data;
    out->cbData = (DWORD)in->size;
    out->cbOverhead = in->overhead;
    out->iRegionIndex = in->region_index;
    out->wFlags = in->flags;
    if (in->flags & MS_PHE_REGION) {
        out->Region.dwCommittedSize = (DWORD)in->committed;
        out->Region.dwUnCommittedSize = (DWORD)in->uncommitted;
        out->Region.lpFirstBlock = (void *)in->first_block;
        out->Region.lpLastBlock = (void *)in->last_block;
    } else {
        out->Block.hMem = NULL;
        out->Block.dwReserved[0] = out->Block.dwReserved[1] = out->Block.dwReserved[2] = 0;
    }
}

BOOL WINAPI HeapWalk(HANDLE handle, LPPROCESS_HEAP_ENTRY entry)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, LPPROCESS_HEAP_ENTRY);
    /* An entry that cannot be read and written: ERROR_NOACCESS, where
     * Windows' and Wine's walk would fault. */
    if (entry && !on_own_stack(entry, sizeof(*entry)) && !memshim_probe_write(entry, sizeof(*entry))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    struct ms_heap *heap = memshim_core_heap(handle);
    if (!heap)
        return WINE_FN(fn_t, HeapWalk)(memshim_wine_heap(handle), entry);
    if (!entry) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    bool process = handle == peb_process_heap();
    if (process && entry->lpData) {
        struct ms_heap *owner = heap_owner_of(entry->lpData);
        if (!owner || heap_parent(owner) != heap)
            return WINE_FN(fn_t, HeapWalk)(handle, entry);      /* in Wine's part of the walk */
    }
    struct heap_walk_entry e;
    entry_to_core(entry, &e);
    ms_status st = heap_walk(heap, heap_userlock_flags(heap, 0), &e);
    if (st == MS_OK) {
        entry_from_core(&e, entry);
        return TRUE;
    }
    if (st == MS_ERROR_NO_MORE_ITEMS && process) {
        /* The core's entries are done: Wine's heap follows. */
        PROCESS_HEAP_ENTRY fresh = { 0 };
        if (!WINE_FN(fn_t, HeapWalk)(handle, &fresh))
            return FALSE;
        *entry = fresh;
        return TRUE;
    }
    set_last_error(st);
    return FALSE;
}

SIZE_T WINAPI HeapCompact(HANDLE handle, DWORD flags)
{
    typedef SIZE_T(WINAPI * fn_t)(HANDLE, DWORD);
    struct ms_heap *heap = memshim_core_heap(handle);
    if (!heap)
        return WINE_FN(fn_t, HeapCompact)(memshim_wine_heap(handle), flags);
    SIZE_T largest = heap_compact(heap, heap_userlock_flags(heap, flags));
    if (!largest)
        set_last_error(NO_ERROR);       /* Windows: 0 with NO_ERROR when nothing is free */
    return largest;
}

/* The figures of a heap Wine manages, from Wine's own walk of it (Wine 8.0
 * has no HeapSummary: calling its kernel32's aborts the process). */
static BOOL wine_heap_summary(HANDLE handle, struct heap_summary *s)
{
    typedef BOOL(WINAPI * walk_t)(HANDLE, LPPROCESS_HEAP_ENTRY);
    typedef BOOL(WINAPI * lock_t)(HANDLE);
    if (!WINE_FN(lock_t, HeapLock)(handle))
        return FALSE;
    PROCESS_HEAP_ENTRY e = { 0 };
    while (WINE_FN(walk_t, HeapWalk)(handle, &e)) {
        if (e.wFlags & PROCESS_HEAP_REGION) {
            s->committed += e.Region.dwCommittedSize;
            s->reserved += (SIZE_T)e.Region.dwCommittedSize + e.Region.dwUnCommittedSize;
        } else if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) {
            s->allocated += e.cbData;
        }
    }
    DWORD err = get_last_error();
    WINE_FN(lock_t, HeapUnlock)(handle);
    set_last_error(err);
    return err == ERROR_NO_MORE_ITEMS;
}

BOOL WINAPI HeapSummary(HANDLE handle, DWORD flags, LPHEAP_SUMMARY summary)
{
    struct ms_heap *heap = memshim_core_heap(handle);
    if (summary && !memshim_probe_write(summary, sizeof(*summary))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    if (!summary || summary->cb != sizeof(*summary)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct heap_summary s = { 0 };
    if (heap)
        heap_summarize(heap, heap_userlock_flags(heap, flags), &s);
    /* Wine's heaps, and Wine's part of the process heap. */
    if (!heap || handle == peb_process_heap()) {
        struct heap_summary w = { 0 };
        if (!wine_heap_summary(memshim_wine_heap(handle), &w)) {
            set_last_error(ERROR_INVALID_HANDLE);
            return FALSE;
        }
        s.allocated += w.allocated;
        s.committed += w.committed;
        s.reserved += w.reserved;
        s.max_reserve += w.reserved;
    }
    summary->cbAllocated = s.allocated;
    summary->cbCommitted = s.committed;
    summary->cbReserved = s.reserved;
    summary->cbMaxReserve = s.max_reserve;
    return TRUE;
}

BOOL WINAPI HeapQueryInformation(HANDLE handle, HEAP_INFORMATION_CLASS cls, PVOID info, SIZE_T size, PSIZE_T ret)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, HEAP_INFORMATION_CLASS, PVOID, SIZE_T, PSIZE_T);
    struct ms_heap *heap = memshim_core_heap(handle);
    if (!heap) {
        HANDLE wine_heap = memshim_wine_heap(handle);
        /* Windows reads the heap's header first: a handle that cannot be a
         * heap (NULL included) is an access violation there, which Wine
         * 8.0 does not see (it answers for any handle). */
        if (!wine_heap) {
            set_last_error(ERROR_NOACCESS);
            return FALSE;
        }
        return WINE_FN(fn_t, HeapQueryInformation)(wine_heap, cls, info, size, ret);
    }
    if (cls != HeapCompatibilityInformation) {
        set_last_error(ERROR_INVALID_PARAMETER);    /* STATUS_INVALID_INFO_CLASS */
        return FALSE;
    }
    /* The program's pointers are written through the guarded copy: a bad
     * one fails with ERROR_NOACCESS instead of faulting in here. */
    SIZE_T needed = sizeof(ULONG);
    if (ret && !memshim_guarded_copy(ret, &needed, sizeof(needed))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    if (size < sizeof(ULONG)) {
        set_last_error(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    /* (A NULL buffer said to be large enough is a bad pointer like any
     * other: Windows faults on it, memshim fails below.) */
    ULONG value = heap_compat_info(heap);
    if (!memshim_guarded_copy(info, &value, sizeof(value))) {
        set_last_error(ERROR_NOACCESS);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI HeapSetInformation(HANDLE handle, HEAP_INFORMATION_CLASS cls, PVOID info, SIZE_T size)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE, HEAP_INFORMATION_CLASS, PVOID, SIZE_T);
    struct ms_heap *heap = handle ? memshim_core_heap(handle) : NULL;
    switch ((int)cls) {
    case HeapEnableTerminationOnCorruption:
        /* Process-wide: every heap of the process, Wine's too. */
        TRACE("terminate on heap corruption\n");
        heap_enable_termination_on_corruption();
        WINE_FN(fn_t, HeapSetInformation)(handle, cls, info, size);
        return TRUE;
    case MEMSHIM_HeapOptimizeResources: {
        MEMSHIM_HEAP_OPTIMIZE_RESOURCES_INFORMATION opt;
        if (size != sizeof(opt) || !memshim_guarded_copy(&opt, info, sizeof(opt)) ||
            opt.Version != MEMSHIM_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION) {
            set_last_error(ERROR_INVALID_PARAMETER);
            return FALSE;
        }
        if (handle && !heap)
            return WINE_FN(fn_t, HeapSetInformation)(memshim_wine_heap(handle), cls, info, size);
        heap_optimize_resources(heap);
        return TRUE;
    }
    case HeapCompatibilityInformation: {
        if (!heap)
            return WINE_FN(fn_t, HeapSetInformation)(memshim_wine_heap(handle), cls, info, size);
        if (!info || size < sizeof(ULONG)) {
            set_last_error(ERROR_INSUFFICIENT_BUFFER);
            return FALSE;
        }
        ULONG value;
        if (!memshim_guarded_copy(&value, info, sizeof(value))) {
            set_last_error(ERROR_NOACCESS);
            return FALSE;
        }
        ms_status st = heap_set_compat_info(heap, value);
        if (st) {
            set_last_error(st);
            return FALSE;
        }
        return TRUE;
    }
    default:
        if (!heap && handle)
            return WINE_FN(fn_t, HeapSetInformation)(memshim_wine_heap(handle), cls, info, size);
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
}
