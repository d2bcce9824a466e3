/*
 * tls_peer_server - the TLS server that tests/tls_handshake.c's client talks to, on a second
 * simulated FT900 (ft900-sim/tests/tls.rs connects their RAM mailboxes, tests/tls_mailbox.h).
 * mbedTLS's own server (MBEDTLS_SSL_SRV_C, only in this test: TLS_WITH_SERVER), with test
 * certificates from program memory. It waits for the client to announce a scenario, plays its
 * part, reports on its UART0 and waits for the next one; it never exits (the harness stops it
 * when the client is done).
 *
 *   1  ECDSA P-256 chain (leaf + CA); answers "sni=<name it got>" after the handshake;
 *   2  the AWS-shaped RSA-2048 chain (leaf, intermediate, three root-sized certificates:
 *      ~5.1 KiB), requires a client certificate from the ECDSA test CA, reads 100 bytes,
 *      answers "mtls=ok" and 6000 bytes in one record, then closes on the client's close_notify;
 *   3, 4  as 1 (the client is expected to refuse the chain).
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "testlib.h"
#include "tls_mailbox.h"
#include "tls_platform.h"

#define TLS_TEST_DATA(name) \
    static const __flash__ unsigned char name[] __attribute__((section("._pm." #name)))
#define TLS_TEST_TEXT(name) \
    static const __flash__ char name[] __attribute__((section("._pm." #name)))
#include "tls_test_certs.h"

TLS_MAILBOX_DEFINE

#define TIME_2025_06_01 1748736000u
#define ABORTED (-1)

static unsigned char heap[36u * 1024u] __attribute__((aligned(4)));

static struct server {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt chain, ca;
    mbedtls_pk_context key;
    mbedtls_ctr_drbg_context drbg;
    char sni[40];
} srv;
static uint32_t generation;
static uint32_t busy_cycles;

/* The test server's "entropy": a counter. Only the client's randomness is under test. */
static int server_entropy(void *p, unsigned char *out, size_t len)
{
    static uint8_t n;
    (void)p;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(n++ * 151u + 7u);
    return 0;
}

static int sni_cb(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    (void)p;
    (void)ssl;
    if (len >= sizeof srv.sni)
        return -1;
    memcpy(srv.sni, name, len);
    srv.sni[len] = '\0';
    return 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    int n = tls_mailbox_send(buf, len);
    return n > 0 ? n : MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    int n = tls_mailbox_recv(buf, len);
    return n > 0 ? n : MBEDTLS_ERR_SSL_WANT_READ;
}

static int parse_der_pm(mbedtls_x509_crt *crt, const __flash__ unsigned char *der, size_t len)
{
    unsigned char *tmp = mbedtls_calloc(1, len);
    if (tmp == NULL)
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    for (size_t i = 0; i < len; i++)
        tmp[i] = der[i];
    int ret = mbedtls_x509_crt_parse_der(crt, tmp, len);
    mbedtls_free(tmp);
    return ret;
}

static int parse_key_pm(mbedtls_pk_context *key, const __flash__ unsigned char *der, size_t len)
{
    unsigned char *tmp = mbedtls_calloc(1, len);
    if (tmp == NULL)
        return MBEDTLS_ERR_PK_ALLOC_FAILED;
    for (size_t i = 0; i < len; i++)
        tmp[i] = der[i];
    int ret = mbedtls_pk_parse_key(key, tmp, len, NULL, 0);
    mbedtls_free(tmp);
    return ret;
}

static int start(unsigned scenario)
{
    static const char *alpn[] = {"x-amzn-mqtt-ca", NULL};
    int rsa = scenario == 2, mtls = scenario == 2;
    memset(&srv, 0, sizeof srv);
    mbedtls_ssl_init(&srv.ssl);
    mbedtls_ssl_config_init(&srv.conf);
    mbedtls_x509_crt_init(&srv.chain);
    mbedtls_x509_crt_init(&srv.ca);
    mbedtls_pk_init(&srv.key);
    mbedtls_ctr_drbg_init(&srv.drbg);
    int ret = mbedtls_ctr_drbg_seed(&srv.drbg, server_entropy, NULL,
                                    (const unsigned char *)"server", 6);
    if (ret == 0 && rsa) {
        ret = parse_der_pm(&srv.chain, tls_test_rsa_chain_leaf_der,
                           tls_test_rsa_chain_leaf_der_len);
        if (ret == 0)
            ret = parse_der_pm(&srv.chain, tls_test_rsa_chain_m01_der,
                               tls_test_rsa_chain_m01_der_len);
        if (ret == 0)
            ret = parse_der_pm(&srv.chain, tls_test_rsa_chain_amazon1_der,
                               tls_test_rsa_chain_amazon1_der_len);
        if (ret == 0)
            ret = parse_der_pm(&srv.chain, tls_test_rsa_chain_starfield_der,
                               tls_test_rsa_chain_starfield_der_len);
        if (ret == 0)
            ret = parse_der_pm(&srv.chain, tls_test_rsa_chain_amazon3_der,
                               tls_test_rsa_chain_amazon3_der_len);
        if (ret == 0)
            ret = parse_key_pm(&srv.key, tls_test_rsa_leaf_key_der, tls_test_rsa_leaf_key_der_len);
    } else if (ret == 0) {
        ret = parse_der_pm(&srv.chain, tls_test_ec_leaf_der, tls_test_ec_leaf_der_len);
        if (ret == 0)
            ret = parse_der_pm(&srv.chain, tls_test_ec_ca_der, tls_test_ec_ca_der_len);
        if (ret == 0)
            ret = parse_key_pm(&srv.key, tls_test_ec_leaf_key_der, tls_test_ec_leaf_key_der_len);
    }
    if (ret == 0 && mtls)
        ret = parse_der_pm(&srv.ca, tls_test_ec_ca_der, tls_test_ec_ca_der_len);
    if (ret == 0)
        ret = mbedtls_ssl_config_defaults(&srv.conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) {
        mbedtls_ssl_conf_rng(&srv.conf, mbedtls_ctr_drbg_random, &srv.drbg);
        mbedtls_ssl_conf_authmode(&srv.conf, mtls ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                  : MBEDTLS_SSL_VERIFY_NONE);
        if (mtls)
            mbedtls_ssl_conf_ca_chain(&srv.conf, &srv.ca, NULL);
        mbedtls_ssl_conf_sni(&srv.conf, sni_cb, NULL);
        ret = mbedtls_ssl_conf_alpn_protocols(&srv.conf, alpn);
    }
    if (ret == 0)
        ret = mbedtls_ssl_conf_own_cert(&srv.conf, &srv.chain, &srv.key);
    if (ret == 0)
        ret = mbedtls_ssl_setup(&srv.ssl, &srv.conf);
    if (ret == 0)
        mbedtls_ssl_set_bio(&srv.ssl, NULL, bio_send, bio_recv, NULL);
    return ret;
}

static void stop(void)
{
    mbedtls_ssl_free(&srv.ssl);
    mbedtls_ssl_config_free(&srv.conf);
    mbedtls_x509_crt_free(&srv.chain);
    mbedtls_x509_crt_free(&srv.ca);
    mbedtls_pk_free(&srv.key);
    mbedtls_ctr_drbg_free(&srv.drbg);
}

static int is_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Waits for the client's bytes (the harness runs it); ABORTED when it started another
   scenario. */
static int wait_peer(void)
{
    tls_mailbox_idle();
    return tls_mailbox.ctl_in != generation ? ABORTED : 0;
}

/* Repeats an mbedTLS call while it wants I/O; returns its result or ABORTED. */
#define RETRY(call)                                   \
    ({                                                \
        int r_;                                       \
        for (;;) {                                    \
            uint32_t t0_ = tls_cycles();              \
            r_ = (call);                              \
            busy_cycles += tls_cycles() - t0_;        \
            if (!is_want(r_))                         \
                break;                                \
            if (wait_peer() == ABORTED) {             \
                r_ = ABORTED;                         \
                break;                                \
            }                                         \
        }                                             \
        r_;                                           \
    })

static int write_all(const unsigned char *p, size_t len)
{
    for (size_t done = 0; done < len;) {
        int n = RETRY(mbedtls_ssl_write(&srv.ssl, p + done, len - done));
        if (n < 0)
            return n;
        done += (size_t)n;
    }
    return 0;
}

static void serve(unsigned scenario)
{
    busy_cycles = 0;
    int ret = start(scenario);
    tprintf("server %u: start -0x%04x, heap %u in use\n", scenario, (unsigned)-ret,
            (unsigned)tls_heap_in_use());
    if (ret == 0)
        ret = RETRY(mbedtls_ssl_handshake(&srv.ssl));
    uint32_t hs_cycles = busy_cycles;
    tprintf("server %u: handshake -0x%04x (client verify flags %lx) in %lu cycles, SNI %s\n",
            scenario, (unsigned)-ret, mbedtls_ssl_get_verify_result(&srv.ssl), hs_cycles,
            srv.sni);
    if (ret == 0 && scenario != 2) {
        char msg[48] = "sni=";
        strcat(msg, srv.sni);
        ret = write_all((const unsigned char *)msg, strlen(msg));
        /* Then wait for whatever comes next (the client moves on to another scenario). */
        unsigned char b;
        if (ret == 0)
            ret = RETRY(mbedtls_ssl_read(&srv.ssl, &b, 1));
    } else if (ret == 0) {
        unsigned char up[100];
        size_t got = 0;
        while (ret >= 0 && got < sizeof up) {
            ret = RETRY(mbedtls_ssl_read(&srv.ssl, up + got, sizeof up - got));
            if (ret > 0)
                got += (size_t)ret;
        }
        if (ret >= 0) {
            int ok = mbedtls_ssl_get_verify_result(&srv.ssl) == 0;
            ret = write_all((const unsigned char *)(ok ? "mtls=ok" : "mtls=no"), 7);
        }
        if (ret == 0) {
            /* 6000 bytes in one record (this server's OUT buffer is 8 KiB). */
            static unsigned char down[6000];
            for (size_t i = 0; i < sizeof down; i++)
                down[i] = (unsigned char)(i * 7u + 3u);
            ret = write_all(down, sizeof down);
        }
        if (ret == 0) {
            unsigned char b;
            ret = RETRY(mbedtls_ssl_read(&srv.ssl, &b, 1));
            if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
                ret = RETRY(mbedtls_ssl_close_notify(&srv.ssl));
        }
    }
    tprintf("server %u: done -0x%04x, %lu cycles of work, heap high-water %u of %u\n", scenario,
            (unsigned)-ret, busy_cycles, (unsigned)tls_heap_high_water(),
            (unsigned)tls_heap_size());
    stop();
}

int main(void)
{
    tls_mailbox_init();
    test_begin("tls_peer_server");
    timer_tick_init();
    interrupt_enable_globally();
    tls_platform_init(heap, sizeof heap);
    tls_time_set(TIME_2025_06_01); /* to check the client's certificate */
    for (;;) {
        while (tls_mailbox.ctl_in == generation)
            tls_mailbox_idle();
        generation = tls_mailbox.ctl_in;
        if (generation == 0)
            break;
        serve(generation & 0xFFu);
        /* A fresh heap per scenario, so that each high-water mark is its own. */
        tls_platform_init(heap, sizeof heap);
    }
    return test_end();
}
