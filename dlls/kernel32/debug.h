/*
 * debug.h - traces on Wine's debug channel "memshim".
 *
 * WINEDEBUG=+memshim shows every memory call the shim serves and every
 * passthrough to Wine, in Wine's usual format (0024:trace:memshim:VirtualAlloc
 * ...). FIXME and ERR are on by default, like Wine's own. The channel is
 * parsed by ntdll (__wine_dbg_get_channel_flags), so all of Wine's WINEDEBUG
 * syntax works. When a class is off, a trace costs one byte test.
 */
#ifndef MEMSHIM_DEBUG_H
#define MEMSHIM_DEBUG_H

enum memshim_dbg_class { DBG_FIXME = 0, DBG_ERR = 1, DBG_WARN = 2, DBG_TRACE = 3 };

extern unsigned char memshim_dbg_flags;       /* bit n: class n enabled */
void memshim_dbg_init(void);
void memshim_dbg_printf(enum memshim_dbg_class cls, const char *function, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line of a report for the user (statistics, leaks, page heap): straight
 * to the host's stderr (Wine's own), whatever WINEDEBUG says. At most 511
 * characters. */
void memshim_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define MEMSHIM_DBG(cls, ...)                                                \
    do {                                                                     \
        if (__builtin_expect(memshim_dbg_flags & (1u << (cls)), 0))          \
            memshim_dbg_printf(cls, __func__, __VA_ARGS__);                  \
    } while (0)

#define TRACE(...) MEMSHIM_DBG(DBG_TRACE, __VA_ARGS__)
#define WARN(...)  MEMSHIM_DBG(DBG_WARN, __VA_ARGS__)
#define FIXME(...) MEMSHIM_DBG(DBG_FIXME, __VA_ARGS__)
#define ERR(...)   MEMSHIM_DBG(DBG_ERR, __VA_ARGS__)
#define TRACE_ON() (memshim_dbg_flags & (1u << DBG_TRACE))

#endif
