/*
 * conn.c - TLS over an lwIP raw TCP connection, with blocking calls that run app_idle() while
 * they wait. See conn.h.
 *
 * Receive path: lwIP's recv callback chains the segments' pbufs (no copy); the TLS transport's
 * recv copies out of that chain and acknowledges the bytes to TCP (tcp_recved) only then, so the
 * receive window is the flow control and the chain never exceeds TCP_WND. Send path: the TLS
 * transport writes into TCP's send buffer (copied, as records leave mbedTLS's OUT buffer) and
 * says "would block" when it is full; the wait loop lets lwIP drain it.
 */
#include <string.h>

#include "conn.h"
#include "ft900_net.h"
#include "ft900_timer.h"
#include "ft900_uart.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509.h"
#include "tls_client.h"
#include "tls_platform.h"
#include "tls_session.h"

static const struct config *cfg;
static struct conn_stats stats;

static struct {
    struct tcp_pcb *pcb;
    struct pbuf *rx;      /* received, not yet read */
    uint8_t connected;
    uint8_t peer_closed;  /* FIN received */
    uint8_t failed;       /* lwIP reported an error and freed the pcb */
    uint8_t tls_open;
    err_t err;
} c;

static tls_client_t tls;
static ip_addr_t server;
static uint32_t untrusted_flags; /* verification flags of the last untrusted certificate */

void conn_setup(const struct config *config)
{
    cfg = config;
    memset(&stats, 0, sizeof stats);
    /* The saved session's room, at the bottom of the TLS heap (without it: full handshakes). */
    (void)tls_session_reserve();
}

void conn_get_stats(struct conn_stats *out)
{
    *out = stats;
}

/* ---- lwIP callbacks -------------------------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)pcb;
    (void)err;
    if (p == NULL) {
        c.peer_closed = 1;
        return ERR_OK;
    }
    if (c.rx == NULL)
        c.rx = p;
    else
        pbuf_cat(c.rx, p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)arg;
    c.failed = 1;
    c.err = err;
    c.pcb = NULL; /* lwIP has freed it */
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    if (err == ERR_OK)
        c.connected = 1;
    return ERR_OK;
}

/* ---- the TLS transport ---------------------------------------------------------------------- */

static int t_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    if (c.pcb == NULL || c.failed)
        return -2;
    size_t n = tcp_sndbuf(c.pcb);
    if (n == 0)
        return TLS_TRANSPORT_WOULD_BLOCK;
    if (n > len)
        n = len;
    if (n > 0xFFFFu)
        n = 0xFFFFu;
    err_t e = tcp_write(c.pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM)
        return TLS_TRANSPORT_WOULD_BLOCK;
    if (e != ERR_OK)
        return -2;
    (void)tcp_output(c.pcb);
    return (int)n;
}

static int t_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    if (c.rx != NULL) {
        size_t avail = c.rx->tot_len;
        size_t n = len < avail ? len : avail;
        if (n > 0xFFFFu)
            n = 0xFFFFu;
        u16_t got = pbuf_copy_partial(c.rx, buf, (u16_t)n, 0);
        c.rx = pbuf_free_header(c.rx, got);
        if (c.pcb != NULL)
            tcp_recved(c.pcb, got);
        return got;
    }
    if (c.failed)
        return -2;
    if (c.peer_closed)
        return 0;
    return TLS_TRANSPORT_WOULD_BLOCK;
}

static const tls_transport_t transport = {t_send, t_recv, NULL};

/* ---- helpers ------------------------------------------------------------------------------------ */

/* Ends the TCP connection: FIN (or RST when lwIP cannot close it), or RST at once with `hard`
   (the link is down: nothing would leave, and the pcb is freed now instead of retransmitting a
   FIN for minutes). */
static void tcp_drop(int hard)
{
    if (c.pcb != NULL) {
        tcp_arg(c.pcb, NULL);
        tcp_recv(c.pcb, NULL);
        tcp_err(c.pcb, NULL);
        if (hard || tcp_close(c.pcb) != ERR_OK)
            tcp_abort(c.pcb);
        c.pcb = NULL;
    }
    if (c.rx != NULL) {
        pbuf_free(c.rx);
        c.rx = NULL;
    }
    c.connected = c.peer_closed = c.failed = 0;
}

static volatile uint8_t dns_done;
static uint8_t dns_ok;

static void dns_cb(const char *name, const ip_addr_t *addr, void *arg)
{
    (void)name;
    (void)arg;
    if (addr != NULL) {
        server = *addr;
        dns_ok = 1;
    }
    dns_done = 1;
}

/* The endpoint's address, asked of lwIP at every connection: lwIP answers from its cache
   while the record's TTL lasts (capped by DNS_MAX_TTL, net/lwipopts.h) and queries the server
   again once it ran out; a TCP connection that fails drops the cached name
   (net_dns_forget()), so the next try asks again (the service may have moved). The line
   "dns <host> <address>" is printed for every query that went to the server. */
static int resolve(void)
{
    dns_done = dns_ok = 0;
    uint8_t known = 0;
    err_t e = dns_gethostbyname(cfg->host, &server, dns_cb, NULL);
    if (e == ERR_OK) {
        known = 1; /* from lwIP's cache */
    } else if (e == ERR_INPROGRESS) {
        uint32_t t0 = millis();
        while (!dns_done && millis() - t0 < CONN_DNS_TIMEOUT_MS)
            app_idle();
        known = dns_ok;
        if (known) {
            char a[16];
            uart_printf(UART0, "dns %s %s\n", cfg->host, net_ip4_str(ip_2_ip4(&server), a));
        }
    }
    if (!known) {
        uart_printf(UART0, "ERROR dns %s: not resolved\n", cfg->host);
        return -1;
    }
    return 0;
}

/* The cable is out: nothing waited for can arrive, so the wait ends now (not at its timeout). */
static int link_lost(void)
{
    return !netif_is_link_up(net_netif());
}

static int fail(int ret, const char *what)
{
    stats.failures++;
    stats.last_error = ret;
    uart_printf(UART0, "ERROR %s (%d, -0x%04x)\n", what, ret, (unsigned)-ret);
    conn_close();
    return ret < 0 ? ret : -1;
}

/* The server's certificate did not verify: the session ends before any request (mbedTLS sent
   its alert); the caller reports it, with conn_untrusted_reason(). */
static int untrusted(uint32_t flags)
{
    stats.failures++;
    stats.last_error = MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    untrusted_flags = flags;
    conn_close();
    return CONN_ERR_UNTRUSTED;
}

/* mbedTLS's verification flags (x509.h) in words, the most telling first. In program memory:
   the FT900's .rodata costs RAM. */
static const __flash__ struct {
    uint32_t flags;
    char text[20];
} verify_words[] __attribute__((section("._pm.verify_words"))) = {
    {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "unknown CA"},
    {MBEDTLS_X509_BADCERT_CN_MISMATCH, "host name mismatch"},
    {MBEDTLS_X509_BADCERT_EXPIRED, "expired"},
    {MBEDTLS_X509_BADCERT_FUTURE, "not yet valid"},
    {MBEDTLS_X509_BADCERT_REVOKED, "revoked"},
    {MBEDTLS_X509_BADCERT_MISSING, "no certificate"},
    {MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
         MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "wrong key usage"},
    {MBEDTLS_X509_BADCERT_BAD_MD, "weak hash"},
    {MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY, "unacceptable key"},
};

static size_t append(char *buf, size_t size, size_t at, const __flash__ char *text)
{
    if (at > 0 && at + 2u < size) {
        buf[at++] = ',';
        buf[at++] = ' ';
    }
    for (; *text != '\0' && at + 1u < size; text++)
        buf[at++] = *text;
    buf[at] = '\0';
    return at;
}

uint32_t conn_untrusted_reason(char *buf, size_t size)
{
    static const __flash__ char other[] __attribute__((section("._pm.other"))) = "other";
    uint32_t left = untrusted_flags;
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof verify_words / sizeof verify_words[0]; i++) {
        if (left & verify_words[i].flags) {
            at = append(buf, size, at, verify_words[i].text);
            left &= ~verify_words[i].flags;
        }
    }
    if (left != 0 || at == 0)
        (void)append(buf, size, at, other);
    return untrusted_flags;
}

/* The CA certificates of the configuration, copied into the TLS heap for the handshake. */
static int load_cas(tls_client_blob_t *blobs, unsigned char **bufs)
{
    for (unsigned i = 0; i < cfg->ca_count; i++) {
        struct config_ref ref = cfg->ca[i];
        unsigned char *b = mbedtls_calloc(1, (size_t)ref.len + 1u);
        if (b == NULL)
            return -1;
        bufs[i] = b;
        if (config_read(cfg, ref, b, ref.len) != ref.len)
            return -1;
        /* PEM is parsed as text: NUL-terminated, the NUL counted. */
        int pem = ref.len > 10 && memcmp(b, "-----BEGIN", 10) == 0;
        b[ref.len] = '\0';
        blobs[i].data = b;
        blobs[i].len = (size_t)ref.len + (pem ? 1u : 0u);
    }
    return 0;
}

/* ---- the connection ----------------------------------------------------------------------------- */

int conn_open(void)
{
    if (conn_is_open())
        return 0;
    conn_close();
    if (link_lost()) { /* not an error of its own: the application reports the outage */
        uart_printf(UART0, "tcp: link down, not connecting\n");
        return ERR_CONN;
    }
    if (cfg->ca_count == 0)
        return fail(-1, "tls: no CA certificate in the configuration");
    if (resolve() != 0)
        return -1;

    /* TCP. */
    uint32_t t0 = millis();
    c.pcb = tcp_new();
    if (c.pcb == NULL)
        return fail(ERR_MEM, "tcp: no pcb");
    tcp_arg(c.pcb, NULL);
    tcp_recv(c.pcb, on_recv);
    tcp_err(c.pcb, on_err);
    err_t e = tcp_connect(c.pcb, &server, cfg->port, on_connected);
    if (e != ERR_OK)
        return fail(e, "tcp: connect");
    while (!c.connected && !c.failed && !link_lost() && millis() - t0 < CONN_TCP_TIMEOUT_MS)
        app_idle();
    if (!c.connected) {
        /* The address may be stale (the service moved): the next try asks DNS again. */
        if (!link_lost())
            net_dns_forget(cfg->host);
        return fail(c.failed ? c.err : link_lost() ? ERR_CONN : ERR_TIMEOUT,
                    "tcp: no connection");
    }

    /* TLS. */
    uint32_t h0 = millis(), cy0 = tls_cycles();
    tls_client_blob_t blobs[CONFIG_MAX_CA];
    unsigned char *bufs[CONFIG_MAX_CA] = {0};
    int ret = load_cas(blobs, bufs);
    if (ret == 0) {
        tls_client_config_t tc;
        memset(&tc, 0, sizeof tc);
        tc.hostname = cfg->host;
        tc.ca_list = blobs;
        tc.ca_count = cfg->ca_count;
        tc.reuse_session = 1;
        ret = tls_client_connect(&tls, &tc, &transport);
    } else {
        ret = -1;
    }
    /* The certificates are parsed (or refused): the copies go. */
    for (unsigned i = 0; i < CONFIG_MAX_CA; i++)
        mbedtls_free(bufs[i]);
    if (ret != 0 && ret != TLS_WANT_READ && ret != TLS_WANT_WRITE) {
        tls_client_free(&tls);
        return fail(ret, "tls: setup");
    }
    c.tls_open = 1;
    while ((ret == TLS_WANT_READ || ret == TLS_WANT_WRITE) && !link_lost() &&
           millis() - h0 < CONN_HANDSHAKE_TIMEOUT_MS) {
        app_idle();
        ret = tls_client_handshake(&tls);
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
        return untrusted(tls_client_verify_flags(&tls));
    if (ret == TLS_WANT_READ || ret == TLS_WANT_WRITE) /* the wait ended, not the handshake */
        return fail(link_lost() ? ERR_CONN : ERR_TIMEOUT,
                    link_lost() ? "tls: handshake: link down" : "tls: handshake: timeout");
    if (ret != 0)
        return fail(ret, "tls: handshake");
    stats.handshakes++;
    stats.handshake_ms_last = millis() - h0;
    stats.handshake_cycles_last = tls_cycles() - cy0;
    if (tls_client_resumed(&tls))
        stats.resumptions++;
    uart_printf(UART0, "tls %s%s in %u ms (%u cycles), heap peak %u\n",
                tls_client_ciphersuite(&tls), tls_client_resumed(&tls) ? " resumed" : "",
                (unsigned)stats.handshake_ms_last,
                (unsigned)stats.handshake_cycles_last, (unsigned)tls_heap_high_water());
    return 0;
}

int conn_validity_unchecked(void)
{
    return c.tls_open && tls_client_validity_unchecked(&tls);
}

int conn_is_open(void)
{
    return c.tls_open && tls.state == TLS_CLIENT_OPEN && c.pcb != NULL && !c.failed &&
           !c.peer_closed;
}

int conn_send(const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t done = 0;
    uint32_t t0 = millis();
    while (done < n) {
        if (!c.tls_open || link_lost())
            return -1;
        int r = tls_client_write(&tls, p + done, n - done);
        if (r > 0) {
            done += (size_t)r;
            t0 = millis();
            continue;
        }
        if ((r != TLS_WANT_READ && r != TLS_WANT_WRITE) || millis() - t0 >= CONN_IO_TIMEOUT_MS)
            return r < 0 ? r : -1;
        app_idle();
    }
    return 0;
}

int conn_recv(void *buf, size_t n)
{
    uint32_t t0 = millis();
    for (;;) {
        if (!c.tls_open || link_lost())
            return -1;
        int r = tls_client_read(&tls, buf, n);
        if (r >= 0)
            return r;
        if ((r != TLS_WANT_READ && r != TLS_WANT_WRITE) || millis() - t0 >= CONN_IO_TIMEOUT_MS)
            return r;
        app_idle();
    }
}

void conn_close(void)
{
    if (c.tls_open) {
        if (tls.state == TLS_CLIENT_OPEN && c.pcb != NULL && !c.failed && !link_lost())
            (void)tls_client_close(&tls); /* best effort: one try, no waiting */
        tls_client_free(&tls);
        c.tls_open = 0;
    }
    tcp_drop(link_lost());
}
