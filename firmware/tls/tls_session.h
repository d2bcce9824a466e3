/*
 * tls_session.h - one saved TLS session of the device, for resumption by session id
 * (RFC 5246 7.3): a reconnect to the same server offers the id of the last full handshake's
 * session, and a server that still knows it answers with the abbreviated handshake (no
 * certificate chain, no signature to verify, no ECDHE: about 1/20 of a full handshake's CPU).
 *
 * The session is kept serialised (mbedtls_ssl_session_save) in TLS_SESSION_MAX bytes of the
 * TLS heap, reserved once at start-up (tls_session_reserve(), before any connection, so the
 * block sits at the bottom of the heap and never splits it). It holds the master secret:
 * wiped by tls_session_forget(), never printed.
 *
 * Only sessions whose server certificate was fully verified, dates included, are saved: a
 * session set up while the time was unknown (tls_client.h) is never resumed, so the first
 * handshake after the time becomes known verifies the chain with its dates.
 */
#ifndef TLS_SESSION_H
#define TLS_SESSION_H

#include "mbedtls/ssl.h"

#define TLS_SESSION_MAX 176u /* a serialised TLS 1.2 session without tickets: ~150 bytes */

/* Reserves the session's room in the TLS heap (once; call at start-up, before the first
   connection): 0, or -1 if the heap has no room (then nothing is ever saved). */
int tls_session_reserve(void);
/* Offers the saved session on `ssl` (after mbedtls_ssl_setup, before the handshake). Returns 1
   if a session was offered, 0 if none is saved (or it could not be loaded: then it is
   forgotten). */
int tls_session_offer(mbedtls_ssl_context *ssl);
/* After a completed handshake: 1 if the server resumed the offered session (it echoed its id). */
int tls_session_resumed(const mbedtls_ssl_context *ssl);
/* Saves the session of a completed handshake (replacing the saved one). */
void tls_session_save(const mbedtls_ssl_context *ssl);
/* Wipes the saved session: the next handshake is a full one. */
void tls_session_forget(void);
/* 1 if a session is saved. */
int tls_session_saved(void);

#endif /* TLS_SESSION_H */
