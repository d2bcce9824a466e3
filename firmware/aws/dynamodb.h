/*
 * dynamodb.h - the DynamoDB client of the firmware: PutItem and BatchWriteItem of sensor
 * readings over HTTPS, signed with SigV4, with the AWS SDKs' standard retry behaviour.
 * Portable C: the connection, clock and sleeping come through `struct ddb_io`, so the whole
 * request/retry logic runs in host tests against scripted responses and a fake clock.
 *
 * Request: POST / HTTP/1.1 with Host, X-Amz-Date, X-Amz-Target (DynamoDB_20120810.PutItem or
 * .BatchWriteItem), Content-Type application/x-amz-json-1.0, X-Amz-Security-Token (with a
 * session token), Authorization (SigV4, service "dynamodb"), and an exact Content-Length. The
 * JSON body is generated twice, never buffered: once into SHA-256 (the signed payload hash) and
 * its length, then into the connection in 256-byte pieces (so a 25-item batch costs no RAM).
 *
 * Item attributes of a reading (names of the keys from the configuration):
 *   partition key (S) = device id, sort key (N) = seq, "temperature" (N, 2 decimals),
 *   "humidity" (N, 2 decimals), "timestamp" (S, ISO-8601 UTC from the reading's time).
 *
 * Response: status, x-amzn-RequestId, x-amz-crc32 checked against the body, the error's
 * `__type` (the part after '#') and `message` on failure. Outcome of one attempt:
 *   2xx (CRC good)                         -> done
 *   5xx, ThrottlingException, ProvisionedThroughputExceededException, RequestLimitExceeded,
 *   InternalServerError, a CRC mismatch, connection/TLS errors, a malformed response
 *                                          -> retried after a backoff (full jitter:
 *                                             uniform in [0, min(cap, base * 2^(attempt-1))))
 *   InvalidSignatureException "Signature expired" / "Signature not yet current", or any 4xx
 *   whose Date is more than DDB_SKEW_LIMIT_S away from our clock
 *                                          -> clock offset = Date - our clock, retried at
 *                                             once, once per call
 *   the credentials refused (UnrecognizedClientException, InvalidSignatureException,
 *   MissingAuthenticationTokenException, IncompleteSignatureException, AccessDeniedException,
 *   ExpiredTokenException, ...; see ddb_classify)
 *                                          -> not retried: DDB_ERR_CREDENTIALS (only a new key
 *                                             or a server-side fix helps: the caller holds off)
 *   other 4xx (validation, missing table)  -> not retried: reported
 * Attempts are capped (DDB_MAX_ATTEMPTS). The connection is kept open between requests
 * (keep-alive) and reopened when the server closes it or a request fails on it. A connection
 * that cannot be opened ends the call (DDB_ERR_CONNECT, or DDB_ERR_UNTRUSTED when the server's
 * certificate is not trusted): the caller's schedule decides when to try again, so that a dead
 * network or an untrusted server is not hammered with handshakes.
 *
 * BatchWriteItem: at most DDB_BATCH_MAX readings; the items the response lists under
 * UnprocessedItems (found by their sort key) are sent again in a new request (with backoff,
 * counted as attempts); if the list cannot be read (a body larger than the buffer) every item
 * of the request counts as unprocessed, which is safe: a put of the same key and values again
 * changes nothing.
 *
 * Nothing here prints: the application logs from ddb_result and the attempt callback. The
 * secret key and signing key are never exposed.
 */
#ifndef AWS_DYNAMODB_H
#define AWS_DYNAMODB_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define DDB_BATCH_MAX       25u     /* DynamoDB's limit per BatchWriteItem */
#define DDB_MAX_ATTEMPTS    5u      /* per call, as the SDKs' standard mode (3) plus margin */
#define DDB_BACKOFF_BASE_MS 100u
#define DDB_BACKOFF_CAP_MS  20000u
#define DDB_SKEW_LIMIT_S    240     /* AWS accepts 5 minutes; correct before that */
#define DDB_BODY_MAX        384u    /* response body kept (errors, UnprocessedItems) */

/* One reading. */
struct ddb_reading {
    uint32_t seq;
    int32_t temp_centi;         /* temperature, hundredths of a degree Celsius */
    uint32_t humidity_centi;    /* relative humidity, hundredths of a percent */
    uint32_t unix_time;         /* when it was taken (UTC) */
};

/* What the client needs from the device configuration (strings stay the caller's). */
struct ddb_config {
    const char *host;           /* Host header and SigV4 "host" */
    const char *region;
    const char *table;
    const char *partition_key;  /* attribute names */
    const char *sort_key;
    const char *device_id;
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;  /* NULL or "" if none */
};

struct ddb_attempt_info;

/* The connection and the clock. All blocking; sleep_ms and the waits inside send/recv keep the
   rest of the device running (the network stack, the reading timer). */
struct ddb_io {
    /* Opens the connection (TCP + TLS); 0, DDB_CONNECT_UNTRUSTED when the server's certificate
       did not verify (no request may be sent to it), or another value < 0. */
    int (*connect)(void *ctx);
    /* Sends all n bytes; 0, or < 0 (the connection is then closed by the client). */
    int (*send)(void *ctx, const void *data, size_t n);
    /* Receives up to n bytes: > 0, 0 at the end of the stream, < 0 on error or timeout. */
    int (*recv)(void *ctx, void *buf, size_t n);
    void (*close)(void *ctx);
    int (*is_open)(void *ctx);
    uint32_t (*now_unix)(void *ctx);  /* the device's UTC clock (RTC), seconds */
    uint32_t (*millis)(void *ctx);
    void (*sleep_ms)(void *ctx, uint32_t ms);
    /* Optional: told about every failed attempt (for the log). */
    void (*on_attempt)(void *ctx, const struct ddb_attempt_info *info);
    void *ctx;
};

/* What io->connect returns when the server's certificate is not trusted (outside the ranges of
   lwIP's err_t and mbedTLS's errors, -0x7FFF..-1, which a connection may pass on). */
#define DDB_CONNECT_UNTRUSTED (-0x10000)

/* Outcome classes. */
#define DDB_CLASS_OK        0
#define DDB_CLASS_RETRY     1
#define DDB_CLASS_SKEW      2
#define DDB_CLASS_FATAL     3
#define DDB_CLASS_CREDENTIALS 4     /* the credentials were refused: not retried */

/* One failed attempt, for the log. */
struct ddb_attempt_info {
    const char *operation;      /* "PutItem", "BatchWriteItem" */
    unsigned attempt;           /* 1.. */
    int status;                 /* HTTP status, 0 if none (connection error) */
    int io_error;               /* < 0: the connection / parser error */
    int cls;                    /* DDB_CLASS_* */
    const char *type;           /* __type without the namespace, "" if none */
    const char *message;        /* the error message, "" if none */
    uint32_t backoff_ms;        /* the wait before the next attempt (may be 0: full jitter) */
    int retrying;               /* 1: another attempt follows after backoff_ms */
    int32_t clock_offset;       /* after a skew correction */
};

/* Result of ddb_put / ddb_batch. */
struct ddb_result {
    int status;                 /* last HTTP status (0: none) */
    unsigned attempts;          /* requests sent (or tried) */
    unsigned acked;             /* readings acknowledged */
    uint32_t latency_ms;        /* first attempt to the last response */
    char type[48];              /* last error __type (short name), "" */
    char message[96];           /* last error message, "" */
    char request_id[64];        /* x-amzn-RequestId of the last response */
};

/* Return values. */
#define DDB_OK              0   /* every reading acknowledged */
#define DDB_ERR_RETRIES    -1   /* retryable failures until DDB_MAX_ATTEMPTS */
#define DDB_ERR_REJECTED   -2   /* a non-retryable error (ddb_result.type/message) */
#define DDB_ERR_ARG        -3   /* bad arguments or configuration */
#define DDB_ERR_CREDENTIALS -4  /* the credentials were refused (ddb_result.type/message) */
#define DDB_ERR_CONNECT    -5   /* the connection could not be opened (nothing sent) */
#define DDB_ERR_UNTRUSTED  -6   /* the server's certificate is not trusted (nothing sent) */

/* A streaming scan of a BatchWriteItem response for the unprocessed readings, for bodies
   longer than DDB_BODY_MAX: counts "PutRequest" and matches `"<sort key>":{"N":"<digits>"`
   (KMP, across pieces) against the request's readings. Trusted only when every PutRequest had
   its sort key matched to a distinct reading. */
struct ddb_scan {
    const struct ddb_reading *r;
    size_t n;
    uint32_t listed;            /* bit i: r[i] is listed */
    uint16_t puts, matched;
    uint8_t key_pos, put_pos;   /* match progress in the two patterns */
    uint8_t digits;             /* > 0: reading the number (count + 1) */
    uint8_t bad;                /* a number that is not a reading of the request */
    uint32_t value;
    char key[48];               /* "\"<sort key>\":{\"N\":\"" */
    uint8_t key_len;
};

/* Prepares a scan for readings r[0..n) (n <= DDB_BATCH_MAX) and sort key `sort_key`; returns
   -1 if the key is too long for the pattern. */
int ddb_scan_init(struct ddb_scan *s, const char *sort_key, const struct ddb_reading *r,
                  size_t n);
/* Feeds body bytes (an http_emit_t). */
void ddb_scan_feed(void *scan, const char *data, size_t len);
/* The result: unprocessed[i] = r[i] listed; returns the number listed, or -1 if the scan cannot
   be trusted (then nothing is changed). */
int ddb_scan_result(const struct ddb_scan *s, uint8_t *unprocessed);

struct ddb_client {
    const struct ddb_config *cfg;
    const struct ddb_io *io;
    uint32_t rng;               /* xorshift32 of the backoff jitter */
    int32_t clock_offset;       /* seconds added to io->now_unix() (skew correction) */
    uint32_t server_date;       /* the last response's Date (Unix seconds), 0 if none yet */
    uint8_t signing_key[32];    /* kSigning of key_date */
    char key_date[9];           /* "YYYYMMDD" of signing_key, "" if none */
    /* Counters since ddb_init. */
    uint32_t requests;
    uint32_t retries;
    uint32_t skew_corrections;
    uint32_t connects;
    /* Work space of one request (the response). */
    struct http_response resp;
    struct ddb_scan scan;
    char body[DDB_BODY_MAX];
};

/* Sets the client up; `seed` seeds the backoff jitter (any value; 0 is replaced). */
void ddb_init(struct ddb_client *c, const struct ddb_config *cfg, const struct ddb_io *io,
              uint32_t seed);
/* Wipes the cached signing key. */
void ddb_wipe(struct ddb_client *c);

/* PutItem of one reading. */
int ddb_put(struct ddb_client *c, const struct ddb_reading *r, struct ddb_result *res);
/* BatchWriteItem of n readings (1..DDB_BATCH_MAX); acked[i] is set to 1 for each reading
   acknowledged (also when the call fails for the others). */
int ddb_batch(struct ddb_client *c, const struct ddb_reading *r, size_t n, uint8_t *acked,
              struct ddb_result *res);

/* ---- the pieces, exposed for the tests ------------------------------------------------------ */

/* Writes the JSON body of a PutItem (n == 1, batch 0) or BatchWriteItem (batch 1) of the readings
   r[i] whose mask[i] is set (mask NULL: all) into emit; returns its length, or -1 if a string
   of the configuration cannot be used (control characters are escaped; never -1 today). */
long ddb_write_body(const struct ddb_config *cfg, const struct ddb_reading *r, size_t n,
                    const uint8_t *mask, int batch, http_emit_t emit, void *ctx);
/* The same into a buffer (NUL-terminated when it fits); returns the full length. */
long ddb_format_body(const struct ddb_config *cfg, const struct ddb_reading *r, size_t n,
                     const uint8_t *mask, int batch, char *buf, size_t size);

/* Writes a JSON string literal of s (quotes included, RFC 8259 escaping) into emit. */
void ddb_json_string(const char *s, http_emit_t emit, void *ctx);

/* From an error body: __type (the part after the last '#') and message ("message" or
   "Message"); missing ones become "". Returns 0, or -1 if the body is not a JSON object. */
int ddb_parse_error(const char *body, size_t len, char *type, size_t type_size, char *message,
                    size_t message_size);
/* From a BatchWriteItem response body: clears unprocessed[i] for every reading r[i] NOT listed
   under UnprocessedItems (matched by the sort key's N value) and sets it for the listed ones.
   Returns the number listed, or -1 if the body cannot be read (then nothing is changed). */
int ddb_parse_unprocessed(const struct ddb_config *cfg, const char *body, size_t len,
                          const struct ddb_reading *r, size_t n, uint8_t *unprocessed);

/* Class of a response: DDB_CLASS_* from the status, the short __type and the message. */
/* 1 if the short __type is one of the errors AWS answers for refused credentials. */
int ddb_is_credentials_error(const char *type);
int ddb_classify(int status, const char *type, const char *message);
/* The backoff before attempt `attempt + 1` after `attempt` failures (full jitter). */
uint32_t ddb_backoff_ms(uint32_t *rng, unsigned attempt);

/* "YYYYMMDDTHHMMSSZ" and "YYYY-MM-DDTHH:MM:SSZ" of a Unix time (buffers of 17 / 21 bytes). */
void ddb_amz_date(uint32_t unix_time, char out[17]);
void ddb_iso8601(uint32_t unix_time, char out[21]);

#endif /* AWS_DYNAMODB_H */
