/*
 * shared_memory_reader.c - the other half of the docs' shared-memory
 * example: opens "MySharedMemory" from a second process while the writer
 * waits for Enter, and prints what the writer put there.
 */
#include <windows.h>
#include <stdio.h>

#define SHARED_MEM_NAME L"MySharedMemory"
#define MEM_SIZE 256

int main(void)
{
    HANDLE map = OpenFileMappingW(FILE_MAP_READ, FALSE, SHARED_MEM_NAME);
    if (!map) {
        printf("OpenFileMapping failed. Error: %lu\n", GetLastError());
        return 1;
    }
    const char *view = MapViewOfFile(map, FILE_MAP_READ, 0, 0, MEM_SIZE);
    if (!view) {
        printf("MapViewOfFile failed. Error: %lu\n", GetLastError());
        CloseHandle(map);
        return 1;
    }
    printf("Reader sees: \"%.*s\"\n", MEM_SIZE, view);
    UnmapViewOfFile(view);
    CloseHandle(map);
    return 0;
}
