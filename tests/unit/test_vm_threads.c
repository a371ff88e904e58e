/*
 * test_vm_threads.c - the vm core under concurrent use: threads reserving,
 * committing, protecting, querying, decommitting and releasing at once,
 * each on its own regions and also querying the others'. Afterwards the
 * map's invariants hold and everything is given back. Run under TSan too.
 *
 * Also: copy-on-write pages of a shared view written by several threads at
 * once, with a SIGSEGV handler in the role of the DLL's exception handler.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../src/vm/vm.h"
#include "unit.h"

#define THREADS 4
#define ROUNDS 400

static _Atomic int errors;
static uintptr_t shared_regions[THREADS];

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1);
    for (int r = 0; r < ROUNDS; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t pages = 1 + (size_t)(x % 32);
        uintptr_t a = 0;
        if (vm_allocate(&a, pages * 4096, VM_MEM_RESERVE, VM_PAGE_READWRITE) != MS_OK) {
            errors++;
            continue;
        }
        __atomic_store_n(&shared_regions[id], a, __ATOMIC_RELEASE);
        uintptr_t c = a;
        if (vm_allocate(&c, pages * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE) != MS_OK)
            errors++;
        memset((void *)a, (int)id, pages * 4096);
        uint32_t old;
        if (vm_protect(a, 4096, VM_PAGE_READONLY, &old) != MS_OK || old != VM_PAGE_READWRITE)
            errors++;
        /* Query someone else's region: any answer is fine, it must not crash
         * or see a torn map (the invariant check below catches those). */
        struct vm_region_info info;
        uintptr_t other = __atomic_load_n(&shared_regions[(id + 1) % THREADS], __ATOMIC_ACQUIRE);
        if (other)
            (void)vm_query(other, &info);
        if (vm_query(a, &info) != MS_OK || info.protect != VM_PAGE_READONLY || info.allocation_base != a)
            errors++;
        if (((volatile char *)a)[pages * 4096 - 1] != (char)id)
            errors++;
        uintptr_t d = a + 4096;
        size_t size = (pages - 1) * 4096;
        if (pages > 1 && vm_free(&d, &size, VM_MEM_DECOMMIT) != MS_OK)
            errors++;
        __atomic_store_n(&shared_regions[id], 0, __ATOMIC_RELEASE);
        size = 0;
        if (vm_free(&a, &size, VM_MEM_RELEASE) != MS_OK)
            errors++;
    }
    return NULL;
}

#define COW_THREADS 4
#define COW_PAGES 16
#define COW_ROUNDS 50

static unsigned char *volatile cow_view;
static pthread_barrier_t cow_barrier;

static void cow_fault(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    if (write && vm_view_write_fault((uintptr_t)si->si_addr))
        return;                         /* retried: reaches the private copy */
    signal(sig, SIG_DFL);               /* a real fault: crash on the retry */
}

static void *cow_writer(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    for (int r = 0; r < COW_ROUNDS; r++) {
        pthread_barrier_wait(&cow_barrier);     /* view ready */
        unsigned char *v = cow_view;
        for (int i = 0; i < COW_PAGES; i++)
            v[i * 4096 + 64 * id] = (unsigned char)(0x80 + id);
        pthread_barrier_wait(&cow_barrier);     /* all written */
    }
    return NULL;
}

static void test_shared_view_copy_on_write(void)
{
    struct sigaction sa = { 0 }, old;
    sa.sa_sigaction = cow_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, &old);
    int fd = memfd_create("memshim-cow", 0);
    CHECK(fd >= 0 && ftruncate(fd, COW_PAGES * 4096) == 0, "memfd");
    uintptr_t section = 0;
    CHECK_EQ(vm_map_view(&section, COW_PAGES * 4096, VM_PAGE_READONLY, fd, 0, true, false, NULL), MS_OK);
    pthread_barrier_init(&cow_barrier, NULL, COW_THREADS + 1);
    pthread_t t[COW_THREADS];
    for (unsigned i = 0; i < COW_THREADS; i++)
        pthread_create(&t[i], NULL, cow_writer, (void *)(uintptr_t)i);
    int lost = 0, leaked = 0, reported = 0;
    for (int r = 0; r < COW_ROUNDS; r++) {
        uintptr_t v = 0;
        uint32_t prev;
        CHECK_EQ(vm_map_view(&v, COW_PAGES * 4096, VM_PAGE_READWRITE, fd, 0, true, false, NULL), MS_OK);
        CHECK_EQ(vm_protect(v, COW_PAGES * 4096, VM_PAGE_WRITECOPY, &prev), MS_OK);
        cow_view = (unsigned char *)v;
        pthread_barrier_wait(&cow_barrier);
        pthread_barrier_wait(&cow_barrier);
        struct vm_region_info info;
        for (int i = 0; i < COW_PAGES; i++) {
            for (unsigned id = 0; id < COW_THREADS; id++) {
                lost += cow_view[i * 4096 + 64 * id] != 0x80 + id;
                leaked += ((unsigned char *)section)[i * 4096 + 64 * id] != 0;
            }
            reported += vm_query(v + (uintptr_t)i * 4096, &info) == MS_OK && info.protect == VM_PAGE_READWRITE;
        }
        CHECK_EQ(vm_unmap_view(v, NULL), MS_OK);
    }
    for (unsigned i = 0; i < COW_THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(lost == 0, "%d writes lost in copy-on-write pages written by %d threads at once", lost, COW_THREADS);
    CHECK(leaked == 0, "%d writes to copy-on-write pages reached the section", leaked);
    CHECK(reported == COW_ROUNDS * COW_PAGES, "%d of %d written pages reported PAGE_READWRITE", reported,
          COW_ROUNDS * COW_PAGES);
    /* Unwritten copy-on-write pages stay shared and say so. */
    uintptr_t v = 0;
    uint32_t prev;
    CHECK_EQ(vm_map_view(&v, COW_PAGES * 4096, VM_PAGE_READWRITE, fd, 0, true, false, NULL), MS_OK);
    CHECK_EQ(vm_protect(v + 4096, 4096, VM_PAGE_WRITECOPY, &prev), MS_OK);
    CHECK(pwrite(fd, "x", 1, 4096 + 5) == 1, "pwrite");
    CHECK(((char *)v)[4096 + 5] == 'x', "an unwritten copy-on-write page shows the section");
    struct vm_region_info info;
    CHECK(vm_query(v + 4096, &info) == MS_OK && info.protect == VM_PAGE_WRITECOPY && info.region_size == 4096,
          "unwritten page: protect %#x size %zu", info.protect, info.region_size);
    /* Not a view of the core, or not copy-on-write: no retry. */
    CHECK(!vm_view_write_fault(v), "a read-write page is no copy-on-write fault");
    CHECK(!vm_view_write_fault(section), "a read-only view's page is no copy-on-write fault");
    CHECK(!vm_view_write_fault((uintptr_t)&lost), "memory outside the core is no copy-on-write fault");
    CHECK_EQ(vm_unmap_view(v, NULL), MS_OK);
    CHECK_EQ(vm_unmap_view(section, NULL), MS_OK);
    pthread_barrier_destroy(&cow_barrier);
    close(fd);
    sigaction(SIGSEGV, &old, NULL);
}

/* VirtualQuery without the lock (vm_query.c's seqlock reader) while
 * another thread changes what it reads: a 64 KiB block inside a read-write
 * region flips between read-only and read-write, and a region next to it
 * comes and goes, and now and then a dedicated arena (the arena table
 * shifts). A query sees one state or the other, never a mix: a
 * read-only answer ends at the block's end, a read-write one runs to the
 * region's end; the other region is free (no allocation base) or a
 * reservation based where it was made; the region stays owned and a stack
 * address never is (vm_owns without the lock). (Under TSan the reader takes the
 * lock: it cannot model the seqlock; this test is for the plain and ASan
 * builds.) */
enum { FLIP_ROUNDS = 60000 };
static uintptr_t flip_region, flip_block, flip_other;
static _Atomic int flip_done;
static _Atomic long flip_bad, flip_queries;

static void *flip_writer(void *arg)
{
    (void)arg;
    uint32_t old;
    for (int i = 0; i < FLIP_ROUNDS; i++) {
        if (vm_protect(flip_block, 65536, (i & 1) ? VM_PAGE_READWRITE : VM_PAGE_READONLY, &old) != MS_OK)
            flip_bad++;
        uintptr_t a = flip_other;
        size_t size = 0;
        if (i & 1) {
            if (vm_free(&a, &size, VM_MEM_RELEASE) != MS_OK)
                flip_bad++;
        } else if (vm_allocate(&a, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE) != MS_OK || a != flip_other) {
            flip_bad++;
        }
        if (i % 64 == 0) {
            /* A dedicated arena comes and goes: the arena table shifts. */
            uintptr_t big = 0;
            size_t none = 0;
            if (vm_allocate(&big, (size_t)1 << 30, VM_MEM_RESERVE, VM_PAGE_READWRITE) != MS_OK ||
                vm_free(&big, &none, VM_MEM_RELEASE) != MS_OK)
                flip_bad++;
        }
    }
    atomic_store(&flip_done, 1);
    return NULL;
}

static void *flip_reader(void *arg)
{
    (void)arg;
    struct vm_region_info in, other;
    while (!atomic_load(&flip_done)) {
        if (vm_query(flip_block + 4096, &in) != MS_OK || vm_query(flip_other + 8192, &other) != MS_OK) {
            flip_bad++;
            continue;
        }
        bool in_ok = in.base == flip_block + 4096 && in.allocation_base == flip_region &&
                     in.state == VM_MEM_COMMIT &&
                     ((in.protect == VM_PAGE_READONLY && in.region_size == 65536 - 4096) ||
                      (in.protect == VM_PAGE_READWRITE && in.region_size == flip_region + (1u << 20) - in.base));
        bool other_ok = other.base == flip_other + 8192 &&
                        ((other.state == VM_MEM_FREE && other.allocation_base == 0) ||
                         (other.state == VM_MEM_RESERVE && other.allocation_base == flip_other &&
                          other.region_size == 65536 - 8192));
        int local;
        flip_bad += !in_ok + !other_ok + !vm_owns(flip_block) + vm_owns((uintptr_t)&local);
        flip_queries++;
    }
    return NULL;
}

static void test_query_while_changing(void)
{
    flip_region = 0;
    CHECK_EQ(vm_allocate(&flip_region, 1u << 20, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    flip_block = flip_region + 4 * 65536;
    /* A free granule-aligned place for the other region, then leave it free. */
    flip_other = 0;
    CHECK_EQ(vm_allocate(&flip_other, 65536, VM_MEM_RESERVE, VM_PAGE_READWRITE), MS_OK);
    size_t size = 0;
    uintptr_t a = flip_other;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    pthread_t w, r[2];
    atomic_store(&flip_done, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, flip_reader, NULL);
    pthread_create(&w, NULL, flip_writer, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    CHECK(flip_bad == 0, "%ld queries saw a mixed state or calls failed (%ld queries)", (long)flip_bad,
          (long)flip_queries);
    CHECK(flip_queries > 1000, "the readers ran (%ld queries)", (long)flip_queries);
    size = 0;
    a = flip_region;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    struct vm_counters before, after;
    vm_get_counters(&before);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(errors == 0, "%d operations failed or saw wrong results", (int)errors);
    CHECK(vm_check_invariants() == NULL, "invariants after the storm: %s", vm_check_invariants());
    vm_get_counters(&after);
    CHECK_EQ(after.committed_bytes, before.committed_bytes);
    CHECK_EQ(after.reserved_bytes, before.reserved_bytes);
    test_shared_view_copy_on_write();
    CHECK(vm_check_invariants() == NULL, "invariants after copy-on-write: %s", vm_check_invariants());
    test_query_while_changing();
    CHECK(vm_check_invariants() == NULL, "invariants after the queries: %s", vm_check_invariants());
    return unit_done();
}
