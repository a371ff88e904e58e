/*
 * Conformance: a process exits while its heap gives memory back. Each
 * child frees a batch of 10,000 blocks (~20 MiB), allocates and frees a
 * little, checks the heap, then watches its working set, making no heap
 * call, until it has shrunk by the child's own share of the batch (memshim's
 * purge thread gives a quiet heap back ~100 ms after its last span change,
 * a segment after another; Wine's heap at HeapFree) or 3 s have passed,
 * and returns from main at once: ExitProcess terminates the other threads,
 * then the C runtime's detach frees into the heap. So exit comes at many
 * points of the purge (with trace+memshim, "process exit waited for the
 * heap purge under way" shows the runs where it came during one). Every
 * child must exit with its own code and in time. Thirty children, six at
 * a time. This is a smoke test over exit points: the exit also survived
 * (180 children) with the purge left running into the termination, so
 * that the purge stops first (heap_purge_stop: no pass starts after it,
 * one under way ends) is pinned by test_heap_purge, not here.
 */
#include "harness.h"
#include <psapi.h>

enum { CHILDREN = 30, AT_ONCE = 6, BLOCKS = 10000 };

static SIZE_T working_set(void)
{
    PROCESS_MEMORY_COUNTERS counters;
    return K32GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof(counters)) ? counters.WorkingSetSize : 0;
}

static int child(int drop_kib)
{
    static char *blocks[BLOCKS];
    HANDLE heap = GetProcessHeap();
    for (int i = 0; i < BLOCKS; i++) {
        SIZE_T size = 8 + (i * 2654435761u) % 4089;
        if (!(blocks[i] = HeapAlloc(heap, 0, size)))
            return 2;
        blocks[i][0] = blocks[i][size - 1] = 1;
    }
    for (int i = 0; i < BLOCKS; i++)
        if (!HeapFree(heap, 0, blocks[(i * 7919) % BLOCKS]))
            return 3;
    for (int i = 0; i < 100; i++) {
        char *p = HeapAlloc(heap, 0, 16 + i * 40);
        if (!p)
            return 4;
        p[0] = 1;
        HeapFree(heap, 0, p);
    }
    if (!HeapValidate(heap, 0, NULL))
        return 5;
    /* No heap call from here: one would wait for the purge to finish. */
    SIZE_T freed = working_set();
    DWORD start = GetTickCount();
    while (working_set() + (SIZE_T)drop_kib * 1024 > freed && GetTickCount() - start < 3000)
        SwitchToThread();
    return 7;
}

/* The main thread ends with ExitThread while no other thread of the
 * program's lives: the process ends with its last thread, on Windows and
 * on Wine. memshim's own threads (the heap's purge, made by the frees
 * here, and the worker of unnamed sections, made by the section) must not
 * keep it alive: the purge's is none of Wine's, and the worker ends after
 * about a second with nothing to do, with the code the main thread ended
 * with, which is then the process's. */
static void child_last_thread(void)
{
    static char *blocks[BLOCKS];
    HANDLE heap = GetProcessHeap();
    for (int i = 0; i < BLOCKS; i++)
        blocks[i] = HeapAlloc(heap, 0, 8 + (i * 2654435761u) % 4089);
    for (int i = 0; i < BLOCKS; i++)
        HeapFree(heap, 0, blocks[i]);
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, NULL);
    if (section)
        CloseHandle(section);
    ExitThread(5);
}

/* This program again with `args`: its process handle, or NULL (a failed check). */
static HANDLE start_child(const char *program, const char *args)
{
    char cmd[MAX_PATH + 64];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    snprintf(cmd, sizeof(cmd), "\"%s\" %s", program, args);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        ok(0, "CreateProcess: error %lu", GetLastError());
        return NULL;
    }
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

static void test_last_thread_ends_process(const char *program)
{
    HANDLE process = start_child(program, "last-thread");
    if (!process)
        return;
    DWORD start = GetTickCount();
    DWORD wait = WaitForSingleObject(process, 20000);
    DWORD waited = GetTickCount() - start;
    ok(wait == WAIT_OBJECT_0, "the process ended with its last thread of its own (%lu ms)", waited);
    DWORD code = 0xdeadbeef;
    if (wait != WAIT_OBJECT_0)
        TerminateProcess(process, 1);
    else
        ok(GetExitCodeProcess(process, &code) && code == 5, "exit code %lu, the last thread's", code);
    trace("the process whose main thread called ExitThread ended after %lu ms", waited);
    CloseHandle(process);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "child"))
        return child(atoi(argv[2]));
    if (argc > 1 && !strcmp(argv[1], "last-thread"))
        child_last_thread();
    harness_init();
    test_last_thread_ends_process(argv[0]);
    /* And with memshim's statistics on, whose publishing thread runs as
     * long as the process does (Wine's builtin ignores the variable). */
    SetEnvironmentVariableA("MEMSHIM_LIVE", "1");
    test_last_thread_ends_process(argv[0]);
    SetEnvironmentVariableA("MEMSHIM_LIVE", NULL);
    HANDLE running[AT_ONCE];
    int drops[AT_ONCE];
    int exited = 0, hung = 0, wrong = 0;
    for (int first = 0; first < CHILDREN; first += AT_ONCE) {
        int n = 0;
        for (int k = first; k < first + AT_ONCE && k < CHILDREN; k++) {
            char args[32];
            drops[n] = k * 20480 / CHILDREN;        /* 0 to 20 MiB */
            snprintf(args, sizeof(args), "child %d", drops[n]);
            if ((running[n] = start_child(argv[0], args)) != NULL)
                n++;
        }
        for (int k = 0; k < n; k++) {
            DWORD code = 0xdeadbeef;
            if (WaitForSingleObject(running[k], 30000) != WAIT_OBJECT_0) {
                hung++;
                trace("the child waiting for %d KiB to go did not exit in 30 s", drops[k]);
                TerminateProcess(running[k], 1);
            } else if (GetExitCodeProcess(running[k], &code) && code == 7) {
                exited++;
            } else {
                wrong++;
                trace("the child waiting for %d KiB to go exited with %#lx", drops[k], code);
            }
            CloseHandle(running[k]);
        }
    }
    ok(hung == 0, "%d of %d children did not exit", hung, CHILDREN);
    ok(wrong == 0, "%d of %d children exited with another code than 7", wrong, CHILDREN);
    ok(exited == CHILDREN, "%d of %d children freed, waited and exited", exited, CHILDREN);
    return harness_done();
}
