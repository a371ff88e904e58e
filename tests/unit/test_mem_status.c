/*
 * test_mem_status.c - GlobalMemoryStatusEx figures follow the process's own
 * reservations and commits at once, by exactly their size.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "../../src/status/mem_status.h"
#include "../../src/vm/vm.h"
#include "unit.h"

static int outside_calls;

static uint64_t fixed_outside(void)
{
    outside_calls++;
    return 123 << 20;
}

/* Samples retaken (flush, then get) while two threads read them without
 * the lock: every call succeeds and every figure is a sane one of a real
 * sample (the outside measure alternates between 1 and 2 MiB; a reader
 * that kept a copy from the middle of a rewrite could show another). */
#define FLIPS 2000
static _Atomic unsigned flip_count;
static _Atomic int flipping = 1;
static uint64_t total_phys_seen;

static uint64_t alternating_outside(void)
{
    return (uint64_t)(1 + (atomic_fetch_add(&flip_count, 1) & 1)) << 20;
}

static void *flipper(void *arg)
{
    (void)arg;
    struct mem_status s;
    for (int i = 0; i < FLIPS; i++) {
        mem_status_flush();
        mem_status_get(&s, alternating_outside);
    }
    atomic_store(&flipping, 0);
    return NULL;
}

static void *status_reader(void *arg)
{
    unsigned long *bad = arg;
    struct mem_status s;
    while (atomic_load(&flipping)) {
        if (mem_status_get(&s, alternating_outside) != MS_OK) {
            (*bad)++;
            continue;
        }
        uint64_t outside = MEM_STATUS_TOTAL_VIRTUAL - s.avail_virtual;   /* no reservations meanwhile */
        if (s.total_phys != total_phys_seen || s.avail_phys > s.total_phys || s.memory_load > 100 ||
            s.avail_page_file > s.total_page_file || (outside != (1u << 20) && outside != (2u << 20)))
            (*bad)++;
    }
    return NULL;
}

static void test_concurrent_samples(void)
{
    struct mem_status s;
    mem_status_flush();
    CHECK_EQ(mem_status_get(&s, alternating_outside), MS_OK);
    total_phys_seen = s.total_phys;
    pthread_t flip, readers[2];
    unsigned long bad[2] = { 0, 0 };
    pthread_create(&flip, NULL, flipper, NULL);
    for (int i = 0; i < 2; i++)
        pthread_create(&readers[i], NULL, status_reader, &bad[i]);
    pthread_join(flip, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    CHECK(bad[0] + bad[1] == 0, "%lu figures read during %d refreshes were not one sample's", bad[0] + bad[1], FLIPS);
    CHECK(atomic_load(&flip_count) >= FLIPS, "refreshed %u times", atomic_load(&flip_count));
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    struct mem_status before, reserved, committed, released;
    CHECK_EQ(mem_status_get(&before, fixed_outside), MS_OK);
    CHECK(before.total_phys > 0 && before.avail_phys <= before.total_phys, "physical figures");
    CHECK(before.memory_load <= 100, "load %u", before.memory_load);
    CHECK_EQ(before.total_virtual, MEM_STATUS_TOTAL_VIRTUAL);
    CHECK(before.avail_page_file <= before.total_page_file, "commit left <= commit limit");

    size_t size = (size_t)256 << 20;
    uintptr_t p = 0;
    CHECK_EQ(vm_allocate(&p, size, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(mem_status_get(&reserved, fixed_outside), MS_OK);
    CHECK_EQ(before.avail_virtual - reserved.avail_virtual, size);
    CHECK_EQ(before.avail_page_file, reserved.avail_page_file);   /* reserving commits nothing */

    uintptr_t c = p;
    CHECK_EQ(vm_allocate(&c, size, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(mem_status_get(&committed, fixed_outside), MS_OK);
    CHECK_EQ(reserved.avail_page_file - committed.avail_page_file, size);

    size_t zero = 0;
    CHECK_EQ(vm_free(&p, &zero, VM_MEM_RELEASE), MS_OK);
    CHECK_EQ(mem_status_get(&released, fixed_outside), MS_OK);
    CHECK_EQ(released.avail_virtual, before.avail_virtual);
    CHECK_EQ(released.avail_page_file, before.avail_page_file);
    /* The slow outside measure is sampled, not taken on every call. */
    CHECK(outside_calls == 1, "outside measured %d times in under a second", outside_calls);
    mem_status_flush();
    CHECK_EQ(mem_status_get(&released, fixed_outside), MS_OK);
    CHECK_EQ(outside_calls, 2);
    test_concurrent_samples();
    return unit_done();
}
