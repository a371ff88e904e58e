/*
 * section_holder.c - for run-section-security: makes an unnamed
 * pagefile-backed section, maps and writes a view, writes "PID ADDRESS"
 * (the Linux process id, the view's address in hex) to the file named by
 * argv[1], then waits until the file named by argv[2] exists (at most
 * 60 s), so that the script can inspect what backs the view on the host.
 */
#include <windows.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    HANDLE h;
    char *view;
    long long pid = 0;
    FILE *out;
    if (argc < 3) return 2;
    h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL);
    view = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    if (!view) return 3;
    strcpy(view, "section_holder");
#if defined(__x86_64__)
    /* The Linux pid: Wine's GetCurrentProcessId is not it. */
    __asm__ volatile("syscall" : "=a"(pid) : "a"(39LL) : "rcx", "r11", "memory");
#endif
    out = fopen(argv[1], "w");
    if (!out) return 4;
    fprintf(out, "%lld %llx\n", pid, (unsigned long long)(ULONG_PTR)view);
    fclose(out);
    for (int i = 0; i < 600 && GetFileAttributesA(argv[2]) == INVALID_FILE_ATTRIBUTES; i++) Sleep(100);
    UnmapViewOfFile(view);
    CloseHandle(h);
    return 0;
}
