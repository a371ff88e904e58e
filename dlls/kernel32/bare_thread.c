/*
 * bare_thread.c - threads of memshim's that Wine does not know of.
 *
 * Why: a Wine thread costs ~1 MiB of resident memory here (a builtin
 * process's working set grows by that much per CreateThread), and Wine
 * waits for every thread of its own before a process ends with its last
 * one. memshim's background work that needs nothing of Wine's (the heap
 * purge, the live statistics' snapshots) runs instead on a raw clone of
 * the host (host_spawn_bare_thread), which costs the few pages it touches
 * and ends with the process.
 *
 * Layout of the region each thread gets, low to high: a guard page left
 * reserved (an overflow faults instead of writing into the arena's next
 * region), the stack, the stand-in TEB (the core reads its thread slot
 * there, memshim code the PEB), the page of the Linux thread pointer.
 */
#include "bare_thread.h"
#include "debug.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

#define BARE_GUARD_SIZE ((size_t)4096)
#define BARE_STACK_SIZE ((size_t)60 << 10)
#define BARE_TEB_SIZE ((size_t)8 << 10)         /* TLS slots up to 0x1680 */
#define BARE_REGION_SIZE (BARE_GUARD_SIZE + BARE_STACK_SIZE + BARE_TEB_SIZE + 4096)

BOOL memshim_bare_thread(void (*fn)(void *), void *arg, const char *what)
{
    uintptr_t base = 0;
    ms_status st = vm_reserve_internal(&base, BARE_REGION_SIZE, 0, MS_GRANULARITY, VM_PAGE_READWRITE, VM_USAGE_HEAP,
                                       NULL);
    if (st == MS_OK && (st = vm_commit_internal(base + BARE_GUARD_SIZE, BARE_REGION_SIZE - BARE_GUARD_SIZE)))
        vm_release_internal(base);
    int spawned = -1;
    if (st == MS_OK) {
        BYTE *teb = (BYTE *)(base + BARE_GUARD_SIZE + BARE_STACK_SIZE);
        uintptr_t tls = (uintptr_t)teb + BARE_TEB_SIZE;
        *(BYTE **)(teb + 0x30) = teb;                   /* NT_TIB.Self */
        *(BYTE **)(teb + 0x60) = current_peb();         /* TEB.ProcessEnvironmentBlock */
        *(uintptr_t *)tls = tls;                        /* the Linux thread pointer's self word */
        spawned = host_spawn_bare_thread(fn, arg, teb, (void *)tls, teb);
        if (spawned < 0)
            vm_release_internal(base);
    }
    if (spawned < 0)
        WARN("no %s thread (%u, %d)\n", what, st, spawned);
    return spawned >= 0;
}
