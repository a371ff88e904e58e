/*
 * vm.h - the virtual memory core: regions, pages and protections of the
 * memory memshim allocated, with the rules of native Windows.
 *
 * Ownership: the core answers only for addresses inside its own arenas (see
 * vm_arena.c). For any other address a function returns VM_NOT_OWNED and
 * changes nothing; the caller (the DLL's win32 layer) then passes the request
 * through to the system (Wine's ntdll).
 *
 * Flags and protections are the Windows numbers (MEM_*, PAGE_*), defined in
 * vm_flags.h, so the win32 layer passes them through unchanged. Results are
 * Win32 error codes (ms_error.h).
 *
 * Thread safety: every function may be called from any thread at any time.
 */
#ifndef MS_VM_H
#define MS_VM_H

#include "../base/ms_base.h"
#include "../base/ms_error.h"
#include "vm_flags.h"

/* Returned when an address is not inside memory the core owns. */
#define VM_NOT_OWNED 0xFFFFFFFFu

/* What the core itself uses a region for (invisible to Windows programs,
 * which see every region as ordinary private or mapped memory). */
enum vm_usage {
    VM_USAGE_USER = 0,      /* VirtualAlloc by the program */
    VM_USAGE_HEAP = 1,      /* segment or large block of a heap (owner = heap) */
    VM_USAGE_VIEW = 2,      /* view of a section (owner = view record) */
    VM_USAGE_CODE = 3,      /* code memshim generates (ntdll hook trampolines) */
};

struct vm_region_info {                 /* MEMORY_BASIC_INFORMATION, portably */
    uintptr_t base;
    uintptr_t allocation_base;
    uint32_t allocation_protect;
    size_t region_size;
    uint32_t state;
    uint32_t protect;
    uint32_t type;
};

struct vm_allocation_info {             /* what an owned address belongs to */
    uintptr_t base;
    size_t size;
    enum vm_usage usage;
    void *owner;
};

struct vm_counters {
    uint64_t committed_bytes;           /* private commit charge of the process */
    uint64_t peak_committed_bytes;
    uint64_t reserved_bytes;            /* address space in allocations */
    uint64_t arena_bytes;               /* address space the core holds */
    uint64_t commit_limit;              /* refused beyond this */
    uint64_t views, view_bytes;         /* section views mapped now */
    uint64_t kept_bytes;                /* resident pages of released heap segments kept (vm_keep.c) */
};

/* Initialise the core; `max_address` is the highest usable address
 * (0 = the whole 64-bit user space). Idempotent. */
ms_status vm_init(uintptr_t max_address);

/* VirtualAlloc. *addr is the requested address (0 = anywhere) and receives
 * the result. */
ms_status vm_allocate(uintptr_t *addr, size_t size, uint32_t type, uint32_t protect);
/* Like vm_allocate(MEM_RESERVE|MEM_COMMIT, anywhere) for the core's own users,
 * with the region tagged; `align` is a power of two >= 64 KiB. */
ms_status vm_allocate_internal(uintptr_t *addr, size_t size, size_t align, uint32_t protect,
                               enum vm_usage usage, void *owner);
/* The same, reserving `reserve` bytes of address space of which only the
 * first `commit` are committed (room to grow in place). */
ms_status vm_reserve_internal(uintptr_t *addr, size_t reserve, size_t commit, size_t align, uint32_t protect,
                              enum vm_usage usage, void *owner);
/* Commit [base, base+size) (page-aligned) inside a region made by
 * vm_reserve_internal, with the region's protection. */
ms_status vm_commit_internal(uintptr_t base, size_t size);
/* Release a region vm_allocate_internal made (any usage), by its base;
 * MS_ERROR_INVALID_ADDRESS unless base starts such a region. */
ms_status vm_release_internal(uintptr_t base);
/* Heap segments: vm_reserve_internal that may hand back a region
 * vm_release_keep released, of the same size, protection and usage, at an
 * address aligned to `align`. Then its first *stale bytes (a page multiple,
 * committed, perhaps beyond `commit`) hold what the previous region left
 * there, not zeroes; the rest is fresh. *stale is 0 for a fresh region. */
ms_status vm_reserve_warm(uintptr_t *addr, size_t reserve, size_t commit, size_t align, uint32_t protect,
                          enum vm_usage usage, void *owner, size_t *stale);
/* vm_release_internal that keeps the host pages of the region's committed
 * prefix for a later vm_reserve_warm (a bounded few; see vm_keep.c). To
 * everything else the region is gone: VirtualQuery says MEM_FREE, a touch
 * faults, and any allocation may take the address (with fresh zero pages:
 * the kept pages are dropped then). */
ms_status vm_release_keep(uintptr_t base);
/* Give every kept page back to the host. */
void vm_keep_drop_all(void);
/* Decommit the pages of [base, base+size) (page-aligned) inside a region
 * vm_allocate_internal made; they read as zero once committed again.
 * Small runs keep their host pages until the host needs the memory
 * (MADV_FREE, which still counts them resident: cheap to commit again),
 * unless at_once (HeapOptimizeResources: the program asked for the memory
 * to go now). */
ms_status vm_decommit_internal(uintptr_t base, size_t size, bool at_once);
/* VirtualFree: MEM_DECOMMIT or MEM_RELEASE of [*addr, *addr+*size). */
ms_status vm_free(uintptr_t *addr, size_t *size, uint32_t type);
/* VirtualProtect. */
ms_status vm_protect(uintptr_t addr, size_t size, uint32_t protect, uint32_t *old_protect);
/* An access faulted at addr: if it is a guard page of the core, clear its
 * guard (restoring its protection) and return true - the caller then reports
 * STATUS_GUARD_PAGE_VIOLATION, as Windows does on the first touch. */
bool vm_guard_page_hit(uintptr_t addr);
/* A write faulted at addr: if it hit a copy-on-write page of a shared
 * view, the page now holds a private copy (PAGE_READWRITE, as Windows
 * reports a written copy-on-write page) and the write can be retried;
 * also true if another thread made that copy meanwhile. */
bool vm_view_write_fault(uintptr_t addr);
/* The host is about to write into [addr, addr + size) for the program (a
 * file read into it): copy the copy-on-write pages of shared views there
 * first, as the host's own write fails instead of faulting. Costs one
 * relaxed load unless some shared view ever had copy-on-write pages. */
void vm_view_copy_for_write(uintptr_t addr, size_t size);
/* Before [addr, addr+size) is lent to I/O whose reply another keeper of
 * page protections checks (under Wine: a pipe or device read, an ioctl's
 * output): have the host keep that keeper told of the protections of the
 * allocations there until they are released (vm_shadow.c). Addresses not
 * the core's are skipped. MS_ERROR_INVALID_PARAMETER without a keeper. */
ms_status vm_shadow(uintptr_t addr, size_t size);
/* Is the allocation at addr shadowed? (Tests.) */
bool vm_shadowed(uintptr_t addr);
/* Write watch (MEM_WRITE_WATCH allocations): can the host track writes
 * exactly? If not, vm_allocate refuses MEM_WRITE_WATCH with
 * MS_ERROR_NOT_SUPPORTED and the caller uses another implementation. */
bool vm_write_watch_supported(void);
/* GetWriteWatch: up to *count addresses of written pages of the range, in
 * order; *count receives how many. `reset` = WRITE_WATCH_FLAG_RESET. */
ms_status vm_get_write_watch(uintptr_t addr, size_t size, bool reset, uintptr_t *pages, size_t *count);
/* ResetWriteWatch. */
ms_status vm_reset_write_watch(uintptr_t addr, size_t size);
/* VirtualLock / VirtualUnlock of committed pages of one allocation. */
ms_status vm_lock(uintptr_t addr, size_t size);
ms_status vm_unlock(uintptr_t addr, size_t size);
/* IsBadReadPtr/IsBadWritePtr: MS_OK if every byte of [addr, addr+size) is
 * readable (writable), MS_ERROR_NOACCESS if not, VM_NOT_OWNED if the range
 * is not all inside the core's arenas. A guard page in the range counts as
 * bad and is tripped (its guard cleared), as the probe's access would on
 * Windows. */
ms_status vm_check_access(uintptr_t addr, size_t size, bool write);
/* ReadProcessMemory/WriteProcessMemory on the current process: copy between
 * owned memory at `addr` and a buffer, page by page as long as the pages
 * allow it. A write goes by the first page, as on Windows: code there
 * (PAGE_EXECUTE, PAGE_EXECUTE_READ) is made writable for the copy, as far
 * as its run goes; a first page that is not writable otherwise fails with
 * MS_ERROR_NOACCESS, nothing written. *done receives the bytes copied;
 * MS_ERROR_PARTIAL_COPY if a later page stopped it, VM_NOT_OWNED if the
 * range is not all in the core's arenas (nothing copied then). */
ms_status vm_copy_memory(uintptr_t addr, void *buffer, size_t size, bool write, size_t *done);
/* How vm_copy_memory touches the caller's buffer: a copy that returns false
 * instead of faulting when that memory is not there (the DLL's guarded
 * copy); then a read fails with MS_ERROR_NOACCESS and a write with
 * MS_ERROR_PARTIAL_COPY, as Windows' ReadProcessMemory and
 * WriteProcessMemory do. NULL: memcpy (the native build's). Set before any
 * copy runs. */
typedef bool (*vm_user_copy_fn)(void *dst, const void *src, size_t n);
void vm_set_user_copy(vm_user_copy_fn fn);
/* VirtualQuery. */
ms_status vm_query(uintptr_t addr, struct vm_region_info *info);
/* Reserve address space for a view and map a host file descriptor there. */
ms_status vm_map_view(uintptr_t *addr, size_t size, uint32_t protect, int fd, uint64_t offset, bool shared,
                      bool top_down, void *owner);
/* Unmap the view containing addr; *owner receives its owner pointer.
 * MS_ERROR_INVALID_ADDRESS if addr is owned but not in a view. */
ms_status vm_unmap_view(uintptr_t addr, void **owner);
/* Write back dirty pages of the view containing addr (size 0: to its end). */
ms_status vm_sync_view(uintptr_t addr, size_t size);

/* The highest address the core gives out + 1 (2 GiB for programs that are
 * not large-address aware). */
uintptr_t vm_max_address(void);
/* GetLargePageMinimum: the large-page size of x86-64, 2 MiB. (Allocations
 * with MEM_LARGE_PAGES are refused: no Wine process holds
 * SeLockMemoryPrivilege.) */
size_t vm_large_page_minimum(void);
/* PrefetchVirtualMemory of owned memory: a hint to the host. */
ms_status vm_prefetch(uintptr_t addr, size_t size);

/* Is addr inside an allocation of the core? Fills *info when it is. */
bool vm_lookup(uintptr_t addr, struct vm_allocation_info *info);
/* Is addr inside an arena of the core (allocated or not)? */
bool vm_owns(uintptr_t addr);

void vm_get_counters(struct vm_counters *counters);
/* Only committed_bytes, reserved_bytes and commit_limit of them, read
 * without the map's lock while no writer is inside (GlobalMemoryStatusEx:
 * two atomic operations fewer on every call). */
void vm_get_commit_counters(struct vm_counters *counters);
/* The commit limit in bytes (RAM and swap, or the override below). */
uint64_t vm_commit_limit(void);
/* Override the commit limit (tests; 0 = back to the host's). */
void vm_set_commit_limit(uint64_t bytes);

/* Host mapping budget (vm_maps.c): pretend vm.max_map_count is this
 * (tests; 0 = the host's again), and the core's estimate of the process's
 * mappings now. */
void vm_set_map_limit(long max_map_count);
long vm_map_estimate(void);

/* Check every invariant of the map; returns a description of the first
 * broken one or NULL. For tests. */
const char *vm_check_invariants(void);

#endif
