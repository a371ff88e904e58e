/*
 * host.h - the only door from the core to the operating system.
 *
 * Everything the core needs from the host goes through these functions; no
 * other file of src/ makes a system call. The implementation issues raw
 * x86-64 Linux system calls, which works both natively and from PE code
 * running under Wine (Wine threads are Linux threads). Address-space
 * reservation is the exception: under Wine it must go through ntdll so that
 * Wine knows the range is taken (see host_reserve_wine.c).
 *
 * Contracts common to all functions:
 *  - addresses and sizes are page-aligned (the callers guarantee it);
 *  - a failure returns a negative Linux errno and changes nothing the caller
 *    can observe, except where a function says otherwise;
 *  - all functions are thread-safe and async-signal-safe.
 */
#ifndef MS_HOST_H
#define MS_HOST_H

#include "../base/ms_base.h"

/* Host protections (Linux PROT_* values). */
#define HOST_PROT_NONE  0
#define HOST_PROT_READ  1
#define HOST_PROT_WRITE 2
#define HOST_PROT_EXEC  4

/* --- address space ----------------------------------------------------- */

/* Reserve [*addr, *addr+size) with no access. If *addr is 0 the host picks
 * an address aligned to `align` (a power of two >= 64 KiB); top_down asks
 * for the highest free range. Reserved memory is invisible to the allocator
 * of the host environment (Wine will not place anything there). */
int host_reserve(uintptr_t *addr, size_t size, size_t align, bool top_down, uintptr_t limit);
/* Give a whole reservation made by host_reserve back. */
int host_unreserve(uintptr_t addr, size_t size);

/* Make pages inside a reservation accessible with fresh zero pages. */
int host_commit(uintptr_t addr, size_t size, int prot);
/* Drop the contents of pages and make them inaccessible again; the range
 * stays reserved and its memory goes back to the host. */
int host_decommit(uintptr_t addr, size_t size);
/* Decommit cheaply: the pages lose their access now and their memory when
 * the host needs it (MADV_FREE); their old contents may survive, so they
 * must be zeroed when committed again. Returns 0 for that, 1 if the pages
 * were replaced instead (fresh zero pages on the next commit, as after
 * host_decommit), or a negative errno. */
int host_decommit_lazy(uintptr_t addr, size_t size);
/* Change the protection of committed pages. */
int host_protect(uintptr_t addr, size_t size, int prot);
/* host_protect for undoing a change a failed call made: never a target of
 * fault injection (a real failure here leaves the new protection, which
 * the caller then records). */
int host_protect_undo(uintptr_t addr, size_t size, int prot);
/* Tell the host the contents of the pages may be discarded (MEM_RESET). */
int host_discard(uintptr_t addr, size_t size);
/* Map `size` bytes of file descriptor `fd` at `offset` over reserved pages;
 * shared (writes reach the file) or private (copy-on-write). */
int host_map_file(uintptr_t addr, size_t size, int prot, int fd, uint64_t offset, bool shared);
/* Replace the pages at [addr, addr + size) by private anonymous pages
 * holding the same bytes (the range must be readable), with protection
 * `prot`. Other threads see the old pages or the copy, never anything in
 * between: the copy is made aside and moved over the range in one call
 * (mremap). Copy-on-write by hand, for a page of a shared file mapping. */
int host_copy_to_private(uintptr_t addr, size_t size, int prot);
/* For `count` pages of a private file mapping from addr: out[i] = 1 if the
 * page holds a private copy (it was written: copy-on-write happened), 0 if
 * it still shows the file. Reads /proc/self/pagemap. */
int host_pages_copied(uintptr_t addr, size_t count, uint8_t *out);
/* For `count` pages from addr: out[i] = 1 if the page has a page frame in
 * memory or in swap (its contents exist), 0 if it has none (never touched,
 * or taken back by the host: it reads as zero). Reads /proc/self/pagemap. */
int host_pages_resident(uintptr_t addr, size_t count, uint8_t *out);
/* Ask the host to read the pages in ahead of use (PrefetchVirtualMemory). */
int host_prefetch(uintptr_t addr, size_t size);
/* Write dirty pages of a file mapping back to the file. */
int host_sync(uintptr_t addr, size_t size);
/* Keep [addr, addr + size) a host mapping of its own whatever the
 * protection of its neighbours (madvise DONTFORK: the range is then never
 * merged with them). A run whose protection a program toggles again and
 * again then costs one mprotect per change, instead of a split and a merge
 * of mappings each time (~3x). host_isolate_end undoes it. The range is
 * not inherited by a fork()ed child, which Wine only uses to exec. */
int host_isolate(uintptr_t addr, size_t size);
int host_isolate_end(uintptr_t addr, size_t size);
int host_lock_pages(uintptr_t addr, size_t size);
int host_unlock_pages(uintptr_t addr, size_t size);

/* --- the shadow map (host_shadow.c) ----------------------------------------
 * A second keeper of page protections (Wine's ntdll, which checks its own
 * before the server writes a reply into a buffer) told the protection of
 * every page of the shadowed ranges: once by the core at host_shadow_begin
 * (host_shadow_set per run), then by every host function above that
 * changes a page of them (host_commit, host_decommit, host_decommit_lazy,
 * host_protect, host_protect_undo, host_map_file, host_copy_to_private),
 * never granting the keeper more than the host page allows. */
struct host_shadow_keeper {
    /* Make the keeper see [addr, addr+size) committed with host protection
     * prot (pages it believed reserved included); 0 or a negative errno. */
    int (*commit)(uintptr_t addr, size_t size, int prot);
    /* Change the protection the keeper sees for committed pages. */
    int (*protect)(uintptr_t addr, size_t size, int prot);
    /* Can the calling thread call the two above now? NULL: always. Notes
     * made on a thread that cannot wait in order for one that can. */
    bool (*reachable)(void);
};
/* Install the keeper (NULL: none; shadowing then fails with -ENOSYS). */
void host_shadow_use(const struct host_shadow_keeper *keeper);
bool host_shadow_available(void);
/* Start shadowing [base, base+size), which must not overlap a shadowed
 * range (-EEXIST); -ENOMEM when the table (65536 ranges) is full. The caller then tells
 * the keeper each page's protection with host_shadow_set, holding off
 * changes to the range meanwhile (the core: under its map lock). */
int host_shadow_begin(uintptr_t base, size_t size);
int host_shadow_set(uintptr_t addr, size_t size, int prot);
/* Stop shadowing the ranges inside [base, base+size) (the keeper keeps the
 * last protections it was told). */
void host_shadow_end(uintptr_t base, size_t size);
bool host_shadowed(uintptr_t addr);
/* Allow fewer shadowed ranges than the table holds (65536; tests; 0 restores). */
void host_shadow_set_limit(size_t ranges);
/* Tell the keeper, for the shadowed part of [addr, addr+size), that its
 * pages now have (or are about to have) host protection prot. */
void host_shadow_note(uintptr_t addr, size_t size, int prot);
/* Tell the keeper the notes waiting for a thread that reaches it (a no-op
 * on a thread that does not). */
void host_shadow_flush(void);
size_t host_shadow_queued(void);
/* Ranges shadowed now, and notes ever dropped on a full queue (statistics). */
size_t host_shadow_ranges(void);
uint64_t host_shadow_lost(void);

/* --- threads ------------------------------------------------------------ */

/* Sleep while *word == expected (spurious wake-ups are allowed). */
void host_futex_wait(volatile uint32_t *word, uint32_t expected);
/* The same, for at most timeout_ns nanoseconds. */
void host_futex_wait_timeout(volatile uint32_t *word, uint32_t expected, uint64_t timeout_ns);
void host_futex_wake(volatile uint32_t *word, int count);
void host_yield(void);
/* A thread of the process that its runtime (Wine, or libc natively) knows
 * nothing of: made by a raw clone, on the caller's `stack_top` (16-byte
 * aligned, the memory the caller's for good: the thread never frees it),
 * with the Linux thread pointer `tls` (whose first word must hold its own
 * address: host_thread_key) and, under Wine, `gs_base` as its TEB (zeroed
 * memory of at least 8 KiB whose 0x30 holds its own address: no TLS slot
 * set, no last error). It runs fn(arg), then exits itself. Every signal is
 * blocked on it, and it may call nothing but the core and the host layer:
 * no Wine or libc function, no Windows API (no TEB of Wine's, no libc
 * thread). Costs no thread of Wine's (~1 MiB resident each here) and does
 * not keep the process alive when Wine's threads are gone. 0 or -errno. */
int host_spawn_bare_thread(void (*fn)(void *), void *arg, void *stack_top, void *tls, void *gs_base);
/* Process-wide memory barrier (membarrier(2), private expedited): when it
 * returns, every other thread of the process has passed a full memory
 * barrier, so a fast path elsewhere may order its store->load pair with a
 * compiler barrier only (asymmetric Dekker; used by the heap's thread-owned
 * shards). host_membarrier_init registers the process once and says
 * whether the kernel offers it; host_membarrier must not be called when it
 * said no. Costs an IPI per CPU running this process: a rare-path tool. */
bool host_membarrier_init(void);
void host_membarrier(void);
/* A value unique to the calling thread, read without a system call (the
 * Linux thread pointer; under Wine that is the host thread's, which Wine
 * leaves in place). For spreading threads over locks, not for identity
 * checks: a value may be reused after its thread exits. */
static inline uintptr_t host_thread_key(void)
{
    uintptr_t key;
    __asm__("movq %%fs:0, %0" : "=r"(key));
    return key;
}
int host_gettid(void);
int host_getpid(void);

/* One pointer of storage private to each thread, read with a single load:
 * the heap keeps the calling thread's shard there. Natively a C11
 * thread-local; in the PE DLL a TLS slot of the TEB, whose offset the DLL
 * sets once at load (host_thread_slot_setup; 0: no slot, get returns NULL
 * and set does nothing). A thread's slot starts out NULL. */
#ifdef _WIN32
extern uint32_t host_thread_slot_offset;
static inline void host_thread_slot_setup(uint32_t teb_offset)
{
    host_thread_slot_offset = teb_offset;
}
static inline void *host_thread_slot_get(void)
{
    void *value = NULL;
    if (host_thread_slot_offset)
        __asm__("movq %%gs:(%1), %0" : "=r"(value) : "r"((uintptr_t)host_thread_slot_offset));
    return value;
}
static inline void host_thread_slot_set(void *value)
{
    if (host_thread_slot_offset)
        __asm__ volatile("movq %0, %%gs:(%1)" : : "r"(value), "r"((uintptr_t)host_thread_slot_offset) : "memory");
}
#else
extern _Thread_local void *host_thread_slot_value;
static inline void *host_thread_slot_get(void)
{
    return host_thread_slot_value;
}
static inline void host_thread_slot_set(void *value)
{
    host_thread_slot_value = value;
}
#endif

/* --- files and system facts --------------------------------------------- */

/* Read up to size-1 bytes of a (small) file such as /proc/meminfo into buf,
 * NUL-terminated. Returns the length read or a negative errno. */
long host_read_small_file(const char *path, char *buf, size_t size);
int host_close(int fd);
/* Duplicate a descriptor (close-on-exec). */
int host_dup(int fd);
/* Create (or truncate) the file at `path` with mode 0600, refusing to follow
 * a symlink there, and size it to `size` zero bytes. Returns a read-write,
 * close-on-exec descriptor or a negative errno (nothing is left behind if
 * the sizing fails). The file is the caller's to unlink. */
int host_create_private_file(const char *path, size_t size);
/* A new, empty file with no name in any directory (memfd). Mode 0600,
 * reachable only through its descriptors, which die with their holders.
 * Returns a read-write, close-on-exec descriptor or a negative errno. It
 * is meant to be sized once, by host_seal_anonymous_file_size, before
 * anything maps it. */
int host_create_anonymous_file(const char *name);
/* Make host_create_anonymous_file's file `size` zero bytes long for good:
 * sealed against growing and shrinking, so that no holder of a descriptor
 * can cut it under a mapping. 0, or a negative errno (-EPERM once sealed). */
int host_seal_anonymous_file_size(int fd, uint64_t size);
/* Remove a file (host_create_private_file's). */
int host_unlink(const char *path);
/* The path of the file a descriptor is open on (/proc/self/fd), NUL-
 * terminated; its length, or a negative errno (-ENAMETOOLONG if it does
 * not fit). A deleted file's path ends in " (deleted)". */
long host_fd_path(int fd, char *buf, size_t size);

/* Which file a descriptor is open on (fstat): device and inode name the
 * file, as long as something keeps it alive; size is its current length. */
struct host_file_identity {
    uint64_t device;
    uint64_t inode;
    uint64_t size;
};
/* 0, or a negative errno (-EBADF for a closed descriptor). */
int host_fd_identity(int fd, struct host_file_identity *id);

struct host_memory_facts {
    uint64_t total_ram;         /* bytes of RAM (or the cgroup limit, if lower) */
    uint64_t available_ram;     /* bytes still available to programs */
    uint64_t total_swap;
    uint64_t free_swap;
    uint64_t committed;         /* system-wide commit charge (Committed_AS) */
};
int host_memory_facts(struct host_memory_facts *facts);

/* The CPU's time-stamp counter: a clock that costs no system call, in
 * cycles of an unspecified (constant) rate - for "has time passed" checks. */
static inline uint64_t host_cycles(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* How many mappings the process has now (lines of /proc/self/maps), or a
 * negative errno. Linux allows vm.max_map_count of them. */
long host_count_mappings(void);

/* Monotonic clock in nanoseconds (vDSO-free syscall: only for rare use). */
uint64_t host_clock_ns(void);

/* --- write watch (host_write_watch.c) -------------------------------------- */

/* Can the kernel track writes per page for us (userfaultfd WP_ASYNC and
 * PAGEMAP_SCAN)? Probed once. The functions below need it. */
bool host_write_watch_available(void);
/* Start tracking committed pages (again after they were remapped). */
int host_write_watch_track(uintptr_t addr, size_t size);
/* Forget the writes to the pages: they count as unwritten again. */
int host_write_watch_reset(uintptr_t addr, size_t size);
/* Store the addresses of up to `max` written pages of the range, in order;
 * with `reset`, the pages returned count as unwritten afterwards. Returns
 * how many were stored, or a negative errno. */
long host_write_watch_collect(uintptr_t addr, size_t size, bool reset, uintptr_t *pages, size_t max);

/* --- fault injection (tests) --------------------------------------------- */

/* From now on every `every`-th call of host_reserve, host_commit,
 * host_protect and host_map_file fails with ENOMEM, as a host out of memory
 * or out of mappings would; 0 turns it off. (Decommitting and releasing
 * never fail on purpose: Windows callers cannot handle that either.) */
void host_inject_faults(unsigned every);
/* True when the current call is one that must fail (used by the host files). */
bool host_fault_now(void);

/* Write to a file descriptor (diagnostics). */
long host_write(int fd, const void *buf, size_t len);

#endif
