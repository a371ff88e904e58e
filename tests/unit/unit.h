/*
 * unit.h - the native unit tests' harness: TAP output, one line per check,
 * naming file:line, and an exit code that fails the test program when any
 * check failed. Header-only; the PE conformance tests have their own
 * (tests/conformance/harness.h) because they must build against windows.h.
 */
#ifndef MS_UNIT_H
#define MS_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_checks, unit_failures;

static void unit_report(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void unit_report(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    unit_checks++;
    if (!ok)
        unit_failures++;
    printf("%sok %d - %s:%d: ", ok ? "" : "not ", unit_checks, file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

#define CHECK(cond, ...) unit_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(a, b)                                                                         \
    do {                                                                                       \
        unsigned long long unit_a_ = (unsigned long long)(a), unit_b_ = (unsigned long long)(b); \
        unit_report(unit_a_ == unit_b_, __FILE__, __LINE__, "%s == %s (0x%llx vs 0x%llx)", #a, #b, \
                    unit_a_, unit_b_);                                                         \
    } while (0)

static int unit_done(void)
{
    printf("1..%d\n", unit_checks);
    if (unit_checks == 0) {
        printf("# no checks ran\n");
        return 1;
    }
    return unit_failures ? 1 : 0;
}

#endif
