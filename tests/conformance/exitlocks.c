/*
 * Conformance: a heap lock held by a thread that process exit killed.
 * Exiting (RtlExitUserProcess) first terminates every other thread
 * (NtTerminateProcess with no process handle), then runs the DLLs' detach
 * code on the exiting thread; the C runtime's frees into its heap. A
 * thread killed while it held a heap's lock must not make that wait for
 * ever: Windows ends a wait for a lock of a dead thread during shutdown,
 * memshim takes such a lock over after ~20 ms once the other threads are
 * gone. Wine 8.0 waits for ever, so the checks run on memshim only. The
 * two steps of exit are made by hand here, so that the test can look at
 * what comes after the first.
 */
#include "harness.h"

static HANDLE heap, held;

static DWORD WINAPI hold_heap_lock(void *arg)
{
    (void)arg;
    HeapLock(heap);
    SetEvent(held);
    Sleep(INFINITE);
    return 0;
}

typedef LONG(WINAPI *terminate_process_fn)(HANDLE, LONG);

int main(void)
{
    harness_init();
    if (memshim_only("Wine 8.0 waits for ever for a heap lock of a killed thread")) {
        terminate_process_fn terminate =
            (terminate_process_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtTerminateProcess");
        heap = HeapCreate(0, 0, 0);
        held = CreateEventA(NULL, TRUE, FALSE, NULL);
        ok(heap && held && terminate, "setup: error %lu", GetLastError());
        char *mine = HeapAlloc(heap, 0, 100);       /* by its creator */
        HANDLE thread = CreateThread(NULL, 0, hold_heap_lock, NULL, 0, NULL);
        ok(WaitForSingleObject(held, 10000) == WAIT_OBJECT_0, "the other thread holds the heap's lock");
        ok(terminate(NULL, 0) == 0, "NtTerminateProcess(NULL) ends the other threads");
        ok(WaitForSingleObject(thread, 10000) == WAIT_OBJECT_0, "the lock's holder is gone");
        DWORD start = GetTickCount();
        char *p = HeapAlloc(heap, 0, 200);
        ok(p != NULL, "HeapAlloc on the heap the dead thread locked: error %lu", GetLastError());
        if (p)
            memset(p, 1, 200);
        ok(HeapFree(heap, 0, p) && HeapFree(heap, 0, mine), "HeapFree: error %lu", GetLastError());
        ok(HeapValidate(heap, 0, NULL), "the heap is valid");
        DWORD waited = GetTickCount() - start;
        ok(waited < 5000, "the lock was taken over in %lu ms", waited);
    }
    return harness_done();
}
