/*
 * test_vm_model.c - the vm core against a reference model of the Windows
 * rules, with random operation sequences.
 *
 * The model is deliberately naive: a list of allocations, each an array of
 * pages with a state, a protection and the byte the test last wrote there.
 * Every operation is applied to both; the status codes must agree, and after
 * each one every page of every live allocation must be reported by
 * vm_query exactly as the model says (state, protection, allocation base
 * and protection, and a region size equal to the model's maximal run), and
 * readable pages must hold the model's byte. The map's own invariants are
 * checked too. Any seed is reproducible: MEMSHIM_SEED=N runs that one.
 *
 * Built with -DMEMSHIM_FUZZ (and clang's -fsanitize=fuzzer) the same model
 * becomes a libFuzzer target: the operations are drawn from the fuzzer's
 * input instead of a seed (`ninja -C build fuzz_vm`, see the README).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/host/host.h"
#include "../../src/vm/vm.h"
#include "unit.h"
#include "model_random.h"

#define PAGE 4096u
#define MAX_ALLOCS 12
#define MAX_PAGES 40

struct model_alloc {
    uintptr_t base;
    unsigned npages;
    uint32_t alloc_protect;
    uint8_t committed[MAX_PAGES];
    uint32_t protect[MAX_PAGES];
    uint8_t value[MAX_PAGES];       /* byte at the page's offset 0 */
};

static struct model_alloc allocs[MAX_ALLOCS];
static unsigned nallocs;
static unsigned long long current_seed;
static int injecting;           /* host faults on: a call may fail with NOT_ENOUGH_MEMORY, changing nothing */
static int failed_seed;


static const uint32_t protections[] = {
    VM_PAGE_NOACCESS, VM_PAGE_READONLY, VM_PAGE_READWRITE, VM_PAGE_EXECUTE, VM_PAGE_EXECUTE_READ,
    VM_PAGE_EXECUTE_READWRITE, VM_PAGE_READWRITE | VM_PAGE_NOCACHE, VM_PAGE_READONLY | VM_PAGE_WRITECOMBINE,
    VM_PAGE_WRITECOPY,                          /* refused on private memory */
    VM_PAGE_NOACCESS | VM_PAGE_GUARD,           /* refused: no modifier with NOACCESS */
    0x3,                                        /* refused: two base protections */
};

static uint32_t random_protect(void)
{
    /* Mostly valid ones. */
    return protections[rnd(4) ? rnd(8) : rnd(sizeof protections / sizeof protections[0])];
}

/* A protection some memory takes (copy-on-write: views only). */
static int protect_well_formed(uint32_t p)
{
    uint32_t base = p & 0xFF, mods = p & 0x700;
    return base && !(base & (base - 1)) && !(mods & (mods - 1)) && !(mods && base == VM_PAGE_NOACCESS);
}

/* ... and private memory. */
static int protect_valid(uint32_t p)
{
    uint32_t base = p & 0xFF;
    return protect_well_formed(p) && base != VM_PAGE_WRITECOPY && base != VM_PAGE_EXECUTE_WRITECOPY;
}

/* What a page of m shows after a commit or VirtualProtect asked for p: its
 * allocation's caching modifier, whatever p says (recent Windows). */
static uint32_t cached_as(const struct model_alloc *m, uint32_t p)
{
    return (p & ~(uint32_t)(VM_PAGE_NOCACHE | VM_PAGE_WRITECOMBINE)) |
           (m->alloc_protect & (VM_PAGE_NOCACHE | VM_PAGE_WRITECOMBINE));
}

static int readable(uint32_t p)
{
    return (p & 0xFF) != VM_PAGE_NOACCESS && !(p & VM_PAGE_GUARD);
}

static int writable(uint32_t p)
{
    uint32_t b = p & 0xFF;
    return (b == VM_PAGE_READWRITE || b == VM_PAGE_EXECUTE_READWRITE) && !(p & VM_PAGE_GUARD);
}

/* Under fault injection a call may fail as a host out of memory would: the
 * model stays as it was, and compare_all() checks the map did too. */
static int injected_failures;
#define INJECTED(st) (injecting && (st) == MS_ERROR_NOT_ENOUGH_MEMORY && ++injected_failures)

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            if (!failed_seed)                                                  \
                CHECK(0, "seed %llu: %s", current_seed, #cond);               \
            failed_seed = 1;                                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

static void compare_all(int full)
{
    /* The invariant check walks every arena: not after every operation. */
    if (full)
        EXPECT(vm_check_invariants() == NULL);
    for (unsigned i = 0; i < nallocs; i++) {
        struct model_alloc *m = &allocs[i];
        for (unsigned p = 0; p < m->npages; p++) {
            struct vm_region_info info;
            EXPECT(vm_query(m->base + p * PAGE, &info) == MS_OK);
            unsigned run = 1;
            while (p + run < m->npages && m->committed[p + run] == m->committed[p] &&
                   (!m->committed[p] || m->protect[p + run] == m->protect[p]))
                run++;
            EXPECT(info.base == m->base + p * PAGE);
            EXPECT(info.allocation_base == m->base);
            EXPECT(info.allocation_protect == m->alloc_protect);
            EXPECT(info.region_size == run * PAGE);
            EXPECT(info.state == (m->committed[p] ? VM_MEM_COMMIT : VM_MEM_RESERVE));
            EXPECT(info.protect == (m->committed[p] ? m->protect[p] : 0));
            EXPECT(info.type == VM_MEM_PRIVATE);
            if (m->committed[p] && readable(m->protect[p]))
                EXPECT(*(volatile uint8_t *)(m->base + p * PAGE) == m->value[p]);
        }
    }
}

static void op_reserve(void)
{
    if (nallocs == MAX_ALLOCS)
        return;
    unsigned npages = 1 + rnd(MAX_PAGES);
    uint32_t protect = random_protect();
    int commit = rnd(2);
    uintptr_t addr = 0;
    ms_status st = vm_allocate(&addr, npages * PAGE - rnd(PAGE), VM_MEM_RESERVE | (commit ? VM_MEM_COMMIT : 0),
                               protect);
    if (INJECTED(st))
        return;
    EXPECT(st == (protect_valid(protect) ? MS_OK : MS_ERROR_INVALID_PARAMETER));
    if (st)
        return;
    EXPECT(addr % 65536 == 0);
    for (unsigned i = 0; i < nallocs; i++)
        EXPECT(addr + npages * PAGE <= allocs[i].base || addr >= allocs[i].base + allocs[i].npages * PAGE);
    struct model_alloc *m = &allocs[nallocs++];
    memset(m, 0, sizeof *m);
    m->base = addr;
    m->npages = npages;
    m->alloc_protect = protect;
    for (unsigned p = 0; p < npages; p++) {
        m->committed[p] = (uint8_t)commit;
        m->protect[p] = protect;
    }
}

/* A random page range of allocation m, sometimes running past its end. */
static void pick_range(const struct model_alloc *m, unsigned *first, unsigned *count)
{
    *first = rnd(m->npages);
    *count = 1 + rnd(m->npages - *first + (rnd(8) == 0 ? 3 : 0));
}

static void op_commit(struct model_alloc *m)
{
    unsigned first, count;
    pick_range(m, &first, &count);
    uint32_t protect = random_protect();
    uintptr_t addr = m->base + first * PAGE + rnd(PAGE);
    size_t size = count * PAGE - (addr - m->base - first * PAGE);
    ms_status st = vm_allocate(&addr, size, VM_MEM_COMMIT, protect);
    if (INJECTED(st))
        return;
    /* Copy-on-write is refused once the range is known to be private
     * memory: a range past the allocation fails on its address first. */
    ms_status want = !protect_well_formed(protect) ? MS_ERROR_INVALID_PARAMETER
                   : first + count > m->npages     ? MS_ERROR_INVALID_ADDRESS
                   : !protect_valid(protect)       ? MS_ERROR_INVALID_PARAMETER
                                                   : MS_OK;
    EXPECT(st == want);
    if (st)
        return;
    EXPECT(addr == m->base + first * PAGE);
    for (unsigned p = first; p < first + count; p++) {
        if (!m->committed[p])
            m->value[p] = 0;            /* fresh pages are zero */
        m->committed[p] = 1;
        m->protect[p] = cached_as(m, protect);
    }
}

static void op_decommit(struct model_alloc *m)
{
    unsigned first, count;
    pick_range(m, &first, &count);
    int whole = rnd(6) == 0;
    uintptr_t addr = whole ? m->base + (rnd(3) == 0 ? PAGE * rnd(m->npages) : 0) + (rnd(3) == 0 ? rnd(PAGE) : 0)
                           : m->base + first * PAGE;
    size_t size = whole ? 0 : count * PAGE;
    int at_base = addr - m->base < PAGE;
    ms_status st = vm_free(&addr, &size, VM_MEM_DECOMMIT);
    if (whole) {
        EXPECT(st == (at_base ? MS_OK : MS_ERROR_INVALID_ADDRESS));
        first = 0;
        count = m->npages;
    } else {
        EXPECT(st == (first + count > m->npages ? MS_ERROR_INVALID_PARAMETER : MS_OK));
    }
    if (st)
        return;
    for (unsigned p = first; p < first + count; p++)
        m->committed[p] = 0;
}

static void op_protect(struct model_alloc *m)
{
    unsigned first, count;
    pick_range(m, &first, &count);
    uint32_t protect = random_protect();
    uint32_t old = 0xdead;
    ms_status st = vm_protect(m->base + first * PAGE, count * PAGE, protect, &old);
    if (INJECTED(st))
        return;
    ms_status want = MS_OK;
    if (first + count > m->npages)
        want = MS_ERROR_INVALID_ADDRESS;
    else if (!protect_valid(protect))
        want = MS_ERROR_INVALID_PARAMETER;
    else
        for (unsigned p = first; p < first + count; p++)
            if (!m->committed[p])
                want = MS_ERROR_INVALID_ADDRESS;
    EXPECT(st == want);
    if (st)
        return;
    EXPECT(old == m->protect[first]);
    for (unsigned p = first; p < first + count; p++)
        m->protect[p] = cached_as(m, protect);
}

static void op_write(struct model_alloc *m)
{
    unsigned p = rnd(m->npages);
    if (!m->committed[p] || !writable(m->protect[p]))
        return;
    uint8_t v = (uint8_t)(1 + rnd(255));
    *(volatile uint8_t *)(m->base + p * PAGE) = v;
    m->value[p] = v;
}

static void op_release(unsigned i)
{
    struct model_alloc *m = &allocs[i];
    int mode = rnd(5);
    /* Any address in the first page names the allocation (Windows compares
     * page numbers); one in a later page does not. */
    uintptr_t addr = (mode == 0 && m->npages > 1 ? m->base + PAGE : m->base) + (mode == 2 ? rnd(PAGE) : 0);
    size_t size = mode == 1 ? PAGE : 0;
    ms_status want = size ? MS_ERROR_INVALID_PARAMETER : addr - m->base >= PAGE ? MS_ERROR_INVALID_ADDRESS : MS_OK;
    ms_status st = vm_free(&addr, &size, VM_MEM_RELEASE);
    EXPECT(st == want);
    if (st)
        return;
    uintptr_t base = m->base;
    allocs[i] = allocs[--nallocs];
    /* Freed address space is free, and a second release is refused. */
    struct vm_region_info info;
    EXPECT(vm_query(base, &info) == MS_OK && info.state == VM_MEM_FREE);
    size = 0;
    EXPECT(vm_free(&base, &size, VM_MEM_RELEASE) == MS_ERROR_INVALID_ADDRESS);
}

static void run_seed(unsigned long long seed, int ops)
{
    current_seed = seed;
    failed_seed = 0;
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int k = 0; k < ops && !failed_seed; k++) {
        unsigned r = rnd(100);
        if (nallocs == 0 || r < 15)
            op_reserve();
        else {
            unsigned i = rnd(nallocs);
            if (r < 35)
                op_commit(&allocs[i]);
            else if (r < 50)
                op_decommit(&allocs[i]);
            else if (r < 70)
                op_protect(&allocs[i]);
            else if (r < 90)
                op_write(&allocs[i]);
            else
                op_release(i);
        }
        compare_all((k & 15) == 15);
    }
    compare_all(1);
    /* Release what is left, whatever happened, so the next seed starts clean. */
    while (nallocs) {
        size_t size = 0;
        uintptr_t base = allocs[--nallocs].base;
        ms_status st = vm_free(&base, &size, VM_MEM_RELEASE);
        EXPECT(st == MS_OK);
    }
}

#ifdef MEMSHIM_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        vm_init(0);
        ready = 1;
    }
    fuzz_data = data;
    fuzz_left = size;
    /* The first byte picks whether host calls fail now and then. */
    injecting = size && (data[0] & 1);
    host_inject_faults(injecting ? 3u + (data[0] >> 1) % 29u : 0u);
    run_seed(size, (int)(size / 4) + 1);
    host_inject_faults(0);
    if (failed_seed)
        __builtin_trap();           /* the model and the core disagree */
    return 0;
}
#else
int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    struct vm_counters before, after;
    vm_get_counters(&before);
    const char *one = getenv("MEMSHIM_SEED");
    int seeds = one ? 1 : 300, bad = 0;
    for (int s = 0; s < seeds; s++) {
        unsigned long long seed = one ? strtoull(one, NULL, 0) : (unsigned long long)s + 1;
        run_seed(seed, 200);
        bad += failed_seed;
    }
    CHECK(bad == 0, "%d of %d seeds disagreed with the model (rerun one with MEMSHIM_SEED=N)", bad, seeds);
    /* The same with every 3rd, 7th and 29th host call failing. */
    bad = 0;
    injecting = 1;
    for (unsigned every = 3; every < 30; every = every * 2 + 1) {
        host_inject_faults(every);
        for (int s = 0; s < (one ? 1 : 60); s++) {
            unsigned long long seed = one ? strtoull(one, NULL, 0) : (unsigned long long)s + 1000;
            run_seed(seed, 200);
            bad += failed_seed;
        }
    }
    host_inject_faults(0);
    injecting = 0;
    CHECK(bad == 0, "%d seeds under fault injection left the map unlike the model", bad);
    CHECK(injected_failures > 100, "injected host faults reached the API as failures (%d)", injected_failures);
    vm_get_counters(&after);
    CHECK_EQ(after.committed_bytes, before.committed_bytes);
    CHECK_EQ(after.reserved_bytes, before.reserved_bytes);
    CHECK(vm_check_invariants() == NULL, "invariants at the end");
    return unit_done();
}
#endif
