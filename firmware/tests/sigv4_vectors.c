/*
 * sigv4_vectors - the AWS SigV4 signer (firmware/aws) on the FT900: runs the known-answer
 * self-tests, then signs the AWS test-suite requests the host sends over UART0 and prints the
 * canonical request, string to sign and Authorization value for the host to compare with the
 * suite's files (ft900-sim/tests/sigv4.rs).
 *
 * UART0 runs at 1 Mbaud (divisor 25, 4 samples per bit: 1000 cycles per byte), polled. The
 * exchange is driven by the device, so that nothing arrives while it is busy signing:
 *
 *   device: "READY\n"
 *   host:   "CASE <name> <req_len> <token_len>\n" <req_len bytes of NAME.req> <token_len bytes
 *           of session token>          (or "END\n": the device prints its summary and exits)
 *   device: "BEGIN <name>\n"
 *           "CREQ <n>\n" <n bytes> "\n"  "STS <n>\n" <n bytes> "\n"  "AUTHZ <n>\n" <n bytes> "\n"
 *           "DONE <name> ok\n"   or, instead of CREQ..AUTHZ, "DONE <name> error <reason>\n"
 *
 * The request is signed with the suite's parameters (AKIDEXAMPLE, 20150830T123600Z,
 * us-east-1, service "service"). Lengths are checked against the buffers below; a case too
 * big is read, dropped and reported. The function sigv4_vectors_signed() marks the end of
 * each signature for the host's cycle count (from the entry of sigv4_sign).
 */
#include <string.h>
#include "testlib.h"
#include "sigv4.h"
#include "sigv4_req.h"
#include "sigv4_selftest.h"

#define BAUD        1000000u
#define LINE_MAX    96u
#define NAME_MAX    63u
#define REQ_MAX     2048u
#define TOKEN_MAX   1024u
#define HEADERS_MAX 32u
#define CREQ_MAX    3072u
#define STS_MAX     256u
#define AUTHZ_MAX   512u

static char line[LINE_MAX + 1];
static char req_buf[REQ_MAX + 1]; /* + 1: the parser's NUL */
static char token[TOKEN_MAX + 1];
static struct sigv4_header headers[HEADERS_MAX];
static char creq[CREQ_MAX], sts[STS_MAX], authz[AUTHZ_MAX];

/* Called after each signature with its status (the host's end-of-signature mark). */
__attribute__((noinline)) void sigv4_vectors_signed(int status)
{
    __asm__ volatile("" : : "r"(status) : "memory");
}

static void selftest_report(void *ctx, int ok, const char *what, const char *got)
{
    unsigned *counts = ctx;
    counts[ok ? 0 : 1]++;
    if (!ok)
        tprintf("FAIL self-test: %s (produced \"%s\")\n", what, got ? got : "");
}

/* One line (without "\n"; a "\r" before it is dropped); 0 if it was longer than LINE_MAX. */
static int read_line(void)
{
    unsigned n = 0;
    int fits = 1;
    for (;;) {
        int c = uart_getc(UART0);
        if (c == '\n')
            break;
        if (n < LINE_MAX)
            line[n++] = (char)c;
        else
            fits = 0;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return fits;
}

/* Decimal number at *p (advanced past it and one space); -1 if none or above 1000000. */
static long read_number(const char **p)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > 1000000)
            return -1;
    }
    if (*s == ' ')
        s++;
    *p = s;
    return v;
}

/* Reads n bytes into buf (cap bytes); bytes beyond cap are read and dropped. */
static void read_bytes(char *buf, size_t cap, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = uart_getc(UART0);
        if (i < cap)
            buf[i] = (char)c;
    }
}

static void print_text(const char *tag, const char *text, size_t len)
{
    tprintf("%s %u\n", tag, (unsigned)len);
    uart_write(UART0, text, len);
    tprintf("\n");
}

/* Signs one case; returns 1 on success. `name` is the case name. */
static int sign_case(const char *name, size_t req_len, size_t token_len)
{
    tprintf("BEGIN %s\n", name);
    if (req_len > REQ_MAX || token_len > TOKEN_MAX) {
        tprintf("DONE %s error too large (request %u of %u, token %u of %u bytes)\n", name,
                (unsigned)req_len, REQ_MAX, (unsigned)token_len, TOKEN_MAX);
        return 0;
    }
    token[token_len] = '\0';

    struct sigv4_req req;
    int e = sigv4_req_parse(req_buf, req_len, headers, HEADERS_MAX, &req);
    if (e != SIGV4_REQ_OK) {
        tprintf("DONE %s error %s\n", name,
                e == SIGV4_REQ_TOO_MANY ? "too many headers" : "malformed request");
        return 0;
    }
    struct sigv4_request r = {
        .method = req.method,
        .path = req.path,
        .query = req.query,
        .headers = req.headers,
        .header_count = req.header_count,
        .payload = req.body,
        .payload_len = req.body_len,
        .amz_date = "20150830T123600Z",
        .region = "us-east-1",
        .service = "service",
    };
    const struct sigv4_credentials cred = {
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token_len ? token : NULL,
        NULL,
    };
    struct sigv4_result out = {
        .canonical_request = {creq, sizeof creq, 0},
        .string_to_sign = {sts, sizeof sts, 0},
        .authorization = {authz, sizeof authz, 0},
    };
    e = sigv4_sign(&r, &cred, &out);
    sigv4_vectors_signed(e);
    if (e != SIGV4_OK) {
        tprintf("DONE %s error %s (needs %u/%u/%u bytes)\n", name, sigv4_strerror(e),
                (unsigned)out.canonical_request.len + 1, (unsigned)out.string_to_sign.len + 1,
                (unsigned)out.authorization.len + 1);
        return 0;
    }
    print_text("CREQ", creq, out.canonical_request.len);
    print_text("STS", sts, out.string_to_sign.len);
    print_text("AUTHZ", authz, out.authorization.len);
    tprintf("DONE %s ok\n", name);
    return 1;
}

int main(void)
{
    uart_open(UART0, BAUD);
    test_begin("sigv4_vectors");

    unsigned counts[2] = {0, 0};
    sigv4_selftest(selftest_report, counts, 0);
    CHECK(counts[1] == 0 && counts[0] > 0, "self-tests: %u passed, %u failed", counts[0],
          counts[1]);

    unsigned cases = 0, signed_ok = 0, protocol_errors = 0;
    for (;;) {
        tprintf("READY\n");
        if (!read_line()) {
            tprintf("ERROR line too long\n");
            protocol_errors++;
            continue;
        }
        if (strcmp(line, "END") == 0)
            break;
        const char *p = line;
        if (strncmp(p, "CASE ", 5) != 0) {
            tprintf("ERROR unknown command \"%s\"\n", line);
            protocol_errors++;
            continue;
        }
        p += 5;
        const char *name_start = p;
        while (*p && *p != ' ')
            p++;
        size_t name_len = (size_t)(p - name_start);
        if (*p == ' ')
            p++;
        long req_len = read_number(&p);
        long token_len = read_number(&p);
        if (name_len == 0 || name_len > NAME_MAX || req_len < 0 || token_len < 0 || *p) {
            tprintf("ERROR malformed CASE line \"%s\"\n", line);
            protocol_errors++;
            continue;
        }
        char name[NAME_MAX + 1];
        memcpy(name, name_start, name_len);
        name[name_len] = '\0';
        read_bytes(req_buf, REQ_MAX, (size_t)req_len);
        read_bytes(token, TOKEN_MAX, (size_t)token_len);
        cases++;
        signed_ok += (unsigned)sign_case(name, (size_t)req_len, (size_t)token_len);
    }

    CHECK(cases > 0, "%u cases received", cases);
    CHECK(signed_ok == cases, "%u of %u cases signed", signed_ok, cases);
    CHECK(protocol_errors == 0, "%u protocol errors", protocol_errors);
    return test_end();
}
