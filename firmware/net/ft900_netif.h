/*
 * ft900_netif.h - the lwIP network interface of the FT900's Ethernet port, over the HAL's eth
 * driver (ft900_eth.h).
 *
 *     netif_add(&nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, (void *)mac,
 *               ft900_netif_init, ethernet_input);
 *
 * The MAC address comes as the netif's state argument (6 bytes, read during the init).
 * Transmit: a pbuf (chain) becomes one frame handed to eth_send(). Receive: the HAL's IRQ 3
 * handler fills a ring of frames; ft900_netif_poll(), from the main loop, reads each into a
 * heap pbuf of its size (eth_rx_peek_len) and calls netif->input. Link: ft900_netif_check_link() reads the
 * PHY's link bit (MDIO) and sets the netif's link up or down.
 */
#ifndef FT900_NETIF_H
#define FT900_NETIF_H

#include <stdint.h>
#include "lwip/err.h"
#include "lwip/netif.h"

struct ft900_netif_stats {
    uint32_t rx_frames;
    uint32_t rx_no_mem;
    uint32_t tx_frames;
    uint32_t tx_copied;   /* of which pbuf chains (streamed piece by piece) */
    uint32_t tx_errors;
    uint32_t link_changes;
    int32_t eth_init_result; /* eth_init()'s result at the netif's init */
};

/* netif init callback for netif_add(): state = the MAC address (6 bytes). Starts the MAC and
   PHY (eth_init); returns ERR_IF if the hardware does not respond. */
err_t ft900_netif_init(struct netif *netif);

/* Hands at most `max` received frames to netif->input; returns how many were taken from the
   ring (including frames dropped for lack of memory). */
unsigned ft900_netif_poll(struct netif *netif, unsigned max);

/* Reads the PHY's link state and calls netif_set_link_up/down on a change; returns it. */
int ft900_netif_check_link(struct netif *netif);

void ft900_netif_get_stats(struct ft900_netif_stats *out);

#endif /* FT900_NETIF_H */
