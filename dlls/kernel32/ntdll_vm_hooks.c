/*
 * ntdll_vm_hooks.c - memshim's regions look the same on every path.
 *
 * A program or Wine DLL may reach memshim's memory through kernelbase's
 * exports (which call ntdll) or through ntdll's Nt*VirtualMemory directly:
 * programs built against the api-ms-win-core-memory sets do. Wine's answer
 * there would be its own view of memshim's arenas (one big reservation), so
 * these hooks answer for addresses the core owns, exactly as memshim's own
 * exports do, and send every other request on unchanged. The host layer is
 * then given the original entry points for its own arena reservations.
 *
 * NtReadFile, NtDeviceIoControlFile and NtFsControlFile too, for the
 * buffer they are given to fill:
 *  - a read into a copy-on-write page of a shared view must make the
 *    page's private copy, as on Windows, but the host's write into it
 *    fails (EFAULT) instead of faulting into the exception handler that
 *    makes copies (exception.c), so the copies are made before the read;
 *  - when the server writes the reply (pipes, consoles, devices, and the
 *    completion of such a request made asynchronously), Wine first checks
 *    its own page map says the buffer is writable, and in that map the
 *    core's pages are merely reserved: the buffer's allocations are made
 *    shadowed (vm_shadow), and Wine's map is kept told of their pages'
 *    protections through the originals of NtAllocateVirtualMemory and
 *    NtProtectVirtualMemory (the keeper below, src/host/host_shadow.c).
 */
#include "private.h"
#include "hotpatch.h"
#include "../../src/host/host.h"
#include "../../src/host/host_wine.h"
#include "../../src/vm/vm.h"

typedef NTSTATUS(NTAPI *nt_allocate_fn)(HANDLE, PVOID *, ULONG_PTR, SIZE_T *, ULONG, ULONG);
typedef NTSTATUS(NTAPI *nt_free_fn)(HANDLE, PVOID *, SIZE_T *, ULONG);
typedef NTSTATUS(NTAPI *nt_protect_fn)(HANDLE, PVOID *, SIZE_T *, ULONG, ULONG *);
typedef NTSTATUS(NTAPI *nt_query_fn)(HANDLE, LPCVOID, MEMSHIM_MEMORY_INFORMATION_CLASS, PVOID, SIZE_T, SIZE_T *);

static nt_allocate_fn orig_allocate;
static nt_free_fn orig_free;
static nt_protect_fn orig_protect;
static nt_query_fn orig_query;

/* The status whose RtlNtStatusToDosError is the core's Win32 error, so that
 * kernelbase reports exactly what memshim's own exports report.
 * `address_status` is the right flavour of ERROR_INVALID_ADDRESS. */
static NTSTATUS to_status(ms_status st, NTSTATUS address_status)
{
    switch (st) {
    case MS_OK:                       return STATUS_SUCCESS;
    case MS_ERROR_INVALID_ADDRESS:    return address_status;
    case MS_ERROR_NOT_ENOUGH_MEMORY:  return STATUS_NO_MEMORY;
    case MS_ERROR_COMMITMENT_LIMIT:   return STATUS_COMMITMENT_LIMIT;
    case MS_ERROR_PRIVILEGE_NOT_HELD: return STATUS_PRIVILEGE_NOT_HELD;
    case MS_ERROR_ACCESS_DENIED:      return STATUS_ACCESS_DENIED;
    case MS_ERROR_NOACCESS:           return STATUS_ACCESS_VIOLATION;
    default:                          return STATUS_INVALID_PARAMETER;
    }
}

static BOOL owned_here(HANDLE process, const void *addr)
{
    return addr && vm_owns((uintptr_t)addr) && is_current_process(process);
}

/* The address an in/out argument names, read without trusting the
 * pointer: NULL (then Wine's code answers, a bad pointer included, with
 * STATUS_ACCESS_VIOLATION as Windows) when it cannot be read. */
static void *address_in(PVOID *addr)
{
    void *value = NULL;
    if (!addr || !memshim_guarded_copy(&value, addr, sizeof(value)))
        return NULL;
    return value;
}

/* Windows probes every in/out argument for writing before it acts
 * (ProbeForWrite in a try block): one that cannot be read and written
 * fails the call with STATUS_ACCESS_VIOLATION and nothing is done. The
 * value is taken here, once, so that another thread changing it
 * meanwhile changes nothing. */
static BOOL take_inout(void *arg, void *value, SIZE_T n)
{
    return arg && memshim_probe_write(arg, n) && memshim_guarded_copy(value, arg, n);
}

/* Writes an output back; FALSE (STATUS_ACCESS_VIOLATION) if another
 * thread made it unwritable since the probe. */
static BOOL give_out(void *arg, const void *value, SIZE_T n)
{
    return memshim_guarded_copy(arg, value, n) != 0;
}

static NTSTATUS NTAPI hook_NtAllocateVirtualMemory(HANDLE process, PVOID *addr, ULONG_PTR zero_bits, SIZE_T *size,
                                                   ULONG type, ULONG protect)
{
    /* A request without an address is Wine's to place: its memory stays Wine's. */
    if (!owned_here(process, address_in(addr)))
        return orig_allocate(process, addr, zero_bits, size, type, protect);
    void *want_ptr;
    SIZE_T want_size;
    if (!take_inout(addr, &want_ptr, sizeof(want_ptr)) || !take_inout(size, &want_size, sizeof(want_size)))
        return STATUS_ACCESS_VIOLATION;
    uintptr_t want = (uintptr_t)want_ptr, base = want;
    ms_status st = vm_allocate(&base, want_size, type, protect);
    TRACE("%p %#Ix %#lx %#lx -> %u\n", want_ptr, want_size, type, protect, st);
    if (st == MS_OK) {
        SIZE_T got_size = ms_align_up(want + want_size, MS_PAGE_SIZE) - base;
        void *got = (void *)base;
        if (!give_out(size, &got_size, sizeof(got_size)) || !give_out(addr, &got, sizeof(got)))
            return STATUS_ACCESS_VIOLATION;
    }
    return to_status(st, STATUS_CONFLICTING_ADDRESSES);
}

static NTSTATUS NTAPI hook_NtFreeVirtualMemory(HANDLE process, PVOID *addr, SIZE_T *size, ULONG type)
{
    if (!owned_here(process, address_in(addr)))
        return orig_free(process, addr, size, type);
    void *want_ptr;
    SIZE_T len;
    if (!take_inout(addr, &want_ptr, sizeof(want_ptr)) || !take_inout(size, &len, sizeof(len)))
        return STATUS_ACCESS_VIOLATION;
    uintptr_t base = (uintptr_t)want_ptr;
    SIZE_T asked = len;
    ms_status st = vm_free(&base, &len, type);
    TRACE("%p %#Ix %#lx -> %u\n", want_ptr, asked, type, st);
    if (st == MS_OK) {
        void *got = (void *)base;
        if (!give_out(addr, &got, sizeof(got)) || !give_out(size, &len, sizeof(len)))
            return STATUS_ACCESS_VIOLATION;
    }
    return to_status(st, STATUS_FREE_VM_NOT_AT_BASE);
}

static NTSTATUS NTAPI hook_NtProtectVirtualMemory(HANDLE process, PVOID *addr, SIZE_T *size, ULONG protect,
                                                  ULONG *old)
{
    if (!owned_here(process, address_in(addr)))
        return orig_protect(process, addr, size, protect, old);
    void *want_ptr;
    SIZE_T want_size;
    ULONG old_value = 0;
    if (!take_inout(addr, &want_ptr, sizeof(want_ptr)) || !take_inout(size, &want_size, sizeof(want_size)) ||
        !take_inout(old, &old_value, sizeof(old_value)))
        return STATUS_ACCESS_VIOLATION;
    uintptr_t start = ms_align_down((uintptr_t)want_ptr, MS_PAGE_SIZE);
    uintptr_t end = ms_align_up((uintptr_t)want_ptr + want_size, MS_PAGE_SIZE);
    uint32_t old_protect = 0;
    ms_status st = vm_protect((uintptr_t)want_ptr, want_size, protect, &old_protect);
    TRACE("%p %#Ix %#lx -> %u\n", want_ptr, want_size, protect, st);
    if (st == MS_OK) {
        void *got = (void *)start;
        SIZE_T got_size = end - start;
        old_value = old_protect;
        /* (An output in the very pages just made read-only: Windows keeps
         * the change and fails the call, so does this.) */
        if (!give_out(addr, &got, sizeof(got)) || !give_out(size, &got_size, sizeof(got_size)) ||
            !give_out(old, &old_value, sizeof(old_value)))
            return STATUS_ACCESS_VIOLATION;
    }
    return to_status(st, STATUS_NOT_COMMITTED);
}

static NTSTATUS NTAPI hook_NtQueryVirtualMemory(HANDLE process, LPCVOID addr, MEMSHIM_MEMORY_INFORMATION_CLASS cls,
                                                PVOID buffer, SIZE_T len, SIZE_T *ret_len)
{
    /* Only the basic information is the core's; other classes (working set,
     * section names...) come from Wine's view. */
    if (cls != memshim_MemoryBasicInformation || !owned_here(process, addr))
        return orig_query(process, addr, cls, buffer, len, ret_len);
    if (len < sizeof(MEMORY_BASIC_INFORMATION))
        return STATUS_INFO_LENGTH_MISMATCH;
    if (!memshim_probe_write(buffer, sizeof(MEMORY_BASIC_INFORMATION)) ||
        (ret_len && !memshim_probe_write(ret_len, sizeof(*ret_len))))
        return STATUS_ACCESS_VIOLATION;
    struct vm_region_info info;
    if (vm_query((uintptr_t)addr, &info) != MS_OK)
        return orig_query(process, addr, cls, buffer, len, ret_len);
    MEMORY_BASIC_INFORMATION mbi;
    memshim_fill_mbi(&mbi, &info);
    SIZE_T written = sizeof(mbi);
    if (!give_out(buffer, &mbi, sizeof(mbi)) || (ret_len && !give_out(ret_len, &written, sizeof(written))))
        return STATUS_ACCESS_VIOLATION;
    return STATUS_SUCCESS;
}

typedef NTSTATUS(NTAPI *nt_read_file_fn)(HANDLE, HANDLE, PIO_APC_ROUTINE, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG,
                                         PLARGE_INTEGER, PULONG);
typedef NTSTATUS(NTAPI *nt_control_fn)(HANDLE, HANDLE, PIO_APC_ROUTINE, PVOID, PIO_STATUS_BLOCK, ULONG, PVOID, ULONG,
                                       PVOID, ULONG);
static nt_read_file_fn orig_read_file;
static nt_control_fn orig_device_control, orig_fs_control;

/* A buffer of the core about to be filled by a system call. */
static void lend_buffer(void *buffer, ULONG length)
{
    if (!buffer || !length || !vm_owns((uintptr_t)buffer))
        return;
    vm_view_copy_for_write((uintptr_t)buffer, length);
    vm_shadow((uintptr_t)buffer, length);       /* if it fails, Wine fails the call as before */
}

static NTSTATUS NTAPI hook_NtReadFile(HANDLE file, HANDLE event, PIO_APC_ROUTINE apc, PVOID apc_context,
                                      PIO_STATUS_BLOCK io, PVOID buffer, ULONG length, PLARGE_INTEGER offset,
                                      PULONG key)
{
    lend_buffer(buffer, length);
    return orig_read_file(file, event, apc, apc_context, io, buffer, length, offset, key);
}

static NTSTATUS NTAPI hook_NtDeviceIoControlFile(HANDLE file, HANDLE event, PIO_APC_ROUTINE apc, PVOID apc_context,
                                                 PIO_STATUS_BLOCK io, ULONG code, PVOID in, ULONG in_size, PVOID out,
                                                 ULONG out_size)
{
    lend_buffer(out, out_size);
    return orig_device_control(file, event, apc, apc_context, io, code, in, in_size, out, out_size);
}

static NTSTATUS NTAPI hook_NtFsControlFile(HANDLE file, HANDLE event, PIO_APC_ROUTINE apc, PVOID apc_context,
                                           PIO_STATUS_BLOCK io, ULONG code, PVOID in, ULONG in_size, PVOID out,
                                           ULONG out_size)
{
    lend_buffer(out, out_size);
    return orig_fs_control(file, event, apc, apc_context, io, code, in, in_size, out, out_size);
}

/* --- the shadow keeper: Wine's own page map --------------------------------- */

static ULONG win32_protect_of(int prot)
{
    switch (prot) {
    case HOST_PROT_READ:                                    return PAGE_READONLY;
    case HOST_PROT_READ | HOST_PROT_WRITE:                  return PAGE_READWRITE;
    case HOST_PROT_EXEC:                                    return PAGE_EXECUTE;
    case HOST_PROT_READ | HOST_PROT_EXEC:                   return PAGE_EXECUTE_READ;
    case HOST_PROT_READ | HOST_PROT_WRITE | HOST_PROT_EXEC: return PAGE_EXECUTE_READWRITE;
    default:                                                return PAGE_NOACCESS;
    }
}

/* Wine applies the protection to the host pages itself: the same one the
 * core gives them, so what the program sees does not change. */
static int keeper_commit(uintptr_t addr, size_t size, int prot)
{
    PVOID base = (PVOID)addr;
    SIZE_T len = size;
    NTSTATUS st = (orig_allocate ? orig_allocate : NtAllocateVirtualMemory)(
        CURRENT_PROCESS, &base, 0, &len, MEM_COMMIT, win32_protect_of(prot));
    return st < 0 ? -22 : 0;
}

static int keeper_protect(uintptr_t addr, size_t size, int prot)
{
    PVOID base = (PVOID)addr;
    SIZE_T len = size;
    ULONG old;
    NTSTATUS st = (orig_protect ? orig_protect : NtProtectVirtualMemory)(CURRENT_PROCESS, &base, &len,
                                                                         win32_protect_of(prot), &old);
    return st < 0 ? -22 : 0;
}

/* memshim's bare threads (bare_thread.c) are no Wine threads: a system
 * call into Wine from one would crash. Their stand-in TEB has no client id. */
static bool keeper_reachable(void)
{
    uint64_t thread_id;
    __asm__("movq %%gs:0x48, %0" : "=r"(thread_id));     /* TEB.ClientId.UniqueThread */
    return thread_id != 0;
}

static const struct host_shadow_keeper wine_page_map = { keeper_commit, keeper_protect, keeper_reachable };

void memshim_install_vm_hooks(void)
{
    bool allocate = hotpatch_export("NtAllocateVirtualMemory", (void *)hook_NtAllocateVirtualMemory,
                                    (void **)&orig_allocate);
    bool release = hotpatch_export("NtFreeVirtualMemory", (void *)hook_NtFreeVirtualMemory, (void **)&orig_free);
    /* From here on the host reserves arenas through the originals: the hooks
     * take the core's lock, which the host may be called under. */
    host_wine_use_ntdll(allocate ? (host_nt_allocate_fn)orig_allocate : NULL,
                        release ? (host_nt_free_fn)orig_free : NULL);
    if (!allocate)
        orig_allocate = NULL;
    if (!hotpatch_export("NtProtectVirtualMemory", (void *)hook_NtProtectVirtualMemory, (void **)&orig_protect))
        orig_protect = NULL;
    hotpatch_export("NtQueryVirtualMemory", (void *)hook_NtQueryVirtualMemory, (void **)&orig_query);
    /* The keeper calls the originals (or, unhooked, the exports): never the
     * hooks, which would answer for the core's own memory. */
    host_shadow_use(&wine_page_map);
    hotpatch_export("NtReadFile", (void *)hook_NtReadFile, (void **)&orig_read_file);
    hotpatch_export("NtDeviceIoControlFile", (void *)hook_NtDeviceIoControlFile, (void **)&orig_device_control);
    hotpatch_export("NtFsControlFile", (void *)hook_NtFsControlFile, (void **)&orig_fs_control);
}
