/*
 * test_vm_arenas.c - the sizes of the core's arenas (src/vm/vm_arena.c),
 * natively: the first normal arena is VM_ARENA_FIRST_SIZE, each new one
 * twice the largest before it (per direction) up to VM_ARENA_MAX_SIZE, a
 * request bigger than the next size gets an arena it fits in, an aligned
 * one a normal arena too, one above VM_ARENA_LARGE a dedicated arena; and
 * placement stays lowest-fit across arenas of different sizes.
 *
 * The checks follow vm_counters.arena_bytes, so the steps run in one fixed
 * order from a fresh core, in one process.
 */
#include <stdio.h>

#include "../../src/host/host.h"
#include "../../src/vm/vm_internal.h"
#include "unit.h"

#define KIB64 ((size_t)65536)
#define MIB   ((size_t)1 << 20)
#define FIRST VM_ARENA_FIRST_SIZE

static uint64_t arena_bytes(void)
{
    struct vm_counters c;
    vm_get_counters(&c);
    return c.arena_bytes;
}

static uintptr_t reserve(size_t size, bool top_down)
{
    uintptr_t a = 0;
    ms_status st = vm_allocate(&a, size, VM_MEM_RESERVE | (top_down ? VM_MEM_TOP_DOWN : 0), VM_PAGE_READWRITE);
    CHECK(st == MS_OK, "reserve %zu bytes%s: status %u", size, top_down ? " top-down" : "", (unsigned)st);
    return st == MS_OK ? a : 0;
}

static void release(uintptr_t a)
{
    size_t size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
}

/* The allocation at a is found, as one region of `size` bytes. */
static void check_found(uintptr_t a, size_t size)
{
    struct vm_region_info info;
    CHECK_EQ(vm_query(a + size - 1, &info), MS_OK);
    CHECK_EQ(info.allocation_base, a);
    CHECK_EQ(vm_query(a, &info), MS_OK);
    CHECK_EQ(info.region_size, size);
}

static void check_invariants(const char *when)
{
    const char *why = vm_check_invariants();
    CHECK(!why, "invariants %s: %s", when, why ? why : "ok");
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    CHECK_EQ(arena_bytes(), 0);

    /* The first arena: FIRST bytes, filled to the last granule. */
    uintptr_t a0 = reserve(KIB64, false);
    CHECK_EQ(arena_bytes(), FIRST);
    uintptr_t fill = reserve(FIRST - KIB64, false);
    CHECK_EQ(fill, a0 + KIB64);
    CHECK_EQ(arena_bytes(), FIRST);
    CHECK_EQ(vm_arena_next_size(KIB64, false), 2 * FIRST);

    /* Bigger than the next size (2 * FIRST), still a normal arena: the
     * next power-of-two multiple (256 MiB), with room after it. */
    size_t big_size = 200 * MIB;
    uintptr_t big = reserve(big_size, false);
    CHECK_EQ(arena_bytes(), FIRST + 256 * MIB);
    check_found(big, big_size);
    uintptr_t after = reserve(KIB64, false);
    CHECK_EQ(after, big + big_size);
    CHECK_EQ(arena_bytes(), FIRST + 256 * MIB);
    uintptr_t rest = reserve(256 * MIB - big_size - KIB64, false);
    CHECK_EQ(rest, after + KIB64);

    /* Lowest fit across arenas of different sizes: holes in the 64 MiB and
     * the 256 MiB arena (both full otherwise) are taken lowest address
     * first, whichever arena is lower. */
    release(a0);
    release(after);
    uintptr_t low = a0 < after ? a0 : after, high = a0 < after ? after : a0;
    uintptr_t again = reserve(KIB64, false);
    CHECK_EQ(again, low);
    uintptr_t again2 = reserve(KIB64, false);
    CHECK_EQ(again2, high);


    /* A 4 MiB-aligned request (a heap segment) that fits nowhere: a normal
     * arena of the next size (512 MiB), not a dedicated one of size +
     * alignment; the arena's other space serves later requests. */
    uintptr_t seg = 0;
    CHECK_EQ(vm_reserve_internal(&seg, 4 * MIB, 0, 4 * MIB, VM_PAGE_READWRITE, VM_USAGE_HEAP, NULL), MS_OK);
    CHECK(ms_is_aligned(seg, 4 * MIB), "aligned: %#lx", (unsigned long)seg);
    CHECK_EQ(arena_bytes(), FIRST + 256 * MIB + 512 * MIB);
    uintptr_t near = reserve(KIB64, false);
    CHECK_EQ(arena_bytes(), FIRST + 256 * MIB + 512 * MIB);
    CHECK(near + 512 * MIB > seg && near < seg + 512 * MIB, "the next block is in the segment's arena");
    check_invariants("after growth");

    /* Top-down requests have arenas of their own, growing from FIRST. */
    uint64_t before = arena_bytes();
    uintptr_t td = reserve(KIB64, true);
    CHECK_EQ(arena_bytes(), before + FIRST);
    CHECK_EQ(vm_arena_next_size(KIB64, true), 2 * FIRST);
    release(td);
    CHECK_EQ(arena_bytes(), before + FIRST);       /* normal arenas stay */

    /* Above VM_ARENA_LARGE and too big for the free space of every arena
     * (the 512 MiB one has the most): a dedicated arena of exactly its
     * size, gone with it. */
    before = arena_bytes();
    size_t huge_size = 600 * MIB;
    uintptr_t huge = reserve(huge_size, false);
    CHECK_EQ(arena_bytes(), before + huge_size);
    check_found(huge, huge_size);
    release(huge);
    CHECK_EQ(arena_bytes(), before);

    /* Its metadata reservation is kept (decommitted) for the next
     * dedicated arena, which takes it instead of reserving its own: the
     * region is reserved, unused, and found as one region again. */
    uintptr_t spare = vm.spare_meta;
    CHECK(spare != 0, "the released dedicated arena's metadata is kept");
    uintptr_t huge2 = reserve(huge_size, false);
    CHECK_EQ(vm.spare_meta, 0);
    struct vm_arena *ha = vm_arena_find(huge2);
    CHECK(ha && ha->dedicated && ha->meta == spare, "the new dedicated arena took the kept metadata");
    check_found(huge2, huge_size);
    struct vm_region_info hinfo;
    CHECK(vm_query(huge2, &hinfo) == MS_OK && hinfo.state == VM_MEM_RESERVE, "reserved, state %#x", hinfo.state);
    check_invariants("on kept metadata");
    release(huge2);
    CHECK_EQ(vm.spare_meta, spare);
    /* A dedicated arena whose metadata does not fit in the kept
     * reservation makes its own, and leaves the kept one as it is. */
    uintptr_t huge3 = reserve(40 * huge_size, false);
    if (huge3) {
        CHECK(vm_arena_find(huge3)->meta != spare, "bigger metadata: a reservation of its own");
        release(huge3);
    }
    CHECK_EQ(vm.spare_meta, spare);
    CHECK_EQ(arena_bytes(), before);

    /* Many arenas: the series reaches VM_ARENA_MAX_SIZE and stays there;
     * every block is found in its arena. 200 MiB blocks leave each arena a
     * gap too small for the next block: two fill the 512 MiB arena, five
     * each 1 GiB one. */
    enum { MANY = 22 };
    uintptr_t blocks[MANY];
    size_t expect_next = 1024 * MIB, grown = 0;
    for (int i = 0; i < MANY; i++) {
        before = arena_bytes();
        blocks[i] = reserve(big_size, false);
        if (arena_bytes() != before) {
            CHECK_EQ(arena_bytes() - before, expect_next);
            expect_next = VM_ARENA_MAX_SIZE;
            grown++;
        }
    }
    CHECK_EQ(grown, 4);
    for (int i = 0; i < MANY; i++)
        if (blocks[i])
            check_found(blocks[i], big_size);
    check_invariants("with many arenas");

    /* No room anywhere and the host refuses every reservation: the
     * request fails with ERROR_NOT_ENOUGH_MEMORY, nothing changes. */
    before = arena_bytes();
    host_inject_faults(1);
    uintptr_t none = 0;
    CHECK_EQ(vm_allocate(&none, big_size, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_ERROR_NOT_ENOUGH_MEMORY);
    host_inject_faults(0);
    CHECK_EQ(none, 0);
    CHECK_EQ(arena_bytes(), before);
    check_invariants("after a refused arena");

    /* The host refusing every other call: the halving fallback and the
     * dedicated one still end in a consistent map, success or not. */
    host_inject_faults(2);
    uintptr_t maybe = 0;
    ms_status st = vm_allocate(&maybe, big_size, VM_MEM_RESERVE, VM_PAGE_READWRITE);
    host_inject_faults(0);
    CHECK(st == MS_OK || st == MS_ERROR_NOT_ENOUGH_MEMORY, "status %u", (unsigned)st);
    if (st == MS_OK) {
        check_found(maybe, big_size);
        release(maybe);
    }
    check_invariants("after intermittent host failures");

    /* A dedicated arena among them: a query in any normal arena stays
     * without the lock, even when its search passes the dedicated one
     * (the lock's holders move vm.seq; only a query inside the dedicated
     * arena takes it). More normal arenas come until the dedicated one is
     * the middle of the table, where every search starts. Under TSan every
     * reader takes the lock. */
    uintptr_t huge4 = reserve(huge_size, false);
    CHECK(huge4 && vm_arena_find(huge4)->dedicated, "a dedicated arena among the normal ones");
    enum { MORE = 64 };
    uintptr_t more[MORE] = { 0 };
    size_t middle = 0;
    for (int i = 0; i < MORE; i++) {
        for (middle = 0; middle < vm.narenas && vm.arenas[middle]->base != huge4; middle++) {}
        if (middle == vm.narenas / 2)
            break;
        more[i] = reserve(big_size, false);
    }
    CHECK(middle == vm.narenas / 2, "the dedicated arena is at %zu of %zu", middle, vm.narenas);
    size_t normal = 0, locked = 0;
    for (size_t i = 0; i < vm.narenas; i++) {
        if (vm.arenas[i]->dedicated)
            continue;
        struct vm_region_info info;
        uint32_t seq = atomic_load(&vm.seq);
        CHECK_EQ(vm_query(vm.arenas[i]->base + KIB64, &info), MS_OK);
        normal++;
        locked += atomic_load(&vm.seq) != seq;
    }
    CHECK(normal >= 8, "%zu normal arenas", normal);
    CHECK(!MS_SEQLOCK_READS || locked == 0, "%zu of %zu queries in normal arenas took the lock", locked, normal);
    check_found(huge4, huge_size);
    release(huge4);
    for (int i = 0; i < MORE; i++)
        if (more[i])
            release(more[i]);

    for (int i = 0; i < MANY; i++)
        if (blocks[i])
            release(blocks[i]);
    release(again);
    release(again2);
    release(fill);
    release(big);
    release(rest);
    release(near);
    CHECK_EQ(vm_release_internal(seg), MS_OK);
    check_invariants("at the end");
    return unit_done();
}
