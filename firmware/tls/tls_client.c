/*
 * tls_client.c - TLS 1.2 client over a byte transport. See tls_client.h.
 */
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"

#include "tls_client.h"
#include "tls_entropy.h"
#include "tls_platform.h"
#include "tls_session.h"

/* ---- the device's random generator ----------------------------------------------------------- */

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static uint8_t rng_seeded;

int tls_random_ready(void)
{
    if (rng_seeded)
        return 0;
    mbedtls_entropy_init(&entropy);
    int ret = tls_entropy_setup(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                    (const unsigned char *)"ft900 tls_client", 16);
    if (ret != 0) {
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
        return ret;
    }
    rng_seeded = 1;
    return 0;
}

int tls_random(void *p_rng, unsigned char *out, size_t len)
{
    (void)p_rng;
    int ret = tls_random_ready();
    return ret != 0 ? ret : mbedtls_ctr_drbg_random(&drbg, out, len);
}

/* ---- transport glue ------------------------------------------------------------------------ */

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    tls_client_t *c = p;
    int n = c->transport.send(c->transport.ctx, buf, len);
    if (n == TLS_TRANSPORT_WOULD_BLOCK)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return n < 0 ? TLS_ERR_TRANSPORT : n;
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    tls_client_t *c = p;
    int n = c->transport.recv(c->transport.ctx, buf, len);
    if (n == TLS_TRANSPORT_WOULD_BLOCK)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return n < 0 ? TLS_ERR_TRANSPORT : n; /* 0: end of stream (MBEDTLS_ERR_SSL_CONN_EOF) */
}

/* Called for each certificate of the chain after mbedTLS's checks. While the time of day is
   unknown the dates cannot be checked: clear only those two flags, and remember it. */
static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_client_t *c = p;
    (void)crt;
    (void)depth;
    const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    if (!tls_time_known() && (*flags & dates)) {
        *flags &= ~dates;
        c->validity_unchecked = 1;
    }
    return 0;
}

/* ---- the session --------------------------------------------------------------------------- */

static int fail(tls_client_t *c, int ret)
{
    c->state = TLS_CLIENT_FAILED;
    c->last_error = ret;
    return ret;
}

/* The certificates are needed only during the handshake: free them once it is over. */
static void drop_certificates(tls_client_t *c)
{
    mbedtls_ssl_conf_ca_chain(&c->conf, NULL, NULL);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_x509_crt_free(&c->own_cert);
    mbedtls_pk_free(&c->own_key);
}

static int step(tls_client_t *c)
{
    int ret = mbedtls_ssl_handshake(&c->ssl);
    if (ret == 0) {
        c->state = TLS_CLIENT_OPEN;
        drop_certificates(c);
        if (c->session_reuse) {
            c->resumed = (uint8_t)(c->session_offered && tls_session_resumed(&c->ssl));
            /* A session whose certificate dates went unchecked is never resumed: the next
               handshake verifies the chain again, with the dates once the time is known. */
            if (c->validity_unchecked)
                tls_session_forget();
            else if (!c->resumed)
                tls_session_save(&c->ssl);
        }
        return 0;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return ret;
    /* A handshake that failed other than by the transport (an alert, a certificate refused)
       starts the next one afresh. */
    if (c->session_reuse && ret != TLS_ERR_TRANSPORT)
        tls_session_forget();
    return fail(c, ret);
}

int tls_client_connect(tls_client_t *c, const tls_client_config_t *cfg,
                       const tls_transport_t *transport)
{
    memset(c, 0, sizeof *c);
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_x509_crt_init(&c->own_cert);
    mbedtls_pk_init(&c->own_key);
    c->state = TLS_CLIENT_HANDSHAKE;

    if (cfg == NULL || transport == NULL || transport->send == NULL || transport->recv == NULL ||
        cfg->hostname == NULL || cfg->hostname[0] == '\0' ||
        ((cfg->ca == NULL || cfg->ca_len == 0) && (cfg->ca_list == NULL || cfg->ca_count == 0)) ||
        (cfg->own_cert != NULL) != (cfg->own_key != NULL))
        return fail(c, TLS_ERR_CONFIG);
    c->transport = *transport;

    int ret = tls_random_ready();
    if (ret != 0)
        return fail(c, ret);

    /* Trusted CAs, PEM or DER (mbedtls_x509_crt_parse tells them apart): every certificate must
       parse (a positive return counts PEM certificates that did not). */
    if (cfg->ca != NULL && cfg->ca_len != 0) {
        ret = mbedtls_x509_crt_parse(&c->ca, cfg->ca, cfg->ca_len);
        if (ret != 0)
            return fail(c, ret < 0 ? ret : TLS_ERR_CONFIG);
    }
    for (size_t i = 0; cfg->ca_list != NULL && i < cfg->ca_count; i++) {
        ret = mbedtls_x509_crt_parse(&c->ca, cfg->ca_list[i].data, cfg->ca_list[i].len);
        if (ret != 0)
            return fail(c, ret < 0 ? ret : TLS_ERR_CONFIG);
    }
    if (cfg->own_cert != NULL) {
        ret = mbedtls_x509_crt_parse(&c->own_cert, cfg->own_cert, cfg->own_cert_len);
        if (ret == 0)
            ret = mbedtls_pk_parse_key(&c->own_key, cfg->own_key, cfg->own_key_len, NULL, 0);
        if (ret != 0)
            return fail(c, ret < 0 ? ret : TLS_ERR_CONFIG);
    }

    ret = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return fail(c, ret);
    /* TLS 1.2 only (the only version compiled in; said again for clarity). */
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    mbedtls_ssl_conf_verify(&c->conf, verify_cb, c);
    mbedtls_ssl_conf_rng(&c->conf, tls_random, NULL);
    if (cfg->own_cert != NULL) {
        ret = mbedtls_ssl_conf_own_cert(&c->conf, &c->own_cert, &c->own_key);
        if (ret != 0)
            return fail(c, ret);
    }
    if (cfg->alpn != NULL) {
        ret = mbedtls_ssl_conf_alpn_protocols(&c->conf, cfg->alpn);
        if (ret != 0)
            return fail(c, ret);
    }

    ret = mbedtls_ssl_setup(&c->ssl, &c->conf);
    if (ret == 0)
        ret = mbedtls_ssl_set_hostname(&c->ssl, cfg->hostname); /* SNI and the name check */
    if (ret != 0)
        return fail(c, ret);
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    c->session_reuse = cfg->reuse_session;
    if (c->session_reuse)
        c->session_offered = (uint8_t)tls_session_offer(&c->ssl);
    return step(c);
}

int tls_client_handshake(tls_client_t *c)
{
    switch (c->state) {
    case TLS_CLIENT_OPEN:
        return 0;
    case TLS_CLIENT_HANDSHAKE:
        return step(c);
    case TLS_CLIENT_FAILED:
        return c->last_error;
    default:
        return TLS_ERR_CONFIG;
    }
}

int tls_client_write(tls_client_t *c, const void *buf, size_t len)
{
    if (c->state != TLS_CLIENT_OPEN) /* also after close: nothing goes after close_notify */
        return c->state == TLS_CLIENT_FAILED ? c->last_error : TLS_ERR_CONFIG;
    int ret = mbedtls_ssl_write(&c->ssl, buf, len);
    if (ret >= 0 || ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return ret;
    return fail(c, ret);
}

int tls_client_read(tls_client_t *c, void *buf, size_t len)
{
    if (c->state == TLS_CLIENT_CLOSED)
        return 0;
    if (c->state != TLS_CLIENT_OPEN && c->state != TLS_CLIENT_CLOSING)
        return c->state == TLS_CLIENT_FAILED ? c->last_error : TLS_ERR_CONFIG;
    int ret = mbedtls_ssl_read(&c->ssl, buf, len);
    if (ret > 0 || ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return ret;
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        c->state = TLS_CLIENT_CLOSED;
        return 0;
    }
    return fail(c, ret);
}

size_t tls_client_pending(const tls_client_t *c)
{
    return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

int tls_client_close(tls_client_t *c)
{
    if (c->state != TLS_CLIENT_OPEN)
        return 0;
    int ret = mbedtls_ssl_close_notify(&c->ssl);
    if (ret == 0)
        c->state = TLS_CLIENT_CLOSING;
    else if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
        fail(c, ret);
    return ret;
}

void tls_client_free(tls_client_t *c)
{
    drop_certificates(c);
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    c->state = TLS_CLIENT_IDLE;
}

uint32_t tls_client_verify_flags(const tls_client_t *c)
{
    return mbedtls_ssl_get_verify_result(&c->ssl);
}

int tls_client_validity_unchecked(const tls_client_t *c)
{
    return c->validity_unchecked;
}

int tls_client_resumed(const tls_client_t *c)
{
    return c->resumed;
}

const char *tls_client_ciphersuite(const tls_client_t *c)
{
    return c->state == TLS_CLIENT_OPEN ? mbedtls_ssl_get_ciphersuite(&c->ssl) : NULL;
}

const char *tls_client_alpn(const tls_client_t *c)
{
    return mbedtls_ssl_get_alpn_protocol(&c->ssl);
}
