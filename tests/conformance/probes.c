/*
 * Conformance: IsBad*Ptr and Read/WriteProcessMemory on the current process
 * see the real access of each page: committed, reserved, no-access,
 * read-only and guard pages (a probe of a guard page trips it, as on
 * Windows: the first probe says bad and clears the guard, the second says
 * good), and a copy that runs into an inaccessible page fails with
 * ERROR_PARTIAL_COPY; WriteProcessMemory patches code but refuses a
 * read-only first page.
 */
#include "harness.h"


static DWORD query_protect(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    return VirtualQuery(p, &m, sizeof(m)) ? m.Protect : 0;
}

static void test_probes(void)
{
    DWORD old;
    SIZE_T done;
    char buf[2 * PAGE];
    char *a = VirtualAlloc(NULL, 6 * PAGE, MEM_RESERVE, PAGE_READWRITE);
    ok(a != NULL, "reserve: error %lu", GetLastError());
    if (!a) return;
    ok(VirtualAlloc(a, 5 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "commit");
    strcpy(a, "hello");
    memset(a + PAGE - 3, 'x', 3);       /* no terminator before the read-only page */
    a[PAGE] = 0;                        /* but one right there */
    ok(VirtualProtect(a + PAGE, PAGE, PAGE_READONLY, &old), "READONLY");
    ok(VirtualProtect(a + 2 * PAGE, PAGE, PAGE_NOACCESS, &old), "NOACCESS");
    ok(VirtualProtect(a + 3 * PAGE, PAGE, PAGE_READWRITE | PAGE_GUARD, &old), "GUARD");

    ok(!IsBadReadPtr(a, PAGE), "committed page readable");
    ok(!IsBadWritePtr(a, PAGE), "committed page writable");
    ok(!IsBadReadPtr(a + PAGE, PAGE), "read-only page readable");
    ok(IsBadWritePtr(a + PAGE, PAGE), "read-only page not writable");
    ok(IsBadReadPtr(a + 2 * PAGE, 1), "no-access page not readable");
    ok(IsBadReadPtr(a + PAGE, 2 * PAGE), "a range running into a no-access page is bad");
    ok(IsBadReadPtr(a + 5 * PAGE, 1), "reserved page not readable");
    /* Wine 8.0's IsBadReadPtr does not catch the guard-page exception: the
     * program dies there. Only memshim and Windows get past it. */
    if (!is_wine_builtin())
    {
        ok(IsBadReadPtr(a + 3 * PAGE, 1), "guard page: the first probe says bad");
        ok(!IsBadReadPtr(a + 3 * PAGE, 1), "guard page: the second probe says good (the guard is gone)");
    }
    else
        skip("IsBadReadPtr of a guard page kills the process on Wine 8.0's builtin kernel32");
    ok(!IsBadReadPtr(a, 0) && !IsBadReadPtr(NULL, 0), "zero bytes are never bad");
    ok(IsBadReadPtr(NULL, 1), "NULL is bad");
    ok(!IsBadCodePtr((FARPROC)(void *)a), "IsBadCodePtr of a readable page");
    ok(IsBadCodePtr((FARPROC)(void *)(a + 2 * PAGE)), "IsBadCodePtr of a no-access page");
    ok(!IsBadStringPtrA(a, 100), "a terminated string");
    ok(!IsBadStringPtrA(a + PAGE - 3, 100), "a string ending on the next (read-only) page");
    ok(IsBadStringPtrA(a + 2 * PAGE, 10), "a string on a no-access page");
    ok(!IsBadStringPtrW((const WCHAR *)a, 0), "max 0 is never bad");

    /* Read/WriteProcessMemory on this process. */
    done = 0;
    ok(ReadProcessMemory(GetCurrentProcess(), a, buf, PAGE, &done) && done == PAGE, "RPM of a committed page");
    ok(!memcmp(buf, "hello", 6), "RPM copies the data");
    ok(WriteProcessMemory(GetCurrentProcess(), a + 4 * PAGE, "abc", 4, &done) && done == 4, "WPM");
    ok(!strcmp(a + 4 * PAGE, "abc"), "WPM wrote");
    /* WriteProcessMemory goes by the first page's protection, as Windows'
     * kernelbase does (Wine's current one is its copy): code is made
     * writable for the copy (code patching) and keeps its protection, a
     * read-only or no-access page is refused with ERROR_NOACCESS and not
     * written. Wine 8.0 writes read-only pages. */
    {
        char *code = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        ok(code && VirtualProtect(code, PAGE, PAGE_EXECUTE_READ, &old), "code page: error %lu", GetLastError());
        done = 0;
        ok(code && WriteProcessMemory(GetCurrentProcess(), code + 8, "\xc3", 1, &done) && done == 1,
           "WPM to a PAGE_EXECUTE_READ page: error %lu", GetLastError());
        ok(code && (unsigned char)code[8] == 0xc3 && query_protect(code) == PAGE_EXECUTE_READ,
           "WPM wrote the code page, which stays PAGE_EXECUTE_READ (%#lx)", code ? query_protect(code) : 0);
        if (code) VirtualFree(code, 0, MEM_RELEASE);
    }
    SetLastError(0xdeadbeef);
    done = 12345;
    todo_wine ok(!WriteProcessMemory(GetCurrentProcess(), a + PAGE + 8, "ro", 3, &done) &&
                 GetLastError() == ERROR_NOACCESS && done == 0,
                 "WPM to a read-only page: error %lu, %zu bytes", GetLastError(), (size_t)done);
    todo_wine ok(a[PAGE + 8] == 0, "the read-only page is not written");
    ok(IsBadWritePtr(a + PAGE, 1), "and the page is read-only");
    SetLastError(0xdeadbeef);
    todo_wine ok(!WriteProcessMemory(GetCurrentProcess(), a + 2 * PAGE, "na", 3, &done) &&
                 GetLastError() == ERROR_NOACCESS,
                 "WPM to a no-access page: error %lu", GetLastError());
    /* From a writable page into the read-only one: what fits is written. */
    SetLastError(0xdeadbeef);
    done = 12345;
    todo_wine ok(!WriteProcessMemory(GetCurrentProcess(), a + PAGE - 2, "abcd", 4, &done) &&
                 GetLastError() == ERROR_PARTIAL_COPY && done == 2,
                 "WPM running into a read-only page: error %lu, %zu bytes", GetLastError(), (size_t)done);
    SetLastError(0xdeadbeef);
    done = 12345;
    todo_wine ok(!ReadProcessMemory(GetCurrentProcess(), a + PAGE, buf, 2 * PAGE, &done),
       "RPM running into a no-access page fails");
    todo_wine ok(GetLastError() == ERROR_PARTIAL_COPY, "RPM partial: error %lu, expected 299", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(!ReadProcessMemory(GetCurrentProcess(), a + 5 * PAGE, buf, 16, &done), "RPM of a reserved page fails");
    todo_wine ok(GetLastError() == ERROR_PARTIAL_COPY || GetLastError() == ERROR_NOACCESS,
       "RPM of a reserved page: error %lu, expected 299 or 998", GetLastError());
    {
        WIN32_MEMORY_RANGE_ENTRY range = { a, 2 * PAGE };
        ok(PrefetchVirtualMemory(GetCurrentProcess(), 1, &range, 0), "PrefetchVirtualMemory: error %lu",
           GetLastError());
        ok(a[0] == 'h', "prefetched memory keeps its contents");
        /* An empty range is refused (STATUS_INVALID_PARAMETER_4, Wine's
         * tests of NtSetInformationVirtualMemory). */
        WIN32_MEMORY_RANGE_ENTRY empty = { a, 0 };
        SetLastError(0xdeadbeef);
        ok(!PrefetchVirtualMemory(GetCurrentProcess(), 1, &empty, 0) && GetLastError() == ERROR_INVALID_PARAMETER,
           "PrefetchVirtualMemory of an empty range: error %lu", GetLastError());
        /* An array the program cannot read: Windows' probe, ERROR_NOACCESS. */
        char *noaccess = VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
        SetLastError(0xdeadbeef);
        ok(noaccess && !PrefetchVirtualMemory(GetCurrentProcess(), 1, (WIN32_MEMORY_RANGE_ENTRY *)noaccess, 0) &&
               GetLastError() == ERROR_NOACCESS,
           "PrefetchVirtualMemory of an unreadable array: error %lu", GetLastError());
        VirtualFree(noaccess, 0, MEM_RELEASE);
    }
    ok(VirtualFree(a, 0, MEM_RELEASE), "release");
}

int main(void)
{
    harness_init();
    test_probes();
    return harness_done();
}
