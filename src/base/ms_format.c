/*
 * ms_format.c - see ms_format.h. Kept deliberately small: it formats traces,
 * not user data, so it has no floating point and no locale.
 */
#include "ms_format.h"

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_number(struct out *o, uint64_t v, unsigned base, bool upper, bool negative, int width,
                       bool zero_pad, bool left)
{
    char digits[24];
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        digits[n++] = set[v % base];
        v /= base;
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (!left && !zero_pad)
        for (; width > len; width--)
            put(o, ' ');
    if (negative)
        put(o, '-');
    if (!left && zero_pad)
        for (; width > len; width--)
            put(o, '0');
    while (n)
        put(o, digits[--n]);
    if (left)
        for (; width > len; width--)
            put(o, ' ');
}

size_t ms_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        bool zero = false, left = false, alt = false;
        for (;; p++) {
            if (*p == '0')
                zero = true;
            else if (*p == '-')
                left = true;
            else if (*p == '#')
                alt = true;
            else
                break;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        int longs = 0;
        bool wide = false;
        for (;; p++) {
            if (*p == 'l')
                longs++;
            else if (*p == 'z')
                longs = 2;
            else if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
                longs = 2;
                p += 2;
            } else if (*p == 'I')     /* Microsoft's size_t modifier */
                longs = 2;
            else
                break;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = longs >= 2 ? va_arg(ap, int64_t) : longs == 1 ? (int64_t)va_arg(ap, long) : va_arg(ap, int);
            put_number(&o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, false, v < 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs >= 2 ? va_arg(ap, uint64_t)
                       : longs == 1 ? (uint64_t)va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            if (alt && v && *p != 'u') {
                put(&o, '0');
                put(&o, 'x');
            }
            put_number(&o, v, *p == 'u' ? 10 : 16, *p == 'X', false, width, zero, left);
            break;
        }
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_number(&o, (uintptr_t)va_arg(ap, void *), 16, false, false, width, zero, left);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 'S':
            wide = true;
            /* fall through */
        case 's':
            if (wide || longs == 1) {
                const uint16_t *s = va_arg(ap, const uint16_t *);
                if (!s)
                    s = u"(null)";
                for (; *s; s++)
                    put(&o, *s < 0x80 ? (char)*s : '?');
            } else {
                const char *s = va_arg(ap, const char *);
                if (!s)
                    s = "(null)";
                size_t n = strlen(s);
                if (!left)
                    for (int w = width; w > (int)n; w--)
                        put(&o, ' ');
                for (; *s; s++)
                    put(&o, *s);
                if (left)
                    for (int w = width; w > (int)n; w--)
                        put(&o, ' ');
            }
            break;
        case '%':
            put(&o, '%');
            break;
        case 0:
            p--;
            break;
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return o.len;
}

size_t ms_format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = ms_vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
