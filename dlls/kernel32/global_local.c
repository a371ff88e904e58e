/*
 * global_local.c - the Global* and Local* families on the core
 * (src/heap/heap_global.c holds the rules and the handle table).
 *
 * Routing: memory the core made (a pointer into its process heap, or a
 * handle of its table, live or freed) is the core's; anything else is a
 * block or handle Wine made (before memshim loaded, or through kernelbase)
 * or garbage, and goes to Wine's implementation, which knows its own table.
 * GlobalUnlock/LocalUnlock of a pointer touch no memory and are answered
 * here for any pointer, as Windows answers them.
 *
 * Errors: the core says which error the call leaves (or that it leaves the
 * last error alone, GMEM_KEEP_ERROR).
 */
#include "private.h"
#include "../../src/heap/heap_global.h"

static void finish(ms_status err)
{
    if (err != GMEM_KEEP_ERROR)
        set_last_error(err);
}

static bool is_wine_memory(const void *mem)
{
    return gmem_classify(mem) == GMEM_NOT_OURS;
}

/* Windows reads a block's header before deciding: a pointer whose memory
 * cannot be read fails with ERROR_NOACCESS where Wine 8.0 says
 * ERROR_INVALID_HANDLE. */
static bool readable(const void *p)
{
    MEMORY_BASIC_INFORMATION info;
    const BYTE *at = (const BYTE *)p - 16;
    if ((UINT_PTR)p < 16 || NtQueryVirtualMemory(CURRENT_PROCESS, at, memshim_MemoryBasicInformation, &info,
                                                  sizeof(info), NULL))
        return false;
    return info.State == MEM_COMMIT && !(info.Protect & (PAGE_NOACCESS | PAGE_GUARD)) &&
           (const BYTE *)info.BaseAddress + info.RegionSize >= (const BYTE *)p + sizeof(void *);
}

/* After Wine failed on a value that is neither its nor ours: the error
 * Windows gives for it. */
static void fix_wine_error(const void *mem)
{
    if (!((UINT_PTR)mem & 15) && get_last_error() == ERROR_INVALID_HANDLE && !readable(mem))
        set_last_error(ERROR_NOACCESS);
}

static HGLOBAL alloc_common(BOOL global, UINT flags, SIZE_T size)
{
    ms_status err = GMEM_KEEP_ERROR;
    void *mem = gmem_alloc(global, flags, size, &err);
    TRACE("%s %#x %#Ix -> %p\n", global ? "global" : "local", flags, size, mem);
    if (!mem)
        finish(err);
    return mem;
}

HGLOBAL WINAPI GlobalAlloc(UINT flags, SIZE_T size)
{
    return alloc_common(TRUE, flags, size);
}

HLOCAL WINAPI LocalAlloc(UINT flags, SIZE_T size)
{
    return alloc_common(FALSE, flags, size);
}

/* GlobalFree and LocalFree: one body, Wine's function of the same name
 * for what is Wine's. */
static HGLOBAL free_common(HGLOBAL mem, HGLOBAL(WINAPI *wine_free)(HGLOBAL))
{
    if (!mem || is_wine_memory(mem)) {
        HGLOBAL ret = wine_free(mem);
        if (ret)
            fix_wine_error(mem);
        return ret;
    }
    ms_status err = GMEM_KEEP_ERROR;
    HGLOBAL ret = gmem_free(mem, &err);
    TRACE("%p -> %p\n", mem, ret);
    if (ret) {
        WARN("%p: not a live block or handle\n", mem);
        finish(err);
    }
    return ret;
}

HGLOBAL WINAPI GlobalFree(HGLOBAL mem)
{
    typedef HGLOBAL(WINAPI * fn_t)(HGLOBAL);
    return free_common(mem, WINE_FN(fn_t, GlobalFree));
}

HLOCAL WINAPI LocalFree(HLOCAL mem)
{
    typedef HLOCAL(WINAPI * fn_t)(HLOCAL);
    return free_common(mem, WINE_FN(fn_t, LocalFree));
}

/* The core's side of Lock, Size, Flags and Handle, shared by both families. */
static LPVOID lock_core(HGLOBAL mem)
{
    ms_status err = GMEM_KEEP_ERROR;
    void *p = gmem_lock(mem, &err);
    finish(err);
    return p;
}

static SIZE_T size_core(HGLOBAL mem)
{
    ms_status err = GMEM_KEEP_ERROR;
    SIZE_T size = gmem_size(mem, &err);
    finish(err);
    return size;
}

static UINT flags_core(BOOL global, HGLOBAL mem)
{
    ms_status err = GMEM_KEEP_ERROR;
    UINT flags = gmem_flags(global, mem, &err);
    finish(err);
    return flags;
}

static HGLOBAL handle_core(LPCVOID ptr)
{
    ms_status err = GMEM_KEEP_ERROR;
    HGLOBAL h = gmem_handle(ptr, &err);
    finish(err);
    return h;
}

LPVOID WINAPI GlobalLock(HGLOBAL mem)
{
    typedef LPVOID(WINAPI * fn_t)(HGLOBAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, GlobalLock)(mem);
    return lock_core(mem);
}

LPVOID WINAPI LocalLock(HLOCAL mem)
{
    typedef LPVOID(WINAPI * fn_t)(HLOCAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, LocalLock)(mem);
    return lock_core(mem);
}

static BOOL unlock_common(BOOL global, HGLOBAL mem)
{
    ms_status err = GMEM_KEEP_ERROR;
    BOOL ret = gmem_unlock(global, mem, &err);
    finish(err);
    return ret;
}

BOOL WINAPI GlobalUnlock(HGLOBAL mem)
{
    typedef BOOL(WINAPI * fn_t)(HGLOBAL);
    if (((UINT_PTR)mem & 15) && is_wine_memory(mem)) {
        /* Windows: TRUE (with ERROR_INVALID_HANDLE) for a handle that is
         * not one; Wine 8.0 says FALSE. */
        if (WINE_FN(fn_t, GlobalUnlock)(mem))
            return TRUE;
        return get_last_error() == ERROR_INVALID_HANDLE;
    }
    return unlock_common(TRUE, mem);
}

BOOL WINAPI LocalUnlock(HLOCAL mem)
{
    typedef BOOL(WINAPI * fn_t)(HLOCAL);
    if (((UINT_PTR)mem & 15) && is_wine_memory(mem))
        return WINE_FN(fn_t, LocalUnlock)(mem);
    return unlock_common(FALSE, mem);
}

SIZE_T WINAPI GlobalSize(HGLOBAL mem)
{
    typedef SIZE_T(WINAPI * fn_t)(HGLOBAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, GlobalSize)(mem);
    return size_core(mem);
}

SIZE_T WINAPI LocalSize(HLOCAL mem)
{
    typedef SIZE_T(WINAPI * fn_t)(HLOCAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, LocalSize)(mem);
    return size_core(mem);
}

UINT WINAPI GlobalFlags(HGLOBAL mem)
{
    typedef UINT(WINAPI * fn_t)(HGLOBAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, GlobalFlags)(mem);
    return flags_core(TRUE, mem);
}

UINT WINAPI LocalFlags(HLOCAL mem)
{
    typedef UINT(WINAPI * fn_t)(HLOCAL);
    if (is_wine_memory(mem))
        return WINE_FN(fn_t, LocalFlags)(mem);
    return flags_core(FALSE, mem);
}

HGLOBAL WINAPI GlobalHandle(LPCVOID ptr)
{
    typedef HGLOBAL(WINAPI * fn_t)(LPCVOID);
    if (is_wine_memory(ptr))
        return WINE_FN(fn_t, GlobalHandle)(ptr);
    return handle_core(ptr);
}

HLOCAL WINAPI LocalHandle(LPCVOID ptr)
{
    typedef HLOCAL(WINAPI * fn_t)(LPCVOID);
    if (is_wine_memory(ptr))
        return WINE_FN(fn_t, LocalHandle)(ptr);
    return handle_core(ptr);
}

static HGLOBAL realloc_common(BOOL global, HGLOBAL mem, SIZE_T size, UINT flags)
{
    ms_status err = GMEM_KEEP_ERROR;
    HGLOBAL ret = gmem_realloc(global, mem, size, flags, &err);
    TRACE("%s %p %#Ix %#x -> %p\n", global ? "global" : "local", mem, size, flags, ret);
    if (!ret)
        finish(err);
    return ret;
}

HGLOBAL WINAPI GlobalReAlloc(HGLOBAL mem, SIZE_T size, UINT flags)
{
    typedef HGLOBAL(WINAPI * fn_t)(HGLOBAL, SIZE_T, UINT);
    if (is_wine_memory(mem)) {
        HGLOBAL ret = WINE_FN(fn_t, GlobalReAlloc)(mem, size, flags);
        if (!ret && mem)
            fix_wine_error(mem);
        return ret;
    }
    return realloc_common(TRUE, mem, size, flags);
}

HLOCAL WINAPI LocalReAlloc(HLOCAL mem, SIZE_T size, UINT flags)
{
    typedef HLOCAL(WINAPI * fn_t)(HLOCAL, SIZE_T, UINT);
    if (is_wine_memory(mem)) {
        HLOCAL ret = WINE_FN(fn_t, LocalReAlloc)(mem, size, flags);
        if (!ret && mem)
            fix_wine_error(mem);
        return ret;
    }
    return realloc_common(FALSE, mem, size, flags);
}
