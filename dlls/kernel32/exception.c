/*
 * exception.c - guard pages and copy-on-write pages of shared views on the
 * core's memory.
 *
 * The core maps a PAGE_GUARD page with no access on the host; the first
 * touch faults. This vectored handler, installed first in the chain at
 * process attach, asks the core whether the fault hit a guard page; if so
 * the core has already cleared the guard, and the handler turns the access
 * violation into STATUS_GUARD_PAGE_VIOLATION for the program's own handlers,
 * exactly what Windows raises. A handler that continues execution retries
 * the access, which now succeeds. With the page heap on, other access
 * violations are offered to it for a report first (debug_heap.c).
 *
 * A shared view's page made PAGE_WRITECOPY by VirtualProtect is mapped
 * read-only on the host; its first write faults here, the core moves a
 * private copy of the page in (vm_view.c), and the write is retried
 * before any handler of the program sees it: on Windows that write simply
 * succeeds.
 *
 * Windows raises the guard violation before any handler runs, so ours must
 * stay first even when the program later adds a handler with First=1:
 * kernel32's AddVectoredExceptionHandler (normally a forwarder to ntdll) is
 * ours, and moves our handler back to the head after each such call.
 */
#include "private.h"
#include "../../src/vm/vm.h"
#include "../../src/heap/heap_debug.h"
#include "debug_heap.h"

/* guarded_copy.S: the two instructions that may fault, and where to go then. */
extern const char memshim_guarded_copy_fault_begin[], memshim_guarded_copy_fault_end[];
extern const char memshim_guarded_copy_fixup[];

static BOOL in_guarded_copy(const CONTEXT *ctx)
{
    return ctx->Rip >= (DWORD64)(uintptr_t)memshim_guarded_copy_fault_begin &&
           ctx->Rip < (DWORD64)(uintptr_t)memshim_guarded_copy_fault_end;
}

static LONG CALLBACK memory_fault_handler(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    /* A buffer of the program's that memshim copies to or from faulted:
     * the copy fails (guarded_copy.S), as Windows' probe of a system
     * call's buffer does. Wine's own guard pages arrive as guard page
     * violations. */
    if (rec->ExceptionCode == (DWORD)STATUS_GUARD_PAGE_VIOLATION && in_guarded_copy(info->ContextRecord)) {
        info->ContextRecord->Rip = (DWORD64)(uintptr_t)memshim_guarded_copy_fixup;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (rec->ExceptionCode != (DWORD)STATUS_ACCESS_VIOLATION || rec->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    uintptr_t addr = (uintptr_t)rec->ExceptionInformation[1];
    /* A write to a copy-on-write page of a shared view: the core made the
     * page's private copy, which the retried write now reaches. */
    if (rec->ExceptionInformation[0] == EXCEPTION_WRITE_FAULT && vm_view_write_fault(addr))
        return EXCEPTION_CONTINUE_EXECUTION;
    if (in_guarded_copy(info->ContextRecord)) {
        vm_guard_page_hit(addr);        /* a guard page of ours loses its guard, as Windows' probe takes it */
        info->ContextRecord->Rip = (DWORD64)(uintptr_t)memshim_guarded_copy_fixup;
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (!vm_guard_page_hit(addr)) {
        /* The page heap: say which block was hit, then let the program's
         * handlers see the access violation as it is. */
        if (MS_UNLIKELY(heap_debug_mode & HEAP_DEBUG_PAGE))
            memshim_debug_heap_fault(rec);
        return EXCEPTION_CONTINUE_SEARCH;
    }
    TRACE("guard page hit at %p\n", (void *)addr);
    rec->ExceptionCode = STATUS_GUARD_PAGE_VIOLATION;
    return EXCEPTION_CONTINUE_SEARCH;
}

static void *fault_handler_entry;

/* What the core's ReadProcessMemory/WriteProcessMemory use on the
 * program's side of a copy (vm_copy_memory). */
static bool user_copy(void *dst, const void *src, size_t n)
{
    return memshim_guarded_copy(dst, src, n) != 0;
}

void memshim_install_exception_handler(void)
{
    fault_handler_entry = RtlAddVectoredExceptionHandler(1, memory_fault_handler);
    if (fault_handler_entry)
        vm_set_user_copy(user_copy);
    else
        ERR("could not install the memory fault handler; guard pages and copy-on-write pages of shared views will fault as access violations\n");
}

PVOID WINAPI AddVectoredExceptionHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler)
{
    void *entry = RtlAddVectoredExceptionHandler(first, handler);
    if (entry && first && __atomic_load_n(&fault_handler_entry, __ATOMIC_ACQUIRE)) {
        /* Ours goes back to the head before its old entry goes, so that no
         * fault meanwhile misses it (while both are there, the second
         * one called has nothing left to do); the exchange keeps two
         * threads doing this at once from removing the same entry. */
        void *fresh = RtlAddVectoredExceptionHandler(1, memory_fault_handler);
        if (fresh) {
            void *old = __atomic_exchange_n(&fault_handler_entry, fresh, __ATOMIC_ACQ_REL);
            if (old)
                RtlRemoveVectoredExceptionHandler(old);
        }
    }
    return entry;
}
