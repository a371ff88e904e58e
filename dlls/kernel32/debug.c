/*
 * debug.c - the "memshim" Wine debug channel (see debug.h).
 *
 * Wine's PE ntdll exports the channel machinery (__wine_dbg_*); they are
 * looked up at run time so that the DLL still loads, silently, on a Wine
 * that lacks them.
 */
#include <stdarg.h>
#include "private.h"
#include "../../src/base/ms_format.h"
#include "../../src/host/host.h"

struct wine_debug_channel {
    unsigned char flags;
    char name[15];
};

/* Until the channel is read: FIXME and ERR on, as Wine's default. */
unsigned char memshim_dbg_flags = (1u << DBG_FIXME) | (1u << DBG_ERR);

static struct wine_debug_channel channel = { 0xff, "memshim" };
static unsigned char(__cdecl *get_channel_flags)(struct wine_debug_channel *);
static int(__cdecl *dbg_header)(int cls, struct wine_debug_channel *, const char *function);
static int(__cdecl *dbg_output)(const char *str);

void memshim_dbg_init(void)
{
    get_channel_flags = (void *)ntdll_proc("__wine_dbg_get_channel_flags");
    dbg_header = (void *)ntdll_proc("__wine_dbg_header");
    dbg_output = (void *)ntdll_proc("__wine_dbg_output");
    if (!get_channel_flags || !dbg_header || !dbg_output) {
        memshim_dbg_flags = 0;
        return;
    }
    memshim_dbg_flags = get_channel_flags(&channel);
}

void memshim_dbg_printf(enum memshim_dbg_class cls, const char *function, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (!dbg_header || dbg_header(cls, &channel, function) == -1)
        return;
    va_start(ap, fmt);
    ms_vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dbg_output(buf);
}

void memshim_report(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = ms_vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    host_write(2, line, n < sizeof line ? n : sizeof line - 1);
}
