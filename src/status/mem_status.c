/*
 * mem_status.c - see mem_status.h.
 *
 * Windows reports, for the commit limit, RAM + page files (TotalPageFile)
 * and the limit minus the system's commit charge (AvailPageFile); Linux has
 * the same notion in Committed_AS. AvailVirtual is the process's free user
 * address space.
 *
 * What the rest of the system does is sampled about once a second (it
 * costs a /proc read, or a walk of the address space), as Wine does; what
 * this process's core does is applied live, so a program that reserves or
 * commits sees the figures move at once, by exactly its own amount.
 * "About once a second" is 2^30 time-stamp-counter cycles (0.25-1 s on
 * current CPUs): reading the TSC costs no system call, a clock would.
 */
#include "mem_status.h"
#include "../base/ms_lock.h"
#include "../host/host.h"
#include "../vm/vm.h"

#define SAMPLE_CYCLES (1ull << 30)

static ms_mutex sample_lock = MS_MUTEX_INIT;
static struct {
    uint64_t taken;             /* TSC at the sample; 0 = none yet */
    struct host_memory_facts facts;
    uint64_t others_committed;  /* system commit charge minus the core's own */
    uint64_t outside_used;      /* address space used outside the arenas */
} sample;

void mem_status_flush(void)
{
    ms_mutex_lock(&sample_lock);
    sample.taken = 0;
    ms_mutex_unlock(&sample_lock);
}

ms_status mem_status_get(struct mem_status *s, mem_status_outside_fn outside_used)
{
    struct vm_counters c;
    ms_mutex_lock(&sample_lock);
    uint64_t now = host_cycles();
    vm_get_counters(&c);
    if (!sample.taken || now - sample.taken >= SAMPLE_CYCLES) {
        if (host_memory_facts(&sample.facts) < 0 || sample.facts.total_ram == 0) {
            ms_mutex_unlock(&sample_lock);
            return MS_ERROR_NOT_ENOUGH_MEMORY;
        }
        sample.others_committed =
            sample.facts.committed > c.committed_bytes ? sample.facts.committed - c.committed_bytes : 0;
        sample.outside_used = outside_used ? outside_used() : 0;
        sample.taken = now ? now : 1;
    }
    struct host_memory_facts f = sample.facts;
    uint64_t others_committed = sample.others_committed, outside = sample.outside_used;
    ms_mutex_unlock(&sample_lock);

    s->total_phys = f.total_ram;
    s->avail_phys = f.available_ram < f.total_ram ? f.available_ram : f.total_ram;
    /* Windows' dwMemoryLoad: the used share of physical memory, rounded down. */
    s->memory_load = (uint32_t)((s->total_phys - s->avail_phys) * 100 / s->total_phys);
    s->total_page_file = f.total_ram + f.total_swap;
    uint64_t charge = others_committed + c.committed_bytes;
    s->avail_page_file = charge < s->total_page_file ? s->total_page_file - charge : 0;
    /* The core's own limit may be lower (a test, or a cgroup). */
    uint64_t core_left = c.commit_limit > c.committed_bytes ? c.commit_limit - c.committed_bytes : 0;
    if (core_left < s->avail_page_file)
        s->avail_page_file = core_left;
    s->total_virtual = MEM_STATUS_TOTAL_VIRTUAL;
    uint64_t used = outside + c.reserved_bytes;
    s->avail_virtual = used < s->total_virtual ? s->total_virtual - used : 0;
    return MS_OK;
}
