/*
 * test_vm_keep.c - kept ranges (src/vm/vm_keep.c), natively: a released
 * heap segment's committed pages come back to the next warm reservation
 * with their contents, while to everybody else the range is free memory
 * that faults on touch and that any allocation or view gets as fresh zero
 * pages; the bound on entries; host failures; two threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/host/host.h"
#include "../../src/vm/vm.h"
#include "unit.h"
#include "unit_memory.h"

#define SEG   ((size_t)4 << 20)
#define META  ((size_t)320 << 10)
#define MIB   ((size_t)1 << 20)

static uint64_t kept_now(void)
{
    struct vm_counters c;
    vm_get_counters(&c);
    return c.kept_bytes;
}

static uint64_t committed_now(void)
{
    struct vm_counters c;
    vm_get_counters(&c);
    return c.committed_bytes;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* A segment as the heap makes one: 4 MiB at a 4 MiB boundary, metadata
 * committed, then `more` bytes beyond it committed too. */
static uintptr_t segment(size_t more, size_t *stale)
{
    uintptr_t base = 0;
    if (vm_reserve_warm(&base, SEG, META, SEG, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL, stale) != MS_OK)
        return 0;
    if (more && vm_commit_internal(base + META, more) != MS_OK)
        return 0;
    return base;
}

/* With no range kept before: a segment whose metadata start is filled
 * with `fill`, released and kept. Returns its base. */
static uintptr_t kept_segment(int fill)
{
    vm_keep_drop_all();
    size_t stale;
    uintptr_t base = segment(0, &stale);
    memset((char *)base, fill, META);
    CHECK_EQ(vm_release_keep(base), MS_OK);
    return base;
}

static void test_kept_and_reused(void)
{
    vm_keep_drop_all();
    size_t stale = 1;
    uint64_t committed0 = committed_now();
    uintptr_t base = segment(MIB, &stale);
    CHECK(base && (base & (SEG - 1)) == 0, "segment at %#lx", (unsigned long)base);
    CHECK_EQ(stale, 0);
    CHECK(all_zero((char *)base, META + MIB), "a fresh segment reads zero");
    memset((char *)base, 0x5A, 4096);
    memset((char *)base + META + MIB - 4096, 0xA5, 4096);
    CHECK_EQ(committed_now() - committed0, META + MIB);

    CHECK_EQ(vm_release_keep(base), MS_OK);
    CHECK_EQ(kept_now(), META + MIB);
    CHECK_EQ(committed_now(), committed0);      /* kept pages are nobody's commitment */
    struct vm_region_info info;
    CHECK_EQ(vm_query(base, &info), MS_OK);
    CHECK(info.state == VM_MEM_FREE && info.region_size >= SEG, "released: MEM_FREE (state %#x, %zu bytes)",
          info.state, info.region_size);
    struct vm_allocation_info ai;
    CHECK(!vm_lookup(base, &ai), "no allocation holds it");
    CHECK(unit_faults((char *)base, 0) && unit_faults((char *)base + META, 0), "touching it faults");
    uint8_t resident = 0;
    CHECK(host_pages_resident(base, 1, &resident) == 0 && resident, "its written page stays resident");
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants after keep: %s", why ? why : "ok");

    uintptr_t again = segment(0, &stale);
    CHECK_EQ(again, base);
    CHECK_EQ(stale, META + MIB);
    CHECK(((unsigned char *)again)[0] == 0x5A && ((unsigned char *)again)[META + MIB - 1] == 0xA5,
          "the warm segment has its old contents");
    CHECK(vm_lookup(again + META + MIB - 1, &ai) && ai.base == again && ai.usage == VM_USAGE_HEAP,
          "the prefix is part of the new region");
    CHECK_EQ(committed_now() - committed0, META + MIB);   /* charged again, prefix included */
    CHECK_EQ(kept_now(), 0);
    CHECK(!unit_faults((char *)again + META + MIB - 1, 0), "the prefix is accessible again");
    CHECK_EQ(vm_commit_internal(again + META + MIB, 65536), MS_OK);
    CHECK(all_zero((char *)again + META + MIB, 65536), "memory committed beyond the prefix is zero");
    why = vm_check_invariants();
    CHECK(!why, "invariants after reuse: %s", why ? why : "ok");
    CHECK_EQ(vm_release_internal(again), MS_OK);
    CHECK_EQ(kept_now(), 0);                    /* a plain release keeps nothing */
    CHECK_EQ(committed_now(), committed0);
}

/* Whoever else claims the address gets fresh zero pages; the entry goes. */
static void test_claimed_by_allocation(void)
{
    vm_keep_drop_all();
    size_t stale;
    uintptr_t base = segment(MIB, &stale);
    memset((char *)base, 0x77, META + MIB);
    CHECK_EQ(vm_release_keep(base), MS_OK);
    CHECK_EQ(kept_now(), META + MIB);

    uintptr_t at = base + 2 * 65536;            /* inside the kept prefix */
    CHECK_EQ(vm_allocate(&at, 65536, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(at, base + 2 * 65536);
    CHECK_EQ(kept_now(), 0);
    CHECK(all_zero((char *)at, 65536), "a VirtualAlloc over kept pages gets zero pages");
    CHECK(unit_faults((char *)base, 0), "the rest of the dropped range is free again (faults)");
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants after a claim: %s", why ? why : "ok");
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);

    /* The next segment there is cold again. */
    uintptr_t next = segment(0, &stale);
    CHECK(next != 0, "a segment after the claim");
    CHECK_EQ(stale, 0);
    CHECK(all_zero((char *)next, META), "and reads zero");
    CHECK_EQ(vm_release_internal(next), MS_OK);

    /* A reservation without commit over the range's tail, then a commit. */
    base = segment(0, &stale);
    memset((char *)base, 0x66, META);
    CHECK_EQ(vm_release_keep(base), MS_OK);
    CHECK_EQ(kept_now(), META);
    at = base;
    CHECK_EQ(vm_allocate(&at, SEG, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(kept_now(), 0);
    CHECK_EQ(vm_allocate(&at, META, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK(all_zero((char *)at, META), "committed after a reservation over kept pages: zero");
    why = vm_check_invariants();
    CHECK(!why, "invariants: %s", why ? why : "ok");
    size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

/* Placement goes around a kept range while there is other room: the
 * program's allocations land elsewhere and the next heap still gets the
 * pages. */
static void test_placement_avoids(void)
{
    uintptr_t base = kept_segment(0x21);
    size_t stale;
    enum { N = 24 };
    uintptr_t got[N];
    int inside = 0;
    for (int i = 0; i < N; i++) {
        got[i] = 0;
        size_t size = i == N - 1 ? SEG : (size_t)65536 * (1 + i % 3);
        CHECK_EQ(vm_allocate(&got[i], size, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
        inside += got[i] < base + SEG && base < got[i] + size;
    }
    CHECK_EQ(inside, 0);
    CHECK_EQ(kept_now(), META);
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants with placement around a kept range: %s", why ? why : "ok");
    uintptr_t again = segment(0, &stale);
    CHECK(again == base && stale == META && ((char *)again)[0] == 0x21, "the next segment still gets the pages");
    for (int i = 0; i < N; i++) {
        size_t size = 0;
        CHECK_EQ(vm_free(&got[i], &size, VM_MEM_RELEASE), MS_OK);
    }
    CHECK_EQ(vm_release_internal(again), MS_OK);
}

static void test_claimed_by_view(void)
{
    uintptr_t base = kept_segment(0x55);
    int fd = memfd_create("keep-view", 0);
    CHECK(fd >= 0 && ftruncate(fd, 65536) == 0, "memfd");
    uintptr_t at = base;
    CHECK_EQ(vm_map_view(&at, 65536, VM_PAGE_READWRITE, fd, 0, true, false, NULL), MS_OK);
    CHECK_EQ(at, base);
    CHECK_EQ(kept_now(), 0);
    CHECK(all_zero((char *)at, 65536), "a view over kept pages shows its file");
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants after a view claimed it: %s", why ? why : "ok");
    CHECK_EQ(vm_unmap_view(at, NULL), MS_OK);
    close(fd);
}

/* A reservation of another shape (protection, size) does not get the pages. */
static void test_shape_must_match(void)
{
    kept_segment(0x44);
    size_t stale;
    uintptr_t x = 0;
    CHECK_EQ(vm_reserve_warm(&x, SEG, META, SEG, VM_PAGE_EXECUTE_READWRITE, VM_USAGE_HEAP, NULL, &stale), MS_OK);
    CHECK_EQ(stale, 0);
    CHECK(all_zero((char *)x, META), "another protection gets fresh pages");
    uintptr_t y = 0;
    CHECK_EQ(vm_reserve_warm(&y, SEG / 2, META, SEG / 2, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL, &stale), MS_OK);
    CHECK_EQ(stale, 0);
    CHECK(all_zero((char *)y, META), "another size gets fresh pages");
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants: %s", why ? why : "ok");
    CHECK_EQ(vm_release_internal(x), MS_OK);
    CHECK_EQ(vm_release_internal(y), MS_OK);
    vm_keep_drop_all();
    CHECK_EQ(kept_now(), 0);
}

/* At most two entries: the oldest goes. Regions too large are not kept. */
static void test_bound(void)
{
    vm_keep_drop_all();
    size_t stale;
    uintptr_t seg[3];
    for (int i = 0; i < 3; i++) {
        seg[i] = segment(0, &stale);
        memset((char *)seg[i], 0x10 + i, 4096);
    }
    for (int i = 0; i < 3; i++)
        CHECK_EQ(vm_release_keep(seg[i]), MS_OK);
    CHECK_EQ(kept_now(), 2 * META);
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants with a full table: %s", why ? why : "ok");
    /* The newest comes back first, then the one before; the first was dropped. */
    uintptr_t a = segment(0, &stale);
    CHECK(a == seg[2] && stale == META && ((char *)a)[0] == 0x12, "newest first");
    uintptr_t b = segment(0, &stale);
    CHECK(b == seg[1] && stale == META && ((char *)b)[0] == 0x11, "then the older");
    uintptr_t c = segment(0, &stale);
    CHECK(stale == 0 && all_zero((char *)c, 4096), "the oldest was given back");
    CHECK_EQ(vm_release_internal(a), MS_OK);
    CHECK_EQ(vm_release_internal(b), MS_OK);
    CHECK_EQ(vm_release_internal(c), MS_OK);

    uintptr_t big = 0;
    CHECK_EQ(vm_reserve_internal(&big, 8 * MIB, MIB, MS_GRANULARITY, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL), MS_OK);
    CHECK_EQ(vm_release_keep(big), MS_OK);
    CHECK_EQ(kept_now(), 0);
    why = vm_check_invariants();
    CHECK(!why, "invariants: %s", why ? why : "ok");
}

static void test_bad_input(void)
{
    uintptr_t user = 0;
    CHECK_EQ(vm_allocate(&user, 65536, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_release_keep(user), MS_ERROR_INVALID_ADDRESS);     /* a program's memory is not the core's */
    CHECK_EQ(vm_release_keep(user + 4096), MS_ERROR_INVALID_ADDRESS);
    size_t size = 0;
    CHECK_EQ(vm_free(&user, &size, VM_MEM_RELEASE), MS_OK);
    CHECK_EQ(vm_release_keep(user), MS_ERROR_INVALID_ADDRESS);     /* free space of an arena */
    int on_stack;
    CHECK_EQ(vm_release_keep((uintptr_t)&on_stack & ~(uintptr_t)4095), VM_NOT_OWNED);
    uintptr_t x = 0;
    size_t stale = 7;
    CHECK_EQ(vm_reserve_warm(&x, 0, 0, SEG, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL, &stale),
             MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(stale, 0);
    CHECK_EQ(vm_reserve_warm(&x, SEG, SEG + 1, SEG, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL, &stale),
             MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_reserve_warm(&x, SEG, 0, SEG, 0x12345, VM_USAGE_HEAP, NULL, &stale), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_reserve_warm(&x, SEG, 0, SEG, VM_PAGE_READWRITE, VM_USAGE_USER, NULL, &stale),
             MS_ERROR_INVALID_PARAMETER);
}

/* Host failures on both sides: the map stays right and nothing stale
 * reaches anybody. */
static void test_host_failures(void)
{
    for (unsigned every = 1; every <= 4; every++) {
        vm_keep_drop_all();
        uint64_t committed0 = committed_now();
        for (int round = 0; round < 8; round++) {
            size_t stale = 0;
            host_inject_faults(every);
            uintptr_t base = segment(0, &stale);
            host_inject_faults(0);
            if (!base)
                continue;
            CHECK(stale == 0 || stale == META, "stale %zu", stale);
            if (!stale)
                CHECK(all_zero((char *)base, META), "a cold segment reads zero (every %u)", every);
            memset((char *)base, 0x33, META);
            host_inject_faults(every);
            ms_status st = vm_release_keep(base);
            host_inject_faults(0);
            CHECK_EQ(st, MS_OK);
            CHECK(unit_faults((char *)base, 0), "released: touching faults (every %u)", every);
            const char *why = vm_check_invariants();
            CHECK(!why, "invariants with every %u host call failing: %s", every, why ? why : "ok");
        }
        vm_keep_drop_all();
        CHECK_EQ(committed_now(), committed0);
    }
}

/* The mapping budget's model follows keep, reuse and drop: the estimate
 * moves as the real count does (vm_maps.c reads the real count only now
 * and then). */
static void test_mapping_model(void)
{
    vm_keep_drop_all();
    size_t stale;
    uintptr_t pin = segment(0, &stale);        /* an arena with a live neighbour */
    long real0 = unit_count_maps(), est0 = vm_map_estimate();
    for (int i = 0; i < 20; i++) {
        uintptr_t base = segment(i & 1 ? MIB : 0, &stale);
        memset((char *)base, 1, 4096);
        if (i % 5 == 4) {
            CHECK_EQ(vm_release_internal(base), MS_OK);
        } else {
            CHECK_EQ(vm_release_keep(base), MS_OK);
        }
        long real = unit_count_maps(), est = vm_map_estimate();
        CHECK(est - est0 >= real - real0 - 2 && est - est0 <= real - real0 + 2,
              "round %d: estimate moved %ld, real count %ld", i, est - est0, real - real0);
    }
    vm_keep_drop_all();
    long real = unit_count_maps(), est = vm_map_estimate();
    CHECK(est - est0 >= real - real0 - 2 && est - est0 <= real - real0 + 2,
          "after the drop: estimate moved %ld, real count %ld", est - est0, real - real0);
    CHECK_EQ(vm_release_internal(pin), MS_OK);
}

static void *cycle_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 300; i++) {
        size_t stale;
        uintptr_t base = segment(0, &stale);
        if (!base)
            return (void *)1;
        memset((char *)base, i & 0xFF, 8192);
        if (vm_release_keep(base) != MS_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, cycle_thread, NULL);
    void *r0, *r1;
    pthread_join(t[0], &r0);
    pthread_join(t[1], &r1);
    CHECK(!r0 && !r1, "two threads keep and reuse segments");
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants after two threads: %s", why ? why : "ok");
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    /* A normal arena first, as in a process where the heap runs (a 4 MiB
     * aligned request that finds no arena would make one itself). */
    uintptr_t first = 0;
    CHECK_EQ(vm_allocate(&first, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    test_kept_and_reused();
    test_claimed_by_allocation();
    test_placement_avoids();
    test_claimed_by_view();
    test_shape_must_match();
    test_bound();
    test_bad_input();
    test_host_failures();
    test_mapping_model();
    test_threads();
    vm_keep_drop_all();
    CHECK_EQ(kept_now(), 0);
    return unit_done();
}
