/*
 * stats_program.c - a program with known memory-API counts, for the
 * --stats test: 3 VirtualAlloc (1 fails), 2 VirtualFree, 2 VirtualLock
 * (1 fails), 1 CreateFileMapping, 1 MapViewOfFile, 1 UnmapViewOfFile,
 * 4 GlobalMemoryStatusEx.
 */
#include <windows.h>
#include <stdio.h>

int main(void)
{
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
    printf("stats_program done\n");
    return 0;
}
