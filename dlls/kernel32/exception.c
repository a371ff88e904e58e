/*
 * exception.c - guard pages on the core's memory.
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
 * Windows raises the guard violation before any handler runs, so ours must
 * stay first even when the program later adds a handler with First=1:
 * kernel32's AddVectoredExceptionHandler (normally a forwarder to ntdll) is
 * ours, and moves our handler back to the head after each such call.
 */
#include "private.h"
#include "../../src/vm/vm.h"
#include "../../src/heap/heap_debug.h"
#include "debug_heap.h"

static LONG CALLBACK guard_page_handler(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    if (rec->ExceptionCode != (DWORD)STATUS_ACCESS_VIOLATION || rec->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    uintptr_t addr = (uintptr_t)rec->ExceptionInformation[1];
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

static void *guard_handler_entry;

void memshim_install_exception_handler(void)
{
    guard_handler_entry = RtlAddVectoredExceptionHandler(1, guard_page_handler);
    if (!guard_handler_entry)
        ERR("could not install the guard-page handler; guard pages will fault as access violations\n");
}

PVOID WINAPI AddVectoredExceptionHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler)
{
    void *entry = RtlAddVectoredExceptionHandler(first, handler);
    if (entry && first && guard_handler_entry) {
        RtlRemoveVectoredExceptionHandler(guard_handler_entry);
        guard_handler_entry = RtlAddVectoredExceptionHandler(1, guard_page_handler);
    }
    return entry;
}
