/*
 * Conformance: kernel32's exports.
 *  - every memory function resolves by name and by ordinal to the same
 *    address (the ordinal read from kernel32's own export directory); on
 *    memshim the address lies inside memshim's kernel32 image and the
 *    ordinal is the one Wine's kernel32 uses for the name;
 *  - a sample of other names (and every kernel32 import of mingw's CRT
 *    start-up code) resolves by name and ordinal to the same address, and
 *    the functions work when called through the ordinal-resolved pointers.
 */
#include "harness.h"

static const char *memory_names[] = {
    "VirtualAlloc", "VirtualAllocEx", "VirtualAllocExNuma", "VirtualFree", "VirtualFreeEx", "VirtualProtect",
    "VirtualProtectEx", "VirtualQuery", "VirtualQueryEx", "VirtualLock", "VirtualUnlock", "GetWriteWatch",
    "ResetWriteWatch", "HeapCreate", "HeapDestroy", "HeapAlloc", "HeapReAlloc", "HeapFree", "HeapSize",
    "HeapValidate", "HeapCompact", "HeapLock", "HeapUnlock", "HeapWalk", "HeapSummary", "HeapQueryInformation",
    "HeapSetInformation", "GetProcessHeap", "GetProcessHeaps", "GlobalAlloc", "GlobalReAlloc", "GlobalFree",
    "GlobalLock", "GlobalUnlock", "GlobalSize", "GlobalFlags", "GlobalHandle", "LocalAlloc", "LocalReAlloc",
    "LocalFree", "LocalLock", "LocalUnlock", "LocalSize", "LocalFlags", "LocalHandle", "CreateFileMappingA",
    "CreateFileMappingW", "CreateFileMappingNumaW", "OpenFileMappingA", "OpenFileMappingW", "MapViewOfFile",
    "MapViewOfFileEx", "MapViewOfFileExNuma", "UnmapViewOfFile", "UnmapViewOfFileEx", "FlushViewOfFile",
    "GlobalMemoryStatus", "GlobalMemoryStatusEx", "GetSystemInfo", "GetNativeSystemInfo", "GetLargePageMinimum",
    "ReadProcessMemory", "WriteProcessMemory", "IsBadReadPtr", "IsBadWritePtr", "IsBadCodePtr",
    "IsBadStringPtrA", "IsBadStringPtrW", "PrefetchVirtualMemory", "FlushInstructionCache", "CloseHandle",
    /* memshim's own too: keeps its guard-page handler first (exception.c) */
    "AddVectoredExceptionHandler",
};

static const char *forwarded_names[] = {
    "GetLastError", "SetLastError", "CreateFileW", "ReadFile", "WriteFile", "GetTickCount", "Sleep",
    "CreateThread", "WaitForSingleObject", "CreateEventW", "SetEvent", "GetModuleHandleW", "GetProcAddress",
    "LoadLibraryA", "FreeLibrary", "GetCurrentProcessId", "GetCurrentThreadId", "GetEnvironmentVariableW",
    "SetEnvironmentVariableW", "GetCommandLineW", "QueryPerformanceCounter", "InitializeCriticalSection",
    "EnterCriticalSection", "LeaveCriticalSection", "DeleteCriticalSection", "TlsAlloc", "TlsGetValue",
    "TlsSetValue", "TlsFree", "GetSystemTimeAsFileTime", "MultiByteToWideChar", "WideCharToMultiByte",
    "lstrlenA", "GetStdHandle", "WriteConsoleW", "GetFileType", "CreateDirectoryW", "RemoveDirectoryW",
    "DeleteFileW", "GetTempPathW", "GetCurrentDirectoryW", "FindFirstFileW", "FindClose", "DuplicateHandle",
    "GetExitCodeProcess", "CreateMutexW", "ReleaseMutex", "InterlockedIncrement", "FlsAlloc",
    "IsDebuggerPresent", "GetStartupInfoW",
    /* more everyday names */
    "GetExitCodeThread", "ResetEvent", "GetCurrentProcess", "GetCurrentThread", "GetModuleFileNameW",
    "GetTempFileNameW", "SetFilePointer", "GetFileSize", "FlushFileBuffers", "FlsGetValue", "FlsSetValue",
    "FlsFree", "InitializeSRWLock", "AcquireSRWLockExclusive", "ReleaseSRWLockExclusive", "QueryPerformanceFrequency",
    "GetVersionExW", "ExitProcess", "TerminateProcess", "CreateProcessW",
    "RemoveVectoredExceptionHandler", "GetModuleHandleA", "LoadLibraryW",
    /* kernel32 imports of mingw-w64's CRT start-up code (objdump -p of a
     * hello world), the memory ones (VirtualProtect, VirtualQuery) are in
     * the list above */
    "DeleteCriticalSection", "EnterCriticalSection", "GetStartupInfoA", "InitializeCriticalSection",
    "IsDBCSLeadByteEx", "LeaveCriticalSection", "SetUnhandledExceptionFilter", "TlsGetValue",
};

/* Optional on x64 (intrinsics, not exports): absence is not a failure. */
static int optional_name(const char *name)
{
    return !strcmp(name, "InterlockedIncrement");
}

struct exports
{
    HMODULE module;
    ULONG_PTR base, end;
    IMAGE_EXPORT_DIRECTORY *dir;
    ULONG dir_rva, dir_size;
};

static int load_exports(HMODULE m, struct exports *e)
{
    IMAGE_DOS_HEADER *dos = (IMAGE_DOS_HEADER *)m;
    IMAGE_NT_HEADERS *nt;
    IMAGE_DATA_DIRECTORY *dd;
    memset(e, 0, sizeof(*e));
    if (!m || dos->e_magic != IMAGE_DOS_SIGNATURE) return 0;
    nt = (IMAGE_NT_HEADERS *)((char *)m + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE) return 0;
    dd = &nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
    e->module = m;
    e->base = (ULONG_PTR)m;
    e->end = e->base + nt->OptionalHeader.SizeOfImage;
    e->dir_rva = dd->VirtualAddress;
    e->dir_size = dd->Size;
    e->dir = dd->VirtualAddress ? (IMAGE_EXPORT_DIRECTORY *)((char *)m + dd->VirtualAddress) : NULL;
    return e->dir != NULL;
}

/* Ordinal of a name from the export directory; 0 when absent. *forwarder
 * tells whether the entry is a forwarder string. */
static WORD find_ordinal(const struct exports *e, const char *name, int *forwarder)
{
    DWORD *names = (DWORD *)(e->base + e->dir->AddressOfNames);
    WORD *ords = (WORD *)(e->base + e->dir->AddressOfNameOrdinals);
    DWORD *funcs = (DWORD *)(e->base + e->dir->AddressOfFunctions);
    for (DWORD i = 0; i < e->dir->NumberOfNames; i++)
        if (!strcmp((const char *)(e->base + names[i]), name))
        {
            DWORD rva = funcs[ords[i]];
            if (forwarder) *forwarder = rva >= e->dir_rva && rva < e->dir_rva + e->dir_size;
            return (WORD)(e->dir->Base + ords[i]);
        }
    return 0;
}

static struct exports k32, wine_k32;
static int have_wine_k32;

static FARPROC by_ordinal(const char *name)
{
    WORD ord = find_ordinal(&k32, name, NULL);
    return ord ? GetProcAddress(k32.module, MAKEINTRESOURCEA(ord)) : NULL;
}

static void check_name(const char *name, int memory)
{
    int fwd = 0, ref_fwd = 0;
    WORD ord = find_ordinal(&k32, name, &fwd);
    WORD ref_ord = have_wine_k32 ? find_ordinal(&wine_k32, name, &ref_fwd) : ord;
    FARPROC pn, po;

    harness_context(name);
    if (!ord && !ref_ord && (optional_name(name) || is_wine()))
    {
        /* Not exported by this Wine's kernel32 at all: nothing to match. */
        skip("%s is not exported by %s kernel32", name, is_wine() ? "Wine's" : "this");
        harness_context(NULL);
        return;
    }
    ok(ord != 0, "exported by name");
    if (have_wine_k32)
        ok(ord == ref_ord, "ordinal %u, Wine's kernel32 uses %u", ord, ref_ord);
    pn = GetProcAddress(k32.module, name);
    po = ord ? GetProcAddress(k32.module, MAKEINTRESOURCEA(ord)) : NULL;
    ok(pn != NULL, "GetProcAddress by name: error %lu", GetLastError());
    ok(pn == po, "by name %p, by ordinal %u %p", (void *)(ULONG_PTR)pn, ord, (void *)(ULONG_PTR)po);
    if (is_memshim())
    {
        ULONG_PTR a = (ULONG_PTR)pn;
        if (memory)
        {
            ok(!fwd, "memshim implements it (no forwarder)");
            ok(a >= k32.base && a < k32.end, "address %p inside memshim's image %p-%p", (void *)a,
               (void *)k32.base, (void *)k32.end);
        }
        else
        {
            ok(fwd, "memshim forwards it");
            ok(!(a >= k32.base && a < k32.end), "address %p outside memshim's image (forwarded)", (void *)a);
        }
    }
    harness_context(NULL);
}

/* ---- calling forwarded functions through their ordinal-resolved pointers ---- */

typedef DWORD (WINAPI *GetLastError_t)(void);
typedef void (WINAPI *SetLastError_t)(DWORD);
typedef HANDLE (WINAPI *CreateEventW_t)(SECURITY_ATTRIBUTES *, BOOL, BOOL, const WCHAR *);
typedef BOOL (WINAPI *SetEvent_t)(HANDLE);
typedef DWORD (WINAPI *WaitForSingleObject_t)(HANDLE, DWORD);
typedef DWORD (WINAPI *TlsAlloc_t)(void);
typedef void *(WINAPI *TlsGetValue_t)(DWORD);
typedef BOOL (WINAPI *TlsSetValue_t)(DWORD, void *);
typedef BOOL (WINAPI *TlsFree_t)(DWORD);
typedef int (WINAPI *MultiByteToWideChar_t)(UINT, DWORD, const char *, int, WCHAR *, int);
typedef int (WINAPI *WideCharToMultiByte_t)(UINT, DWORD, const WCHAR *, int, char *, int, const char *, BOOL *);
typedef HANDLE (WINAPI *CreateFileW_t)(const WCHAR *, DWORD, DWORD, SECURITY_ATTRIBUTES *, DWORD, DWORD, HANDLE);
typedef BOOL (WINAPI *WriteFile_t)(HANDLE, const void *, DWORD, DWORD *, OVERLAPPED *);
typedef BOOL (WINAPI *ReadFile_t)(HANDLE, void *, DWORD, DWORD *, OVERLAPPED *);
typedef BOOL (WINAPI *DeleteFileW_t)(const WCHAR *);
typedef DWORD (WINAPI *GetTempPathW_t)(DWORD, WCHAR *);
typedef HANDLE (WINAPI *CreateThread_t)(SECURITY_ATTRIBUTES *, SIZE_T, LPTHREAD_START_ROUTINE, void *, DWORD, DWORD *);
typedef BOOL (WINAPI *GetExitCodeThread_t)(HANDLE, DWORD *);
typedef void (WINAPI *CritSec_t)(CRITICAL_SECTION *);
typedef DWORD (WINAPI *GetEnvironmentVariableW_t)(const WCHAR *, WCHAR *, DWORD);
typedef BOOL (WINAPI *SetEnvironmentVariableW_t)(const WCHAR *, const WCHAR *);
typedef DWORD (WINAPI *GetCurrentProcessId_t)(void);
typedef DWORD (WINAPI *GetTickCount_t)(void);
typedef BOOL (WINAPI *QueryPerformanceCounter_t)(LARGE_INTEGER *);
typedef HANDLE (WINAPI *CreateMutexW_t)(SECURITY_ATTRIBUTES *, BOOL, const WCHAR *);
typedef BOOL (WINAPI *ReleaseMutex_t)(HANDLE);
typedef DWORD (WINAPI *FlsAlloc_t)(PFLS_CALLBACK_FUNCTION);
typedef int (WINAPI *lstrlenA_t)(const char *);
typedef BOOL (WINAPI *DuplicateHandle_t)(HANDLE, HANDLE, HANDLE, HANDLE *, DWORD, BOOL, DWORD);
typedef HMODULE (WINAPI *LoadLibraryA_t)(const char *);
typedef BOOL (WINAPI *FreeLibrary_t)(HMODULE);
typedef BOOL (WINAPI *CloseHandle_t)(HANDLE);

#define ORD(type, name) ((type)(void *)by_ordinal(#name))

static DWORD WINAPI thread_proc(void *arg)
{
    return (DWORD)(ULONG_PTR)arg + 1;
}

static void test_calls(void)
{
    GetLastError_t pGetLastError = ORD(GetLastError_t, GetLastError);
    SetLastError_t pSetLastError = ORD(SetLastError_t, SetLastError);
    CloseHandle_t pCloseHandle = ORD(CloseHandle_t, CloseHandle);

    if (!pGetLastError || !pSetLastError || !pCloseHandle)
    {
        ok(0, "GetLastError/SetLastError/CloseHandle by ordinal");
        return;
    }
    pSetLastError(0x12345678);
    ok(pGetLastError() == 0x12345678, "SetLastError/GetLastError round trip: %#lx", pGetLastError());
    ok(GetLastError() == 0x12345678, "the imported GetLastError agrees");

    {
        CreateEventW_t pCreateEventW = ORD(CreateEventW_t, CreateEventW);
        SetEvent_t pSetEvent = ORD(SetEvent_t, SetEvent);
        WaitForSingleObject_t pWait = ORD(WaitForSingleObject_t, WaitForSingleObject);
        HANDLE ev = pCreateEventW ? pCreateEventW(NULL, TRUE, FALSE, NULL) : NULL;
        ok(ev != NULL, "CreateEventW: error %lu", GetLastError());
        if (ev && pSetEvent && pWait)
        {
            ok(pWait(ev, 0) == WAIT_TIMEOUT, "unsignaled event times out");
            ok(pSetEvent(ev), "SetEvent");
            ok(pWait(ev, 0) == WAIT_OBJECT_0, "signaled event is WAIT_OBJECT_0");
            ok(pCloseHandle(ev), "CloseHandle(event): error %lu", GetLastError());
        }
    }
    {
        TlsAlloc_t pTlsAlloc = ORD(TlsAlloc_t, TlsAlloc);
        TlsGetValue_t pTlsGetValue = ORD(TlsGetValue_t, TlsGetValue);
        TlsSetValue_t pTlsSetValue = ORD(TlsSetValue_t, TlsSetValue);
        TlsFree_t pTlsFree = ORD(TlsFree_t, TlsFree);
        DWORD idx = pTlsAlloc ? pTlsAlloc() : TLS_OUT_OF_INDEXES;
        ok(idx != TLS_OUT_OF_INDEXES, "TlsAlloc");
        if (idx != TLS_OUT_OF_INDEXES && pTlsGetValue && pTlsSetValue && pTlsFree)
        {
            ok(pTlsGetValue(idx) == NULL, "new TLS slot is NULL");
            ok(pTlsSetValue(idx, (void *)0x1234), "TlsSetValue");
            ok(pTlsGetValue(idx) == (void *)0x1234, "TlsGetValue returns the value");
            ok(pTlsFree(idx), "TlsFree");
        }
    }
    {
        FlsAlloc_t pFlsAlloc = ORD(FlsAlloc_t, FlsAlloc);
        DWORD idx = pFlsAlloc ? pFlsAlloc(NULL) : FLS_OUT_OF_INDEXES;
        ok(idx != FLS_OUT_OF_INDEXES, "FlsAlloc");
        if (idx != FLS_OUT_OF_INDEXES)
        {
            ok(FlsSetValue(idx, (void *)0x55) && FlsGetValue(idx) == (void *)0x55, "FLS slot round trip");
            FlsFree(idx);
        }
    }
    {
        MultiByteToWideChar_t pMB = ORD(MultiByteToWideChar_t, MultiByteToWideChar);
        WideCharToMultiByte_t pWC = ORD(WideCharToMultiByte_t, WideCharToMultiByte);
        lstrlenA_t plstrlenA = ORD(lstrlenA_t, lstrlenA);
        WCHAR w[16];
        char a[16];
        int n = pMB ? pMB(CP_ACP, 0, "memshim", -1, w, 16) : 0;
        ok(n == 8 && !wcscmp(w, L"memshim"), "MultiByteToWideChar: %d", n);
        n = pWC ? pWC(CP_UTF8, 0, L"\x00e9t\x00e9", -1, a, 16, NULL, NULL) : 0;
        ok(n == 6 && !strcmp(a, "\xc3\xa9t\xc3\xa9"), "WideCharToMultiByte UTF-8: %d", n);
        ok(plstrlenA && plstrlenA("kernel32") == 8, "lstrlenA");
    }
    {
        GetTempPathW_t pGetTempPathW = ORD(GetTempPathW_t, GetTempPathW);
        CreateFileW_t pCreateFileW = ORD(CreateFileW_t, CreateFileW);
        WriteFile_t pWriteFile = ORD(WriteFile_t, WriteFile);
        ReadFile_t pReadFile = ORD(ReadFile_t, ReadFile);
        DeleteFileW_t pDeleteFileW = ORD(DeleteFileW_t, DeleteFileW);
        WCHAR dir[MAX_PATH], path[MAX_PATH + 40];
        char buf[32] = {0};
        DWORD done = 0;
        HANDLE f;
        ok(pGetTempPathW && pGetTempPathW(MAX_PATH, dir) > 0, "GetTempPathW");
        swprintf(path, ARRAYSIZE(path), L"%lsmemshim-exports-%lu.tmp", dir, GetCurrentProcessId());
        f = pCreateFileW ? pCreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL)
                         : INVALID_HANDLE_VALUE;
        ok(f != INVALID_HANDLE_VALUE, "CreateFileW temp file: error %lu", GetLastError());
        if (f != INVALID_HANDLE_VALUE)
        {
            ok(pWriteFile && pWriteFile(f, "forwarded", 9, &done, NULL) && done == 9, "WriteFile");
            SetFilePointer(f, 0, NULL, FILE_BEGIN);
            done = 0;
            ok(pReadFile && pReadFile(f, buf, sizeof(buf), &done, NULL) && done == 9 && !memcmp(buf, "forwarded", 9),
               "ReadFile reads back what WriteFile wrote (%lu bytes)", done);
            ok(GetFileType(f) == FILE_TYPE_DISK, "GetFileType disk");
            ok(pCloseHandle(f), "CloseHandle(file)");
            ok(pDeleteFileW && pDeleteFileW(path), "DeleteFileW: error %lu", GetLastError());
            ok(GetFileAttributesW(path) == INVALID_FILE_ATTRIBUTES, "file is gone");
        }
    }
    {
        CreateThread_t pCreateThread = ORD(CreateThread_t, CreateThread);
        WaitForSingleObject_t pWait = ORD(WaitForSingleObject_t, WaitForSingleObject);
        GetExitCodeThread_t pGetExitCodeThread = ORD(GetExitCodeThread_t, GetExitCodeThread);
        HANDLE t = pCreateThread ? pCreateThread(NULL, 0, thread_proc, (void *)41, 0, NULL) : NULL;
        DWORD code = 0;
        ok(t != NULL, "CreateThread: error %lu", GetLastError());
        if (t && pWait && pGetExitCodeThread)
        {
            ok(pWait(t, 10000) == WAIT_OBJECT_0, "thread ends");
            ok(pGetExitCodeThread(t, &code) && code == 42, "thread exit code %lu", code);
            pCloseHandle(t);
        }
    }
    {
        CRITICAL_SECTION cs;
        CritSec_t pInit = ORD(CritSec_t, InitializeCriticalSection);
        CritSec_t pEnter = ORD(CritSec_t, EnterCriticalSection);
        CritSec_t pLeave = ORD(CritSec_t, LeaveCriticalSection);
        CritSec_t pDelete = ORD(CritSec_t, DeleteCriticalSection);
        ok(pInit && pEnter && pLeave && pDelete, "critical section functions by ordinal");
        if (pInit && pEnter && pLeave && pDelete)
        {
            pInit(&cs);
            pEnter(&cs);
            pEnter(&cs);
            ok(cs.RecursionCount == 2, "recursive EnterCriticalSection: count %ld", cs.RecursionCount);
            pLeave(&cs);
            pLeave(&cs);
            pDelete(&cs);
        }
    }
    {
        GetEnvironmentVariableW_t pGet = ORD(GetEnvironmentVariableW_t, GetEnvironmentVariableW);
        SetEnvironmentVariableW_t pSet = ORD(SetEnvironmentVariableW_t, SetEnvironmentVariableW);
        WCHAR v[32] = {0};
        ok(pSet && pSet(L"MEMSHIM_EXPORTS_TEST", L"forty-two"), "SetEnvironmentVariableW");
        ok(pGet && pGet(L"MEMSHIM_EXPORTS_TEST", v, 32) == 9 && !wcscmp(v, L"forty-two"),
           "GetEnvironmentVariableW reads it back");
    }
    {
        GetCurrentProcessId_t pPid = ORD(GetCurrentProcessId_t, GetCurrentProcessId);
        GetTickCount_t pTick = ORD(GetTickCount_t, GetTickCount);
        QueryPerformanceCounter_t pQpc = ORD(QueryPerformanceCounter_t, QueryPerformanceCounter);
        LARGE_INTEGER c1, c2;
        ok(pPid && pPid() == GetCurrentProcessId() && pPid() != 0, "GetCurrentProcessId");
        ok(pTick && pTick() != 0, "GetTickCount");
        ok(pQpc && pQpc(&c1) && pQpc(&c2) && c2.QuadPart >= c1.QuadPart, "QueryPerformanceCounter is monotonic");
    }
    {
        CreateMutexW_t pCreateMutexW = ORD(CreateMutexW_t, CreateMutexW);
        ReleaseMutex_t pReleaseMutex = ORD(ReleaseMutex_t, ReleaseMutex);
        DuplicateHandle_t pDup = ORD(DuplicateHandle_t, DuplicateHandle);
        HANDLE m = pCreateMutexW ? pCreateMutexW(NULL, TRUE, NULL) : NULL, m2 = NULL;
        ok(m != NULL, "CreateMutexW: error %lu", GetLastError());
        if (m && pReleaseMutex && pDup)
        {
            ok(pReleaseMutex(m), "ReleaseMutex of an owned mutex");
            SetLastError(0xdeadbeef);
            ok(!pReleaseMutex(m) && GetLastError() == ERROR_NOT_OWNER, "ReleaseMutex again: error %lu",
               GetLastError());
            ok(pDup(GetCurrentProcess(), m, GetCurrentProcess(), &m2, 0, FALSE, DUPLICATE_SAME_ACCESS) && m2,
               "DuplicateHandle");
            if (m2) ok(pCloseHandle(m2), "CloseHandle(duplicate)");
            ok(pCloseHandle(m), "CloseHandle(mutex)");
        }
        SetLastError(0xdeadbeef);
        ok(!pCloseHandle((HANDLE)(ULONG_PTR)0xdead0), "CloseHandle of a bad handle fails");
        ok(GetLastError() == ERROR_INVALID_HANDLE, "CloseHandle of a bad handle: error %lu", GetLastError());
    }
    {
        LoadLibraryA_t pLoad = ORD(LoadLibraryA_t, LoadLibraryA);
        FreeLibrary_t pFree = ORD(FreeLibrary_t, FreeLibrary);
        HMODULE h = pLoad ? pLoad("version.dll") : NULL;
        ok(h != NULL, "LoadLibraryA(version.dll): error %lu", GetLastError());
        if (h)
        {
            ok(GetProcAddress(h, "GetFileVersionInfoSizeW") != NULL, "GetProcAddress in the loaded DLL");
            ok(pFree && pFree(h), "FreeLibrary");
        }
    }
    ok(GetStdHandle(STD_OUTPUT_HANDLE) != INVALID_HANDLE_VALUE, "GetStdHandle");
    ok(GetCommandLineW() && *GetCommandLineW(), "GetCommandLineW");
    ok(!IsDebuggerPresent(), "IsDebuggerPresent");
}

int main(void)
{
    HMODULE wk;
    harness_init();
    ok(load_exports(GetModuleHandleA("kernel32.dll"), &k32), "kernel32 has an export directory");
    if (!k32.dir) return harness_done();
    wk = GetModuleHandleA("wine_kernel32.dll");
    have_wine_k32 = wk && load_exports(wk, &wine_k32);
    if (is_memshim()) ok(have_wine_k32, "Wine's kernel32 is loaded under its alias with an export directory");
    trace("kernel32 at %p-%p, %lu exports, ordinal base %lu", (void *)k32.base, (void *)k32.end,
          k32.dir->NumberOfFunctions, k32.dir->Base);
    if (have_wine_k32)
        ok(k32.dir->NumberOfFunctions >= wine_k32.dir->NumberOfFunctions &&
           k32.dir->NumberOfNames >= wine_k32.dir->NumberOfNames,
           "memshim exports every name of Wine's kernel32 (%lu/%lu names)", k32.dir->NumberOfNames,
           wine_k32.dir->NumberOfNames);

    for (size_t i = 0; i < ARRAYSIZE(memory_names); i++) check_name(memory_names[i], 1);
    for (size_t i = 0; i < ARRAYSIZE(forwarded_names); i++) check_name(forwarded_names[i], 0);

    /* Every name of Wine's kernel32 is exported by memshim at the same ordinal. */
    if (have_wine_k32)
    {
        DWORD *names = (DWORD *)(wine_k32.base + wine_k32.dir->AddressOfNames);
        WORD *ords = (WORD *)(wine_k32.base + wine_k32.dir->AddressOfNameOrdinals);
        unsigned missing = 0, moved = 0;
        for (DWORD i = 0; i < wine_k32.dir->NumberOfNames; i++)
        {
            const char *n = (const char *)(wine_k32.base + names[i]);
            WORD o = find_ordinal(&k32, n, NULL);
            if (!o) { if (missing++ < 5) trace("missing: %s", n); }
            else if (o != wine_k32.dir->Base + ords[i]) { if (moved++ < 5) trace("ordinal differs: %s", n); }
        }
        ok(!missing && !moved, "all %lu names of Wine's kernel32 at Wine's ordinals (%u missing, %u moved)",
           wine_k32.dir->NumberOfNames, missing, moved);
    }
    test_calls();
    return harness_done();
}
