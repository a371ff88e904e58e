/*
 * leak_program.c - a program that leaks exactly three heap blocks and one
 * VirtualAlloc region, each from its own (exported, so the report can name
 * it) function, for the --leaks test:
 *   leak_region: VirtualAlloc of 1 MiB (reserved and committed)
 *   leak_private: HeapAlloc of 30000 bytes on a heap it creates
 *   leak_malloc: malloc(2000) (through msvcrt: the site is still ours)
 *   leak_process: HeapAlloc of 100 bytes on the process heap
 * Everything else it allocates, it frees (or reallocates and frees).
 *
 * It is linked without the C runtime's startup code (entry point
 * `leak_entry`), whose own blocks (argv copies, stdio buffers) would be
 * live at exit too and reported at the exe's CRT code: the test checks the
 * report is exactly the program's leaks. msvcrt's malloc works regardless
 * (msvcrt initialises itself when it loads). Built again with
 * -DLEAK_WITH_CRT as an ordinary program (main, mingw's startup code), to
 * show what the C runtime adds.
 */
#include <windows.h>
#include <stdlib.h>

#define SITE __declspec(dllexport) __attribute__((noinline))

SITE void *leak_region(void)
{
    return VirtualAlloc(NULL, 1 << 20, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

SITE void *leak_private(HANDLE heap)
{
    return HeapAlloc(heap, 0, 30000);
}

SITE void *leak_malloc(void)
{
    return malloc(2000);
}

SITE void *leak_process(void)
{
    return HeapAlloc(GetProcessHeap(), 0, 100);
}

SITE void no_leaks(HANDLE heap)
{
    for (int i = 0; i < 50; i++) {
        void *a = HeapAlloc(GetProcessHeap(), 0, 64 + i);
        void *b = malloc(300 + i);
        void *c = HeapAlloc(heap, HEAP_ZERO_MEMORY, 5000);
        c = HeapReAlloc(heap, 0, c, 9000);
        HeapFree(GetProcessHeap(), 0, a);
        free(b);
        HeapFree(heap, 0, c);
    }
    void *r = VirtualAlloc(NULL, 1 << 16, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    VirtualFree(r, 0, MEM_RELEASE);
    HANDLE gone = HeapCreate(0, 0, 0);
    HeapAlloc(gone, 0, 777);            /* released with its heap */
    HeapDestroy(gone);
}

#ifdef LEAK_WITH_CRT
void leak_entry(void);
int main(void)
{
    leak_entry();
}
#endif

void leak_entry(void);
void leak_entry(void)
{
    static const char done[] = "leak_program done\n";
    DWORD written;
    HANDLE heap = HeapCreate(0, 0, 0);
    no_leaks(heap);
    if (!leak_region() || !leak_private(heap) || !leak_malloc() || !leak_process())
        ExitProcess(1);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), done, sizeof done - 1, &written, NULL);
    ExitProcess(0);
}
