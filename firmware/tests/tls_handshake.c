/*
 * tls_handshake - full TLS 1.2 handshakes of the device's client (tls/tls_client.c, the
 * production configuration and library) against an mbedTLS server running on a second
 * simulated FT900 (tests/tls_peer_server.c), the bytes going through RAM mailboxes
 * (tests/tls_mailbox.h) that ft900-sim/tests/tls.rs connects. Measures what one client session
 * costs on the chip: the heap's high-water mark, the client's CPU cycles, the largest record it
 * had to hold, the stack.
 *
 * Scenarios (the server plays the matching part):
 *   1 ecdsa      ECDHE-ECDSA-AES128-GCM-SHA256, ECDSA P-256 chain (leaf + CA), time unknown
 *                (validity not checked, reported), ALPN "x-amzn-mqtt-ca", SNI;
 *   2 rsa_mtls   ECDHE-RSA-AES128-GCM-SHA256 with an AWS-shaped RSA-2048 chain of 5
 *                certificates (~5.1 KiB: the Certificate record is the largest the client must
 *                hold), the client trusting three CAs given as one PEM bundle like a device
 *                configuration (Amazon Root CA 1 and 3, the test root), a client certificate
 *                (mutual TLS, as AWS IoT requires), time known; then 100 bytes up, 6000 bytes
 *                down in one record, close_notify;
 *   3 bad_name   the client expects another host name: it refuses (CN mismatch);
 *   4 untrusted  the client trusts only the Amazon roots: it refuses (not trusted).
 *
 * The configuration (CA bundle, device certificate and key) lives in program memory, as in the
 * device's configuration block, and is copied into the heap for tls_client_connect().
 *
 * Output, besides the check lines: "cost <id> <name>: <cycles> cycles (...)" (the client's
 * work only: tls_bench_mark(id << 1 | end) brackets every client call, the harness sums the
 * spans), "heap <scenario>: high-water ..." and the RAM line.
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "testlib.h"
#include "tls_client.h"
#include "tls_entropy.h"
#include "tls_mailbox.h"
#include "tls_platform.h"

#define TLS_TEST_DATA(name) \
    static const __flash__ unsigned char name[] __attribute__((section("._pm." #name)))
#define TLS_TEST_TEXT(name) \
    static const __flash__ char name[] __attribute__((section("._pm." #name)))
#include "tls_test_certs.h"

TLS_MAILBOX_DEFINE

extern char __data_start[], __data_end[], __bss_start[], __bss_end[], _end[];

#define TIME_2025_06_01 1748736000u

/* ---- measurements -------------------------------------------------------------------------- */

enum bench { B_CLIENT_ECDSA, B_CLIENT_RSA_MTLS, B_CLIENT_READ_6000, B_COUNT };
static const char *const bench_names[B_COUNT] = {
    [B_CLIENT_ECDSA] = "client_handshake_ecdhe_ecdsa",
    [B_CLIENT_RSA_MTLS] = "client_handshake_ecdhe_rsa_mtls",
    [B_CLIENT_READ_6000] = "client_read_6000_bytes",
};
static uint32_t bench_cycles[B_COUNT];

void __attribute__((noinline)) tls_bench_mark(unsigned id)
{
    __asm__ volatile("" : : "r"(id) : "memory");
}

static void print_cost(enum bench b)
{
    uint32_t c = bench_cycles[b];
    tprintf("cost %u %s: %lu cycles (%lu.%02lu ms at 100 MHz)\n", (unsigned)b, bench_names[b], c,
            c / 100000u, c % 100000u / 1000u);
}

/* ---- transport over the mailbox, with the largest record seen ------------------------------ */

static struct {
    unsigned char hdr[5];
    unsigned have;
    uint32_t left, largest;
} rec;

static void track_records(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (rec.left > 0) {
            size_t k = n - i < rec.left ? n - i : rec.left;
            rec.left -= (uint32_t)k;
            i += k;
            continue;
        }
        rec.hdr[rec.have++] = p[i++];
        if (rec.have == 5) {
            rec.left = (uint32_t)rec.hdr[3] << 8 | rec.hdr[4];
            if (rec.left > rec.largest)
                rec.largest = rec.left;
            rec.have = 0;
        }
    }
}

static int mb_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    int n = tls_mailbox_send(buf, len);
    return n > 0 ? n : TLS_TRANSPORT_WOULD_BLOCK;
}

static int mb_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    int n = tls_mailbox_recv(buf, len);
    if (n <= 0)
        return TLS_TRANSPORT_WOULD_BLOCK;
    track_records(buf, (size_t)n);
    return n;
}

static const tls_transport_t transport = {mb_send, mb_recv, NULL};

/* ---- the device configuration, from program memory ----------------------------------------- */

static unsigned char *pm_dup(const __flash__ void *src, size_t len)
{
    unsigned char *p = mbedtls_calloc(1, len);
    const __flash__ unsigned char *s = src;
    if (p != NULL)
        for (size_t i = 0; i < len; i++)
            p[i] = s[i];
    return p;
}

/* PEM bundle (NUL-terminated, *len counting the NUL): Amazon Root CA 1 and 3, plus a test CA. */
static unsigned char *ca_bundle(int test_root_rsa, int test_ca_ec, size_t *len)
{
    size_t n = (tls_test_amazon_root_ca1_pem_len - 1) + (tls_test_amazon_root_ca3_pem_len - 1) +
               (test_root_rsa ? tls_test_rsa_root_pem_len - 1 : 0) +
               (test_ca_ec ? tls_test_ec_ca_pem_len - 1 : 0) + 1;
    unsigned char *p = mbedtls_calloc(1, n), *q = p;
    if (p == NULL)
        return NULL;
#define APPEND(x)                                \
    do {                                         \
        for (size_t i = 0; i < x##_len - 1; i++) \
            *q++ = (unsigned char)x[i];          \
    } while (0)
    APPEND(tls_test_amazon_root_ca1_pem);
    APPEND(tls_test_amazon_root_ca3_pem);
    if (test_root_rsa)
        APPEND(tls_test_rsa_root_pem);
    if (test_ca_ec)
        APPEND(tls_test_ec_ca_pem);
#undef APPEND
    *q = '\0';
    *len = n;
    return p;
}

/* ---- one connection ------------------------------------------------------------------------ */

struct scenario {
    unsigned id;
    const char *name;
    const char *host;
    int mtls, trust_rsa_root, trust_ec_ca;
    enum bench bench; /* B_COUNT: not measured */
};

static tls_client_t client;
static uint32_t generation;
static size_t heap_after_connect, heap_after_handshake;

static int is_want(int ret)
{
    return ret == TLS_WANT_READ || ret == TLS_WANT_WRITE;
}

/* Runs `call` bracketed by the bench marks of `b` and adds its cycles. */
#define MEASURE(b, call)                                        \
    ({                                                          \
        if ((b) != B_COUNT)                                     \
            tls_bench_mark((unsigned)(b) << 1);                 \
        uint32_t t0_ = tls_cycles();                            \
        int r_ = (call);                                        \
        uint32_t c_ = tls_cycles() - t0_;                       \
        if ((b) != B_COUNT) {                                   \
            tls_bench_mark((unsigned)(b) << 1 | 1u);            \
            bench_cycles[b] += c_;                              \
        }                                                       \
        r_;                                                     \
    })

/* Tells the server (through the harness) which scenario starts, on an empty pipe. */
static void new_connection(const struct scenario *s)
{
    generation++;
    tls_mailbox.ctl_out = generation << 8 | s->id;
    tls_mailbox_idle();
    memset(&rec, 0, sizeof rec);
}

/* Connects and completes the handshake (or fails); returns the last result. */
static int handshake(const struct scenario *s, unsigned *rounds)
{
    tls_platform_init_default(); /* a fresh heap per scenario: its high-water mark is its own */
    new_connection(s);

    size_t ca_len = 0;
    unsigned char *ca = ca_bundle(s->trust_rsa_root, s->trust_ec_ca, &ca_len);
    unsigned char *crt = NULL, *key = NULL;
    if (s->mtls) {
        crt = pm_dup(tls_test_device_der, tls_test_device_der_len);
        key = pm_dup(tls_test_device_key_der, tls_test_device_key_der_len);
    }
    static const char *alpn[] = {"x-amzn-mqtt-ca", NULL};
    tls_client_config_t cfg = {
        .hostname = s->host,
        .ca = ca,
        .ca_len = ca_len,
        .own_cert = crt,
        .own_cert_len = tls_test_device_der_len,
        .own_key = key,
        .own_key_len = tls_test_device_key_der_len,
        .alpn = alpn,
    };
    int ret = MEASURE(s->bench, tls_client_connect(&client, &cfg, &transport));
    /* Parsed: the configuration's copies can go. */
    mbedtls_free(ca);
    mbedtls_free(crt);
    mbedtls_free(key);
    heap_after_connect = tls_heap_in_use();
    for (*rounds = 1; is_want(ret) && *rounds < 1000; ++*rounds) {
        tls_mailbox_idle();
        ret = MEASURE(s->bench, tls_client_handshake(&client));
    }
    heap_after_handshake = tls_heap_in_use();
    return ret;
}

static void finish(const struct scenario *s)
{
    tls_client_free(&client);
    size_t used = tls_heap_in_use();
    CHECK(used == 0 && tls_heap_verify() == 0, "%s: heap empty and consistent after free (%u)",
          s->name, (unsigned)used);
}

static void report_heap(const struct scenario *s)
{
    tprintf("heap %s: high-water %u of %u bytes; in use after connect %u, after the handshake "
            "%u; largest record received %lu bytes\n",
            s->name, (unsigned)tls_heap_high_water(), (unsigned)tls_heap_size(),
            (unsigned)heap_after_connect, (unsigned)heap_after_handshake, rec.largest);
}

/* ---- scenarios ----------------------------------------------------------------------------- */

static const struct scenario ecdsa = {1, "ecdsa", TLS_TEST_HOST, 0, 0, 1, B_CLIENT_ECDSA};
static const struct scenario rsa_mtls = {
    2, "rsa_mtls", "node7.iot.us-east-1." TLS_TEST_HOST, 1, 1, 0, B_CLIENT_RSA_MTLS,
};
static const struct scenario bad_name = {3, "bad_name", "other.test", 0, 0, 1, B_COUNT};
static const struct scenario untrusted = {4, "untrusted", TLS_TEST_HOST, 0, 0, 0, B_COUNT};

static void run_ecdsa(void)
{
    const struct scenario *s = &ecdsa;
    unsigned rounds;
    int ret = handshake(s, &rounds);
    CHECK(ret == 0, "ecdsa: handshake complete in %u rounds (-0x%04x)", rounds, (unsigned)-ret);
    const char *suite = tls_client_ciphersuite(&client);
    CHECK(suite != NULL && strcmp(suite, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256") == 0,
          "ecdsa: suite %s", suite ? suite : "(none)");
    const char *proto = tls_client_alpn(&client);
    CHECK(proto != NULL && strcmp(proto, "x-amzn-mqtt-ca") == 0, "ecdsa: ALPN %s",
          proto ? proto : "(none)");
    CHECK(tls_client_verify_flags(&client) == 0 && tls_client_validity_unchecked(&client),
          "ecdsa: chain and host name verified; dates not checked (time unknown)");
    /* The server reports the SNI it got as its first application bytes. */
    char sni[40] = {0};
    int n = 0;
    for (unsigned guard = 0; guard < 50 && n <= 0; guard++) {
        n = tls_client_read(&client, sni, sizeof sni - 1);
        if (is_want(n))
            tls_mailbox_idle();
    }
    CHECK(n > 0 && strcmp(sni, "sni=" TLS_TEST_HOST) == 0, "ecdsa: the server saw %s",
          n > 0 ? sni : "nothing");
    report_heap(s);
    finish(s);
}

static void run_rsa_mtls(void)
{
    const struct scenario *s = &rsa_mtls;
    unsigned rounds;
    tls_time_set(TIME_2025_06_01);
    int ret = handshake(s, &rounds);
    CHECK(ret == 0, "rsa_mtls: handshake complete in %u rounds (-0x%04x)", rounds,
          (unsigned)-ret);
    const char *suite = tls_client_ciphersuite(&client);
    CHECK(suite != NULL && strcmp(suite, "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256") == 0,
          "rsa_mtls: suite %s", suite ? suite : "(none)");
    CHECK(tls_client_verify_flags(&client) == 0 && !tls_client_validity_unchecked(&client),
          "rsa_mtls: chain, host name (wildcard) and dates verified (flags %lx)",
          tls_client_verify_flags(&client));
    uint32_t cert_record = rec.largest;
    CHECK(cert_record > 5000 && cert_record <= MBEDTLS_SSL_IN_CONTENT_LEN,
          "rsa_mtls: the Certificate record (%lu bytes) fit in the %u-byte IN buffer",
          cert_record, (unsigned)MBEDTLS_SSL_IN_CONTENT_LEN);

    /* 100 bytes up (an MQTT CONNECT's size); the server answers "mtls=ok" if it verified our
       certificate, then 6000 bytes in one record. */
    static const unsigned char up[100] = "MQTT CONNECT from the FT900";
    int n = 0;
    for (unsigned guard = 0; guard < 50; guard++) {
        n = tls_client_write(&client, up, sizeof up);
        if (!is_want(n))
            break;
        tls_mailbox_idle();
    }
    CHECK(n == (int)sizeof up, "rsa_mtls: client wrote %d bytes", n);

    size_t received = 0, wrong = 0;
    char status[8] = {0};
    for (unsigned guard = 0; guard < 200 && received < 7 + 6000u; guard++) {
        unsigned char buf[512];
        int r = MEASURE(B_CLIENT_READ_6000, tls_client_read(&client, buf, sizeof buf));
        if (is_want(r)) {
            tls_mailbox_idle();
            continue;
        }
        if (r <= 0)
            break;
        for (int i = 0; i < r; i++, received++) {
            if (received < 7)
                status[received] = (char)buf[i];
            else
                wrong += buf[i] != (unsigned char)((received - 7) * 7u + 3u);
        }
    }
    CHECK(strcmp(status, "mtls=ok") == 0, "rsa_mtls: the server verified the device: %s", status);
    CHECK(received == 7 + 6000u && wrong == 0,
          "rsa_mtls: 6000 bytes received intact (%u, %u wrong)", (unsigned)received - 7,
          (unsigned)wrong);
    CHECK(rec.largest > 6000 && rec.largest <= MBEDTLS_SSL_IN_CONTENT_LEN,
          "rsa_mtls: in one record of %lu bytes", rec.largest);

    for (unsigned guard = 0; guard < 50; guard++) {
        ret = tls_client_close(&client);
        if (!is_want(ret))
            break;
        tls_mailbox_idle();
    }
    CHECK(ret == 0, "rsa_mtls: close_notify sent");
    /* The server closes too: a read sees the end of the session. */
    for (unsigned guard = 0; guard < 50; guard++) {
        unsigned char b;
        ret = tls_client_read(&client, &b, 1);
        if (!is_want(ret))
            break;
        tls_mailbox_idle();
    }
    CHECK(ret == 0, "rsa_mtls: the server's close_notify read as the end (%d)", ret);
    report_heap(s);
    finish(s);
}

static void run_failure(const struct scenario *s, uint32_t flag, const char *what)
{
    unsigned rounds;
    int ret = handshake(s, &rounds);
    uint32_t flags = tls_client_verify_flags(&client);
    CHECK(ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && (flags & flag),
          "%s: the client refuses: %s (-0x%04x, flags %lx)", s->name, what, (unsigned)-ret, flags);
    CHECK(client.state == TLS_CLIENT_FAILED &&
              tls_client_write(&client, "x", 1) == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED,
          "%s: the failed session refuses data", s->name);
    finish(s);
}

/* ---- main ---------------------------------------------------------------------------------- */

static const uint8_t device_seed[TLS_SEED_LEN] = "ft900-sim tls_handshake seed...";

#define STACK_PAINT 0x5AA55AA5u
static uint32_t ram_addr(const void *p)
{
    return (uint32_t)(uintptr_t)p & 0xFFFFu;
}

int main(void)
{
    uint32_t sp;
    __asm__ volatile("move.l %0, $sp" : "=r"(sp));
    uint32_t lo = (ram_addr(_end) + 3u) & ~3u;
    for (uint32_t a = lo; a < ((sp - 64u) & ~3u); a += 4)
        *(volatile uint32_t *)(uintptr_t)a = STACK_PAINT;

    tls_mailbox_init();
    test_begin("tls_handshake");
    timer_tick_init();
    interrupt_enable_globally();
    tls_entropy_init(device_seed, NULL);

    run_ecdsa();
    run_rsa_mtls();
    run_failure(&bad_name, MBEDTLS_X509_BADCERT_CN_MISMATCH, "host name mismatch");
    run_failure(&untrusted, MBEDTLS_X509_BADCERT_NOT_TRUSTED, "chain not trusted");
    tls_mailbox.ctl_out = 0; /* the server may stop */

    for (unsigned b = 0; b < B_COUNT; b++)
        print_cost((enum bench)b);
    uint32_t low = lo;
    while (low < 0x10000u && *(volatile uint32_t *)(uintptr_t)low == STACK_PAINT)
        low += 4;
    tprintf("ram: data %u + bss %u bytes (heap %u, mailbox %u), stack used %lu bytes (%lu free "
            "below it)\n",
            (unsigned)(__data_end - __data_start), (unsigned)(__bss_end - __bss_start),
            (unsigned)tls_heap_size(), (unsigned)sizeof tls_mailbox, 0x10000u - low,
            low - ram_addr(_end));
    return test_end();
}
