/*
 * memshim_live.h - the live statistics page: the binary layout that a
 * process running on memshim publishes (with MEMSHIM_STATS=1 or
 * MEMSHIM_LIVE=1) and that `memshim stat PID` reads from Linux.
 *
 * The page is the file /dev/shm/memshim-<Linux pid> (mode 0600), mapped
 * shared by the process; it is removed when the process exits normally (a
 * process that is killed leaves it behind: readers check that the pid still
 * runs). This header is the only definition of the layout: the DLL and the
 * reader (tools/memshim_stat.c) both include it. Plain C, fixed-size types
 * only, little-endian x86-64 on both sides.
 *
 * Compatibility: a reader accepts a page only if `magic` matches and
 * `version` is the one it knows; any change to the layout bumps the version.
 *
 * Consistency:
 *  - function counters are totals the process folds from its per-thread
 *    counters at each snapshot (each counter is a single 8-byte store, so
 *    a reader never sees a torn value; they are at most one snapshot old);
 *  - the process figures are a snapshot the process rewrites a few times a
 *    second under a sequence lock: `seq` is odd while a snapshot is being
 *    written; a reader copies the figures and retries if `seq` was odd or
 *    changed meanwhile.
 */
#ifndef MEMSHIM_LIVE_H
#define MEMSHIM_LIVE_H

#include <stdint.h>

#define MEMSHIM_LIVE_MAGIC      0x4556494c4d48534dull   /* "MSHMLIVE" */
#define MEMSHIM_LIVE_VERSION    2u                       /* 2: blocks per heap, counters folded per snapshot */
#define MEMSHIM_LIVE_SIZE       4096u                    /* bytes of the file */
#define MEMSHIM_LIVE_FUNCTIONS  32u                      /* counter slots */
#define MEMSHIM_LIVE_NAME_MAX   24u
#define MEMSHIM_LIVE_PROGRAM_MAX 64u
#define MEMSHIM_LIVE_HEAPS      24u                      /* heaps listed one by one */
#define MEMSHIM_LIVE_PATH_PREFIX "/dev/shm/memshim-"

struct memshim_live_function {
    char name[MEMSHIM_LIVE_NAME_MAX];   /* NUL-terminated; "" = unused slot */
    uint64_t calls;
    uint64_t failures;
};

struct memshim_live_heap {
    uint64_t handle;                    /* as the program sees it (GetProcessHeap()'s for the process heap) */
    uint64_t in_use;                    /* bytes of live blocks */
    uint64_t peak_in_use;               /* the highest in_use of the snapshots so far */
    uint64_t blocks;                    /* live blocks */
    uint64_t peak_blocks;               /* the highest block count of the snapshots so far */
    uint32_t is_process_heap;
    uint32_t reserved;
};

struct memshim_live_figures {
    uint64_t committed_bytes;           /* the process's commit charge in memshim's memory */
    uint64_t peak_committed_bytes;
    uint64_t reserved_bytes;
    uint64_t views;                     /* section views mapped now */
    uint64_t view_bytes;
    uint64_t private_heaps;             /* live heaps made by HeapCreate */
    uint64_t heap_in_use;               /* bytes of live heap blocks, all heaps */
    uint64_t process_heap_in_use;       /* of which the process heap's */
    int64_t host_mappings;              /* lines of /proc/PID/maps, or -errno */
    uint64_t updated_ns;                /* CLOCK_MONOTONIC when this snapshot was taken */
    uint32_t heap_count;                /* heaps[] entries in use */
    uint32_t heaps_live;                /* heaps alive (more than heap_count if they did not fit) */
    struct memshim_live_heap heaps[MEMSHIM_LIVE_HEAPS];
};

struct memshim_live_page {
    uint64_t magic;                     /* written last at creation: a reader never sees a half-made page */
    uint32_t version;
    uint32_t size;                      /* MEMSHIM_LIVE_SIZE */
    int32_t linux_pid;
    uint32_t windows_pid;
    uint32_t function_count;            /* slots in use */
    uint32_t snapshot_period_ms;        /* how often the figures are refreshed */
    char program[MEMSHIM_LIVE_PROGRAM_MAX];   /* the exe's file name, ASCII ('?' for others) */
    volatile uint64_t seq;              /* sequence lock of `figures` */
    struct memshim_live_figures figures;
    struct memshim_live_function functions[MEMSHIM_LIVE_FUNCTIONS];
};

_Static_assert(sizeof(struct memshim_live_page) <= MEMSHIM_LIVE_SIZE, "the live page must fit its file");

#endif
