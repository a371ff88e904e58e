/*
 * stats_program.c - a program with known memory-API counts, for the
 * --stats test: 3 VirtualAlloc (1 fails), 2 VirtualFree, 2 VirtualLock
 * (1 fails), 1 CreateFileMapping, 1 MapViewOfFile, 1 UnmapViewOfFile,
 * 4 GlobalMemoryStatusEx, and a pipe read into a heap block.
 * With the argument "locked-exit": a thread takes HeapLock of a private heap
 * and keeps it; the program exits while that thread holds it (Wine kills
 * the thread first): the exit report must still come, and the process end.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static HANDLE locked;

static DWORD WINAPI hold_heap_signal(void *heap)
{
    HeapLock(heap);
    SetEvent(locked);
    for (;;)
        Sleep(1000);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "locked-exit")) {
        HANDLE heap = HeapCreate(0, 0, 0);
        locked = CreateEventW(NULL, TRUE, FALSE, NULL);
        HeapAlloc(heap, 0, 100);
        CreateThread(NULL, 0, hold_heap_signal, heap, 0, NULL);
        WaitForSingleObject(locked, INFINITE);
        printf("stats_program exits with a heap locked\n");
        fflush(stdout);
        ExitProcess(0);
    }
    MEMORYSTATUSEX ms;
    ms.dwLength = sizeof(ms);
    char *a = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    char *b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE);             /* fails: size 0 */
    VirtualLock(a, 0x1000);
    VirtualLock(b, 0x1000);                                       /* fails: reserved */
    HANDLE s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL);
    void *v = MapViewOfFile(s, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    UnmapViewOfFile(v);
    CloseHandle(s);
    for (int i = 0; i < 4; i++)
        GlobalMemoryStatusEx(&ms);
    VirtualFree(a, 0, MEM_RELEASE);
    VirtualFree(b, 0, MEM_RELEASE);
    /* Small blocks of the process heap: memshim's fast path, which counts
     * in the thread's shard rather than through the general path. */
    HANDLE process_heap = GetProcessHeap();
    for (int i = 0; i < 5000; i++)
        HeapFree(process_heap, 0, HeapAlloc(process_heap, 0, 16 + i % 200));
    /* A pipe read into a heap block: its segment is lent to Wine's page map. */
    HANDLE rd, wr;
    DWORD n;
    char *block = HeapAlloc(process_heap, 0, 64);
    CreatePipe(&rd, &wr, NULL, 0);
    WriteFile(wr, "pipe", 4, &n, NULL);
    if (!ReadFile(rd, block, 4, &n, NULL) || n != 4 || memcmp(block, "pipe", 4))
        printf("stats_program: the pipe read failed (error %lu)\n", GetLastError());
    HeapFree(process_heap, 0, block);
    printf("stats_program done\n");
    return 0;
}
