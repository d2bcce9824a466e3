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

/* The format is read through at(): from RAM, or from program memory (lpm) when `pm` is set. */
static inline char at(const char *ram, const __flash__ char *pm, uint32_t i)
{
    return pm ? pm[i] : ram[i];
}

static int vformat_any(fmt_out_t out, void *ctx, const char *ram, const __flash__ char *pm,
                       va_list ap)
{
    struct sink s = {out, ctx, 0};
    char digits[12];
    uint32_t i = 0;
#define F(k) at(ram, pm, (k))

    for (; F(i); i++) {
        if (F(i) != '%') {
            put(&s, F(i));
            continue;
        }
        uint32_t start = i++;
        int left = 0, zero = 0, width = 0;
        for (;; i++) {
            if (F(i) == '-')
                left = 1;
            else if (F(i) == '0')
                zero = 1;
            else
                break;
        }
        if (F(i) == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            i++;
        } else {
            while (F(i) >= '0' && F(i) <= '9')
                width = width * 10 + (F(i++) - '0');
        }
        while (F(i) == 'l' || F(i) == 'h')
            i++;

        char conv = F(i);
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
            for (uint32_t k = start; k <= i && F(k); k++)
                put(&s, F(k));
            if (F(i) == '\0')
                return s.count;
            break;
        }
    }
#undef F
    return s.count;
}

int fmt_vformat(fmt_out_t out, void *ctx, const char *fmt, va_list ap)
{
    return vformat_any(out, ctx, fmt, 0, ap);
}

int fmt_vformat_pm(fmt_out_t out, void *ctx, const __flash__ char *fmt, va_list ap)
{
    return vformat_any(out, ctx, 0, fmt, ap);
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
