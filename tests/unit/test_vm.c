/*
 * test_vm.c - the vm core against Windows' rules, natively.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include "../../src/host/host.h"

#include "../../src/vm/vm.h"
#include "unit.h"
#include "unit_memory.h"

static void test_reserve_commit_release(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 1024, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK(a && a % 65536 == 0, "allocation 64 KiB aligned: %#lx", (unsigned long)a);
    CHECK(((char *)a)[100] == 0, "fresh memory is zero");
    memset((void *)a, 0x5a, 4096);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a + 10, &info), MS_OK);
    CHECK_EQ(info.base, a);
    CHECK_EQ(info.allocation_base, a);
    CHECK_EQ(info.region_size, 4096);
    CHECK_EQ(info.state, VM_MEM_COMMIT);
    CHECK_EQ(info.protect, VM_PAGE_READWRITE);
    CHECK_EQ(info.type, VM_MEM_PRIVATE);
    /* The rest of the granule is free space. */
    CHECK_EQ(vm_query(a + 4096, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_FREE);
    CHECK_EQ(info.allocation_base, 0);
    size_t size = 0;
    uintptr_t b = a;
    CHECK_EQ(vm_free(&b, &size, VM_MEM_RELEASE), MS_OK);
    CHECK_EQ(size, 4096);
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_FREE);
    b = a;
    size = 0;
    CHECK_EQ(vm_free(&b, &size, VM_MEM_RELEASE), MS_ERROR_INVALID_ADDRESS);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_reserve_then_commit(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 16 * 4096, VM_MEM_RESERVE, VM_PAGE_NOACCESS), MS_OK);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_RESERVE);
    CHECK_EQ(info.protect, 0);
    CHECK_EQ(info.allocation_protect, VM_PAGE_NOACCESS);
    CHECK_EQ(info.region_size, 16 * 4096);
    CHECK(unit_faults((char *)a, 0), "reserved page faults");

    uintptr_t c = a + 2 * 4096 + 17;
    CHECK_EQ(vm_allocate(&c, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(c, a + 2 * 4096);                          /* rounded down to the page */
    CHECK_EQ(vm_query(a + 2 * 4096, &info), MS_OK);
    CHECK_EQ(info.region_size, 2 * 4096);                /* bytes 17..4113 touch two pages */
    ((char *)c)[5] = 7;
    uintptr_t again = c;
    CHECK_EQ(vm_allocate(&again, 4096, VM_MEM_COMMIT, VM_PAGE_READONLY), MS_OK);
    CHECK(((char *)c)[5] == 7, "recommit keeps contents");
    CHECK(unit_faults((char *)c, 1), "recommitted read-only page faults on write");
    CHECK(!unit_faults((char *)c, 0), "and reads");

    /* Committing past the reservation is refused. */
    uintptr_t past = a + 15 * 4096;
    CHECK_EQ(vm_allocate(&past, 2 * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);

    uint32_t old = 0;
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_READWRITE, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READONLY);
    CHECK_EQ(vm_protect(a, 4096, VM_PAGE_READWRITE, &old), MS_ERROR_INVALID_ADDRESS);   /* reserved page */
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_WRITECOPY, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_NOACCESS, &old), MS_OK);
    CHECK(unit_faults((char *)c, 0), "PAGE_NOACCESS faults on read");

    uintptr_t d = a + 2 * 4096;
    size_t size = 4096;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_OK);
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_RESERVE);
    CHECK_EQ(info.region_size, 3 * 4096);                /* pages 0..2 reserved, one region */
    d = a + 4096;
    size = 4096;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_RELEASE), MS_ERROR_INVALID_PARAMETER);
    size = 0;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_RELEASE), MS_ERROR_INVALID_ADDRESS);
    d = a;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_bad_parameters(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 0, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, 0, VM_PAGE_READWRITE), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, 0), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE | VM_PAGE_READONLY), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_WRITECOPY), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_NOACCESS | VM_PAGE_GUARD), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE | VM_PAGE_NOCACHE | VM_PAGE_GUARD),
             MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT | 0x40000000u, VM_PAGE_READWRITE), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT | VM_MEM_RESERVE | VM_MEM_LARGE_PAGES, VM_PAGE_READWRITE),
             MS_ERROR_PRIVILEGE_NOT_HELD);
    a = 0x800000000000ull;
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT | VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_ERROR_INVALID_PARAMETER);
    a = 0;
    CHECK_EQ(vm_allocate(&a, (size_t)-4096, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_ERROR_NOT_ENOUGH_MEMORY);
    /* Control Flow Guard's flag only with an executable protection, and
     * dropped: the region reads as the protection alone. */
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE | VM_PAGE_TARGETS_INVALID),
             MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_TARGETS_INVALID), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_allocate(&a, 4096, VM_MEM_COMMIT, VM_PAGE_EXECUTE_READ | VM_PAGE_TARGETS_INVALID), MS_OK);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.allocation_protect, VM_PAGE_EXECUTE_READ);
    CHECK_EQ(info.protect, VM_PAGE_EXECUTE_READ);
    uint32_t old = 0;
    CHECK_EQ(vm_protect(a, 4096, VM_PAGE_READWRITE | VM_PAGE_TARGETS_INVALID, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(a, 4096, VM_PAGE_EXECUTE_READWRITE | VM_PAGE_TARGETS_INVALID, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_EXECUTE_READ);
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_EXECUTE_READWRITE);
    size_t none = 0;
    CHECK_EQ(vm_free(&a, &none, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_fixed_address_and_collision(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 3 * 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    uintptr_t inside = a + 65536 + 123;
    CHECK_EQ(vm_allocate(&inside, 4096, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    size_t size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    /* A reservation at a requested unaligned address rounds down to 64 KiB. */
    uintptr_t want = a + 65536 + 123;
    CHECK_EQ(vm_allocate(&want, 100, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(want, a + 65536);
    struct vm_region_info info;
    CHECK_EQ(vm_query(want, &info), MS_OK);
    CHECK_EQ(info.region_size, 4096);
    size = 0;
    CHECK_EQ(vm_free(&want, &size, VM_MEM_RELEASE), MS_OK);
    /* Memory nobody reserved through the core is not the core's. */
    void *foreign = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_EQ(vm_query((uintptr_t)foreign, &info), VM_NOT_OWNED);
    uintptr_t f = (uintptr_t)foreign;
    size = 0;
    CHECK_EQ(vm_free(&f, &size, VM_MEM_RELEASE), VM_NOT_OWNED);
    CHECK_EQ(vm_protect(f, 4096, VM_PAGE_READONLY, NULL), VM_NOT_OWNED);
    /* A fixed reservation over it collides. */
    f = (uintptr_t)foreign;
    CHECK_EQ(vm_allocate(&f, 4096, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    munmap(foreign, 65536);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_top_down_and_reuse(void)
{
    /* Bottom-up placement fills upwards, top-down downwards (the arenas'
     * own order depends on the host, natively). */
    uintptr_t lo = 0, lo2 = 0, hi = 0, hi2 = 0;
    CHECK_EQ(vm_allocate(&lo, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_allocate(&lo2, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK(lo2 > lo, "bottom-up goes up: %#lx > %#lx", (unsigned long)lo2, (unsigned long)lo);
    CHECK_EQ(vm_allocate(&hi, 65536, VM_MEM_RESERVE | VM_MEM_TOP_DOWN, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_allocate(&hi2, 65536, VM_MEM_RESERVE | VM_MEM_TOP_DOWN, VM_PAGE_READWRITE), MS_OK);
    CHECK(hi2 < hi, "top-down goes down: %#lx < %#lx", (unsigned long)hi2, (unsigned long)hi);
    struct vm_region_info info;
    CHECK_EQ(vm_query(hi + 65536 - 1, &info), MS_OK);
    CHECK(info.base + info.region_size == hi + 65536, "first top-down block ends its arena's used space");
    size_t size = 0;
    uintptr_t again = 0;
    CHECK_EQ(vm_free(&lo, &size, VM_MEM_RELEASE), MS_OK);
    CHECK_EQ(vm_allocate(&again, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(again, lo);                                 /* released space is reused, lowest first */
    uintptr_t all[] = { again, lo2, hi, hi2 };
    for (int i = 0; i < 4; i++) {
        size = 0;
        CHECK_EQ(vm_free(&all[i], &size, VM_MEM_RELEASE), MS_OK);
    }
}

static void test_commit_limit(void)
{
    struct vm_counters before;
    vm_get_counters(&before);
    vm_set_commit_limit(before.committed_bytes + 8 * 4096);
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 16 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_COMMITMENT_LIMIT);
    a = 0;
    CHECK_EQ(vm_allocate(&a, 8 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    struct vm_counters now;
    vm_get_counters(&now);
    CHECK_EQ(now.committed_bytes, before.committed_bytes + 8 * 4096);
    size_t size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    vm_set_commit_limit(0);
    vm_get_counters(&now);
    CHECK_EQ(now.committed_bytes, before.committed_bytes);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_large_dedicated(void)
{
    uintptr_t a = 0;
    size_t big = (size_t)2 << 30;
    CHECK_EQ(vm_allocate(&a, big, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a + big - 1, &info), MS_OK);
    CHECK_EQ(info.allocation_base, a);
    CHECK_EQ(info.region_size, 4096);
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.region_size, big);
    size_t size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(!vm_owns(a), "a dedicated arena goes with its allocation");
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* A huge reservation with a few pages committed in its middle (a 1 TiB
 * JavaScript sandbox, a garbage collector's heap): decommitting and
 * releasing them reads only the committed span of the page map (a byte
 * per page: 64 MiB for 256 GiB), and writes none of the rest. Reading the
 * whole map faulted in every page of it (16,384 minor faults here), and
 * rewriting it gave each its own host page. */
static void test_huge_reservation_release(void)
{
    uintptr_t a = 0;
    size_t huge = (size_t)256 << 30;
    CHECK_EQ(vm_allocate(&a, huge, VM_MEM_RESERVE, VM_PAGE_NOACCESS), MS_OK);
    if (!a)
        return;
    uintptr_t mid = a + huge / 2, c = mid;
    CHECK_EQ(vm_allocate(&c, 16 * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    ((volatile char *)mid)[0] = 1;
    /* VirtualQuery of its reserved parts, before and after the pages. */
    long before = minor_faults();
    struct vm_region_info info;
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK(info.state == VM_MEM_RESERVE && info.region_size == huge / 2, "first half: state %#x size %#zx",
          info.state, info.region_size);
    CHECK_EQ(vm_query(mid + 16 * 4096, &info), MS_OK);
    CHECK(info.state == VM_MEM_RESERVE && info.region_size == huge / 2 - 16 * 4096, "second half: size %#zx",
          info.region_size);
    CHECK_EQ(vm_query(mid, &info), MS_OK);
    CHECK(info.state == VM_MEM_COMMIT && info.region_size == 16 * 4096, "committed: size %#zx", info.region_size);
    long faults = minor_faults() - before;
    CHECK(faults < 512, "three queries of a 256 GiB reservation took %ld minor faults", faults);
    before = minor_faults();
    uintptr_t d = mid + 4096;
    size_t len = 4096;
    CHECK_EQ(vm_free(&d, &len, VM_MEM_DECOMMIT), MS_OK);
    CHECK_EQ(vm_query(mid + 4096, &info), MS_OK);
    CHECK(info.state == VM_MEM_RESERVE && info.region_size == 4096, "decommitted page: size %#zx",
          info.region_size);
    size_t size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    faults = minor_faults() - before;
    CHECK(faults < 512, "decommit and release of 16 pages in 256 GiB took %ld minor faults", faults);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_decommit_past_end_and_guard(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 2 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    uintptr_t d = a;
    size_t size = 3 * 4096;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_ERROR_INVALID_PARAMETER);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_COMMIT);                 /* nothing changed */
    uint32_t old;
    CHECK_EQ(vm_protect(a + 4096, 4096, VM_PAGE_READWRITE | VM_PAGE_GUARD, &old), MS_OK);
    CHECK(unit_faults((char *)a + 4096, 0), "guard page faults on first touch");
    CHECK(vm_guard_page_hit(a + 4096 + 8), "the fault is reported as a guard hit");
    CHECK(!unit_faults((char *)a + 4096, 0), "second touch succeeds");
    CHECK(!vm_guard_page_hit(a + 4096), "the guard is gone");
    CHECK(!vm_guard_page_hit(a), "an ordinary page is no guard page");
    CHECK_EQ(vm_query(a + 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_READWRITE);
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
}

static void test_views(void)
{
    int fd = memfd_create("memshim-test", 0);
    CHECK(fd >= 0, "memfd");
    CHECK(ftruncate(fd, 4 * 4096) == 0, "ftruncate");
    uintptr_t shared = 0, copy = 0, ro = 0;
    CHECK_EQ(vm_map_view(&shared, 4 * 4096, VM_PAGE_READWRITE, fd, 0, true, false, NULL), MS_OK);
    CHECK_EQ(vm_map_view(&copy, 4 * 4096, VM_PAGE_WRITECOPY, fd, 0, false, false, NULL), MS_OK);
    CHECK_EQ(vm_map_view(&ro, 4 * 4096, VM_PAGE_READONLY, fd, 0, true, false, NULL), MS_OK);
    ((char *)shared)[0] = 1;
    CHECK(((char *)ro)[0] == 1 && ((char *)copy)[0] == 1, "views share the pages");
    ((char *)copy)[4096] = 2;
    CHECK(((char *)shared)[4096] == 0, "a copy-on-write view keeps its write");
    struct vm_region_info info;
    CHECK_EQ(vm_query(copy, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_WRITECOPY);
    CHECK_EQ(info.region_size, 4096);                    /* page 0 not copied, page 1 copied */
    CHECK_EQ(info.type, VM_MEM_MAPPED);
    CHECK_EQ(vm_query(copy + 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_READWRITE);
    CHECK_EQ(info.region_size, 4096);
    CHECK_EQ(vm_query(copy + 2 * 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_WRITECOPY);
    CHECK_EQ(info.region_size, 2 * 4096);
    /* A view takes only protections within the accesses it was mapped
     * with; PAGE_WRITECOPY counts as reading (its writes go to a copy). */
    uint32_t old;
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_READWRITE, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_EXECUTE_READ, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_WRITECOPY, &old), MS_OK);
    CHECK_EQ(vm_protect(copy + 2 * 4096, 4096, VM_PAGE_READWRITE, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(copy + 2 * 4096, 4096, VM_PAGE_EXECUTE_WRITECOPY, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(shared + 3 * 4096, 4096, VM_PAGE_EXECUTE_READWRITE, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_NOACCESS, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_WRITECOPY);
    CHECK_EQ(vm_protect(shared, 4096, VM_PAGE_WRITECOPY, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READWRITE);
    /* MEM_COMMIT on a view: its pages are the section's, committed; the
     * protection asked for is set by the same rule. */
    ((char *)shared)[4096 + 8] = 7;
    uintptr_t c = shared + 4096 + 100;
    CHECK_EQ(vm_allocate(&c, 4096, VM_MEM_COMMIT, VM_PAGE_READONLY), MS_OK);
    CHECK_EQ(c, shared + 4096);
    CHECK_EQ(vm_query(shared + 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_READONLY);
    CHECK_EQ(info.region_size, 2 * 4096);               /* every page [addr, addr + size) touches */
    CHECK(((char *)shared)[4096 + 8] == 7, "committing again keeps the data");
    c = shared + 4096;
    CHECK_EQ(vm_allocate(&c, 4096, VM_MEM_COMMIT, VM_PAGE_EXECUTE_READ), MS_ERROR_INVALID_PARAMETER);
    c = shared + 4096;
    CHECK_EQ(vm_allocate(&c, 8 * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    size_t zero = 0;
    uintptr_t v = shared;
    CHECK_EQ(vm_free(&v, &zero, VM_MEM_RELEASE), MS_ERROR_INVALID_PARAMETER);   /* not VirtualFree's */
    CHECK_EQ(vm_unmap_view(shared + 100, NULL), MS_OK);                          /* any address inside */
    CHECK_EQ(vm_unmap_view(copy, NULL), MS_OK);
    CHECK_EQ(vm_unmap_view(ro, NULL), MS_OK);
    CHECK_EQ(vm_unmap_view(ro, NULL), MS_ERROR_INVALID_ADDRESS);
    close(fd);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

static void test_lock(void)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 4 * 4096, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    uintptr_t c = a;
    CHECK_EQ(vm_allocate(&c, 3 * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    uint32_t old;
    CHECK_EQ(vm_protect(a + 2 * 4096, 4096, VM_PAGE_NOACCESS, &old), MS_OK);
    CHECK_EQ(vm_lock(a, 4096), MS_OK);
    CHECK_EQ(vm_lock(a + 3 * 4096, 4096), MS_ERROR_NOACCESS);      /* reserved */
    CHECK_EQ(vm_lock(a + 2 * 4096, 4096), MS_ERROR_NOACCESS);      /* PAGE_NOACCESS */
    CHECK_EQ(vm_lock(a, 5 * 4096), MS_ERROR_NOACCESS);             /* past the allocation */
    CHECK_EQ(vm_unlock(a + 4096, 4096), MS_ERROR_NOT_LOCKED);
    CHECK_EQ(vm_unlock(a, 2 * 4096), MS_ERROR_NOT_LOCKED);         /* page 1 is not locked */
    CHECK_EQ(vm_unlock(a + 100, 1), MS_OK);
    CHECK_EQ(vm_unlock(a, 4096), MS_ERROR_NOT_LOCKED);             /* twice */
    /* Decommitting drops the lock with the pages. */
    CHECK_EQ(vm_lock(a + 4096, 4096), MS_OK);
    uintptr_t d = a + 4096;
    size_t size = 4096;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_OK);
    d = a + 4096;
    CHECK_EQ(vm_allocate(&d, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_unlock(a + 4096, 4096), MS_ERROR_NOT_LOCKED);
    /* Beyond RLIMIT_MEMLOCK (an ordinary user's case) the host refuses. */
    struct rlimit rl;
    if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < ((rlim_t)256 << 20)) {
        uintptr_t big = 0;
        size_t len = (size_t)rl.rlim_cur + (1u << 20);
        CHECK_EQ(vm_allocate(&big, len, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
        CHECK_EQ(vm_lock(big, len), MS_ERROR_WORKING_SET_QUOTA);
        CHECK_EQ(vm_unlock(big, 4096), MS_ERROR_NOT_LOCKED);        /* nothing was locked */
        size = 0;
        CHECK_EQ(vm_free(&big, &size, VM_MEM_RELEASE), MS_OK);
    } else {
        printf("# root may lock past RLIMIT_MEMLOCK: the quota case runs as user nobody\n");
    }
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

/* The mapping budget with a small injected vm.max_map_count: protection
 * changes stop 1000 mappings short of it, commits 500 short, with
 * ERROR_NOT_ENOUGH_MEMORY and nothing changed; freeing gives room back. */
static void test_map_budget(void)
{
    enum { NPAGES = 2000 };
    uintptr_t a = 0, b = 0;
    size_t size;
    uint32_t old;
    long now = unit_count_maps();
    CHECK(now > 0, "read /proc/self/maps: %ld lines", now);
    long limit = now + 1000 + 300;      /* room for about 300 more mappings */
    vm_set_map_limit(limit);
    CHECK_EQ(vm_allocate(&a, NPAGES * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    long refused = 0, first = -1;
    ms_status first_status = MS_OK;
    for (long i = 1; i < NPAGES; i += 2) {
        ms_status st = vm_protect(a + (uintptr_t)i * 4096, 4096, VM_PAGE_READONLY, &old);
        if (st != MS_OK && !refused++) {
            first = i;
            first_status = st;
        }
    }
    long after = unit_count_maps();
    printf("# budget: %ld mappings before, limit %ld, %ld after; %ld changes refused from page %ld\n", now, limit,
           after, refused, first);
    CHECK(refused > 0 && first > 0, "changes past the budget refused: %ld", refused);
    CHECK_EQ(first_status, MS_ERROR_NOT_ENOUGH_MEMORY);
    CHECK(after <= limit - 1000 + 16, "the process keeps 1000 mappings free: %ld of %ld", after, limit);
    CHECK(after >= limit - 1000 - 64, "the budget is used: %ld of %ld", after, limit);
    long estimate = vm_map_estimate();
    CHECK(estimate >= after - 16 && estimate <= after + 16, "estimate %ld, real %ld", estimate, after);
    /* A refused page: the map and the host still say read-write. */
    struct vm_region_info info;
    CHECK_EQ(vm_query(a + (uintptr_t)first * 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_READWRITE);
    CHECK(!unit_faults((char *)a + first * 4096, 1), "a refused page is still writable");
    CHECK(unit_faults((char *)a + (first - 2) * 4096, 1), "the last page changed is read-only");
    /* Turning a page back merges mappings: always allowed. */
    CHECK_EQ(vm_protect(a + (uintptr_t)(first - 2) * 4096, 4096, VM_PAGE_READWRITE, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READONLY);
    /* Commits still have the 500 between the two margins. */
    CHECK_EQ(vm_allocate(&b, 65536, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    ((char *)b)[10] = 1;
    size = 0;
    CHECK_EQ(vm_free(&b, &size, VM_MEM_RELEASE), MS_OK);
    /* ...but not past theirs. */
    vm_set_map_limit(unit_count_maps() + 500);
    b = 0;
    CHECK_EQ(vm_allocate(&b, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_allocate(&b, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_NOT_ENOUGH_MEMORY);
    CHECK_EQ(vm_query(b, &info), MS_OK);
    CHECK_EQ(info.state, VM_MEM_RESERVE);
    size = 0;
    CHECK_EQ(vm_free(&b, &size, VM_MEM_RELEASE), MS_OK);
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    vm_set_map_limit(0);
    long freed = unit_count_maps();
    CHECK(freed <= now + 16, "release gives the mappings back: %ld (before %ld)", freed, now);
    uintptr_t c = 0;
    CHECK_EQ(vm_allocate(&c, 4 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_protect(c + 4096, 4096, VM_PAGE_READONLY, &old), MS_OK);
    size = 0;
    CHECK_EQ(vm_free(&c, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* With the budget out of the way, the host's own limit: mprotect fails with
 * ENOMEM, the call fails with ERROR_NOT_ENOUGH_MEMORY, the page keeps its
 * protection in the map and on the host, and the process can go on. */
static void test_host_refusal(void)
{
    enum { NPAGES = 140000 };   /* more than 65530 mappings' worth */
    if (UNDER_SANITIZER) {
        printf("# host mapping limit: not under a sanitizer (its runtime needs mappings too)\n");
        return;
    }
    uintptr_t a = 0;
    size_t size;
    uint32_t old;
    vm_set_map_limit(1L << 40);         /* no budget: let the host refuse */
    CHECK_EQ(vm_allocate(&a, (size_t)NPAGES * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    long failed = -1;
    ms_status st = MS_OK;
    for (long i = 1; i < NPAGES && failed < 0; i += 2) {
        st = vm_protect(a + (uintptr_t)i * 4096, 4096, VM_PAGE_READONLY, &old);
        if (st != MS_OK)
            failed = i;
    }
    long at_limit = unit_count_maps();
    printf("# host refused page %ld with %ld mappings\n", failed, at_limit);
    CHECK(failed > 0, "the host refused a change: page %ld", failed);
    CHECK_EQ(st, MS_ERROR_NOT_ENOUGH_MEMORY);
    struct vm_region_info info;
    CHECK_EQ(vm_query(a + (uintptr_t)failed * 4096, &info), MS_OK);
    CHECK_EQ(info.protect, VM_PAGE_READWRITE);
    /* Nothing from it on was changed: one read-write region to the end. */
    CHECK_EQ(info.region_size, (size_t)(NPAGES - failed) * 4096);
    CHECK(!unit_faults((char *)a + failed * 4096, 1), "the refused page is still writable");
    CHECK(unit_faults((char *)a + (failed - 2) * 4096, 1), "the page before it is read-only");
    CHECK_EQ(vm_protect(a + (uintptr_t)(failed + 2) * 4096, 4096, VM_PAGE_READONLY, &old), MS_ERROR_NOT_ENOUGH_MEMORY);
    /* Merging is still possible, and gives room back. */
    CHECK_EQ(vm_protect(a + (uintptr_t)(failed - 2) * 4096, 4096, VM_PAGE_READWRITE, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READONLY);
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    vm_set_map_limit(0);
    CHECK(unit_count_maps() < 1000, "released: %ld mappings", unit_count_maps());
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

/* Is the page backed by memory or swap (pagemap bits 63, 62)? */
static int page_resident(const void *p)
{
    FILE *f = fopen("/proc/self/pagemap", "rb");
    uint64_t e = 0;
    if (!f)
        return -1;
    fseek(f, (long)((uintptr_t)p / 4096 * 8), SEEK_SET);
    size_t got = fread(&e, 8, 1, f);
    fclose(f);
    return got == 1 && (e >> 62) != 0;
}

/* The host takes a reset page back, as it would under memory pressure. */
static void host_reclaims(char *page)
{
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
    madvise(page, 4096, MADV_PAGEOUT);
    if (page_resident(page) != 0)
        madvise(page, 4096, MADV_DONTNEED);
}

/* MEM_RESET_UNDO succeeds only if every page reset with contents still has
 * them; a page the host took back makes it fail, with nothing changed. */
static void test_reset_undo(void)
{
    uintptr_t a = 0, at;
    size_t size;
    char *p;
    CHECK_EQ(vm_allocate(&a, 5 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    p = (char *)a;
    memset(p, 0x11, 4096);
    memset(p + 4096, 0x22, 4096);
    /* page 2 never touched */
    memset(p + 3 * 4096, 0x33, 4096);
    at = a;
    CHECK_EQ(vm_allocate(&at, 4 * 4096, VM_MEM_RESET, VM_PAGE_READWRITE), MS_OK);
    host_reclaims(p + 4096);
    CHECK(page_resident(p + 4096) == 0, "page 1 taken back by the host");

    at = a;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_OK);
    CHECK(p[0] == 0x11 && p[4095] == 0x11, "page 0 intact");
    at = a + 2 * 4096;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_OK);
    at = a;
    CHECK_EQ(vm_allocate(&at, 4 * 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    CHECK(p[4096] == 0, "page 1 lost its contents");
    at = a + 3 * 4096;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_OK);
    CHECK(p[3 * 4096] == 0x33, "page 3 intact");
    /* Written again after the reset: the contents are the program's. */
    p[4096] = 0x44;
    at = a;
    CHECK_EQ(vm_allocate(&at, 4 * 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_OK);
    /* A read-only page is kept too, and stays read-only. */
    uint32_t old;
    CHECK_EQ(vm_protect(a, 4096, VM_PAGE_READONLY, &old), MS_OK);
    at = a;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET, VM_PAGE_READONLY), MS_OK);
    at = a;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET_UNDO, VM_PAGE_READONLY), MS_OK);
    CHECK(p[0] == 0x11, "read-only page intact");
    CHECK(unit_faults(p, 1), "and still read-only");
    /* Decommit forgets the reset: a recommitted page is fresh, undo has
     * nothing to check. */
    at = a + 4096;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET, VM_PAGE_READWRITE), MS_OK);
    size = 4096;
    at = a + 4096;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_DECOMMIT), MS_OK);
    at = a + 4096;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    at = a;
    CHECK_EQ(vm_allocate(&at, 5 * 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_OK);
    /* Reserved pages are skipped; not past the allocation. */
    size = 4096;
    at = a + 4 * 4096;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_DECOMMIT), MS_OK);
    at = a + 4 * 4096;
    CHECK_EQ(vm_allocate(&at, 4096, VM_MEM_RESET, VM_PAGE_READWRITE), MS_OK);
    at = a + 4 * 4096;      /* the allocation is 5 pages: the rest of the granule is free */
    CHECK_EQ(vm_allocate(&at, 2 * 4096, VM_MEM_RESET, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    at = a + 4 * 4096;
    CHECK_EQ(vm_allocate(&at, 2 * 4096, VM_MEM_RESET_UNDO, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

/* The host protection of the mapping holding addr, from /proc/self/maps
 * ("rw-", "r--", ...), or "" when not found. */
static const char *maps_prot(uintptr_t addr, char out[4])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    out[0] = 0;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            memcpy(out, perms, 3);
            out[3] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
    return out;
}

/* Whether the mapping holding addr is kept apart from its neighbours
 * (host_isolate: "dc" among its VmFlags in /proc/self/smaps); -1 if no
 * mapping holds addr. */
static int maps_isolated(uintptr_t addr)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0, result = -1;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char c;
        if (sscanf(line, "%lx-%lx %c", &lo, &hi, &c) == 3 && strchr(line, ' ') && line[0] != 'V')
            in = addr >= lo && addr < hi;
        else if (in && !strncmp(line, "VmFlags:", 8)) {
            result = strstr(line, " dc") != NULL;
            break;
        }
    }
    if (f)
        fclose(f);
    return result;
}

/* A run re-protected again and again becomes a mapping of its own after
 * the second time (and only that run): from then on the mapping count is
 * the same whichever way it is toggled, the host still enforces each
 * protection, and releasing the allocation gives the mappings back. */
static void test_protect_toggle_isolation(void)
{
    uintptr_t a = 0;
    uint32_t old;
    CHECK_EQ(vm_allocate(&a, 16 * 4096, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    long before = unit_count_maps();
    uintptr_t page = a + 3 * 4096;
    long counts[8];
    int enforced = 1;
    char prot[4];
    for (int i = 0; i < 8; i++) {
        uint32_t want = (i & 1) ? VM_PAGE_READWRITE : VM_PAGE_READONLY;
        CHECK_EQ(vm_protect(page, 4096, want, &old), MS_OK);
        counts[i] = unit_count_maps();
        enforced &= !strcmp(maps_prot(page, prot), (i & 1) ? "rw-" : "r--");
    }
    CHECK(enforced, "the host enforces every toggle");
    CHECK(counts[2] == counts[3] && counts[3] == counts[6] && counts[6] == counts[7],
          "isolated run: %ld %ld %ld %ld mappings, no split or merge", counts[2], counts[3], counts[6], counts[7]);
    CHECK_EQ(maps_isolated(page), 1);
    CHECK_EQ(maps_isolated(page - 4096), 0);
    /* Another run of the same allocation still behaves as before. */
    CHECK_EQ(vm_protect(a + 9 * 4096, 4096, VM_PAGE_READONLY, &old), MS_OK);
    CHECK(!strcmp(maps_prot(a + 9 * 4096, prot), "r--") && !strcmp(maps_prot(a + 8 * 4096, prot), "rw-"),
          "other pages keep their own protection");
    size_t zero = 0;
    CHECK_EQ(vm_free(&a, &zero, VM_MEM_RELEASE), MS_OK);
    CHECK(unit_count_maps() <= before, "release gives the mappings back (%ld, was %ld)", unit_count_maps(), before);
    CHECK(maps_isolated(page) != 1, "no isolated run left behind after release");
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
}

/* host_fd_path: the path a file view's held section reopens; host_fd_identity:
 * what a section's descriptor is the same object by (section_cache.c). */
static void test_fd_path(void)
{
    char tmpl[] = "/tmp/memshim-fd-path-XXXXXX", real[4096], got[4096];
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0, "mkstemp");
    CHECK(realpath(tmpl, real) != NULL, "realpath");
    long len = host_fd_path(fd, got, sizeof(got));
    CHECK(len == (long)strlen(real) && !strcmp(got, real), "host_fd_path %ld '%s', expected '%s'", len, got, real);
    CHECK_EQ(host_fd_path(fd, got, 8), -36);    /* does not fit */
    CHECK(unlink(tmpl) == 0, "unlink");
    len = host_fd_path(fd, got, sizeof(got));
    CHECK(len > 10 && !strcmp(got + len - 10, " (deleted)"), "a deleted file's path: '%s'", got);
    struct host_file_identity id, dup_id;
    struct stat st;
    CHECK(ftruncate(fd, 12345) == 0 && fstat(fd, &st) == 0, "ftruncate, fstat");
    CHECK_EQ(host_fd_identity(fd, &id), 0);
    CHECK(id.device == (uint64_t)st.st_dev && id.inode == (uint64_t)st.st_ino && id.size == 12345,
          "host_fd_identity %#llx/%llu/%llu, expected %#llx/%llu/12345", (unsigned long long)id.device,
          (unsigned long long)id.inode, (unsigned long long)id.size, (unsigned long long)st.st_dev,
          (unsigned long long)st.st_ino);
    int other = dup(fd);
    CHECK(other >= 0 && host_fd_identity(other, &dup_id) == 0 && dup_id.inode == id.inode, "same file, same identity");
    close(other);
    close(fd);
    CHECK_EQ(host_fd_identity(fd, &id), -9);             /* EBADF */
    CHECK_EQ(host_fd_path(fd, got, sizeof(got)), -2);   /* ENOENT: no such fd */
    CHECK_EQ(host_fd_path(-1, got, sizeof(got)), -22);
}

/* host_create_anonymous_file and host_seal_anonymous_file_size: the file
 * of an unnamed section made by memshim (anonymous_section.c). Its size is
 * fixed once (a mapping of it can never lose pages to a truncation), only
 * its owner may open it again, it is in no directory, and it is
 * close-on-exec. */
static void test_anonymous_file(void)
{
    int fd = host_create_anonymous_file("memshim-unit");
    CHECK(fd >= 0, "host_create_anonymous_file: %d", fd);
    if (fd < 0)
        return;
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0, "starts empty: %lld", (long long)st.st_size);
    CHECK_EQ(host_seal_anonymous_file_size(fd, 3 * 4096), 0);
    CHECK_EQ(host_seal_anonymous_file_size(fd, 4 * 4096), -1);     /* EPERM: sized for good */
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * 4096, "size %lld", (long long)st.st_size);
    CHECK((st.st_mode & 0777) == 0600 && st.st_uid == getuid(), "mode %o owner %u", st.st_mode & 0777,
          (unsigned)st.st_uid);
    CHECK(ftruncate(fd, 4096) == -1 && errno == EPERM, "shrinking is refused (errno %d)", errno);
    CHECK(ftruncate(fd, 8 * 4096) == -1 && errno == EPERM, "growing is refused (errno %d)", errno);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
    char path[256];
    long len = host_fd_path(fd, path, sizeof(path));
    CHECK(len > 0 && !strcmp(path, "/memfd:memshim-unit (deleted)"), "in no directory: '%s'", path);
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap shared");
    if (p != MAP_FAILED) {
        CHECK(p[2 * 4096 + 5] == 0, "starts as zeros");
        p[2 * 4096 + 5] = 7;
        char back = 0;
        CHECK(pread(fd, &back, 1, 2 * 4096 + 5) == 1 && back == 7, "a write through the mapping is the file's");
        munmap(p, 3 * 4096);
    }
    close(fd);
    fd = host_create_anonymous_file("memshim-unit");
    CHECK(fd >= 0, "a second file: %d", fd);
    if (fd >= 0) {
        CHECK(host_seal_anonymous_file_size(fd, (uint64_t)1 << 63) < 0, "an impossible size is refused");
        close(fd);
    }
}

int main(void)
{
    test_fd_path();
    test_anonymous_file();
    CHECK_EQ(vm_init(0), MS_OK);
    test_reserve_commit_release();
    test_reserve_then_commit();
    test_bad_parameters();
    test_fixed_address_and_collision();
    test_top_down_and_reuse();
    test_commit_limit();
    test_large_dedicated();
    test_huge_reservation_release();
    test_decommit_past_end_and_guard();
    test_views();
    test_lock();
    test_reset_undo();
    test_protect_toggle_isolation();
    test_map_budget();
    test_host_refusal();
    return unit_done();
}
