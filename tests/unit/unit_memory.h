/*
 * unit_memory.h - what the native tests ask the host about memory: does
 * touching an address fault, and how many mappings the process has. Shared
 * by the vm and heap tests; header-only, like unit.h. The fault probe
 * swaps the SIGSEGV/SIGBUS handlers for the duration of one access, so
 * it is for the test's main thread while no other thread faults.
 */
#ifndef MS_UNIT_MEMORY_H
#define MS_UNIT_MEMORY_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static sigjmp_buf unit_fault_jump;

static void unit_on_fault(int sig)
{
    (void)sig;
    siglongjmp(unit_fault_jump, 1);
}

/* Does touching addr (a read, or a write of 1) fault? */
static inline int unit_faults(volatile char *addr, int write)
{
    struct sigaction sa = { 0 }, old_segv, old_bus;
    sa.sa_handler = unit_on_fault;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    int faulted = 0;
    if (sigsetjmp(unit_fault_jump, 1) == 0) {
        if (write)
            *addr = 1;
        else
            (void)*addr;
    } else {
        faulted = 1;
    }
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return faulted;
}

/* Lines of /proc/self/maps: the process's mappings, or -1. */
static inline long unit_count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long lines = 0;
    int c;
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

#endif
