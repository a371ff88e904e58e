/*
 * mem_status.h - the figures of GlobalMemoryStatusEx, computed the way
 * Windows defines them, from the host's memory facts and the core's commit
 * accounting.
 */
#ifndef MS_MEM_STATUS_H
#define MS_MEM_STATUS_H

#include "../base/ms_base.h"
#include "../base/ms_error.h"

struct mem_status {
    uint32_t memory_load;       /* percent of physical memory in use */
    uint64_t total_phys, avail_phys;
    uint64_t total_page_file, avail_page_file;   /* commit limit, and what is left of it */
    uint64_t total_virtual, avail_virtual;
};

/* Windows' user address space of a 64-bit process: 0x10000 .. 0x7FFFFFFEFFFF. */
#define MEM_STATUS_TOTAL_VIRTUAL ((uint64_t)0x7FFFFFFE0000ull)

/* `host_free_virtual`: free address space outside the core as the host
 * environment counts it (0 if unknown); the core adds its own free space. */
ms_status mem_status_get(struct mem_status *s, uint64_t host_free_virtual);

#endif
