/*
 * host_faults.c - fault injection for the tests (see host.h): proves that
 * every host failure becomes a Windows error with the map left consistent
 * and nothing leaked. Off unless a test turns it on; then one relaxed
 * atomic increment per host call.
 */
#include <stdatomic.h>
#include "host.h"

static _Atomic unsigned fault_every;
static _Atomic unsigned fault_count;

void host_inject_faults(unsigned every)
{
    atomic_store(&fault_count, 0);
    atomic_store(&fault_every, every);
}

bool host_fault_now(void)
{
    unsigned every = atomic_load_explicit(&fault_every, memory_order_relaxed);
    if (MS_LIKELY(!every))
        return false;
    return atomic_fetch_add_explicit(&fault_count, 1, memory_order_relaxed) % every == every - 1;
}
