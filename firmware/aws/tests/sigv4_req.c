/*
 * sigv4_req.c - see sigv4_req.h.
 */
#include <string.h>
#include "sigv4_req.h"

/* The end of the line that starts at p (the '\n', or end); *next = the start of the next
   line, or end. A '\r' before the '\n' is not part of the line. */
static char *line_end(char *p, char *end, char **next)
{
    char *e = p;
    while (e < end && *e != '\n')
        e++;
    *next = e < end ? e + 1 : end;
    if (e > p && e[-1] == '\r')
        e--;
    return e;
}

static int same_name(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (x == '\0')
            return 1;
    }
}

int sigv4_req_parse(char *buf, size_t len, struct sigv4_header *headers, size_t max_headers,
                    struct sigv4_req *out)
{
    char *end = buf + len, *next;
    char *tail = NULL; /* the end of the last header's value (its NUL) */
    memset(out, 0, sizeof *out);
    out->headers = headers;
    buf[len] = '\0';

    /* Request line. */
    char *e = line_end(buf, end, &next);
    char *sp1 = memchr(buf, ' ', (size_t)(e - buf));
    if (sp1 == NULL || sp1 == buf)
        return SIGV4_REQ_MALFORMED;
    char *target = sp1 + 1, *target_end = e;
    for (char *p = e; p > target; p--) {
        if (p[-1] == ' ') {
            target_end = p - 1;
            break;
        }
    }
    if (target_end == target)
        return SIGV4_REQ_MALFORMED;
    *sp1 = '\0';
    *target_end = '\0';
    out->method = buf;
    out->path = target;
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        out->query = q + 1;
    }

    /* Headers, up to an empty line or the end. */
    char *p = next;
    while (p < end) {
        e = line_end(p, end, &next);
        if (e == p) { /* empty line: the body follows */
            out->body = next;
            out->body_len = (size_t)(end - next);
            return SIGV4_REQ_OK;
        }
        if (*p == ' ' || *p == '\t') {
            /* Obsolete line folding (RFC 7230 3.2.4): the line continues the previous
               header's value, joined to it by one space. It is moved down in place, right
               after that value (which ends at `tail`), so the value stays one string. */
            if (out->header_count == 0)
                return SIGV4_REQ_MALFORMED;
            while (p < e && (*p == ' ' || *p == '\t'))
                p++;
            if (p < e) {
                while (tail > headers[out->header_count - 1].value &&
                       (tail[-1] == ' ' || tail[-1] == '\t'))
                    tail--;
                *tail++ = ' ';
                memmove(tail, p, (size_t)(e - p));
                tail += e - p;
            }
            *tail = '\0';
            p = next;
            continue;
        }
        if (out->header_count == max_headers)
            return SIGV4_REQ_TOO_MANY;
        struct sigv4_header *h = &headers[out->header_count];
        char *colon = memchr(p, ':', (size_t)(e - p));
        if (colon == NULL || colon == p)
            return SIGV4_REQ_MALFORMED;
        *colon = '\0';
        h->name = p;
        h->value = colon + 1;
        *e = '\0';
        tail = e;
        out->header_count++;
        p = next;
    }
    out->body = end;
    out->body_len = 0;
    return SIGV4_REQ_OK;
}

const char *sigv4_req_header(const struct sigv4_req *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (same_name(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}
