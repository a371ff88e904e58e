/*
 * test_mem_status.c - GlobalMemoryStatusEx figures follow the process's own
 * reservations and commits at once, by exactly their size.
 */
#include "../../src/status/mem_status.h"
#include "../../src/vm/vm.h"
#include "unit.h"

static int outside_calls;

static uint64_t fixed_outside(void)
{
    outside_calls++;
    return 123 << 20;
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
    return unit_done();
}
