/*
 * host_write_watch.c - exact per-page write tracking from the kernel, for
 * GetWriteWatch: userfaultfd's asynchronous write-protect and the
 * PAGEMAP_SCAN ioctl (Linux 6.7+).
 *
 * A tracked range is registered with a userfaultfd in write-protect mode
 * and write-protected; with UFFD_FEATURE_WP_ASYNC a write does not fault to
 * anyone, the kernel just clears the page's protection bit - for writes by
 * the program and by the kernel on its behalf (read() into the buffer)
 * alike, and without splitting any mapping. PAGEMAP_SCAN then lists the
 * pages whose bit is clear (PAGE_IS_WRITTEN) and can re-protect exactly
 * those it returns (PM_SCAN_WP_MATCHING), which is WRITE_WATCH_FLAG_RESET.
 * UFFD_FEATURE_WP_UNPOPULATED makes never-touched pages count as protected.
 *
 * Unprivileged processes may only use a userfaultfd with
 * UFFD_USER_MODE_ONLY when vm.unprivileged_userfaultfd is 0 (it is here);
 * that flag is all this use needs. Debian 12's headers predate these
 * features: the constants are defined here, from the kernel's uapi.
 */
#include <stdatomic.h>
#include "host.h"
#include "linux_syscall.h"

#define SYS_userfaultfd 323
#define SYS_ioctl 16
#define SYS_open 2
#define L_O_RDONLY 0
#define L_O_CLOEXEC 02000000
#define L_O_NONBLOCK 04000
#define UFFD_USER_MODE_ONLY 1

#define UFFD_API 0xAAull
#define UFFD_FEATURE_WP_UNPOPULATED (1ull << 13)
#define UFFD_FEATURE_WP_ASYNC (1ull << 15)
#define UFFDIO_API 0xC018AA3Full            /* _IOWR(0xAA, 0x3F, struct uffdio_api) */
#define UFFDIO_REGISTER 0xC020AA00ull       /* _IOWR(0xAA, 0x00, struct uffdio_register) */
#define UFFDIO_WRITEPROTECT 0xC018AA06ull   /* _IOWR(0xAA, 0x06, struct uffdio_writeprotect) */
#define UFFDIO_REGISTER_MODE_WP 2ull
#define UFFDIO_WRITEPROTECT_MODE_WP 1ull

#define PAGEMAP_SCAN 0xC0606610ull          /* _IOWR('f', 16, struct pm_scan_arg) */
#define PM_SCAN_WP_MATCHING 1ull
#define PM_SCAN_CHECK_WPASYNC 2ull
#define PAGE_IS_WRITTEN 2ull

struct uffd_api { uint64_t api, features, ioctls; };
struct uffd_range { uint64_t start, len; };
struct uffd_register { struct uffd_range range; uint64_t mode, ioctls; };
struct uffd_writeprotect { struct uffd_range range; uint64_t mode; };
struct page_region { uint64_t start, end, categories; };
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

static _Atomic int state;       /* 0 = not probed, 1 = available, -1 = not */
static int uffd = -1, pagemap = -1;

static int64_t ioctl3(int fd, uint64_t request, void *arg)
{
    return linux_syscall3(SYS_ioctl, fd, request, arg);
}

bool host_write_watch_available(void)
{
    int s = atomic_load(&state);
    if (s)
        return s > 0;
    int fd = (int)linux_syscall3(SYS_userfaultfd, L_O_CLOEXEC | L_O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0);
    int ok = fd >= 0;
    if (ok) {
        struct uffd_api api = { UFFD_API, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, 0 };
        ok = ioctl3(fd, UFFDIO_API, &api) == 0 &&
             (api.features & (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)) ==
                 (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED);
    }
    int pm = ok ? (int)linux_syscall3(SYS_open, "/proc/self/pagemap", L_O_RDONLY | L_O_CLOEXEC, 0) : -1;
    if (ok && pm >= 0) {
        /* PAGEMAP_SCAN exists if an empty scan is accepted. */
        struct pm_scan_arg arg = { .size = sizeof arg, .start = 0x10000, .end = 0x10000,
                                   .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
        ok = ioctl3(pm, PAGEMAP_SCAN, &arg) >= 0;
    } else {
        ok = 0;
    }
    int expected = 0;
    if (ok && atomic_compare_exchange_strong(&state, &expected, 1)) {
        uffd = fd;
        pagemap = pm;
        return true;
    }
    if (fd >= 0)
        host_close(fd);
    if (pm >= 0)
        host_close(pm);
    expected = 0;
    atomic_compare_exchange_strong(&state, &expected, -1);
    return atomic_load(&state) > 0;
}

int host_write_watch_track(uintptr_t addr, size_t size)
{
    struct uffd_register reg = { { addr, size }, UFFDIO_REGISTER_MODE_WP, 0 };
    int64_t r = ioctl3(uffd, UFFDIO_REGISTER, &reg);
    return r < 0 ? (int)r : host_write_watch_reset(addr, size);
}

int host_write_watch_reset(uintptr_t addr, size_t size)
{
    struct uffd_writeprotect wp = { { addr, size }, UFFDIO_WRITEPROTECT_MODE_WP };
    return (int)ioctl3(uffd, UFFDIO_WRITEPROTECT, &wp);
}

long host_write_watch_collect(uintptr_t addr, size_t size, bool reset, uintptr_t *pages, size_t max)
{
    size_t n = 0;
    struct page_region vec[32];
    uintptr_t start = addr, end = addr + size;
    while (start < end && n < max) {
        struct pm_scan_arg arg = {
            .size = sizeof arg,
            .flags = reset ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0,
            .start = start, .end = end,
            .vec = (uint64_t)(uintptr_t)vec, .vec_len = 32,
            .max_pages = max - n,
            .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
        };
        int64_t got = ioctl3(pagemap, PAGEMAP_SCAN, &arg);
        if (got < 0)
            return (long)got;
        for (int64_t i = 0; i < got; i++)
            for (uint64_t p = vec[i].start; p < vec[i].end && n < max; p += MS_PAGE_SIZE)
                pages[n++] = (uintptr_t)p;
        /* The kernel stops at a full vector or max_pages, saying where. */
        if (arg.walk_end <= start || got < 32)
            break;
        start = (uintptr_t)arg.walk_end;
    }
    return (long)n;
}
