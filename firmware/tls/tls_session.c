/*
 * tls_session.c - the saved TLS session (resumption by session id). See tls_session.h.
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl.h"

#include "tls_session.h"

/* In the TLS heap, reserved once (RAM outside the heap is what the FT900 lacks most). */
static struct store {
    unsigned char saved[TLS_SESSION_MAX];
    unsigned char offered_id[32]; /* the id offered by the current handshake */
} *store;
static uint16_t saved_len;
static uint8_t offered_len;
#define saved (store->saved)
#define offered_id (store->offered_id)

int tls_session_reserve(void)
{
    if (store == NULL)
        store = mbedtls_calloc(1, sizeof *store);
    return store != NULL ? 0 : -1;
}

int tls_session_saved(void)
{
    return saved_len > 0;
}

void tls_session_forget(void)
{
    if (store != NULL)
        mbedtls_platform_zeroize(store, sizeof *store);
    saved_len = 0;
    offered_len = 0;
}

int tls_session_offer(mbedtls_ssl_context *ssl)
{
    offered_len = 0;
    if (store == NULL || saved_len == 0)
        return 0;
    /* On the TLS heap for the moment it takes: mbedtls_ssl_set_session() copies it. */
    mbedtls_ssl_session *s = mbedtls_calloc(1, sizeof *s);
    if (s == NULL)
        return 0;
    mbedtls_ssl_session_init(s);
    int ret = mbedtls_ssl_session_load(s, saved, saved_len);
    if (ret == 0 && (s->id_len == 0 || s->id_len > sizeof offered_id))
        ret = -1; /* no id to offer */
    if (ret == 0)
        ret = mbedtls_ssl_set_session(ssl, s);
    if (ret == 0) {
        memcpy(offered_id, s->id, s->id_len);
        offered_len = (uint8_t)s->id_len;
    }
    mbedtls_ssl_session_free(s); /* zeroizes the master secret */
    mbedtls_free(s);
    if (ret != 0) {
        tls_session_forget();
        return 0;
    }
    return 1;
}

int tls_session_resumed(const mbedtls_ssl_context *ssl)
{
    const mbedtls_ssl_session *s = ssl->session;
    return offered_len > 0 && s != NULL && s->id_len == offered_len &&
           memcmp(s->id, offered_id, offered_len) == 0;
}

void tls_session_save(const mbedtls_ssl_context *ssl)
{
    size_t len = 0;
    tls_session_forget();
    if (store == NULL || ssl->session == NULL || ssl->session->id_len == 0)
        return; /* no room reserved, or the server does not resume by id */
    if (mbedtls_ssl_session_save(ssl->session, saved, sizeof saved, &len) == 0)
        saved_len = (uint16_t)len;
    else
        tls_session_forget();
}
