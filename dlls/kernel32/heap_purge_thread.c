/*
 * heap_purge_thread.c - the thread that runs the heaps' background purge
 * (src/heap/heap_purge.c): memory a quiet heap keeps for reuse goes back
 * to the host, as Wine's heap gives freed memory back.
 *
 * A bare thread (bare_thread.c): the purge runs nothing but the core (heap
 * locks, futexes, decommits by raw system calls). As a Wine thread it cost
 * ~1 MiB resident, which put the mixed batch's peak at 1.08x builtin's
 * instead of 1.05x.
 *
 * The thread is made the first time a heap gives a span back, not at
 * load: a process that never frees much has none. The kick may come with
 * heap locks held; making the thread takes the vm core's lock (after the
 * heap's, in the core's lock order) and waits for nobody. Process exit
 * stops the purge before Wine terminates its threads (main.c:
 * hook_NtTerminateProcess); exit_group ends this one. MEMSHIM_HEAP_PURGE=0
 * turns it off.
 */
#include "bare_thread.h"
#include "debug.h"
#include "../../src/heap/heap.h"

enum { PURGE_NONE, PURGE_STARTING, PURGE_RUNNING, PURGE_IMPOSSIBLE };
static int purge_state;

static void purge_thread(void *context)
{
    (void)context;
    heap_purge_thread_main();
}

static void purge_kick(void)
{
    int state = PURGE_NONE;
    if (!__atomic_compare_exchange_n(&purge_state, &state, PURGE_STARTING, FALSE, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    BOOL made = memshim_bare_thread(purge_thread, NULL, "heap purge (a quiet heap keeps what it emptied)");
    __atomic_store_n(&purge_state, made ? PURGE_RUNNING : PURGE_IMPOSSIBLE, __ATOMIC_RELEASE);
}

void memshim_heap_purge_init(void)
{
    if (!memshim_env_flag(L"MEMSHIM_HEAP_PURGE", TRUE)) {
        TRACE("MEMSHIM_HEAP_PURGE=0: no background purge\n");
        return;
    }
    heap_purge_set_kick(purge_kick);
}

void memshim_heap_purge_stop(void)
{
    if (heap_purge_stop())
        TRACE("process exit waited for the heap purge under way\n");
}
