/*
 * dynamodb_test.c - host unit test of aws/dynamodb.c against a scripted fake connection and a
 * fake clock: the JSON bodies (PutItem, BatchWriteItem, escaping, numbers), the error parser,
 * UnprocessedItems, the classification, the backoff schedule, and whole calls: success on the
 * first attempt, throttling then success, 5xx until the attempts run out, a validation error
 * (not retried), clock skew corrected from the Date header, a CRC mismatch, a dropped
 * connection, BatchWriteItem with UnprocessedItems re-sent. Every request sent is checked: the
 * head's Content-Length equals the bytes of body that follow, nothing after the body, the
 * SigV4 Authorization's scope and signed headers, the X-Amz-Date.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamodb.h"
#include "host_check.h"
#include "http.h"

/* ---- the fake connection --------------------------------------------------------------------- */

#define MAX_SCRIPT 12

struct fake {
    /* Responses to the requests, in order; NULL = the connection fails at connect, UNTRUSTED =
       the server's certificate does not verify. */
    const char *script[MAX_SCRIPT];
    unsigned script_len, next;
    int open;
    unsigned connects, closes;
    /* The request being received from the client, and the checks of each complete one. */
    char req[8192];
    size_t req_len;
    unsigned requests, bad_requests;
    char last_body[4096];
    char last_date[20];
    char last_target[64];
    /* The response being delivered. */
    const char *resp;
    size_t resp_len, resp_pos;
    /* Clock. */
    uint32_t unix_now, ms;
    uint32_t slept[16];
    unsigned sleeps;
    unsigned attempts_seen;
    unsigned retrying_seen;     /* callbacks that announced another attempt */
};

static struct fake f;
static const char *expect_token; /* the session token the requests must carry, or NULL */

static const char *header(const char *head, const char *name, char *out, size_t size)
{
    const char *p = strstr(head, name);
    if (p == NULL)
        return NULL;
    p += strlen(name);
    const char *e = strstr(p, "\r\n");
    size_t n = (size_t)(e - p);
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* A complete request is in f.req: check it, then queue the scripted response. */
static void request_done(void)
{
    char *end = strstr(f.req, "\r\n\r\n");
    char val[512];
    end[2] = '\0';
    size_t body_off = (size_t)(end + 4 - f.req);
    unsigned long cl = strtoul(header(f.req, "\r\nContent-Length: ", val, sizeof val), NULL, 10);
    int ok = cl == f.req_len - body_off;
    ok &= strncmp(f.req, "POST / HTTP/1.1\r\nHost: dynamodb.us-east-1.amazonaws.com\r\n", 57) == 0;
    ok &= header(f.req, "\r\nContent-Type: ", val, sizeof val) != NULL &&
          strcmp(val, "application/x-amz-json-1.0") == 0;
    ok &= header(f.req, "\r\nX-Amz-Target: ", f.last_target, sizeof f.last_target) != NULL;
    ok &= header(f.req, "\r\nX-Amz-Date: ", f.last_date, sizeof f.last_date) != NULL;
    const char *a = header(f.req, "\r\nAuthorization: ", val, sizeof val);
    char scope[192];
    snprintf(scope, sizeof scope,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%.8s/us-east-1/dynamodb/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date;%sx-amz-target, Signature=",
             f.last_date, expect_token ? "x-amz-security-token;" : "");
    char tok[64];
    const char *t = header(f.req, "\r\nX-Amz-Security-Token: ", tok, sizeof tok);
    ok &= expect_token ? t != NULL && strcmp(t, expect_token) == 0 : t == NULL;
    ok &= a != NULL && strncmp(a, scope, strlen(scope)) == 0 && strlen(a) == strlen(scope) + 64;
    ok &= strstr(f.req, "wJalrXUtnFEMI") == NULL; /* the secret never goes on the wire */
    memcpy(f.last_body, f.req + body_off, f.req_len - body_off);
    f.last_body[f.req_len - body_off] = '\0';
    f.requests++;
    f.bad_requests += !ok;
    if (!ok)
        printf("bad request:\n%s\n", f.req);
    f.req_len = 0;
    f.resp = f.next < f.script_len ? f.script[f.next++] : "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n";
    f.resp_len = strlen(f.resp);
    f.resp_pos = 0;
}

/* A script entry: the server's certificate does not verify at connect. */
static const char UNTRUSTED[] = "UNTRUSTED";

static int fk_connect(void *ctx)
{
    (void)ctx;
    f.connects++;
    if (f.next < f.script_len && f.script[f.next] == NULL) {
        f.next++;
        return -1;
    }
    if (f.next < f.script_len && f.script[f.next] == UNTRUSTED) {
        f.next++;
        return DDB_CONNECT_UNTRUSTED;
    }
    f.open = 1;
    return 0;
}

static int fk_send(void *ctx, const void *data, size_t n)
{
    (void)ctx;
    if (!f.open || f.req_len + n >= sizeof f.req)
        return -1;
    memcpy(f.req + f.req_len, data, n);
    f.req_len += n;
    f.req[f.req_len] = '\0';
    /* Complete when the head is in and Content-Length bytes follow it. */
    char *end = strstr(f.req, "\r\n\r\n");
    if (end != NULL) {
        char val[32];
        const char *cl = header(f.req, "\r\nContent-Length: ", val, sizeof val);
        if (cl != NULL && f.req_len - (size_t)(end + 4 - f.req) >= strtoul(cl, NULL, 10))
            request_done();
    }
    return 0;
}

static int fk_recv(void *ctx, void *buf, size_t n)
{
    (void)ctx;
    if (!f.open || f.resp == NULL)
        return -1;
    if (strcmp(f.resp, "DROP") == 0) { /* the server drops the connection */
        f.resp = NULL;
        f.open = 0;
        return 0;
    }
    if (f.resp_pos == f.resp_len)
        return 0;
    size_t take = f.resp_len - f.resp_pos;
    if (take > n)
        take = n;
    if (take > 7)
        take = 7; /* small pieces: the parser sees every split */
    memcpy(buf, f.resp + f.resp_pos, take);
    f.resp_pos += take;
    f.ms += 1;
    return (int)take;
}

static void fk_close(void *ctx)
{
    (void)ctx;
    f.open = 0;
    f.closes++;
}

static int fk_is_open(void *ctx)
{
    (void)ctx;
    return f.open;
}

static uint32_t fk_now(void *ctx)
{
    (void)ctx;
    return f.unix_now + f.ms / 1000u;
}

static uint32_t fk_millis(void *ctx)
{
    (void)ctx;
    return f.ms;
}

static void fk_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    if (f.sleeps < 16)
        f.slept[f.sleeps] = ms;
    f.sleeps++;
    f.ms += ms;
}

static void fk_attempt(void *ctx, const struct ddb_attempt_info *i)
{
    (void)ctx;
    f.attempts_seen++;
    f.retrying_seen += i->retrying != 0;
}

static const struct ddb_io io = {fk_connect, fk_send, fk_recv, fk_close, fk_is_open,
                                 fk_now, fk_millis, fk_sleep, fk_attempt, NULL};

static const struct ddb_config cfg = {
    .host = "dynamodb.us-east-1.amazonaws.com", .region = "us-east-1",
    .table = "SensorReadings", .partition_key = "deviceId", .sort_key = "seq",
    .device_id = "hopper", .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", .session_token = NULL,
};

#define T2026 1767225600u /* 2026-01-01T00:00:00Z */

static void reset(void)
{
    memset(&f, 0, sizeof f);
    f.unix_now = T2026;
}

static void script(unsigned n, const char *const *resp)
{
    for (unsigned i = 0; i < n; i++)
        f.script[i] = resp[i];
    f.script_len = n;
}

/* "HTTP/1.1 <status>" response with a JSON body, its x-amz-crc32, and a Date. */
static char *resp(char *buf, size_t size, int status, const char *body, const char *date, int crc_ok)
{
    uint32_t crc = http_crc32(0, body, strlen(body)) ^ (crc_ok ? 0u : 1u);
    snprintf(buf, size,
             "HTTP/1.1 %d X\r\nx-amzn-RequestId: RID%d\r\nx-amz-crc32: %u\r\n"
             "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %zu\r\n"
             "Date: %s\r\n\r\n%s",
             status, status, crc, strlen(body), date, body);
    return buf;
}

int main(void)
{
    struct ddb_client c;
    struct ddb_result res;
    const struct ddb_reading r1 = {7, 2137, 4520, T2026 + 5};
    static const char DATE0[] = "Thu, 01 Jan 2026 00:00:00 GMT";

    /* ---- JSON ---- */
    char body[2048];
    long n = ddb_format_body(&cfg, &r1, 1, NULL, 0, body, sizeof body);
    const char *want_put =
        "{\"TableName\":\"SensorReadings\",\"Item\":{\"deviceId\":{\"S\":\"hopper\"},"
        "\"seq\":{\"N\":\"7\"},\"temperature\":{\"N\":\"21.37\"},\"humidity\":{\"N\":\"45.20\"},"
        "\"timestamp\":{\"S\":\"2026-01-01T00:00:05Z\"}}}";
    CHECK(n == (long)strlen(want_put) && strcmp(body, want_put) == 0, "PutItem body: %s", body);
    CHECK(ddb_format_body(&cfg, &r1, 1, NULL, 0, NULL, 0) == n, "length without a buffer");
    struct ddb_reading rs[3] = {{1, -305, 0, T2026}, {2, 5, 10000, T2026 + 86400 * 59}, {3, 0, 1, 4102444799u}};
    uint8_t mask[3] = {1, 0, 1};
    n = ddb_format_body(&cfg, rs, 3, mask, 1, body, sizeof body);
    const char *want_batch =
        "{\"RequestItems\":{\"SensorReadings\":[{\"PutRequest\":{\"Item\":{\"deviceId\":{\"S\":\"hopper\"},"
        "\"seq\":{\"N\":\"1\"},\"temperature\":{\"N\":\"-3.05\"},\"humidity\":{\"N\":\"0.00\"},"
        "\"timestamp\":{\"S\":\"2026-01-01T00:00:00Z\"}}}},{\"PutRequest\":{\"Item\":{\"deviceId\":"
        "{\"S\":\"hopper\"},\"seq\":{\"N\":\"3\"},\"temperature\":{\"N\":\"0.00\"},\"humidity\":"
        "{\"N\":\"0.01\"},\"timestamp\":{\"S\":\"2099-12-31T23:59:59Z\"}}}}]}}";
    CHECK(n == (long)strlen(want_batch) && strcmp(body, want_batch) == 0, "batch body (masked): %s", body);
    struct ddb_config odd = cfg;
    odd.device_id = "a\"b\\c\nd\x01";
    odd.table = "T";
    n = ddb_format_body(&odd, &r1, 1, NULL, 0, body, sizeof body);
    CHECK(n > 0 && strstr(body, "{\"S\":\"a\\\"b\\\\c\\nd\\u0001\"}") != NULL, "escaping: %s", body);
    char d[21];
    ddb_iso8601(951782400u, d);
    CHECK(strcmp(d, "2000-02-29T00:00:00Z") == 0, "iso8601 leap day: %s", d);
    ddb_amz_date(T2026 + 3661, d);
    CHECK(strcmp(d, "20260101T010101Z") == 0, "amz date: %s", d);

    /* ---- error bodies ---- */
    char type[48], msg[96];
    const char *eb = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","
                     "\"message\":\"Rate \\\"exceeded\\\"\\u0021\"}";
    CHECK(ddb_parse_error(eb, strlen(eb), type, sizeof type, msg, sizeof msg) == 0 &&
              strcmp(type, "ProvisionedThroughputExceededException") == 0 &&
              strcmp(msg, "Rate \"exceeded\"!") == 0,
          "error: %s / %s", type, msg);
    eb = "{ \"Message\" : \"Signature expired: x\", \"__type\" : \"com.amazon.coral.service#InvalidSignatureException\" }";
    CHECK(ddb_parse_error(eb, strlen(eb), type, sizeof type, msg, sizeof msg) == 0 &&
              strcmp(type, "InvalidSignatureException") == 0 && strncmp(msg, "Signature expired", 17) == 0,
          "error with Message and spaces: %s / %s", type, msg);
    CHECK(ddb_parse_error("<html>", 6, type, sizeof type, msg, sizeof msg) == -1 && type[0] == 0,
          "not JSON");
    CHECK(ddb_parse_error("{\"__type\":\"x", 12, type, sizeof type, msg, sizeof msg) == 0 && type[0] == 0,
          "truncated JSON: nothing extracted");

    /* ---- UnprocessedItems ---- */
    uint8_t un[3] = {9, 9, 9};
    const char *ub = "{\"UnprocessedItems\":{\"SensorReadings\":[{\"PutRequest\":{\"Item\":{\"deviceId\":{\"S\":\"hopper\"},"
                     "\"seq\":{\"N\":\"2\"},\"timestamp\":{\"S\":\"x]}\"}}}}]}}";
    CHECK(ddb_parse_unprocessed(&cfg, ub, strlen(ub), rs, 3, un) == 1 && un[0] == 0 && un[1] == 1 && un[2] == 0,
          "unprocessed seq 2");
    CHECK(ddb_parse_unprocessed(&cfg, "{\"UnprocessedItems\":{}}", 23, rs, 3, un) == 0 && !un[0] && !un[1] && !un[2],
          "nothing unprocessed");
    memset(un, 7, 3);
    CHECK(ddb_parse_unprocessed(&cfg, "{\"UnprocessedItems\":{\"SensorReadings\":[{\"PutReq", 47, rs, 3, un) == -1 &&
              un[0] == 7,
          "truncated UnprocessedItems: unreadable, nothing changed");

    /* ---- the streaming scan (bodies longer than the buffer) ---- */
    {
        struct ddb_reading many[25];
        for (unsigned i = 0; i < 25; i++)
            many[i] = (struct ddb_reading){100 + i, 0, 0, T2026};
        char big[8192];
        size_t bl = (size_t)snprintf(big, sizeof big, "{\"UnprocessedItems\":{\"SensorReadings\":[");
        const unsigned pick[4] = {3, 11, 17, 24};
        for (unsigned j = 0; j < 4; j++)
            bl += (size_t)snprintf(big + bl, sizeof big - bl,
                                   "%s{\"PutRequest\":{\"Item\":{\"deviceId\":{\"S\":\"hopper\"},"
                                   "\"seq\":{\"N\":\"%u\"},\"timestamp\":{\"S\":\"\\\"seq\\\":\"},"
                                   "\"humidity\":{\"N\":\"45.2\"}}}}",
                                   j ? "," : "", 100 + pick[j]);
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "]}}");
        int all_ok = 1;
        for (size_t step = 1; step <= 13; step++) {
            struct ddb_scan sc;
            uint8_t lst[25];
            ddb_scan_init(&sc, "seq", many, 25);
            for (size_t pos = 0; pos < bl; pos += step)
                ddb_scan_feed(&sc, big + pos, bl - pos < step ? bl - pos : step);
            int got = ddb_scan_result(&sc, lst);
            int ok = got == 4;
            for (unsigned i = 0; i < 25; i++)
                ok &= lst[i] == (i == 3 || i == 11 || i == 17 || i == 24);
            all_ok &= ok;
        }
        CHECK(all_ok, "scan finds seq 103, 111, 117, 124 in pieces of 1..13 bytes");
        struct ddb_scan sc;
        uint8_t lst[25];
        memset(lst, 9, sizeof lst);
        const char *spaced = "{\"UnprocessedItems\":{\"SensorReadings\":[{\"PutRequest\":{\"Item\":{\"seq\": {\"N\": \"103\"}}}}]}}";
        ddb_scan_init(&sc, "seq", many, 25);
        ddb_scan_feed(&sc, spaced, strlen(spaced));
        CHECK(ddb_scan_result(&sc, lst) == -1 && lst[0] == 9, "unmatched layout: scan not trusted");
        const char *foreign = "{\"UnprocessedItems\":{\"T\":[{\"PutRequest\":{\"Item\":{\"seq\":{\"N\":\"7\"}}}}]}}";
        ddb_scan_init(&sc, "seq", many, 25);
        ddb_scan_feed(&sc, foreign, strlen(foreign));
        CHECK(ddb_scan_result(&sc, lst) == -1, "a seq not in the request: scan not trusted");
        ddb_scan_init(&sc, "seq", many, 25);
        ddb_scan_feed(&sc, "{\"UnprocessedItems\":{}}", 23);
        CHECK(ddb_scan_result(&sc, lst) == 0 && lst[3] == 0, "nothing unprocessed");
    }

    /* ---- classification and backoff ---- */
    CHECK(ddb_classify(200, "", "") == DDB_CLASS_OK, "200 ok");
    CHECK(ddb_classify(400, "ThrottlingException", "") == DDB_CLASS_RETRY, "throttling retried");
    CHECK(ddb_classify(400, "ProvisionedThroughputExceededException", "") == DDB_CLASS_RETRY, "PTEE retried");
    CHECK(ddb_classify(400, "RequestLimitExceeded", "") == DDB_CLASS_RETRY, "RLE retried");
    CHECK(ddb_classify(500, "InternalServerError", "") == DDB_CLASS_RETRY, "ISE retried");
    CHECK(ddb_classify(503, "", "") == DDB_CLASS_RETRY, "503 retried");
    CHECK(ddb_classify(400, "ValidationException", "x") == DDB_CLASS_FATAL, "validation not retried");
    CHECK(ddb_classify(400, "ResourceNotFoundException", "Requested resource not found") == DDB_CLASS_FATAL,
          "missing table: not retried, not a credentials error");
    CHECK(ddb_classify(403, "InvalidSignatureException", "Signature expired: 20250101T000000Z is now earlier than")
              == DDB_CLASS_SKEW, "signature expired: skew");
    CHECK(ddb_classify(403, "InvalidSignatureException", "Signature not yet current: 20260101T010000Z is still later than")
              == DDB_CLASS_SKEW, "signature not yet current: skew");
    /* The credentials errors: every type the endpoint (scenarios/src/endpoint/sigv4.rs) answers,
       with its wording, and the rest of AWS's list. */
    {
        static const char *const cred[][2] = {
            {"InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
            {"InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. "},
            {"UnrecognizedClientException", "The security token included in the request is invalid."},
            {"MissingAuthenticationTokenException", "Request is missing Authentication Token"},
            {"IncompleteSignatureException", "Authorization header requires 'Signature' parameter."},
            {"AccessDeniedException", "User: arn:aws:iam::123456789012:user/x is not authorized"},
            {"ExpiredTokenException", "The security token included in the request is expired"},
            {"InvalidClientTokenId", ""},
            {"SignatureDoesNotMatch", ""},
        };
        int all = 1;
        for (unsigned i = 0; i < sizeof cred / sizeof cred[0]; i++) {
            int k = ddb_classify(i % 2 ? 403 : 400, cred[i][0], cred[i][1]);
            all &= k == DDB_CLASS_CREDENTIALS && ddb_is_credentials_error(cred[i][0]);
            if (k != DDB_CLASS_CREDENTIALS)
                printf("  %s: class %d\n", cred[i][0], k);
        }
        CHECK(all, "credentials refused: DDB_CLASS_CREDENTIALS for each of the %u types",
              (unsigned)(sizeof cred / sizeof cred[0]));
        CHECK(!ddb_is_credentials_error("InvalidSignatureExceptionX") &&
                  !ddb_is_credentials_error("InvalidSignature") && !ddb_is_credentials_error("") &&
                  !ddb_is_credentials_error(NULL) && !ddb_is_credentials_error("ValidationException"),
              "only whole type names match");
        /* A retryable type wins over nothing else; a 5xx is never a credentials error. */
        CHECK(ddb_classify(500, "AccessDeniedException", "") == DDB_CLASS_RETRY, "5xx retried whatever the type");
    }
    uint32_t rng = 12345, rng2 = 12345;
    int within = 1, same = 1, spread = 0;
    for (unsigned a = 1; a <= 12; a++) {
        uint32_t ceiling = 100u << (a - 1);
        if (ceiling > 20000u || a > 9)
            ceiling = 20000u;
        uint32_t b = ddb_backoff_ms(&rng, a);
        within &= b < ceiling;
        same &= b == ddb_backoff_ms(&rng2, a);
        spread += b > ceiling / 10u;
    }
    CHECK(within && same && spread >= 6, "backoff within [0, min(20 s, 100 ms * 2^(n-1))), deterministic, jittered");

    /* ---- PutItem: first attempt ---- */
    char r200[512], r400[512], r503[512], rsk[512], rval[512];
    resp(r200, sizeof r200, 200, "{}", DATE0, 1);
    reset();
    script(1, (const char *const[]){r200});
    ddb_init(&c, &cfg, &io, 42);
    int ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && res.status == 200 && res.attempts == 1 && res.acked == 1 &&
              strcmp(res.request_id, "RID200") == 0,
          "put ok: ret %d status %d attempts %u", ret, res.status, res.attempts);
    CHECK(f.requests == 1 && f.bad_requests == 0 && strcmp(f.last_body, want_put) == 0,
          "request well-formed, body exact");
    CHECK(strcmp(f.last_target, "DynamoDB_20120810.PutItem") == 0 && strcmp(f.last_date, "20260101T000000Z") == 0,
          "target and date: %s %s", f.last_target, f.last_date);
    /* keep-alive: a second put on the same connection */
    script(1, (const char *const[]){r200});
    f.next = 0;
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && f.connects == 1 && f.requests == 2, "second put reuses the connection");

    /* ---- throttling, then success ---- */
    resp(r400, sizeof r400, 400,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":\"slow down\"}",
         DATE0, 1);
    reset();
    script(3, (const char *const[]){r400, r400, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && res.attempts == 3 && f.sleeps == 2 && f.slept[0] < 100 && f.slept[1] < 200 &&
              f.attempts_seen == 2 && f.bad_requests == 0,
          "throttled twice then ok: attempts %u sleeps %u (%u, %u ms)", res.attempts, f.sleeps,
          f.slept[0], f.slept[1]);

    /* ---- 5xx until the attempts run out ---- */
    resp(r503, sizeof r503, 503, "{}", DATE0, 1);
    reset();
    script(6, (const char *const[]){r503, r503, r503, r503, r503, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_ERR_RETRIES && res.attempts == DDB_MAX_ATTEMPTS && f.requests == DDB_MAX_ATTEMPTS &&
              f.sleeps == DDB_MAX_ATTEMPTS - 1 && res.status == 503 &&
              f.attempts_seen == DDB_MAX_ATTEMPTS && f.retrying_seen == DDB_MAX_ATTEMPTS - 1,
          "5xx: gives up after %u attempts (%u), every retry announced (%u of %u callbacks), "
          "the last not", DDB_MAX_ATTEMPTS, res.attempts, f.retrying_seen, f.attempts_seen);

    /* ---- validation error: not retried, reported ---- */
    resp(rval, sizeof rval, 400,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\",\"message\":\"One or more parameter values were invalid\"}",
         DATE0, 1);
    reset();
    script(2, (const char *const[]){rval, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_ERR_REJECTED && res.attempts == 1 && f.sleeps == 0 &&
              strcmp(res.type, "ValidationException") == 0 &&
              strcmp(res.message, "One or more parameter values were invalid") == 0,
          "validation: rejected at once (%s: %s)", res.type, res.message);

    /* ---- clock skew: our clock is 1 hour slow; Date tells the truth ---- */
    resp(rsk, sizeof rsk, 400,
         "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\",\"message\":\"Signature expired: 20260101T000000Z is now earlier than 20260101T005500Z\"}",
         "Thu, 01 Jan 2026 01:00:00 GMT", 1);
    reset();
    script(3, (const char *const[]){rsk, r200, rsk});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && res.attempts == 2 && f.sleeps == 0 && c.clock_offset == 3600 &&
              c.skew_corrections == 1 && strcmp(f.last_date, "20260101T010000Z") == 0,
          "skew corrected: offset %d, date %s", (int)c.clock_offset, f.last_date);
    /* A second skew error in one call is not corrected again: reported. */
    f.next = 2;
    script(3, (const char *const[]){rsk, r200, rsk});
    f.next = 2;
    f.script[3] = rsk;
    f.script_len = 4;
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret != DDB_OK, "repeated skew error not retried forever (ret %d, attempts %u)", ret, res.attempts);
    /* Any 4xx with a far Date is skew too (e.g. a proxy's error) */
    char rfar[512];
    resp(rfar, sizeof rfar, 403,
         "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\",\"message\":\"Signature not yet current\"}",
         "Wed, 31 Dec 2025 23:00:00 GMT", 1);
    reset();
    script(2, (const char *const[]){rfar, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && c.clock_offset == -3600, "4xx with a Date an hour behind: offset %d", (int)c.clock_offset);

    /* ---- CRC mismatch, then ok ---- */
    char rbad[512];
    resp(rbad, sizeof rbad, 200, "{}", DATE0, 0);
    reset();
    script(2, (const char *const[]){rbad, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && res.attempts == 2 && f.sleeps == 1, "CRC mismatch retried");

    /* ---- connection refused: the call ends at once, nothing sent (the caller's schedule
       paces new connections) ---- */
    reset();
    script(2, (const char *const[]){NULL, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_ERR_CONNECT && res.attempts == 1 && f.connects == 1 && f.requests == 0 &&
              f.sleeps == 0 && res.status == 0 && strcmp(res.type, "ConnectionError") == 0,
          "connect failure: DDB_ERR_CONNECT at once (ret %d attempts %u connects %u sleeps %u)", ret,
          res.attempts, f.connects, f.sleeps);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && f.connects == 2 && f.requests == 1, "the next call connects again");
    /* ---- dropped mid-response, then ok: reconnected within the call ---- */
    reset();
    script(2, (const char *const[]){"DROP", r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && res.attempts == 2 && f.connects == 2 && f.requests == 2,
          "a drop retried on a new connection: attempts %u connects %u", res.attempts, f.connects);
    /* ... but a reconnection that fails ends the call */
    reset();
    script(2, (const char *const[]){"DROP", NULL});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_ERR_CONNECT && res.attempts == 2 && f.connects == 2 && f.requests == 1,
          "drop, then no connection: DDB_ERR_CONNECT (attempts %u)", res.attempts);
    /* ---- an untrusted server: nothing sent, not retried ---- */
    reset();
    script(2, (const char *const[]){UNTRUSTED, r200});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_ERR_UNTRUSTED && res.attempts == 1 && f.connects == 1 && f.requests == 0 &&
              f.sleeps == 0 && strcmp(res.type, "UntrustedServer") == 0,
          "untrusted certificate: DDB_ERR_UNTRUSTED, no request (ret %d requests %u)", ret, f.requests);
    {
        uint8_t ack2[2];
        reset();
        script(1, (const char *const[]){UNTRUSTED});
        ddb_init(&c, &cfg, &io, 42);
        ret = ddb_batch(&c, rs, 2, ack2, &res);
        CHECK(ret == DDB_ERR_UNTRUSTED && !ack2[0] && !ack2[1] && f.requests == 0,
              "untrusted certificate, BatchWriteItem: nothing acked, nothing sent");
    }

    /* ---- credentials refused: not retried, reported with the server's words ---- */
    {
        char rcred[640];
        resp(rcred, sizeof rcred, 400,
             "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\",\"message\":\"The request "
             "signature we calculated does not match the signature you provided. Check your AWS Secret "
             "Access Key and signing method. Consult the service documentation for details.\"}",
             DATE0, 1);
        reset();
        script(3, (const char *const[]){rcred, r200, r200});
        ddb_init(&c, &cfg, &io, 42);
        ret = ddb_put(&c, &r1, &res);
        CHECK(ret == DDB_ERR_CREDENTIALS && res.attempts == 1 && f.requests == 1 && f.sleeps == 0 &&
                  res.status == 400 && strcmp(res.type, "InvalidSignatureException") == 0 &&
                  strncmp(res.message, "The request signature we calculated", 35) == 0 &&
                  c.skew_corrections == 0,
              "wrong secret: DDB_ERR_CREDENTIALS after one request (ret %d attempts %u %s)", ret,
              res.attempts, res.type);
        uint8_t ack3[3];
        reset();
        script(2, (const char *const[]){rcred, r200});
        ddb_init(&c, &cfg, &io, 42);
        ret = ddb_batch(&c, rs, 3, ack3, &res);
        CHECK(ret == DDB_ERR_CREDENTIALS && res.acked == 0 && !ack3[0] && f.requests == 1,
              "wrong secret, BatchWriteItem: DDB_ERR_CREDENTIALS, nothing acked");
        /* A refused signature with a Date an hour away is the clock: corrected once, and if the
           key is wrong too, the second answer is the credentials error. */
        char rcredfar[640];
        resp(rcredfar, sizeof rcredfar, 403,
             "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\",\"message\":\"The request "
             "signature we calculated does not match the signature you provided.\"}",
             "Thu, 01 Jan 2026 01:00:00 GMT", 1);
        char rcrednear[640];
        resp(rcrednear, sizeof rcrednear, 403,
             "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\",\"message\":\"The request "
             "signature we calculated does not match the signature you provided.\"}",
             "Thu, 01 Jan 2026 01:00:00 GMT", 1);
        reset();
        script(2, (const char *const[]){rcredfar, rcrednear});
        ddb_init(&c, &cfg, &io, 42);
        ret = ddb_put(&c, &r1, &res);
        CHECK(ret == DDB_ERR_CREDENTIALS && res.attempts == 2 && c.clock_offset == 3600 &&
                  c.skew_corrections == 1,
              "skewed clock and a wrong key: corrected, then DDB_ERR_CREDENTIALS (ret %d attempts %u)",
              ret, res.attempts);
    }
    /* Connection: close is honoured */
    char rclose[512];
    snprintf(rclose, sizeof rclose, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
    reset();
    script(2, (const char *const[]){rclose, r200});
    ddb_init(&c, &cfg, &io, 42);
    CHECK(ddb_put(&c, &r1, &res) == DDB_OK && f.open == 0 && ddb_put(&c, &r1, &res) == DDB_OK &&
              f.connects == 2,
          "Connection: close -> reconnect for the next request");

    /* ---- BatchWriteItem with UnprocessedItems ---- */
    char rb1[1024], rb2[512];
    resp(rb1, sizeof rb1, 200,
         "{\"UnprocessedItems\":{\"SensorReadings\":[{\"PutRequest\":{\"Item\":{\"deviceId\":{\"S\":\"hopper\"},\"seq\":{\"N\":\"3\"}}}}]}}",
         DATE0, 1);
    resp(rb2, sizeof rb2, 200, "{\"UnprocessedItems\":{}}", DATE0, 1);
    reset();
    script(2, (const char *const[]){rb1, rb2});
    ddb_init(&c, &cfg, &io, 42);
    uint8_t acked[3];
    ret = ddb_batch(&c, rs, 3, acked, &res);
    CHECK(ret == DDB_OK && res.attempts == 2 && res.acked == 3 && acked[0] && acked[1] && acked[2] &&
              f.sleeps == 1 && f.bad_requests == 0,
          "batch: seq 3 unprocessed, re-sent: ret %d attempts %u acked %u", ret, res.attempts, res.acked);
    CHECK(strcmp(f.last_target, "DynamoDB_20120810.BatchWriteItem") == 0 &&
              strstr(f.last_body, "\"seq\":{\"N\":\"3\"}") != NULL && strstr(f.last_body, "\"N\":\"1\"") == NULL,
          "the second request carries only seq 3: %s", f.last_body);
    /* Batch that keeps failing: the acked ones are reported. */
    reset();
    script(5, (const char *const[]){rb1, rb1, rb1, rb1, rb1});
    ddb_init(&c, &cfg, &io, 42);
    ret = ddb_batch(&c, rs, 3, acked, &res);
    CHECK(ret == DDB_ERR_RETRIES && acked[0] && acked[1] && !acked[2] && res.acked == 2,
          "batch: seq 3 never processed: 2 acked");
    /* A partial batch whose UnprocessedItems is longer than the response buffer: found by the
       streaming scan, only those re-sent. */
    {
        struct ddb_reading five[5];
        for (unsigned i = 0; i < 5; i++)
            five[i] = (struct ddb_reading){20 + i, 2000, 5000, T2026};
        char ub2[2048], rbig[3072], rok[512];
        size_t ul = (size_t)snprintf(ub2, sizeof ub2, "{\"UnprocessedItems\":{\"SensorReadings\":[");
        for (unsigned i = 1; i < 5; i += 2) /* seq 21 and 23, padded past the buffer */
            ul += (size_t)snprintf(ub2 + ul, sizeof ub2 - ul,
                                   "%s{\"PutRequest\":{\"Item\":{\"deviceId\":{\"S\":\"hopper\"},"
                                   "\"seq\":{\"N\":\"%u\"},\"temperature\":{\"N\":\"20\"},"
                                   "\"humidity\":{\"N\":\"50\"},\"timestamp\":{\"S\":"
                                   "\"2026-01-01T00:00:00Z\"},\"padding\":{\"S\":\"%0150d\"}}}}",
                                   i > 1 ? "," : "", 20 + i, 0);
        snprintf(ub2 + ul, sizeof ub2 - ul, "]}}");
        CHECK(strlen(ub2) > DDB_BODY_MAX, "the UnprocessedItems body (%zu) exceeds the buffer", strlen(ub2));
        resp(rbig, sizeof rbig, 200, ub2, DATE0, 1);
        resp(rok, sizeof rok, 200, "{\"UnprocessedItems\":{}}", DATE0, 1);
        reset();
        script(2, (const char *const[]){rbig, rok});
        ddb_init(&c, &cfg, &io, 42);
        uint8_t ack5[5];
        ret = ddb_batch(&c, five, 5, ack5, &res);
        CHECK(ret == DDB_OK && res.attempts == 2 && res.acked == 5 &&
                  strstr(f.last_body, "\"N\":\"21\"") != NULL && strstr(f.last_body, "\"N\":\"23\"") != NULL &&
                  strstr(f.last_body, "\"N\":\"20\"") == NULL && strstr(f.last_body, "\"N\":\"22\"") == NULL,
              "long UnprocessedItems: only seq 21 and 23 re-sent: %s", f.last_body);
    }
    CHECK(ddb_batch(&c, rs, 0, acked, &res) == DDB_ERR_ARG && ddb_batch(&c, rs, 26, acked, &res) == DDB_ERR_ARG,
          "batch of 0 or 26 refused");

    /* ---- a session token: sent and signed ---- */
    struct ddb_config tcfg = cfg;
    tcfg.session_token = "FwoGZXIvYXdzEXAMPLE//token==";
    expect_token = tcfg.session_token;
    reset();
    script(1, (const char *const[]){r200});
    ddb_init(&c, &tcfg, &io, 42);
    ret = ddb_put(&c, &r1, &res);
    CHECK(ret == DDB_OK && f.requests == 1 && f.bad_requests == 0,
          "session token: X-Amz-Security-Token sent and in SignedHeaders");
    expect_token = NULL;

    return host_check_summary("dynamodb");
}
