/*
 * kernelbase_gmem_hooks.c - memshim's moveable handles stay memshim's when
 * Wine's own DLLs get them.
 *
 * A program hands its GlobalAlloc/LocalAlloc handles to the system: the
 * clipboard (SetClipboardData), OLE (HGLOBAL storage), edit controls
 * (EM_SETHANDLE). Wine's user32, ole32, comctl32, shlwapi... import
 * LocalLock, LocalUnlock, LocalReAlloc, LocalFree and GlobalFree from
 * kernelbase, not from kernel32 (us), and kernelbase's versions know only
 * Wine's handle table: they would fail on memshim's handles (and leak the
 * memory behind them). So the entries of kernelbase's LocalFree, LocalLock,
 * LocalReAlloc and LocalUnlock are patched (hotpatch.c) to send handles of
 * memshim's table to memshim's implementation; everything else, Wine's
 * handles and all pointers, runs Wine's code through the trampoline.
 * kernelbase's GlobalFree calls its LocalFree, so it is covered too.
 * Pointers need nothing: Wine's code validates and frees them through
 * ntdll's heap functions, which reach memshim for its blocks already.
 */
#include "private.h"
#include "hotpatch.h"
#include "../../src/heap/heap_global.h"

typedef HLOCAL(WINAPI *local_free_fn)(HLOCAL);
typedef LPVOID(WINAPI *local_lock_fn)(HLOCAL);
typedef HLOCAL(WINAPI *local_realloc_fn)(HLOCAL, SIZE_T, UINT);
typedef BOOL(WINAPI *local_unlock_fn)(HLOCAL);

static local_free_fn orig_free;
static local_lock_fn orig_lock;
static local_realloc_fn orig_realloc;
static local_unlock_fn orig_unlock;

/* A handle of memshim's table (live or freed): 8 bytes past a 16-byte
 * boundary and inside the table. */
static bool ours(HLOCAL mem)
{
    if (((UINT_PTR)mem & 15) != 8)
        return false;
    enum gmem_kind kind = gmem_classify(mem);
    return kind == GMEM_HANDLE || kind == GMEM_STALE_HANDLE;
}

static HLOCAL WINAPI hook_LocalFree(HLOCAL mem)
{
    return ours(mem) ? LocalFree(mem) : orig_free(mem);
}

static LPVOID WINAPI hook_LocalLock(HLOCAL mem)
{
    return ours(mem) ? LocalLock(mem) : orig_lock(mem);
}

static HLOCAL WINAPI hook_LocalReAlloc(HLOCAL mem, SIZE_T size, UINT flags)
{
    return ours(mem) ? LocalReAlloc(mem, size, flags) : orig_realloc(mem, size, flags);
}

static BOOL WINAPI hook_LocalUnlock(HLOCAL mem)
{
    return ours(mem) ? LocalUnlock(mem) : orig_unlock(mem);
}

static void *kernelbase_proc(HMODULE kernelbase, const char *name)
{
    ANSI_STRING proc;
    void *fn = NULL;
    RtlInitAnsiString(&proc, name);
    if (LdrGetProcedureAddress(kernelbase, &proc, 0, &fn))
        return NULL;
    return fn;
}

void memshim_install_kernelbase_gmem_hooks(void)
{
    UNICODE_STRING name;
    HMODULE kernelbase = NULL;
    RtlInitUnicodeString(&name, L"kernelbase.dll");
    if (LdrGetDllHandle(NULL, 0, &name, &kernelbase)) {
        ERR("kernelbase.dll is not loaded: Wine's DLLs will not know memshim's moveable handles\n");
        return;
    }
    static const struct {
        const char *name;
        void *hook;
        void **original;
    } hooks[] = {
        { "LocalFree", (void *)hook_LocalFree, (void **)&orig_free },
        { "LocalLock", (void *)hook_LocalLock, (void **)&orig_lock },
        { "LocalReAlloc", (void *)hook_LocalReAlloc, (void **)&orig_realloc },
        { "LocalUnlock", (void *)hook_LocalUnlock, (void **)&orig_unlock },
    };
    for (unsigned i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
        void *fn = kernelbase_proc(kernelbase, hooks[i].name);
        if (!fn)
            ERR("kernelbase has no %s\n", hooks[i].name);
        else
            hotpatch("kernelbase", hooks[i].name, fn, hooks[i].hook, hooks[i].original);
    }
}
