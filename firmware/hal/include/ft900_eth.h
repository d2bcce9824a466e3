/*
 * ft900_eth.h - Ethernet MAC and integrated PHY driver (AN_324 section 10).
 *
 * Frames handed to eth_send() and returned by eth_recv() are whole Ethernet frames from the
 * destination address through the payload, without the FCS (the MAC appends it on transmit;
 * on receive it is in the FIFO and is stripped here, and kept for inspection).
 *
 * Reception: IRQ 3 (priority 3) drains the RX FIFO while ETH_NUM_PKT > 0 into a ring of
 * ETH_RX_SLOTS frames. A record in the FIFO is word 0 = L (16 bits) followed by the frame and
 * its FCS; L = 2 + frame length including the FCS, and the record takes ceil(L / 4) words.
 */
#ifndef FT900_ETH_H
#define FT900_ETH_H

#include <stddef.h>
#include <stdint.h>
#include "ft900_eth_regs.h"

/* Receive ring: 2 slots of ~1.5 KiB. The network layer drains the ring on every pass of its
   main loop (frames are handed to lwIP at once), so two slots cover a frame arriving while
   another waits; the MAC's own 2 KiB RX FIFO buffers more (an overflow is counted, and TCP
   resends). More slots cost 1524 bytes of RAM each. */
#ifndef ETH_RX_SLOTS
#define ETH_RX_SLOTS 2u /* a power of two */
#endif
#define ETH_MAX_FRAME 1514u         /* without FCS */
#define ETH_MIN_FRAME 60u           /* without FCS, after padding */
#define ETH_HEADER_LEN 14u

struct eth_stats {
    uint32_t tx_frames;         /* handed to the MAC */
    uint32_t tx_done;           /* TX_EMPTY seen */
    uint32_t tx_errors;         /* TX_ERR seen */
    uint32_t rx_frames;         /* records taken from the FIFO into the ring */
    uint32_t rx_ring_full;      /* records read and dropped: ring full */
    uint32_t rx_too_long;       /* records longer than a ring slot */
    uint32_t rx_bad_length;     /* impossible L: FIFO flushed to regain sync */
    uint32_t rx_errors;         /* RX_ERR seen */
    uint32_t fifo_overflows;    /* FIFO_OV seen */
    uint32_t interrupts;        /* IRQ 3 handler runs */
    uint32_t tx_short;          /* eth_tx_end() before all announced bytes: padded, sent */
};

/* Link mode from the PHY. */
struct eth_link {
    int up;
    int speed_100;
    int full_duplex;
};

/* Power-up, PHY reset and auto-negotiation start, MAC set up with `mac`, RX and TX
   enabled, IRQ 3 attached with RX/TX/error interrupts enabled. Needs nothing else (delays are
   busy loops). Returns 0, or a negative step number at which the hardware did not respond:
   -1 PHY reset pulse did not clear, -2 BMCR reset did not clear, -3 MDIO timeout. */
int eth_init(const uint8_t mac[6]);

/* MDIO (station management) to the PHY at `phy` (eth_init uses ETH_PHY_ADDRESS).
   Return the 16-bit value / 0, or -1 on timeout. */
int eth_mdio_read_at(unsigned phy, unsigned reg);
int eth_mdio_write_at(unsigned phy, unsigned reg, uint16_t value);
int eth_mdio_read(unsigned reg);
int eth_mdio_write(unsigned reg, uint16_t value);

/* Link state from BMSR bit 2 (read twice: the bit latches low on real PHYs) and the mode
   from BMCR/ANLPAR. */
int eth_link_up(void);
void eth_link_get(struct eth_link *out);

void eth_get_mac(uint8_t mac[6]);

/* Queues one frame (len = 14 header bytes + payload, at most 14 + 2032; short frames are
   padded by the MAC). Waits while a previous frame owns the TX buffer. Returns 0 or -1. */
int eth_send(const void *frame, size_t len);
/* Waits until the last frame handed to the MAC has left (TR_REQ clear). */
void eth_tx_wait(void);
/* The same as eth_send() in pieces, for frames scattered over several buffers (a pbuf chain)
   without a bounce buffer: eth_tx_begin(total length) waits for the TX buffer and checks the
   length (0 or -1), eth_tx_write() appends bytes (-1 beyond the announced length or without
   begin), eth_tx_end() hands the frame to the MAC (0; -1 if fewer bytes than announced were
   written: the rest is sent as zeros, since the FIFO cannot be rewound, and counted in
   tx_short). Not reentrant: from the main loop only. */
int eth_tx_begin(size_t len);
int eth_tx_write(const void *data, size_t n);
int eth_tx_end(void);

/* Copies the oldest received frame (without FCS) into `buf`, at most `size` bytes; returns
   its full length, or 0 if none is waiting. `fcs`, if not null, receives the FCS from the
   FIFO (first byte on the wire in bits 7:0). */
size_t eth_recv(void *buf, size_t size, uint32_t *fcs);
/* Frames waiting in the ring. */
unsigned eth_rx_pending(void);
/* Length (without FCS) of the oldest frame in the ring, 0 if none: lets the caller allocate a
   buffer of exactly that size and eth_recv() into it. eth_recv(NULL, 0, NULL) drops it. */
size_t eth_rx_peek_len(void);

/* The MAC interrupts to enable (ETH_INT_* bits; eth_init enables ETH_IRQ_DEFAULT). Without
   ETH_INT_RX nothing drains the RX FIFO: it fills up and ETH_INT_RX stays set; without
   ETH_INT_FIFO_OV the overrun flag stays visible in ETH_INT_STATUS. */
#define ETH_IRQ_DEFAULT (ETH_INT_RX | ETH_INT_TX_ERR | ETH_INT_TX_EMPTY | ETH_INT_FIFO_OV | ETH_INT_RX_ERR)
void eth_irq_enable(uint8_t mask);
/* Takes up to `max` records from the RX FIFO into the ring now, as the interrupt handler
   does with all of them (a record that finds the ring full is read and dropped); returns the
   number of records taken. */
unsigned eth_rx_poll(unsigned max);

void eth_get_stats(struct eth_stats *out);

#endif /* FT900_ETH_H */
