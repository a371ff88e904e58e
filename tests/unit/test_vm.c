/*
 * test_vm.c - the vm core against Windows' rules, natively.
 */
#include <signal.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/host/host.h"
#include "../../src/vm/vm.h"
#include "unit.h"

static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
    (void)sig;
    siglongjmp(fault_jump, 1);
}

/* Does touching addr (read or write) fault? */
static int faults(volatile char *addr, int write)
{
    struct sigaction sa = { 0 }, old_segv, old_bus;
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    int faulted = 0;
    if (sigsetjmp(fault_jump, 1) == 0) {
        if (write)
            *addr = 1;
        else
            (void)*addr;
    } else {
        faulted = 1;
    }
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return faulted;
}

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
    CHECK(faults((char *)a, 0), "reserved page faults");

    uintptr_t c = a + 2 * 4096 + 17;
    CHECK_EQ(vm_allocate(&c, 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(c, a + 2 * 4096);                          /* rounded down to the page */
    CHECK_EQ(vm_query(a + 2 * 4096, &info), MS_OK);
    CHECK_EQ(info.region_size, 2 * 4096);                /* bytes 17..4113 touch two pages */
    ((char *)c)[5] = 7;
    uintptr_t again = c;
    CHECK_EQ(vm_allocate(&again, 4096, VM_MEM_COMMIT, VM_PAGE_READONLY), MS_OK);
    CHECK(((char *)c)[5] == 7, "recommit keeps contents");
    CHECK(faults((char *)c, 1), "recommitted read-only page faults on write");
    CHECK(!faults((char *)c, 0), "and reads");

    /* Committing past the reservation is refused. */
    uintptr_t past = a + 15 * 4096;
    CHECK_EQ(vm_allocate(&past, 2 * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_ERROR_INVALID_ADDRESS);

    uint32_t old = 0;
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_READWRITE, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READONLY);
    CHECK_EQ(vm_protect(a, 4096, VM_PAGE_READWRITE, &old), MS_ERROR_INVALID_ADDRESS);   /* reserved page */
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_WRITECOPY, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(c, 4096, VM_PAGE_NOACCESS, &old), MS_OK);
    CHECK(faults((char *)c, 0), "PAGE_NOACCESS faults on read");

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
    CHECK(faults((char *)a + 4096, 0), "guard page faults on first touch");
    CHECK(vm_guard_page_hit(a + 4096 + 8), "the fault is reported as a guard hit");
    CHECK(!faults((char *)a + 4096, 0), "second touch succeeds");
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
    uint32_t old;
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_READWRITE, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_WRITECOPY, &old), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_protect(ro, 4096, VM_PAGE_NOACCESS, &old), MS_OK);
    CHECK_EQ(vm_protect(shared, 4096, VM_PAGE_WRITECOPY, &old), MS_OK);
    CHECK_EQ(old, VM_PAGE_READWRITE);
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

/* host_fd_path: the path a file view's held section reopens. */
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
    close(fd);
    CHECK_EQ(host_fd_path(fd, got, sizeof(got)), -2);   /* ENOENT: no such fd */
    CHECK_EQ(host_fd_path(-1, got, sizeof(got)), -22);
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    test_fd_path();
    test_reserve_commit_release();
    test_reserve_then_commit();
    test_bad_parameters();
    test_fixed_address_and_collision();
    test_top_down_and_reuse();
    test_commit_limit();
    test_large_dedicated();
    test_decommit_past_end_and_guard();
    test_views();
    test_lock();
    return unit_done();
}
