/*
 * ft900_netif.c - lwIP netif over the HAL's Ethernet driver. See ft900_netif.h.
 *
 * Design:
 * - The HAL owns the hardware: eth_init() (PHY reset, auto-negotiation, MAC, IRQ 3), eth_send()
 *   (one contiguous frame, copied into the MAC's TX FIFO before it returns; FCS and padding
 *   added by the MAC) and the receive ring filled by the IRQ 3 handler (ETH_RX_SLOTS frames).
 *   lwIP never runs in the interrupt: the main loop drains the ring (ft900_netif_poll), so no
 *   lwIP state needs protection.
 * - One static frame buffer (1514 bytes) serves both directions, which the main loop uses one
 *   at a time:
 *   - Receive: eth_recv() needs a buffer for the largest frame because the ring does not say
 *     how long the next frame is. The frame lands in the buffer, then goes into a heap pbuf of
 *     exactly its length. So a 60-byte ACK needs 60 bytes of heap, never 1.5 KiB: when the
 *     heap is nearly full of unacknowledged data, the ACKs that free it still get in. (Receiving
 *     straight into a pbuf of the largest size, then trimming it, saves the copy but stalls
 *     every reception once no 1.5 KiB block is free; with a length peek in the HAL, the
 *     buffer could go.) Without heap even for the exact size, the frame is dropped, as a NIC
 *     without descriptors would (TCP resends).
 *   - Transmit: a pbuf that is one piece (lwIP's DHCP, DNS, SNTP, ARP, ICMP and most TCP
 *     segments) goes to eth_send() as it is; a chain (TCP data appended to a queued segment)
 *     is first flattened into the buffer, without heap.
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
/* lwIP's ETH_ADDR (an address initialiser) and the HAL's ETH_ADDR(n) (a MAC register) share a
   name; this file uses neither. */
#undef ETH_ADDR
#include "ft900_eth.h"

static struct ft900_netif_stats st;
/* The frame being received or flattened for transmission (see above). */
static uint8_t frame_buf[ETH_MAX_FRAME] __attribute__((aligned(4)));

static err_t low_level_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    const void *frame = (const uint8_t *)p->payload + ETH_PAD_SIZE;
    size_t len = p->tot_len - ETH_PAD_SIZE;

    if (p->next != NULL) {
        if (len > sizeof frame_buf ||
            pbuf_copy_partial(p, frame_buf, (u16_t)len, ETH_PAD_SIZE) != len) {
            st.tx_errors++;
            return ERR_BUF;
        }
        frame = frame_buf;
        st.tx_copied++;
    }
    if (eth_send(frame, len) != 0) {
        st.tx_errors++;
        return ERR_IF;
    }
    st.tx_frames++;
    return ERR_OK;
}

unsigned ft900_netif_poll(struct netif *netif, unsigned max)
{
    unsigned n = 0;
    while (n < max && eth_rx_pending() > 0) {
        n++;
        size_t len = eth_recv(frame_buf, sizeof frame_buf, NULL);
        if (len == 0 || len > sizeof frame_buf) /* cannot happen: the HAL's slots hold 1514 */
            continue;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(ETH_PAD_SIZE + len), PBUF_RAM);
        if (p == NULL) {
            st.rx_no_mem++;
            continue;
        }
        memcpy((uint8_t *)p->payload + ETH_PAD_SIZE, frame_buf, len);
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
