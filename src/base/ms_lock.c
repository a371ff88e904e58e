/*
 * ms_lock.c - the process-exit mode of the core's locks (ms_lock.h).
 *
 * When a Windows process exits, Wine terminates its other threads first and
 * then calls the DLLs' detach routines on the exiting thread. A thread
 * killed while it held one of our locks (the statistics thread, a program
 * thread inside HeapAlloc) never releases it, and the exit report or the
 * page-heap report would wait for it forever. In exit mode a lock that stays
 * taken for about 20 ms is taken over: its holder is dead, and what is left
 * to do only reads the state for a report.
 */
#include "ms_lock.h"

volatile int ms_lock_process_exiting;

void ms_mutex_lock_exiting(ms_mutex *m)
{
    for (unsigned spins = 0; spins < MS_LOCK_EXIT_SPINS; spins++) {
        uint32_t c = 0;
        if (atomic_compare_exchange_weak_explicit(&m->state, &c, 1, memory_order_acquire, memory_order_relaxed))
            return;
        host_yield();
    }
    atomic_store_explicit(&m->state, 1, memory_order_release);
}
