/*
 * native_bench.c - the host's limits on the benchmark's cases, natively:
 *   host     raw mmap/munmap/mprotect/madvise, memfd and shm_open sections,
 *            /proc/self/maps as the only native "VirtualQuery", sysinfo;
 *   glibc    malloc/free/realloc on the heap cases;
 *   mimalloc the same through mimalloc (Debian's libmimalloc-dev), with
 *            mi_heap_* for private heaps;
 *   core     memshim's own core (src/vm, src/heap, src/status) natively, on
 *            every case it serves.
 * Case names match win_bench.c where the operation maps. The heap cases are
 * the same source (bench_heap_cases.h) on every side; mimalloc and the core
 * take turns sample by sample (bench_run_paired), and a third row gives
 * their ratio round by round.
 * Usage: native_bench [--quick] [CASE]
 */
#include <fcntl.h>
#include <mimalloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "../src/heap/heap.h"
#include "../src/status/mem_status.h"
#include "../src/vm/vm.h"

static uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#include "bench_common.h"

/* --- allocators behind the heap cases ------------------------------------ */
struct allocator {
    void *(*alloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*heap_create)(void);
    void *(*heap_alloc)(void *, size_t);
    void (*heap_destroy)(void *);
};
static const struct allocator *current;

static void *ba_alloc(size_t size) { return current->alloc(size); }
static void ba_free(void *p) { current->free(p); }
static void *ba_realloc(void *p, size_t size) { return current->realloc(p, size); }
static void *ba_heap_create(void) { return current->heap_create(); }
static void *ba_heap_alloc(void *h, size_t size) { return current->heap_alloc(h, size); }
static void ba_heap_destroy(void *h) { current->heap_destroy(h); }

static const struct allocator glibc = { malloc, free, realloc, NULL, NULL, NULL };

static void *mi_heap_create(void) { return mi_heap_new(); }
static void *mi_heap_alloc(void *h, size_t size) { return mi_heap_malloc(h, size); }
static void mi_heap_gone(void *h) { mi_heap_destroy(h); }
static const struct allocator mimalloc = { mi_malloc, mi_free, mi_realloc, mi_heap_create, mi_heap_alloc,
                                           mi_heap_gone };

static void *core_alloc(size_t size) { return heap_alloc(heap_process(), 0, size, NULL); }
static void core_free(void *p)
{
    BENCH_CHECK(heap_free(heap_process(), 0, p) == MS_OK, "heap_free %p", p);
}
static void *core_realloc(void *p, size_t size) { return heap_realloc(heap_process(), 0, p, size, NULL); }
static void *core_heap_create(void) { return heap_create(0, 0, 0, NULL); }
static void *core_heap_alloc(void *h, size_t size) { return heap_alloc(h, 0, size, NULL); }
static void core_heap_destroy(void *h) { BENCH_CHECK(heap_destroy(h) == MS_OK, "heap_destroy"); }
static const struct allocator core = { core_alloc, core_free, core_realloc, core_heap_create, core_heap_alloc,
                                       core_heap_destroy };

typedef pthread_t bench_thread;
typedef sem_t bench_event;
struct thread_start { void (*fn)(void *); void *arg; };
static void *thread_entry(void *p)
{
    struct thread_start s = *(struct thread_start *)p;
    free(p);
    s.fn(s.arg);
    heap_thread_detach();           /* what DLL_THREAD_DETACH does under Wine */
    return NULL;
}
static bench_thread bench_thread_run(void (*fn)(void *), void *arg)
{
    struct thread_start *s = malloc(sizeof(*s));
    BENCH_CHECK(s, "malloc");
    s->fn = fn;
    s->arg = arg;
    pthread_t t;
    BENCH_CHECK(pthread_create(&t, NULL, thread_entry, s) == 0, "pthread_create");
    return t;
}
static void bench_thread_join(bench_thread t) { pthread_join(t, NULL); }
static void bench_event_init(bench_event *e) { sem_init(e, 0, 0); }
static void bench_event_set(bench_event *e) { sem_post(e); }
static void bench_event_wait(bench_event *e) { while (sem_wait(e) != 0) {} }
static void bench_event_destroy(bench_event *e) { sem_destroy(e); }

#include "bench_heap_cases.h"

/* --- host: raw syscalls -------------------------------------------------- */
#define KiB ((size_t)1024)
#define PAGE (4 * KiB)

static void host_alloc_touch_free_64k(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        BENCH_CHECK(p != MAP_FAILED, "mmap");
        for (size_t off = 0; off < 64 * KiB; off += PAGE)
            p[off] = 1;
        BENCH_CHECK(munmap(p, 64 * KiB) == 0, "munmap");
    }
}

static void host_reserve_release_1g(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *p = mmap(NULL, 1u << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        BENCH_CHECK(p != MAP_FAILED, "mmap 1 GiB");
        BENCH_CHECK(munmap(p, 1u << 30) == 0, "munmap");
    }
}

static char *host_block(void)
{
    static char *b;
    if (!b) {
        b = mmap(NULL, 64 * KiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        BENCH_CHECK(b != MAP_FAILED, "mmap");
    }
    return b;
}

static void host_commit_decommit_page(size_t n)
{
    char *r = host_block();
    for (size_t i = 0; i < n; i++) {
        BENCH_CHECK(mprotect(r, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect");
        r[0] = 1;
        BENCH_CHECK(madvise(r, PAGE, MADV_DONTNEED) == 0, "madvise");
        BENCH_CHECK(mprotect(r, PAGE, PROT_NONE) == 0, "mprotect");
    }
}

/* As win_bench's case: the first page of a committed read-write 64 KiB
 * block, so the kernel splits and merges the same mappings. */
static void host_protect_toggle(size_t n)
{
    static char *b;
    if (!b) {
        b = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        BENCH_CHECK(b != MAP_FAILED, "mmap");
        b[0] = 1;
    }
    for (size_t i = 0; i < n; i++)
        BENCH_CHECK(mprotect(b, PAGE, (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ) == 0, "mprotect");
    BENCH_CHECK(mprotect(b, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect");
}

/* The host has no VirtualQuery: a program must read /proc/self/maps. */
static void host_query(size_t n)
{
    char *b = host_block();
    static char text[1 << 16];
    for (size_t i = 0; i < n; i++) {
        int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        BENCH_CHECK(fd >= 0, "open maps");
        ssize_t len = 0, r;
        while ((r = read(fd, text + len, sizeof text - 1 - (size_t)len)) > 0)
            len += r;
        close(fd);
        text[len] = 0;
        int found = 0;
        for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= (uintptr_t)b && (uintptr_t)b < hi) {
                found = 1;
                break;
            }
        }
        BENCH_CHECK(found, "block not in /proc/self/maps");
    }
}

static void host_section_cycle(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int fd = memfd_create("bench", MFD_CLOEXEC);
        BENCH_CHECK(fd >= 0 && ftruncate(fd, 64 * KiB) == 0, "memfd");
        char *v = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        BENCH_CHECK(v != MAP_FAILED, "mmap");
        v[0] = 1;
        v[32 * KiB] = 2;
        BENCH_CHECK(munmap(v, 64 * KiB) == 0 && close(fd) == 0, "unmap/close");
    }
}

static void host_section_open_cycle(size_t n)
{
    static int created;
    if (!created) {
        int fd = shm_open("/memshim-bench", O_RDWR | O_CREAT, 0600);
        BENCH_CHECK(fd >= 0 && ftruncate(fd, 64 * KiB) == 0, "shm_open");
        close(fd);
        created = 1;
    }
    for (size_t i = 0; i < n; i++) {
        int fd = shm_open("/memshim-bench", O_RDWR, 0);
        BENCH_CHECK(fd >= 0, "shm_open");
        char *v = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        BENCH_CHECK(v != MAP_FAILED, "mmap");
        v[0] = 1;
        BENCH_CHECK(munmap(v, 64 * KiB) == 0 && close(fd) == 0, "unmap/close");
    }
}

static void host_memory_status(size_t n)
{
    struct sysinfo si;
    for (size_t i = 0; i < n; i++)
        BENCH_CHECK(sysinfo(&si) == 0 && si.totalram > 0, "sysinfo");
}

/* --- core: memshim's vm natively ------------------------------------------ */
static void core_alloc_touch_free_64k(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = 0;
        size_t zero = 0;
        BENCH_CHECK(vm_allocate(&p, 64 * KiB, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE) == MS_OK, "alloc");
        for (size_t off = 0; off < 64 * KiB; off += PAGE)
            ((char *)p)[off] = 1;
        BENCH_CHECK(vm_free(&p, &zero, VM_MEM_RELEASE) == MS_OK, "free");
    }
}

static void core_reserve_release_1g(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = 0;
        size_t zero = 0;
        BENCH_CHECK(vm_allocate(&p, 1u << 30, VM_MEM_RESERVE, VM_PAGE_NOACCESS) == MS_OK, "reserve");
        BENCH_CHECK(vm_free(&p, &zero, VM_MEM_RELEASE) == MS_OK, "release");
    }
}

static uintptr_t core_block(uint32_t type)
{
    static uintptr_t reserved, committed;
    uintptr_t *slot = type & VM_MEM_COMMIT ? &committed : &reserved;
    if (!*slot)
        BENCH_CHECK(vm_allocate(slot, 64 * KiB, VM_MEM_RESERVE | type, VM_PAGE_READWRITE) == MS_OK, "alloc");
    return *slot;
}

static void core_commit_decommit_page(size_t n)
{
    uintptr_t r = core_block(0);
    for (size_t i = 0; i < n; i++) {
        uintptr_t p = r;
        size_t size = PAGE;
        BENCH_CHECK(vm_allocate(&p, PAGE, VM_MEM_COMMIT, VM_PAGE_READWRITE) == MS_OK, "commit");
        ((char *)p)[0] = 1;
        BENCH_CHECK(vm_free(&p, &size, VM_MEM_DECOMMIT) == MS_OK, "decommit");
    }
}

static void core_protect_toggle(size_t n)
{
    uintptr_t b = core_block(VM_MEM_COMMIT);
    uint32_t old;
    for (size_t i = 0; i < n; i++)
        BENCH_CHECK(vm_protect(b, PAGE, (i & 1) ? VM_PAGE_READWRITE : VM_PAGE_READONLY, &old) == MS_OK, "protect");
    BENCH_CHECK(vm_protect(b, PAGE, VM_PAGE_READWRITE, &old) == MS_OK, "protect");
}

static void core_query(size_t n)
{
    uintptr_t b = core_block(VM_MEM_COMMIT);
    struct vm_region_info info;
    for (size_t i = 0; i < n; i++)
        BENCH_CHECK(vm_query(b + PAGE, &info) == MS_OK && info.state == VM_MEM_COMMIT, "query");
}

static uint64_t no_outside(void) { return 0; }
static void core_memory_status(size_t n)
{
    struct mem_status s;
    for (size_t i = 0; i < n; i++)
        BENCH_CHECK(mem_status_get(&s, no_outside) == MS_OK, "mem_status_get");
}

static const struct bench_case host_cases[] = {
    { "vm_alloc_touch_free_64k", host_alloc_touch_free_64k, 20000, 2000 },
    { "vm_reserve_release_1g", host_reserve_release_1g, 5000, 500 },
    { "vm_commit_decommit_page", host_commit_decommit_page, 20000, 2000 },
    { "vm_protect_toggle", host_protect_toggle, 50000, 5000 },
    { "vm_query", host_query, 2000, 200 },
    { "section_cycle", host_section_cycle, 2000, 200 },
    { "section_open_cycle", host_section_open_cycle, 2000, 200 },
    { "memory_status", host_memory_status, 100000, 10000 },
};

static const struct bench_case heap_cases[] = { BENCH_HEAP_CASES };

static const struct bench_case core_vm_cases[] = {
    { "vm_alloc_touch_free_64k", core_alloc_touch_free_64k, 20000, 2000 },
    { "vm_reserve_release_1g", core_reserve_release_1g, 5000, 500 },
    { "vm_commit_decommit_page", core_commit_decommit_page, 20000, 2000 },
    { "vm_protect_toggle", core_protect_toggle, 50000, 5000 },
    { "vm_query", core_query, 200000, 20000 },
    { "memory_status", core_memory_status, 100000, 10000 },
};

/* A heap case on mimalloc and on the core, sampled in turns
 * (bench_run_in_turns): the third row is the median of the rounds'
 * core/mimalloc. */
static void select_allocator(int k)
{
    current = k ? &core : &mimalloc;
}

static void bench_run_paired(const struct bench_case *c, const char *only)
{
    if (only && strcmp(only, c->name) != 0)
        return;
    const struct bench_case *const both[2] = { c, c };
    const char *const impl[2] = { "mimalloc", "core" };
    bench_run_in_turns(both, impl, select_allocator, 1, c->name, "core/mimalloc");
}

int main(int argc, char **argv)
{
    BENCH_CHECK(vm_init(0) == MS_OK, "vm_init");
    bench_impl = "host";
    bench_main(host_cases, BENCH_COUNT(host_cases), argc, argv);
    bench_impl = "glibc";
    current = &glibc;
    /* glibc has no private heaps: skip that case for it. */
    for (size_t i = 0; i < BENCH_COUNT(heap_cases); i++)
        if (strcmp(heap_cases[i].name, "heap_private_cycle"))
            bench_main(&heap_cases[i], 1, argc, argv);
    const char *only = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick"))
            only = argv[i];
    for (size_t i = 0; i < BENCH_COUNT(heap_cases); i++)
        bench_run_paired(&heap_cases[i], only);
    bench_impl = "core";
    current = &core;
    bench_main(core_vm_cases, BENCH_COUNT(core_vm_cases), argc, argv);
    shm_unlink("/memshim-bench");
    return 0;
}
