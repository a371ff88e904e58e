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

/* Bytes of address space in use outside the core's arenas (images, stacks,
 * what the host environment allocated), or 0 if unknown. Called at most
 * once a second: it may be slow. */
typedef uint64_t (*mem_status_outside_fn)(void);

ms_status mem_status_get(struct mem_status *s, mem_status_outside_fn outside_used);

/* Forget the cached host figures (tests). */
void mem_status_flush(void);

#endif
