/*
 * http.c - HTTP/1.1 request head writer and incremental response parser. See http.h.
 */
#include <string.h>

#include "http.h"

/* ---- CRC-32 ------------------------------------------------------------------------------- */

uint32_t http_crc32(uint32_t crc, const void *data, size_t n)
{
    /* Nibble table: 64 bytes of RAM instead of 1 KiB (.rodata is in RAM on FT32). */
    static const uint32_t t[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ t[crc & 15u];
        crc = (crc >> 4) ^ t[crc & 15u];
    }
    return ~crc;
}

/* ---- request head ------------------------------------------------------------------------- */

struct out {
    char *buf;
    size_t size;
    size_t len;
    http_emit_t emit; /* instead of buf */
    void *ctx;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->emit != NULL) {
        o->emit(o->ctx, s, n);
    } else if (o->buf != NULL && o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static int clean(const char *s)
{
    if (s == NULL)
        return 0;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

static long head(const struct http_request *req, struct out *o0)
{
    if (req == NULL || !clean(req->method) || !clean(req->path) || !clean(req->host) ||
        req->method[0] == '\0' || req->path[0] != '/' || req->host[0] == '\0')
        return -1;
    for (size_t i = 0; i < req->header_count; i++)
        if (!clean(req->headers[i].name) || !clean(req->headers[i].value) ||
            req->headers[i].name[0] == '\0')
            return -1;
    struct out o = *o0;
    puts_(&o, req->method);
    put(&o, " ", 1);
    puts_(&o, req->path);
    puts_(&o, " HTTP/1.1\r\nHost: ");
    puts_(&o, req->host);
    put(&o, "\r\n", 2);
    for (size_t i = 0; i < req->header_count; i++) {
        puts_(&o, req->headers[i].name);
        put(&o, ": ", 2);
        puts_(&o, req->headers[i].value);
        put(&o, "\r\n", 2);
    }
    char num[12];
    size_t d = sizeof num;
    size_t v = req->body_len;
    do {
        num[--d] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && d > 0);
    puts_(&o, "Content-Length: ");
    put(&o, num + d, sizeof num - d);
    put(&o, "\r\n\r\n", 4);
    *o0 = o;
    return (long)o.len;
}

long http_format_head(const struct http_request *req, char *buf, size_t size)
{
    struct out o = {buf, size, 0, NULL, NULL};
    long n = head(req, &o);
    if (n >= 0 && buf != NULL && (size_t)n < size)
        buf[n] = '\0';
    return n;
}

long http_emit_head(const struct http_request *req, http_emit_t emit, void *ctx)
{
    struct out o = {NULL, 0, 0, emit, ctx};
    return emit == NULL ? -1 : head(req, &o);
}

/* ---- response parser ---------------------------------------------------------------------- */

enum {
    S_STATUS,       /* status line */
    S_HEADER,       /* header lines until the empty line */
    S_BODY_LEN,     /* Content-Length body */
    S_BODY_EOF,     /* body until the connection ends */
    S_CHUNK_SIZE,   /* chunk-size line */
    S_CHUNK_DATA,
    S_CHUNK_CRLF,   /* the CRLF after a chunk's data */
    S_TRAILER,      /* trailer lines after the last chunk */
    S_DONE,
    S_ERROR,
};

void http_response_init(struct http_response *r, char *body, size_t body_size)
{
    memset(r, 0, sizeof *r);
    r->body = body;
    r->body_size = body_size;
    if (body != NULL && body_size > 0)
        body[0] = '\0';
    r->state = S_STATUS;
    r->crc_state = 0;
}

int http_response_done(const struct http_response *r)
{
    return r->state == S_DONE;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive: does the line start with "name:"? Sets *value to the trimmed value. */
static int header_is(const char *line, size_t len, const char *name, const char **value,
                     size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)line[i]) != lower((unsigned char)name[i]))
            return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static int eq_ci(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int parse_dec(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v > 0xFFFFFFFFu)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int status_line(struct http_response *r, const char *l, size_t n)
{
    /* "HTTP/1.x SSS reason" (the reason may be empty, the space before it too). */
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
        return HTTP_ERR_STATUS;
    for (int i = 9; i < 12; i++)
        if (l[i] < '0' || l[i] > '9')
            return HTTP_ERR_STATUS;
    if (n > 12 && l[12] != ' ')
        return HTTP_ERR_STATUS;
    r->http_minor = (uint8_t)(l[7] - '0');
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (r->status < 100)
        return HTTP_ERR_STATUS;
    r->keep_alive = r->http_minor == 1; /* HTTP/1.0: close unless said otherwise */
    return 0;
}

/* One header line (without CRLF); `over`: it was longer than the line buffer. */
static int header_line(struct http_response *r, const char *l, size_t n, int over)
{
    const char *v;
    size_t vn;
    if (n == 0 || l[0] == ' ' || l[0] == '\t') /* obsolete line folding: refused */
        return HTTP_ERR_HEADER;
    if (memchr(l, ':', n) == NULL && !over)
        return HTTP_ERR_HEADER;
    int used = header_is(l, n, "content-length", &v, &vn) ||
               header_is(l, n, "transfer-encoding", &v, &vn) ||
               header_is(l, n, "date", &v, &vn) || header_is(l, n, "x-amz-crc32", &v, &vn) ||
               header_is(l, n, "x-amzn-requestid", &v, &vn) ||
               header_is(l, n, "connection", &v, &vn);
    if (!used)
        return 0;
    if (over)
        return HTTP_ERR_HEADER;
    if (header_is(l, n, "content-length", &v, &vn)) {
        uint32_t len;
        if (parse_dec(v, vn, &len) != 0 || (r->has_length && len != r->content_length))
            return HTTP_ERR_LENGTH;
        r->content_length = len;
        r->has_length = 1;
    } else if (header_is(l, n, "transfer-encoding", &v, &vn)) {
        if (!eq_ci(v, vn, "chunked"))
            return HTTP_ERR_LENGTH; /* no other coding is accepted by this client */
        r->chunked = 1;
    } else if (header_is(l, n, "date", &v, &vn)) {
        copy_value(r->date, sizeof r->date, v, vn);
    } else if (header_is(l, n, "x-amz-crc32", &v, &vn)) {
        if (parse_dec(v, vn, &r->crc32_header) != 0)
            return HTTP_ERR_HEADER;
        r->has_crc32 = 1;
    } else if (header_is(l, n, "x-amzn-requestid", &v, &vn)) {
        copy_value(r->request_id, sizeof r->request_id, v, vn);
    } else if (header_is(l, n, "connection", &v, &vn)) {
        if (eq_ci(v, vn, "close"))
            r->keep_alive = 0;
        else if (eq_ci(v, vn, "keep-alive"))
            r->keep_alive = 1;
    }
    return 0;
}

static int headers_done(struct http_response *r)
{
    if (r->chunked && r->has_length)
        return HTTP_ERR_LENGTH; /* RFC 7230 3.3.3: ambiguous framing, refuse */
    /* No body: 1xx, 204, 304 (this client never sends HEAD). */
    if ((r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304) {
        r->state = S_DONE;
        return HTTP_DONE;
    }
    if (r->chunked) {
        r->state = S_CHUNK_SIZE;
    } else if (r->has_length) {
        r->remaining = r->content_length;
        r->state = r->remaining == 0 ? S_DONE : S_BODY_LEN;
        if (r->state == S_DONE)
            return HTTP_DONE;
    } else {
        r->state = S_BODY_EOF;
        r->keep_alive = 0; /* the end of the body is the end of the connection */
    }
    return 0;
}

static int chunk_size_line(struct http_response *r, const char *l, size_t n)
{
    uint32_t v = 0;
    size_t i = 0;
    for (; i < n; i++) {
        int c = lower((unsigned char)l[i]), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            break;
        if (v > 0x0FFFFFFFu)
            return HTTP_ERR_CHUNK;
        v = v * 16u + (uint32_t)d;
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
        return HTTP_ERR_CHUNK;
    r->remaining = v;
    r->state = v == 0 ? S_TRAILER : S_CHUNK_DATA;
    return 0;
}

static void body_bytes(struct http_response *r, const char *p, size_t n)
{
    if (r->on_body != NULL && n > 0)
        r->on_body(r->on_body_ctx, p, n);
    r->crc_state = http_crc32(r->crc_state, p, n);
    r->body_crc32 = r->crc_state;
    r->body_total += (uint32_t)n;
    size_t room = r->body_size > r->body_len + 1 ? r->body_size - r->body_len - 1 : 0;
    size_t take = n < room ? n : room;
    if (take > 0) {
        memcpy(r->body + r->body_len, p, take);
        r->body_len += take;
        r->body[r->body_len] = '\0';
    }
    if (take < n)
        r->body_truncated = 1;
}

/* A complete line in r->line[0..line_len) for the line-oriented states. */
static int line_done(struct http_response *r)
{
    const char *l = r->line;
    size_t n = r->line_len;
    int over = r->line_over;
    r->line_len = 0;
    r->line_over = 0;
    switch (r->state) {
    case S_STATUS:
        if (over)
            return HTTP_ERR_STATUS;
        if (status_line(r, l, n) != 0)
            return HTTP_ERR_STATUS;
        r->state = S_HEADER;
        return 0;
    case S_HEADER:
        if (n == 0 && !over) {
            if (r->status >= 100 && r->status < 200 && r->status != 101) {
                /* An interim response (100 Continue): the real one follows. */
                http_response_init(r, r->body, r->body_size);
                return 0;
            }
            return headers_done(r);
        }
        return header_line(r, l, n, over);
    case S_CHUNK_SIZE:
        return over ? HTTP_ERR_CHUNK : chunk_size_line(r, l, n);
    case S_CHUNK_CRLF:
        if (n != 0 || over)
            return HTTP_ERR_CHUNK;
        r->state = S_CHUNK_SIZE;
        return 0;
    case S_TRAILER:
        if (n == 0 && !over) {
            r->state = S_DONE;
            return HTTP_DONE;
        }
        return 0; /* trailer fields are ignored */
    default:
        return HTTP_ERR_STATE;
    }
}

int http_response_feed(struct http_response *r, const void *data, size_t n, size_t *consumed)
{
    const char *p = data;
    size_t i = 0;
    int ret = HTTP_MORE;
    if (r->state == S_DONE || r->state == S_ERROR) {
        ret = HTTP_ERR_STATE;
        goto out;
    }
    while (i < n) {
        if (r->state == S_BODY_LEN || r->state == S_CHUNK_DATA) {
            size_t take = n - i < r->remaining ? n - i : r->remaining;
            body_bytes(r, p + i, take);
            i += take;
            r->remaining -= (uint32_t)take;
            if (r->remaining == 0) {
                if (r->state == S_BODY_LEN) {
                    r->state = S_DONE;
                    ret = HTTP_DONE;
                    goto out;
                }
                r->state = S_CHUNK_CRLF;
            }
            continue;
        }
        if (r->state == S_BODY_EOF) {
            body_bytes(r, p + i, n - i);
            i = n;
            continue;
        }
        /* Line-oriented states: collect up to LF (CR before it dropped; a bare LF accepted). */
        char c = p[i++];
        if (c == '\n') {
            if (r->line_len > 0 && r->line[r->line_len - 1] == '\r' && !r->line_over)
                r->line_len--;
            int lr = line_done(r);
            if (lr < 0) {
                r->state = S_ERROR;
                ret = lr;
                goto out;
            }
            if (lr == HTTP_DONE) {
                ret = HTTP_DONE;
                goto out;
            }
            continue;
        }
        if (r->line_len < sizeof r->line)
            r->line[r->line_len++] = c;
        else
            r->line_over = 1;
    }
out:
    if (consumed != NULL)
        *consumed = i;
    return ret;
}

int http_response_eof(struct http_response *r)
{
    if (r->state == S_BODY_EOF) {
        r->state = S_DONE;
        return HTTP_DONE;
    }
    if (r->state == S_DONE)
        return HTTP_DONE;
    r->state = S_ERROR;
    return HTTP_ERR_LENGTH;
}

const char *http_strerror(int err)
{
    switch (err) {
    case HTTP_MORE: return "incomplete";
    case HTTP_DONE: return "complete";
    case HTTP_ERR_STATUS: return "malformed status line";
    case HTTP_ERR_HEADER: return "malformed or oversized header";
    case HTTP_ERR_LENGTH: return "bad or missing body length";
    case HTTP_ERR_CHUNK: return "malformed chunked body";
    case HTTP_ERR_STATE: return "parser already finished";
    default: return "?";
    }
}

/* ---- Date --------------------------------------------------------------------------------- */

static int two(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int http_parse_date(const char *s, uint32_t *out)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters. */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (s == NULL || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        memcmp(s + 25, " GMT", 4) != 0)
        return -1;
    int day, yh, yl, hh, mm, ss, mon = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months + 3 * i, 3) == 0)
            mon = i + 1;
    if (mon < 0 || two(s + 5, &day) || two(s + 12, &yh) || two(s + 14, &yl) ||
        two(s + 17, &hh) || two(s + 20, &mm) || two(s + 23, &ss))
        return -1;
    int year = yh * 100 + yl;
    if (year < 1970 || year > 2105 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    int64_t t = (int64_t)days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
    if (t < 0 || t > 0xFFFFFFFFll)
        return -1;
    *out = (uint32_t)t;
    return 0;
}
