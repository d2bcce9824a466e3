/*
 * net_dhcp - the network stack (firmware/net: lwIP 2.1.3 on the HAL's Ethernet driver) through
 * a user-mode gateway: link up, a DHCP lease, two DNS lookups (one name the server knows, one
 * it does not), the time by SNTP (which sets the RTC), and a TCP connection to an echo service
 * at the address the name resolved to, whose bytes must come back intact. Each step has a
 * timeout in virtual time (the HAL's millis()); a step that fails ends the test.
 *
 * What the host side (ft900-sim/tests/net.rs) provides and checks:
 *   the gateway answers DHCP, DNS (NET_DHCP_NAME in its table; NET_DHCP_MISSING not), SNTP
 *   on the router's address, and a TCP echo on port NET_DHCP_ECHO_PORT of NET_DHCP_NAME's
 *   address. The lines it checks:
 *     dhcp: ip A gw G dns D
 *     dns: NET_DHCP_NAME -> A
 *     dns: NET_DHCP_MISSING -> not found
 *     sntp: SEC.USEC unix from G at MS ms
 *     rtc: set to SEC by sntp (was S)
 *     echo: N bytes to A:7 and back intact in MS ms
 *     rtc: SEC at MS ms (sntp time + MS ms)
 *
 * The generator behind LWIP_RAND has a fixed seed: the same run gives the same frames.
 */
#include <string.h>
#include "ft900_net.h"
#include "lwip/apps/sntp.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "ft900_eth.h"
#include "ft900_interrupt.h"
#include "ft900_rtc.h"
#include "ft900_timer.h"
#include "testlib.h"

#define NET_DHCP_NAME       "dynamodb.us-east-1.amazonaws.com"
#define NET_DHCP_MISSING    "no-such-host.invalid"
#define NET_DHCP_ECHO_PORT  7u
#define NET_DHCP_SEED       0x4E455431u
#define ECHO_BYTES          16384u  /* a TLS record's worth: many windows */

/* Virtual-time limits of each step, ms. */
#define LINK_TIMEOUT_MS     3000u
#define DHCP_TIMEOUT_MS     10000u
#define DNS_TIMEOUT_MS      5000u
#define SNTP_TIMEOUT_MS     10000u  /* SNTP_RECV_TIMEOUT is 3 s: room for two retries */
#define ECHO_TIMEOUT_MS     10000u
#define ALIGN_TIMEOUT_MS    1500u

static const uint8_t MAC[6] = {0x02, 0xF9, 0x00, 0x00, 0x00, 0x01};

/* Runs the stack until done() or the timeout; returns 1 if done, with the time it took. */
static int wait_until(int (*done)(void), uint32_t timeout_ms, uint32_t *took_ms)
{
    uint32_t t0 = millis();
    for (;;) {
        net_poll();
        uint32_t dt = millis() - t0;
        if (done()) {
            if (took_ms)
                *took_ms = dt;
            return 1;
        }
        if (dt >= timeout_ms)
            return 0;
    }
}

/* ---- link, DHCP ---------------------------------------------------------------------- */

static int link_is_up(void)
{
    return netif_is_link_up(net_netif());
}

static int lease_bound(void)
{
    return dhcp_supplied_address(net_netif());
}

/* ---- DNS ----------------------------------------------------------------------------- */

static volatile int dns_done, dns_found;
static ip_addr_t dns_result;

static void dns_found_cb(const char *name, const ip_addr_t *addr, void *arg)
{
    (void)name;
    (void)arg;
    dns_found = addr != NULL;
    if (addr != NULL)
        dns_result = *addr;
    dns_done = 1;
}

static int dns_answered(void)
{
    return dns_done;
}

/* Resolves `name`: 1 found (address in *out), 0 not found, -1 error or timeout. */
static int resolve(const char *name, ip_addr_t *out, uint32_t *took_ms)
{
    dns_done = dns_found = 0;
    *took_ms = 0;
    err_t err = dns_gethostbyname(name, &dns_result, dns_found_cb, NULL);
    if (err == ERR_OK) {
        *out = dns_result;
        return 1;
    }
    if (err != ERR_INPROGRESS) {
        tprintf("dns: %s: dns_gethostbyname error %d\n", name, err);
        return -1;
    }
    if (!wait_until(dns_answered, DNS_TIMEOUT_MS, took_ms)) {
        tprintf("dns: %s: no answer in %u ms\n", name, DNS_TIMEOUT_MS);
        return -1;
    }
    *out = dns_result;
    return dns_found;
}

/* ---- SNTP ---------------------------------------------------------------------------- */

static int time_synced(void)
{
    struct net_time t;
    return net_time_get(&t) > 0;
}

static int rtc_aligned(void)
{
    struct net_time t;
    net_time_get(&t);
    return t.rtc_aligned != 0;
}

/* ---- TCP echo ------------------------------------------------------------------------ */

struct echo {
    struct tcp_pcb *pcb;
    uint32_t sent, acked, received, mismatches;
    int connected, shut, closed, failed;
    err_t err;
};

static struct echo echo;

static uint8_t pattern(uint32_t i)
{
    return (uint8_t)(i * 7u + (i >> 8) + 1u);
}

/* Queues as much of the pattern as the send buffer takes; after the last byte, our FIN. */
static void echo_push(struct echo *e)
{
    uint8_t chunk[256];
    while (e->sent < ECHO_BYTES) {
        uint32_t n = tcp_sndbuf(e->pcb);
        if (n > sizeof chunk)
            n = sizeof chunk;
        if (n > ECHO_BYTES - e->sent)
            n = ECHO_BYTES - e->sent;
        if (n == 0)
            break;
        for (uint32_t i = 0; i < n; i++)
            chunk[i] = pattern(e->sent + i);
        if (tcp_write(e->pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* out of segments or heap: the sent callback tries again */
        e->sent += n;
    }
    if (e->sent == ECHO_BYTES && !e->shut) {
        e->shut = 1;
        tcp_shutdown(e->pcb, 0, 1); /* the echo service closes once it has seen our FIN */
    }
    tcp_output(e->pcb);
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    struct echo *e = arg;
    e->acked += len;
    if (!e->shut)
        echo_push(e);
    return ERR_OK;
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct echo *e = arg;
    (void)err;
    if (p == NULL) { /* the service's FIN */
        e->closed = 1;
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_close(pcb);
        e->pcb = NULL;
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        const uint8_t *b = q->payload;
        for (u16_t i = 0; i < q->len; i++)
            e->mismatches += b[i] != pattern(e->received + i);
        e->received += q->len;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void echo_error(void *arg, err_t err)
{
    struct echo *e = arg;
    e->failed = 1;
    e->err = err;
    e->pcb = NULL; /* lwIP has freed it */
}

static err_t echo_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)pcb;
    struct echo *e = arg;
    e->connected = 1;
    if (err == ERR_OK)
        echo_push(e);
    return ERR_OK;
}

static int echo_finished(void)
{
    return echo.closed || echo.failed;
}

/* ---- memory report --------------------------------------------------------------------- */

static const char *pool_name(unsigned i)
{
    switch (i) {
    case MEMP_UDP_PCB: return "udp_pcb";
    case MEMP_TCP_PCB: return "tcp_pcb";
    case MEMP_TCP_PCB_LISTEN: return "tcp_listen";
    case MEMP_TCP_SEG: return "tcp_seg";
    case MEMP_SYS_TIMEOUT: return "timeout";
    case MEMP_PBUF: return "pbuf_ref";
    case MEMP_PBUF_POOL: return "pbuf_pool";
    default: return "?";
    }
}

static void memory_report(void)
{
    unsigned pool_bytes = 0;
    tprintf("lwip heap: max %u of %u bytes used, %u failed allocations\n",
            (unsigned)lwip_stats.mem.max, (unsigned)lwip_stats.mem.avail, (unsigned)lwip_stats.mem.err);
    tprintf("lwip pools:");
    for (unsigned i = 0; i < MEMP_MAX; i++) {
        const struct memp_desc *d = memp_pools[i];
        pool_bytes += (unsigned)d->size * d->num;
        tprintf(" %s %u/%u", pool_name(i), (unsigned)d->stats->max, (unsigned)d->num);
    }
    tprintf("\nlwip memory: heap %u + pools %u = %u bytes\n", (unsigned)MEM_SIZE, pool_bytes,
            (unsigned)MEM_SIZE + pool_bytes);
}

/* ---- the test -------------------------------------------------------------------------- */

int main(void)
{
    char a[16], b[16], c[16], d[16];
    uint32_t took;

    uart_open(UART0, 115200);
    uart_enable_interrupts(UART0);
    timer_tick_init();
    interrupt_enable_globally();
    test_begin("net_dhcp");

    net_rand_seed(NET_DHCP_SEED);
    int r = net_init(MAC);
    CHECK(r == 0, "net_init (%d)", r);
    if (r != 0)
        return test_end();
    struct netif *nif = net_netif();

    /* Link. */
    int ok = wait_until(link_is_up, LINK_TIMEOUT_MS, &took);
    CHECK(ok, "link up after %lu ms", took);
    if (!ok)
        return test_end();

    /* DHCP. */
    uint32_t t0 = millis();
    err_t err = dhcp_start(nif);
    CHECK(err == ERR_OK, "dhcp_start (%d)", err);
    ok = err == ERR_OK && wait_until(lease_bound, DHCP_TIMEOUT_MS, &took);
    CHECK(ok, "DHCP lease after %lu ms", millis() - t0);
    if (!ok)
        return test_end();
    const ip4_addr_t *ip = netif_ip4_addr(nif), *gw = netif_ip4_gw(nif);
    const ip_addr_t *dns_server = dns_getserver(0);
    tprintf("dhcp: ip %s gw %s dns %s\n", net_ip4_str(ip, a), net_ip4_str(gw, b),
            net_ip4_str(dns_server, c));
    tprintf("dhcp: mask %s lease %lu s\n", net_ip4_str(netif_ip4_netmask(nif), d),
            netif_dhcp_data(nif)->offered_t0_lease);
    CHECK(!ip4_addr_isany(ip) && ip4_addr_netcmp(ip, gw, netif_ip4_netmask(nif)),
          "address and router in one subnet");
    CHECK(!ip_addr_isany(dns_server), "DNS server from DHCP");

    /* DNS: a name the server knows, one it does not. */
    ip_addr_t service;
    int found = resolve(NET_DHCP_NAME, &service, &took);
    if (found == 1)
        tprintf("dns: %s -> %s\n", NET_DHCP_NAME, net_ip4_str(&service, a));
    CHECK(found == 1, "%s resolved in %lu ms", NET_DHCP_NAME, took);
    if (found != 1)
        return test_end();
    ip_addr_t missing;
    found = resolve(NET_DHCP_MISSING, &missing, &took);
    if (found == 0)
        tprintf("dns: %s -> not found\n", NET_DHCP_MISSING);
    CHECK(found == 0, "%s not found (answer in %lu ms)", NET_DHCP_MISSING, took);

    /* SNTP from the router; the time goes to the RTC. */
    uint32_t rtc_before = rtc_read();
    sntp_setoperatingmode(SNTP_OPMODE_POLL);
    sntp_setserver(0, gw);
    sntp_init();
    ok = wait_until(time_synced, SNTP_TIMEOUT_MS, &took);
    uint32_t rtc_after = rtc_read();
    struct net_time t;
    net_time_get(&t);
    CHECK(ok, "SNTP answer in %lu ms", took);
    if (!ok)
        return test_end();
    tprintf("sntp: %lu.%06lu unix from %s at %lu ms\n", t.unix_sec, t.usec, net_ip4_str(gw, a),
            t.at_ms);
    tprintf("rtc: set to %lu by sntp (was %lu)\n", rtc_after, rtc_before);
    CHECK(t.unix_sec >= 1577836800u, "SNTP time after 2020-01-01 (%lu)", t.unix_sec);
    CHECK(rtc_after == t.unix_sec, "RTC loaded with the SNTP seconds");

    /* TCP echo at the address the name resolved to. */
    memset(&echo, 0, sizeof echo);
    t0 = millis();
    echo.pcb = tcp_new();
    CHECK(echo.pcb != NULL, "tcp_new");
    if (echo.pcb == NULL)
        return test_end();
    tcp_arg(echo.pcb, &echo);
    tcp_recv(echo.pcb, echo_recv);
    tcp_sent(echo.pcb, echo_sent);
    tcp_err(echo.pcb, echo_error);
    err = tcp_connect(echo.pcb, &service, NET_DHCP_ECHO_PORT, echo_connected);
    CHECK(err == ERR_OK, "tcp_connect to %s:%u (%d)", net_ip4_str(&service, a),
          NET_DHCP_ECHO_PORT, err);
    ok = err == ERR_OK && wait_until(echo_finished, ECHO_TIMEOUT_MS, &took);
    uint32_t echo_ms = millis() - t0;
    if (echo.failed)
        tprintf("echo: connection error %d after %lu ms\n", echo.err, echo_ms);
    CHECK(ok && echo.closed, "echo connection closed by the service after %lu ms", echo_ms);
    CHECK(echo.sent == ECHO_BYTES && echo.acked == ECHO_BYTES, "%lu bytes sent, %lu acknowledged",
          echo.sent, echo.acked);
    CHECK(echo.received == ECHO_BYTES && echo.mismatches == 0,
          "%lu bytes echoed, %lu differ", echo.received, echo.mismatches);
    if (echo.closed && echo.received == ECHO_BYTES && echo.mismatches == 0)
        tprintf("echo: %u bytes to %s:%u and back intact in %lu ms\n", ECHO_BYTES,
                net_ip4_str(&service, a), NET_DHCP_ECHO_PORT, echo_ms);

    /* The RTC, realigned on the second after the sync, keeps the SNTP time. */
    ok = wait_until(rtc_aligned, ALIGN_TIMEOUT_MS, NULL);
    uint32_t now_ms = millis();
    uint32_t rtc_now = rtc_read();
    uint32_t since = now_ms - t.at_ms;
    uint32_t expect = t.unix_sec + (t.usec / 1000u + since) / 1000u;
    tprintf("rtc: %lu at %lu ms (sntp time + %lu ms)\n", rtc_now, now_ms, since);
    CHECK(ok && (rtc_now == expect || rtc_now + 1u == expect || rtc_now == expect + 1u),
          "RTC realigned, counts with the SNTP time (%lu, expected %lu)", rtc_now, expect);

    /* Memory and counters. */
    memory_report();
    struct net_stats ns;
    net_get_stats(&ns);
    struct eth_stats es;
    eth_get_stats(&es);
    tprintf("netif: rx %lu, tx %lu (%lu copied), rx no memory %lu, tx errors %lu; eth: ring full "
            "%lu, fifo overflows %lu, rx errors %lu\n",
            ns.rx_frames, ns.tx_frames, ns.tx_copied, ns.rx_no_mem, ns.tx_errors,
            es.rx_ring_full, es.fifo_overflows, es.rx_errors);
    CHECK(ns.rx_no_mem == 0 && ns.tx_errors == 0 && lwip_stats.mem.err == 0,
          "no frame dropped for lack of memory");
    CHECK(es.rx_ring_full == 0 && es.fifo_overflows == 0 && es.rx_errors == 0 &&
              es.rx_bad_length == 0,
          "no frame lost by the MAC or the receive ring");
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts");
    return test_end();
}
