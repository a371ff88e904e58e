/*
 * ms_lock.h - a futex mutex for the core.
 *
 * Why not pthread or SRW locks: the core runs both natively and inside a
 * CRT-free PE DLL, and must not call back into kernel32/ntdll while it holds
 * the address-space map (ntdll may be hooked to call us). A three-state futex
 * mutex (Drepper, "Futexes Are Tricky") is 4 bytes, needs only the host's
 * futex calls, and costs one atomic exchange each way when uncontended.
 *
 * States: 0 unlocked, 1 locked, 2 locked with (possible) waiters.
 */
#ifndef MS_LOCK_H
#define MS_LOCK_H

#include <stdatomic.h>
#include "../host/host.h"

typedef struct {
    _Atomic uint32_t state;
} ms_mutex;

#define MS_MUTEX_INIT { 0 }

/* Process-exit mode (ms_lock.c): set by the DLL when the process is
 * exiting and its other threads are gone; a lock still taken then is
 * waited for a bounded time and taken over. */
#define MS_LOCK_EXIT_SPINS 2000         /* sched_yield()s, ~20 ms */
extern volatile int ms_lock_process_exiting;
void ms_mutex_lock_exiting(ms_mutex *m);

static inline void ms_mutex_lock(ms_mutex *m)
{
    uint32_t c = 0;
    if (MS_LIKELY(atomic_compare_exchange_strong_explicit(&m->state, &c, 1, memory_order_acquire,
                                                          memory_order_relaxed)))
        return;
    /* Spin briefly: critical sections of the core are short. */
    for (int i = 0; i < 64; i++) {
        __builtin_ia32_pause();
        c = 0;
        if (atomic_compare_exchange_weak_explicit(&m->state, &c, 1, memory_order_acquire, memory_order_relaxed))
            return;
    }
    if (MS_UNLIKELY(ms_lock_process_exiting)) {
        ms_mutex_lock_exiting(m);
        return;
    }
    if (c != 2)
        c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    while (c != 0) {
        host_futex_wait((volatile uint32_t *)&m->state, 2);
        c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    }
}

static inline bool ms_mutex_trylock(ms_mutex *m)
{
    uint32_t c = 0;
    return atomic_compare_exchange_strong_explicit(&m->state, &c, 1, memory_order_acquire, memory_order_relaxed);
}

static inline void ms_mutex_unlock(ms_mutex *m)
{
    if (atomic_exchange_explicit(&m->state, 0, memory_order_release) == 2)
        host_futex_wake((volatile uint32_t *)&m->state, 1);
}

#endif
