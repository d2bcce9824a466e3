/*
 * http.h - the HTTP/1.1 pieces of the DynamoDB client: a request-head writer and an incremental
 * response parser. Portable C, no allocation, no I/O (the caller moves the bytes over TLS), so
 * the host tests run the same code.
 *
 * Requests: http_format_head() writes "METHOD PATH HTTP/1.1", Host, the caller's headers and
 * "Content-Length: <body_len>", then the empty line. The caller sends the head and then exactly
 * body_len bytes of body: nothing after the body (the seed firmware sent a stray CRLF beyond
 * Content-Length, which the server reads as the start of the next request). Keep-alive is
 * HTTP/1.1's default; the response says whether the server keeps the connection.
 *
 * Responses: feed the received bytes in any pieces to http_response_feed(). It parses the status
 * line and headers (every line bounded by HTTP_LINE_MAX; a longer line is an error when it is a
 * header we use, skipped otherwise), then the body framed by Content-Length, chunked transfer
 * coding, or (neither) the end of the connection (http_response_eof()). The body goes into the
 * caller's bounded buffer: bytes beyond it are counted, CRC'd and dropped (body_truncated).
 * Headers kept: Date, Content-Length, Transfer-Encoding, x-amz-crc32, x-amzn-RequestId,
 * Connection. The CRC-32 (the one DynamoDB puts in x-amz-crc32) of the whole body is computed
 * as it arrives.
 */
#ifndef AWS_HTTP_H
#define AWS_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* A byte sink: the head (and, in dynamodb.c, the body) can be streamed instead of buffered. */
typedef void (*http_emit_t)(void *ctx, const char *data, size_t len);

struct http_header {
    const char *name;
    const char *value;
};

struct http_request {
    const char *method;                 /* "POST" */
    const char *path;                   /* "/" */
    const char *host;                   /* Host header value (no port for 443) */
    const struct http_header *headers;  /* more headers, in order */
    size_t header_count;
    size_t body_len;                    /* Content-Length */
};

/* Writes the request head into buf (size bytes, NUL appended when it fits). Returns the head's
   length (NUL excluded); if that is >= size nothing usable was written (call with buf NULL,
   size 0 to learn the length). -1 when a name or value holds CR, LF or NUL, or a field is
   missing. */
long http_format_head(const struct http_request *req, char *buf, size_t size);

/* The same head passed to `emit` in pieces; returns its length or -1 as above. */
long http_emit_head(const struct http_request *req, http_emit_t emit, void *ctx);

/* ---- response parser ---------------------------------------------------------------------- */

#define HTTP_LINE_MAX 128u  /* status line and header lines we use (Date 35, x-amzn-RequestId 70) */

/* http_response_feed() results. */
#define HTTP_MORE            0  /* everything consumed, the response is not complete */
#define HTTP_DONE            1  /* complete; *consumed tells how much of the input it took */
#define HTTP_ERR_STATUS     -1  /* malformed status line (or not HTTP/1.x) */
#define HTTP_ERR_HEADER     -2  /* malformed header line, or a used header too long */
#define HTTP_ERR_LENGTH     -3  /* bad Content-Length / chunk size, or both framings */
#define HTTP_ERR_CHUNK      -4  /* malformed chunked framing */
#define HTTP_ERR_STATE      -5  /* fed after DONE or an error */

struct http_response {
    /* Results. */
    int status;                 /* 100..599 */
    uint8_t http_minor;         /* HTTP/1.x */
    uint8_t keep_alive;         /* the connection may carry the next request */
    uint8_t chunked;
    uint8_t has_length;
    uint8_t has_crc32;
    uint8_t body_truncated;     /* the body did not fit in the buffer */
    uint32_t content_length;
    uint32_t crc32_header;      /* x-amz-crc32 (decimal in the header) */
    uint32_t body_crc32;        /* CRC-32 of the whole body as received */
    uint32_t body_total;        /* body bytes received (also those beyond the buffer) */
    char date[40];              /* Date header, "" if none */
    char request_id[64];        /* x-amzn-RequestId, "" if none */
    char *body;                 /* the caller's buffer, NUL-terminated */
    size_t body_size;           /* its size (room for the NUL included) */
    size_t body_len;            /* bytes in it */
    /* Optional: sees every body byte as it arrives, also those beyond the buffer (set after
       http_response_init). */
    http_emit_t on_body;
    void *on_body_ctx;
    /* Parser state. */
    uint8_t state;
    uint8_t line_over;          /* the current line exceeded HTTP_LINE_MAX */
    uint16_t line_len;
    uint32_t remaining;         /* body / chunk bytes still expected */
    uint32_t crc_state;
    char line[HTTP_LINE_MAX];
};

/* Prepares r for one response; the body goes to body[0..body_size) (body_size >= 1). */
void http_response_init(struct http_response *r, char *body, size_t body_size);
/* Feeds n bytes; *consumed (may be NULL) = bytes taken (all of them unless DONE). */
int http_response_feed(struct http_response *r, const void *data, size_t n, size_t *consumed);
/* The connection ended: HTTP_DONE if that completes the response (a body read to the end of the
   connection), else an error (HTTP_ERR_LENGTH: the response was cut short). */
int http_response_eof(struct http_response *r);
/* 1 once the response is complete. */
int http_response_done(const struct http_response *r);

/* A short description of an HTTP_* result. */
const char *http_strerror(int err);

/* CRC-32 (IEEE 802.3, zlib): crc = http_crc32(0, p, n), continued with the previous value. */
uint32_t http_crc32(uint32_t crc, const void *data, size_t n);

/* Parses an RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into Unix seconds;
   0 on success, -1 if malformed. */
int http_parse_date(const char *s, uint32_t *unix_seconds);

#endif /* AWS_HTTP_H */
