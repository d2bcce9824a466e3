/*
 * tls_platform.c - heap, printf/snprintf, time and cycle clock for mbedTLS. See tls_platform.h.
 */
#include <stdarg.h>
#include <string.h>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"

#include "ft900_format.h"
#include "ft900_rtc.h"
#include "ft900_timer.h"
#include "ft900_uart.h"
#include "tls_platform.h"

/* ---- heap ---------------------------------------------------------------------------------- */

/* Painted into the free part of the heap at start-up; what is not this byte any more was used.
   (calloc zero-fills what it hands out, and headers are never this pattern as a whole.) */
#define HEAP_PAINT 0xA5u
/* memory_buffer_alloc's block header in mbedTLS 2.28 (library/memory_buffer_alloc.c, without
   MBEDTLS_MEMORY_BACKTRACE): 8 words. Only tls_heap_in_use() and the paint offset rely on it. */
struct mba_header {
    size_t magic1, size, alloc;
    struct mba_header *prev, *next, *prev_free, *next_free;
    size_t magic2;
};
#define MBA_MAGIC1 0xFF00AA55u
#define MBA_MAGIC2 0xEE119966u

static unsigned char *heap_start;
static size_t heap_len;

static unsigned char default_heap[TLS_HEAP_SIZE] __attribute__((aligned(4)));

void tls_heap_paint(void *heap, size_t len)
{
    if (len > sizeof(struct mba_header))
        memset((unsigned char *)heap + sizeof(struct mba_header), HEAP_PAINT,
               len - sizeof(struct mba_header));
}

size_t tls_heap_high_water_of(const void *heap, size_t len)
{
    const unsigned char *p = heap;
    size_t n = len;
    while (n > sizeof(struct mba_header) && p[n - 1] == HEAP_PAINT)
        n--;
    return n;
}

size_t tls_heap_in_use_of(const void *heap, size_t len)
{
    const unsigned char *start = heap;
    size_t used = 0;
    const struct mba_header *h = heap;
    while (h != NULL) {
        const unsigned char *at = (const unsigned char *)h;
        if (at < start || at + sizeof *h > start + len || h->magic1 != MBA_MAGIC1 ||
            h->magic2 != MBA_MAGIC2)
            return (size_t)-1;
        if (h->alloc)
            used += sizeof *h + h->size;
        h = h->next;
    }
    return used;
}

void tls_platform_init(void *heap, size_t len)
{
    unsigned char *p = heap;
    /* memory_buffer_alloc rounds the start up to MBEDTLS_MEMORY_ALIGN_MULTIPLE (4). */
    size_t skew = (4u - ((uintptr_t)p & 3u)) & 3u;
    if (len < skew + 2 * sizeof(struct mba_header))
        return;
    p += skew;
    len -= skew;
    mbedtls_memory_buffer_alloc_init(p, len);
    heap_start = p;
    heap_len = len;
    tls_heap_paint(p, len);
}

void tls_platform_init_default(void)
{
    tls_platform_init(default_heap, sizeof default_heap);
}

size_t tls_heap_size(void)
{
    return heap_len;
}

size_t tls_heap_high_water(void)
{
    return tls_heap_high_water_of(heap_start, heap_len);
}

int tls_heap_verify(void)
{
    return mbedtls_memory_buffer_alloc_verify();
}

size_t tls_heap_in_use(void)
{
    return tls_heap_in_use_of(heap_start, heap_len);
}

/* ---- printf / snprintf (mbedTLS self tests and x509 info functions) ------------------------ */

int tls_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = uart_vprintf(UART0, fmt, ap);
    va_end(ap);
    return n;
}

int tls_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- time ---------------------------------------------------------------------------------- */

static uint8_t time_known;

void tls_time_set(uint32_t unix_seconds)
{
    rtc_start(unix_seconds);
    time_known = 1;
}

int tls_time_known(void)
{
    return time_known;
}

time_t tls_time(time_t *t)
{
    time_t now = time_known ? (time_t)rtc_read() : 0;
    if (t != NULL)
        *t = now;
    return now;
}

/* UTC calendar from Unix seconds (0 .. 2^32-1, i.e. up to 2106), by the days-from-civil
   inverse of H. Hinnant's "chrono-compatible low-level date algorithms" (March-based years). */
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    if (*tt < 0 || *tt > (mbedtls_time_t)0xFFFFFFFFu)
        return NULL;
    uint32_t secs = (uint32_t)*tt;
    uint32_t days = secs / 86400u, rem = secs % 86400u;
    uint32_t z = days + 719468u;            /* days since 0000-03-01 */
    uint32_t era = z / 146097u;
    uint32_t doe = z - era * 146097u;       /* day of the 400-year era, 0..146096 */
    uint32_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    uint32_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u); /* from March 1st, 0..365 */
    uint32_t mp = (5u * doy + 2u) / 153u;   /* March = 0 */
    uint32_t mday = doy - (153u * mp + 2u) / 5u + 1u;
    uint32_t mon = mp < 10u ? mp + 3u : mp - 9u; /* 1..12 */
    uint32_t year = yoe + era * 400u + (mon <= 2u);
    int leap = (year % 4u == 0 && year % 100u != 0) || year % 400u == 0;

    memset(tm_buf, 0, sizeof *tm_buf);
    tm_buf->tm_sec = (int)(rem % 60u);
    tm_buf->tm_min = (int)(rem / 60u % 60u);
    tm_buf->tm_hour = (int)(rem / 3600u);
    tm_buf->tm_mday = (int)mday;
    tm_buf->tm_mon = (int)mon - 1;
    tm_buf->tm_year = (int)year - 1900;
    tm_buf->tm_wday = (int)((days + 4u) % 7u); /* 1970-01-01 was a Thursday */
    tm_buf->tm_yday = (int)(mon >= 3u ? doy + 59u + (uint32_t)leap : doy - 306u);
    return tm_buf;
}

/* ---- cycle clock --------------------------------------------------------------------------- */

uint32_t tls_cycles(void)
{
    uint32_t ms, count;
    do {
        ms = millis();
        count = timer_read(TIMER_A);
    } while (ms != millis());
    return ms * TIMER_TICK_CYCLES + count * TIMER_TICK_PRESCALER;
}
