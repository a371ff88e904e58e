/*
 * host_linux.c - raw x86-64 Linux system calls behind host.h.
 *
 * Raw `syscall` instructions rather than libc so that the very same code runs
 * natively and inside the PE DLL under Wine, where there is no libc to call
 * (and where Wine's own virtual-memory bookkeeping must be kept out of the
 * way for pages inside our reservations). `long` is 32 bits on Windows, so
 * every value that crosses the syscall boundary is int64_t.
 */
#include "host.h"
#include "linux_syscall.h"

#define SYS_read          0
#define SYS_write         1
#define SYS_open          2
#define SYS_pread64      17
#define SYS_close         3
#define SYS_fstat         5
#define SYS_mmap          9
#define SYS_mprotect     10
#define SYS_munmap       11
#define SYS_mremap       25
#define SYS_sched_yield  24
#define SYS_msync        26
#define SYS_madvise      28
#define SYS_getpid       39
#define SYS_readlink     89
#define SYS_fcntl        72
#define SYS_ftruncate    77
#define SYS_unlink       87
#define SYS_mlock       149
#define SYS_munlock     150
#define SYS_gettid      186
#define SYS_futex       202
#define SYS_clock_gettime 228
#define SYS_membarrier  324
#define SYS_memfd_create 319
#define SYS_fchmod       91

#define L_MAP_SHARED     0x01
#define L_MAP_PRIVATE    0x02
#define L_MAP_FIXED      0x10
#define L_MAP_ANONYMOUS  0x20
#define L_MAP_NORESERVE  0x4000
#define L_MREMAP_MAYMOVE 1
#define L_MREMAP_FIXED   2
#define L_MADV_DONTNEED  4
#define L_MADV_FREE      8
#define L_MADV_DONTFORK  10
#define L_MADV_DOFORK    11
#define L_MS_SYNC        4
#define L_O_RDONLY       0
#define L_O_CLOEXEC      02000000
#define L_O_RDWR         2
#define L_O_CREAT        0100
#define L_O_TRUNC        01000
#define L_O_NOFOLLOW     0400000
#define L_F_DUPFD_CLOEXEC 1030
#define L_F_ADD_SEALS    1033
#define L_F_SEAL_SHRINK  0x0002
#define L_F_SEAL_GROW    0x0004
#define L_MFD_CLOEXEC    1
#define L_MFD_ALLOW_SEALING 2
#define L_FUTEX_WAIT_PRIVATE 128
#define L_FUTEX_WAKE_PRIVATE 129
#define L_CLOCK_MONOTONIC 1
#define L_EINTR 4
#define L_EINVAL 22

#define sys3 linux_syscall3
#define sys6 linux_syscall6

static int64_t sys_mmap(uintptr_t addr, size_t size, int prot, int flags, int fd, uint64_t off)
{
    return sys6(SYS_mmap, (int64_t)addr, (int64_t)size, prot, flags, fd, (int64_t)off);
}

/* The result of a MAP_FIXED mmap is either the address or -errno. */
static int fixed_result(int64_t r, uintptr_t addr)
{
    if (linux_is_error(r))
        return (int)r;
    return (uintptr_t)r == addr ? 0 : -L_EINVAL;
}

#define L_ENOMEM 12

/* The shadow map (host_shadow.c) is told before a change that takes write
 * access away and after one that grants it: it never allows more than the
 * host page does. */
static inline void shadow_before(uintptr_t addr, size_t size, int prot)
{
    if (!(prot & HOST_PROT_WRITE))
        host_shadow_note(addr, size, prot);
}

static inline int shadow_after(int r, uintptr_t addr, size_t size, int prot)
{
    if (r == 0 && (prot & HOST_PROT_WRITE))
        host_shadow_note(addr, size, prot);
    return r;
}

int host_commit(uintptr_t addr, size_t size, int prot)
{
    if (host_fault_now())
        return -L_ENOMEM;
    shadow_before(addr, size, prot);
    int r = fixed_result(sys_mmap(addr, size, prot, L_MAP_PRIVATE | L_MAP_ANONYMOUS | L_MAP_FIXED, -1, 0), addr);
    return shadow_after(r, addr, size, prot);
}

int host_decommit(uintptr_t addr, size_t size)
{
    /* Replacing the pages is one call that both frees the memory and removes
     * access; madvise + mprotect would be two. */
    host_shadow_note(addr, size, HOST_PROT_NONE);
    return fixed_result(sys_mmap(addr, size, HOST_PROT_NONE,
                                 L_MAP_PRIVATE | L_MAP_ANONYMOUS | L_MAP_FIXED | L_MAP_NORESERVE, -1, 0),
                        addr);
}

int host_decommit_lazy(uintptr_t addr, size_t size)
{
    /* Access goes first, so that nothing can write between the two calls. */
    host_shadow_note(addr, size, HOST_PROT_NONE);
    int r = (int)sys3(SYS_mprotect, addr, size, HOST_PROT_NONE);
    if (r < 0 || sys3(SYS_madvise, addr, size, L_MADV_FREE) < 0) {
        r = host_decommit(addr, size);
        return r < 0 ? r : 1;
    }
    return 0;
}

int host_protect_undo(uintptr_t addr, size_t size, int prot)
{
    shadow_before(addr, size, prot);
    return shadow_after((int)sys3(SYS_mprotect, addr, size, prot), addr, size, prot);
}

int host_protect(uintptr_t addr, size_t size, int prot)
{
    if (host_fault_now())
        return -L_ENOMEM;
    return host_protect_undo(addr, size, prot);
}

int host_discard(uintptr_t addr, size_t size)
{
    int r = (int)sys3(SYS_madvise, addr, size, L_MADV_FREE);
    if (r == -L_EINVAL)     /* MADV_FREE needs private anonymous memory */
        r = (int)sys3(SYS_madvise, addr, size, L_MADV_DONTNEED);
    return r;
}

/* Reads the pages to be copied. Threads whose writes to them faulted are
 * waiting for this copy, but ThreadSanitizer records a store before the
 * store executes, and would report these reads as racing with stores that
 * never happened; so this reader is not instrumented (volatile: not a
 * memcpy call, which the sanitizer intercepts). */
__attribute__((no_sanitize_thread)) static void copy_faulting_pages(uint64_t *dst, const volatile uint64_t *src,
                                                                      size_t size)
{
    for (size_t i = 0; i < size / 8; i++)
        dst[i] = src[i];
}

int host_copy_to_private(uintptr_t addr, size_t size, int prot)
{
    if (host_fault_now())
        return -L_ENOMEM;
    shadow_before(addr, size, prot);
    int64_t copy = sys_mmap(0, size, HOST_PROT_READ | HOST_PROT_WRITE, L_MAP_PRIVATE | L_MAP_ANONYMOUS, -1, 0);
    if (linux_is_error(copy))
        return (int)copy;
    copy_faulting_pages((uint64_t *)(uintptr_t)copy, (const volatile uint64_t *)addr, size);
    int64_t r = 0;
    if (prot != (HOST_PROT_READ | HOST_PROT_WRITE))
        r = sys3(SYS_mprotect, copy, size, prot);
    if (linux_is_error(r)) {
        sys3(SYS_munmap, copy, (int64_t)size, 0);
        return (int)r;
    }
    r = sys6(SYS_mremap, copy, (int64_t)size, (int64_t)size, L_MREMAP_MAYMOVE | L_MREMAP_FIXED, (int64_t)addr, 0);
    if (linux_is_error(r)) {
        /* mremap may have unmapped the range before failing to move the
         * copy in (the kernel out of memory): put the copy's bytes there
         * in fresh anonymous pages instead, not atomically but not lost. */
        int64_t m = sys_mmap(addr, size, HOST_PROT_READ | HOST_PROT_WRITE,
                             L_MAP_PRIVATE | L_MAP_ANONYMOUS | L_MAP_FIXED, -1, 0);
        if (fixed_result(m, addr) == 0) {
            memcpy((void *)addr, (const void *)(uintptr_t)copy, size);
            r = prot != (HOST_PROT_READ | HOST_PROT_WRITE) ? sys3(SYS_mprotect, addr, size, prot) : 0;
            r = linux_is_error(r) ? r : (int64_t)addr;
        }
        sys3(SYS_munmap, copy, (int64_t)size, 0);
        if (linux_is_error(r))
            return (int)r;
    }
    return shadow_after((uintptr_t)r == addr ? 0 : -L_EINVAL, addr, size, prot);
}

int host_map_file(uintptr_t addr, size_t size, int prot, int fd, uint64_t offset, bool shared)
{
    if (host_fault_now())
        return -L_ENOMEM;
    int flags = (shared ? L_MAP_SHARED : L_MAP_PRIVATE) | L_MAP_FIXED;
    shadow_before(addr, size, prot);
    return shadow_after(fixed_result(sys_mmap(addr, size, prot, flags, fd, offset), addr), addr, size, prot);
}

/* pagemap entries: bit 63 present, bit 62 swapped, bit 61 file page or
 * shared anonymous. A copied page is private anonymous: present and not a
 * file page, or swapped out (only anonymous pages swap). */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE    (1ull << 61)

/* Read the pagemap entries of `count` pages from addr and classify each. */
static int read_pagemap(uintptr_t addr, size_t count, uint8_t *out, bool copied)
{
    int64_t fd = sys3(SYS_open, "/proc/self/pagemap", L_O_RDONLY | L_O_CLOEXEC, 0);
    if (fd < 0)
        return (int)fd;
    int r = 0;
    uint64_t entries[64];
    for (size_t done = 0; done < count;) {
        size_t n = count - done < 64 ? count - done : 64;
        uint64_t offset = ((addr >> 12) + done) * 8;
        int64_t got = sys6(SYS_pread64, fd, (int64_t)(uintptr_t)entries, (int64_t)(n * 8), (int64_t)offset, 0, 0);
        if (got != (int64_t)(n * 8)) {
            r = got < 0 ? (int)got : -L_EINVAL;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t e = entries[i];
            out[done + i] = copied ? ((e & PM_PRESENT) && !(e & PM_FILE)) || (e & PM_SWAPPED)
                                   : (e & (PM_PRESENT | PM_SWAPPED)) != 0;
        }
        done += n;
    }
    sys3(SYS_close, fd, 0, 0);
    return r;
}

int host_pages_copied(uintptr_t addr, size_t count, uint8_t *out)
{
    return read_pagemap(addr, count, out, true);
}

int host_pages_resident(uintptr_t addr, size_t count, uint8_t *out)
{
    return read_pagemap(addr, count, out, false);
}

#define L_MADV_WILLNEED 3

int host_prefetch(uintptr_t addr, size_t size)
{
    return (int)sys3(SYS_madvise, addr, size, L_MADV_WILLNEED);
}

int host_sync(uintptr_t addr, size_t size)
{
    return (int)sys3(SYS_msync, addr, size, L_MS_SYNC);
}

int host_isolate(uintptr_t addr, size_t size)
{
    if (host_fault_now())
        return -L_ENOMEM;
    return (int)sys3(SYS_madvise, addr, size, L_MADV_DONTFORK);
}

int host_isolate_end(uintptr_t addr, size_t size)
{
    return (int)sys3(SYS_madvise, addr, size, L_MADV_DOFORK);
}

int host_lock_pages(uintptr_t addr, size_t size)
{
    return (int)sys3(SYS_mlock, addr, size, 0);
}

int host_unlock_pages(uintptr_t addr, size_t size)
{
    return (int)sys3(SYS_munlock, addr, size, 0);
}

void host_futex_wait(volatile uint32_t *word, uint32_t expected)
{
    sys6(SYS_futex, (int64_t)(uintptr_t)word, L_FUTEX_WAIT_PRIVATE, expected, 0, 0, 0);
}

void host_futex_wait_timeout(volatile uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
    struct {
        int64_t sec, nsec;
    } relative = { (int64_t)(timeout_ns / 1000000000u), (int64_t)(timeout_ns % 1000000000u) };
    sys6(SYS_futex, (int64_t)(uintptr_t)word, L_FUTEX_WAIT_PRIVATE, expected, (int64_t)(uintptr_t)&relative, 0, 0);
}

void host_futex_wake(volatile uint32_t *word, int count)
{
    sys6(SYS_futex, (int64_t)(uintptr_t)word, L_FUTEX_WAKE_PRIVATE, count, 0, 0, 0);
}

#define SYS_rt_sigprocmask 14
#define SYS_clone          56
#define L_SIG_SETMASK      2
#define L_CLONE_BARE_THREAD (0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000)
    /* CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM | SETTLS */

int host_spawn_bare_thread(void (*fn)(void *), void *arg, void *stack_top, void *tls, void *gs_base)
{
    uint64_t all = ~0ull, old = 0;
    /* Born with every signal blocked: none meant for the process is ever
     * handled on this thread, whose runtime would not know it. */
    sys6(SYS_rt_sigprocmask, L_SIG_SETMASK, (int64_t)(uintptr_t)&all, (int64_t)(uintptr_t)&old, 8, 0, 0);
    int64_t ret;
    register int64_t r10 __asm__("r10") = 0;                   /* no child tid */
    register int64_t r8 __asm__("r8") = (int64_t)(uintptr_t)tls;
    register void (*r12)(void *) __asm__("r12") = fn;
    register void *r13 __asm__("r13") = arg;
    register void *r14 __asm__("r14") = gs_base;
    /* The child comes back from the clone on its own stack with the
     * parent's registers: it sets its GS base, calls fn(arg) in this
     * build's calling convention, and exits the thread. It never returns
     * into this function's frame. */
    __asm__ volatile("syscall\n\t"
                     "testq %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "movl $158, %%eax\n\t"                 /* arch_prctl */
                     "movl $0x1001, %%edi\n\t"              /* ARCH_SET_GS */
                     "movq %%r14, %%rsi\n\t"
                     "syscall\n\t"
                     "andq $-16, %%rsp\n\t"
#ifdef _WIN32
                     "movq %%r13, %%rcx\n\t"
                     "subq $32, %%rsp\n\t"                  /* the callee's shadow space */
#else
                     "movq %%r13, %%rdi\n\t"
#endif
                     "callq *%%r12\n\t"
                     "movl $60, %%eax\n\t"                  /* exit (this thread only) */
                     "xorl %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n\t"
                     "1:"
                     : "=a"(ret)
                     : "a"((int64_t)SYS_clone), "D"((int64_t)L_CLONE_BARE_THREAD),
                       "S"((int64_t)(uintptr_t)stack_top), "d"((int64_t)0), "r"(r10), "r"(r8), "r"(r12), "r"(r13),
                       "r"(r14)
                     : "rcx", "r11", "memory");
    sys6(SYS_rt_sigprocmask, L_SIG_SETMASK, (int64_t)(uintptr_t)&old, 0, 8, 0, 0);
    return ret < 0 ? (int)ret : 0;
}

void host_yield(void)
{
    sys3(SYS_sched_yield, 0, 0, 0);
}

#define L_MEMBARRIER_CMD_QUERY                      0
#define L_MEMBARRIER_CMD_PRIVATE_EXPEDITED          8
#define L_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16

bool host_membarrier_init(void)
{
    int64_t cmds = sys3(SYS_membarrier, L_MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & L_MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return false;
    return sys3(SYS_membarrier, L_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void host_membarrier(void)
{
    sys3(SYS_membarrier, L_MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

#ifdef _WIN32
uint32_t host_thread_slot_offset;
#else
_Thread_local void *host_thread_slot_value;
#endif

int host_gettid(void)
{
    return (int)sys3(SYS_gettid, 0, 0, 0);
}

int host_getpid(void)
{
    return (int)sys3(SYS_getpid, 0, 0, 0);
}

long host_read_small_file(const char *path, char *buf, size_t size)
{
    if (size == 0)
        return -L_EINVAL;
    int64_t fd = sys3(SYS_open, path, L_O_RDONLY | L_O_CLOEXEC, 0);
    if (fd < 0)
        return (long)fd;
    size_t len = 0;
    while (len + 1 < size) {
        int64_t n = sys3(SYS_read, fd, buf + len, size - 1 - len);
        if (n == -L_EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    sys3(SYS_close, fd, 0, 0);
    return (long)len;
}

long host_fd_path(int fd, char *buf, size_t size)
{
    char link[32] = "/proc/self/fd/";
    char digits[12];
    int n = 0, len = 14;
    if (fd < 0 || size < 2)
        return -L_EINVAL;
    do
        digits[n++] = (char)('0' + fd % 10);
    while ((fd /= 10) != 0);
    while (n)
        link[len++] = digits[--n];
    link[len] = 0;
    int64_t r = sys3(SYS_readlink, link, buf, size - 1);
    if (r < 0)
        return (long)r;
    if ((size_t)r >= size - 1)
        return -36; /* ENAMETOOLONG: maybe cut short */
    buf[r] = 0;
    return (long)r;
}

int host_fd_identity(int fd, struct host_file_identity *id)
{
    /* The x86-64 kernel's struct stat: st_dev at byte 0, st_ino at 8,
     * st_size at 48; 144 bytes in all. */
    uint64_t st[18];
    int64_t r = sys3(SYS_fstat, fd, st, 0);
    if (r < 0)
        return (int)r;
    id->device = st[0];
    id->inode = st[1];
    id->size = st[6];
    return 0;
}

long host_count_mappings(void)
{
    int64_t fd = sys3(SYS_open, "/proc/self/maps", L_O_RDONLY | L_O_CLOEXEC, 0);
    if (fd < 0)
        return (long)fd;
    char buf[4096];
    long lines = 0;
    for (;;) {
        int64_t n = sys3(SYS_read, fd, buf, sizeof buf);
        if (n == -L_EINTR)
            continue;
        if (n <= 0)
            break;
        for (int64_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    sys3(SYS_close, fd, 0, 0);
    return lines;
}

int host_close(int fd)
{
    return (int)sys3(SYS_close, fd, 0, 0);
}

int host_dup(int fd)
{
    return (int)sys3(SYS_fcntl, fd, L_F_DUPFD_CLOEXEC, 0);
}

int host_create_private_file(const char *path, size_t size)
{
    /* O_NOFOLLOW: in a world-writable directory such as /dev/shm, a symlink
     * planted under our name must not redirect the write. */
    int64_t fd = sys3(SYS_open, path, L_O_RDWR | L_O_CREAT | L_O_TRUNC | L_O_NOFOLLOW | L_O_CLOEXEC, 0600);
    if (fd < 0)
        return (int)fd;
    int64_t r = sys3(SYS_ftruncate, fd, size, 0);
    if (r < 0) {
        sys3(SYS_close, fd, 0, 0);
        sys3(SYS_unlink, path, 0, 0);
        return (int)r;
    }
    return (int)fd;
}

int host_create_anonymous_file(const char *name)
{
    int64_t fd = sys3(SYS_memfd_create, name, L_MFD_CLOEXEC | L_MFD_ALLOW_SEALING, 0);
    if (fd < 0)
        return (int)fd;
    /* A memfd starts as mode 0777: anyone handed a descriptor (through
     * /proc, which needs ptrace rights over us anyway) could open it again
     * for writing. */
    int64_t r = sys3(SYS_fchmod, fd, 0600, 0);
    if (r < 0) {
        sys3(SYS_close, fd, 0, 0);
        return (int)r;
    }
    return (int)fd;
}

int host_seal_anonymous_file_size(int fd, uint64_t size)
{
    int64_t r = sys3(SYS_ftruncate, fd, (int64_t)size, 0);
    if (r >= 0)
        r = sys3(SYS_fcntl, fd, L_F_ADD_SEALS, L_F_SEAL_SHRINK | L_F_SEAL_GROW);
    return r < 0 ? (int)r : 0;
}

int host_unlink(const char *path)
{
    return (int)sys3(SYS_unlink, path, 0, 0);
}

long host_write(int fd, const void *buf, size_t len)
{
    return (long)sys3(SYS_write, fd, buf, len);
}

uint64_t host_clock_ns(void)
{
    struct { int64_t sec, nsec; } ts = { 0, 0 };
    sys3(SYS_clock_gettime, L_CLOCK_MONOTONIC, &ts, 0);
    return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

/* --- memory facts ------------------------------------------------------- */

/* Value in kB of "Key:   1234 kB" in /proc/meminfo text, in bytes. */
static uint64_t meminfo_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = text; *p; ) {
        if (memcmp(p, key, klen) == 0 && p[klen] == ':') {
            const char *q = p + klen + 1;
            while (*q == ' ')
                q++;
            uint64_t v = 0;
            while (*q >= '0' && *q <= '9')
                v = v * 10 + (uint64_t)(*q++ - '0');
            return v * 1024;
        }
        while (*p && *p != '\n')
            p++;
        if (*p)
            p++;
    }
    return 0;
}

/* A cgroup v2 limit file holds a number or "max". */
static uint64_t cgroup_value(const char *path, uint64_t if_missing)
{
    char buf[64];
    if (host_read_small_file(path, buf, sizeof buf) <= 0 || buf[0] < '0' || buf[0] > '9')
        return if_missing;
    uint64_t v = 0;
    for (const char *q = buf; *q >= '0' && *q <= '9'; q++)
        v = v * 10 + (uint64_t)(*q - '0');
    return v;
}

int host_memory_facts(struct host_memory_facts *facts)
{
    char text[4096];
    long n = host_read_small_file("/proc/meminfo", text, sizeof text);
    if (n < 0)
        return (int)n;
    facts->total_ram = meminfo_field(text, "MemTotal");
    facts->available_ram = meminfo_field(text, "MemAvailable");
    facts->total_swap = meminfo_field(text, "SwapTotal");
    facts->free_swap = meminfo_field(text, "SwapFree");
    facts->committed = meminfo_field(text, "Committed_AS");
    /* A container's memory limit is the RAM a program can really have. */
    uint64_t limit = cgroup_value("/sys/fs/cgroup/memory.max", UINT64_MAX);
    if (limit < facts->total_ram) {
        uint64_t used = cgroup_value("/sys/fs/cgroup/memory.current", 0);
        facts->total_ram = limit;
        uint64_t avail = used < limit ? limit - used : 0;
        if (avail < facts->available_ram)
            facts->available_ram = avail;
    }
    return 0;
}
