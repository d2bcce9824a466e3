/*
 * ft900_format.h - a small printf-style formatter (no floating point, no stdio).
 *
 * Conversions: %d %i %u %x %X %s %c %p %%. Flags: '-' (left-justify), '0' (zero-pad).
 * Field width: digits or '*'. Length modifiers 'l' and 'h' are accepted and ignored
 * (int and long are both 32 bits on FT32). Anything else is printed as it is.
 */
#ifndef FT900_FORMAT_H
#define FT900_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Where formatted characters go. */
typedef void (*fmt_out_t)(void *ctx, char c);

/* Formats to `out`; returns the number of characters produced. */
int fmt_vformat(fmt_out_t out, void *ctx, const char *fmt, va_list ap);
/* The same with the format in program memory (__flash__: read with lpm, no RAM). */
int fmt_vformat_pm(fmt_out_t out, void *ctx, const __flash__ char *fmt, va_list ap);
int fmt_format(fmt_out_t out, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats into `buf` (always NUL-terminated when size > 0); returns the length the full
   result would have, like C99 snprintf. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* FT900_FORMAT_H */
