/*
 * Conformance: VirtualAlloc/VirtualFree/VirtualProtect/VirtualQuery and
 * friends, checked against the results native Windows (x64, Windows 10/11)
 * gives. Known deviations of Wine 8.0's builtin kernel32 are marked
 * todo_wine; on memshim every check is strict.
 */
#include "harness.h"


static MEMORY_BASIC_INFORMATION mbi;

static int query(const void *p)
{
    memset(&mbi, 0xcc, sizeof(mbi));
    return VirtualQuery(p, &mbi, sizeof(mbi)) == sizeof(mbi);
}

/* Compare a whole MEMORY_BASIC_INFORMATION in one check per field. */
static void check_mbi(int line, const void *p, const void *base, const void *alloc_base, DWORD alloc_prot,
                      SIZE_T size, DWORD state, DWORD prot, DWORD type)
{
    int r = query(p);
    harness_ok(r, __FILE__, line, "VirtualQuery(%p) returned the full size, error %lu", p, GetLastError());
    if (!r) return;
    harness_ok(mbi.BaseAddress == base, __FILE__, line, "BaseAddress %p, expected %p", mbi.BaseAddress, base);
    harness_ok(mbi.AllocationBase == alloc_base, __FILE__, line, "AllocationBase %p, expected %p",
               mbi.AllocationBase, alloc_base);
    harness_ok(mbi.AllocationProtect == alloc_prot, __FILE__, line, "AllocationProtect %#lx, expected %#lx",
               mbi.AllocationProtect, alloc_prot);
    harness_ok(mbi.RegionSize == size, __FILE__, line, "RegionSize %#zx, expected %#zx", mbi.RegionSize, size);
    harness_ok(mbi.State == state, __FILE__, line, "State %#lx, expected %#lx", mbi.State, state);
    harness_ok(mbi.Protect == prot, __FILE__, line, "Protect %#lx, expected %#lx", mbi.Protect, prot);
    harness_ok(mbi.Type == type, __FILE__, line, "Type %#lx, expected %#lx", mbi.Type, type);
}
#define CHECK_MBI(p, base, ab, ap, size, state, prot, type) \
    check_mbi(__LINE__, p, base, ab, ap, size, state, prot, type)


static void test_basic_reserve_commit(void)
{
    char *a, *b;
    DWORD old;
    BOOL ret;

    SetLastError(0xdeadbeef);
    a = VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_NOACCESS);
    CHECK_FAIL(a, ERROR_INVALID_PARAMETER, "VirtualAlloc size 0");

    a = VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
    ok(a != NULL, "reserve 0xFFFC: error %lu", GetLastError());
    if (!a) return;
    ok(!((ULONG_PTR)a & (GRAN - 1)), "reservation %p is 64 KiB aligned", a);
    CHECK_MBI(a, a, a, PAGE_NOACCESS, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, 0xFFFC, PAGE_READONLY, &old);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "VirtualProtect of reserved pages");

    b = VirtualAlloc(a, PAGE, MEM_COMMIT, PAGE_NOACCESS);
    ok(b == a, "commit first page returned %p, expected %p", b, a);
    CHECK_MBI(a, a, a, PAGE_NOACCESS, PAGE, MEM_COMMIT, PAGE_NOACCESS, MEM_PRIVATE);
    CHECK_MBI(a + PAGE, a + PAGE, a, PAGE_NOACCESS, GRAN - PAGE, MEM_RESERVE, 0, MEM_PRIVATE);

    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, 0xFFFC, PAGE_READONLY, &old);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "VirtualProtect over committed+reserved pages");

    old = 0xdeadbeef;
    ok(VirtualProtect(a, PAGE, PAGE_READONLY, &old), "VirtualProtect READONLY: error %lu", GetLastError());
    ok(old == PAGE_NOACCESS, "old protection %#lx, expected PAGE_NOACCESS", old);
    old = 0xdeadbeef;
    ok(VirtualProtect(a, PAGE, PAGE_READWRITE, &old), "VirtualProtect READWRITE: error %lu", GetLastError());
    ok(old == PAGE_READONLY, "old protection %#lx, expected PAGE_READONLY", old);
    CHECK_MBI(a, a, a, PAGE_NOACCESS, PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* VirtualProtect needs a place to store the old protection. */
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, PAGE_READONLY, NULL);
    CHECK_FAIL(ret, ERROR_NOACCESS, "VirtualProtect with NULL old-protection pointer");

    /* Committing over committed pages keeps their contents. */
    memset(a, 0x55, 64);
    b = VirtualAlloc(a, PAGE, MEM_COMMIT, PAGE_READWRITE);
    ok(b == a, "re-commit returned %p, expected %p, error %lu", b, a, GetLastError());
    ok(*(DWORD *)a == 0x55555555, "re-commit kept the contents: %#lx", *(DWORD *)a);

    /* Committing past the end of the reservation fails. */
    SetLastError(0xdeadbeef);
    b = VirtualAlloc(a + GRAN - PAGE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    CHECK_FAIL(b, ERROR_INVALID_ADDRESS, "commit beyond the end of the reservation");

    /* Reserving over an existing reservation fails. */
    SetLastError(0xdeadbeef);
    b = VirtualAlloc(a, PAGE, MEM_RESERVE, PAGE_READWRITE);
    CHECK_FAIL(b, ERROR_INVALID_ADDRESS, "reserve at an address already reserved");

    /* VirtualFree parameter checks. */
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, GRAN, 0);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualFree type 0");
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, 0, MEM_FREE);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualFree type MEM_FREE");
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, 0, MEM_DECOMMIT | MEM_RELEASE);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualFree MEM_DECOMMIT|MEM_RELEASE");

    /* Decommit a range spanning committed and reserved pages. */
    ok(VirtualFree(a, GRAN, MEM_DECOMMIT), "decommit whole reservation: error %lu", GetLastError());
    /* Wine 8.0 keeps the once-committed page a region of its own. */
    todo_wine CHECK_MBI(a, a, a, PAGE_NOACCESS, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, 1, MEM_RELEASE);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "MEM_RELEASE with nonzero size");
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a + PAGE, 0, MEM_RELEASE);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "MEM_RELEASE not at the allocation base");

    SetLastError(0xdeadbeef);
    ret = VirtualFree(a + PAGE + 0x10, 0, MEM_DECOMMIT);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "whole MEM_DECOMMIT from the second page");
    /* Windows compares page numbers: an address inside the first page
     * names the allocation, for a whole decommit and for a release. */
    ok(VirtualAlloc(a, PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "recommit: error %lu", GetLastError());
    ok(VirtualFree(a + 0x242, 0, MEM_DECOMMIT), "whole MEM_DECOMMIT from base + 0x242: error %lu", GetLastError());
    todo_wine CHECK_MBI(a, a, a, PAGE_NOACCESS, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    ok(VirtualFree(a + PAGE - 1, 0, MEM_RELEASE), "release from base + 0xfff: error %lu", GetLastError());
    ok(query(a) && mbi.State == MEM_FREE, "released memory is MEM_FREE (state %#lx)", mbi.State);
    ok(mbi.AllocationBase == NULL && mbi.AllocationProtect == 0 && mbi.Type == 0,
       "free region: AllocationBase %p AllocationProtect %#lx Type %#lx", mbi.AllocationBase,
       mbi.AllocationProtect, mbi.Type);
    ok(mbi.Protect == PAGE_NOACCESS, "free region Protect %#lx, expected PAGE_NOACCESS", mbi.Protect);

    /* Windows: STATUS_MEMORY_NOT_ALLOCATED (free) and STATUS_CONFLICTING_ADDRESSES
     * (protect), both ERROR_INVALID_ADDRESS; Wine 8.0 says ERROR_INVALID_PARAMETER. */
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, 0, MEM_RELEASE);
    todo_wine CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "double MEM_RELEASE");
    SetLastError(0xdeadbeef);
    ret = VirtualFree(a, PAGE, MEM_DECOMMIT);
    todo_wine CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "MEM_DECOMMIT of free memory");
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, PAGE_READWRITE, &old);
    todo_wine CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "VirtualProtect of free memory");

    /* The freed range is placed again: an explicit request for it succeeds. */
    b = VirtualAlloc(a, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(b == a, "allocation at the released address returned %p, expected %p", b, a);
    if (b) VirtualFree(b, 0, MEM_RELEASE);
}

static void test_bad_params(void)
{
    void *a, *p;
    DWORD old;
    BOOL ret;

    a = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!a) return;

    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_RESERVE, 0);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "reserve with protection 0");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_COMMIT, 0);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "commit with protection 0");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(a, PAGE, MEM_COMMIT, PAGE_READONLY | PAGE_EXECUTE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "two base protections at once");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_COMMIT, PAGE_NOACCESS | PAGE_GUARD);
    /* "PAGE_GUARD cannot be used with PAGE_NOACCESS" (docs); Wine 8.0 accepts it. */
    todo_wine CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "PAGE_NOACCESS|PAGE_GUARD");
    if (p) VirtualFree(p, 0, MEM_RELEASE);
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, 0, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "allocation type 0");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_TOP_DOWN, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "MEM_TOP_DOWN alone");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_COMMIT | 0x00000004, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "unknown allocation type bit");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(a, PAGE, MEM_RESERVE | MEM_COMMIT | 0x80000000 /* AT_ROUND_TO_PAGE */, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "AT_ROUND_TO_PAGE");

    /* PAGE_WRITECOPY / PAGE_EXECUTE_WRITECOPY are for mapped memory only. */
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_WRITECOPY);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "VirtualAlloc PAGE_WRITECOPY");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_WRITECOPY);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "VirtualAlloc PAGE_EXECUTE_WRITECOPY");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(a, PAGE, MEM_COMMIT, PAGE_WRITECOPY);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "MEM_COMMIT PAGE_WRITECOPY into private memory");
    SetLastError(0xdeadbeef);
    p = VirtualAlloc((char *)a + PAGE, PAGE, MEM_COMMIT, PAGE_EXECUTE_WRITECOPY);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "MEM_COMMIT PAGE_EXECUTE_WRITECOPY into private memory");
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, PAGE_WRITECOPY, &old);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualProtect PAGE_WRITECOPY on private memory");
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, PAGE_EXECUTE_WRITECOPY, &old);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualProtect PAGE_EXECUTE_WRITECOPY on private memory");
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY, &old);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualProtect two base protections");
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(a, PAGE, 0, &old);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualProtect protection 0");
    ok(query(a) && mbi.Protect == PAGE_READWRITE, "failed VirtualProtect calls left Protect %#lx", mbi.Protect);

    /* A size that cannot be satisfied. */
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, ~(SIZE_T)0 - 0xffff, MEM_RESERVE, PAGE_READWRITE);
    ok(!p, "huge reservation should fail");
    ok(GetLastError() == ERROR_NOT_ENOUGH_MEMORY || GetLastError() == ERROR_INVALID_PARAMETER,
       "huge reservation: error %lu, expected ERROR_NOT_ENOUGH_MEMORY or ERROR_INVALID_PARAMETER",
       GetLastError());

    /* Kernel addresses. */
    SetLastError(0xdeadbeef);
    p = VirtualAlloc((void *)0xFFFF800000000000ull, PAGE, MEM_RESERVE, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "reserve at a kernel address");
    SetLastError(0xdeadbeef);
    ok(VirtualQuery((void *)0xFFFF800000000000ull, &mbi, sizeof(mbi)) == 0,
       "VirtualQuery of a kernel address returns 0");
    ok(GetLastError() == ERROR_INVALID_PARAMETER, "VirtualQuery of a kernel address: error %lu, expected 87",
       GetLastError());

    /* Ex variants on a NULL handle. */
    SetLastError(0xdeadbeef);
    p = VirtualAllocEx(NULL, NULL, PAGE, MEM_COMMIT, PAGE_READWRITE);
    CHECK_FAIL(p, ERROR_INVALID_HANDLE, "VirtualAllocEx(NULL handle)");
    SetLastError(0xdeadbeef);
    ret = VirtualFreeEx(NULL, a, 0, MEM_RELEASE);
    CHECK_FAIL(ret, ERROR_INVALID_HANDLE, "VirtualFreeEx(NULL handle)");

    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

static void test_rounding(void)
{
    char *a, *b;

    /* Size rounds up to whole pages. */
    a = VirtualAlloc(NULL, PAGE + 1, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a != NULL, "VirtualAlloc 0x1001: error %lu", GetLastError());
    if (!a) return;
    CHECK_MBI(a, a, a, PAGE_READWRITE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    /* The allocation is 2 pages; the rest of its 64 KiB granule is free
     * (and unusable). */
    ok(query(a + 2 * PAGE) && mbi.State == MEM_FREE && mbi.AllocationBase == NULL && mbi.Type == 0 &&
       mbi.Protect == PAGE_NOACCESS && mbi.RegionSize >= GRAN - 2 * PAGE,
       "tail of the granule: State %#lx AllocationBase %p Type %#lx Protect %#lx RegionSize %#zx",
       mbi.State, mbi.AllocationBase, mbi.Type, mbi.Protect, mbi.RegionSize);
    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());

    /* A reservation address rounds down to 64 KiB; the size covers every
     * page the range [address, address+size) touches. */
    b = VirtualAlloc(a + 0x1234, 0x100, MEM_RESERVE, PAGE_READWRITE);
    ok(b == a, "reserve at %p returned %p, expected %p", a + 0x1234, b, a);
    if (b == a)
        CHECK_MBI(a, a, a, PAGE_READWRITE, 2 * PAGE, MEM_RESERVE, 0, MEM_PRIVATE);
    if (b) VirtualFree(b, 0, MEM_RELEASE);

    /* A commit address rounds down to the page; the pages touched by the
     * range are committed. */
    a = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    ok(a != NULL, "reserve: error %lu", GetLastError());
    if (!a) return;
    b = VirtualAlloc(a + 0x1ff0, 0x20, MEM_COMMIT, PAGE_READWRITE);
    ok(b == a + PAGE, "commit at %p returned %p, expected %p", a + 0x1ff0, b, a + PAGE);
    CHECK_MBI(a + PAGE, a + PAGE, a, PAGE_READWRITE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    /* VirtualQuery rounds the address down to its page. */
    CHECK_MBI(a + 0x1234, a + PAGE, a, PAGE_READWRITE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(a + 0x3000, a + 0x3000, a, PAGE_READWRITE, GRAN - 0x3000, MEM_RESERVE, 0, MEM_PRIVATE);
    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

static void test_top_down(void)
{
    char *low, *high;
    low = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    high = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    ok(low && high, "allocations: %p %p, error %lu", low, high, GetLastError());
    if (!low || !high) return;
    ok(!((ULONG_PTR)high & (GRAN - 1)), "top-down allocation %p is 64 KiB aligned", high);
    ok(high > low, "MEM_TOP_DOWN allocation %p lies above the bottom-up one %p", high, low);
    ok((ULONG_PTR)high >= 0x7FF000000000ull, "MEM_TOP_DOWN allocation %p near the top of the 128 TiB space", high);
    ok((ULONG_PTR)high + GRAN <= 0x7FFFFFFF0000ull, "MEM_TOP_DOWN allocation %p below the user space top", high);
    /* A larger one, too big for what is left around the first (memshim:
     * another top-down arena), goes near the top as well, below the first.
     * Wine 8 puts a top-down request that does not fit its small top area
     * into the one below 0x68000000. */
    char *big = VirtualAlloc(NULL, 200u << 20, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    ok(big != NULL, "200 MiB top-down: error %lu", GetLastError());
    if (big) {
        todo_wine ok((ULONG_PTR)big >= 0x7FF000000000ull, "200 MiB MEM_TOP_DOWN allocation %p near the top", big);
        ok(big < high, "200 MiB MEM_TOP_DOWN allocation %p below the first %p", big, high);
        VirtualFree(big, 0, MEM_RELEASE);
    }
    VirtualFree(low, 0, MEM_RELEASE);
    VirtualFree(high, 0, MEM_RELEASE);
}

/* Many reservations of a few hundred MiB (memshim: arenas of growing size
 * made one after another, each found again): every one is its own
 * reservation, committable and released whole, and none overlaps another;
 * released space is taken again. */
static void test_many_reservations(void)
{
    enum { COUNT = 16 };
    const SIZE_T size = (SIZE_T)150 << 20;
    char *r[COUNT];
    MEMORY_BASIC_INFORMATION mbi;
    int made = 0;
    for (int i = 0; i < COUNT; i++) {
        r[i] = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_READWRITE);
        ok(r[i] != NULL, "reservation %d of 150 MiB: error %lu", i, GetLastError());
        if (!r[i])
            break;
        made++;
        ok(VirtualQuery(r[i] + size - 1, &mbi, sizeof(mbi)) == sizeof(mbi), "query the end of %d", i);
        ok(mbi.AllocationBase == r[i] && mbi.State == MEM_RESERVE, "end of %d: base %p state %#lx", i,
           mbi.AllocationBase, mbi.State);
        ok(VirtualQuery(r[i], &mbi, sizeof(mbi)) == sizeof(mbi) && mbi.RegionSize == size,
           "reservation %d is one region of 150 MiB (%zu)", i, (size_t)mbi.RegionSize);
        char *page = VirtualAlloc(r[i] + size - 4096, 4096, MEM_COMMIT, PAGE_READWRITE);
        ok(page == r[i] + size - 4096, "commit the last page of %d: %p", i, page);
        if (page)
            page[0] = (char)i;
    }
    int overlaps = 0;
    for (int i = 0; i < made; i++)
        for (int j = i + 1; j < made; j++)
            overlaps += r[i] < r[j] + size && r[j] < r[i] + size;
    ok(overlaps == 0, "%d overlapping reservations", overlaps);
    if (made > 1) {
        char *again;
        ok(VirtualFree(r[1], 0, MEM_RELEASE), "release one: error %lu", GetLastError());
        again = VirtualAlloc(r[1], size, MEM_RESERVE, PAGE_READWRITE);
        ok(again == r[1], "its address is free again: %p, expected %p", again, r[1]);
        if (!again)
            r[1] = NULL;
    }
    for (int i = 0; i < made; i++)
        if (r[i])
            ok(VirtualFree(r[i], 0, MEM_RELEASE), "release %d: error %lu", i, GetLastError());
}

static void test_regions(void)
{
    char *a, *b, *two;
    DWORD old;
    BOOL ret;

    a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!a) return;
    CHECK_MBI(a, a, a, PAGE_READWRITE, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    ok(VirtualProtect(a + PAGE, PAGE, PAGE_READONLY, &old), "VirtualProtect: error %lu", GetLastError());
    CHECK_MBI(a, a, a, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(a + PAGE, a + PAGE, a, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    CHECK_MBI(a + 2 * PAGE, a + 2 * PAGE, a, PAGE_READWRITE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* Old protection is that of the first page of the range. */
    old = 0;
    ok(VirtualProtect(a, 3 * PAGE, PAGE_READWRITE, &old), "VirtualProtect: error %lu", GetLastError());
    ok(old == PAGE_READWRITE, "old protection %#lx, expected PAGE_READWRITE (first page)", old);
    /* Same attributes again: one region. */
    CHECK_MBI(a, a, a, PAGE_READWRITE, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* Decommit a middle page: three regions, then re-commit: one again. */
    ok(VirtualFree(a + PAGE, PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    CHECK_MBI(a, a, a, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(a + PAGE, a + PAGE, a, PAGE_READWRITE, PAGE, MEM_RESERVE, 0, MEM_PRIVATE);
    a[0] = 1;
    b = VirtualAlloc(a + PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE);
    ok(b == a + PAGE, "re-commit returned %p", b);
    ok(b && b[0] == 0 && b[PAGE - 1] == 0, "re-committed page is zero-filled");
    CHECK_MBI(a, a, a, PAGE_READWRITE, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());

    /* Two adjacent allocations never merge into one region, and one
     * VirtualProtect cannot span both. */
    two = VirtualAlloc(NULL, 2 * GRAN, MEM_RESERVE, PAGE_READWRITE);
    ok(two != NULL, "reserve: error %lu", GetLastError());
    if (!two) return;
    VirtualFree(two, 0, MEM_RELEASE);
    a = VirtualAlloc(two, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    b = VirtualAlloc(two + GRAN, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a == two && b == two + GRAN, "adjacent allocations at %p and %p (expected %p, %p)", a, b, two, two + GRAN);
    if (a == two && b == two + GRAN)
    {
        CHECK_MBI(a, a, a, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
        CHECK_MBI(b, b, b, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
        SetLastError(0xdeadbeef);
        ret = VirtualProtect(a, 2 * GRAN, PAGE_READONLY, &old);
        /* STATUS_CONFLICTING_ADDRESSES on Windows; Wine 8.0: ERROR_INVALID_PARAMETER. */
        todo_wine CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "VirtualProtect across two allocations");
        SetLastError(0xdeadbeef);
        ret = VirtualFree(a, 2 * GRAN, MEM_DECOMMIT);
        /* STATUS_UNABLE_TO_FREE_VM: ERROR_INVALID_PARAMETER. */
        CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "MEM_DECOMMIT across two allocations");
        ok(query(a + GRAN - PAGE) && mbi.Protect == PAGE_READWRITE && mbi.State == MEM_COMMIT,
           "failed calls changed nothing (protect %#lx state %#lx)", mbi.Protect, mbi.State);
    }
    if (a) VirtualFree(a, 0, MEM_RELEASE);
    if (b) VirtualFree(b, 0, MEM_RELEASE);
}

static void test_fresh_zero(void)
{
    unsigned char *a = VirtualAlloc(NULL, 0x20000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    size_t i, nonzero = 0;
    ok(a != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!a) return;
    for (i = 0; i < 0x20000; i++) nonzero += a[i] != 0;
    ok(nonzero == 0, "fresh committed memory is zero (%zu nonzero bytes)", nonzero);
    memset(a, 0xab, 0x20000);
    ok(VirtualFree(a, 0x20000, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    ok(VirtualAlloc(a, 0x20000, MEM_COMMIT, PAGE_READWRITE) == a, "re-commit: error %lu", GetLastError());
    for (i = 0, nonzero = 0; i < 0x20000; i++) nonzero += a[i] != 0;
    ok(nonzero == 0, "decommitted then re-committed memory is zero (%zu nonzero bytes)", nonzero);
    VirtualFree(a, 0, MEM_RELEASE);
}

static void test_passthrough_query(void)
{
    HMODULE exe = GetModuleHandleA(NULL);
    HMODULE k32 = GetModuleHandleA("kernel32.dll");
    int local = 0;
    IMAGE_DOS_HEADER *dos = (IMAGE_DOS_HEADER *)exe;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)((char *)exe + dos->e_lfanew);

    /* The program's own image: headers are read-only. */
    ok(query(exe), "VirtualQuery(image): error %lu", GetLastError());
    ok(mbi.BaseAddress == (void *)exe, "image BaseAddress %p, expected %p", mbi.BaseAddress, (void *)exe);
    ok(mbi.AllocationBase == (void *)exe, "image AllocationBase %p, expected %p", mbi.AllocationBase, (void *)exe);
    ok(mbi.AllocationProtect == PAGE_EXECUTE_WRITECOPY, "image AllocationProtect %#lx, expected %#x",
       mbi.AllocationProtect, PAGE_EXECUTE_WRITECOPY);
    ok(mbi.State == MEM_COMMIT, "image State %#lx", mbi.State);
    ok(mbi.Protect == PAGE_READONLY, "image header Protect %#lx, expected PAGE_READONLY", mbi.Protect);
    ok(mbi.Type == MEM_IMAGE, "image Type %#lx, expected MEM_IMAGE", mbi.Type);
    ok(mbi.RegionSize == PAGE, "image header RegionSize %#zx, expected 0x1000", mbi.RegionSize);

    /* Code of the image. */
    ok(query((void *)(ULONG_PTR)&test_passthrough_query), "VirtualQuery(code): error %lu", GetLastError());
    ok(mbi.AllocationBase == (void *)exe && mbi.Type == MEM_IMAGE, "code: AllocationBase %p Type %#lx",
       mbi.AllocationBase, mbi.Type);
    ok(mbi.Protect == PAGE_EXECUTE_READ, "code Protect %#lx, expected PAGE_EXECUTE_READ", mbi.Protect);
    ok((char *)mbi.BaseAddress + mbi.RegionSize <= (char *)exe + nt->OptionalHeader.SizeOfImage,
       "code region inside the image");

    /* kernel32 itself is an image too. */
    ok(query(k32) && mbi.Type == MEM_IMAGE && mbi.AllocationBase == (void *)k32,
       "kernel32 image: Type %#lx AllocationBase %p", mbi.Type, mbi.AllocationBase);

    /* The stack. */
    ok(query(&local), "VirtualQuery(stack): error %lu", GetLastError());
    ok(mbi.State == MEM_COMMIT && mbi.Protect == PAGE_READWRITE && mbi.Type == MEM_PRIVATE,
       "stack: State %#lx Protect %#lx Type %#lx", mbi.State, mbi.Protect, mbi.Type);
    ok(mbi.AllocationProtect == PAGE_READWRITE, "stack AllocationProtect %#lx", mbi.AllocationProtect);
    ok((char *)mbi.BaseAddress <= (char *)&local && (char *)&local < (char *)mbi.BaseAddress + mbi.RegionSize,
       "stack region %p+%#zx contains %p", mbi.BaseAddress, mbi.RegionSize, (void *)&local);
    ok((char *)mbi.AllocationBase < (char *)mbi.BaseAddress, "stack reservation starts below the committed part");

    /* The NULL page is free. */
    ok(query(NULL), "VirtualQuery(NULL): error %lu", GetLastError());
    ok(mbi.BaseAddress == NULL && mbi.AllocationBase == NULL && mbi.State == MEM_FREE &&
       mbi.Protect == PAGE_NOACCESS && mbi.Type == 0,
       "NULL page: Base %p AllocBase %p State %#lx Protect %#lx Type %#lx", mbi.BaseAddress,
       mbi.AllocationBase, mbi.State, mbi.Protect, mbi.Type);
}

#if defined(__x86_64__)
static void test_protection_enforced(void)
{
    unsigned char *a;
    DWORD old;
    int f;

    a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!a) return;
    a[0] = 0xC3; /* ret */
    a[PAGE] = 0xC3;
    a[2 * PAGE] = 0xC3;

    ok(!probe_read(a), "read of PAGE_READWRITE does not fault");
    ok(!probe_write(a + 5, 7) && a[5] == 7, "write of PAGE_READWRITE does not fault");

    f = probe_exec(a);
    ok(f, "executing PAGE_READWRITE memory faults (DEP)");
    if (f)
    {
        ok(probe_last_code() == EXCEPTION_ACCESS_VIOLATION, "exception code %#lx", probe_last_code());
        ok(probe_last_kind() == 8, "access kind %zu, expected 8 (execute)", (size_t)probe_last_kind());
        ok(probe_last_address() == (ULONG_PTR)a, "fault address %#zx, expected %p", (size_t)probe_last_address(), a);
    }

    ok(VirtualProtect(a + PAGE, PAGE, PAGE_READONLY, &old), "VirtualProtect READONLY: error %lu", GetLastError());
    ok(!probe_read(a + PAGE), "read of PAGE_READONLY does not fault");
    f = probe_write(a + PAGE + 16, 1);
    ok(f, "write to PAGE_READONLY faults");
    if (f)
    {
        ok(probe_last_code() == EXCEPTION_ACCESS_VIOLATION, "exception code %#lx", probe_last_code());
        ok(probe_last_kind() == 1, "access kind %zu, expected 1 (write)", (size_t)probe_last_kind());
        ok(probe_last_address() == (ULONG_PTR)(a + PAGE + 16), "fault address %#zx, expected %p",
           (size_t)probe_last_address(), a + PAGE + 16);
    }
    ok(a[PAGE + 16] == 0, "faulting write changed nothing");

    ok(VirtualProtect(a + 2 * PAGE, PAGE, PAGE_EXECUTE_READ, &old), "VirtualProtect EXECUTE_READ: error %lu",
       GetLastError());
    FlushInstructionCache(GetCurrentProcess(), a + 2 * PAGE, 1);
    ok(!probe_exec(a + 2 * PAGE), "executing PAGE_EXECUTE_READ memory works");
    ok(probe_write(a + 2 * PAGE + 8, 1), "write to PAGE_EXECUTE_READ faults");

    ok(VirtualProtect(a + 3 * PAGE, PAGE, PAGE_NOACCESS, &old), "VirtualProtect NOACCESS: error %lu", GetLastError());
    f = probe_read(a + 3 * PAGE + 100);
    ok(f, "read of PAGE_NOACCESS faults");
    if (f)
    {
        ok(probe_last_kind() == 0, "access kind %zu, expected 0 (read)", (size_t)probe_last_kind());
        ok(probe_last_address() == (ULONG_PTR)(a + 3 * PAGE + 100), "fault address %#zx, expected %p",
           (size_t)probe_last_address(), a + 3 * PAGE + 100);
    }
    ok(probe_write(a + 3 * PAGE, 1), "write to PAGE_NOACCESS faults");

    /* Decommitted pages fault. */
    ok(VirtualFree(a, PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    ok(probe_read(a), "read of a decommitted page faults");

    /* Guard page: the first touch raises STATUS_GUARD_PAGE_VIOLATION and
     * clears the guard, the second succeeds. */
    ok(VirtualProtect(a + PAGE, PAGE, PAGE_READWRITE | PAGE_GUARD, &old), "VirtualProtect GUARD: error %lu",
       GetLastError());
    ok(query(a + PAGE) && mbi.Protect == (PAGE_READWRITE | PAGE_GUARD), "guard page Protect %#lx", mbi.Protect);
    f = probe_read(a + PAGE);
    ok(f, "first touch of a guard page faults");
    ok(probe_last_code() == STATUS_GUARD_PAGE_VIOLATION, "first touch: exception %#lx, expected %#lx",
       probe_last_code(), (DWORD)STATUS_GUARD_PAGE_VIOLATION);
    ok(!probe_read(a + PAGE), "second touch of a former guard page succeeds");
    ok(query(a + PAGE) && mbi.Protect == PAGE_READWRITE, "guard cleared: Protect %#lx", mbi.Protect);

    VirtualFree(a, 0, MEM_RELEASE);
}
#endif

static void test_write_watch(void)
{
    char *a;
    void *addrs[16];
    ULONG_PTR count;
    ULONG gran;
    UINT r;

    a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    ok(a != NULL, "MEM_WRITE_WATCH allocation: error %lu", GetLastError());
    if (!a) return;
    count = 16;
    r = GetWriteWatch(0, a, 4 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 0, "no writes yet: ret %u count %zu", r, (size_t)count);
    ok(gran == PAGE, "granularity %lu", gran);
    a[PAGE + 10] = 1;
    a[3 * PAGE] = 1;
    count = 16;
    r = GetWriteWatch(WRITE_WATCH_FLAG_RESET, a, 4 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 2, "two pages written: ret %u count %zu", r, (size_t)count);
    if (count == 2)
        ok(addrs[0] == a + PAGE && addrs[1] == a + 3 * PAGE, "written pages %p %p", addrs[0], addrs[1]);
    count = 16;
    r = GetWriteWatch(0, a, 4 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 0, "after reset: ret %u count %zu", r, (size_t)count);

    /* Write watch on memory allocated without MEM_WRITE_WATCH fails. */
    {
        char *b = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        count = 16;
        SetLastError(0xdeadbeef);
        r = GetWriteWatch(0, b, PAGE, addrs, &count, &gran);
        ok(r != 0, "GetWriteWatch on ordinary memory fails");
        ok(GetLastError() == ERROR_INVALID_PARAMETER, "error %lu, expected 87", GetLastError());
        VirtualFree(b, 0, MEM_RELEASE);
    }
    /* A region size of 0 is refused (Wine's tests pin NT's answer). */
    count = 16;
    SetLastError(0xdeadbeef);
    r = GetWriteWatch(0, a, 0, addrs, &count, &gran);
    ok(r == ~0u && GetLastError() == ERROR_INVALID_PARAMETER, "region size 0: ret %u error %lu", r, GetLastError());
    VirtualFree(a, 0, MEM_RELEASE);

    /* The protection does not matter, and a write outlives the decommit of
     * its page until a reset (Wine's test, run on Windows). */
    a = VirtualAlloc(NULL, 16 * PAGE, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    ok(a && VirtualAlloc(a, 16 * PAGE, MEM_COMMIT, PAGE_NOACCESS) == a, "write-watch region: error %lu",
       GetLastError());
    if (!a) return;
    DWORD old;
    ok(VirtualProtect(a, 6 * PAGE, PAGE_READWRITE, &old) && old == PAGE_NOACCESS, "protect read-write: error %lu",
       GetLastError());
    a[5 * PAGE + 200] = 3;
    ok(VirtualProtect(a, 6 * PAGE, PAGE_NOACCESS, &old) && old == PAGE_READWRITE, "protect no access: error %lu",
       GetLastError());
    count = 16;
    r = GetWriteWatch(0, a, 16 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 1 && addrs[0] == a + 5 * PAGE, "written page 5: ret %u count %zu", r, (size_t)count);
    ok(VirtualFree(a, 16 * PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    count = 16;
    r = GetWriteWatch(0, a, 16 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 1 && addrs[0] == a + 5 * PAGE, "after the decommit, still page 5: ret %u count %zu", r,
       (size_t)count);
    ok(VirtualAlloc(a, 16 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "recommit: error %lu", GetLastError());
    a[PAGE] = 1;
    count = 16;
    r = GetWriteWatch(WRITE_WATCH_FLAG_RESET, a, 16 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 2 && addrs[0] == a + PAGE && addrs[1] == a + 5 * PAGE,
       "recommitted: pages 1 and 5, reset: ret %u count %zu", r, (size_t)count);
    count = 16;
    r = GetWriteWatch(0, a, 16 * PAGE, addrs, &count, &gran);
    ok(r == 0 && count == 0, "after the reset: ret %u count %zu", r, (size_t)count);
    VirtualFree(a, 0, MEM_RELEASE);
}

static void test_ex_current_process(void)
{
    HANDLE self = GetCurrentProcess();
    char *a;
    DWORD old;
    MEMORY_BASIC_INFORMATION m;

    a = VirtualAllocEx(self, NULL, 2 * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a != NULL, "VirtualAllocEx(current): error %lu", GetLastError());
    if (!a) return;
    ok(VirtualProtectEx(self, a, PAGE, PAGE_READONLY, &old) && old == PAGE_READWRITE,
       "VirtualProtectEx: error %lu old %#lx", GetLastError(), old);
    ok(VirtualQueryEx(self, a, &m, sizeof(m)) == sizeof(m) && m.Protect == PAGE_READONLY && m.RegionSize == PAGE,
       "VirtualQueryEx: Protect %#lx RegionSize %#zx", m.Protect, m.RegionSize);
    ok(query(a) && mbi.Protect == PAGE_READONLY, "VirtualQuery agrees: %#lx", mbi.Protect);
    ok(VirtualFreeEx(self, a, 0, MEM_RELEASE), "VirtualFreeEx: error %lu", GetLastError());
    ok(query(a) && mbi.State == MEM_FREE, "released through VirtualFreeEx: State %#lx", mbi.State);
}

static void test_system_info(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    ok(si.dwPageSize == PAGE, "dwPageSize %lu", si.dwPageSize);
    ok(si.dwAllocationGranularity == GRAN, "dwAllocationGranularity %lu", si.dwAllocationGranularity);
    ok(si.lpMinimumApplicationAddress == (void *)0x10000, "lpMinimumApplicationAddress %p",
       si.lpMinimumApplicationAddress);
    ok(si.lpMaximumApplicationAddress == (void *)0x7FFFFFFEFFFFull, "lpMaximumApplicationAddress %p",
       si.lpMaximumApplicationAddress);
}

/* MEM_RESET and MEM_RESET_UNDO (Windows 8+): the cases Windows documents
 * and Wine's tests record from Windows. Without memory pressure the host
 * keeps reset pages, so an undo finds their contents intact. */
static void test_reset(void)
{
    char *a, *r;
    DWORD old;
    static const DWORD bad_types[] = {
        MEM_RESET | MEM_COMMIT, MEM_RESET | MEM_RESERVE, MEM_RESET_UNDO | MEM_COMMIT,
        MEM_RESET_UNDO | MEM_RESERVE, MEM_RESET | MEM_RESET_UNDO, MEM_RESET | MEM_TOP_DOWN,
    };

    a = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_NOACCESS);
    ok(a != NULL, "reserve: error %lu", GetLastError());
    if (!a) return;
    ok(VirtualAlloc(a, 3 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "commit: error %lu", GetLastError());
    memset(a, 0x55, 3 * PAGE);

    /* MEM_RESET ignores the protection given: the pages stay as they were. */
    r = VirtualAlloc(a, PAGE, MEM_RESET, PAGE_NOACCESS);
    ok(r == a, "MEM_RESET of a committed page: %p, error %lu", r, GetLastError());
    ok(*(DWORD *)a == 0x55555555 || *(DWORD *)a == 0, "contents kept or zero: %#lx", *(DWORD *)a);
    CHECK_MBI(a, a, a, PAGE_NOACCESS, 3 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* Reserved pages of the allocation are fine, and stay reserved. */
    r = VirtualAlloc(a + 3 * PAGE, PAGE, MEM_RESET, PAGE_NOACCESS);
    ok(r == a + 3 * PAGE, "MEM_RESET of a reserved page: %p, error %lu", r, GetLastError());
    CHECK_MBI(a + 3 * PAGE, a + 3 * PAGE, a, PAGE_NOACCESS, GRAN - 3 * PAGE, MEM_RESERVE, 0, MEM_PRIVATE);
    r = VirtualAlloc(a, GRAN, MEM_RESET, PAGE_READWRITE);
    ok(r == a, "MEM_RESET of committed and reserved pages: %p, error %lu", r, GetLastError());

    /* Not past the allocation. */
    SetLastError(0xdeadbeef);
    r = VirtualAlloc(a + GRAN - PAGE, 2 * PAGE, MEM_RESET, PAGE_NOACCESS);
    CHECK_FAIL(r, ERROR_INVALID_ADDRESS, "MEM_RESET past the allocation's end");

    /* Neither flag goes with any other. */
    for (size_t i = 0; i < ARRAYSIZE(bad_types); i++)
    {
        SetLastError(0xdeadbeef);
        r = VirtualAlloc(a, PAGE, bad_types[i], PAGE_READWRITE);
        /* Wine 8.0 takes MEM_RESET with MEM_COMMIT or MEM_TOP_DOWN, and
         * answers ERROR_INVALID_ADDRESS to MEM_RESET|MEM_RESERVE. */
        todo_wine
        {
            ok(!r, "type %#lx should fail", bad_types[i]);
            ok(GetLastError() == ERROR_INVALID_PARAMETER, "type %#lx: error %lu, expected 87", bad_types[i],
               GetLastError());
        }
    }

    /* MEM_RESET then MEM_RESET_UNDO: the contents are there. */
    memset(a + PAGE, 0x66, PAGE);
    ok(VirtualAlloc(a + PAGE, PAGE, MEM_RESET, PAGE_READWRITE) == a + PAGE, "MEM_RESET: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    r = VirtualAlloc(a + PAGE, PAGE, MEM_RESET_UNDO, PAGE_READWRITE);
    /* Wine 8.0 does not know MEM_RESET_UNDO, and its MEM_RESET drops the
     * contents at once. */
    todo_wine ok(r == a + PAGE, "MEM_RESET_UNDO: %p, error %lu", r, GetLastError());
    todo_wine ok((unsigned char)a[PAGE] == 0x66 && (unsigned char)a[2 * PAGE - 1] == 0x66, "contents intact after undo");
    CHECK_MBI(a + PAGE, a + PAGE, a, PAGE_NOACCESS, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);

    /* The same on a read-only page: the protection stays. */
    memset(a + 2 * PAGE, 0x77, PAGE);
    ok(VirtualProtect(a + 2 * PAGE, PAGE, PAGE_READONLY, &old), "VirtualProtect: error %lu", GetLastError());
    ok(VirtualAlloc(a + 2 * PAGE, PAGE, MEM_RESET, PAGE_READONLY) == a + 2 * PAGE, "MEM_RESET read-only: error %lu",
       GetLastError());
    r = VirtualAlloc(a + 2 * PAGE, PAGE, MEM_RESET_UNDO, PAGE_READONLY);
    todo_wine ok(r == a + 2 * PAGE, "MEM_RESET_UNDO read-only: %p, error %lu", r, GetLastError());
    todo_wine ok((unsigned char)a[2 * PAGE] == 0x77, "read-only contents intact after undo");
    CHECK_MBI(a + 2 * PAGE, a + 2 * PAGE, a, PAGE_NOACCESS, PAGE, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    ok(probe_write(a + 2 * PAGE, 1), "still read-only on the host");

    /* Undo past the allocation fails like MEM_RESET. */
    SetLastError(0xdeadbeef);
    r = VirtualAlloc(a + GRAN - PAGE, 2 * PAGE, MEM_RESET_UNDO, PAGE_READWRITE);
    todo_wine CHECK_FAIL(r, ERROR_INVALID_ADDRESS, "MEM_RESET_UNDO past the allocation's end");

    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

/* GetLargePageMinimum: 2 MiB on x86-64, with or without the privilege to
 * use large pages; without it (no Wine process has SeLockMemoryPrivilege)
 * MEM_LARGE_PAGES fails. */
static void test_large_pages(void)
{
    SIZE_T large;
    void *p;
    SetLastError(0xdeadbeef);
    large = GetLargePageMinimum();
    ok(large == 0x200000, "GetLargePageMinimum %#zx, expected 0x200000", (size_t)large);
    ok(GetLastError() == 0xdeadbeef, "GetLargePageMinimum leaves the last error: %lu", GetLastError());
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, large, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE);
    /* Wine 8.0 answers ERROR_INVALID_PARAMETER. */
    todo_wine CHECK_FAIL(p, ERROR_PRIVILEGE_NOT_HELD, "MEM_LARGE_PAGES without the privilege");
    if (p) VirtualFree(p, 0, MEM_RELEASE);
}

/* Control Flow Guard's flag: PAGE_TARGETS_INVALID to VirtualAlloc and
 * PAGE_TARGETS_NO_UPDATE to VirtualProtect (one bit) go with an executable
 * protection, which is what VirtualQuery then reports; with any other the
 * call fails (as documented; Wine 8.0 takes the flag with any
 * protection). */
static void test_cfg_flags(void)
{
    MEMORY_BASIC_INFORMATION m;
    DWORD old = 0;
    char *p;
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE | PAGE_TARGETS_INVALID);
    ok(p != NULL, "VirtualAlloc(PAGE_EXECUTE_READWRITE | PAGE_TARGETS_INVALID): error %lu", GetLastError());
    if (!p) return;
    ok(VirtualQuery(p, &m, sizeof(m)) == sizeof(m), "VirtualQuery: error %lu", GetLastError());
    ok(m.AllocationProtect == PAGE_EXECUTE_READWRITE && m.Protect == PAGE_EXECUTE_READWRITE,
       "AllocationProtect %#lx Protect %#lx", m.AllocationProtect, m.Protect);
    ok(VirtualProtect(p, PAGE, PAGE_EXECUTE_READ | PAGE_TARGETS_NO_UPDATE, &old),
       "VirtualProtect(PAGE_EXECUTE_READ | PAGE_TARGETS_NO_UPDATE): error %lu", GetLastError());
    ok(old == PAGE_EXECUTE_READWRITE, "old protection %#lx", old);
    ok(VirtualQuery(p, &m, sizeof(m)) == sizeof(m), "VirtualQuery: error %lu", GetLastError());
    ok(m.Protect == PAGE_EXECUTE_READ && m.RegionSize == PAGE, "Protect %#lx RegionSize %#zx", m.Protect,
       m.RegionSize);
    SetLastError(0xdeadbeef);
    old = 0xdead;
    BOOL r = VirtualProtect(p, PAGE, PAGE_READONLY | PAGE_TARGETS_NO_UPDATE, &old);
    todo_wine ok(!r && GetLastError() == ERROR_INVALID_PARAMETER,
                 "VirtualProtect(PAGE_READONLY | PAGE_TARGETS_NO_UPDATE): %d, error %lu", r, GetLastError());
    ok(VirtualQuery(p, &m, sizeof(m)) == sizeof(m), "VirtualQuery: error %lu", GetLastError());
    todo_wine ok(m.Protect == PAGE_EXECUTE_READ, "refused: Protect %#lx", m.Protect);
    ok(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());

    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_EXECUTE | PAGE_TARGETS_INVALID);
    ok(p != NULL, "reserve PAGE_EXECUTE | PAGE_TARGETS_INVALID: error %lu", GetLastError());
    ok(!p || (VirtualQuery(p, &m, sizeof(m)) && m.AllocationProtect == PAGE_EXECUTE),
       "AllocationProtect %#lx", p ? m.AllocationProtect : 0);
    if (p) VirtualFree(p, 0, MEM_RELEASE);
    SetLastError(0xdeadbeef);
    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_TARGETS_INVALID);
    todo_wine CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "VirtualAlloc(PAGE_READWRITE | PAGE_TARGETS_INVALID)");
    if (p) VirtualFree(p, 0, MEM_RELEASE);
    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_TARGETS_INVALID);
    CHECK_FAIL(p, ERROR_INVALID_PARAMETER, "VirtualAlloc(PAGE_TARGETS_INVALID) alone");
    if (p) VirtualFree(p, 0, MEM_RELEASE);
}

/* The caching modifier (PAGE_NOCACHE, PAGE_WRITECOMBINE) belongs to the
 * allocation on recent Windows, not to the page: VirtualProtect keeps a
 * PAGE_NOCACHE allocation's pages PAGE_NOCACHE and cannot give it to a
 * plain allocation's (Wine's tests, run on Windows 10/11). A commit into a
 * reservation follows the same rule on Wine's builtin; nothing pins Windows
 * there, so those checks hold on Wine and memshim. */
static void test_cache_attribute(void)
{
    DWORD old = 0;
    char *p = VirtualAlloc(NULL, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
    ok(p != NULL, "VirtualAlloc(PAGE_READWRITE | PAGE_NOCACHE): error %lu", GetLastError());
    if (!p) return;
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualProtect(p, PAGE, PAGE_READWRITE, &old), "VirtualProtect(PAGE_READWRITE): error %lu", GetLastError());
    ok(old == (PAGE_READWRITE | PAGE_NOCACHE), "old protection %#lx", old);
    /* Nothing changed: one region still. */
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualProtect(p, PAGE, PAGE_READONLY, &old), "VirtualProtect(PAGE_READONLY): error %lu", GetLastError());
    ok(old == (PAGE_READWRITE | PAGE_NOCACHE), "old protection %#lx", old);
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, PAGE, MEM_COMMIT, PAGE_READONLY | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualProtect(p, PAGE, PAGE_NOACCESS, &old), "VirtualProtect(PAGE_NOACCESS): error %lu", GetLastError());
    ok(old == (PAGE_READONLY | PAGE_NOCACHE), "old protection %#lx", old);
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, PAGE, MEM_COMMIT, PAGE_NOACCESS | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());

    p = VirtualAlloc(NULL, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    ok(p != NULL, "VirtualAlloc(PAGE_READWRITE): error %lu", GetLastError());
    if (!p) return;
    ok(VirtualProtect(p, PAGE, PAGE_READONLY | PAGE_NOCACHE, &old), "VirtualProtect(PAGE_READONLY | PAGE_NOCACHE): error %lu",
       GetLastError());
    ok(old == PAGE_READWRITE, "old protection %#lx", old);
    CHECK_MBI(p, p, p, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READONLY, MEM_PRIVATE);
    ok(VirtualProtect(p + PAGE, PAGE, PAGE_READWRITE | PAGE_WRITECOMBINE, &old),
       "VirtualProtect(PAGE_READWRITE | PAGE_WRITECOMBINE): error %lu", GetLastError());
    CHECK_MBI(p + PAGE, p + PAGE, p, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    ok(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());

    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    ok(p != NULL, "reserve: error %lu", GetLastError());
    if (!p) return;
    ok(VirtualAlloc(p, PAGE, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE) == p, "commit PAGE_NOCACHE: error %lu",
       GetLastError());
    CHECK_MBI(p, p, p, PAGE_READWRITE, PAGE, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    ok(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());

    p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE | PAGE_NOCACHE);
    ok(p != NULL, "reserve PAGE_NOCACHE: error %lu", GetLastError());
    if (!p) return;
    ok(VirtualAlloc(p, PAGE, MEM_COMMIT, PAGE_EXECUTE_READ) == p, "commit PAGE_EXECUTE_READ: error %lu",
       GetLastError());
    CHECK_MBI(p, p, p, PAGE_READWRITE | PAGE_NOCACHE, PAGE, MEM_COMMIT, PAGE_EXECUTE_READ | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualAlloc(p + PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD) == p + PAGE,
       "commit PAGE_READWRITE | PAGE_GUARD: error %lu", GetLastError());
    CHECK_MBI(p + PAGE, p + PAGE, p, PAGE_READWRITE | PAGE_NOCACHE, PAGE, MEM_COMMIT,
              PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE, MEM_PRIVATE);
    ok(VirtualFree(p, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());
}

/* Code written into memory runs after FlushInstructionCache, which
 * succeeds for the current process (also for the whole cache: NULL, 0). */
static void test_flush_instruction_cache(void)
{
    static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };   /* mov eax, 42; ret */
    unsigned char *p = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    ok(p != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!p)
        return;
    memcpy(p, code, sizeof(code));
    ok(VirtualProtect(p, PAGE, PAGE_EXECUTE_READ, &old), "VirtualProtect to execute: error %lu", GetLastError());
    ok(FlushInstructionCache(GetCurrentProcess(), p, sizeof(code)), "FlushInstructionCache: error %lu",
       GetLastError());
    ok(((int (*)(void))(void *)p)() == 42, "the written code runs");
    ok(FlushInstructionCache(GetCurrentProcess(), NULL, 0), "FlushInstructionCache of everything: error %lu",
       GetLastError());
    ok(VirtualFree(p, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

/* Output buffers the program gets wrong: Windows probes them and fails
 * with ERROR_NOACCESS, changing nothing; memshim copies through a guarded
 * copy and must not fault either (it did, inside kernel32, before). */
static void test_bad_output_buffers(void)
{
    MEMORY_BASIC_INFORMATION info;
    DWORD old;
    char *a = VirtualAlloc(NULL, 3 * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    char *gone = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    ok(a && gone, "VirtualAlloc: error %lu", GetLastError());
    if (!a || !gone) return;
    ok(VirtualFree(gone, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());
    ok(VirtualProtect(a + 2 * PAGE, PAGE, PAGE_READONLY, &old), "read-only page: error %lu", GetLastError());
    void *const bad[] = { NULL, (void *)0x1000, gone, a + 2 * PAGE };
    for (size_t i = 0; i < ARRAYSIZE(bad); i++)
    {
        SetLastError(0xdeadbeef);
        SIZE_T n = VirtualQuery(a, bad[i], sizeof(info));
        ok(n == 0 && GetLastError() == ERROR_NOACCESS, "VirtualQuery into %p: %zu, error %lu", bad[i], n,
           GetLastError());
        SetLastError(0xdeadbeef);
        BOOL ret = VirtualProtect(a, PAGE, PAGE_READONLY, bad[i]);
        ok(!ret && GetLastError() == ERROR_NOACCESS, "VirtualProtect with old at %p: %d, error %lu", bad[i], ret,
           GetLastError());
        /* Wine 8.0 changes the protection, then fails to store the old one. */
        BOOL same = VirtualQuery(a, &info, sizeof(info)) == sizeof(info) && info.Protect == PAGE_READWRITE;
        todo_wine_if(bad[i] != NULL)
        ok(same, "refused VirtualProtect changed nothing: %#lx", info.Protect);
        VirtualProtect(a, PAGE, PAGE_READWRITE, &old);
    }
    /* The old-protection pointer inside the page being made read-only:
     * the change is made, then storing the old protection fails. */
    SetLastError(0xdeadbeef);
    ok(!VirtualProtect(a, PAGE, PAGE_READONLY, (DWORD *)(a + 64)) && GetLastError() == ERROR_NOACCESS,
       "old protection stored into the page made read-only: error %lu", GetLastError());
    ok(VirtualQuery(a, &info, sizeof(info)) == sizeof(info) && info.Protect == PAGE_READONLY,
       "the change stays: %#lx", info.Protect);
    ok(VirtualProtect(a, PAGE, PAGE_READWRITE, &old) && old == PAGE_READONLY, "back to read-write: error %lu",
       GetLastError());
    /* A buffer at the end of the read-write pages, running into the
     * read-only one. */
    SetLastError(0xdeadbeef);
    ok(VirtualQuery(a, (MEMORY_BASIC_INFORMATION *)(a + 2 * PAGE - 8), sizeof(info)) == 0 && GetLastError() == ERROR_NOACCESS,
       "VirtualQuery into a buffer half read-only: error %lu", GetLastError());
    ok(VirtualQuery(a, (MEMORY_BASIC_INFORMATION *)(a + PAGE), sizeof(info)) == sizeof(info) &&
       ((MEMORY_BASIC_INFORMATION *)(a + PAGE))->RegionSize == 2 * PAGE,
       "VirtualQuery into the program's own committed memory works");
    /* ReadProcessMemory and WriteProcessMemory on the program's own
     * memory, with a bad buffer or count. */
    char buf[16] = "0123456789abcde";
    SIZE_T done = 77;
    const struct { BOOL write; void *buffer; SIZE_T *count; DWORD error; } copies[] = {
        { FALSE, NULL, &done, ERROR_NOACCESS },
        { FALSE, gone, &done, ERROR_NOACCESS },
        { FALSE, buf, (SIZE_T *)0x1000, ERROR_NOACCESS },
        { TRUE, NULL, &done, ERROR_PARTIAL_COPY },
        { TRUE, buf, (SIZE_T *)0x1000, ERROR_NOACCESS },
    };
    for (size_t i = 0; i < ARRAYSIZE(copies); i++)
    {
        SetLastError(0xdeadbeef);
        BOOL ret = copies[i].write ? WriteProcessMemory(GetCurrentProcess(), a, copies[i].buffer, 16, copies[i].count)
                                   : ReadProcessMemory(GetCurrentProcess(), a, copies[i].buffer, 16, copies[i].count);
        ok(!ret && GetLastError() == copies[i].error, "%s buffer %p count %p: error %lu, expected %lu",
           copies[i].write ? "WriteProcessMemory" : "ReadProcessMemory", copies[i].buffer, (void *)copies[i].count,
           GetLastError(), copies[i].error);
    }
    ok(WriteProcessMemory(GetCurrentProcess(), a, buf, 16, &done) && done == 16 && !memcmp(a, buf, 16),
       "WriteProcessMemory after the refusals: error %lu, %zu bytes", GetLastError(), done);
    ok(VirtualFree(a, 0, MEM_RELEASE), "VirtualFree: error %lu", GetLastError());
}

int main(void)
{
    harness_init();
    test_basic_reserve_commit();
    test_bad_params();
    test_bad_output_buffers();
    test_rounding();
    test_top_down();
    test_many_reservations();
    test_regions();
    test_fresh_zero();
    test_passthrough_query();
#if defined(__x86_64__)
    test_protection_enforced();
#endif
    test_write_watch();
    test_ex_current_process();
    test_system_info();
#if defined(__x86_64__)
    test_reset();
#endif
    test_large_pages();
    test_cfg_flags();
    test_cache_attribute();
    test_flush_instruction_cache();
    return harness_done();
}
