/*
 * lwipopts.h - lwIP 2.1.3 configuration of the FT900 firmware (NO_SYS = 1, raw API only).
 *
 * IPv4 with ARP, ICMP (echo replies), UDP, TCP, DHCP, DNS and the SNTP app; no IPv6, no
 * fragmentation, no sockets or netconn, no threads: the application's main loop calls
 * net_poll() (ft900_net.h), which feeds received frames to the stack and runs its timers. No
 * lwIP function is ever called from an interrupt, so no lightweight protection is needed.
 *
 * Memory: 64 KiB of RAM hold everything (.rodata included), and the TLS client needs a 30 KiB
 * heap of its own; lwIP gets at most 16 KiB for its heap and pools together. The figures below
 * are what one TCP connection at a time with a 1460-byte MSS needs, with each choice justified
 * next to it; tests/net_dhcp.c prints the high-water marks (MEM_STATS/MEMP_STATS) of a run.
 *
 *   heap (MEM_SIZE)                                            8192 bytes
 *   pools: 2 TCP PCBs, 1 listen PCB, 4 UDP PCBs, 10 TCP segments,
 *          4 PBUF_REF, 8 timeouts                                   824 bytes
 *   tables outside the pools (ARP 4, DNS 2, netif, stats, ...)    ~400 bytes
 *   the driver's frame buffer (ft900_netif.c)                      1514 bytes
 *
 * Measured by tests/net_dhcp.c (DHCP, two DNS lookups, SNTP, 16 KiB through a TCP echo): heap
 * high-water mark 4704 bytes, no failed allocation; pools at most 2 UDP PCBs, 1 TCP PCB, 2
 * segments, 7 timeouts. The margin is for a slower peer or application (more data in flight
 * or waiting, see MEM_SIZE) and a second connection's TIME_WAIT. Less degrades gracefully: with
 * a 3 KiB heap the same test passes, slowed down by retransmissions (3 s instead of 15 ms for
 * the echo); with 2 KiB a full-size segment no longer fits next to the data awaiting its ACK.
 *
 * Received frames are not kept in a pbuf pool (PBUF_POOL_SIZE 0): the driver copies each frame
 * from the HAL's receive ring into a heap pbuf of exactly the frame's size (ft900_netif.c), so
 * a 60-byte ACK takes 60 bytes of heap, not a 1.5 KiB pool buffer, and the heap is the one
 * budget that received and transmitted data share.
 */
#ifndef FT900_LWIPOPTS_H
#define FT900_LWIPOPTS_H

#include <stdint.h>

/* ---- platform --------------------------------------------------------------------------- */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0   /* lwIP runs only in the main loop */
#define LWIP_TIMERS                     1   /* sys_check_timeouts() from net_poll() */
#define LWIP_SINGLE_NETIF               1   /* one Ethernet port */
#define MEM_ALIGNMENT                   4
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0

/* The application's generator (ft900_net.h: the DRBG in the product): DHCP transaction ids,
   DNS ids and source ports, the first local ports, and TCP initial sequence numbers (lwIP's
   own ISN is a counter of its ticks: predictable). A random ISN per connection (RFC 6528's
   goal, unguessable by an off-path attacker) instead of its hash-of-the-4-tuple form: one
   connection at a time, so no 4-tuple is reused soon enough to need monotonic ISNs. */
uint32_t net_rand(void);
uint32_t net_tcp_isn(const void *local_ip, uint16_t local_port, const void *remote_ip,
                     uint16_t remote_port);
#define LWIP_RAND()                     net_rand()
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
    net_tcp_isn((local_ip), (local_port), (remote_ip), (remote_port))

/* ---- memory ----------------------------------------------------------------------------- */
/* The heap holds every PBUF_RAM: received frames (exactly their size) until lwIP or the
   application is done with them, at most TCP_WND = 2920 bytes of TCP data waiting for the
   application (+ ~60 bytes of headers and pbuf overhead per segment); unacknowledged TCP data
   (TCP_SND_BUF = 2920 bytes + the same overhead); the UDP messages of DHCP (~600 bytes), DNS
   and SNTP (< 300) and the DHCP state. Both windows full at once, a frame being processed and
   the rest would be ~8 KiB; that does not happen together in practice: the measured peaks are
   4704 bytes (tests/net_dhcp.c, 16 KiB echoed, both directions at once) and ~3 KiB
   (dynamodb-client: a request goes out, then its response comes in; 3596 bytes at most in the
   scenario suite, network-outage's BatchWriteItem of 15 readings). 5.5 KiB keeps 0.9 KiB above
   the worst measured case (the echo test) and 2 KiB above the product's (it was 7 KiB: 1.5 KiB
   went to the application's free RAM, firmware/README.md). When the heap runs out, a received frame is dropped or tcp_write
   returns ERR_MEM (the TLS transport then waits), and TCP recovers by retransmission.
   Another size: -DNET_MEM_SIZE=N (make NET_DEFS=...). */
#ifndef NET_MEM_SIZE
#define NET_MEM_SIZE                    (5632u)
#endif
#define MEM_SIZE                        NET_MEM_SIZE
#define MEMP_NUM_PBUF                   4   /* PBUF_REF/ROM: tcp_write without copy, DNS names */
#define MEMP_NUM_UDP_PCB                4   /* DHCP, DNS, SNTP, one for the application */
#define MEMP_NUM_TCP_PCB                2   /* one connection + one in TIME_WAIT or closing */
#define MEMP_NUM_TCP_PCB_LISTEN         1   /* lwIP needs the pool; we do not listen */
#define MEMP_NUM_TCP_SEG                10  /* TCP_SND_QUEUELEN (8) + 2 being acknowledged */
#define MEMP_NUM_REASSDATA              0
#define MEMP_NUM_FRAG_PBUF              0
#define MEMP_NUM_ARP_QUEUE              0
/* The stack's timers (TCP 1, ARP 1, DHCP 2, DNS 1), SNTP 1, the RTC alignment of ft900_net.c
   1, and one for the application. */
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 3)
#define PBUF_POOL_SIZE                  0   /* see above: received frames are PBUF_RAM */

/* ---- link layer ------------------------------------------------------------------------- */
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define ARP_TABLE_SIZE                  4   /* the gateway, the DNS server, two more */
#define ARP_QUEUEING                    0   /* keep only the latest packet per pending entry */
#define ETHARP_SUPPORT_STATIC_ENTRIES   0
/* Two bytes before the Ethernet header so that the IP header is 32-bit aligned. */
#define ETH_PAD_SIZE                    2

/* ---- IPv4, ICMP ------------------------------------------------------------------------- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define IP_FORWARD                      0
#define IP_REASSEMBLY                   0   /* nothing we talk to fragments (MSS 1460) */
#define IP_FRAG                         0
#define LWIP_ICMP                       1   /* answers pings */
#define LWIP_RAW                        0
#define LWIP_IGMP                       0
#define LWIP_AUTOIP                     0

/* ---- UDP, DHCP, DNS --------------------------------------------------------------------- */
#define LWIP_UDP                        1
#define LWIP_DHCP                       1
#define LWIP_DHCP_CHECK_LINK_UP         1
/* No ARP probe of the offered address before using it: behind the user-mode gateway (and on
   most routers' LANs) the server is the only one that hands out addresses; the probe would
   cost 0.5 to 1 s at every boot and ~600 bytes of code. */
#define DHCP_DOES_ARP_CHECK             0
#define LWIP_DHCP_GET_NTP_SRV           0   /* the SNTP server is set by the application */
#define LWIP_DNS                        1
#define DNS_TABLE_SIZE                  2   /* the service endpoint + one more name */
#define DNS_MAX_NAME_LENGTH             64  /* "dynamodb.us-east-1.amazonaws.com" is 32 */
#define DNS_MAX_SERVERS                 1   /* the one DHCP gives */
#define DNS_MAX_SOURCE_PORTS            1   /* random source port, one UDP PCB */
#define DNS_MAX_RETRIES                 4
#define DNS_MAX_TTL                     300 /* a record is asked again after 5 min at most */

/* ---- TCP ------------------------------------------------------------------------------- */
#define LWIP_TCP                        1
#define TCP_MSS                         1460
#define TCP_WND                         (2 * TCP_MSS)
#define TCP_SND_BUF                     (2 * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_QUEUE_OOSEQ                 0   /* out-of-order segments are dropped, resent later */
#define TCP_LISTEN_BACKLOG              0
#define LWIP_TCP_KEEPALIVE              0
#define LWIP_ALTCP                      0
#define LWIP_CALLBACK_API               1

/* ---- SNTP (apps/sntp) ------------------------------------------------------------------ */
#define SNTP_MAX_SERVERS                1
#define SNTP_SERVER_DNS                 0
#define SNTP_STARTUP_DELAY              0   /* ask as soon as sntp_init() is called */
#define SNTP_CHECK_RESPONSE             1   /* the answer must come from the server asked */
#define SNTP_RECV_TIMEOUT               3000 /* retry after 3 s (default 15 s) */
#define SNTP_UPDATE_DELAY               3600000 /* then once an hour */
/* The time (seconds since 1970, microseconds) goes to the RTC through the HAL. */
void net_sntp_set_time(uint32_t sec, uint32_t us);
#define SNTP_SET_SYSTEM_TIME_US(sec, us) net_sntp_set_time((sec), (us))

/* ---- checksums: the FT900 MAC has no offload; generate and check everything in software - */
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1
#define LWIP_CHECKSUM_ON_COPY           0
#define LWIP_CHKSUM_ALGORITHM           3   /* 32-bit accumulator: best on a 32-bit CPU */

/* ---- APIs and features not used --------------------------------------------------------- */
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define LWIP_NETIF_API                  0
#define LWIP_NETIF_HOSTNAME             0
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_HAVE_LOOPIF                0
#define LWIP_STATS_DISPLAY              0
#define PPP_SUPPORT                     0

/* ---- statistics: only the heap and the pools (their high-water marks size the budget) --- */
#define LWIP_STATS                      1
#define LINK_STATS                      0
#define ETHARP_STATS                    0
#define IP_STATS                        0
#define IPFRAG_STATS                    0
#define ICMP_STATS                      0
#define UDP_STATS                       0
#define TCP_STATS                       0
#define MEM_STATS                       1
#define MEMP_STATS                      1
#define SYS_STATS                       0

#endif /* FT900_LWIPOPTS_H */
