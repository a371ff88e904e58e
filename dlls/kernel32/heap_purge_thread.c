/*
 * heap_purge_thread.c - the thread that runs the heaps' background
 * purge (src/heap/heap_purge.c): memory a quiet heap keeps for reuse goes
 * back to the host, as Wine's heap gives freed memory back.
 *
 * The thread is made the first time a heap gives a span back, not at
 * load: a process that never frees much has no extra thread (and its
 * stacks cost no memory); it ends after ~1 s with nothing to do, and the
 * next span given back makes a new one. The kick may come with heap locks held; making
 * a thread waits for no heap (the new thread's own start, which may
 * allocate, runs later on that thread), so it is safe there. Process exit
 * stops the purge before Wine terminates the thread (main.c:
 * hook_NtTerminateProcess). MEMSHIM_HEAP_PURGE=0 turns it off.
 */
#include "private.h"
#include "debug.h"
#include "../../src/heap/heap.h"

enum { PURGE_NONE, PURGE_STARTING, PURGE_RUNNING, PURGE_IMPOSSIBLE };
static int purge_state;

/* The core's loop returns after ~1 s with nothing to do: a process whose
 * threads have all exited ends when its last thread does, and ours must
 * not keep it alive. Marked gone before the last look at the arming, as
 * the kick arms before it looks at the state: a stamp made meanwhile is
 * seen by one of the two (this thread goes on, or the kick makes another). */
static DWORD WINAPI purge_thread(void *context)
{
    (void)context;
    for (;;) {
        heap_purge_thread_main();
        __atomic_store_n(&purge_state, PURGE_NONE, __ATOMIC_SEQ_CST);
        int none = PURGE_NONE;
        if (!heap_purge_armed() || !__atomic_compare_exchange_n(&purge_state, &none, PURGE_RUNNING, FALSE,
                                                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return memshim_thread_exit_code();
    }
}

static void purge_kick(void)
{
    int state = PURGE_NONE;
    if (!__atomic_compare_exchange_n(&purge_state, &state, PURGE_STARTING, FALSE, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        return;
    HANDLE thread = NULL;
    NTSTATUS status = RtlCreateUserThread(CURRENT_PROCESS, NULL, FALSE, 0, 0, 0, purge_thread, NULL, &thread, NULL);
    if (status)
        WARN("no heap purge thread (status %08lx): a quiet heap keeps what it emptied\n", (unsigned long)status);
    else
        NtClose(thread);
    __atomic_store_n(&purge_state, status ? PURGE_IMPOSSIBLE : PURGE_RUNNING, __ATOMIC_RELEASE);
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
