/*
 * live_page.h - the live statistics page of this process (live_page.c).
 */
#ifndef MEMSHIM_LIVE_PAGE_H
#define MEMSHIM_LIVE_PAGE_H

struct memshim_live_function;

/* Create /dev/shm/memshim-<pid> and map it; returns its counter slots (for
 * stats.c to count into), or NULL (with an ERR trace) if it cannot. */
struct memshim_live_function *live_page_create(void);
/* Mark the page complete (readers accept it from now on) and start the
 * thread that refreshes its figures. */
void live_page_start(unsigned function_count);
/* Process exit, before Wine terminates its threads: no snapshot after
 * this, and one under way is waited for (a bounded time). */
void live_page_stop(void);
/* Remove the file (process exit). */
void live_page_remove(void);

struct memshim_live_heap;
/* The heaps now, with the peaks of the snapshots so far (each call is a
 * snapshot): stores up to `max` and returns how many heaps there are. */
unsigned live_heaps_sample(struct memshim_live_heap *out, unsigned max);

#endif
