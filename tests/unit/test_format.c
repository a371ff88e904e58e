/*
 * test_format.c - the CRT-free formatter used for traces.
 */
#include <string.h>
#include "../../src/base/ms_format.h"
#include "unit.h"

/* Through ms_vformat: GCC's printf checks know glibc's rules, not ours
 * (%S is UTF-16 here, and a NULL %s is defined to print "(null)"). */
static size_t fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t n = ms_vformat(buf, size, f, ap);
    va_end(ap);
    return n;
}

#define FMT_IS(expect, ...)                                                   \
    do {                                                                      \
        char buf_[128];                                                       \
        fmt(buf_, sizeof buf_, __VA_ARGS__);                                  \
        CHECK(strcmp(buf_, expect) == 0, "\"%s\" == \"%s\"", buf_, expect);   \
    } while (0)

int main(void)
{
    FMT_IS("42 -7 ff FF", "%d %d %x %X", 42, -7, 255, 255);
    FMT_IS("0x1000", "%p", (void *)0x1000);
    FMT_IS("0x2a 0 0x10", "%#x %#x %#Ix", 42u, 0u, (size_t)16);
    FMT_IS("[0007] [  ab] [ab  ]", "[%04u] [%4s] [%-4s]", 7u, "ab", "ab");
    FMT_IS("18446744073709551615", "%llu", (unsigned long long)-1);
    FMT_IS("123456789012", "%zu", (size_t)123456789012ull);
    const char *null_string = NULL;
    FMT_IS("(null) 100%", "%s 100%%", null_string);
    FMT_IS("wide", "%S", u"wide");
    char small[4];
    size_t n = fmt(small, sizeof small, "%s", "abcdef");
    CHECK(n == 6 && strcmp(small, "abc") == 0, "truncates, reports the full length (%zu, %s)", n, small);
    return unit_done();
}
