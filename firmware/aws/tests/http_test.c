/*
 * http_test.c - host unit test of aws/http.c: the request head (exact Content-Length, nothing
 * after the empty line, CR/LF injection refused, sizing), the response parser on whole
 * responses fed in every split, chunked bodies, bodies larger than the buffer, keep-alive, and
 * bad or truncated input; CRC-32 and Date parsing.
 */
#include <stdint.h>
#include <string.h>

#include "host_check.h"
#include "http.h"

static char body[64];
static struct http_response r;

/* Feeds `text` in pieces of `step` bytes; returns the final result and the bytes consumed. */
static int feed(const char *text, size_t len, size_t step, size_t *used)
{
    http_response_init(&r, body, sizeof body);
    size_t pos = 0;
    int ret = HTTP_MORE;
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step;
        size_t c = 0;
        ret = http_response_feed(&r, text + pos, n, &c);
        pos += c;
        if (ret != HTTP_MORE)
            break;
    }
    if (used)
        *used = pos;
    return ret;
}

static const char OK[] =
    "HTTP/1.1 200 OK\r\n"
    "x-amzn-RequestId: ABCDEF0123456789\r\n"
    "x-amz-crc32: 2745614147\r\n"
    "Content-Type: application/x-amz-json-1.0\r\n"
    "Content-Length: 2\r\n"
    "Date: Thu, 01 Jan 2026 00:00:05 GMT\r\n"
    "\r\n"
    "{}";

int main(void)
{
    /* ---- request head ---- */
    struct http_header h[] = {{"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                              {"Content-Type", "application/x-amz-json-1.0"}};
    struct http_request q = {"POST", "/", "dynamodb.us-east-1.amazonaws.com", h, 2, 123};
    long need = http_format_head(&q, NULL, 0);
    char head[512];
    long n = http_format_head(&q, head, sizeof head);
    const char *want = "POST / HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com\r\n"
                       "X-Amz-Target: DynamoDB_20120810.PutItem\r\n"
                       "Content-Type: application/x-amz-json-1.0\r\n"
                       "Content-Length: 123\r\n\r\n";
    CHECK(n == need && n == (long)strlen(want) && strcmp(head, want) == 0, "head: %s", head);
    CHECK(http_format_head(&q, head, (size_t)n) == n, "a buffer one byte short reports the length");
    q.body_len = 0;
    n = http_format_head(&q, head, sizeof head);
    CHECK(n > 0 && strstr(head, "Content-Length: 0\r\n\r\n") != NULL &&
              head[n - 1] == '\n' && head[n - 2] == '\r' && head[n - 3] == '\n',
          "Content-Length 0, the head ends with the empty line and nothing else");
    struct http_header evil[] = {{"X-Test", "a\r\nInjected: 1"}};
    struct http_request bad = {"POST", "/", "h", evil, 1, 0};
    CHECK(http_format_head(&bad, head, sizeof head) == -1, "CR/LF in a value refused");
    bad.header_count = 0;
    bad.path = "nopath";
    CHECK(http_format_head(&bad, head, sizeof head) == -1, "path without '/' refused");

    /* ---- a complete response, every split ---- */
    size_t len = strlen(OK);
    for (size_t step = 1; step <= len; step++) {
        size_t used;
        int ret = feed(OK, len, step, &used);
        if (ret != HTTP_DONE || used != len || r.status != 200 || strcmp(r.body, "{}") != 0) {
            CHECK(0, "200 in pieces of %zu: ret %d used %zu status %d", step, ret, used, r.status);
            break;
        }
    }
    feed(OK, len, len, NULL);
    CHECK(r.status == 200 && r.keep_alive && r.has_length && r.content_length == 2, "status, length");
    CHECK(strcmp(r.request_id, "ABCDEF0123456789") == 0, "request id");
    CHECK(strcmp(r.date, "Thu, 01 Jan 2026 00:00:05 GMT") == 0, "date");
    CHECK(r.has_crc32 && r.crc32_header == 2745614147u && r.body_crc32 == 2745614147u,
          "x-amz-crc32 of \"{}\" matches the body (%u)", r.body_crc32);
    CHECK(http_response_feed(&r, "x", 1, NULL) == HTTP_ERR_STATE, "fed after DONE");

    /* Two responses back to back (keep-alive): the first stops at its end. */
    char two[600];
    snprintf(two, sizeof two, "%s%s", OK, OK);
    size_t used;
    CHECK(feed(two, strlen(two), strlen(two), &used) == HTTP_DONE && used == len,
          "pipelined: the first response takes exactly its bytes (%zu)", used);

    /* Chunked, with an extension and a trailer, in every split. */
    const char *ch = "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n"
                     "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\n";
    for (size_t step = 1; step <= strlen(ch); step++) {
        int ret = feed(ch, strlen(ch), step, &used);
        if (ret != HTTP_DONE || strcmp(r.body, "hello, world") != 0 || r.keep_alive) {
            CHECK(0, "chunked in pieces of %zu: %d '%s'", step, ret, r.body);
            break;
        }
    }
    CHECK(r.status == 400 && r.chunked && r.body_total == 12, "chunked: status 400, 12 bytes");

    /* A body larger than the buffer: kept up to the buffer, all of it counted and CRC'd. */
    char big[400];
    char bigbody[201];
    memset(bigbody, 'x', 200);
    bigbody[200] = '\0';
    snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n%s", bigbody);
    CHECK(feed(big, strlen(big), 7, NULL) == HTTP_DONE && r.body_truncated &&
              r.body_len == sizeof body - 1 && r.body_total == 200 &&
              r.body_crc32 == http_crc32(0, bigbody, 200),
          "oversized body truncated, counted, CRC over all of it");

    /* Body to the end of the connection (no length). */
    const char *eof = "HTTP/1.0 500 Internal Server Error\r\n\r\nboom";
    CHECK(feed(eof, strlen(eof), 3, NULL) == HTTP_MORE && http_response_eof(&r) == HTTP_DONE &&
              strcmp(r.body, "boom") == 0 && !r.keep_alive && r.status == 500,
          "body until EOF, HTTP/1.0 not kept alive");

    /* Cut short: EOF before Content-Length bytes. */
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    CHECK(feed(cut, strlen(cut), 100, NULL) == HTTP_MORE && http_response_eof(&r) == HTTP_ERR_LENGTH,
          "truncated body reported at EOF");
    CHECK(feed("HTTP/1.1 200", 12, 12, NULL) == HTTP_MORE && http_response_eof(&r) == HTTP_ERR_LENGTH,
          "EOF in the status line");

    /* 204 and 100 Continue. */
    const char *nc = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    CHECK(feed(nc, strlen(nc), 5, &used) == HTTP_DONE && r.status == 204 && used == strlen(nc),
          "100 Continue skipped, 204 has no body");

    /* Bad input. */
    struct {
        const char *text;
        int want;
    } bads[] = {
        {"HTTP/2 200 OK\r\n\r\n", HTTP_ERR_STATUS},
        {"HTTP/1.1 2x0 OK\r\n\r\n", HTTP_ERR_STATUS},
        {"SSH-2.0-OpenSSH\r\n\r\n", HTTP_ERR_STATUS},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HTTP_ERR_LENGTH},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", HTTP_ERR_LENGTH},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", HTTP_ERR_LENGTH},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERR_LENGTH},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_ERR_LENGTH},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", HTTP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", HTTP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\nx-amz-crc32: abc\r\n\r\n", HTTP_ERR_HEADER},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HTTP_ERR_CHUNK},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", HTTP_ERR_CHUNK},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n", HTTP_ERR_CHUNK},
    };
    for (unsigned i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        int ret = feed(bads[i].text, strlen(bads[i].text), 1, NULL);
        CHECK(ret == bads[i].want, "bad input %u: %d, expected %d (%s)", i, ret, bads[i].want,
              http_strerror(bads[i].want));
    }

    /* Lines longer than the buffer: an unused header is skipped, a used one is an error. */
    char lng[600];
    char pad[400];
    memset(pad, 'a', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(lng, sizeof lng, "HTTP/1.1 200 OK\r\nX-Long: %s\r\nContent-Length: 0\r\n\r\n", pad);
    CHECK(feed(lng, strlen(lng), 13, NULL) == HTTP_DONE, "long unused header skipped");
    snprintf(lng, sizeof lng, "HTTP/1.1 200 OK\r\nDate: %s\r\n\r\n", pad);
    CHECK(feed(lng, strlen(lng), 13, NULL) == HTTP_ERR_HEADER, "long Date refused");

    /* CRC-32 and dates. */
    CHECK(http_crc32(0, "123456789", 9) == 0xCBF43926u, "CRC-32 check value");
    CHECK(http_crc32(http_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u, "CRC-32 continued");
    uint32_t t;
    CHECK(http_parse_date("Thu, 01 Jan 2026 00:00:05 GMT", &t) == 0 && t == 1767225605u,
          "date 2026-01-01T00:00:05Z = %u", t);
    CHECK(http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == 784111777u, "RFC date");
    CHECK(http_parse_date("Tue, 29 Feb 2028 23:59:59 GMT", &t) == 0 && t == 1835481599u,
          "leap day 2028 (%u)", t);
    CHECK(http_parse_date("Thu, 01 Foo 2026 00:00:05 GMT", &t) == -1, "bad month");
    CHECK(http_parse_date("Thu, 01 Jan 2026 00:00:05", &t) == -1, "no GMT");
    CHECK(http_parse_date("", &t) == -1 && http_parse_date(NULL, &t) == -1, "empty");

    return host_check_summary("http");
}
