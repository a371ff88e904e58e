/*
 * Conformance: one region, every path. Memory from kernel32's VirtualAlloc
 * is queried, protected, committed, decommitted and released through
 * kernelbase's exports and through ntdll's Nt*VirtualMemory, and every path
 * must give the same answer as kernel32 (programs built against the
 * api-ms-win-core-memory sets bind to kernelbase; Wine's DLLs call ntdll).
 */
#include "harness.h"


typedef SIZE_T (WINAPI *query_fn)(LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T);
typedef BOOL (WINAPI *protect_fn)(LPVOID, SIZE_T, DWORD, PDWORD);
typedef LPVOID (WINAPI *alloc_fn)(LPVOID, SIZE_T, DWORD, DWORD);
typedef BOOL (WINAPI *free_fn)(LPVOID, SIZE_T, DWORD);
typedef LONG (NTAPI *nt_query_fn)(HANDLE, LPCVOID, int, PVOID, SIZE_T, SIZE_T *);
typedef LONG (NTAPI *nt_protect_fn)(HANDLE, PVOID *, SIZE_T *, ULONG, ULONG *);
typedef LONG (NTAPI *nt_alloc_fn)(HANDLE, PVOID *, ULONG_PTR, SIZE_T *, ULONG, ULONG);
typedef LONG (NTAPI *nt_free_fn)(HANDLE, PVOID *, SIZE_T *, ULONG);

static query_fn kb_query;
static protect_fn kb_protect;
static alloc_fn kb_alloc;
static free_fn kb_free;
static nt_query_fn nt_query;
static nt_protect_fn nt_protect;
static nt_alloc_fn nt_alloc;
static nt_free_fn nt_free;

static int same_mbi(const MEMORY_BASIC_INFORMATION *a, const MEMORY_BASIC_INFORMATION *b)
{
    return a->BaseAddress == b->BaseAddress && a->AllocationBase == b->AllocationBase &&
           a->AllocationProtect == b->AllocationProtect && a->RegionSize == b->RegionSize &&
           a->State == b->State && a->Protect == b->Protect && a->Type == b->Type;
}

/* kernel32, kernelbase and ntdll answer VirtualQuery alike at p. */
static void check_queries(const char *what, const void *p)
{
    MEMORY_BASIC_INFORMATION k32, kb, nt;
    SIZE_T ret = 0;
    memset(&k32, 0x11, sizeof(k32));
    memset(&kb, 0x22, sizeof(kb));
    memset(&nt, 0x33, sizeof(nt));
    ok(VirtualQuery(p, &k32, sizeof(k32)) == sizeof(k32), "%s: kernel32 VirtualQuery: error %lu", what,
       GetLastError());
    ok(kb_query(p, &kb, sizeof(kb)) == sizeof(kb), "%s: kernelbase VirtualQuery: error %lu", what, GetLastError());
    ok(nt_query(GetCurrentProcess(), p, 0, &nt, sizeof(nt), &ret) == 0 && ret == sizeof(nt),
       "%s: NtQueryVirtualMemory", what);
    ok(same_mbi(&k32, &kb), "%s: kernelbase says base %p size %#zx state %#lx protect %#lx, kernel32 %p %#zx %#lx %#lx",
       what, kb.BaseAddress, kb.RegionSize, kb.State, kb.Protect, k32.BaseAddress, k32.RegionSize, k32.State,
       k32.Protect);
    ok(same_mbi(&k32, &nt), "%s: ntdll says base %p size %#zx state %#lx protect %#lx, kernel32 %p %#zx %#lx %#lx",
       what, nt.BaseAddress, nt.RegionSize, nt.State, nt.Protect, k32.BaseAddress, k32.RegionSize, k32.State,
       k32.Protect);
}

static void test_paths(void)
{
    DWORD old = 0;
    ULONG nt_old = 0;
    char *a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE, PAGE_READWRITE);
    ok(a != NULL, "reserve: error %lu", GetLastError());
    if (!a) return;
    ok(VirtualAlloc(a, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "commit: error %lu", GetLastError());
    check_queries("committed page", a);
    check_queries("reserved page", a + 2 * PAGE);
    check_queries("free rest of the granule", a + 4 * PAGE);

    /* Protect through kernelbase, then through ntdll; kernel32 sees both. */
    ok(kb_protect(a, PAGE, PAGE_READONLY, &old), "kernelbase VirtualProtect: error %lu", GetLastError());
    ok(old == PAGE_READWRITE, "kernelbase VirtualProtect old %#lx", old);
    check_queries("after kernelbase VirtualProtect", a);
    {
        void *base = a + PAGE + 5;
        SIZE_T size = 1;
        LONG st = nt_protect(GetCurrentProcess(), &base, &size, PAGE_NOACCESS, &nt_old);
        ok(st == 0, "NtProtectVirtualMemory: status %#lx", st);
        ok(base == a + PAGE && size == PAGE, "NtProtectVirtualMemory rounds to %p %#zx", base, size);
        ok(nt_old == PAGE_READWRITE, "NtProtectVirtualMemory old %#lx", nt_old);
    }
    check_queries("after NtProtectVirtualMemory", a + PAGE);
    SetLastError(0xdeadbeef);
    ok(!kb_protect(a + 2 * PAGE, PAGE, PAGE_READONLY, &old), "kernelbase VirtualProtect of a reserved page fails");
    ok(GetLastError() == ERROR_INVALID_ADDRESS, "kernelbase VirtualProtect of a reserved page: error %lu",
       GetLastError());

    /* Commit through kernelbase and ntdll inside kernel32's reservation. */
    ok(kb_alloc(a + 2 * PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) == a + 2 * PAGE,
       "kernelbase VirtualAlloc(MEM_COMMIT) in the reservation: error %lu", GetLastError());
    a[2 * PAGE] = 1;
    {
        void *base = a + 3 * PAGE;
        SIZE_T size = PAGE;
        LONG st = nt_alloc(GetCurrentProcess(), &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
        ok(st == 0 && base == a + 3 * PAGE && size == PAGE, "NtAllocateVirtualMemory(MEM_COMMIT): %#lx %p %#zx",
           st, base, size);
    }
    a[3 * PAGE] = 1;
    check_queries("committed through kernelbase and ntdll", a + 2 * PAGE);

    /* Decommit through kernelbase, release through ntdll. */
    ok(kb_free(a + 2 * PAGE, PAGE, MEM_DECOMMIT), "kernelbase VirtualFree(MEM_DECOMMIT): error %lu",
       GetLastError());
    check_queries("decommitted through kernelbase", a + 2 * PAGE);
    SetLastError(0xdeadbeef);
    ok(!kb_free(a + PAGE, 0, MEM_RELEASE), "kernelbase VirtualFree(MEM_RELEASE) not at the base fails");
    ok(GetLastError() == ERROR_INVALID_ADDRESS, "release not at the base: error %lu", GetLastError());
    {
        void *base = a;
        SIZE_T size = 0;
        LONG st = nt_free(GetCurrentProcess(), &base, &size, MEM_RELEASE);
        ok(st == 0 && base == a && size == 4 * PAGE, "NtFreeVirtualMemory(MEM_RELEASE): %#lx %p %#zx", st, base,
           size);
    }
    check_queries("released through ntdll", a);
    {
        MEMORY_BASIC_INFORMATION mbi;
        ok(VirtualQuery(a, &mbi, sizeof(mbi)) && mbi.State == MEM_FREE, "released: state %#lx", mbi.State);
    }
    SetLastError(0xdeadbeef);
    ok(!kb_free(a, 0, MEM_RELEASE), "kernelbase double release fails");
    todo_wine ok(GetLastError() == ERROR_INVALID_ADDRESS, "kernelbase double release: error %lu, expected 487",
                 GetLastError());
}

#define STATUS_ACCESS_VIOLATION_ ((LONG)0xc0000005)

/* Argument pointers that cannot be written: Windows probes every in/out
 * argument of Nt*VirtualMemory before it acts (ProbeForWrite in a try
 * block), so each call fails with STATUS_ACCESS_VIOLATION and changes
 * nothing; kernelbase's VirtualQuery then says ERROR_NOACCESS. Wine 8.0
 * commits, or changes the protection, before it fails on a read-only
 * output (todo). */
static void test_bad_arguments(void)
{
    char *a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE, PAGE_READWRITE);
    char *noaccess = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    void **readonly = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    MEMORY_BASIC_INFORMATION mbi;
    DWORD old_protect;
    ok(a && noaccess && readonly, "allocations: error %lu", GetLastError());
    if (!a || !noaccess || !readonly)
        return;
    ok(VirtualAlloc(a + PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) != NULL, "commit: error %lu", GetLastError());
    readonly[0] = a;
    readonly[1] = (void *)(SIZE_T)PAGE;
    ok(VirtualProtect(readonly, PAGE, PAGE_READONLY, &old_protect), "read-only page: error %lu", GetLastError());

    void *base = a;
    SIZE_T size = PAGE, got = 0xdead;
    ULONG old = 0x1234;
    LONG st = nt_alloc(GetCurrentProcess(), (void **)noaccess, 0, &size, MEM_COMMIT, PAGE_READWRITE);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtAllocateVirtualMemory, address unreadable: %#lx", st);
    st = nt_alloc(GetCurrentProcess(), &base, 0, (SIZE_T *)noaccess, MEM_COMMIT, PAGE_READWRITE);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtAllocateVirtualMemory, size unreadable: %#lx", st);
    st = nt_alloc(GetCurrentProcess(), readonly, 0, &size, MEM_COMMIT, PAGE_READWRITE);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtAllocateVirtualMemory, address read-only: %#lx", st);
    todo_wine ok(VirtualQuery(a, &mbi, sizeof(mbi)) && mbi.State == MEM_RESERVE,
                 "nothing committed through a read-only address: state %#lx", mbi.State);
    VirtualFree(a, PAGE, MEM_DECOMMIT);

    base = a + PAGE;
    st = nt_free(GetCurrentProcess(), (void **)noaccess, &size, MEM_DECOMMIT);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtFreeVirtualMemory, address unreadable: %#lx", st);
    st = nt_free(GetCurrentProcess(), &base, (SIZE_T *)noaccess, MEM_DECOMMIT);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtFreeVirtualMemory, size unreadable: %#lx", st);
    ok(VirtualQuery(a + PAGE, &mbi, sizeof(mbi)) && mbi.State == MEM_COMMIT,
       "nothing decommitted: state %#lx", mbi.State);

    st = nt_protect(GetCurrentProcess(), (void **)noaccess, &size, PAGE_READONLY, &old);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtProtectVirtualMemory, address unreadable: %#lx", st);
    st = nt_protect(GetCurrentProcess(), &base, &size, PAGE_READONLY, (ULONG *)noaccess);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtProtectVirtualMemory, old protection unwritable: %#lx", st);
    st = nt_protect(GetCurrentProcess(), &base, &size, PAGE_READONLY, (ULONG *)readonly);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtProtectVirtualMemory, old protection read-only: %#lx", st);
    todo_wine ok(VirtualQuery(a + PAGE, &mbi, sizeof(mbi)) && mbi.Protect == PAGE_READWRITE,
                 "protection unchanged: %#lx", mbi.Protect);
    VirtualProtect(a + PAGE, PAGE, PAGE_READWRITE, &old_protect);

    st = nt_query(GetCurrentProcess(), a + PAGE, 0, noaccess, sizeof(mbi), &got);
    ok(st == STATUS_ACCESS_VIOLATION_ && got == 0xdead, "NtQueryVirtualMemory into no access: %#lx, %#zx", st,
       got);
    st = nt_query(GetCurrentProcess(), a + PAGE, 0, readonly, sizeof(mbi), &got);
    ok(st == STATUS_ACCESS_VIOLATION_ && readonly[0] == a, "NtQueryVirtualMemory into read-only: %#lx", st);
    st = nt_query(GetCurrentProcess(), a + PAGE, 0, &mbi, sizeof(mbi), (SIZE_T *)noaccess);
    ok(st == STATUS_ACCESS_VIOLATION_, "NtQueryVirtualMemory, length unwritable: %#lx", st);
    SetLastError(0xdeadbeef);
    ok(!kb_query(a + PAGE, (MEMORY_BASIC_INFORMATION *)noaccess, sizeof(mbi)) && GetLastError() == ERROR_NOACCESS,
       "kernelbase VirtualQuery into no access: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!VirtualQuery(a + PAGE, (MEMORY_BASIC_INFORMATION *)noaccess, sizeof(mbi)) &&
           GetLastError() == ERROR_NOACCESS,
       "VirtualQuery into no access: error %lu", GetLastError());

    VirtualFree(a, 0, MEM_RELEASE);
    VirtualFree(noaccess, 0, MEM_RELEASE);
    VirtualFree(readonly, 0, MEM_RELEASE);
}

int main(void)
{
    HMODULE kb = GetModuleHandleA("kernelbase.dll"), nt = GetModuleHandleA("ntdll.dll");
    harness_init();
    if (!kb || !nt)
    {
        skip("kernelbase.dll or ntdll.dll not loaded");
        return harness_done();
    }
    kb_query = (query_fn)(void *)GetProcAddress(kb, "VirtualQuery");
    kb_protect = (protect_fn)(void *)GetProcAddress(kb, "VirtualProtect");
    kb_alloc = (alloc_fn)(void *)GetProcAddress(kb, "VirtualAlloc");
    kb_free = (free_fn)(void *)GetProcAddress(kb, "VirtualFree");
    nt_query = (nt_query_fn)(void *)GetProcAddress(nt, "NtQueryVirtualMemory");
    nt_protect = (nt_protect_fn)(void *)GetProcAddress(nt, "NtProtectVirtualMemory");
    nt_alloc = (nt_alloc_fn)(void *)GetProcAddress(nt, "NtAllocateVirtualMemory");
    nt_free = (nt_free_fn)(void *)GetProcAddress(nt, "NtFreeVirtualMemory");
    ok(kb_query && kb_protect && kb_alloc && kb_free && nt_query && nt_protect && nt_alloc && nt_free,
       "entry points found");
    test_paths();
    test_bad_arguments();
    return harness_done();
}
