/*
 * conn.h - one HTTPS connection of the application: an lwIP raw-API TCP connection carrying the
 * TLS client (tls/tls_client.h), with blocking calls that keep the device running while they
 * wait: every wait loop calls the application's idle function (app_idle(): net_poll() and the
 * reading timer), so readings are taken on time during a TLS handshake or a slow response.
 *
 * The CA certificates come from the configuration block: each is copied from program memory into
 * the TLS heap for the handshake (mbedTLS parses them there) and freed right after.
 */
#ifndef APP_CONN_H
#define APP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dynamodb.h"

/* Timeouts (virtual = real milliseconds). */
#define CONN_DNS_TIMEOUT_MS      5000u
#define CONN_TCP_TIMEOUT_MS      10000u
#define CONN_HANDSHAKE_TIMEOUT_MS 30000u  /* ECDHE + signature checks take ~1.5 s of CPU */
#define CONN_IO_TIMEOUT_MS       15000u

/* Called in every wait loop (provided by the application). */
void app_idle(void);

struct conn_stats {
    uint32_t handshakes;
    uint32_t resumptions;           /* of which abbreviated (the saved session resumed) */
    uint32_t handshake_ms_last;
    uint32_t handshake_cycles_last; /* tls_cycles(): 50-cycle resolution, wraps after 42.9 s */
    uint32_t failures;
    int32_t last_error;             /* negative: lwIP err_t or mbedTLS error */
};

/* Uses `cfg` (host, port, CA certificates) for every connection. */
void conn_setup(const struct config *cfg);
/* conn_open()'s result when the server's certificate did not verify (the value the DynamoDB
   client expects from its connect function). */
#define CONN_ERR_UNTRUSTED DDB_CONNECT_UNTRUSTED

/* Resolves the host (once), connects TCP, runs the TLS handshake. 0, CONN_ERR_UNTRUSTED (not
   printed: the caller reports it, see conn_untrusted_reason()), or another value < 0 (printed
   with a reason on the log as "ERROR ..."). Every wait ends early when the Ethernet link goes
   down, and so do conn_send() and conn_recv(): a dead cable fails at once, not at a timeout. */
int conn_open(void);
/* The verification failure behind the last CONN_ERR_UNTRUSTED in words ("unknown CA",
   "host name mismatch, expired", ...) into buf; returns mbedTLS's flags. */
uint32_t conn_untrusted_reason(char *buf, size_t size);
/* Sends all bytes: 0 or < 0. */
int conn_send(const void *data, size_t n);
/* Receives: > 0 bytes, 0 at the end of the session, < 0 on error or timeout. */
int conn_recv(void *buf, size_t n);
/* Ends the session (close_notify when possible) and the TCP connection (reset at once when the
   link is down: the pcb and the TLS heap are freed now). */
void conn_close(void);
int conn_is_open(void);
/* 1 if the open session's certificate dates were not checked (the time was unknown). */
int conn_validity_unchecked(void);
void conn_get_stats(struct conn_stats *out);

#endif /* APP_CONN_H */
