/*
 * harness.h - header-only TAP harness for memshim's PE conformance programs.
 *
 * Each conformance program is a plain Windows console program (kernel32 +
 * the C runtime only) that checks exact Windows results and prints TAP:
 *
 *   ok 12 - virtual.c:87: VirtualQuery State 0x1000
 *   not ok 13 - virtual.c:88: got error 87, expected 487
 *   not ok 14 - heap.c:40: got error 998 # TODO known Wine deviation
 *   ok 15 # SKIP no second processor
 *   1..15
 *
 * Which kernel32 answers is found at start-up:
 *   - memshim loads Wine's builtin kernel32 under the alias
 *     "wine_kernel32.dll", so that module being present means memshim;
 *   - otherwise ntdll exporting wine_get_version means Wine's builtin;
 *   - otherwise native Windows.
 * A check wrapped in todo_wine / todo_wine_if(cond) marks a known deviation
 * of Wine's builtin kernel32 from Windows: when it fails on builtin it is
 * reported "# TODO" and does not fail the program. On memshim and on native
 * Windows the marking is ignored: every check is strict. A todo check that
 * passes on builtin is reported as a plain "ok" (with a note), because meson
 * would count an "ok ... # TODO" as an unexpected pass.
 *
 * The exit code is 0 when no strict check failed, 1 otherwise.
 *
 * Also here: probe_read/probe_write/probe_exec, which touch an address and
 * report whether it raised an access violation (or a guard-page violation),
 * without __try: a vectored exception handler resumes after the faulting
 * instruction. Call harness_init() first thing in main() and return
 * harness_done() at its end.
 */
#ifndef MEMSHIM_CONFORMANCE_HARNESS_H
#define MEMSHIM_CONFORMANCE_HARNESS_H

#ifndef __USE_MINGW_ANSI_STDIO
#define __USE_MINGW_ANSI_STDIO 1 /* C99 printf formats (%zu, %llx) in every CRT */
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include "memshim.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define HARNESS_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#define HARNESS_UNUSED __attribute__((unused))
#else
#define HARNESS_PRINTF(f, a)
#define HARNESS_UNUSED
#endif

enum harness_kernel32 { HARNESS_NATIVE, HARNESS_WINE_BUILTIN, HARNESS_MEMSHIM };

static struct
{
    int initialized;
    enum harness_kernel32 kernel32;
    const char *wine_version;
    unsigned int count;    /* checks reported so far (TAP test number) */
    unsigned int failed;   /* strict failures */
    unsigned int todo;     /* known deviations that failed on builtin */
    unsigned int skipped;
    int todo_active;       /* inside todo_wine_if(cond) with cond true */
    const char *ctx;       /* optional prefix for messages (harness_context) */
} harness;

static HARNESS_UNUSED const char *harness_kernel32_name(void)
{
    switch (harness.kernel32)
    {
    case HARNESS_MEMSHIM: return "memshim";
    case HARNESS_WINE_BUILTIN: return "wine-builtin";
    default: return "native";
    }
}

/* Running on Wine's own builtin kernel32 (the only place todo marks apply). */
static HARNESS_UNUSED int is_wine_builtin(void) { return harness.kernel32 == HARNESS_WINE_BUILTIN; }
static HARNESS_UNUSED int is_memshim(void) { return harness.kernel32 == HARNESS_MEMSHIM; }
/* Under Wine at all (builtin or memshim). */
static HARNESS_UNUSED int is_wine(void) { return harness.kernel32 != HARNESS_NATIVE; }

static HARNESS_UNUSED void harness_init(void)
{
    HMODULE ntdll;
    if (harness.initialized) return;
    harness.initialized = 1;
    /* Output goes to a file under the runner: no buffering, so that a crash
     * still leaves every line printed before it. */
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    ntdll = GetModuleHandleA("ntdll.dll");
    if (memshim_is_active())
        harness.kernel32 = HARNESS_MEMSHIM;
    else if (ntdll && GetProcAddress(ntdll, "wine_get_version"))
        harness.kernel32 = HARNESS_WINE_BUILTIN;
    else
        harness.kernel32 = HARNESS_NATIVE;
    if (ntdll)
    {
        const char *(__cdecl *get_version)(void) =
            (const char *(__cdecl *)(void))(void *)GetProcAddress(ntdll, "wine_get_version");
        harness.wine_version = get_version ? get_version() : NULL;
    }
    printf("# kernel32: %s%s%s\n", harness_kernel32_name(),
           harness.wine_version ? ", Wine " : "", harness.wine_version ? harness.wine_version : "");
}

static HARNESS_UNUSED void harness_context(const char *ctx) { harness.ctx = ctx; }

static void harness_vreport(int pass, const char *file, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    const char *base, *p;
    size_t len;
    int as_todo = 0;

    if (!harness.initialized) harness_init();
    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) msg[--len] = 0;
    /* A '#' would start a TAP directive in the description. */
    for (char *q = msg; *q; q++) if (*q == '#') *q = '%';
    for (base = p = file; *p; p++) if (*p == '/' || *p == '\\') base = p + 1;

    harness.count++;
    if (!pass && harness.todo_active && harness.kernel32 == HARNESS_WINE_BUILTIN)
        as_todo = 1;
    printf("%s %u - %s:%d: %s%s%s", pass ? "ok" : "not ok", harness.count, base, line,
           harness.ctx ? harness.ctx : "", harness.ctx ? ": " : "", msg);
    if (as_todo)
    {
        printf(" # TODO known Wine deviation\n");
        harness.todo++;
    }
    else
    {
        printf("\n");
        if (pass && harness.todo_active && harness.kernel32 == HARNESS_WINE_BUILTIN)
            printf("# note: check %u is marked as a known Wine deviation but passes on builtin\n",
                   harness.count);
        if (!pass) harness.failed++;
    }
}

static HARNESS_UNUSED HARNESS_PRINTF(4, 5)
int harness_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    harness_vreport(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

static HARNESS_UNUSED HARNESS_PRINTF(3, 4)
void harness_skip(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    size_t len;
    if (!harness.initialized) harness_init();
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) msg[--len] = 0;
    harness.count++;
    harness.skipped++;
    printf("ok %u - %s:%d # SKIP %s\n", harness.count, file, line, msg);
}

static HARNESS_UNUSED HARNESS_PRINTF(1, 2)
void trace(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printf("# %s%s", msg, (*msg && msg[strlen(msg) - 1] == '\n') ? "" : "\n");
}

/* ok(cond, fmt, ...): one check. Returns cond (so callers can skip
 * follow-ups when it failed). The condition is evaluated before the
 * message's arguments (not in the unspecified order of a call's
 * arguments): `ok(VirtualAlloc(...) != NULL, "error %lu", GetLastError())`
 * and `ok(query(p) && ..., "Protect %#lx", mbi.Protect)` report what the
 * call left, not what was there before it. */
#if defined(__GNUC__)
#define ok(cond, ...) \
    __extension__({ int harness_cond_ = !!(cond); harness_ok(harness_cond_, __FILE__, __LINE__, __VA_ARGS__); })
#else /* (no thread-local or static: either would touch GetLastError or race between threads) */
#define ok(cond, ...) harness_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#endif
#define skip(...) harness_skip(__FILE__, __LINE__, __VA_ARGS__)
/* For checks of what memshim guarantees beyond Windows and Wine (where the
 * same call corrupts or faults): true on memshim, else a skip saying why. */
#define memshim_only(why) (is_memshim() || (skip("%s", why), 0))

/* A count of the process's resources (handles, host descriptors) once it
 * has stopped moving: memshim keeps a few spare files for unnamed sections,
 * made by a thread of its own after the sections that used the last ones.
 * The count once two looks 50 ms apart agree (want < 0) or once it is
 * `want`; within ~3 s either way (then the last look). */
static HARNESS_UNUSED long harness_settled_count(long (*count)(void), long want)
{
    long last = count();
    for (int i = 0; i < 60 && last != want; i++)
    {
        Sleep(50);
        long now = count();
        if (now == last && want < 0)
            break;
        last = now;
    }
    return last;
}

static HARNESS_UNUSED int harness_todo_begin(int cond)
{
    harness.todo_active = !!cond;
    return 1;
}
static HARNESS_UNUSED int harness_todo_end(void)
{
    harness.todo_active = 0;
    return 0;
}
/* todo_wine_if(cond) ok(...);  -- or a block: todo_wine { ok(...); ok(...); }
 * Marks the check(s) as a known deviation of Wine's builtin from Windows. */
#define todo_wine_if(cond) \
    for (int harness_todo_once_ = harness_todo_begin(cond); harness_todo_once_; \
         harness_todo_once_ = harness_todo_end())
#define todo_wine todo_wine_if(1)

/* A failing call: the result is 0/NULL and GetLastError() is `err`. */
#define CHECK_FAIL(ret, err, what) \
    do { \
        ok(!(ret), "%s: should fail", what); \
        ok(GetLastError() == (err), "%s: error %lu, expected %lu", what, GetLastError(), (DWORD)(err)); \
    } while (0)

#define PAGE 0x1000            /* page size */
#define GRAN 0x10000           /* allocation granularity */

static HARNESS_UNUSED int harness_done(void)
{
    if (!harness.initialized) harness_init();
    printf("# %u checks on %s: %u failed, %u known Wine deviations failed (TODO), %u skipped\n",
           harness.count, harness_kernel32_name(), harness.failed, harness.todo, harness.skipped);
    printf("1..%u\n", harness.count);
    fflush(stdout);
    return harness.failed ? 1 : 0;
}

/* ---- memory probes: did touching an address fault? -------------------- */
#if defined(__x86_64__)
/* Each probe returns 0 when the access completed and 1 when it raised an
 * exception, which the vectored handler below turned into a jump to
 * harness_probe_fault. */
int harness_probe_read_asm(const volatile void *p);
int harness_probe_write_asm(volatile void *p, int value);
__asm__(".text\n"
        ".globl harness_probe_read_asm\n"
        "harness_probe_read_asm:\n"
        "    xorl %eax, %eax\n"
        "harness_probe_read_insn:\n"
        "    movb (%rcx), %dl\n"
        "    ret\n"
        ".globl harness_probe_write_asm\n"
        "harness_probe_write_asm:\n"
        "    xorl %eax, %eax\n"
        "harness_probe_write_insn:\n"
        "    movb %dl, (%rcx)\n"
        "    ret\n"
        "harness_probe_fault:\n"
        "    movl $1, %eax\n"
        "    ret\n"
        ".globl harness_probe_read_insn_addr\n"
        ".section .rdata,\"dr\"\n"
        ".p2align 3\n"
        "harness_probe_read_insn_addr:  .quad harness_probe_read_insn\n"
        ".globl harness_probe_write_insn_addr\n"
        "harness_probe_write_insn_addr: .quad harness_probe_write_insn\n"
        ".globl harness_probe_fault_addr\n"
        "harness_probe_fault_addr:      .quad harness_probe_fault\n"
        ".text\n");
extern const ULONG_PTR harness_probe_read_insn_addr, harness_probe_write_insn_addr, harness_probe_fault_addr;

static struct
{
    PVOID handler;
    volatile LONG exec_armed;   /* probe_exec in progress */
    ULONG_PTR exec_target;
    DWORD code;                 /* last exception code caught by a probe */
    ULONG_PTR info0, info1;     /* ExceptionInformation[0] (0 read, 1 write, 8 DEP) and [1] address */
} harness_probe;

static LONG CALLBACK harness_probe_handler(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    CONTEXT *ctx = ep->ContextRecord;
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION && rec->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION)
        return EXCEPTION_CONTINUE_SEARCH;
    if (ctx->Rip == harness_probe_read_insn_addr || ctx->Rip == harness_probe_write_insn_addr)
    {
        ctx->Rip = harness_probe_fault_addr;
    }
    else if (harness_probe.exec_armed && ctx->Rip == harness_probe.exec_target)
    {
        /* The call pushed the return address: pop it and return 1. */
        ctx->Rip = *(ULONG_PTR *)ctx->Rsp;
        ctx->Rsp += 8;
        ctx->Rax = 1;
    }
    else
        return EXCEPTION_CONTINUE_SEARCH;
    harness_probe.code = rec->ExceptionCode;
    harness_probe.info0 = rec->NumberParameters > 0 ? rec->ExceptionInformation[0] : ~(ULONG_PTR)0;
    harness_probe.info1 = rec->NumberParameters > 1 ? rec->ExceptionInformation[1] : 0;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void harness_probe_install(void)
{
    if (!harness_probe.handler) harness_probe.handler = AddVectoredExceptionHandler(1, harness_probe_handler);
    harness_probe.code = 0;
    harness_probe.info0 = harness_probe.info1 = 0;
}

/* 1 when reading the byte at p faults (access violation or guard page). */
static HARNESS_UNUSED int probe_read(const void *p)
{
    harness_probe_install();
    return harness_probe_read_asm(p);
}
/* 1 when writing `value` to the byte at p faults. */
static HARNESS_UNUSED int probe_write(void *p, unsigned char value)
{
    harness_probe_install();
    return harness_probe_write_asm(p, value);
}
/* Calls p, which must hold a `ret` (0xC3) when it is executable; 1 when
 * executing it faults (DEP / no-execute page). */
static HARNESS_UNUSED int probe_exec(const void *p)
{
    int r;
    harness_probe_install();
    harness_probe.exec_target = (ULONG_PTR)p;
    harness_probe.exec_armed = 1;
    r = ((int (*)(void))(ULONG_PTR)p)();
    harness_probe.exec_armed = 0;
    /* A plain `ret` leaves eax as it was: the call returns whatever eax held;
     * the fault path sets 1. Compare against the recorded code instead. */
    (void)r;
    return harness_probe.code != 0;
}
/* Exception code of the last fault a probe caught (0 when none). */
static HARNESS_UNUSED DWORD probe_last_code(void) { return harness_probe.code; }
static HARNESS_UNUSED ULONG_PTR probe_last_kind(void) { return harness_probe.info0; }
static HARNESS_UNUSED ULONG_PTR probe_last_address(void) { return harness_probe.info1; }
#endif /* __x86_64__ */

#endif /* MEMSHIM_CONFORMANCE_HARNESS_H */
