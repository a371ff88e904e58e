/*
 * stats.h - call statistics of the memory API (MEMSHIM_STATS=1, or
 * `memshim run --stats`): per function the calls and the failures, and the
 * process's memory figures, printed to stderr when the process exits.
 *
 * MEMSHIM_LIVE=1 counts the same way without the exit report; in both
 * cases the counters and figures are published while the program runs in
 * /dev/shm/memshim-<pid> for `memshim stat` (live_page.c).
 *
 * Off by default at the cost of one predictable branch per call; on, one
 * relaxed atomic increment (two for a failure).
 */
#ifndef MEMSHIM_STATS_H
#define MEMSHIM_STATS_H

enum memshim_stat {
    STAT_VIRTUALALLOCEX,
    STAT_VIRTUALFREEEX,
    STAT_VIRTUALPROTECTEX,
    STAT_VIRTUALQUERYEX,
    STAT_VIRTUALLOCK,
    STAT_VIRTUALUNLOCK,
    STAT_GETWRITEWATCH,
    STAT_RESETWRITEWATCH,
    STAT_READPROCESSMEMORY,
    STAT_WRITEPROCESSMEMORY,
    STAT_HEAPCREATE,
    STAT_HEAPDESTROY,
    STAT_HEAPALLOC,
    STAT_HEAPFREE,
    STAT_HEAPREALLOC,
    STAT_HEAPSIZE,
    STAT_CREATEFILEMAPPINGW,
    STAT_OPENFILEMAPPINGW,
    STAT_MAPVIEWOFFILEEX,
    STAT_UNMAPVIEWOFFILE,
    STAT_FLUSHVIEWOFFILE,
    STAT_GLOBALMEMORYSTATUSEX,
    STAT_COUNT_OF
};

extern unsigned char memshim_stats_on;

/* The calling thread's counters (stats.c): TEB.TlsSlots[memshim_stats_tls],
 * calls[STAT_COUNT_OF] then failures[STAT_COUNT_OF]; NULL until its first
 * counted call takes a block (memshim_stats_count_slow). */
extern DWORD memshim_stats_tls;
void memshim_stats_count_slow(enum memshim_stat which, int failed);
static inline uint64_t **memshim_stats_slot(void)
{
    return (uint64_t **)(current_teb() + 0x1480) + memshim_stats_tls;
}

static inline void memshim_stats_count(enum memshim_stat which, int failed)
{
    uint64_t *v = memshim_stats_tls < 64 ? *memshim_stats_slot() : NULL;
    if (__builtin_expect(!v, 0)) {
        memshim_stats_count_slow(which, failed);
        return;
    }
    /* Only this thread writes its block; the folding reads it. */
    __atomic_store_n(&v[which], __atomic_load_n(&v[which], __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    if (failed)
        __atomic_store_n(&v[STAT_COUNT_OF + which], __atomic_load_n(&v[STAT_COUNT_OF + which], __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELAXED);
}
void memshim_stats_init(void);
/* Sum the per-thread stripes of the counters into the live page's slots
 * (live_page.c calls it at each snapshot; the report at exit too). */
void memshim_stats_fold(void);
/* DLL_THREAD_DETACH: the exiting thread's counts move to the shared total
 * and its counter block can serve another thread. */
void memshim_stats_thread_detach(void);
/* At process exit: the report (MEMSHIM_STATS) and removal of the live page. */
void memshim_stats_report(void);

#ifdef MEMSHIM_NO_HOOKS       /* -Dhooks=false: the baseline build of the bench */
#define STAT_FAST_COUNTING false
#define STAT_COUNT(which, failed) ((void)(failed))
#else
/* Whether the heap's inline fast paths count their calls (in the shard). */
#define STAT_FAST_COUNTING (__builtin_expect(memshim_stats_on, 0) != 0)
#define STAT_COUNT(which, failed)                                   \
    do {                                                            \
        if (__builtin_expect(memshim_stats_on, 0))                  \
            memshim_stats_count(which, (failed) ? 1 : 0);           \
    } while (0)
#endif

#endif
