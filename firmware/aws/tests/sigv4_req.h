/*
 * sigv4_req.h - parser of the AWS SigV4 test-suite request files (<case>.req), shared by the
 * host test program (sigv4_test.c) and the FT32 firmware test (tests/sigv4_vectors.c).
 *
 * Format: a request line "METHOD SP TARGET SP HTTP/1.1" (TARGET = path[?query]; it may
 * contain spaces: the version is after the last space), header lines "Name:value", lines
 * ending in "\n" or "\r\n"; a line starting with a space or tab continues the previous
 * header (obsolete line folding: it is unfolded into that header's value, joined with one
 * space, as the suite's get-header-value-multiline expects); an empty line, then the body up
 * to the end of the file (no final newline in the suite).
 */
#ifndef AWS_SIGV4_REQ_H
#define AWS_SIGV4_REQ_H

#include <stddef.h>
#include "sigv4.h"

struct sigv4_req {
    const char *method;
    const char *path;
    const char *query; /* NULL when the target has no '?' */
    struct sigv4_header *headers;
    size_t header_count;
    const char *body;
    size_t body_len;
};

#define SIGV4_REQ_OK          0
#define SIGV4_REQ_MALFORMED  (-1)
#define SIGV4_REQ_TOO_MANY   (-2) /* more headers than max_headers */

/* Parses buf[0..len) in place (it writes NULs into it): buf must have len + 1 bytes. The
   strings of `out` point into buf; headers[] (max_headers entries) receives the headers. */
int sigv4_req_parse(char *buf, size_t len, struct sigv4_header *headers, size_t max_headers,
                    struct sigv4_req *out);

/* The value of the first header named `name` (any case), or NULL. */
const char *sigv4_req_header(const struct sigv4_req *req, const char *name);

#endif /* AWS_SIGV4_REQ_H */
