/*
 * private.h - what the files of memshim's kernel32.dll share: Windows
 * headers (as kernel32 itself, so our definitions are exports, not imports),
 * the ntdll entry points we call, tracing, and the bridge to Wine's builtin
 * kernel32 for everything the core does not answer.
 */
#ifndef MEMSHIM_PRIVATE_H
#define MEMSHIM_PRIVATE_H

#define _KERNEL32_              /* we *are* kernel32: WINBASEAPI without dllimport */
#define WIN32_NO_STATUS
#include <windows.h>
#undef WIN32_NO_STATUS
#include <ntstatus.h>
#include <winternl.h>

#include "ntdll.h"
#include "debug.h"
#include "../../src/base/ms_base.h"
#include "../../src/base/ms_error.h"

/* --- errors --------------------------------------------------------------
 * The DLL must not import kernel32 (it is kernel32), so SetLastError is a
 * store into the TEB, exactly where Wine's GetLastError reads it. */
/* gs-relative asm rather than NtCurrentTeb(): GCC 12 misreads the latter
 * as an access through a null-based array (-Warray-bounds). */
static inline void set_last_error(DWORD err)
{
    __asm__ volatile("movl %0, %%gs:0x68" : : "r"(err) : "memory");
}

static inline DWORD get_last_error(void)
{
    DWORD err;
    __asm__ volatile("movl %%gs:0x68, %0" : "=r"(err) : : "memory");
    return err;
}

static inline BYTE *current_teb(void)
{
    BYTE *teb;
    __asm__("movq %%gs:0x30, %0" : "=r"(teb));
    return teb;
}

/* [p, p + n) lies in the calling thread's committed stack, where it can be
 * read and written without the guarded copy. */
static inline BOOL on_own_stack(const void *p, SIZE_T n)
{
    const NT_TIB *tib = (const NT_TIB *)current_teb();
    const char *at = p, *low = tib->StackLimit, *high = tib->StackBase;
    return at >= low && at < high && n <= (SIZE_T)(high - at);
}

static inline BYTE *current_peb(void)
{
    BYTE *peb;
    __asm__("movq %%gs:0x60, %0" : "=r"(peb));
    return peb;
}

static inline DWORD status_to_error(NTSTATUS status)
{
    return RtlNtStatusToDosError(status);
}

/* Windows' pseudo-handle for the current process. */
#define CURRENT_PROCESS ((HANDLE)(LONG_PTR)-1)
/* A real handle of this process (one NtQueryInformationProcess). */
BOOL is_current_process_handle(HANDLE process);
/* Inline for the pseudo-handle, which nearly every call passes: no call,
 * no request (VirtualQuery is a few nanoseconds). */
static inline BOOL is_current_process(HANDLE process)
{
    return process == CURRENT_PROCESS || is_current_process_handle(process);
}

/* MEMORY_BASIC_INFORMATION from the core's answer (virtual.c). */
struct vm_region_info;
void memshim_fill_mbi(MEMORY_BASIC_INFORMATION *mbi, const struct vm_region_info *info);

/* --- Wine's builtin kernel32 ----------------------------------------------
 * Loaded under an alias (wine_kernel32.dll) next to us; every export we do
 * not implement is forwarded there by the .def, and the functions we
 * implement use it for passthrough. */
void *wine_kernel32_proc(const char *name);
/* An ntdll export looked up at run time (the function itself, not an
 * import thunk; NULL when this Wine lacks it). */
void *ntdll_proc(const char *name);

/* Resolve Wine's implementation once and keep it. */
#define WINE_FN(type, name)                                                       \
    ({                                                                            \
        static __typeof__(type) wine_fn_;                                                     \
        if (!wine_fn_)                                                            \
            wine_fn_ = (type)wine_kernel32_proc(#name);                           \
        wine_fn_;                                                                 \
    })

/* --- process heap ------------------------------------------------------- */
static inline HANDLE peb_process_heap(void)
{
    return *(HANDLE *)(current_peb() + 0x30);     /* PEB.ProcessHeap */
}

/* Set up by DllMain. */
/* A MEMSHIM_* switch: `unset` when the variable is not set, else whether
 * its value does not start with '0'. */
BOOL memshim_env_flag(const WCHAR *name, BOOL unset);
/* The code the program's last thread ended with (0 before any): what
 * memshim's own threads end with, should they be the process's last. */
DWORD memshim_thread_exit_code(void);
/* heap_purge_thread.c: the heaps' background purge (src/heap/heap_purge.c). */
void memshim_heap_purge_init(void);
void memshim_heap_purge_stop(void);
void memshim_install_heap_hooks(void);
void memshim_install_vm_hooks(void);
void memshim_install_exception_handler(void);
/* guarded_copy.S: copy n bytes between memshim and a buffer the program
 * passed; 0 if the program's memory is not there (ERROR_NOACCESS), the
 * fault caught by memshim_install_exception_handler's handler. */
int memshim_guarded_copy(void *dst, const void *src, SIZE_T n);
/* Windows' probe of an output buffer: every page of [p, p + n) read and
 * written back through the guarded copy; FALSE if one is not writable
 * (virtual.c). */
BOOL memshim_probe_write(void *p, SIZE_T n);
/* The same for memory that is only read: FALSE if a page of it is not
 * readable. */
BOOL memshim_probe_read(const void *p, SIZE_T n);
void memshim_install_kernelbase_gmem_hooks(void);

#endif
