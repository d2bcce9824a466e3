/*
 * mbedtls_config.h - mbedTLS 2.28 configuration of the FT900 TLS client (MBEDTLS_CONFIG_FILE).
 *
 * One client, one job: TLS 1.2 to AWS IoT endpoints (s2n/ELB) and to rustls servers, with
 *   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256    (0xC02F, RSA certificate chains: Amazon Root CA 1)
 *   TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256  (0xC02B, ECDSA P-256 chains: Amazon Root CA 3)
 * on P-256, the server's chain verified against CA certificates from the device configuration,
 * the host name checked and sent as SNI. Everything else is off. Each choice below says why.
 *
 * Memory model of the FT900 (firmware/README.md): 256 KiB program memory, 64 KiB RAM, and
 * .rodata lives in RAM (C pointers address RAM), so every constant table costs RAM twice (PM
 * image + RAM copy). Hence: no error strings, no debug strings, small AES tables generated at
 * run time, small ECP/MPI windows, and all dynamic memory from one static heap
 * (memory_buffer_alloc) whose size tls/tls_platform.h justifies from measurements.
 *
 * Never copy mbedTLS into the repository: tls/module.mk compiles it from MBEDTLS_DIR
 * (firmware/third_party/fetch.sh).
 */
#ifndef FT900_MBEDTLS_CONFIG_H
#define FT900_MBEDTLS_CONFIG_H

#include <stddef.h>

/* ---- system support ------------------------------------------------------------------------ */

/* No assembly: bn_mul.h has no FT32 variant; the C multiply (32x32->64 with mul/muluh) is used.
   MBEDTLS_HAVE_ASM stays off. */

/* Time: certificate validity needs the date. The FT900 has the legacy RTC (seconds); the
   device sets it (tls_time_set(), from SNTP or the configuration) and mbedtls_time() reads it.
   While the clock is unknown tls_time() returns 0 and tls_client.c ignores only the validity
   flags (expired / not yet valid) of the verification, never the signature or name checks.
   gmtime_r: our own (tls_platform.c), newlib's would need its locale/reent machinery. */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_GMTIME_R_ALT

/* Platform: no C library beyond the string functions (firmware/README.md). calloc/free come
   from memory_buffer_alloc over a static buffer; printf/snprintf go to the HAL formatter;
   exit is _exit (memory_buffer_alloc calls it on heap corruption). */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE   4
#define MBEDTLS_PLATFORM_PRINTF_MACRO   tls_printf
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO tls_snprintf
#define MBEDTLS_PLATFORM_EXIT_MACRO     _exit
#define MBEDTLS_PLATFORM_TIME_MACRO     tls_time
int tls_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tls_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void _exit(int status) __attribute__((noreturn));
/* mbedtls_time_t is newlib's time_t (64 bits). */
#include <time.h>
time_t tls_time(time_t *t);

/* Entropy (tls/entropy.c): the FT900 has no documented TRNG. The strong source is mbedTLS's
   NV seed, read from the 32-byte seed provisioned in the device configuration and rewritten
   (evolved) at each first use; a weak source adds timer samples taken around UART/Ethernet
   events. No platform source (no /dev/urandom), no HAVEGE. */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_NV_SEED
#define MBEDTLS_PLATFORM_NV_SEED_ALT
#define MBEDTLS_ENTROPY_MAX_SOURCES     3
#define MBEDTLS_CTR_DRBG_C
/* AES-128 in the DRBG: the key schedule and the state are smaller, and 128-bit security
   matches the AES-128-GCM suites and P-256. */
#define MBEDTLS_CTR_DRBG_USE_128_BIT_KEY

/* Self tests of the crypto modules (tests/tls_selftest.c). They are separate functions and
   data sections: --gc-sections drops them from firmware that does not call them. */
#define MBEDTLS_SELF_TEST

/* ---- symmetric crypto and hashes --------------------------------------------------------- */

/* AES: constant tables (ROM_TABLES), which tls/module.mk keeps in program memory only
   (`__flash__`, tools/pm-tables.awk): no RAM at all, where tables built at run time would take
   2,600 bytes of .bss. FEWER_TABLES keeps 1 KiB forward + 1 KiB reverse + 2 x 256 B S-boxes
   instead of 8 KiB + 512 B (of PM now). GCM uses the forward direction only, the self test
   both. */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
/* No CBC/CTR/CFB/OFB/XTS modes: the two suites are AEAD. */

/* SHA-256 only. The suites' PRF, the transcript and the signatures of the chains the device
   trusts use SHA-256: Amazon Root CA 1 -> Amazon RSA 2048 Mxx -> leaf (sha256WithRSA) and
   Amazon Root CA 3 -> Amazon ECDSA 256 Mxx -> leaf (ecdsa-with-SHA256); rustls test chains
   (rcgen) too. SHA-1 is not needed: the only SHA-1 signature in an AWS chain is the Starfield
   cross-signature at the root end, which is never checked because verification stops at the
   Amazon root held in the configuration (and mbedTLS skips certificates whose signature
   algorithm it does not know, ssl_tls.c). SHA-384 is only for Amazon Root CA 4 (P-384), which
   AWS IoT does not serve. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C

/* HMAC_DRBG: RFC 6979 deterministic ECDSA signatures for a client certificate (mutual TLS, as
   AWS IoT requires): the nonce then does not depend on the quality of the RNG. */
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

/* ---- public key -------------------------------------------------------------------------- */

#define MBEDTLS_BIGNUM_C
/* RSA moduli up to 4096 bits (Amazon Root CA 2 is RSA-4096; AWS serves RSA-2048 chains). */
#define MBEDTLS_MPI_MAX_SIZE            512
/* Sliding window of the modular exponentiation: only the private-key operation uses more than
   1 (e = 65537 gives a window of 1); 2 keeps its table at 2^2 numbers of 256 bytes. */
#define MBEDTLS_MPI_WINDOW_SIZE         2

#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15       /* RSA certificate and ServerKeyExchange signatures */

#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM  /* fast reduction modulo p256: a few hundred bytes of code */
#define MBEDTLS_ECP_MAX_BITS            256
/* Comb window 2 and no cached table for G: each multiplication allocates 2 points of
   precomputation instead of up to 32 kept in the group (4 KiB+ for P-256). Measured with
   tests/tls_selftest (cycles at 100 MHz): window 2: ECDH key generation 24.4 M, shared secret
   24.4 M, ECDSA verify 50.8 M; window 4: 20.6 M, 20.6 M, 43.3 M (15 % faster) for 1.5 KiB
   more heap at the self test's peak. FIXED_POINT_OPTIM pays only when one group object
   multiplies G many times; a TLS handshake loads its group afresh, so it would only add the
   table. */
#define MBEDTLS_ECP_WINDOW_SIZE         2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM   0
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C    /* ECDSA signatures are DER; mbedTLS requires it with ECDSA */
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C      /* certificate public keys; the client key of mutual TLS */

/* ---- X.509 ------------------------------------------------------------------------------- */

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
/* AWS chains have at most 3 certificates above the leaf (Amazon RSA 2048 Mxx, Amazon Root CA 1
   cross-signed by Starfield, Starfield Services Root G2 cross-signed by Starfield Class 2). */
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4
/* CA certificates in the configuration are PEM (as AWS distributes AmazonRootCA1.pem). */
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

/* ---- TLS --------------------------------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
/* RFC 7627: binds the master secret to the handshake; rustls and AWS offer it. */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* ALPN: AWS IoT takes MQTT on port 443 only with ALPN "x-amzn-mqtt-ca". */
#define MBEDTLS_SSL_ALPN
/* The peer's certificate chain is freed after the handshake (a SHA-256 digest is kept). */
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE off */
/* Off, and why: renegotiation (a second handshake, never needed by MQTT), session tickets and
   the session cache (RAM for a saved session; reconnects do a full handshake), encrypt-then-MAC
   and CBC record splitting (CBC only), DTLS, context serialization, record checking (a DTLS
   helper), MBEDTLS_SSL_MAX_FRAGMENT_LENGTH: a server that honoured a small maximum fragment
   length would split its Certificate message across records, and mbedTLS 2.28 cannot
   reassemble a TLS handshake message from several records (ssl_msg.c "TLS handshake
   fragmentation not supported"); rustls and AWS ignore the extension anyway. */

/*
 * Record buffers (allocated from the heap by mbedtls_ssl_setup; each is content + 45 bytes:
 * 13 header/sequence + 16 explicit IV + 16 GCM tag).
 *
 * IN: must hold the largest record the server sends, and mbedTLS 2.28 needs a whole handshake
 * message inside one record. Servers put their first flight in as few records as possible:
 * ServerHello (~90 B) + Certificate + ServerKeyExchange (~330 B for RSA-2048, ~150 B for
 * ECDSA) + CertificateRequest (mutual TLS, < 100 B without CA names) + ServerHelloDone (4 B).
 * An AWS IoT RSA chain is leaf (~1.6-2.0 KiB: SANs, SCTs) + Amazon RSA 2048 Mxx (~1.2 KiB)
 * + Amazon Root CA 1 cross-signed by Starfield (~1.1 KiB) + Starfield Services Root G2
 * cross-signed (~1.1 KiB): ~5.5 KiB; the ECDSA chain is smaller (~3 KiB). So ~6 KiB, and 8 KiB
 * leaves 2 KiB for a longer SAN list or one more certificate. After the handshake the same
 * buffer bounds the application records: a server writes one MQTT packet per record, so
 * packets up to ~8 KiB arrive whole; a bigger record (a 16 KiB record of a large publish)
 * fails with MBEDTLS_ERR_SSL_INVALID_RECORD: the MQTT layer must keep subscriptions to
 * payloads below that (AWS shadow documents are at most 8 KiB: keep them below ~8 KiB).
 * 16 KiB would cover every legal record but costs 8 KiB more RAM than this 64 KiB chip can
 * spare next to lwIP.
 *
 * OUT: ClientHello (~150 B), client Certificate (one device certificate, ~0.6-1.0 KiB: the
 * test device's P-256 certificate is 497 bytes), ClientKeyExchange (70 B), CertificateVerify
 * (~80 B ECDSA, 260 B RSA-2048) each go in their own record; mbedtls_ssl_write() cuts
 * application data into 1 KiB records (a PutItem is one or two: the 29 bytes of header, IV and
 * tag per record cost less than the 1 KiB of RAM a 2 KiB buffer would hold for the session's
 * whole life).
 *
 * RAM: 8237 + 1069 bytes of buffers, the rest of the session is in tls_platform.h's budget.
 */
#define MBEDTLS_SSL_MAX_CONTENT_LEN     8192
#define MBEDTLS_SSL_IN_CONTENT_LEN      8192
#define MBEDTLS_SSL_OUT_CONTENT_LEN     1024

/* The server side exists only for the test server of tests/tls_peer_server.c (a second
   simulated FT900, built with TLS_WITH_SERVER), never in the device's client. That server
   receives small records and sends the AWS-sized chain: its buffers are the mirror image. */
#if defined(TLS_WITH_SERVER)
#define MBEDTLS_SSL_SRV_C
#undef MBEDTLS_SSL_IN_CONTENT_LEN
#undef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN      2048
#define MBEDTLS_SSL_OUT_CONTENT_LEN     8192
#endif

#include "mbedtls/check_config.h"

#endif /* FT900_MBEDTLS_CONFIG_H */
