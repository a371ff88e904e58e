/*
 * mem_status.c - see mem_status.h.
 *
 * Commit figures: Windows reports the system commit limit (RAM + page files)
 * as TotalPageFile and what can still be committed as AvailPageFile. Here
 * the limit is RAM (or the cgroup limit) + swap, and what is left is the
 * smaller of what the host still has (available RAM + free swap) and what
 * the core's own accounting allows this process.
 */
#include "mem_status.h"
#include "../host/host.h"
#include "../vm/vm.h"

ms_status mem_status_get(struct mem_status *s, uint64_t host_free_virtual)
{
    struct host_memory_facts facts;
    if (host_memory_facts(&facts) < 0 || facts.total_ram == 0)
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    struct vm_counters c;
    vm_get_counters(&c);
    s->total_phys = facts.total_ram;
    s->avail_phys = facts.available_ram < facts.total_ram ? facts.available_ram : facts.total_ram;
    /* Windows' dwMemoryLoad: the used share of physical memory, rounded down. */
    s->memory_load = (uint32_t)((s->total_phys - s->avail_phys) * 100 / s->total_phys);
    s->total_page_file = facts.total_ram + facts.total_swap;
    uint64_t host_left = s->avail_phys + facts.free_swap;
    uint64_t core_left = c.commit_limit > c.committed_bytes ? c.commit_limit - c.committed_bytes : 0;
    s->avail_page_file = host_left < core_left ? host_left : core_left;
    if (s->avail_page_file > s->total_page_file)
        s->avail_page_file = s->total_page_file;
    s->total_virtual = MEM_STATUS_TOTAL_VIRTUAL;
    uint64_t core_free = c.arena_bytes - c.reserved_bytes;
    uint64_t avail = host_free_virtual ? host_free_virtual + core_free : s->total_virtual - c.reserved_bytes;
    s->avail_virtual = avail < s->total_virtual ? avail : s->total_virtual;
    return MS_OK;
}
