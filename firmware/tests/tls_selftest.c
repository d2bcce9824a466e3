/*
 * tls_selftest - the crypto under the TLS client on the FT900: mbedTLS's own self tests, known
 * answers, X.509 verification as the client does it (chain, host name, validity against the
 * RTC), the entropy sources, and the cost of each primitive of a TLS 1.2 handshake.
 *
 * Output (UART0), besides the usual "ok"/"FAIL" check lines:
 *   cost <id> <name>: <cycles> cycles (<ms> ms at 100 MHz)
 *   heap: high-water <n> of <size> bytes, in use at the end <n>
 *   ram: data <n> + bss <n> bytes, stack used <n> bytes (<free> free below it)
 * Cycles come from tls_cycles() (the 1 ms tick, 50-cycle resolution). The code calls
 * tls_bench_mark(id << 1) before and tls_bench_mark(id << 1 | 1) after each measured
 * operation, so a debugger or the simulator can measure the same spans exactly
 * (ft900-sim/tests/tls.rs does).
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/base64.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdh.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "testlib.h"
#include "tls_entropy.h"
#include "tls_platform.h"
#include "tls_test_certs.h"

/* Linker-script symbols (biased RAM addresses: the low 16 bits are the RAM address). */
extern char __data_start[], __data_end[], __bss_start[], __bss_end[], _end[];

/* 2025-06-01T00:00:00Z: inside the test certificates' validity. */
#define TIME_2025_06_01 1748736000u

/* ---- measurements -------------------------------------------------------------------------- */

enum bench {
    B_SHA256_1K,
    B_GCM_SETKEY,
    B_GCM_1K,
    B_DRBG_SEED,
    B_ECDH_KEYGEN,
    B_ECDH_SHARED,
    B_ECDSA_VERIFY,
    B_ECDSA_SIGN,
    B_RSA2048_VERIFY,
    B_X509_PARSE_PEM,
    B_X509_VERIFY_CHAIN,
    B_COUNT
};
static const char *const bench_names[B_COUNT] = {
    [B_SHA256_1K] = "sha256_1k",
    [B_GCM_SETKEY] = "aes128_gcm_setkey",
    [B_GCM_1K] = "aes128_gcm_encrypt_1k",
    [B_DRBG_SEED] = "ctr_drbg_seed",
    [B_ECDH_KEYGEN] = "ecdh_p256_keygen",
    [B_ECDH_SHARED] = "ecdh_p256_shared",
    [B_ECDSA_VERIFY] = "ecdsa_p256_verify",
    [B_ECDSA_SIGN] = "ecdsa_p256_sign",
    [B_RSA2048_VERIFY] = "rsa2048_verify",
    [B_X509_PARSE_PEM] = "x509_parse_pem_root",
    [B_X509_VERIFY_CHAIN] = "x509_verify_ec_chain",
};
static uint32_t bench_cycles[B_COUNT];
static uint32_t bench_start;

/* The simulator and debuggers put a breakpoint here: r0 = id << 1 | (0 start, 1 end). */
void __attribute__((noinline)) tls_bench_mark(unsigned id)
{
    __asm__ volatile("" : : "r"(id) : "memory");
}

static void bench_begin(enum bench b)
{
    tls_bench_mark((unsigned)b << 1);
    bench_start = tls_cycles();
}

static void bench_end(enum bench b)
{
    bench_cycles[b] = tls_cycles() - bench_start;
    tls_bench_mark((unsigned)b << 1 | 1u);
}

static void print_cost(enum bench b)
{
    uint32_t c = bench_cycles[b];
    /* 100 000 cycles per ms at 100 MHz. */
    tprintf("cost %u %s: %lu cycles (%lu.%02lu ms at 100 MHz)\n", (unsigned)b, bench_names[b], c,
            c / 100000u, c % 100000u / 1000u);
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* rand() for mbedtls_rsa_self_test's padding bytes: a fixed LCG here instead of newlib's, whose
   state lives in the 1 KiB reentrancy structure. */
int rand(void);
int rand(void)
{
    static uint32_t x = 12345u;
    x = x * 1103515245u + 12345u;
    return (int)((x >> 16) & 0x7FFFu);
}

static uint32_t ram_addr(const void *p)
{
    return (uint32_t)(uintptr_t)p & 0xFFFFu;
}

static uint32_t stack_pointer(void)
{
    uint32_t sp;
    __asm__ volatile("move.l %0, $sp" : "=r"(sp));
    return sp;
}

#define STACK_PAINT 0x5AA55AA5u

/* Paints the free RAM between the end of .bss and (just below) the current stack pointer. */
static void stack_paint(void)
{
    uint32_t lo = (ram_addr(_end) + 3u) & ~3u, hi = (stack_pointer() - 64u) & ~3u;
    for (uint32_t a = lo; a < hi; a += 4)
        *(volatile uint32_t *)(uintptr_t)a = STACK_PAINT;
}

/* Lowest RAM address the stack reached (the first painted word that changed). */
static uint32_t stack_low_water(void)
{
    uint32_t a = (ram_addr(_end) + 3u) & ~3u;
    while (a < 0x10000u && *(volatile uint32_t *)(uintptr_t)a == STACK_PAINT)
        a += 4;
    return a;
}

static void fill_pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)i;
}

static unsigned char msg[1024], out[1024], back[1024];

/* The self tests need less than a TLS session (TLS_HEAP_SIZE): their own, smaller heap. */
static unsigned char heap[16u * 1024u] __attribute__((aligned(4)));

/* The deterministic random generator of the tests: CTR_DRBG over the entropy sources. */
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static const uint8_t seed_a[TLS_SEED_LEN] = "ft900-sim tls_selftest seed A..";
static const uint8_t seed_b[TLS_SEED_LEN] = "ft900-sim tls_selftest seed B..";
static unsigned seed_stores;

static int store_seed(const uint8_t seed[TLS_SEED_LEN])
{
    (void)seed;
    seed_stores++;
    return 0;
}

static int rng_start(const uint8_t *seed, unsigned char first[16])
{
    tls_entropy_init(seed, store_seed);
    mbedtls_entropy_init(&entropy);
    int ret = tls_entropy_setup(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                    (const unsigned char *)"tls_selftest", 12);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_random(&drbg, first, 16);
    return ret;
}

static void rng_stop(void)
{
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
}

static void print_hex(const char *what, const unsigned char *p, size_t n)
{
    tprintf("%s ", what);
    for (size_t i = 0; i < n; i++)
        tprintf("%02x", p[i]);
    tprintf("\n");
}

/* ---- parts --------------------------------------------------------------------------------- */

typedef int (*self_test_fn)(int verbose);
static const struct {
    const char *name;
    self_test_fn fn;
} self_tests[] = {
    {"sha256", mbedtls_sha256_self_test},
    {"aes", mbedtls_aes_self_test},
    {"gcm", mbedtls_gcm_self_test},
    {"ctr_drbg", mbedtls_ctr_drbg_self_test},
    {"base64", mbedtls_base64_self_test},
    {"mpi", mbedtls_mpi_self_test},
    {"ecp", mbedtls_ecp_self_test},
    {"rsa", mbedtls_rsa_self_test},
    {"entropy", mbedtls_entropy_self_test},
};

static void run_self_tests(void)
{
    for (unsigned i = 0; i < sizeof self_tests / sizeof self_tests[0]; i++) {
        uint32_t t0 = tls_cycles();
        int ret = self_tests[i].fn(0);
        uint32_t c = tls_cycles() - t0;
        CHECK(ret == 0, "self test %s: %s (%lu cycles)", self_tests[i].name,
              ret == 0 ? "PASS" : "FAIL", c);
        CHECK(tls_heap_in_use() == 0, "self test %s freed its heap memory (%u bytes left)",
              self_tests[i].name, (unsigned)tls_heap_in_use());
    }
}

static void entropy_checks(void)
{
    unsigned char a[16], a2[16], b[16], none[16];

    /* No provisioned seed: the DRBG must refuse to start. */
    int ret = rng_start(NULL, none);
    rng_stop();
    CHECK(ret != 0, "no provisioned seed: seeding fails (-0x%04x)", (unsigned)-ret);

    seed_stores = 0;
    bench_begin(B_DRBG_SEED);
    ret = rng_start(seed_a, a);
    bench_end(B_DRBG_SEED);
    CHECK(ret == 0, "seed A: CTR_DRBG seeded (-0x%04x)", (unsigned)-ret);
    print_hex("drbg seed A:", a, sizeof a);
    CHECK(memcmp(tls_entropy_seed(), seed_a, TLS_SEED_LEN) != 0 && seed_stores == 1,
          "the NV seed was evolved and stored once (%u)", seed_stores);
    rng_stop();

    ret = rng_start(seed_b, b);
    rng_stop();
    CHECK(ret == 0 && memcmp(a, b, sizeof a) != 0, "seed B gives other bytes");

    /* The same seed again: the samples of the event source (cycle clock) differ, so the output
       differs too; run after run (virtual time) it is the same. */
    tls_entropy_event(0x1234u);
    ret = rng_start(seed_a, a2);
    CHECK(ret == 0 && memcmp(a, a2, sizeof a) != 0,
          "seed A later (other event timing) gives other bytes");
    print_hex("drbg seed A later:", a2, sizeof a2);
    /* The DRBG stays up for the rest of the tests. */
}

static void sha_gcm(void)
{
    unsigned char digest[32], tag[16], tag2[16];
    fill_pattern(msg, sizeof msg);

    bench_begin(B_SHA256_1K);
    int ret = mbedtls_sha256_ret(msg, sizeof msg, digest, 0);
    bench_end(B_SHA256_1K);
    CHECK(ret == 0 && memcmp(digest, tls_test_sha256_1k, 32) == 0,
          "SHA-256 of 1 KiB: known answer");

    static const unsigned char key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    unsigned char iv[12], aad[13];
    for (unsigned i = 0; i < sizeof iv; i++)
        iv[i] = (unsigned char)(0xA0 + i);
    for (unsigned i = 0; i < sizeof aad; i++)
        aad[i] = (unsigned char)(0x30 + i);

    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    bench_begin(B_GCM_SETKEY);
    ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
    bench_end(B_GCM_SETKEY);
    CHECK(ret == 0, "AES-128-GCM key set");
    bench_begin(B_GCM_1K);
    ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, sizeof msg, iv, sizeof iv, aad,
                                    sizeof aad, msg, out, sizeof tag, tag);
    bench_end(B_GCM_1K);
    CHECK(ret == 0 && memcmp(tag, tls_test_gcm_1k_tag, 16) == 0 &&
              memcmp(out, tls_test_gcm_1k_ct_head, 16) == 0,
          "AES-128-GCM of 1 KiB: known answer (ciphertext and tag)");
    ret = mbedtls_gcm_auth_decrypt(&gcm, sizeof out, iv, sizeof iv, aad, sizeof aad, tag,
                                   sizeof tag, out, back);
    CHECK(ret == 0 && memcmp(back, msg, sizeof msg) == 0, "AES-128-GCM decrypts back");
    memcpy(tag2, tag, sizeof tag2);
    tag2[5] ^= 0x10;
    ret = mbedtls_gcm_auth_decrypt(&gcm, sizeof out, iv, sizeof iv, aad, sizeof aad, tag2,
                                   sizeof tag2, out, back);
    CHECK(ret == MBEDTLS_ERR_GCM_AUTH_FAILED, "AES-128-GCM rejects a wrong tag");
    mbedtls_gcm_free(&gcm);
}

static void ecdh(void)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d_dev, d_srv, z_dev, z_srv;
    mbedtls_ecp_point q_dev, q_srv;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d_dev);
    mbedtls_mpi_init(&d_srv);
    mbedtls_mpi_init(&z_dev);
    mbedtls_mpi_init(&z_srv);
    mbedtls_ecp_point_init(&q_dev);
    mbedtls_ecp_point_init(&q_srv);

    int ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    /* The server's ephemeral key, not measured. */
    if (ret == 0)
        ret = mbedtls_ecdh_gen_public(&grp, &d_srv, &q_srv, mbedtls_ctr_drbg_random, &drbg);
    CHECK(ret == 0, "P-256 group and the peer's key (-0x%04x)", (unsigned)-ret);

    /* What the client does in ClientKeyExchange: its key pair, then the shared secret. */
    bench_begin(B_ECDH_KEYGEN);
    ret = mbedtls_ecdh_gen_public(&grp, &d_dev, &q_dev, mbedtls_ctr_drbg_random, &drbg);
    bench_end(B_ECDH_KEYGEN);
    CHECK(ret == 0, "ECDH P-256 key generation (-0x%04x)", (unsigned)-ret);
    bench_begin(B_ECDH_SHARED);
    ret = mbedtls_ecdh_compute_shared(&grp, &z_dev, &q_srv, &d_dev, mbedtls_ctr_drbg_random,
                                      &drbg);
    bench_end(B_ECDH_SHARED);
    CHECK(ret == 0, "ECDH P-256 shared secret (-0x%04x)", (unsigned)-ret);
    ret = mbedtls_ecdh_compute_shared(&grp, &z_srv, &q_dev, &d_srv, mbedtls_ctr_drbg_random,
                                      &drbg);
    CHECK(ret == 0 && mbedtls_mpi_cmp_mpi(&z_dev, &z_srv) == 0 &&
              mbedtls_mpi_bitlen(&z_dev) > 200,
          "both sides derive the same secret");
    ret = mbedtls_ecp_check_pubkey(&grp, &q_dev);
    CHECK(ret == 0, "the device's public key is on the curve");

    mbedtls_ecp_point_free(&q_dev);
    mbedtls_ecp_point_free(&q_srv);
    mbedtls_mpi_free(&d_dev);
    mbedtls_mpi_free(&d_srv);
    mbedtls_mpi_free(&z_dev);
    mbedtls_mpi_free(&z_srv);
    mbedtls_ecp_group_free(&grp);
}

/* Verifies the self-signature of a root certificate with its own public key, as
   mbedtls_x509_crt_verify() verifies each link of a chain: SHA-256 of the TBS part, then the
   public-key operation. */
static int verify_self_signature(mbedtls_x509_crt *crt, enum bench b, int corrupt)
{
    unsigned char hash[32];
    int ret = mbedtls_sha256_ret(crt->tbs.p, crt->tbs.len, hash, 0);
    if (ret != 0)
        return ret;
    if (corrupt)
        hash[0] ^= 1;
    if (b != B_COUNT)
        bench_begin(b);
    ret = mbedtls_pk_verify(&crt->pk, crt->sig_md, hash, sizeof hash, crt->sig.p, crt->sig.len);
    if (b != B_COUNT)
        bench_end(b);
    return ret;
}

static void roots(void)
{
    mbedtls_x509_crt ca1, ca3;
    mbedtls_x509_crt_init(&ca1);
    mbedtls_x509_crt_init(&ca3);

    bench_begin(B_X509_PARSE_PEM);
    int ret = mbedtls_x509_crt_parse(&ca3, (const unsigned char *)tls_test_amazon_root_ca3_pem,
                                     sizeof tls_test_amazon_root_ca3_pem);
    bench_end(B_X509_PARSE_PEM);
    CHECK(ret == 0 && ca3.version == 3 && mbedtls_pk_get_type(&ca3.pk) == MBEDTLS_PK_ECKEY &&
              ca3.sig_md == MBEDTLS_MD_SHA256,
          "Amazon Root CA 3 parsed from PEM: v3, EC key, ecdsa-with-SHA256 (-0x%04x)",
          (unsigned)-ret);
    ret = mbedtls_x509_crt_parse(&ca1, (const unsigned char *)tls_test_amazon_root_ca1_pem,
                                 sizeof tls_test_amazon_root_ca1_pem);
    CHECK(ret == 0 && mbedtls_pk_get_type(&ca1.pk) == MBEDTLS_PK_RSA &&
              mbedtls_pk_get_bitlen(&ca1.pk) == 2048 && ca1.sig_md == MBEDTLS_MD_SHA256,
          "Amazon Root CA 1 parsed from PEM: RSA-2048, sha256WithRSAEncryption (-0x%04x)",
          (unsigned)-ret);

    ret = verify_self_signature(&ca3, B_ECDSA_VERIFY, 0);
    CHECK(ret == 0, "ECDSA P-256 verify: Amazon Root CA 3's signature (-0x%04x)",
          (unsigned)-ret);
    ret = verify_self_signature(&ca3, B_COUNT, 1);
    CHECK(ret != 0, "ECDSA P-256 verify rejects another hash");
    ret = verify_self_signature(&ca1, B_RSA2048_VERIFY, 0);
    CHECK(ret == 0, "RSA-2048 PKCS#1 v1.5 verify: Amazon Root CA 1's signature (-0x%04x)",
          (unsigned)-ret);
    ret = verify_self_signature(&ca1, B_COUNT, 1);
    CHECK(ret != 0, "RSA-2048 verify rejects another hash");

    mbedtls_x509_crt_free(&ca1);
    mbedtls_x509_crt_free(&ca3);
}

static void ecdsa_sign(void)
{
    mbedtls_ecdsa_context key;
    unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
    size_t sig_len = 0;
    mbedtls_ecdsa_init(&key);
    int ret = mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP256R1, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_sha256_ret(msg, sizeof msg, hash, 0);
    /* A client certificate's CertificateVerify (RFC 6979 nonce: MBEDTLS_ECDSA_DETERMINISTIC). */
    bench_begin(B_ECDSA_SIGN);
    if (ret == 0)
        ret = mbedtls_ecdsa_write_signature(&key, MBEDTLS_MD_SHA256, hash, sizeof hash, sig,
                                            &sig_len, mbedtls_ctr_drbg_random, &drbg);
    bench_end(B_ECDSA_SIGN);
    CHECK(ret == 0 && sig_len > 64, "ECDSA P-256 sign (%u bytes of DER)", (unsigned)sig_len);
    ret = mbedtls_ecdsa_read_signature(&key, hash, sizeof hash, sig, sig_len);
    CHECK(ret == 0, "ECDSA P-256 signature verifies (-0x%04x)", (unsigned)-ret);
    mbedtls_ecdsa_free(&key);
}

static int verify_chain(mbedtls_x509_crt *leaf, mbedtls_x509_crt *trust, const char *host,
                        uint32_t *flags)
{
    *flags = 0;
    return mbedtls_x509_crt_verify(leaf, trust, NULL, host, flags, NULL, NULL);
}

static void chain(void)
{
    mbedtls_x509_crt ca, leaf, amazon;
    uint32_t flags;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    mbedtls_x509_crt_init(&amazon);
    int ret = mbedtls_x509_crt_parse_der(&ca, tls_test_ec_ca_der, sizeof tls_test_ec_ca_der);
    if (ret == 0)
        ret = mbedtls_x509_crt_parse_der(&leaf, tls_test_ec_leaf_der,
                                         sizeof tls_test_ec_leaf_der);
    if (ret == 0)
        ret = mbedtls_x509_crt_parse(&amazon, (const unsigned char *)tls_test_amazon_root_ca3_pem,
                                     sizeof tls_test_amazon_root_ca3_pem);
    if (ret == 0)
        ret = mbedtls_x509_crt_parse(&amazon, (const unsigned char *)tls_test_amazon_root_ca1_pem,
                                     sizeof tls_test_amazon_root_ca1_pem);
    CHECK(ret == 0, "test chain (DER) and the Amazon roots (PEM) parsed (-0x%04x)",
          (unsigned)-ret);

    tls_time_set(TIME_2025_06_01);
    bench_begin(B_X509_VERIFY_CHAIN);
    ret = verify_chain(&leaf, &ca, TLS_TEST_HOST, &flags);
    bench_end(B_X509_VERIFY_CHAIN);
    CHECK(ret == 0 && flags == 0, "leaf " TLS_TEST_HOST " verified against its CA (flags %lx)",
          flags);
    ret = verify_chain(&leaf, &ca, "node7.devices." TLS_TEST_HOST, &flags);
    CHECK(ret == 0 && flags == 0, "wildcard name *.devices." TLS_TEST_HOST " matches (flags %lx)",
          flags);
    ret = verify_chain(&leaf, &ca, "a.b.devices." TLS_TEST_HOST, &flags);
    CHECK(ret != 0 && (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH),
          "the wildcard covers one label only (flags %lx)", flags);
    ret = verify_chain(&leaf, &ca, "iot.example.com", &flags);
    CHECK(ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags == MBEDTLS_X509_BADCERT_CN_MISMATCH,
          "another host name is rejected (flags %lx)", flags);
    ret = verify_chain(&leaf, &amazon, TLS_TEST_HOST, &flags);
    CHECK(ret != 0 && (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED),
          "not trusted by the Amazon roots (flags %lx)", flags);
    ret = verify_chain(&ca, &ca, NULL, &flags);
    CHECK(ret == 0 && flags == 0, "the CA itself is trusted");

    tls_time_set(TLS_TEST_NOT_BEFORE - 86400u);
    ret = verify_chain(&leaf, &ca, TLS_TEST_HOST, &flags);
    CHECK(ret != 0 && (flags & MBEDTLS_X509_BADCERT_FUTURE), "a day before: not yet valid (%lx)",
          flags);
    tls_time_set(TLS_TEST_NOT_AFTER + 1u);
    ret = verify_chain(&leaf, &ca, TLS_TEST_HOST, &flags);
    CHECK(ret != 0 && (flags & MBEDTLS_X509_BADCERT_EXPIRED), "a second after: expired (%lx)",
          flags);
    tls_time_set(TIME_2025_06_01);

    /* The calendar behind the validity checks. */
    struct tm tm;
    mbedtls_time_t t = 951825600; /* 2000-02-29T12:00:00Z */
    CHECK(mbedtls_platform_gmtime_r(&t, &tm) != NULL && tm.tm_year == 100 && tm.tm_mon == 1 &&
              tm.tm_mday == 29 && tm.tm_hour == 12 && tm.tm_yday == 59 && tm.tm_wday == 2,
          "gmtime_r: 2000-02-29 (%d-%d-%d yday %d wday %d)", tm.tm_year + 1900, tm.tm_mon + 1,
          tm.tm_mday, tm.tm_yday, tm.tm_wday);
    t = TLS_TEST_NOT_AFTER;
    CHECK(mbedtls_platform_gmtime_r(&t, &tm) != NULL && tm.tm_year == 149 && tm.tm_mon == 11 &&
              tm.tm_mday == 31 && tm.tm_hour == 23 && tm.tm_min == 59 && tm.tm_sec == 59 &&
              tm.tm_yday == 364,
          "gmtime_r: 2049-12-31T23:59:59");

    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&amazon);
}

/* tls/oid_pm.c (our replacement of mbedTLS's oid.c, tables in program memory): every entry
   answers as oid.c does under this configuration; near misses and unknown OIDs are refused. */
static int oid_is(const char *der, size_t len, mbedtls_asn1_buf *buf)
{
    buf->tag = MBEDTLS_ASN1_OID;
    buf->p = (unsigned char *)der;
    buf->len = len;
    return 0;
}
#define OID_BUF(b, o) oid_is(o, MBEDTLS_OID_SIZE(o), &(b))

static void oid_lookups(void)
{
    mbedtls_asn1_buf b;
    int ext = 0, bad = 0;
    static const struct {
        const char *oid;
        size_t len;
        int type;
    } exts[] = {
        {MBEDTLS_OID_BASIC_CONSTRAINTS, MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS),
         MBEDTLS_OID_X509_EXT_BASIC_CONSTRAINTS},
        {MBEDTLS_OID_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_KEY_USAGE),
         MBEDTLS_OID_X509_EXT_KEY_USAGE},
        {MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
         MBEDTLS_OID_X509_EXT_EXTENDED_KEY_USAGE},
        {MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
         MBEDTLS_OID_X509_EXT_SUBJECT_ALT_NAME},
        {MBEDTLS_OID_NS_CERT_TYPE, MBEDTLS_OID_SIZE(MBEDTLS_OID_NS_CERT_TYPE),
         MBEDTLS_OID_X509_EXT_NS_CERT_TYPE},
        {MBEDTLS_OID_CERTIFICATE_POLICIES, MBEDTLS_OID_SIZE(MBEDTLS_OID_CERTIFICATE_POLICIES),
         MBEDTLS_OID_X509_EXT_CERTIFICATE_POLICIES},
    };
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        oid_is(exts[i].oid, exts[i].len, &b);
        bad += mbedtls_oid_get_x509_ext_type(&b, &ext) != 0 || ext != exts[i].type;
    }
    CHECK(bad == 0, "OID: the 6 certificate extensions (%d wrong)", bad);
    OID_BUF(b, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER);
    CHECK(mbedtls_oid_get_x509_ext_type(&b, &ext) == MBEDTLS_ERR_OID_NOT_FOUND,
          "OID: an extension mbedTLS does not handle is unknown");

    static const struct {
        const char *oid;
        size_t len;
        mbedtls_md_type_t md;
        mbedtls_pk_type_t pk;
    } sigs[] = {
        {MBEDTLS_OID_PKCS1_SHA224, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_SHA224), MBEDTLS_MD_SHA224,
         MBEDTLS_PK_RSA},
        {MBEDTLS_OID_PKCS1_SHA256, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_SHA256), MBEDTLS_MD_SHA256,
         MBEDTLS_PK_RSA},
        {MBEDTLS_OID_ECDSA_SHA224, MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA224), MBEDTLS_MD_SHA224,
         MBEDTLS_PK_ECDSA},
        {MBEDTLS_OID_ECDSA_SHA256, MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256), MBEDTLS_MD_SHA256,
         MBEDTLS_PK_ECDSA},
        {MBEDTLS_OID_RSASSA_PSS, MBEDTLS_OID_SIZE(MBEDTLS_OID_RSASSA_PSS), MBEDTLS_MD_NONE,
         MBEDTLS_PK_RSASSA_PSS},
    };
    bad = 0;
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        mbedtls_md_type_t md = MBEDTLS_MD_NONE;
        mbedtls_pk_type_t pk = MBEDTLS_PK_NONE;
        oid_is(sigs[i].oid, sigs[i].len, &b);
        bad += mbedtls_oid_get_sig_alg(&b, &md, &pk) != 0 || md != sigs[i].md || pk != sigs[i].pk;
    }
    CHECK(bad == 0, "OID: the 5 signature algorithms (%d wrong)", bad);
    mbedtls_md_type_t md;
    mbedtls_pk_type_t pk;
    /* SHA-1 and SHA-384 are off in this configuration: unknown, as in oid.c. */
    OID_BUF(b, MBEDTLS_OID_PKCS1_SHA1);
    int r1 = mbedtls_oid_get_sig_alg(&b, &md, &pk);
    OID_BUF(b, MBEDTLS_OID_ECDSA_SHA384);
    int r2 = mbedtls_oid_get_sig_alg(&b, &md, &pk);
    /* A prefix of a known OID is not that OID. */
    oid_is(MBEDTLS_OID_PKCS1_SHA256, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_SHA256) - 1, &b);
    int r3 = mbedtls_oid_get_sig_alg(&b, &md, &pk);
    CHECK(r1 == MBEDTLS_ERR_OID_NOT_FOUND && r2 == MBEDTLS_ERR_OID_NOT_FOUND &&
              r3 == MBEDTLS_ERR_OID_NOT_FOUND,
          "OID: SHA-1, SHA-384 and a truncated OID are unknown signature algorithms");

    mbedtls_pk_type_t rsa = MBEDTLS_PK_NONE, ec = MBEDTLS_PK_NONE, ecdh = MBEDTLS_PK_NONE;
    OID_BUF(b, MBEDTLS_OID_PKCS1_RSA);
    int p1 = mbedtls_oid_get_pk_alg(&b, &rsa);
    OID_BUF(b, MBEDTLS_OID_EC_ALG_UNRESTRICTED);
    int p2 = mbedtls_oid_get_pk_alg(&b, &ec);
    OID_BUF(b, MBEDTLS_OID_EC_ALG_ECDH);
    int p3 = mbedtls_oid_get_pk_alg(&b, &ecdh);
    OID_BUF(b, MBEDTLS_OID_PKCS1_SHA256);
    int p4 = mbedtls_oid_get_pk_alg(&b, &pk);
    CHECK(p1 == 0 && rsa == MBEDTLS_PK_RSA && p2 == 0 && ec == MBEDTLS_PK_ECKEY && p3 == 0 &&
              ecdh == MBEDTLS_PK_ECKEY_DH && p4 == MBEDTLS_ERR_OID_NOT_FOUND,
          "OID: public key algorithms RSA, EC, ECDH; a signature OID is not one");

    mbedtls_ecp_group_id grp = MBEDTLS_ECP_DP_NONE, other = MBEDTLS_ECP_DP_NONE;
    OID_BUF(b, MBEDTLS_OID_EC_GRP_SECP256R1);
    int g1 = mbedtls_oid_get_ec_grp(&b, &grp);
    OID_BUF(b, MBEDTLS_OID_EC_GRP_SECP384R1);
    int g2 = mbedtls_oid_get_ec_grp(&b, &other);
    CHECK(g1 == 0 && grp == MBEDTLS_ECP_DP_SECP256R1 && g2 == MBEDTLS_ERR_OID_NOT_FOUND,
          "OID: P-256 known, P-384 (off) unknown");

    const char *o = NULL;
    size_t olen = 0;
    int m1 = mbedtls_oid_get_oid_by_md(MBEDTLS_MD_SHA256, &o, &olen);
    int ok256 = m1 == 0 && olen == MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA256) &&
                memcmp(o, MBEDTLS_OID_DIGEST_ALG_SHA256, olen) == 0;
    int m2 = mbedtls_oid_get_oid_by_md(MBEDTLS_MD_SHA224, &o, &olen);
    int ok224 = m2 == 0 && olen == MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA224) &&
                memcmp(o, MBEDTLS_OID_DIGEST_ALG_SHA224, olen) == 0;
    int m3 = mbedtls_oid_get_oid_by_md(MBEDTLS_MD_SHA1, &o, &olen);
    CHECK(ok256 && ok224 && m3 == MBEDTLS_ERR_OID_NOT_FOUND,
          "OID: digest OIDs of SHA-256 and SHA-224; SHA-1 (off) has none");
}

int main(void)
{
    stack_paint();
    test_begin("tls_selftest");
    timer_tick_init();
    interrupt_enable_globally();
    tls_platform_init(heap, sizeof heap);

    uint32_t t0 = tls_cycles();
    for (volatile int i = 0; i < 1000; i++)
        ;
    uint32_t t1 = tls_cycles();
    CHECK(t1 > t0, "cycle clock runs (%lu cycles for an empty loop of 1000)", t1 - t0);

    /* The entropy self test needs a seed (its context includes the NV seed source). */
    entropy_checks();
    run_self_tests();
    sha_gcm();
    ecdh();
    roots();
    ecdsa_sign();
    chain();
    oid_lookups();
    rng_stop();

    for (unsigned b = 0; b < B_COUNT; b++)
        print_cost((enum bench)b);

    size_t in_use = tls_heap_in_use();
    CHECK(in_use == 0, "everything freed (%u bytes in use)", (unsigned)in_use);
    CHECK(tls_heap_verify() == 0, "heap consistent");
    tprintf("heap: high-water %u of %u bytes, in use at the end %u\n",
            (unsigned)tls_heap_high_water(), (unsigned)tls_heap_size(), (unsigned)in_use);
    uint32_t low = stack_low_water();
    tprintf("ram: data %u + bss %u bytes, stack used %lu bytes (%lu free below it)\n",
            (unsigned)(__data_end - __data_start), (unsigned)(__bss_end - __bss_start),
            0x10000u - low, low - ram_addr(_end));
    return test_end();
}
