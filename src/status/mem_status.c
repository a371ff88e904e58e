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
#include "../base/ms_seqlock.h"
#include "../host/host.h"
#include "../vm/vm.h"

#define SAMPLE_CYCLES (1ull << 30)

struct sample {
    uint64_t taken;             /* TSC at the sample; 0 = none yet */
    struct host_memory_facts facts;
    uint64_t others_committed;  /* system commit charge minus the core's own */
    uint64_t outside_used;      /* address space used outside the arenas */
};

/* Read under sample_seq without a lock (a call read it with two mutexes:
 * ~25 of its ~60 ns); rewritten, once a second, under sample_lock. */
static ms_mutex sample_lock = MS_MUTEX_INIT;
static _Atomic uint32_t sample_seq;
static struct sample sample;

void mem_status_flush(void)
{
    ms_mutex_lock(&sample_lock);
    ms_seq_write_begin(&sample_seq);
    sample.taken = 0;
    ms_seq_write_end(&sample_seq);
    ms_mutex_unlock(&sample_lock);
}

/* A copy of the sample, if no refresh was under way and it is fresh. */
static bool sample_read_fresh(struct sample *out, uint64_t now)
{
    uint32_t seq;
    if (!ms_seq_read_begin(&sample_seq, &seq))
        return false;
    *out = sample;
    return ms_seq_read_valid(&sample_seq, seq) && out->taken && now - out->taken < SAMPLE_CYCLES;
}

ms_status mem_status_get(struct mem_status *s, mem_status_outside_fn outside_used)
{
    struct vm_counters c;
    struct sample got;
    uint64_t now = host_cycles();
    vm_get_commit_counters(&c);
    if (!sample_read_fresh(&got, now)) {
        ms_mutex_lock(&sample_lock);
        if (!sample.taken || now - sample.taken >= SAMPLE_CYCLES) {
            struct host_memory_facts facts;
            if (host_memory_facts(&facts) < 0 || facts.total_ram == 0) {
                ms_mutex_unlock(&sample_lock);
                return MS_ERROR_NOT_ENOUGH_MEMORY;
            }
            /* The slow parts before the count goes odd: readers meanwhile
             * keep taking the old sample without waiting. */
            uint64_t outside = outside_used ? outside_used() : 0;
            ms_seq_write_begin(&sample_seq);
            sample.facts = facts;
            sample.others_committed = facts.committed > c.committed_bytes ? facts.committed - c.committed_bytes : 0;
            sample.outside_used = outside;
            sample.taken = now ? now : 1;
            ms_seq_write_end(&sample_seq);
        }
        got = sample;
        ms_mutex_unlock(&sample_lock);
    }
    struct host_memory_facts f = got.facts;
    uint64_t others_committed = got.others_committed, outside = got.outside_used;

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
