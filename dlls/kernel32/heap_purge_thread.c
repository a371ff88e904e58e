/*
 * heap_purge_thread.c - the thread that runs the heaps' background purge
 * (src/heap/heap_purge.c): memory a quiet heap keeps for reuse goes back
 * to the host, as Wine's heap gives freed memory back.
 *
 * A bare host thread (host_spawn_bare_thread), not one of Wine's: the
 * purge runs nothing but the core (heap locks, futexes, decommits by raw
 * system calls), and a Wine thread costs ~1 MiB of resident memory here
 * (measured: the working set of a builtin process grows by that much per
 * CreateThread), which put the mixed batch's peak at 1.08x builtin's
 * instead of 1.05x. A bare thread costs its few touched pages, and it
 * does not keep a process alive whose own threads have all exited (Wine
 * counts only its threads). Its stack, TLS block and stand-in TEB are one
 * region of the core's, for the life of the process.
 *
 * The thread is made the first time a heap gives a span back, not at
 * load: a process that never frees much has none. The kick may come with
 * heap locks held; making the thread takes the vm core's lock (after the
 * heap's, in the core's lock order) and waits for nobody. Process exit
 * stops the purge before Wine terminates its threads (main.c:
 * hook_NtTerminateProcess); exit_group ends this one. MEMSHIM_HEAP_PURGE=0
 * turns it off.
 */
#include "private.h"
#include "debug.h"
#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

enum { PURGE_NONE, PURGE_STARTING, PURGE_RUNNING, PURGE_IMPOSSIBLE };
static int purge_state;

/* One region: a guard page left reserved (an overflow faults instead of
 * writing below), the stack, the stand-in TEB, the TLS word's page. */
#define PURGE_GUARD_SIZE ((size_t)4096)
#define PURGE_STACK_SIZE ((size_t)60 << 10)
#define PURGE_TEB_SIZE ((size_t)8 << 10)        /* TLS slots up to 0x1680 */
#define PURGE_REGION_SIZE (PURGE_GUARD_SIZE + PURGE_STACK_SIZE + PURGE_TEB_SIZE + 4096)

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
    uintptr_t base = 0;
    ms_status st = vm_reserve_internal(&base, PURGE_REGION_SIZE, 0, MS_GRANULARITY, VM_PAGE_READWRITE, VM_USAGE_HEAP,
                                       NULL);
    if (st == MS_OK && (st = vm_commit_internal(base + PURGE_GUARD_SIZE, PURGE_REGION_SIZE - PURGE_GUARD_SIZE)))
        vm_release_internal(base);
    int spawned = -1;
    if (st == MS_OK) {
        uintptr_t teb = base + PURGE_GUARD_SIZE + PURGE_STACK_SIZE, tls = teb + PURGE_TEB_SIZE;
        *(uintptr_t *)(teb + 0x30) = teb;       /* NT_TIB.Self */
        *(uintptr_t *)tls = tls;                /* the Linux thread pointer's self word */
        spawned = host_spawn_bare_thread(purge_thread, NULL, (void *)teb, (void *)tls, (void *)teb);
        if (spawned < 0)
            vm_release_internal(base);
    }
    if (spawned < 0)
        WARN("no heap purge thread (%u, %d): a quiet heap keeps what it emptied\n", st, spawned);
    __atomic_store_n(&purge_state, spawned < 0 ? PURGE_IMPOSSIBLE : PURGE_RUNNING, __ATOMIC_RELEASE);
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
