/*
 * ft900_netif.c - lwIP netif over the HAL's Ethernet driver. See ft900_netif.h.
 *
 * Design:
 * - The HAL owns the hardware: eth_init() (PHY reset, auto-negotiation, MAC, IRQ 3), eth_send()
 *   (one contiguous frame, copied into the MAC's TX FIFO before it returns; FCS and padding
 *   added by the MAC) and the receive ring filled by the IRQ 3 handler (ETH_RX_SLOTS frames).
 *   lwIP never runs in the interrupt: the main loop drains the ring (ft900_netif_poll), so no
 *   lwIP state needs protection.
 * - No frame buffer of its own:
 *   - Receive: eth_rx_peek_len() tells the length of the next frame in the HAL's ring, which
 *     is read (eth_recv) straight into a heap pbuf of exactly that size. So a 60-byte ACK
 *     needs 60 bytes of heap, never 1.5 KiB: when the heap is nearly full of unacknowledged
 *     data, the ACKs that free it still get in. Without heap even for the exact size, the
 *     frame is dropped, as a NIC without descriptors would (TCP resends).
 *   - Transmit: the pbuf chain is streamed into the MAC's TX FIFO piece by piece
 *     (eth_tx_begin/write/end), one pbuf or a chain alike.
 * - ETH_PAD_SIZE (lwipopts.h) bytes precede the Ethernet header in every pbuf so that the IP
 *   header is 32-bit aligned; they are skipped on the way to and from the HAL.
 * - Link: the PHY's BMSR link bit (eth_link_up, two MDIO reads) drives netif_set_link_up/down;
 *   DHCP starts or restarts on link up (lwIP does that in netif_set_link_up).
 */
#include <string.h>
#include "ft900_netif.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "ft900_eth.h"

static struct ft900_netif_stats st;

static err_t low_level_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    size_t len = p->tot_len - ETH_PAD_SIZE;
    if (eth_tx_begin(len) != 0) {
        st.tx_errors++;
        return ERR_IF;
    }
    size_t skip = ETH_PAD_SIZE;
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        if (q->len <= skip) {
            skip -= q->len;
            continue;
        }
        (void)eth_tx_write((const uint8_t *)q->payload + skip, q->len - skip);
        skip = 0;
    }
    if (p->next != NULL)
        st.tx_copied++;
    if (eth_tx_end() != 0) {
        st.tx_errors++;
        return ERR_IF;
    }
    st.tx_frames++;
    return ERR_OK;
}

unsigned ft900_netif_poll(struct netif *netif, unsigned max)
{
    unsigned n = 0;
    size_t len;
    while (n < max && (len = eth_rx_peek_len()) > 0) {
        n++;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(ETH_PAD_SIZE + len), PBUF_RAM);
        if (p == NULL) {
            (void)eth_recv(NULL, 0, NULL); /* dropped: TCP resends */
            st.rx_no_mem++;
            continue;
        }
        /* PBUF_RAM: one piece, so the frame lands in it in one copy. */
        (void)eth_recv((uint8_t *)p->payload + ETH_PAD_SIZE, len, NULL);
        st.rx_frames++;
        if (netif->input(p, netif) != ERR_OK)
            pbuf_free(p);
    }
    return n;
}

int ft900_netif_check_link(struct netif *netif)
{
    int up = eth_link_up();
    if (up && !netif_is_link_up(netif)) {
        st.link_changes++;
        netif_set_link_up(netif);
    } else if (!up && netif_is_link_up(netif)) {
        st.link_changes++;
        netif_set_link_down(netif);
    }
    return up;
}

err_t ft900_netif_init(struct netif *netif)
{
    const uint8_t *mac = netif->state;
    if (mac == NULL)
        return ERR_ARG;
    memset(&st, 0, sizeof st);
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = low_level_output;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, mac, ETH_HWADDR_LEN);
    /* The MAC takes frames to its station address and broadcasts (eth_init: no promiscuous or
       multicast reception), which is all IPv4 with ARP and DHCP needs. */
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->state = NULL;
    st.eth_init_result = eth_init(mac);
    return st.eth_init_result == 0 ? ERR_OK : ERR_IF;
}

void ft900_netif_get_stats(struct ft900_netif_stats *out)
{
    *out = st;
}
