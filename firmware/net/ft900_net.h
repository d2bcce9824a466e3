/*
 * ft900_net.h - the firmware's network stack: lwIP 2.1.3 (NO_SYS, raw API) on the FT900's
 * Ethernet port, driven from the application's main loop.
 *
 *     uart_open(UART0, 115200);         // diagnostics and lwIP assertions print there
 *     timer_tick_init();                // sys_now() is millis()
 *     interrupt_enable_globally();      // the HAL receives frames by interrupt
 *     net_rand_set_source(tls_random, NULL); // DHCP/DNS ids, ports, TCP sequence numbers
 *     net_init(mac);                    // Ethernet up, lwIP, the netif (default, up)
 *     dhcp_start(net_netif());
 *     for (;;) { net_poll(); ... }      // frames in, timers, link state
 *
 * Time: the SNTP app (sntp_init() after the lease) calls net_sntp_set_time(), which loads the
 * RTC with the Unix time and, at the next whole second, loads it again so that the RTC's
 * seconds tick in phase with the server's. net_time_get() tells the last synchronisation.
 *
 * Nothing here may be called from an interrupt handler.
 */
#ifndef FT900_NET_H
#define FT900_NET_H

#include <stddef.h>
#include <stdint.h>
#include "lwip/netif.h"

/* The last SNTP synchronisation. */
struct net_time {
    uint32_t syncs;     /* times the SNTP app set the clock (0: never) */
    uint32_t unix_sec;  /* the server's time when the last answer was processed... */
    uint32_t usec;      /* ...and its microseconds */
    uint32_t at_ms;     /* millis() then */
    uint32_t rtc_aligned; /* the RTC was reloaded at the next whole second after the sync */
};

/* Driver and stack counters. */
struct net_stats {
    uint32_t rx_frames;     /* frames handed to lwIP */
    uint32_t rx_no_mem;     /* frames dropped: no heap for their pbuf */
    uint32_t tx_frames;     /* frames handed to the MAC */
    uint32_t tx_copied;     /* of which pbuf chains (streamed to the MAC piece by piece) */
    uint32_t tx_errors;     /* frames refused by the MAC or dropped for lack of heap */
    uint32_t link_changes;  /* link up/down transitions seen */
};

/* A cryptographic generator (an mbedTLS f_rng, e.g. tls_random): fills out[0..len), 0 on
   success. */
typedef int (*net_rand_source_t)(void *ctx, unsigned char *out, size_t len);

/* The generator behind LWIP_RAND and LWIP_HOOK_TCP_ISN: DHCP transaction ids, DNS ids and
   source ports, TCP initial sequence numbers, the first UDP and TCP local ports. Everything
   it gives goes on the wire in clear, so the product draws it from the DRBG
   (net_rand_set_source(tls_random, NULL)): nothing sent then tells anything about the
   provisioned seed. Without a source (the network tests), or should the source fail, a
   xorshift32 seeded by net_rand_seed() (a zero seed is replaced by a constant): the same seed
   gives the same frames. Call either before net_init() (lwIP draws the first ports there). */
void net_rand_set_source(net_rand_source_t source, void *ctx);
void net_rand_seed(uint32_t seed);
uint32_t net_rand(void);

/* Drops `name` from lwIP's DNS cache (its next lookup asks the server), e.g. after the cached
   address stopped answering. */
void net_dns_forget(const char *name);

/* Starts the Ethernet MAC/PHY with `mac` (eth_init), lwIP, and the netif (default, up; link
   state from the PHY). Returns 0, or eth_init's negative error, or -10 if lwIP refused the
   netif. Needs the 1 ms tick running and interrupts enabled. */
int net_init(const uint8_t mac[6]);
/* The netif (valid after net_init). */
struct netif *net_netif(void);

/* One round of the main loop: takes the received frames from the HAL's ring into lwIP, runs
   lwIP's due timers, and every NET_LINK_POLL_MS reads the PHY's link state. Returns the number
   of frames taken: 0 means a caller with nothing else to do may sys_wait_for_interrupt() (the
   next frame or the 1 ms tick wakes it). */
unsigned net_poll(void);
#define NET_LINK_POLL_MS 100u

/* Called by the SNTP app with the server's time; exposed for tests. */
void net_sntp_set_time(uint32_t sec, uint32_t us);
/* Copies the last synchronisation; returns its `syncs` (0: the clock was never set). */
uint32_t net_time_get(struct net_time *out);

void net_get_stats(struct net_stats *out);

/* Formats an IPv4 address as a.b.c.d into buf (at least 16 bytes); returns buf. */
char *net_ip4_str(const ip4_addr_t *addr, char *buf);

#endif /* FT900_NET_H */
