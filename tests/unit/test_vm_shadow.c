/*
 * test_vm_shadow.c - the shadow map (src/host/host_shadow.c,
 * src/vm/vm_shadow.c), natively, with a recording keeper standing in for
 * Wine's page map: vm_shadow tells it every page of the allocations under a
 * buffer once; from then on every protection change the core makes there
 * reaches it, a change taking write access away before the host page
 * changes and one granting it after, so that it never says writable where
 * the host page is not; release ends it; allocations never lent cost no
 * call; views, heap blocks, a full table, two threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"
#include "unit.h"

#define PAGE ((size_t)4096)

/* --- the recording keeper ------------------------------------------------- */

#define KEPT_MAX 4096
static struct {
    pthread_mutex_t lock;
    uintptr_t page[KEPT_MAX];
    int prot[KEPT_MAX];         /* -1: never told (reserved for the keeper) */
    size_t npages;
    unsigned commits, protects;
    unsigned early_grants;      /* told "writable" before the host page was */
    unsigned late_revokes;      /* told "not writable" after the host page already was not, having said writable */
    unsigned refused;           /* protect of pages never committed with it */
    unsigned from_unreachable;  /* calls made on a thread that said it could not */
    uintptr_t watch_lo, watch_hi;   /* protect calls reaching into [watch_lo, watch_hi) are counted */
    unsigned watched;
} keeper = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A thread standing in for memshim's bare threads, which cannot call Wine. */
static _Thread_local bool unreachable_here;

/* The host's protection of the page at addr, from /proc/self/maps (-1 if unmapped). */
static int host_prot_of(uintptr_t addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int prot = -1;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            prot = (perms[0] == 'r' ? HOST_PROT_READ : 0) | (perms[1] == 'w' ? HOST_PROT_WRITE : 0) |
                   (perms[2] == 'x' ? HOST_PROT_EXEC : 0);
            break;
        }
    }
    if (f)
        fclose(f);
    return prot;
}

static int *kept_slot(uintptr_t page, bool add)
{
    for (size_t i = 0; i < keeper.npages; i++)
        if (keeper.page[i] == page)
            return &keeper.prot[i];
    if (!add || keeper.npages == KEPT_MAX)
        return NULL;
    keeper.page[keeper.npages] = page;
    keeper.prot[keeper.npages] = -1;
    return &keeper.prot[keeper.npages++];
}

/* What the ordering contract lets us check inside the callback. */
static void check_order(uintptr_t page, int old, int prot)
{
    if (unreachable_here)
        keeper.from_unreachable++;
    int host = host_prot_of(page);
    if ((prot & HOST_PROT_WRITE) && !(host & HOST_PROT_WRITE))
        keeper.early_grants++;
    if (!(prot & HOST_PROT_WRITE) && old > 0 && (old & HOST_PROT_WRITE) && host >= 0 && !(host & HOST_PROT_WRITE))
        keeper.late_revokes++;
}

static int rec_commit(uintptr_t addr, size_t size, int prot)
{
    pthread_mutex_lock(&keeper.lock);
    keeper.commits++;
    for (uintptr_t p = addr; p < addr + size; p += PAGE) {
        int *slot = kept_slot(p, true);
        if (slot) {
            check_order(p, *slot, prot);
            *slot = prot;
        }
    }
    pthread_mutex_unlock(&keeper.lock);
    return 0;
}

static int rec_protect(uintptr_t addr, size_t size, int prot)
{
    pthread_mutex_lock(&keeper.lock);
    keeper.protects++;
    if (addr < keeper.watch_hi && addr + size > keeper.watch_lo)
        keeper.watched++;
    int r = 0;
    for (uintptr_t p = addr; p < addr + size; p += PAGE) {
        int *slot = kept_slot(p, false);
        if (!slot || *slot < 0) {
            keeper.refused++;       /* as Wine: STATUS_NOT_COMMITTED */
            r = -22;
            continue;
        }
        check_order(p, *slot, prot);
        *slot = prot;
    }
    pthread_mutex_unlock(&keeper.lock);
    return r;
}

static bool rec_reachable(void)
{
    return !unreachable_here;
}

static const struct host_shadow_keeper recorder = { rec_commit, rec_protect, rec_reachable };

static void keeper_reset(void)
{
    pthread_mutex_lock(&keeper.lock);
    keeper.npages = 0;
    keeper.commits = keeper.protects = keeper.early_grants = keeper.late_revokes = keeper.refused = 0;
    pthread_mutex_unlock(&keeper.lock);
}

static int kept(uintptr_t page)
{
    pthread_mutex_lock(&keeper.lock);
    int *slot = kept_slot(page, false);
    int prot = slot ? *slot : -1;
    pthread_mutex_unlock(&keeper.lock);
    return prot;
}

/* Every page of [base, base + n pages) as the keeper has it equals the host's. */
static void check_in_step(uintptr_t base, size_t n, const char *when)
{
    size_t bad = 0;
    uintptr_t first = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = base + i * PAGE;
        if (kept(p) != host_prot_of(p) && !bad++)
            first = p;
    }
    CHECK(bad == 0, "%s: keeper and host agree on all %zu pages (%zu differ, first at +%#lx: keeper %d, host %d)", when,
          n, bad, (unsigned long)(first - base), first ? kept(first) : 0, first ? host_prot_of(first) : 0);
}

/* --- tests ------------------------------------------------------------------- */

static uintptr_t reserve(size_t pages)
{
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, pages * PAGE, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    return a;
}

static void commit(uintptr_t a, size_t pages, uint32_t protect)
{
    uintptr_t at = a;
    CHECK_EQ(vm_allocate(&at, pages * PAGE, VM_MEM_COMMIT, protect), MS_OK);
}

static void test_without_keeper(void)
{
    host_shadow_use(NULL);
    uintptr_t a = reserve(4);
    commit(a, 4, VM_PAGE_READWRITE);
    CHECK_EQ(vm_shadow(a, PAGE), MS_ERROR_INVALID_PARAMETER);
    CHECK(!vm_shadowed(a), "no keeper: nothing shadowed");
    uintptr_t at = a;
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
    host_shadow_use(&recorder);
}

static void test_allocation_lifecycle(void)
{
    uint32_t old;
    keeper_reset();
    uintptr_t a = reserve(16);
    commit(a, 4, VM_PAGE_READWRITE);                         /* 0-3 */
    commit(a + 4 * PAGE, 2, VM_PAGE_READONLY);               /* 4-5 */
    commit(a + 6 * PAGE, 1, VM_PAGE_READWRITE | VM_PAGE_GUARD); /* 6 */
    memset((void *)a, 0x5A, 4 * PAGE);
    CHECK_EQ(keeper.commits + keeper.protects, 0);           /* not lent yet: nothing told */

    CHECK_EQ(vm_shadow(a + PAGE + 10, 100), MS_OK);
    CHECK(vm_shadowed(a), "the whole allocation is shadowed, not only the buffer's page");
    CHECK_EQ(keeper.commits, 4);                             /* runs: 0-3, 4-5, 6, 7-15 */
    CHECK_EQ(kept(a), HOST_PROT_READ | HOST_PROT_WRITE);
    CHECK_EQ(kept(a + 4 * PAGE), HOST_PROT_READ);
    CHECK_EQ(kept(a + 6 * PAGE), HOST_PROT_NONE);            /* a guard page traps on first touch */
    CHECK_EQ(kept(a + 15 * PAGE), HOST_PROT_NONE);           /* reserved */
    check_in_step(a, 16, "shadowed");
    CHECK(((unsigned char *)a)[PAGE] == 0x5A, "telling the keeper left the contents alone");

    unsigned calls = keeper.commits + keeper.protects;
    CHECK_EQ(vm_shadow(a, 16 * PAGE), MS_OK);
    CHECK_EQ(keeper.commits + keeper.protects, calls);       /* once per allocation */

    CHECK_EQ(vm_protect(a, PAGE, VM_PAGE_READONLY, &old), MS_OK);
    CHECK_EQ(kept(a), HOST_PROT_READ);
    check_in_step(a, 16, "after VirtualProtect to read-only");
    CHECK_EQ(vm_protect(a, PAGE, VM_PAGE_EXECUTE_READWRITE, &old), MS_OK);
    check_in_step(a, 16, "after VirtualProtect to PAGE_EXECUTE_READWRITE");
    CHECK_EQ(vm_protect(a + PAGE, PAGE, VM_PAGE_NOACCESS, &old), MS_OK);
    check_in_step(a, 16, "after VirtualProtect to PAGE_NOACCESS");

    uintptr_t at = a + 2 * PAGE;
    size_t size = 2 * PAGE;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_DECOMMIT), MS_OK);
    CHECK_EQ(kept(a + 2 * PAGE), HOST_PROT_NONE);
    check_in_step(a, 16, "after a decommit");
    commit(a + 8 * PAGE, 3, VM_PAGE_READWRITE);
    ((volatile char *)a)[8 * PAGE] = 1;
    check_in_step(a, 16, "after a commit");
    commit(a + 2 * PAGE, 1, VM_PAGE_EXECUTE_READ);
    check_in_step(a, 16, "after a commit of an executable page");
    CHECK(vm_guard_page_hit(a + 6 * PAGE), "the guard page's first touch");
    check_in_step(a, 16, "after the guard page was hit");

    CHECK_EQ(keeper.early_grants, 0);       /* granted only after the host */
    CHECK_EQ(keeper.late_revokes, 0);       /* taken away before the host */
    CHECK_EQ(keeper.refused, 0);

    at = a;
    size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(!host_shadowed(a), "released: no longer shadowed");
    CHECK_EQ(kept(a), HOST_PROT_NONE);                       /* told on the way out */

    /* A new allocation in the same place is not shadowed until it is lent. */
    calls = keeper.commits + keeper.protects;
    uintptr_t b = a;
    CHECK_EQ(vm_allocate(&b, 4 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK(b == a && !vm_shadowed(b), "a new allocation there starts unshadowed");
    CHECK_EQ(vm_protect(b, PAGE, VM_PAGE_READONLY, &old), MS_OK);
    CHECK_EQ(keeper.commits + keeper.protects, calls);
    at = b;
    size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

/* A decommit of more than VM_LAZY_DECOMMIT_PAGES goes back to the host at
 * once (host_decommit, not the lazy one): told too. */
static void test_large_decommit(void)
{
    keeper_reset();
    uintptr_t a = reserve(128);
    commit(a, 128, VM_PAGE_READWRITE);
    CHECK_EQ(vm_shadow(a, 1), MS_OK);
    uintptr_t at = a + 8 * PAGE;
    size_t size = 100 * PAGE;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_DECOMMIT), MS_OK);
    CHECK_EQ(kept(a + 50 * PAGE), HOST_PROT_NONE);
    check_in_step(a, 128, "after a large decommit");
    CHECK_EQ(keeper.late_revokes, 0);
    at = a;
    size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

/* A thread that cannot reach the keeper (the heap purge's, under Wine)
 * decommits: its notes wait, in order, until the next lend; a release on
 * such a thread drops its waiting notes. */
static void *decommit_unreachable(void *arg)
{
    uintptr_t a = (uintptr_t)arg, at = a + 2 * PAGE;
    size_t size = 2 * PAGE;
    unreachable_here = true;
    vm_free(&at, &size, VM_MEM_DECOMMIT);
    return NULL;
}

static void *release_unreachable(void *arg)
{
    uintptr_t at = (uintptr_t)arg;
    size_t size = 0;
    unreachable_here = true;
    vm_free(&at, &size, VM_MEM_RELEASE);
    return NULL;
}

static void test_unreachable_thread(void)
{
    pthread_t t;
    keeper_reset();
    uintptr_t a = reserve(8);
    commit(a, 8, VM_PAGE_READWRITE);
    CHECK_EQ(vm_shadow(a, 1), MS_OK);
    unsigned calls = keeper.commits + keeper.protects;
    pthread_create(&t, NULL, decommit_unreachable, (void *)a);
    pthread_join(t, NULL);
    CHECK_EQ(keeper.commits + keeper.protects, calls);      /* nothing reached the keeper */
    CHECK(host_shadow_queued() > 0, "the decommit's note waits (%zu queued)", host_shadow_queued());
    CHECK_EQ(kept(a + 2 * PAGE), HOST_PROT_READ | HOST_PROT_WRITE);    /* the keeper's older view */
    CHECK_EQ(vm_shadow(a + 5 * PAGE, 10), MS_OK);             /* lending flushes */
    CHECK_EQ(host_shadow_queued(), 0);
    CHECK_EQ(kept(a + 2 * PAGE), HOST_PROT_NONE);
    check_in_step(a, 8, "after the waiting note was told");
    CHECK_EQ(keeper.from_unreachable, 0);

    /* Waiting notes, then a newer change on this thread: told in order. */
    pthread_create(&t, NULL, decommit_unreachable, (void *)a);
    pthread_join(t, NULL);
    commit(a + 2 * PAGE, 2, VM_PAGE_READWRITE);
    CHECK_EQ(host_shadow_queued(), 0);
    CHECK_EQ(kept(a + 2 * PAGE), HOST_PROT_READ | HOST_PROT_WRITE);
    check_in_step(a, 8, "a newer commit after a waiting decommit");

    /* Released on the unreachable thread: its notes are dropped, never
     * applied over the next allocation there. */
    pthread_create(&t, NULL, release_unreachable, (void *)a);
    pthread_join(t, NULL);
    CHECK_EQ(host_shadow_queued(), 0);
    CHECK(!host_shadowed(a), "released");
    uintptr_t b = a;
    CHECK_EQ(vm_allocate(&b, 8 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_shadow(b, 1), MS_OK);
    check_in_step(b, 8, "a new allocation where a released one's notes were dropped");
    CHECK_EQ(keeper.from_unreachable, 0);
    uintptr_t at = b;
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

/* Notes queued for the end of one allocation and the start of the next
 * are not one note: releasing the first drops its part only, and nothing
 * queued for it reaches the keeper over whatever comes there next. */
struct two_allocs {
    uintptr_t a, b;
};

static void *decommit_both_release_first(void *arg)
{
    struct two_allocs *t = arg;
    uintptr_t at = t->a + 15 * PAGE, bt = t->b;
    size_t size = PAGE, bsize = PAGE;
    unreachable_here = true;
    vm_free(&at, &size, VM_MEM_DECOMMIT);
    vm_free(&bt, &bsize, VM_MEM_DECOMMIT);
    at = t->a;
    size = 0;
    vm_free(&at, &size, VM_MEM_RELEASE);
    return NULL;
}

static void test_queued_notes_of_neighbours(void)
{
    keeper_reset();
    struct two_allocs t = { 0, 0 };
    CHECK_EQ(vm_allocate(&t.a, 16 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    t.b = t.a + 16 * PAGE;
    if (vm_allocate(&t.b, 16 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE) != MS_OK || t.b != t.a + 16 * PAGE) {
        CHECK(1, "the next granule was taken: skipped");
        return;
    }
    CHECK_EQ(vm_shadow(t.a, 32 * PAGE), MS_OK);
    pthread_t th;
    pthread_create(&th, NULL, decommit_both_release_first, &t);
    pthread_join(th, NULL);
    CHECK(host_shadow_queued() == 1, "only the second allocation's note waits (%zu)", host_shadow_queued());
    keeper.watch_lo = t.a;
    keeper.watch_hi = t.a + 16 * PAGE;
    uintptr_t c = t.a;          /* a new allocation where the released one was: its commit flushes the queue */
    CHECK_EQ(vm_allocate(&c, 16 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_shadow(t.b + PAGE, 1), MS_OK);                /* flushes, if that did not */
    CHECK_EQ(keeper.watched, 0);                              /* nothing of the released one's reached the new one */
    CHECK_EQ(kept(t.b), HOST_PROT_NONE);
    check_in_step(t.b, 16, "the second allocation after the flush");
    keeper.watch_lo = keeper.watch_hi = 0;
    uintptr_t at = c;
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
    at = t.b;
    size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

static void test_unowned_and_bad(void)
{
    static char not_ours[PAGE];
    keeper_reset();
    CHECK_EQ(vm_shadow((uintptr_t)not_ours, sizeof(not_ours)), MS_OK);  /* skipped */
    CHECK_EQ(keeper.commits, 0);
    CHECK_EQ(vm_shadow(0, 0), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_shadow(UINTPTR_MAX - 10, 100), MS_ERROR_INVALID_PARAMETER);
}

/* A buffer across two allocations shadows both. */
static void test_two_allocations(void)
{
    keeper_reset();
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 16 * PAGE, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    uintptr_t lo = a, hi = a + 16 * PAGE;      /* the next 64 KiB granule */
    CHECK_EQ(vm_allocate(&lo, 16 * PAGE, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    uintptr_t b = hi;
    ms_status st = vm_allocate(&b, 16 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE);
    if (st == MS_OK && b == hi) {
        CHECK_EQ(vm_shadow(hi - 100, 200), MS_OK);
        CHECK(vm_shadowed(a) && vm_shadowed(hi), "both allocations under the buffer are shadowed");
        check_in_step(a, 32, "two allocations");
        uintptr_t at = b;
        size_t size = 0;
        vm_free(&at, &size, VM_MEM_RELEASE);
    } else {
        CHECK(1, "the next granule was taken: skipped");
    }
    uintptr_t at = a;
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

/* A shared view's copy-on-write page has no write access on the host until
 * its copy is made: the keeper is told so, then told of the copy. */
static void test_view(void)
{
    keeper_reset();
    int fd = memfd_create("memshim-shadow", 0);
    CHECK(fd >= 0 && ftruncate(fd, 4 * PAGE) == 0, "memfd");
    uintptr_t v = 0;
    uint32_t old;
    CHECK_EQ(vm_map_view(&v, 4 * PAGE, VM_PAGE_READWRITE, fd, 0, true, false, NULL), MS_OK);
    CHECK_EQ(vm_shadow(v, 4 * PAGE), MS_OK);
    CHECK_EQ(kept(v), HOST_PROT_READ | HOST_PROT_WRITE);
    check_in_step(v, 4, "a shared view");
    /* In a shared view a page becomes copy-on-write through VirtualProtect. */
    CHECK_EQ(vm_protect(v, 4 * PAGE, VM_PAGE_WRITECOPY, &old), MS_OK);
    CHECK_EQ(kept(v), HOST_PROT_READ);
    check_in_step(v, 4, "copy-on-write pages of a shared view");
    vm_view_copy_for_write(v + PAGE, 10);
    CHECK_EQ(kept(v + PAGE), HOST_PROT_READ | HOST_PROT_WRITE);
    check_in_step(v, 4, "after one page's copy");
    CHECK_EQ(keeper.early_grants, 0);
    void *owner;
    CHECK_EQ(vm_unmap_view(v, &owner), MS_OK);
    CHECK(!host_shadowed(v), "unmapped: no longer shadowed");
    close(fd);
}

/* Heap blocks: the segment under a block is what gets shadowed. */
static void test_heap_block(void)
{
    keeper_reset();
    struct ms_heap *h = heap_process();
    char *p = heap_alloc(h, 0, 300, NULL);
    CHECK(p != NULL, "heap block");
    CHECK_EQ(vm_shadow((uintptr_t)p, 300), MS_OK);
    CHECK(vm_shadowed((uintptr_t)p), "the block's segment is shadowed");
    CHECK(kept((uintptr_t)p & ~(PAGE - 1)) == (HOST_PROT_READ | HOST_PROT_WRITE), "the block's page: writable");
    CHECK_EQ(heap_free(h, 0, p), MS_OK);
    CHECK_EQ(keeper.early_grants, 0);
}

/* A full table fails vm_shadow and tells the keeper nothing (the table
 * held to 4096 ranges here; it holds 65536). */
static void test_table_full(void)
{
    enum { N = 4200 };
    host_shadow_set_limit(4096);
    static uintptr_t allocs[N];
    size_t made = 0;
    ms_status last = MS_OK;
    for (; made < N; made++) {
        uintptr_t a = 0;
        if (vm_allocate(&a, PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE) != MS_OK)
            break;
        allocs[made] = a;
        if ((last = vm_shadow(a, 1)) != MS_OK) {
            made++;
            break;
        }
    }
    CHECK(last == MS_ERROR_NOT_ENOUGH_MEMORY, "past the table's 4096 ranges vm_shadow fails (after %zu)", made);
    CHECK(!vm_shadowed(allocs[made - 1]), "the one that did not fit is not shadowed");
    for (size_t i = 0; i < made; i++) {
        uintptr_t at = allocs[i];
        size_t size = 0;
        vm_free(&at, &size, VM_MEM_RELEASE);
    }
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_shadow(a, 1), MS_OK);           /* released ranges made room again */
    uintptr_t at = a;
    size_t size = 0;
    vm_free(&at, &size, VM_MEM_RELEASE);
    host_shadow_set_limit(0);
}

/* Two threads: one lends and releases allocations, the other toggles a
 * shadowed allocation's protection; the keeper stays in step. */
static uintptr_t toggled;

static void *toggler(void *arg)
{
    (void)arg;
    uint32_t old;
    for (int i = 0; i < 300; i++)
        vm_protect(toggled + (size_t)(i % 4) * PAGE, PAGE, i & 1 ? VM_PAGE_READONLY : VM_PAGE_READWRITE, &old);
    return NULL;
}

static void test_threads(void)
{
    keeper_reset();
    toggled = 0;
    CHECK_EQ(vm_allocate(&toggled, 4 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    CHECK_EQ(vm_shadow(toggled, 1), MS_OK);
    pthread_t t;
    pthread_create(&t, NULL, toggler, NULL);
    for (int i = 0; i < 300; i++) {
        uintptr_t a = 0;
        if (vm_allocate(&a, 2 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE) == MS_OK) {
            vm_shadow(a, 1);
            uintptr_t at = a;
            size_t size = 0;
            vm_free(&at, &size, VM_MEM_RELEASE);
        }
    }
    pthread_join(t, NULL);
    check_in_step(toggled, 4, "after two threads");
    CHECK_EQ(keeper.early_grants, 0);
    CHECK_EQ(keeper.late_revokes, 0);
    uintptr_t at = toggled;
    size_t size = 0;
    CHECK_EQ(vm_free(&at, &size, VM_MEM_RELEASE), MS_OK);
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    test_without_keeper();
    host_shadow_use(&recorder);
    test_allocation_lifecycle();
    test_large_decommit();
    test_unreachable_thread();
    test_queued_notes_of_neighbours();
    test_unowned_and_bad();
    test_two_allocations();
    test_view();
    test_heap_block();
    test_table_full();
    test_threads();
    host_shadow_use(NULL);
    return unit_done();
}
