/*
 * tls_client.h - a TLS 1.2 client over any byte transport (the lwIP TCP layer plugs in here):
 * ECDHE-RSA / ECDHE-ECDSA with AES-128-GCM on P-256 (mbedtls_config.h), the server's chain
 * verified against the CA certificates of the device configuration, the host name checked and
 * sent as SNI, optionally a client certificate (mutual TLS, AWS IoT) and ALPN.
 *
 * Non-blocking: the transport says "would block" instead of waiting, and every call then
 * returns TLS_WANT_READ or TLS_WANT_WRITE; call it again when the transport can move data
 * (the network layer's receive/sent callbacks). With a blocking transport the calls simply
 * complete.
 *
 * Memory: the tls_client_t itself (about 1.5 KiB, the caller's) and mbedTLS's heap
 * (tls_platform.h: record buffers, certificates, handshake state; TLS_HEAP_SIZE for one
 * session). The CA and client certificates are parsed at tls_client_connect() and freed as soon
 * as the handshake is over; the server's chain is freed after its verification.
 *
 * Randomness: one CTR_DRBG for the device, seeded at the first connect from tls_entropy.h's
 * sources (which the application must have initialised with the provisioned seed:
 * tls_entropy_init()). Time: certificate validity is checked against tls_time_set()'s clock;
 * while the time is unknown, only the validity (expired / not yet valid) is not checked and
 * tls_client_validity_unchecked() says so.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

/* ---- the byte transport -------------------------------------------------------------------- */

/* Returned by the transport's send/recv when nothing can be moved now. */
#define TLS_TRANSPORT_WOULD_BLOCK (-1)

typedef struct tls_transport {
    /* Sends up to len bytes: the number accepted (> 0), TLS_TRANSPORT_WOULD_BLOCK, or another
       negative value on a broken connection. */
    int (*send)(void *ctx, const unsigned char *buf, size_t len);
    /* Receives up to len bytes: the number received (> 0), 0 at the end of the stream (the
       peer closed TCP), TLS_TRANSPORT_WOULD_BLOCK, or another negative value on error. */
    int (*recv)(void *ctx, unsigned char *buf, size_t len);
    void *ctx;
} tls_transport_t;

/* ---- results ------------------------------------------------------------------------------- */

/* Call again when the transport can receive / send. */
#define TLS_WANT_READ       MBEDTLS_ERR_SSL_WANT_READ
#define TLS_WANT_WRITE      MBEDTLS_ERR_SSL_WANT_WRITE
/* The transport reported an error (mbedTLS's MBEDTLS_ERR_NET_CONN_RESET value). */
#define TLS_ERR_TRANSPORT   (-0x0050)
/* Bad arguments or an unusable configuration (no CA, no host name). */
#define TLS_ERR_CONFIG      (-0x0051)
/* Other errors are mbedTLS's (negative, printed in hex): e.g. MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
   (-0x2700, see tls_client_verify_flags()), MBEDTLS_ERR_SSL_ALLOC_FAILED (-0x7F00: heap too
   small), MBEDTLS_ERR_SSL_INVALID_RECORD (-0x7200: a record larger than the IN buffer). */

/* ---- the client ---------------------------------------------------------------------------- */

/* A certificate or key in RAM: PEM (NUL-terminated, len counting the NUL) or DER. */
typedef struct tls_client_blob {
    const unsigned char *data;
    size_t len;
} tls_client_blob_t;

typedef struct tls_client_config {
    /* Server name: sent as SNI and matched against the certificate (required). */
    const char *hostname;
    /* Trusted CA certificates: PEM (one or more, NUL-terminated, ca_len counting the NUL) or
       one DER certificate. In RAM (copy it out of program memory first); parsed into the heap,
       so the buffer may be reused once tls_client_connect() returned. */
    const unsigned char *ca;
    size_t ca_len;
    /* More trusted CA certificates, each parsed like `ca` (several DER certificates cannot
       share one buffer; the device configuration holds one certificate per record). At least
       one CA must come from `ca` or `ca_list`. */
    const tls_client_blob_t *ca_list;
    size_t ca_count;
    /* Optional client certificate and private key (PEM or DER, same rules), for mutual TLS. */
    const unsigned char *own_cert;
    size_t own_cert_len;
    const unsigned char *own_key;
    size_t own_key_len;
    /* Optional ALPN protocol names, NULL-terminated (kept by pointer: must stay valid), e.g.
       {"x-amzn-mqtt-ca", NULL} for AWS IoT MQTT on port 443. */
    const char **alpn;
    /* 1: offer the saved session (tls_session.h) and save this one for the next connection:
       a reconnect to the same server then costs an abbreviated handshake. One server only. */
    uint8_t reuse_session;
} tls_client_config_t;

typedef struct tls_client {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt own_cert;
    mbedtls_pk_context own_key;
    tls_transport_t transport;
    uint8_t state;              /* TLS_CLIENT_* below */
    uint8_t validity_unchecked; /* certificate dates not checked: the time was unknown */
    uint8_t session_reuse;      /* the config's reuse_session */
    uint8_t session_offered;    /* a saved session was offered */
    uint8_t resumed;            /* the server resumed it (abbreviated handshake) */
    int last_error;
} tls_client_t;

#define TLS_CLIENT_IDLE         0
#define TLS_CLIENT_HANDSHAKE    1
#define TLS_CLIENT_OPEN         2
#define TLS_CLIENT_CLOSED       3   /* the server closed */
#define TLS_CLIENT_FAILED       4
#define TLS_CLIENT_CLOSING      5   /* we sent close_notify */

/* Sets up a session (parses the certificates, seeds the RNG at the first call) and starts the
   handshake. Returns 0 when the handshake is already complete, TLS_WANT_READ/TLS_WANT_WRITE
   when tls_client_handshake() must be called again, or an error (the client is then FAILED;
   tls_client_free() it). */
int tls_client_connect(tls_client_t *c, const tls_client_config_t *cfg,
                       const tls_transport_t *transport);
/* Continues the handshake: 0 once established, TLS_WANT_*, or an error. */
int tls_client_handshake(tls_client_t *c);
/* Sends application data: the number of bytes taken (at most one record, 2 KiB), TLS_WANT_*,
   or an error. After TLS_WANT_*, call again with the same data. */
int tls_client_write(tls_client_t *c, const void *buf, size_t len);
/* Receives application data: bytes read (> 0), 0 when the server closed the session
   (close_notify or end of stream), TLS_WANT_*, or an error. */
int tls_client_read(tls_client_t *c, void *buf, size_t len);
/* Bytes of a received record still waiting to be read (no transport I/O). */
size_t tls_client_pending(const tls_client_t *c);
/* Sends close_notify: 0, TLS_WANT_WRITE, or an error. Afterwards writes are refused, and reads
   go on until the server's close_notify (0) if the caller wants to see it. */
int tls_client_close(tls_client_t *c);
/* Frees everything the session holds on the heap; the client is IDLE again. */
void tls_client_free(tls_client_t *c);

/* The certificate verification result (MBEDTLS_X509_BADCERT_* flags; 0 = verified). */
uint32_t tls_client_verify_flags(const tls_client_t *c);
/* 1 if the certificates' dates were not checked because the time was unknown. */
int tls_client_validity_unchecked(const tls_client_t *c);
/* 1 if the handshake resumed the saved session (no certificate verified this time: it was
   at the session's full handshake). */
int tls_client_resumed(const tls_client_t *c);
/* The negotiated cipher suite name / ALPN protocol (NULL before the handshake or without). */
const char *tls_client_ciphersuite(const tls_client_t *c);
const char *tls_client_alpn(const tls_client_t *c);

/* The device's random generator (CTR_DRBG), seeded on first use; an mbedTLS f_rng. */
int tls_random(void *p_rng, unsigned char *out, size_t len);
/* 0 if the random generator is (or could now be) seeded. */
int tls_random_ready(void);

#endif /* TLS_CLIENT_H */
