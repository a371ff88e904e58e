/*
 * host_shadow.c - a second map of page protections, kept in step with the
 * host's for the ranges that need it.
 *
 * Under Wine, ntdll keeps a protection byte for every page of the process
 * and believes the core's arenas merely reserved: the core commits and
 * protects their pages with raw system calls. Almost nothing in Wine reads
 * those bytes for the core's memory, but the server requests whose reply
 * lands straight in the caller's buffer do: a read from a pipe, mailslot or
 * device, a console read, a device or file-system ioctl's output, and the
 * completion of such a request when it was asynchronous. Wine checks its
 * bytes say "writable" first and otherwise fails the call with
 * STATUS_INVALID_USER_BUFFER (so every pipe read into a malloc'd buffer
 * failed, and Wine's RPC, services and mount manager with it). The bytes
 * must not say writable where the host page is not, either: the reply
 * would then fault inside Wine's own read of the server's pipe, and Wine
 * ends the thread for that.
 *
 * So such a range is shadowed (host_shadow_begin, by the core, for whole
 * allocations, when the DLL sees one lent to such a call): the keeper
 * (ntdll's NtAllocateVirtualMemory/NtProtectVirtualMemory, given by the DLL
 * through host_shadow_use) is told every page's protection once, then every
 * protection a host function gives a page of the range, until
 * host_shadow_end. The keeper is never told more than the host allows: a
 * change that takes write access away reaches the keeper before the host,
 * one that grants it after the host made it; in between the keeper errs on
 * the side of "not writable", which fails a racing read, never kills it.
 *
 * Some threads cannot reach the keeper: memshim's bare threads are no Wine
 * threads, and a system call into Wine from one would crash. Their notes
 * (the heap purge's decommits of free slices) wait in a queue, in order,
 * until a thread that can reach it makes the next note or calls
 * host_shadow_flush (the core does, before lending a buffer), so that no
 * request is made with them pending. Every later change to those pages
 * goes through a note, which flushes first, and host_shadow_end drops the
 * queued notes of what it ends: a queued note is never applied over a newer
 * state (the keeper applies protections to the host pages too).
 *
 * The ranges are a sorted array under a lock of its own (host functions may
 * be called without the core's map lock); a process with none shadowed pays
 * one relaxed load per host call. Natively no keeper is set unless a test
 * installs one.
 */
#include <stdatomic.h>
#include "host.h"
#include "../base/ms_lock.h"

/* A range per allocation lent to such I/O: a server with a VirtualAlloc'd
 * buffer per connection has thousands. The array is in .bss: only the
 * pages of it in use are ever touched. */
#define SHADOW_MAX 65536
#define SHADOW_QUEUE_MAX 512

struct shadow_range {
    uintptr_t base, end;
};

struct shadow_note {
    uintptr_t addr;
    size_t size;
    int prot;
};

static struct {
    ms_mutex lock;
    _Atomic size_t count;           /* read without the lock: 0 = nothing to do */
    struct shadow_range ranges[SHADOW_MAX];
    struct host_shadow_keeper keeper;
    _Atomic size_t queued;          /* notes waiting for a thread that reaches the keeper */
    struct shadow_note queue[SHADOW_QUEUE_MAX];
    uint64_t lost;                  /* notes dropped on a full queue */
    size_t limit;                   /* ranges allowed (tests lower it); 0 = SHADOW_MAX */
} shadow;

void host_shadow_set_limit(size_t ranges)
{
    ms_mutex_lock(&shadow.lock);
    shadow.limit = ranges && ranges < SHADOW_MAX ? ranges : 0;
    ms_mutex_unlock(&shadow.lock);
}

void host_shadow_use(const struct host_shadow_keeper *keeper)
{
    ms_mutex_lock(&shadow.lock);
    shadow.keeper = keeper ? *keeper : (struct host_shadow_keeper){ 0 };
    ms_mutex_unlock(&shadow.lock);
}

bool host_shadow_available(void)
{
    return shadow.keeper.protect != NULL;
}

/* Index of the first range ending above addr; under the lock. */
static size_t first_ending_above(uintptr_t addr)
{
    size_t lo = 0, hi = atomic_load_explicit(&shadow.count, memory_order_relaxed);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (shadow.ranges[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int host_shadow_begin(uintptr_t base, size_t size)
{
    if (!shadow.keeper.protect)
        return -38;                 /* ENOSYS: no keeper to tell */
    uintptr_t end = base + size;
    ms_mutex_lock(&shadow.lock);
    size_t n = atomic_load_explicit(&shadow.count, memory_order_relaxed);
    size_t i = first_ending_above(base);
    int r = 0;
    if (i < n && shadow.ranges[i].base < end) {
        r = -17;                    /* EEXIST: overlaps a shadowed range */
    } else if (n == (shadow.limit ? shadow.limit : SHADOW_MAX)) {
        r = -12;                    /* ENOMEM */
    } else {
        for (size_t k = n; k > i; k--)
            shadow.ranges[k] = shadow.ranges[k - 1];
        shadow.ranges[i] = (struct shadow_range){ base, end };
        atomic_store_explicit(&shadow.count, n + 1, memory_order_relaxed);
    }
    ms_mutex_unlock(&shadow.lock);
    return r;
}

int host_shadow_set(uintptr_t addr, size_t size, int prot)
{
    if (!shadow.keeper.commit)
        return -38;
    return shadow.keeper.commit(addr, size, prot);
}

/* Apply the queued notes, oldest first; under the lock, on a thread that
 * reaches the keeper. */
static void flush_locked(void)
{
    size_t n = atomic_load_explicit(&shadow.queued, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        shadow.keeper.protect(shadow.queue[i].addr, shadow.queue[i].size, shadow.queue[i].prot);
    atomic_store_explicit(&shadow.queued, 0, memory_order_relaxed);
}

static bool keeper_reachable(void)
{
    return !shadow.keeper.reachable || shadow.keeper.reachable();
}

/* Queue a note for [addr, addr+size), inside the shadowed range starting at
 * range_base: merged with the last one if that continues it in the same
 * range (never across two: host_shadow_end drops a range's notes whole). */
static void enqueue_locked(uintptr_t range_base, uintptr_t addr, size_t size, int prot)
{
    size_t n = atomic_load_explicit(&shadow.queued, memory_order_relaxed);
    if (n && shadow.queue[n - 1].prot == prot && shadow.queue[n - 1].addr >= range_base &&
        shadow.queue[n - 1].addr + shadow.queue[n - 1].size == addr) {
        shadow.queue[n - 1].size += size;
        return;
    }
    if (n == SHADOW_QUEUE_MAX) {
        shadow.lost++;              /* the keeper keeps its older, more permissive view of these pages */
        return;
    }
    shadow.queue[n] = (struct shadow_note){ addr, size, prot };
    atomic_store_explicit(&shadow.queued, n + 1, memory_order_relaxed);
}

void host_shadow_flush(void)
{
    if (MS_LIKELY(!atomic_load_explicit(&shadow.queued, memory_order_relaxed)) || !keeper_reachable())
        return;
    ms_mutex_lock(&shadow.lock);
    flush_locked();
    ms_mutex_unlock(&shadow.lock);
}

size_t host_shadow_queued(void)
{
    return atomic_load_explicit(&shadow.queued, memory_order_relaxed);
}

size_t host_shadow_ranges(void)
{
    return atomic_load_explicit(&shadow.count, memory_order_relaxed);
}

uint64_t host_shadow_lost(void)
{
    ms_mutex_lock(&shadow.lock);
    uint64_t lost = shadow.lost;
    ms_mutex_unlock(&shadow.lock);
    return lost;
}

void host_shadow_end(uintptr_t base, size_t size)
{
    uintptr_t end = base + size;
    ms_mutex_lock(&shadow.lock);
    /* Queued notes inside go: the keeper must not apply them over whatever
     * comes there next. */
    size_t q = atomic_load_explicit(&shadow.queued, memory_order_relaxed), kept = 0;
    for (size_t i = 0; i < q; i++)
        if (shadow.queue[i].addr < base || shadow.queue[i].addr + shadow.queue[i].size > end)
            shadow.queue[kept++] = shadow.queue[i];
    atomic_store_explicit(&shadow.queued, kept, memory_order_relaxed);
    size_t n = atomic_load_explicit(&shadow.count, memory_order_relaxed);
    size_t i = first_ending_above(base), j = i;
    while (j < n && shadow.ranges[j].base < end && shadow.ranges[j].end <= end && shadow.ranges[j].base >= base)
        j++;
    if (j > i) {
        for (size_t k = j; k < n; k++)
            shadow.ranges[i + k - j] = shadow.ranges[k];
        atomic_store_explicit(&shadow.count, n - (j - i), memory_order_relaxed);
    }
    ms_mutex_unlock(&shadow.lock);
}

bool host_shadowed(uintptr_t addr)
{
    if (!atomic_load_explicit(&shadow.count, memory_order_relaxed))
        return false;
    ms_mutex_lock(&shadow.lock);
    size_t i = first_ending_above(addr);
    bool in = i < atomic_load_explicit(&shadow.count, memory_order_relaxed) && shadow.ranges[i].base <= addr;
    ms_mutex_unlock(&shadow.lock);
    return in;
}

void host_shadow_note(uintptr_t addr, size_t size, int prot)
{
    if (MS_LIKELY(!atomic_load_explicit(&shadow.count, memory_order_relaxed)))
        return;
    uintptr_t end = addr + size;
    bool reachable = keeper_reachable();
    ms_mutex_lock(&shadow.lock);
    if (reachable)
        flush_locked();
    size_t n = atomic_load_explicit(&shadow.count, memory_order_relaxed);
    for (size_t i = first_ending_above(addr); i < n && shadow.ranges[i].base < end; i++) {
        uintptr_t lo = addr > shadow.ranges[i].base ? addr : shadow.ranges[i].base;
        uintptr_t hi = end < shadow.ranges[i].end ? end : shadow.ranges[i].end;
        /* A keeper that refuses leaves its map as it was: no worse than
         * before the range was shadowed, for a change that grants access;
         * for one that takes it away, the host change follows regardless. */
        if (reachable)
            shadow.keeper.protect(lo, hi - lo, prot);
        else
            enqueue_locked(shadow.ranges[i].base, lo, hi - lo, prot);
    }
    ms_mutex_unlock(&shadow.lock);
}
