/*
 * Conformance: HeapAlloc/HeapFree/HeapReAlloc/HeapSize and friends on the
 * process heap and on private heaps, plus the "cross matrix": blocks
 * allocated through kernel32, kernelbase or ntdll are sized, reallocated and
 * freed through each of the others (Wine's own DLLs reach the heap through
 * all three, so blocks cross between them on every program).
 */
#include "harness.h"

typedef void *(WINAPI *alloc_fn)(HANDLE, DWORD, SIZE_T);
typedef void *(WINAPI *realloc_fn)(HANDLE, DWORD, void *, SIZE_T);
typedef SIZE_T (WINAPI *size_fn)(HANDLE, DWORD, const void *);
/* HeapFree returns BOOL, RtlFreeHeap BOOLEAN: keep them apart. */
typedef BOOL (WINAPI *free_fn)(HANDLE, DWORD, void *);
typedef BOOLEAN (WINAPI *rtl_free_fn)(HANDLE, ULONG, void *);

struct heap_api
{
    const char *name;
    alloc_fn alloc;
    realloc_fn realloc;
    size_fn size;
    free_fn free;         /* kernel32 / kernelbase */
    rtl_free_fn rtl_free; /* ntdll */
};

static struct heap_api apis[3];

static BOOL api_free(const struct heap_api *api, HANDLE heap, DWORD flags, void *p)
{
    if (api->rtl_free) return api->rtl_free(heap, flags, p) != 0;
    return api->free(heap, flags, p);
}

static void load_apis(void)
{
    HMODULE kb = GetModuleHandleA("kernelbase.dll");
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    apis[0].name = "kernel32";
    apis[0].alloc = HeapAlloc;
    apis[0].realloc = HeapReAlloc;
    apis[0].size = HeapSize;
    apis[0].free = HeapFree;
    apis[1].name = "kernelbase";
    if (kb)
    {
        apis[1].alloc = (alloc_fn)(void *)GetProcAddress(kb, "HeapAlloc");
        apis[1].realloc = (realloc_fn)(void *)GetProcAddress(kb, "HeapReAlloc");
        apis[1].size = (size_fn)(void *)GetProcAddress(kb, "HeapSize");
        apis[1].free = (free_fn)(void *)GetProcAddress(kb, "HeapFree");
    }
    apis[2].name = "ntdll";
    apis[2].alloc = (alloc_fn)(void *)GetProcAddress(nt, "RtlAllocateHeap");
    apis[2].realloc = (realloc_fn)(void *)GetProcAddress(nt, "RtlReAllocateHeap");
    apis[2].size = (size_fn)(void *)GetProcAddress(nt, "RtlSizeHeap");
    apis[2].rtl_free = (rtl_free_fn)(void *)GetProcAddress(nt, "RtlFreeHeap");
    ok(apis[1].alloc && apis[1].realloc && apis[1].size && apis[1].free, "kernelbase exports the heap functions");
    ok(apis[2].alloc && apis[2].realloc && apis[2].size && apis[2].rtl_free, "ntdll exports the Rtl heap functions");
}

static int api_ready(const struct heap_api *a)
{
    return a->alloc && a->realloc && a->size && (a->free || a->rtl_free);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7);
}
static int same(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) if (p[i] != (unsigned char)(seed + i * 7)) return 0;
    return 1;
}
static int zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) if (p[i]) return 0;
    return 1;
}

static void test_basics(HANDLE heap, const char *what)
{
    unsigned char *p, *q, *blocks[64];
    SIZE_T size;
    BOOL ret;
    ULONG_PTR align = 0;
    static const SIZE_T sizes[] = { 1, 7, 8, 15, 16, 17, 24, 31, 32, 48, 64, 100, 128, 200, 256, 500, 512, 1000,
                                    1024, 2000, 4096, 5000, 8192, 16000, 65536, 100000, 0x7f000, 0x80000, 0x100000,
                                    0x400000 };

    harness_context(what);

    /* Zero-size blocks exist and have size 0. */
    p = HeapAlloc(heap, 0, 0);
    ok(p != NULL, "HeapAlloc size 0: error %lu", GetLastError());
    size = HeapSize(heap, 0, p);
    ok(size == 0, "HeapSize of a zero-size block %zu", size);
    ok(((ULONG_PTR)p & 15) == 0, "zero-size block %p is 16-byte aligned", p);
    ret = HeapFree(heap, 0, p);
    ok(ret, "HeapFree zero-size block: error %lu", GetLastError());

    /* Exact sizes, 16-byte alignment, distinct writable blocks. */
    for (size_t i = 0; i < ARRAYSIZE(sizes); i++)
    {
        p = HeapAlloc(heap, 0, sizes[i]);
        ok(p != NULL, "HeapAlloc(%zu): error %lu", sizes[i], GetLastError());
        if (!p) continue;
        ok(((ULONG_PTR)p & 15) == 0, "HeapAlloc(%zu) = %p is 16-byte aligned", sizes[i], p);
        size = HeapSize(heap, 0, p);
        ok(size == sizes[i], "HeapSize %zu, expected %zu", size, sizes[i]);
        fill(p, sizes[i], (unsigned)i);
        ok(same(p, sizes[i], (unsigned)i), "block of %zu bytes holds its contents", sizes[i]);
        ok(HeapFree(heap, 0, p), "HeapFree(%zu): error %lu", sizes[i], GetLastError());
    }
    for (size_t i = 0; i < ARRAYSIZE(blocks); i++)
    {
        blocks[i] = HeapAlloc(heap, 0, 24 + i);
        align |= (ULONG_PTR)blocks[i];
        if (blocks[i]) fill(blocks[i], 24 + i, (unsigned)i);
    }
    ok(!(align & 15), "64 small blocks are all 16-byte aligned");
    {
        int intact = 1;
        for (size_t i = 0; i < ARRAYSIZE(blocks); i++)
            if (!blocks[i] || !same(blocks[i], 24 + i, (unsigned)i)) intact = 0;
        ok(intact, "64 live small blocks do not overlap");
    }
    for (size_t i = 0; i < ARRAYSIZE(blocks); i++) HeapFree(heap, 0, blocks[i]);

    /* HEAP_ZERO_MEMORY, small and large; reuse of a dirty block too. */
    p = HeapAlloc(heap, 0, 256);
    if (p) memset(p, 0xee, 256);
    HeapFree(heap, 0, p);
    p = HeapAlloc(heap, HEAP_ZERO_MEMORY, 256);
    ok(p && zero(p, 256), "HEAP_ZERO_MEMORY 256 bytes are zero");
    HeapFree(heap, 0, p);
    p = HeapAlloc(heap, HEAP_ZERO_MEMORY, 1 << 20);
    ok(p && zero(p, 1 << 20), "HEAP_ZERO_MEMORY 1 MiB is zero");
    HeapFree(heap, 0, p);

    /* HeapFree(NULL pointer) succeeds. */
    SetLastError(0xdeadbeef);
    ok(HeapFree(heap, 0, NULL), "HeapFree(heap, NULL): error %lu", GetLastError());

    /* HeapReAlloc keeps the contents, growing and shrinking, small to large. */
    p = HeapAlloc(heap, 0, 40);
    ok(p != NULL, "HeapAlloc 40: error %lu", GetLastError());
    if (p)
    {
        fill(p, 40, 3);
        q = HeapReAlloc(heap, 0, p, 3000);
        ok(q != NULL && same(q, 40, 3), "HeapReAlloc 40 -> 3000 keeps the contents");
        ok(q && HeapSize(heap, 0, q) == 3000, "HeapSize after growth %zu", q ? HeapSize(heap, 0, q) : 0);
        if (q) { fill(q, 3000, 5); p = q; }
        q = HeapReAlloc(heap, 0, p, 0x300000);
        ok(q != NULL && same(q, 3000, 5), "HeapReAlloc 3000 -> 3 MiB keeps the contents");
        if (q) p = q;
        q = HeapReAlloc(heap, 0, p, 20);
        ok(q != NULL && same(q, 20, 5), "HeapReAlloc 3 MiB -> 20 keeps the contents");
        ok(q && HeapSize(heap, 0, q) == 20, "HeapSize after shrink %zu", q ? HeapSize(heap, 0, q) : 0);
        if (q) p = q;
        q = HeapReAlloc(heap, 0, p, 0);
        ok(q != NULL, "HeapReAlloc to 0 returns a block, error %lu", GetLastError());
        ok(q && HeapSize(heap, 0, q) == 0, "HeapSize after HeapReAlloc to 0");
        if (q) p = q;
        HeapFree(heap, 0, p);
    }

    /* HEAP_ZERO_MEMORY on HeapReAlloc zeroes the grown part only. */
    p = HeapAlloc(heap, 0, 100);
    if (p)
    {
        fill(p, 100, 9);
        q = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 5000);
        ok(q && same(q, 100, 9) && zero(q + 100, 4900), "HeapReAlloc HEAP_ZERO_MEMORY: old kept, new zero");
        if (q) p = q;
        q = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 200000);
        ok(q && same(q, 100, 9) && zero(q + 100, 200000 - 100),
           "HeapReAlloc HEAP_ZERO_MEMORY to 200000: old kept, new zero");
        if (q) p = q;
        HeapFree(heap, 0, p);
    }

    /* HEAP_REALLOC_IN_PLACE_ONLY: shrinking stays in place; a growth that
     * cannot be done in place fails with ERROR_NOT_ENOUGH_MEMORY and leaves
     * the block alone. */
    p = HeapAlloc(heap, 0, 1000);
    blocks[0] = HeapAlloc(heap, 0, 1000); /* a neighbour, likely right after */
    if (p)
    {
        fill(p, 1000, 11);
        q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 500);
        ok(q == p, "in-place shrink returned %p, expected %p (error %lu)", q, p, GetLastError());
        ok(HeapSize(heap, 0, p) == 500, "size after in-place shrink %zu", HeapSize(heap, 0, p));
        SetLastError(0xdeadbeef);
        q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 0x200000);
        ok(q == NULL, "in-place growth 500 -> 2 MiB fails");
        ok(GetLastError() == ERROR_NOT_ENOUGH_MEMORY, "in-place growth: error %lu, expected 8", GetLastError());
        ok(HeapSize(heap, 0, p) == 500 && same(p, 500, 11), "failed in-place growth left the block intact");
        HeapFree(heap, 0, p);
    }
    HeapFree(heap, 0, blocks[0]);

    /* Huge requests fail. */
    p = HeapAlloc(heap, 0, ~(SIZE_T)0 - 0x100);
    ok(p == NULL, "HeapAlloc(~0 - 0x100) fails");

    /* HeapValidate / HeapLock. */
    p = HeapAlloc(heap, 0, 64);
    ok(HeapValidate(heap, 0, p), "HeapValidate of a live block");
    ok(HeapValidate(heap, 0, NULL), "HeapValidate of the whole heap");
    HeapFree(heap, 0, p);
    ok(HeapLock(heap), "HeapLock: error %lu", GetLastError());
    ok(HeapUnlock(heap), "HeapUnlock: error %lu", GetLastError());
    harness_context(NULL);
}

static void test_realloc_null(void)
{
    void *p;
    /* HeapReAlloc of NULL fails, and Windows sets the last error to
     * NO_ERROR (Wine's heap tests record this). */
    SetLastError(0xdeadbeef);
    p = HeapReAlloc(GetProcessHeap(), 0, NULL, 10);
    ok(p == NULL, "HeapReAlloc(NULL) fails");
    todo_wine ok(GetLastError() == NO_ERROR, "HeapReAlloc(NULL): error %lu, expected 0", GetLastError());
}

static void test_private_heaps(void)
{
    HANDLE heap, heaps[64];
    DWORD before, after;
    void *p;

    before = GetProcessHeaps(ARRAYSIZE(heaps), heaps);
    ok(before >= 1 && before <= ARRAYSIZE(heaps), "GetProcessHeaps returned %lu", before);
    ok(heaps[0] == GetProcessHeap(), "the process heap comes first (%p vs %p)", heaps[0], GetProcessHeap());

    /* The process heap cannot be destroyed: kernel32 turns RtlDestroyHeap's
     * refusal into ERROR_INVALID_HANDLE, and the heap still works. */
    SetLastError(0xdeadbeef);
    ok(!HeapDestroy(GetProcessHeap()), "HeapDestroy of the process heap succeeded");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "HeapDestroy of the process heap: error %lu", GetLastError());
    p = HeapAlloc(GetProcessHeap(), 0, 100);
    ok(p != NULL && HeapFree(GetProcessHeap(), 0, p), "the process heap after HeapDestroy: error %lu",
       GetLastError());

    heap = HeapCreate(0, 0, 0);
    ok(heap != NULL, "HeapCreate growable: error %lu", GetLastError());
    if (!heap) return;
    ok(!((ULONG_PTR)heap & 0xffff), "heap handle %p is 64 KiB aligned", heap);
    after = GetProcessHeaps(ARRAYSIZE(heaps), heaps);
    ok(after == before + 1, "GetProcessHeaps %lu after HeapCreate, expected %lu", after, before + 1);
    {
        int found = 0;
        for (DWORD i = 0; i < after && i < ARRAYSIZE(heaps); i++) found |= heaps[i] == heap;
        ok(found, "GetProcessHeaps lists the new heap");
    }
    test_basics(heap, "HeapCreate(0,0,0)");
    ok(HeapDestroy(heap), "HeapDestroy: error %lu", GetLastError());
    after = GetProcessHeaps(ARRAYSIZE(heaps), heaps);
    ok(after == before, "GetProcessHeaps %lu after HeapDestroy, expected %lu", after, before);

    /* HeapDestroy releases the memory of live blocks. */
    heap = HeapCreate(0, 0, 0);
    p = heap ? HeapAlloc(heap, 0, 0x200000) : NULL;
    ok(p != NULL, "large block in a private heap: error %lu", GetLastError());
    if (heap)
    {
        MEMORY_BASIC_INFORMATION m;
        ok(HeapDestroy(heap), "HeapDestroy with live blocks: error %lu", GetLastError());
        ok(VirtualQuery(p, &m, sizeof(m)) == sizeof(m) && m.State == MEM_FREE,
           "a large block's memory is free after HeapDestroy (State %#lx)", m.State);
        ok(VirtualQuery(heap, &m, sizeof(m)) == sizeof(m) && m.State == MEM_FREE,
           "the heap's memory is free after HeapDestroy (State %#lx)", m.State);
    }

    /* A destroyed heap's small blocks are gone too: touching them faults,
     * also when the next heap is made at once (memshim keeps the pages of
     * a destroyed heap for the next one, inaccessible until then). */
    heap = HeapCreate(0, 0, 0);
    p = heap ? HeapAlloc(heap, 0, 100) : NULL;
    ok(p != NULL, "small block in a private heap: error %lu", GetLastError());
    if (p)
    {
        MEMORY_BASIC_INFORMATION m;
        HANDLE next;
        memset(p, 0x5A, 100);
        ok(HeapDestroy(heap), "HeapDestroy: error %lu", GetLastError());
        ok(VirtualQuery(p, &m, sizeof(m)) == sizeof(m) && m.State == MEM_FREE,
           "a small block's memory is free after HeapDestroy (State %#lx)", m.State);
        ok(probe_read(p), "reading a block of a destroyed heap faults");
        ok(probe_write(p, 1), "writing a block of a destroyed heap faults");
        next = HeapCreate(0, 0, 0);
        ok(next != NULL, "HeapCreate after HeapDestroy: error %lu", GetLastError());
        if (next)
        {
            unsigned char *q = HeapAlloc(next, HEAP_ZERO_MEMORY, 100);
            int zero = q != NULL;
            for (int i = 0; q && i < 100; i++) zero &= q[i] == 0;
            ok(zero, "HEAP_ZERO_MEMORY block of the next heap is zero");
            ok(q && HeapSize(next, 0, q) == 100 && HeapValidate(next, 0, NULL), "the next heap works");
            ok(HeapDestroy(next), "HeapDestroy of the next heap: error %lu", GetLastError());
        }
    }

    /* A fixed-size heap refuses what does not fit. */
    heap = HeapCreate(0, 0x10000, 0x10000);
    ok(heap != NULL, "HeapCreate fixed 64 KiB: error %lu", GetLastError());
    if (heap)
    {
        p = HeapAlloc(heap, 0, 0x20000);
        ok(p == NULL, "0x20000 bytes do not fit in a 64 KiB fixed heap");
        p = HeapAlloc(heap, 0, 100);
        ok(p != NULL, "100 bytes fit in a 64 KiB fixed heap: error %lu", GetLastError());
        ok(HeapDestroy(heap), "HeapDestroy fixed: error %lu", GetLastError());
    }

    /* HEAP_NO_SERIALIZE heaps work too. */
    heap = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
    ok(heap != NULL, "HeapCreate HEAP_NO_SERIALIZE: error %lu", GetLastError());
    if (heap)
    {
        p = HeapAlloc(heap, 0, 10);
        ok(p != NULL && HeapSize(heap, 0, p) == 10, "HEAP_NO_SERIALIZE block");
        ok(HeapDestroy(heap), "HeapDestroy: error %lu", GetLastError());
    }
}

/* The matrix on one heap: allocate with A; size, reallocate and free with B. */
static void test_cross_matrix(HANDLE heap, const char *heap_name)
{
    char ctx[128];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
        {
            const struct heap_api *A = &apis[a], *B = &apis[b];
            unsigned char *p, *q;
            SIZE_T s;
            BOOL ret;

            snprintf(ctx, sizeof(ctx), "%s: alloc %s, use %s", heap_name, A->name, B->name);
            harness_context(ctx);
            if (!api_ready(A) || !api_ready(B))
            {
                skip("%s: function missing", ctx);
                continue;
            }
            for (int big = 0; big < 2; big++)
            {
                SIZE_T n = big ? 0x180000 : 100, n2 = big ? 0x300000 : 5000;
                SetLastError(0xdeadbeef);
                p = A->alloc(heap, 0, n);
                ok(p != NULL, "alloc %zu", n);
                if (!p) continue;
                fill(p, n, a * 3 + b);
                s = B->size(heap, 0, p);
                ok(s == n, "size of a %zu-byte block: %zu", n, s);
                q = B->realloc(heap, 0, p, n2);
                ok(q != NULL, "realloc %zu -> %zu, error %lu", n, n2, GetLastError());
                if (!q) { api_free(A, heap, 0, p); continue; }
                ok(same(q, n, a * 3 + b), "contents survive realloc %zu -> %zu", n, n2);
                for (int c = 0; c < 3; c++)
                    if (api_ready(&apis[c]))
                        ok(apis[c].size(heap, 0, q) == n2, "size through %s after realloc: %zu, expected %zu",
                           apis[c].name, apis[c].size(heap, 0, q), n2);
                /* and back through A */
                p = A->realloc(heap, 0, q, n / 2 + 1);
                ok(p != NULL && same(p, n / 2 + 1, a * 3 + b), "realloc back through %s keeps contents", A->name);
                if (!p) p = q;
                SetLastError(0xdeadbeef);
                ret = api_free(B, heap, 0, p);
                ok(ret, "free, error %lu", GetLastError());
            }
            /* HEAP_ZERO_MEMORY through A, read through B. */
            p = A->alloc(heap, HEAP_ZERO_MEMORY, 3000);
            ok(p && zero(p, 3000) && B->size(heap, 0, p) == 3000, "zeroed block of 3000");
            if (p) ok(api_free(B, heap, 0, p), "free zeroed block, error %lu", GetLastError());
        }
    harness_context(NULL);
    ok(HeapValidate(heap, 0, NULL), "%s: heap valid after the matrix", heap_name);
}

/* Blocks the C runtime got before main() (from whichever heap it uses) are
 * freed by it afterwards: malloc/realloc/free round trip. */
static void test_crt(void)
{
    char *p = malloc(100), *q;
    ok(p != NULL, "malloc");
    if (!p) return;
    memset(p, 'x', 100);
    q = realloc(p, 100000);
    ok(q && q[99] == 'x', "realloc keeps contents");
    free(q ? q : p);
}

/* Pointers that are no block of any heap, given to HeapFree, HeapSize,
 * HeapReAlloc and HeapValidate of the process heap and of a private one:
 * each call fails (ERROR_INVALID_PARAMETER where it sets an error) and
 * nothing faults. Checked on memshim only: Wine's heap reads the header
 * it expects before such a pointer and faults (0x10000, a reservation). */
static void test_bad_pointers(void)
{
    if (!memshim_only("Wine's heap faults on some pointers that are no block"))
        return;
    char stack[64] = { 0 };
    HANDLE priv = HeapCreate(0, 0, 0);
    char *block = HeapAlloc(GetProcessHeap(), 0, 100);
    char *va = VirtualAlloc(NULL, GRAN, MEM_COMMIT, PAGE_READWRITE);
    char *reserved = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    ok(priv && block && va && reserved, "setup: error %lu", GetLastError());
    if (!priv || !block || !va || !reserved) return;
    memset(block, 0x5a, 100);
    void *const bad[] = { (void *)0x1234, (void *)0x10000, stack + 16, block + 16, block + 1, va, va + 16,
                          reserved, reserved + PAGE, (void *)0x7ffe00000000 };
    const HANDLE heaps[] = { GetProcessHeap(), priv };
    for (size_t h = 0; h < ARRAYSIZE(heaps); h++)
        for (size_t i = 0; i < ARRAYSIZE(bad); i++)
        {
            SetLastError(0xdeadbeef);
            ok(!HeapFree(heaps[h], 0, bad[i]), "heap %zu: HeapFree(%p) succeeded", h, bad[i]);
            ok(GetLastError() == ERROR_INVALID_PARAMETER, "heap %zu: HeapFree(%p): error %lu", h, bad[i],
               GetLastError());
            SetLastError(0xdeadbeef);
            ok(HeapSize(heaps[h], 0, bad[i]) == (SIZE_T)-1, "heap %zu: HeapSize(%p)", h, bad[i]);
            ok(GetLastError() == ERROR_INVALID_PARAMETER, "heap %zu: HeapSize(%p): error %lu", h, bad[i],
               GetLastError());
            SetLastError(0xdeadbeef);
            ok(!HeapReAlloc(heaps[h], 0, bad[i], 10), "heap %zu: HeapReAlloc(%p) succeeded", h, bad[i]);
            ok(GetLastError() == ERROR_INVALID_PARAMETER, "heap %zu: HeapReAlloc(%p): error %lu", h, bad[i],
               GetLastError());
            ok(!HeapValidate(heaps[h], 0, bad[i]), "heap %zu: HeapValidate(%p) succeeded", h, bad[i]);
        }
    int intact = 1;
    for (int i = 0; i < 100; i++) intact &= (unsigned char)block[i] == 0x5a;
    ok(intact && HeapSize(GetProcessHeap(), 0, block) == 100, "the block next to the bad pointers is intact");
    ok(HeapFree(GetProcessHeap(), 0, block), "HeapFree of the block: error %lu", GetLastError());
    ok(HeapValidate(GetProcessHeap(), 0, NULL) && HeapValidate(priv, 0, NULL), "both heaps are valid");
    HeapDestroy(priv);
    VirtualFree(va, 0, MEM_RELEASE);
    VirtualFree(reserved, 0, MEM_RELEASE);
}

/* A block freed twice, and sized after its free, through each of
 * kernel32, kernelbase and ntdll (HeapFree is RtlFreeHeap on Windows): the
 * call fails with ERROR_INVALID_PARAMETER, whichever path, and the heap
 * stays valid. */
static void test_freed_block_every_path(void)
{
    HANDLE priv = HeapCreate(0, 0, 0);
    const HANDLE heaps[] = { GetProcessHeap(), priv };
    ok(priv != NULL, "HeapCreate: error %lu", GetLastError());
    for (size_t h = 0; h < ARRAYSIZE(heaps) && priv; h++)
        for (size_t a = 0; a < ARRAYSIZE(apis); a++)
        {
            const struct heap_api *api = &apis[a];
            if (!api_ready(api)) continue;
            void *p = api->alloc(heaps[h], 0, 200);
            ok(p != NULL, "%s heap %zu: alloc: error %lu", api->name, h, GetLastError());
            if (!p) continue;
            ok(api_free(api, heaps[h], 0, p), "%s heap %zu: free: error %lu", api->name, h, GetLastError());
            SetLastError(0xdeadbeef);
            ok(!api_free(api, heaps[h], 0, p) && GetLastError() == ERROR_INVALID_PARAMETER,
               "%s heap %zu: second free: error %lu", api->name, h, GetLastError());
            SetLastError(0xdeadbeef);
            ok(api->size(heaps[h], 0, p) == (SIZE_T)-1 && GetLastError() == ERROR_INVALID_PARAMETER,
               "%s heap %zu: size of a freed block: error %lu", api->name, h, GetLastError());
            ok(HeapValidate(heaps[h], 0, NULL), "%s heap %zu: the heap is valid", api->name, h);
        }
    if (priv) HeapDestroy(priv);
}

/* A destroyed heap's handle given to every call that takes a heap, and
 * handles that never were heaps: each call fails, nothing faults, and the
 * process heap goes on. Checked on memshim only: Windows' and Wine's heaps
 * read the header they expect at the handle and fault. */
static void test_bad_heap_handles(void)
{
    if (!memshim_only("a destroyed heap's handle faults on Windows and Wine"))
        return;
    HANDLE heap = HeapCreate(0, 0, 0);
    ok(heap != NULL, "HeapCreate: error %lu", GetLastError());
    if (!heap) return;
    void *block = HeapAlloc(heap, 0, 40), *big = HeapAlloc(heap, 0, 0x180000);
    ok(block && big, "HeapAlloc: error %lu", GetLastError());
    ok(HeapDestroy(heap), "HeapDestroy: error %lu", GetLastError());

    SetLastError(0xdeadbeef);
    ok(!HeapAlloc(heap, 0, 10), "HeapAlloc from a destroyed heap succeeded");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "HeapAlloc: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!HeapFree(heap, 0, block), "HeapFree of a block of a destroyed heap succeeded");
    ok(GetLastError() == ERROR_INVALID_PARAMETER, "HeapFree: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!HeapFree(heap, 0, big), "HeapFree of a large block of a destroyed heap succeeded");
    SetLastError(0xdeadbeef);
    ok(HeapSize(heap, 0, block) == (SIZE_T)-1, "HeapSize through a destroyed heap");
    ok(!HeapReAlloc(heap, 0, block, 80), "HeapReAlloc through a destroyed heap succeeded");
    ok(!HeapValidate(heap, 0, NULL), "HeapValidate of a destroyed heap succeeded");
    ok(!HeapLock(heap), "HeapLock of a destroyed heap succeeded");
    PROCESS_HEAP_ENTRY entry = { 0 };
    ok(!HeapWalk(heap, &entry), "HeapWalk of a destroyed heap succeeded");
    ok(HeapCompact(heap, 0) == 0, "HeapCompact of a destroyed heap");
    HEAP_SUMMARY summary;
    memset(&summary, 0, sizeof(summary));
    summary.cb = sizeof(summary);
    ok(!HeapSummary(heap, 0, &summary), "HeapSummary of a destroyed heap succeeded");
    ULONG info = 0;
    SIZE_T needed = 0;
    HeapQueryInformation(heap, HeapCompatibilityInformation, &info, sizeof(info), &needed);
    SetLastError(0xdeadbeef);
    ok(!HeapDestroy(heap), "HeapDestroy twice succeeded");
    ok(GetLastError() == ERROR_INVALID_HANDLE, "HeapDestroy twice: error %lu", GetLastError());

    /* Handles that never were heaps: unmapped memory, the stack. */
    char stack[64] = { 0 };
    void *p = HeapAlloc(GetProcessHeap(), 0, 100);
    const HANDLE bogus[] = { (HANDLE)0x1234, (HANDLE)stack, (HANDLE)0x7ffe00000000 };
    for (size_t i = 0; i < ARRAYSIZE(bogus); i++)
    {
        SetLastError(0xdeadbeef);
        ok(!HeapAlloc(bogus[i], 0, 10), "HeapAlloc(%p) succeeded", bogus[i]);
        ok(GetLastError() == ERROR_INVALID_HANDLE, "HeapAlloc(%p): error %lu", bogus[i], GetLastError());
        ok(!HeapFree(bogus[i], 0, p), "HeapFree(%p) of a process heap block succeeded", bogus[i]);
        ok(!HeapValidate(bogus[i], 0, NULL), "HeapValidate(%p) succeeded", bogus[i]);
        ok(!HeapDestroy(bogus[i]), "HeapDestroy(%p) succeeded", bogus[i]);
    }
    ok(p && HeapFree(GetProcessHeap(), 0, p), "the process heap afterwards: error %lu", GetLastError());
    ok(HeapValidate(GetProcessHeap(), 0, NULL), "the process heap is valid");
}

/* A block given to another heap's HeapFree, HeapReAlloc, HeapSize or
 * HeapValidate: memshim refuses with ERROR_INVALID_PARAMETER, and the block
 * stays live in its own heap. Both ways between the process heap and a
 * private one, for a small and a large block. Checked on memshim only:
 * Windows' heaps report such a call as corruption at best, and Wine 8.0
 * frees a process-heap block into the private heap and crashes later. */
static void test_wrong_heap(void)
{
    if (!memshim_only("a block freed through another heap corrupts Windows' and Wine's heaps"))
        return;
    HANDLE priv = HeapCreate(0, 0, 0);
    ok(priv != NULL, "HeapCreate: error %lu", GetLastError());
    if (!priv) return;
    for (int big = 0; big < 2; big++)
        for (int dir = 0; dir < 2; dir++)
        {
            HANDLE owner = dir ? priv : GetProcessHeap(), other = dir ? GetProcessHeap() : priv;
            SIZE_T n = big ? 0x180000 : 100;
            unsigned char *p = HeapAlloc(owner, 0, n);
            ok(p != NULL, "alloc %zu: error %lu", n, GetLastError());
            if (!p) continue;
            fill(p, n, 7);
            SetLastError(0xdeadbeef);
            BOOL ret = HeapFree(other, 0, p);
            CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "HeapFree through the other heap");
            SetLastError(0xdeadbeef);
            void *q = HeapReAlloc(other, 0, p, n + 64);
            CHECK_FAIL(q, ERROR_INVALID_PARAMETER, "HeapReAlloc through the other heap");
            SetLastError(0xdeadbeef);
            ok(HeapSize(other, 0, p) == (SIZE_T)-1 && GetLastError() == ERROR_INVALID_PARAMETER,
               "HeapSize through the other heap: error %lu", GetLastError());
            ok(!HeapValidate(other, 0, p), "HeapValidate through the other heap");
            ok(HeapSize(owner, 0, p) == n && same(p, n, 7), "the %zu-byte block is live and intact in its heap", n);
            ok(HeapValidate(owner, 0, NULL) && HeapValidate(other, 0, NULL), "both heaps valid");
            ok(HeapFree(owner, 0, p), "HeapFree through its own heap: error %lu", GetLastError());
        }
    ok(HeapDestroy(priv), "HeapDestroy: error %lu", GetLastError());
}

/* A private heap made and used by one thread, then used by two more at
 * once while its maker walks it under HeapLock: every block keeps its
 * bytes, the walk sees only consistent entries, the heap validates. (On
 * memshim the maker holds such a heap without its lock until another
 * thread uses it: this is the hand-over, under Wine.) */
#define SHARED_OPS 20000

struct shared_heap_run {
    HANDLE heap, go;
    LONG bad;
    int id;
};

static DWORD WINAPI shared_heap_worker(void *arg)
{
    struct shared_heap_run *run = arg;
    int id = InterlockedIncrement((LONG *)&run->id);
    unsigned char *slots[32] = { 0 };
    SIZE_T sizes[32] = { 0 };
    unsigned x = 2654435761u * (unsigned)id;
    WaitForSingleObject(run->go, INFINITE);
    for (int i = 0; i < SHARED_OPS; i++) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 8) % 32;
        if (slots[k]) {
            if (HeapSize(run->heap, 0, slots[k]) != sizes[k] || !same(slots[k], sizes[k], id))
                InterlockedIncrement(&run->bad);
            if (!HeapFree(run->heap, 0, slots[k]))
                InterlockedIncrement(&run->bad);
            slots[k] = NULL;
        } else {
            sizes[k] = 1 + (x >> 16) % 2000;
            slots[k] = HeapAlloc(run->heap, 0, sizes[k]);
            if (slots[k])
                fill(slots[k], sizes[k], id);
            else
                InterlockedIncrement(&run->bad);
        }
    }
    for (int k = 0; k < 32; k++)
        if (slots[k] && !HeapFree(run->heap, 0, slots[k]))
            InterlockedIncrement(&run->bad);
    return 0;
}

static void test_private_heap_threads(void)
{
    struct shared_heap_run run = { HeapCreate(0, 0, 0), CreateEventA(NULL, TRUE, FALSE, NULL), 0, 0 };
    unsigned char *mine[64];
    HANDLE threads[2];
    ok(run.heap && run.go, "setup: error %lu", GetLastError());
    if (!run.heap) return;
    for (int i = 0; i < 64; i++) {
        mine[i] = HeapAlloc(run.heap, 0, 16 + i * 8);
        if (mine[i]) fill(mine[i], 16 + i * 8, 0xA5);
    }
    for (int i = 0; i < 2; i++)
        threads[i] = CreateThread(NULL, 0, shared_heap_worker, &run, 0, NULL);
    SetEvent(run.go);
    int walks = 0, bad_walks = 0;
    while (WaitForMultipleObjects(2, threads, TRUE, 0) == WAIT_TIMEOUT) {
        PROCESS_HEAP_ENTRY entry = { 0 };
        ok(HeapLock(run.heap), "HeapLock: error %lu", GetLastError());
        while (HeapWalk(run.heap, &entry))
            bad_walks += (entry.wFlags & PROCESS_HEAP_ENTRY_BUSY) && !entry.cbData && entry.lpData == NULL;
        bad_walks += GetLastError() != ERROR_NO_MORE_ITEMS;
        ok(HeapUnlock(run.heap), "HeapUnlock: error %lu", GetLastError());
        walks++;
        Sleep(1);
    }
    ok(run.bad == 0, "%ld blocks lost their bytes or size, or calls failed, in the two threads", run.bad);
    ok(bad_walks == 0, "%d of %d walks under HeapLock ended wrongly or showed a broken entry", bad_walks, walks);
    for (int i = 0; i < 64; i++)
        ok(mine[i] && HeapSize(run.heap, 0, mine[i]) == (SIZE_T)(16 + i * 8) && same(mine[i], 16 + i * 8, 0xA5),
           "the maker's block %d is intact", i);
    ok(HeapValidate(run.heap, 0, NULL), "the heap validates after the threads");
    for (int i = 0; i < 2; i++) CloseHandle(threads[i]);
    CloseHandle(run.go);
    ok(HeapDestroy(run.heap), "HeapDestroy: error %lu", GetLastError());
}

int main(void)
{
    HANDLE priv;
    harness_init();
    load_apis();
    ok(GetProcessHeap() != NULL, "GetProcessHeap");
    ok(HeapFree(NULL, 0, NULL), "HeapFree(NULL, 0, NULL) succeeds");
    test_basics(GetProcessHeap(), "process heap");
    test_realloc_null();
    test_private_heaps();
    test_wrong_heap();
    test_bad_heap_handles();
    test_bad_pointers();
    test_freed_block_every_path();
    test_private_heap_threads();
    test_cross_matrix(GetProcessHeap(), "process heap");
    priv = HeapCreate(0, 0, 0);
    ok(priv != NULL, "HeapCreate for the matrix: error %lu", GetLastError());
    if (priv)
    {
        test_cross_matrix(priv, "private heap");
        ok(HeapDestroy(priv), "HeapDestroy: error %lu", GetLastError());
    }
    test_crt();
    ok(HeapValidate(GetProcessHeap(), 0, NULL), "process heap valid at the end");
    return harness_done();
}
