/*
 * live_program.c - a program that stops between known allocations, for the
 * `memshim stat` test: after each step it prints "step N" and waits for a
 * line on stdin, so the test can read the live page while it runs.
 *  step 0: nothing yet (the C runtime's own calls only);
 *  step 1: 1 HeapCreate, 5 HeapAlloc of 100000 bytes on that heap,
 *          1 VirtualAlloc committing 4 MiB (touched);
 *  step 2: 1 more VirtualAlloc committing 2 MiB, 1 failing VirtualAlloc,
 *          and the 5 blocks freed (the heap's peak stays).
 * Then it exits.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static void wait_for_line(int step)
{
    char line[16];
    printf("step %d\n", step);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        ExitProcess(3);
}

int main(void)
{
    wait_for_line(0);
    HANDLE heap = HeapCreate(0, 0, 0);
    void *blocks[5];
    for (int i = 0; i < 5; i++)
        if (!(blocks[i] = HeapAlloc(heap, 0, 100000)))
            return 1;
    char *four = VirtualAlloc(NULL, 4 << 20, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!four)
        return 1;
    memset(four, 1, 4 << 20);
    wait_for_line(1);
    char *two = VirtualAlloc(NULL, 2 << 20, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!two || VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE))
        return 1;
    for (int i = 0; i < 5; i++)
        HeapFree(heap, 0, blocks[i]);
    printf("heap %p\n", heap);
    wait_for_line(2);
    printf("live_program done\n");
    return 0;
}
