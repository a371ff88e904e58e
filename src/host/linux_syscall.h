/*
 * linux_syscall.h - the raw x86-64 Linux system call instruction.
 *
 * Private to src/host/. All arguments are int64_t: under the Windows ABI
 * `long` is 32 bits, and a truncated pointer or size must never reach the
 * kernel.
 */
#ifndef MS_LINUX_SYSCALL_H
#define MS_LINUX_SYSCALL_H

#include <stdint.h>

static inline int64_t linux_syscall6(int64_t n, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,
                                     int64_t f)
{
    int64_t ret;
    register int64_t r10 __asm__("r10") = d;
    register int64_t r8 __asm__("r8") = e;
    register int64_t r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define linux_syscall3(n, a, b, c) linux_syscall6((n), (int64_t)(a), (int64_t)(b), (int64_t)(c), 0, 0, 0)

/* A raw syscall returns -errno in [-4095, -1]. */
static inline int linux_is_error(int64_t r) { return r < 0 && r > -4096; }

#define LINUX_SYS_mmap    9
#define LINUX_SYS_munmap 11
#define LINUX_MAP_PRIVATE   0x02
#define LINUX_MAP_ANONYMOUS 0x20
#define LINUX_MAP_NORESERVE 0x4000
#define LINUX_MAP_FIXED_NOREPLACE 0x100000

#endif
