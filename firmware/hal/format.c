/*
 * format.c - small printf-style formatter. See ft900_format.h.
 */
#include <stdint.h>
#include "ft900_format.h"

struct sink {
    fmt_out_t out;
    void *ctx;
    int count;
};

static void put(struct sink *s, char c)
{
    s->out(s->ctx, c);
    s->count++;
}

static void pad(struct sink *s, char c, int n)
{
    while (n-- > 0)
        put(s, c);
}

/* Emits `len` characters of `str` in a field of `width` (sign handled by the caller). */
static void field(struct sink *s, const char *prefix, const char *str, int len, int width,
                  int left, int zero)
{
    int plen = 0;
    while (prefix[plen])
        plen++;
    int fill = width - len - plen;
    if (!left && !zero)
        pad(s, ' ', fill);
    for (int i = 0; i < plen; i++)
        put(s, prefix[i]);
    if (!left && zero)
        pad(s, '0', fill);
    for (int i = 0; i < len; i++)
        put(s, str[i]);
    if (left)
        pad(s, ' ', fill);
}

int fmt_vformat(fmt_out_t out, void *ctx, const char *fmt, va_list ap)
{
    struct sink s = {out, ctx, 0};
    char digits[12];

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&s, *fmt);
            continue;
        }
        const char *start = fmt++;
        int left = 0, zero = 0, width = 0;
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                zero = 1;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        while (*fmt == 'l' || *fmt == 'h')
            fmt++;

        char conv = *fmt;
        switch (conv) {
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'p': {
            uint32_t v;
            const char *prefix = "";
            if (conv == 'd' || conv == 'i') {
                int32_t sv = va_arg(ap, int32_t);
                if (sv < 0) {
                    prefix = "-";
                    v = 0u - (uint32_t)sv;
                } else {
                    v = (uint32_t)sv;
                }
            } else if (conv == 'p') {
                v = (uint32_t)(uintptr_t)va_arg(ap, void *);
                prefix = "0x";
            } else {
                v = va_arg(ap, uint32_t);
            }
            unsigned base = (conv == 'd' || conv == 'i' || conv == 'u') ? 10u : 16u;
            const char *alphabet = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            int n = 0;
            do {
                digits[sizeof digits - 1 - n++] = alphabet[v % base];
                v /= base;
            } while (v != 0);
            field(&s, prefix, &digits[sizeof digits - n], n, width, left, zero);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (str == 0)
                str = "(null)";
            int n = 0;
            while (str[n])
                n++;
            field(&s, "", str, n, width, left, 0);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            field(&s, "", &c, 1, width, left, 0);
            break;
        }
        case '%':
            put(&s, '%');
            break;
        default:
            /* Unknown conversion (or the string ended): print what was there. */
            for (const char *p = start; p <= fmt && *p; p++)
                put(&s, *p);
            if (*fmt == '\0')
                return s.count;
            break;
        }
    }
    return s.count;
}

int fmt_format(fmt_out_t out, void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat(out, ctx, fmt, ap);
    va_end(ap);
    return n;
}

struct buffer {
    char *buf;
    size_t size;
    size_t len;
};

static void buffer_out(void *ctx, char c)
{
    struct buffer *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer b = {buf, size, 0};
    int n = fmt_vformat(buffer_out, &b, fmt, ap);
    if (size > 0)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
