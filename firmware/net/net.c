/*
 * net.c - lwIP's platform (sys_now, LWIP_RAND, diagnostics, the SNTP clock hook) and the
 * main-loop driver of the network stack. See ft900_net.h.
 */
#include <stdarg.h>
#include "ft900_net.h"
#include "ft900_netif.h"
#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "ft900_eth.h"
#include "ft900_format.h"
#include "ft900_rtc.h"
#include "ft900_timer.h"
#include "ft900_uart.h"

void _exit(int status) __attribute__((noreturn));

#define RAND_DEFAULT_SEED 0x2545F491u

static struct netif nif;
static uint32_t rand_state = RAND_DEFAULT_SEED;
static net_rand_source_t rand_source;
static void *rand_ctx;
static struct net_time time_sync;
static uint32_t last_link_poll;

/* ---- lwIP's platform ---------------------------------------------------------------------- */

u32_t sys_now(void)
{
    return millis();
}

void net_rand_seed(uint32_t seed)
{
    rand_state = seed != 0 ? seed : RAND_DEFAULT_SEED;
}

void net_rand_set_source(net_rand_source_t source, void *ctx)
{
    rand_source = source;
    rand_ctx = ctx;
}

/* The source's next 4 bytes; else Marsaglia's xorshift32 (period 2^32 - 1, never 0), which
   holds nothing secret (net_rand_seed's value, or a constant). */
uint32_t net_rand(void)
{
    uint32_t r;
    if (rand_source != NULL && rand_source(rand_ctx, (unsigned char *)&r, sizeof r) == 0)
        return r;
    uint32_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return x;
}

/* LWIP_HOOK_TCP_ISN (lwipopts.h): a fresh random ISN whatever the 4-tuple. */
uint32_t net_tcp_isn(const void *local_ip, uint16_t local_port, const void *remote_ip,
                     uint16_t remote_port)
{
    (void)local_ip;
    (void)local_port;
    (void)remote_ip;
    (void)remote_port;
    return net_rand();
}

void net_platform_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uart_vprintf(UART0, fmt, ap);
    va_end(ap);
}

void net_platform_assert(const char *msg, const char *file, int line)
{
    uart_printf(UART0, "lwip assertion failed: %s (%s:%d)\n", msg, file, line);
    uart_flush(UART0);
    _exit(NET_ASSERT_EXIT_STATUS);
}

/* ---- SNTP -> RTC ------------------------------------------------------------------------ */

/* At the first whole second after the sync: load the RTC again, so that its seconds roll over
   in phase with the server's (a load restarts the RTC's sub-second divider). */
static void rtc_align(void *arg)
{
    (void)arg;
    uint32_t ms = time_sync.usec / 1000u + (millis() - time_sync.at_ms);
    rtc_set(time_sync.unix_sec + ms / 1000u);
    time_sync.rtc_aligned = 1;
}

void net_sntp_set_time(uint32_t sec, uint32_t us)
{
    time_sync.syncs++;
    time_sync.unix_sec = sec;
    time_sync.usec = us;
    time_sync.at_ms = millis();
    time_sync.rtc_aligned = 0;
    rtc_start(sec); /* counting enabled, counter loaded */
    sys_untimeout(rtc_align, NULL);
    sys_timeout((1000000u - us + 999u) / 1000u, rtc_align, NULL);
}

uint32_t net_time_get(struct net_time *out)
{
    *out = time_sync;
    return time_sync.syncs;
}

/* ---- the stack in the main loop --------------------------------------------------------- */

int net_init(const uint8_t mac[6])
{
    lwip_init();
    if (netif_add(&nif, NULL, NULL, NULL, LWIP_CONST_CAST(void *, mac), ft900_netif_init,
                  ethernet_input) == NULL) {
        struct ft900_netif_stats s;
        ft900_netif_get_stats(&s);
        return s.eth_init_result != 0 ? (int)s.eth_init_result : -10;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    ft900_netif_check_link(&nif);
    last_link_poll = millis();
    return 0;
}

struct netif *net_netif(void)
{
    return &nif;
}

unsigned net_poll(void)
{
    unsigned frames = ft900_netif_poll(&nif, ETH_RX_SLOTS);
    sys_check_timeouts();
    uint32_t now = millis();
    if (now - last_link_poll >= NET_LINK_POLL_MS) {
        last_link_poll = now;
        ft900_netif_check_link(&nif);
    }
    return frames;
}

void net_get_stats(struct net_stats *out)
{
    struct ft900_netif_stats s;
    ft900_netif_get_stats(&s);
    out->rx_frames = s.rx_frames;
    out->rx_no_mem = s.rx_no_mem;
    out->tx_frames = s.tx_frames;
    out->tx_copied = s.tx_copied;
    out->tx_errors = s.tx_errors;
    out->link_changes = s.link_changes;
}

char *net_ip4_str(const ip4_addr_t *addr, char *buf)
{
    fmt_snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)ip4_addr1(addr), (unsigned)ip4_addr2(addr),
                 (unsigned)ip4_addr3(addr), (unsigned)ip4_addr4(addr));
    return buf;
}
