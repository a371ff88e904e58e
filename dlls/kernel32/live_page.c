/*
 * live_page.c - the live statistics page (include/memshim_live.h): while
 * statistics are on (MEMSHIM_STATS=1 or MEMSHIM_LIVE=1), the process
 * publishes its call counters and memory figures in /dev/shm/memshim-<Linux
 * pid>, which `memshim stat PID` reads from Linux while the program runs.
 *
 * The file is created with raw host calls and mapped shared into a range
 * the vm core reserved for it (usage HEAP with no owner, like the heap's
 * segment map: no heap claims it and Wine never maps over it). The call
 * counters of stats.c are folded into the page at each snapshot (stats.c
 * counts in per-thread stripes, so busy threads do not share a line).
 * The figures that are snapshots (commit charge, heaps, mappings) are
 * rewritten every SNAPSHOT_MS by a small thread of our own, under the
 * page's sequence lock; the thread only exists while statistics are on.
 * It is a bare thread (bare_thread.c: it calls only the core and memshim
 * code): as a Wine thread it cost ~1 MiB resident, and a process whose
 * own threads had all exited waited for it.
 *
 * Thread safety: live_page_create runs once, at process attach, before the
 * program's code; afterwards only the publisher thread writes the figures
 * (the sequence lock needs a single writer). Process exit stops it
 * (live_page_stop, before Wine terminates its threads: it waits for a
 * snapshot under way), then live_page_remove runs at process detach.
 */
#include "private.h"
#include "bare_thread.h"
#include "live_page.h"
#include "stats.h"
#include "../../include/memshim_live.h"
#include "../../src/base/ms_format.h"
#include "../../src/base/ms_lock.h"
#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

#define SNAPSHOT_MS 200

#define STOP_WAIT_NS 200000000u

static struct memshim_live_page *page;
static char page_path[64];
static uint32_t publisher_stopping;     /* futex word: the publisher's sleep */
static uint32_t publisher_busy;

/* The exe's file name from the process parameters, as ASCII. */
static void program_name(char *out, size_t size)
{
    RTL_USER_PROCESS_PARAMETERS *params = ((PEB *)current_peb())->ProcessParameters;
    size_t n = 0;
    if (params && params->ImagePathName.Buffer) {
        const WCHAR *path = params->ImagePathName.Buffer;
        size_t len = params->ImagePathName.Length / sizeof(WCHAR), start = 0;
        for (size_t i = 0; i < len; i++)
            if (path[i] == '\\' || path[i] == '/')
                start = i + 1;
        for (size_t i = start; i < len && n + 1 < size; i++)
            out[n++] = path[i] < 0x80 ? (char)path[i] : '?';
    }
    out[n] = 0;
}

/* Peak bytes in use per heap, as seen by the snapshots; a heap missing
 * from a snapshot (destroyed) loses its entry. */
#define PEAK_SLOTS 64
static struct {
    const void *heap;
    uint64_t peak, peak_blocks;
} peaks[PEAK_SLOTS];
static ms_mutex peaks_lock = MS_MUTEX_INIT;

unsigned live_heaps_sample(struct memshim_live_heap *out, unsigned max)
{
    struct heap_usage now[PEAK_SLOTS];
    size_t total = heap_usage_list(now, PEAK_SLOTS);
    size_t n = total < PEAK_SLOTS ? total : PEAK_SLOTS;
    ms_mutex_lock(&peaks_lock);
    for (unsigned s = 0; s < PEAK_SLOTS; s++) {
        bool alive = false;
        for (size_t i = 0; i < n && !alive; i++)
            alive = peaks[s].heap == now[i].heap;
        if (!alive)
            peaks[s].heap = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t peak = now[i].in_use, peak_blocks = now[i].blocks;
        unsigned free_slot = PEAK_SLOTS, s;
        for (s = 0; s < PEAK_SLOTS && peaks[s].heap != now[i].heap; s++)
            if (!peaks[s].heap && free_slot == PEAK_SLOTS)
                free_slot = s;
        if (s == PEAK_SLOTS && free_slot < PEAK_SLOTS) {
            s = free_slot;
            peaks[s].heap = now[i].heap;
            peaks[s].peak = 0;
            peaks[s].peak_blocks = 0;
        }
        if (s < PEAK_SLOTS) {
            if (peaks[s].peak < peak)
                peaks[s].peak = peak;
            if (peaks[s].peak_blocks < peak_blocks)
                peaks[s].peak_blocks = peak_blocks;
            peak = peaks[s].peak;
            peak_blocks = peaks[s].peak_blocks;
        }
        if (i < max) {
            bool process = now[i].is_process_heap;
            out[i].handle = process ? (uint64_t)(uintptr_t)peb_process_heap() : (uint64_t)(uintptr_t)now[i].handle;
            out[i].in_use = now[i].in_use;
            out[i].peak_in_use = peak;
            out[i].blocks = now[i].blocks;
            out[i].peak_blocks = peak_blocks;
            out[i].is_process_heap = process;
            out[i].reserved = 0;
        }
    }
    ms_mutex_unlock(&peaks_lock);
    return (unsigned)total;
}

static void publish_figures(void)
{
    memshim_stats_fold();
    struct memshim_live_figures f;
    struct vm_counters c;
    struct heap_totals h;
    vm_get_counters(&c);
    heap_totals(&h);
    f.committed_bytes = c.committed_bytes;
    f.peak_committed_bytes = c.peak_committed_bytes;
    f.reserved_bytes = c.reserved_bytes;
    f.views = c.views;
    f.view_bytes = c.view_bytes;
    f.private_heaps = h.private_heaps;
    f.heap_in_use = h.in_use;
    f.process_heap_in_use = h.process_in_use;
    f.host_mappings = host_count_mappings();
    f.heaps_live = live_heaps_sample(f.heaps, MEMSHIM_LIVE_HEAPS);
    f.heap_count = f.heaps_live < MEMSHIM_LIVE_HEAPS ? f.heaps_live : MEMSHIM_LIVE_HEAPS;
    f.updated_ns = host_clock_ns();
    /* Sequence lock, single writer: odd while the copy is in progress. */
    page->seq++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    page->figures = f;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    page->seq++;
}

/* Busy and stopping are both sequentially consistent, so a stop either
 * finds a snapshot under way and waits for it, or is seen before one
 * starts. */
static void publisher(void *unused)
{
    (void)unused;
    while (!__atomic_load_n(&publisher_stopping, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&publisher_busy, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&publisher_stopping, __ATOMIC_SEQ_CST))
            publish_figures();
        __atomic_store_n(&publisher_busy, 0, __ATOMIC_SEQ_CST);
        host_futex_wait_timeout(&publisher_stopping, 0, (uint64_t)SNAPSHOT_MS * 1000000u);
    }
}

void live_page_stop(void)
{
    __atomic_store_n(&publisher_stopping, 1, __ATOMIC_SEQ_CST);
    host_futex_wake(&publisher_stopping, 1);
    uint64_t start = host_clock_ns();
    while (__atomic_load_n(&publisher_busy, __ATOMIC_SEQ_CST) && host_clock_ns() - start < STOP_WAIT_NS)
        host_yield();
}

struct memshim_live_function *live_page_create(void)
{
    int pid = host_getpid();
    ms_format(page_path, sizeof page_path, "%s%d", MEMSHIM_LIVE_PATH_PREFIX, pid);
    int fd = host_create_private_file(page_path, MEMSHIM_LIVE_SIZE);
    if (fd < 0) {
        ERR("cannot create the live statistics page %s (errno %d); `memshim stat` will not see this process\n",
            page_path, -fd);
        page_path[0] = 0;
        return NULL;
    }
    uintptr_t addr = 0;
    ms_status st = vm_reserve_internal(&addr, MS_GRANULARITY, 0, MS_GRANULARITY, PAGE_READWRITE, VM_USAGE_HEAP, NULL);
    int r = st ? 0 : host_map_file(addr, MEMSHIM_LIVE_SIZE, HOST_PROT_READ | HOST_PROT_WRITE, fd, 0, true);
    host_close(fd);
    if (st || r < 0) {
        ERR("cannot map the live statistics page (%u, %d)\n", st, r);
        if (!st)
            vm_release_internal(addr);
        host_unlink(page_path);
        page_path[0] = 0;
        return NULL;
    }
    page = (struct memshim_live_page *)addr;
    page->version = MEMSHIM_LIVE_VERSION;
    page->size = MEMSHIM_LIVE_SIZE;
    page->linux_pid = pid;
    page->windows_pid = (uint32_t)*(ULONG_PTR *)(current_teb() + 0x40);    /* TEB.ClientId.UniqueProcess */
    page->snapshot_period_ms = SNAPSHOT_MS;
    program_name(page->program, sizeof page->program);
    publish_figures();
    return page->functions;
}

void live_page_start(unsigned function_count)
{
    if (!page)
        return;
    page->function_count = function_count;
    __atomic_store_n(&page->magic, MEMSHIM_LIVE_MAGIC, __ATOMIC_RELEASE);
    if (!memshim_bare_thread(publisher, NULL, "live statistics (figures stay as at start)"))
        ERR("cannot start the live statistics thread; figures stay as at start\n");
}

void live_page_remove(void)
{
    if (page_path[0])
        host_unlink(page_path);
    page_path[0] = 0;
}
