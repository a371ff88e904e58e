/*
 * ms_base.h - the few definitions every part of the core shares.
 *
 * The core is portable C11 and is built twice: natively against glibc (unit
 * tests, sanitizers, benchmarks) and into the PE DLL with no C runtime at all.
 * So it uses only freestanding headers (stdint, stddef, stdbool, stdatomic)
 * and the handful of routines the compiler itself may emit calls to
 * (memcpy, memset, memmove, memcmp), which ms_mem.c provides for the PE build.
 */
#ifndef MS_BASE_H
#define MS_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_PAGE_SIZE        ((size_t)4096)
#define MS_PAGE_SHIFT       12
#define MS_GRANULARITY      ((size_t)65536)     /* Windows allocation granularity */
#define MS_GRANULE_SHIFT    16

/* Highest user-mode address of a 64-bit Windows process (and of Wine's). */
#define MS_USER_SPACE_LIMIT ((uintptr_t)0x7FFFFFFEFFFFull)
#define MS_USER_SPACE_MIN   ((uintptr_t)0x10000ull)

#define MS_LIKELY(x)   __builtin_expect(!!(x), 1)
#define MS_NOINLINE    __attribute__((noinline))
#define MS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MS_UNUSED(x)   ((void)(x))

static inline uintptr_t ms_align_down(uintptr_t v, uintptr_t a) { return v & ~(a - 1); }
static inline uintptr_t ms_align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }
static inline bool ms_is_aligned(uintptr_t v, uintptr_t a) { return (v & (a - 1)) == 0; }

/* Compiler-required routines: in the PE build these come from ms_mem.c. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
