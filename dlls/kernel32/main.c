/*
 * main.c - DLL entry point and the bridge to Wine's builtin kernel32.
 *
 * There is no C runtime: DllMainCRTStartup is the entry point itself. At
 * process attach the core is initialised before any program code runs, the
 * ntdll heap and virtual-memory entry points are hooked (so memshim's blocks
 * and regions reached through ntdll or kernelbase come back to us) and the
 * vectored exception handler
 * that serves guard pages is installed first in the chain. The heap
 * debugging modes (debug_heap.c) are read from the environment before the
 * program allocates anything.
 */
#include "private.h"
#include "../../src/heap/heap.h"
#include "../../src/host/host.h"
#include "../../src/base/ms_lock.h"
#include "../../src/vm/vm.h"
#include "stats.h"
#include "debug_heap.h"
#include "section_cache.h"
#include "anonymous_section.h"
#include "hotpatch.h"
#include "live_page.h"

#define IMAGE_FILE_LARGE_ADDRESS_AWARE_FLAG 0x0020

static HMODULE wine_kernel32;

static HMODULE load_wine_kernel32(void)
{
    UNICODE_STRING name;
    HMODULE module = NULL;
    RtlInitUnicodeString(&name, L"wine_kernel32.dll");
    if (LdrGetDllHandle(NULL, 0, &name, &module) && LdrLoadDll(NULL, 0, &name, &module))
        return NULL;
    return module;
}

void *wine_kernel32_proc(const char *name)
{
    ANSI_STRING proc;
    void *fn = NULL;
    if (!wine_kernel32)
        wine_kernel32 = load_wine_kernel32();
    proc.Buffer = (char *)name;
    proc.Length = (USHORT)strlen(name);
    proc.MaximumLength = proc.Length + 1;
    if (!wine_kernel32 || LdrGetProcedureAddress(wine_kernel32, &proc, 0, &fn)) {
        ERR("Wine's kernel32 has no %s; cannot pass the call through\n", name);
        RtlRaiseStatus(STATUS_ENTRYPOINT_NOT_FOUND);
    }
    return fn;
}

void *ntdll_proc(const char *name)
{
    UNICODE_STRING module;
    ANSI_STRING proc;
    HMODULE ntdll;
    void *fn = NULL;
    RtlInitUnicodeString(&module, L"ntdll.dll");
    RtlInitAnsiString(&proc, name);
    if (LdrGetDllHandle(NULL, 0, &module, &ntdll) || LdrGetProcedureAddress(ntdll, &proc, 0, &fn))
        return NULL;
    return fn;
}

BOOL memshim_env_flag(const WCHAR *name, BOOL unset)
{
    typedef DWORD(WINAPI * fn_t)(LPCWSTR, LPWSTR, DWORD);
    WCHAR value[8];
    DWORD n = WINE_FN(fn_t, GetEnvironmentVariableW)(name, value, 8);
    if (n == 0 || n >= 8)
        return unset;
    return value[0] != '0';
}

BOOL is_current_process_handle(HANDLE process)
{
    PROCESS_BASIC_INFORMATION info;
    if (NtQueryInformationProcess(process, ProcessBasicInformation, &info, sizeof(info), NULL))
        return FALSE;
    return info.UniqueProcessId == *(ULONG_PTR *)(current_teb() + 0x40);     /* TEB.ClientId.UniqueProcess */
}

/* A 64-bit program linked without /LARGEADDRESSAWARE gets addresses below
 * 2 GiB from Windows; the core honours the same limit. */
static uintptr_t address_limit_of_main_image(void)
{
    BYTE *image = *(BYTE **)(current_peb() + 0x10);     /* PEB.ImageBaseAddress */
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(image + ((IMAGE_DOS_HEADER *)image)->e_lfanew);
    if (nt->FileHeader.Characteristics & IMAGE_FILE_LARGE_ADDRESS_AWARE_FLAG)
        return 0;
    return (uintptr_t)0x80000000u;
}

/* Process exit: RtlExitUserProcess first terminates every other thread
 * (NtTerminateProcess with no handle), then runs the DLLs' detach code on
 * the exiting thread, ours among the last. A thread killed while it held
 * one of our locks (a heap's, the vm core's) never releases it, and the C
 * runtime's detach, which frees into its heap before ours runs, would wait
 * for it for ever (seen: a private heap's lock taken by a thread that was
 * disowning the heap's creator when exit killed it). So the locks' exit
 * mode (ms_lock.c: a lock taken for ~20 ms is taken over) starts as soon
 * as the other threads are gone, as Windows ends such a wait during
 * shutdown instead of hanging. */
typedef NTSTATUS(NTAPI *terminate_process_fn)(HANDLE, NTSTATUS);
static terminate_process_fn orig_terminate_process;

static NTSTATUS NTAPI hook_NtTerminateProcess(HANDLE process, NTSTATUS status)
{
    if (!process) {
        /* memshim's bare threads, which Wine does not stop: out of the
         * heaps before the exit's own frees come. */
        memshim_heap_purge_stop();
        live_page_stop();
    }
    NTSTATUS result = orig_terminate_process(process, status);
    if (!process && result == STATUS_SUCCESS)
        ms_lock_process_exiting = 1;
    return result;
}

/* The exit code of the last thread that ended: a process ends with its
 * last thread, with that thread's code, and when memshim's own Wine thread
 * (anonymous_file_pool.c) outlives the program's it ends with the code of
 * the program's last thread, as the process would have without it.
 * (memshim's bare threads, bare_thread.c, are none of Wine's.) */
typedef void(NTAPI *exit_thread_fn)(ULONG);
static exit_thread_fn orig_exit_user_thread;
static ULONG last_thread_exit_code;

static void NTAPI hook_RtlExitUserThread(ULONG status)
{
    __atomic_store_n(&last_thread_exit_code, status, __ATOMIC_RELAXED);
    orig_exit_user_thread(status);
}

DWORD memshim_thread_exit_code(void)
{
    return __atomic_load_n(&last_thread_exit_code, __ATOMIC_RELAXED);
}

BOOL WINAPI DllMainCRTStartup(HINSTANCE instance, DWORD reason, void *reserved);
BOOL WINAPI DllMainCRTStartup(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)instance;
    if (reason == DLL_PROCESS_DETACH) {
        /* reserved != NULL: the process is exiting and Wine has already
         * terminated its other threads, maybe inside our locks (ms_lock.c). */
        if (reserved)
            ms_lock_process_exiting = 1;
        memshim_debug_heap_report();
        memshim_stats_report();
    }
    if (reason == DLL_THREAD_DETACH) {
        heap_thread_detach();          /* its process-heap shard can serve the next thread */
        memshim_stats_thread_detach();
    }
    if (reason != DLL_PROCESS_ATTACH)
        return TRUE;
    memshim_dbg_init();
    wine_kernel32 = load_wine_kernel32();
    if (!wine_kernel32) {
        ERR("wine_kernel32.dll (Wine's builtin kernel32 under an alias) is missing next to memshim's kernel32\n");
        return FALSE;
    }
    if (vm_init(address_limit_of_main_image()) != MS_OK) {
        ERR("the virtual memory core could not start\n");
        return FALSE;
    }
    /* A TEB TLS slot for the heap's per-thread shard (the first 64 slots
     * live in the TEB itself at TlsSlots, offset 0x1480 on x86-64). */
    typedef DWORD(WINAPI * tls_alloc_fn)(void);
    DWORD tls_index = WINE_FN(tls_alloc_fn, TlsAlloc)();
    if (tls_index < 64)
        host_thread_slot_setup(0x1480 + tls_index * 8);
    memshim_stats_init();
    memshim_debug_heap_init(instance);
    memshim_heap_purge_init();
    memshim_install_exception_handler();
    hotpatch_export("NtTerminateProcess", (void *)hook_NtTerminateProcess, (void **)&orig_terminate_process);
    hotpatch_export("RtlExitUserThread", (void *)hook_RtlExitUserThread, (void **)&orig_exit_user_thread);
    memshim_install_vm_hooks();
    memshim_install_heap_hooks();
    memshim_install_kernelbase_gmem_hooks();
    section_cache_install();
    anonymous_section_install();
    TRACE("memshim kernel32 loaded at %p, Wine's kernel32 at %p\n", (void *)instance, (void *)wine_kernel32);
    return TRUE;
}
