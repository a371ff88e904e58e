/*
 * ms_format.h - a small printf for a world without a C runtime.
 *
 * Traces and reports are formatted in the DLL, which links no CRT. Supports
 * %d %i %u %x %X %p %s %c %% with the l, ll, z, I and I64 length modifiers,
 * a field width and the 0, - and # flags; %ls/%S print a UTF-16 string as ASCII.
 * Output is always NUL-terminated and truncated to the buffer.
 */
#ifndef MS_FORMAT_H
#define MS_FORMAT_H

#include <stdarg.h>
#include "ms_base.h"

size_t ms_vformat(char *buf, size_t size, const char *fmt, va_list ap);
size_t ms_format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
