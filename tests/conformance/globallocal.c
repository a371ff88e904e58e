/*
 * Conformance: GlobalAlloc/LocalAlloc and the rest of both families, with
 * the results Windows gives (as Wine's own kernel32 tests record them for
 * Windows 10/11): fixed and moveable memory, the handle layout, lock
 * counts, discarded blocks, GMEM_MODIFY, realloc of locked moveable
 * blocks, freed handles, the 65536-handle limit, and the places where the
 * Global and Local flavours differ.
 */
#include "harness.h"

#define HANDLE_LIMIT 0x10000

static HGLOBAL handles[HANDLE_LIMIT + 1];

static void test_fixed(void)
{
    HGLOBAL mem = GlobalAlloc(GMEM_FIXED, 100);
    ok(mem && !((UINT_PTR)mem & 15), "GlobalAlloc(fixed) %p", mem);
    ok(GlobalLock(mem) == mem, "GlobalLock(fixed) is the pointer");
    ok(GlobalSize(mem) == 100, "GlobalSize %zu", GlobalSize(mem));
    ok(GlobalFlags(mem) == 0, "GlobalFlags %#x", GlobalFlags(mem));
    ok(GlobalHandle(mem) == mem, "GlobalHandle(fixed) %p", GlobalHandle(mem));
    ok(HeapValidate(GetProcessHeap(), 0, mem), "fixed memory is a process heap block");
    ok(HeapSize(GetProcessHeap(), 0, mem) == 100, "HeapSize of it %zu", HeapSize(GetProcessHeap(), 0, mem));
    SetLastError(0xdeadbeef);
    ok(GlobalUnlock(mem), "GlobalUnlock(fixed) TRUE");
    ok(GetLastError() == 0xdeadbeef, "error %lu", GetLastError());
    ok(GlobalFree(mem) == NULL, "GlobalFree");

    mem = GlobalAlloc(GMEM_FIXED, 0);
    ok(mem != NULL, "GlobalAlloc(fixed, 0)");
    ok(GlobalSize(mem) == 1, "GlobalAlloc makes a 0-byte fixed block 1 byte: %zu", GlobalSize(mem));
    ok(GlobalFree(mem) == NULL, "GlobalFree");
    mem = LocalAlloc(LMEM_FIXED, 0);
    ok(mem != NULL, "LocalAlloc(fixed, 0)");
    ok(LocalSize(mem) == 0, "LocalSize %zu", LocalSize(mem));
    ok(LocalFree(mem) == NULL, "LocalFree");

    mem = LocalAlloc(LMEM_FIXED, 100);
    SetLastError(0xdeadbeef);
    ok(!LocalUnlock(mem), "LocalUnlock(fixed) FALSE");
    ok(GetLastError() == ERROR_NOT_LOCKED, "error %lu", GetLastError());
    ok(LocalFree(mem) == NULL, "LocalFree");

    BYTE *z = GlobalAlloc(GMEM_ZEROINIT, 100000);
    BOOL zero = z != NULL;
    for (int i = 0; z && i < 100000; i++)
        zero &= z[i] == 0;
    ok(zero, "GMEM_ZEROINIT zeroes");
    ok(GlobalSize(z) >= 100000, "size %zu", GlobalSize(z));
    GlobalFree(z);

    ok(GlobalFree(NULL) == NULL, "GlobalFree(NULL)");
    ok(LocalFree(NULL) == NULL, "LocalFree(NULL)");
    ok(GlobalReAlloc(NULL, 10, GMEM_MOVEABLE) == NULL, "GlobalReAlloc(NULL)");
    ok(LocalReAlloc(NULL, 10, LMEM_MOVEABLE) == NULL, "LocalReAlloc(NULL)");
}

static void test_moveable(void)
{
    HGLOBAL mem = GlobalAlloc(GMEM_MOVEABLE, 256);
    ok(mem && ((UINT_PTR)mem & 15) == 8, "moveable handle %p: 8 past a 16-byte boundary", mem);
    const UINT_PTR *entry = (const UINT_PTR *)mem - 1;
    ok(!HeapValidate(GetProcessHeap(), 0, entry), "the handle is not a heap block");
    ok(entry[0] == 3, "entry flags %#zx", entry[0]);
    BYTE *ptr = GlobalLock(mem);
    ok(ptr && ptr != (BYTE *)mem && !((UINT_PTR)ptr & 15), "GlobalLock %p", ptr);
    ok(*(void **)mem == ptr, "*(void **)handle is the block");
    ok(HeapValidate(GetProcessHeap(), 0, ptr), "the block is a process heap block");
    ok(HeapSize(GetProcessHeap(), 0, ptr) == 256, "HeapSize of the block %zu",
       HeapSize(GetProcessHeap(), 0, ptr));
    ok(entry[0] == 0x10003, "entry flags %#zx", entry[0]);
    ok(GlobalFlags(mem) == 1, "GlobalFlags %#x", GlobalFlags(mem));
    ok(GlobalLock(mem) == ptr, "second lock");
    ok(GlobalFlags(mem) == 2, "GlobalFlags %#x", GlobalFlags(mem));
    ok(GlobalHandle(ptr) == mem, "GlobalHandle(block) %p", GlobalHandle(ptr));
    ok(GlobalSize(mem) == 256, "GlobalSize %zu", GlobalSize(mem));
    ok(GlobalUnlock(mem), "unlock 2 -> 1");
    SetLastError(0xdeadbeef);
    ok(!GlobalUnlock(mem), "unlock 1 -> 0 FALSE");
    ok(GetLastError() == ERROR_SUCCESS, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!GlobalUnlock(mem), "unlock at 0");
    ok(GetLastError() == ERROR_NOT_LOCKED, "error %lu", GetLastError());

    /* lock counts stop at 255 */
    for (int i = 0; i < 256; i++)
        GlobalLock(mem);
    ok(entry[0] == 0xff0003, "entry flags %#zx", entry[0]);
    ok(GlobalFlags(mem) == 0xff, "GlobalFlags %#x", GlobalFlags(mem));
    int still = 0;
    for (int i = 0; i < 254; i++)
        still += GlobalUnlock(mem) != 0;
    ok(still == 254, "%d unlocks left it locked", still);
    ok(!GlobalUnlock(mem), "255th unlock reaches 0");

    /* freed handles are caught */
    ok(GlobalFree(mem) == NULL, "GlobalFree");
    ok(entry[0] && !(entry[0] & 15) && !entry[1], "freed entry %#zx %#zx", entry[0], entry[1]);
    SetLastError(0xdeadbeef);
    ok(GlobalFree(mem) == mem, "double GlobalFree returns the handle");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalFlags(mem) == GMEM_INVALID_HANDLE, "GlobalFlags of freed");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalSize(mem) == 0, "GlobalSize of freed");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalLock(mem) == NULL, "GlobalLock of freed");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(GlobalUnlock(mem), "GlobalUnlock of freed is TRUE");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());

    mem = LocalAlloc(LMEM_MOVEABLE, 256);
    ok(LocalFree(mem) == NULL, "LocalFree");
    SetLastError(0xdeadbeef);
    ok(!LocalUnlock(mem), "LocalUnlock of freed is FALSE");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(LocalFree(mem) == mem, "double LocalFree");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(LocalFlags(mem) == LMEM_INVALID_HANDLE, "LocalFlags of freed");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
}

/* Values that are no memory at all: a handle-shaped one and a pointer. */
static void test_garbage(void)
{
    HGLOBAL invalid_mem = (HGLOBAL)(UINT_PTR)(0xdeadbee0 + sizeof(void *));
    void *invalid_ptr = (void *)(UINT_PTR)0xdeadbee0;
    SetLastError(0xdeadbeef);
    ok(GlobalFree(invalid_mem) == invalid_mem, "GlobalFree(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalFlags(invalid_mem) == GMEM_INVALID_HANDLE, "GlobalFlags(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalSize(invalid_mem) == 0, "GlobalSize(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalLock(invalid_mem) == NULL, "GlobalLock(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(GlobalUnlock(invalid_mem), "GlobalUnlock(garbage handle) is TRUE");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalReAlloc(invalid_mem, 0, GMEM_MOVEABLE) == NULL, "GlobalReAlloc(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!LocalUnlock(invalid_mem), "LocalUnlock(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(LocalFlags(invalid_mem) == LMEM_INVALID_HANDLE, "LocalFlags(garbage handle)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());

    SetLastError(0xdeadbeef);
    ok(GlobalFree(invalid_ptr) == invalid_ptr, "GlobalFree(garbage pointer)");
    todo_wine ok(GetLastError() == ERROR_NOACCESS, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalSize(invalid_ptr) == 0, "GlobalSize(garbage pointer)");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(GlobalUnlock(invalid_ptr), "GlobalUnlock(garbage pointer) is TRUE");
    ok(GetLastError() == 0xdeadbeef, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!LocalUnlock(invalid_ptr), "LocalUnlock(garbage pointer)");
    ok(GetLastError() == ERROR_NOT_LOCKED, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(LocalLock(invalid_ptr) == NULL, "LocalLock(garbage pointer)");
    ok(GetLastError() == 0xdeadbeef, "error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(LocalReAlloc(invalid_ptr, 0, LMEM_MOVEABLE) == NULL, "LocalReAlloc(garbage pointer)");
    todo_wine ok(GetLastError() == ERROR_NOACCESS, "error %lu", GetLastError());
}

static void test_discarded(void)
{
    HGLOBAL mem = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 0);
    const UINT_PTR *entry = (const UINT_PTR *)mem - 1;
    ok(mem && entry[0] == 0xf && !entry[1], "born discarded: %#zx %p", entry[0], (void *)entry[1]);
    ok(GlobalFlags(mem) == (GMEM_DISCARDED | GMEM_DISCARDABLE), "GlobalFlags %#x", GlobalFlags(mem));
    ok(GlobalSize(mem) == 0, "GlobalSize %zu", GlobalSize(mem));
    GlobalFree(mem);

    mem = GlobalAlloc(GMEM_MOVEABLE | GMEM_ZEROINIT, 0);
    SetLastError(0xdeadbeef);
    ok(GlobalLock(mem) == NULL, "lock of a discarded block");
    ok(GetLastError() == ERROR_DISCARDED, "error %lu", GetLastError());
    GlobalFree(mem);
    mem = LocalAlloc(LMEM_MOVEABLE | LMEM_ZEROINIT, 0);
    SetLastError(0xdeadbeef);
    ok(LocalLock(mem) == NULL, "LocalLock of a discarded block");
    ok(GetLastError() == ERROR_DISCARDED, "error %lu", GetLastError());
    LocalFree(mem);

    mem = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 1);
    entry = (const UINT_PTR *)mem - 1;
    ok(entry[0] == 7 && entry[1], "discardable: %#zx", entry[0]);
    ok(GlobalFlags(mem) == GMEM_DISCARDABLE, "GlobalFlags %#x", GlobalFlags(mem));
    GlobalFree(mem);
    mem = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE | GMEM_DDESHARE, 1);
    entry = (const UINT_PTR *)mem - 1;
    ok(entry[0] == 0x8007, "DDE-shared: %#zx", entry[0]);
    ok(GlobalFlags(mem) == (GMEM_DISCARDABLE | GMEM_DDESHARE), "GlobalFlags %#x", GlobalFlags(mem));
    GlobalFree(mem);

    /* 0 -> 10 -> 0 -> 10 */
    mem = GlobalAlloc(GMEM_MOVEABLE, 0);
    mem = GlobalReAlloc(mem, 10, GMEM_MOVEABLE);
    ok(mem && GlobalSize(mem) >= 10 && GlobalSize(mem) <= 16, "grown from discarded: %zu", GlobalSize(mem));
    mem = GlobalReAlloc(mem, 0, GMEM_MOVEABLE);
    ok(mem && GlobalSize(mem) == 0, "discarded again");
    mem = GlobalReAlloc(mem, 10, GMEM_MOVEABLE);
    ok(mem && GlobalSize(mem) >= 10, "grown again");
    ok(GlobalFree(mem) == NULL, "GlobalFree");
    ok(GlobalSize(mem) == 0, "GlobalSize of freed");
}

static void test_realloc(void)
{
    static const char zero_buffer[100000];
    const SIZE_T buffer_size = sizeof(zero_buffer);

    /* a fixed block does not resize without GMEM_MOVEABLE; GMEM_MODIFY leaves it alone */
    HGLOBAL mem = GlobalAlloc(GMEM_FIXED, 10), tmp;
    tmp = GlobalReAlloc(mem, 9, GMEM_MODIFY);
    ok(tmp == mem, "GMEM_MODIFY on fixed: %p, expected %p", tmp, mem);
    ok(GlobalSize(mem) == 10, "size %zu", GlobalSize(mem));
    SetLastError(0xdeadbeef);
    tmp = GlobalReAlloc(mem, 10, 0);
    todo_wine ok(!tmp, "fixed block resized without GMEM_MOVEABLE");
    todo_wine ok(GetLastError() == ERROR_NOT_ENOUGH_MEMORY, "error %lu", GetLastError());
    if (tmp)
        mem = tmp;
    tmp = GlobalReAlloc(mem, 11, GMEM_MOVEABLE);
    ok(tmp != NULL, "fixed block with GMEM_MOVEABLE");
    ok(GlobalLock(tmp) == tmp, "still fixed");
    ok(GlobalSize(tmp) == 11, "size %zu", GlobalSize(tmp));
    GlobalFree(tmp);

    /* GlobalReAlloc(GMEM_MODIFY | GMEM_MOVEABLE) makes fixed memory moveable */
    mem = GlobalAlloc(GMEM_ZEROINIT, buffer_size);
    BYTE *ptr = GlobalLock(mem);
    ok(ptr == mem, "fixed");
    mem = GlobalReAlloc(mem, 0, GMEM_MODIFY | GMEM_MOVEABLE);
    ok(mem && mem != ptr, "now a handle: %p", mem);
    ok(GlobalSize(mem) == buffer_size, "size kept %zu", GlobalSize(mem));
    ptr = GlobalLock(mem);
    ok(ptr && ptr != (BYTE *)mem, "locked %p", ptr);
    SetLastError(0xdeadbeef);
    ok(!GlobalUnlock(mem), "unlocked");
    ok(GetLastError() == NO_ERROR, "error %lu", GetLastError());
    tmp = GlobalReAlloc(mem, 2 * buffer_size, GMEM_MOVEABLE | GMEM_ZEROINIT);
    ok(tmp == mem, "same handle after growth");
    ok(GlobalSize(mem) >= 2 * buffer_size, "size %zu", GlobalSize(mem));
    ptr = GlobalLock(mem);
    ok(ptr && !memcmp(ptr, zero_buffer, buffer_size) && !memcmp(ptr + buffer_size, zero_buffer, buffer_size),
       "zeroed, growth too");
    ok(GlobalHandle(ptr) == mem, "GlobalHandle");
    SetLastError(0xdeadbeef);
    ok(!GlobalDiscard(mem), "no discard while locked");
    ok(!GlobalUnlock(mem), "unlocked");
    ok(GlobalDiscard(mem) == mem, "discarded");
    ok(GlobalFlags(mem) == GMEM_DISCARDED, "flags %#x", GlobalFlags(mem));
    ok(GlobalFree(mem) == NULL, "GlobalFree");

    /* LocalReAlloc(LMEM_MODIFY | LMEM_MOVEABLE) does not */
    mem = LocalAlloc(LMEM_ZEROINIT, buffer_size);
    ptr = LocalLock(mem);
    tmp = LocalReAlloc(mem, 0, LMEM_MODIFY | LMEM_MOVEABLE);
    ok(tmp == ptr, "LocalReAlloc(LMEM_MODIFY|LMEM_MOVEABLE) on fixed memory: %p, expected %p", tmp, ptr);
    LocalFree(tmp);

    /* a locked moveable block: in place without GMEM_MOVEABLE, anywhere with it */
    mem = GlobalAlloc(GMEM_MOVEABLE, 100);
    ptr = GlobalLock(mem);
    memset(ptr, 0xab, 100);
    SetLastError(0xdeadbeef);
    tmp = GlobalReAlloc(mem, 1 << 20, 0);
    ok(!tmp, "locked block grown without GMEM_MOVEABLE");
    ok(GetLastError() == ERROR_NOT_ENOUGH_MEMORY, "error %lu", GetLastError());
    ok(GlobalLock(mem) == ptr, "block unchanged");
    GlobalUnlock(mem);
    tmp = GlobalReAlloc(mem, 1 << 20, GMEM_MOVEABLE);
    ok(tmp == mem, "locked block grown with GMEM_MOVEABLE: same handle");
    BYTE *moved = GlobalLock(mem);
    BOOL kept = moved != NULL;
    for (int i = 0; kept && i < 100; i++)
        kept = moved[i] == 0xab;
    ok(kept, "contents kept");
    ok(GlobalFlags(mem) == 2, "lock count kept: %#x", GlobalFlags(mem));
    ok(GlobalHandle(moved) == mem, "GlobalHandle of the moved block");
    ok(!GlobalReAlloc(mem, 10, GMEM_DISCARDABLE), "GMEM_DISCARDABLE without GMEM_MODIFY");
    ok(GlobalReAlloc(mem, 0, GMEM_MODIFY | GMEM_DISCARDABLE) == mem, "GMEM_MODIFY discardable");
    ok(GlobalFlags(mem) == (GMEM_DISCARDABLE | 2), "flags %#x", GlobalFlags(mem));
    ok(GlobalFree(mem) == NULL, "locked memory is freed");
}

static void test_limit(void)
{
    UINT n = 0;
    while (n < HANDLE_LIMIT && (handles[n] = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 0)))
        n++;
    /* Windows: 65536 moveable handles in a process, Global and Local together
     * (the C runtime may hold a few). */
    ok(n >= HANDLE_LIMIT - 16, "%u moveable handles", n);
    SetLastError(0xdeadbeef);
    HGLOBAL mem = LocalAlloc(LMEM_MOVEABLE | LMEM_DISCARDABLE, 0);
    ok(!mem, "one more");
    ok(GetLastError() == ERROR_NOT_ENOUGH_MEMORY, "error %lu", GetLastError());
    if (mem)
        handles[n++] = mem;
    mem = GlobalAlloc(GMEM_DISCARDABLE, 0);
    ok(mem != NULL, "fixed memory still available");
    GlobalFree(mem);
    UINT freed = 0;
    for (UINT i = 0; i < n; i++)
        freed += GlobalFree(handles[i]) == NULL;
    ok(freed == n, "%u of %u freed", freed, n);
}

static void test_flags_variants(void)
{
    static const UINT gflags[] = {
        GMEM_FIXED | GMEM_NOTIFY, GMEM_FIXED | GMEM_DISCARDABLE, GMEM_MOVEABLE | GMEM_NOTIFY,
        GMEM_MOVEABLE | GMEM_DDESHARE, GMEM_MOVEABLE | GMEM_NOT_BANKED, GMEM_MOVEABLE | GMEM_NODISCARD,
        GMEM_MOVEABLE | GMEM_DISCARDABLE,
    };
    for (UINT i = 0; i < sizeof(gflags) / sizeof(gflags[0]); i++) {
        HGLOBAL mem = GlobalAlloc(gflags[i], 4);
        UINT flags = GlobalFlags(mem);
        ok(mem && !(flags & ~(GMEM_DDESHARE | GMEM_DISCARDABLE)), "GlobalAlloc(%#x): flags %#x", gflags[i], flags);
        ok(GlobalFree(mem) == NULL, "GlobalFree");
    }
    static const UINT lflags[] = {
        LMEM_FIXED, LMEM_FIXED | LMEM_DISCARDABLE, LMEM_MOVEABLE, LMEM_MOVEABLE | LMEM_NODISCARD,
        LMEM_MOVEABLE | LMEM_DISCARDABLE,
    };
    for (UINT i = 0; i < sizeof(lflags) / sizeof(lflags[0]); i++) {
        HLOCAL mem = LocalAlloc(lflags[i], 4);
        UINT flags = LocalFlags(mem);
        ok(mem && !(flags & ~LMEM_DISCARDABLE), "LocalAlloc(%#x): flags %#x", lflags[i], flags);
        ok(LocalFree(mem) == NULL, "LocalFree");
    }
    HLOCAL mem = LocalAlloc(LMEM_MOVEABLE | LMEM_DISCARDABLE, 4);
    ok(LocalFlags(mem) == LMEM_DISCARDABLE, "LocalFlags %#x", LocalFlags(mem));
    LocalFree(mem);
}

/* Blocks the program frees through another path than the one that made
 * them: Global and Local memory are process heap blocks. */
static void test_cross(void)
{
    void *p = LocalAlloc(LMEM_FIXED, 64);
    ok(HeapFree(GetProcessHeap(), 0, p), "HeapFree of LocalAlloc memory");
    p = HeapAlloc(GetProcessHeap(), 0, 64);
    ok(LocalSize(p) == 64, "LocalSize of a HeapAlloc block: %zu", LocalSize(p));
    ok(LocalFree(p) == NULL, "LocalFree of a HeapAlloc block");
    p = HeapAlloc(GetProcessHeap(), 0, 64);
    ok(GlobalFree(p) == NULL, "GlobalFree of a HeapAlloc block");
}

/* Wine's DLLs reach Local* through kernelbase: the program's handles must
 * work there, and kernelbase's handles through kernel32. */
static void test_kernelbase(void)
{
    HMODULE kb = GetModuleHandleA("kernelbase.dll");
    if (!kb) {
        skip("no kernelbase.dll");
        return;
    }
    typedef HLOCAL(WINAPI * alloc_fn)(UINT, SIZE_T);
    typedef HLOCAL(WINAPI * free_fn)(HLOCAL);
    typedef LPVOID(WINAPI * lock_fn)(HLOCAL);
    typedef BOOL(WINAPI * unlock_fn)(HLOCAL);
    typedef HLOCAL(WINAPI * realloc_fn)(HLOCAL, SIZE_T, UINT);
    alloc_fn kb_alloc = (alloc_fn)(void *)GetProcAddress(kb, "LocalAlloc");
    free_fn kb_free = (free_fn)(void *)GetProcAddress(kb, "LocalFree");
    free_fn kb_gfree = (free_fn)(void *)GetProcAddress(kb, "GlobalFree");
    lock_fn kb_lock = (lock_fn)(void *)GetProcAddress(kb, "LocalLock");
    unlock_fn kb_unlock = (unlock_fn)(void *)GetProcAddress(kb, "LocalUnlock");
    realloc_fn kb_realloc = (realloc_fn)(void *)GetProcAddress(kb, "LocalReAlloc");
    if (!kb_alloc || !kb_free || !kb_gfree || !kb_lock || !kb_unlock || !kb_realloc) {
        skip("kernelbase lacks the Local* functions");
        return;
    }
    /* kernel32's handle through kernelbase */
    HLOCAL mem = LocalAlloc(LMEM_MOVEABLE, 100);
    BYTE *p = kb_lock(mem);
    ok(p != NULL && p == LocalLock(mem), "kernelbase LocalLock of a kernel32 handle: %p", p);
    ok(LocalFlags(mem) == 2, "lock count %#x", LocalFlags(mem));
    ok(kb_unlock(mem), "kernelbase LocalUnlock: still locked");
    SetLastError(0xdeadbeef);
    ok(!kb_unlock(mem) && GetLastError() == NO_ERROR, "kernelbase LocalUnlock to 0: %lu", GetLastError());
    memset(p, 0x5a, 100);
    ok(kb_realloc(mem, 5000, LMEM_MOVEABLE) == mem, "kernelbase LocalReAlloc");
    ok(LocalSize(mem) == 5000, "size %zu", LocalSize(mem));
    p = LocalLock(mem);
    ok(p && p[0] == 0x5a && p[99] == 0x5a, "contents kept");
    LocalUnlock(mem);
    ok(kb_free(mem) == NULL, "kernelbase LocalFree of a kernel32 handle");
    SetLastError(0xdeadbeef);
    ok(LocalFree(mem) == mem && GetLastError() == ERROR_INVALID_HANDLE, "freed there, gone here: %lu", GetLastError());
    HGLOBAL g = GlobalAlloc(GMEM_MOVEABLE, 10);
    ok(kb_gfree(g) == NULL, "kernelbase GlobalFree of a kernel32 handle");
    ok(GlobalFlags(g) == GMEM_INVALID_HANDLE, "freed: flags %#x", GlobalFlags(g));

    /* kernelbase's handle through kernel32 */
    mem = kb_alloc(LMEM_MOVEABLE, 64);
    p = LocalLock(mem);
    ok(p != NULL, "kernel32 LocalLock of a kernelbase handle");
    ok(LocalSize(mem) == 64, "size %zu", LocalSize(mem));
    ok(LocalHandle(p) == mem, "LocalHandle");
    ok(!LocalUnlock(mem), "unlocked");
    mem = LocalReAlloc(mem, 128, LMEM_MOVEABLE);
    ok(mem && LocalSize(mem) == 128, "kernel32 LocalReAlloc of a kernelbase handle");
    ok(LocalFree(mem) == NULL, "kernel32 LocalFree of a kernelbase handle");
    void *f = kb_alloc(LMEM_FIXED, 32);
    ok(LocalSize(f) == 32 && LocalFree(f) == NULL, "kernelbase fixed memory through kernel32");
    f = LocalAlloc(LMEM_FIXED, 32);
    ok(kb_lock(f) == f && kb_free(f) == NULL, "kernel32 fixed memory through kernelbase");
}

static DWORD WINAPI thread_proc(void *arg)
{
    DWORD bad = 0;
    BYTE fill = (BYTE)(UINT_PTR)arg;
    for (int i = 0; i < 5000; i++) {
        SIZE_T n = (SIZE_T)(i % 200) + 1;
        HGLOBAL mem = GlobalAlloc(GMEM_MOVEABLE, n);
        BYTE *p = GlobalLock(mem);
        if (!p) { bad++; continue; }
        memset(p, fill, n);
        GlobalUnlock(mem);
        mem = GlobalReAlloc(mem, n + 500, GMEM_MOVEABLE);
        p = GlobalLock(mem);
        for (SIZE_T k = 0; p && k < n; k++)
            bad += p[k] != fill;
        GlobalUnlock(mem);
        bad += GlobalFree(mem) != NULL;
    }
    return bad;
}

static void test_threads(void)
{
    HANDLE t[2];
    DWORD code[2] = { 1, 1 };
    for (int i = 0; i < 2; i++)
        t[i] = CreateThread(NULL, 0, thread_proc, (void *)(UINT_PTR)(0x41 + i), 0, NULL);
    WaitForMultipleObjects(2, t, TRUE, INFINITE);
    for (int i = 0; i < 2; i++) {
        GetExitCodeThread(t[i], &code[i]);
        CloseHandle(t[i]);
    }
    ok(code[0] == 0 && code[1] == 0, "two threads on moveable memory: %lu %lu bad", code[0], code[1]);
    ok(HeapValidate(GetProcessHeap(), 0, NULL), "process heap valid");
}

int main(void)
{
    harness_init();
    test_fixed();
    test_moveable();
    test_garbage();
    test_discarded();
    test_realloc();
    test_flags_variants();
    test_cross();
    test_kernelbase();
    test_threads();
    test_limit();
    return harness_done();
}
