/*
 * Conformance: VirtualLock and VirtualUnlock. Only committed, accessible
 * pages can be locked (Microsoft's documentation); unlocking a page that is
 * not locked fails with ERROR_NOT_LOCKED (documented too; Wine 8.0 does not
 * track locks); decommitting a page drops its lock.
 */
#include "harness.h"


static void test_lock(void)
{
    DWORD old;
    char *a = VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE, PAGE_READWRITE);
    ok(a != NULL, "reserve: error %lu", GetLastError());
    if (!a) return;
    ok(VirtualAlloc(a, 3 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a, "commit: error %lu", GetLastError());
    ok(VirtualProtect(a + 2 * PAGE, PAGE, PAGE_NOACCESS, &old), "protect: error %lu", GetLastError());

    ok(VirtualLock(a, PAGE), "VirtualLock of a committed page: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!VirtualLock(a + 3 * PAGE, PAGE), "VirtualLock of a reserved page fails");
    /* Which of the two Windows reports is not pinned down here (memshim
     * says ERROR_NOACCESS, Wine ERROR_ACCESS_DENIED); either way it fails. */
    ok(GetLastError() == ERROR_NOACCESS || GetLastError() == ERROR_ACCESS_DENIED,
       "VirtualLock of a reserved page: error %lu, expected 998 or 5", GetLastError());
    SetLastError(0xdeadbeef);
    ok(!VirtualLock(a + 2 * PAGE, PAGE), "VirtualLock of a PAGE_NOACCESS page fails");
    ok(GetLastError() == ERROR_NOACCESS || GetLastError() == ERROR_ACCESS_DENIED,
       "VirtualLock of PAGE_NOACCESS: error %lu, expected 998 or 5", GetLastError());

    SetLastError(0xdeadbeef);
    todo_wine ok(!VirtualUnlock(a + PAGE, PAGE), "VirtualUnlock of a page that is not locked fails");
    todo_wine ok(GetLastError() == ERROR_NOT_LOCKED, "VirtualUnlock of an unlocked page: error %lu, expected 158",
                 GetLastError());
    ok(VirtualUnlock(a, PAGE), "VirtualUnlock of the locked page: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(!VirtualUnlock(a, PAGE), "a second VirtualUnlock fails");
    todo_wine ok(GetLastError() == ERROR_NOT_LOCKED, "second VirtualUnlock: error %lu, expected 158",
                 GetLastError());

    /* The lock goes with the pages. */
    ok(VirtualLock(a + PAGE, PAGE), "VirtualLock: error %lu", GetLastError());
    ok(VirtualFree(a + PAGE, PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    ok(VirtualAlloc(a + PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) == a + PAGE, "recommit: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    todo_wine ok(!VirtualUnlock(a + PAGE, PAGE), "VirtualUnlock after decommit+recommit fails");
    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());
}

int main(void)
{
    harness_init();
    test_lock();
    return harness_done();
}
