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
 * The ranges are a sorted array under a lock of its own (host functions may
 * be called without the core's map lock); a process with none shadowed pays
 * one relaxed load per host call. Natively no keeper is set unless a test
 * installs one.
 */
#include <stdatomic.h>
#include "host.h"
#include "../base/ms_lock.h"

#define SHADOW_MAX 4096

struct shadow_range {
    uintptr_t base, end;
};

static struct {
    ms_mutex lock;
    _Atomic size_t count;           /* read without the lock: 0 = nothing to do */
    struct shadow_range ranges[SHADOW_MAX];
    struct host_shadow_keeper keeper;
} shadow;

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
    } else if (n == SHADOW_MAX) {
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

void host_shadow_end(uintptr_t base, size_t size)
{
    uintptr_t end = base + size;
    ms_mutex_lock(&shadow.lock);
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
    ms_mutex_lock(&shadow.lock);
    size_t n = atomic_load_explicit(&shadow.count, memory_order_relaxed);
    for (size_t i = first_ending_above(addr); i < n && shadow.ranges[i].base < end; i++) {
        uintptr_t lo = addr > shadow.ranges[i].base ? addr : shadow.ranges[i].base;
        uintptr_t hi = end < shadow.ranges[i].end ? end : shadow.ranges[i].end;
        /* A keeper that refuses leaves its map as it was: no worse than
         * before the range was shadowed, for a change that grants access;
         * for one that takes it away, the host change follows regardless. */
        shadow.keeper.protect(lo, hi - lo, prot);
    }
    ms_mutex_unlock(&shadow.lock);
}
