/*
 * eth.c - Ethernet MAC/PHY driver. See ft900_eth.h.
 */
#include <string.h>
#include "ft900_eth.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"

#define MDIO_DIV            19u         /* MDC = 100 MHz / (2 * (19 + 1)) = 2.5 MHz */
#define MDIO_TIMEOUT_US     1000u       /* one transaction takes ~26 us */
#define RECORD_MAX_BYTES    (2u + ETH_MAX_FRAME + 4u)
#define SLOT_WORDS          ((RECORD_MAX_BYTES + 3u) / 4u)
/* Interrupts the driver handles (MD_INT is polled by the MDIO code, never enabled). */
#define IRQ_BITS ETH_IRQ_DEFAULT
#define ACK_BITS (ETH_INT_TX_ERR | ETH_INT_TX_EMPTY | ETH_INT_FIFO_OV | ETH_INT_RX_ERR)

struct rx_slot {
    uint32_t words[SLOT_WORDS]; /* the record as read: L, frame, FCS */
    uint16_t len;               /* frame length without FCS */
};

static struct rx_slot rx_ring[ETH_RX_SLOTS];
/* Free-running counters: the handler advances head, eth_recv() advances tail; the ring holds
   head - tail frames, slot = counter % ETH_RX_SLOTS. */
static volatile unsigned rx_head, rx_tail;
static volatile struct eth_stats stats;
static uint8_t irq_mask = IRQ_BITS;

/* ---- MDIO ---- */

static int mdio_wait_done(void)
{
    for (unsigned i = 0; i < MDIO_TIMEOUT_US; i++) {
        if (ETH_INT_STATUS & ETH_INT_MD) {
            ETH_INT_STATUS = ETH_INT_MD; /* RW1C */
            return 0;
        }
        sys_delay_us(1);
    }
    return -1;
}

int eth_mdio_read_at(unsigned phy, unsigned reg)
{
    ETH_MNG_ADDR = (uint8_t)(phy & 0x1Fu);
    ETH_MNG_CNTL = (uint8_t)(ETH_MNG_CNTL_PHY_REG_OF(reg & 0x1Fu) | ETH_MNG_CNTL_START);
    int r = mdio_wait_done();
    uint16_t v = ETH_MNG_RX;
    ETH_MNG_CNTL = 0;
    return r < 0 ? -1 : (int)v;
}

int eth_mdio_write_at(unsigned phy, unsigned reg, uint16_t value)
{
    if (ETH_INT_STATUS & ETH_INT_MD)
        ETH_INT_STATUS = ETH_INT_MD;
    ETH_MNG_ADDR = (uint8_t)(phy & 0x1Fu);
    ETH_MNG_TX = value;
    ETH_MNG_CNTL = (uint8_t)(ETH_MNG_CNTL_PHY_REG_OF(reg & 0x1Fu) | ETH_MNG_CNTL_WRITE |
                             ETH_MNG_CNTL_START);
    int r = mdio_wait_done();
    ETH_MNG_CNTL = 0;
    return r;
}

int eth_mdio_read(unsigned reg)
{
    return eth_mdio_read_at(ETH_PHY_ADDRESS, reg);
}

int eth_mdio_write(unsigned reg, uint16_t value)
{
    return eth_mdio_write_at(ETH_PHY_ADDRESS, reg, value);
}

/* ---- initialisation ---- */

static void rx_cntl_write(uint8_t set, uint8_t clear)
{
    uint8_t v = ETH_RX_CNTL & (uint8_t)~ETH_RX_CNTL_MEM_SIZE_MASK;
    ETH_RX_CNTL = (uint8_t)((v & ~clear) | set);
}

static void tx_cntl_write(uint8_t set, uint8_t clear)
{
    uint8_t v = ETH_TX_CNTL & (uint8_t)~ETH_TX_CNTL_MEM_SIZE_MASK;
    ETH_TX_CNTL = (uint8_t)((v & ~clear) | set);
}

static void eth_isr(void);

int eth_init(const uint8_t mac[6])
{
    rx_head = rx_tail = 0;
    memset((void *)&stats, 0, sizeof stats);

    /* 1. Power the PHY, clock the MAC, pulse the PHY reset for 10 ms. */
    sys_enable_ethernet();

    /* 2. PHY reset again; the bit clears itself when the reset is over. */
    MSC0CFG |= MSC0CFG_MAC_RESET_PHY;
    unsigned waited = 0;
    while (MSC0CFG & MSC0CFG_MAC_RESET_PHY) {
        if (waited++ >= 100000u)
            return -1;
        sys_delay_us(1);
    }

    /* 3. PHY address and MDIO clock. */
    ETH_PHY_CFG = (ETH_PHY_CFG & ~ETH_PHY_CFG_PHYAD_MASK) | ETH_PHY_ADDRESS;
    ETH_MNG_ADDR = ETH_PHY_ADDRESS;
    ETH_MNG_DIV = MDIO_DIV;

    /* 4. RX: flush the FIFO, drop bad-FCS frames; TX off. */
    ETH_RX_CNTL = ETH_RX_CNTL_RESET_FIFO | ETH_RX_CNTL_BAD_CRC;
    ETH_TX_CNTL = 0;

    /* 5. PHY software reset; BMCR bit 15 clears itself. */
    if (eth_mdio_write(MII_BMCR, BMCR_RESET) < 0)
        return -3;
    for (waited = 0;; waited++) {
        int bmcr = eth_mdio_read(MII_BMCR);
        if (bmcr < 0)
            return -3;
        if (!(bmcr & BMCR_RESET))
            break;
        if (waited >= 1000u)
            return -2;
        sys_delay_us(100);
    }

    /* 6. Advertise 10/100 half/full and (re)start auto-negotiation. */
    if (eth_mdio_write(MII_ANAR, ANAR_DEFAULT) < 0)
        return -3;
    int bmcr = eth_mdio_read(MII_BMCR);
    if (bmcr < 0)
        return -3;
    bmcr &= ~BMCR_ISOLATE;
    if (eth_mdio_write(MII_BMCR, (uint16_t)(bmcr | BMCR_AN_ENABLE | BMCR_AN_RESTART)) < 0)
        return -3;

    /* 7. MAC: full duplex, append the FCS, pad short frames; exact address match only. */
    sys_delay_us(1000);
    tx_cntl_write(ETH_TX_CNTL_DUPLEX | ETH_TX_CNTL_CRC_ENABLE | ETH_TX_CNTL_PAD_ENABLE, 0);
    rx_cntl_write(0, ETH_RX_CNTL_PRMS | ETH_RX_CNTL_ACC_MULTI | ETH_RX_CNTL_RESET_FIFO);

    /* 8. Station address, enable both directions, interrupts. */
    for (unsigned i = 0; i < 6; i++)
        ETH_MAC_ADDR(i) = mac[i];
    rx_cntl_write(ETH_RX_CNTL_RX_ENABLE, 0);
    tx_cntl_write(ETH_TX_CNTL_TX_ENABLE, 0);
    ETH_INT_STATUS = ACK_BITS;
    irq_mask = IRQ_BITS;
    interrupt_attach(IRQ_ETH, IRQ_ETH, eth_isr);
    ETH_INT_ENABLE = irq_mask;
    return 0;
}

int eth_link_up(void)
{
    (void)eth_mdio_read(MII_BMSR); /* latched-low link bit: the second read is current */
    int bmsr = eth_mdio_read(MII_BMSR);
    return bmsr >= 0 && (bmsr & BMSR_LINK) != 0;
}

void eth_link_get(struct eth_link *out)
{
    out->up = eth_link_up();
    int bmcr = eth_mdio_read(MII_BMCR);
    int lpa = eth_mdio_read(MII_ANLPAR);
    int adv = eth_mdio_read(MII_ANAR);
    if (bmcr >= 0 && (bmcr & BMCR_AN_ENABLE) && lpa >= 0 && adv >= 0) {
        int common = lpa & adv;
        out->speed_100 = (common & (ANLPAR_100_FULL | ANLPAR_100_HALF)) != 0;
        out->full_duplex = out->speed_100 ? (common & ANLPAR_100_FULL) != 0
                                          : (common & ANLPAR_10_FULL) != 0;
    } else {
        out->speed_100 = bmcr >= 0 && (bmcr & BMCR_SPEED_100);
        out->full_duplex = bmcr >= 0 && (bmcr & BMCR_FULL_DUPLEX);
    }
}

void eth_get_mac(uint8_t mac[6])
{
    for (unsigned i = 0; i < 6; i++)
        mac[i] = ETH_MAC_ADDR(i);
}

/* ---- transmit ---- */

void eth_tx_wait(void)
{
    while (ETH_TR_REQ & ETH_TR_REQ_NEW_TX)
        ;
}

/* The frame being written by eth_tx_begin/write/end: bytes are packed into 32-bit words,
   byte lanes little-endian, and a word goes to the FIFO as soon as it is full. */
static struct {
    uint32_t word;
    uint32_t left;  /* frame bytes still expected */
    uint8_t lane;   /* next byte lane of `word` */
    uint8_t open;
} tx;

int eth_tx_begin(size_t len)
{
    tx.open = 0;
    if (len < ETH_HEADER_LEN || len - ETH_HEADER_LEN > ETH_TX_MAX_DATA_LEN)
        return -1;
    if (!(ETH_TX_CNTL & ETH_TX_CNTL_TX_ENABLE))
        return -1;
    eth_tx_wait();
    /* The record as a byte stream: data length (payload after the header, LSB first), then
       the frame. */
    tx.word = (uint32_t)(len - ETH_HEADER_LEN) & 0xFFFFu;
    tx.lane = 2;
    tx.left = (uint32_t)len;
    tx.open = 1;
    return 0;
}

int eth_tx_write(const void *data, size_t n)
{
    const uint8_t *f = data;
    if (!tx.open || n > tx.left)
        return -1;
    tx.left -= (uint32_t)n;
    uint32_t word = tx.word;
    unsigned lane = tx.lane;
    for (size_t i = 0; i < n; i++) {
        word |= (uint32_t)f[i] << (8u * lane);
        if (++lane == 4) {
            ETH_DATA = word;
            word = 0;
            lane = 0;
        }
    }
    tx.word = word;
    tx.lane = (uint8_t)lane;
    return 0;
}

int eth_tx_end(void)
{
    if (!tx.open)
        return -1;
    int ret = 0;
    if (tx.left != 0) {
        /* Fewer bytes than announced: the FIFO already holds part of the record and the MAC
           has no TX FIFO reset, so complete it with zeros to keep the FIFO in step (the frame
           goes out damaged; the caller gets -1 and the error is counted). */
        static const uint8_t zeros[16];
        while (tx.left != 0) {
            size_t n = tx.left < sizeof zeros ? tx.left : sizeof zeros;
            (void)eth_tx_write(zeros, n);
        }
        stats.tx_short++;
        ret = -1;
    }
    if (tx.lane != 0)
        ETH_DATA = tx.word;
    tx.open = 0;
    ETH_TR_REQ = ETH_TR_REQ_NEW_TX;
    stats.tx_frames++;
    return ret;
}

int eth_send(const void *frame, size_t len)
{
    if (eth_tx_begin(len) != 0)
        return -1;
    (void)eth_tx_write(frame, len);
    return eth_tx_end();
}

/* ---- receive ---- */

static void fifo_resync(void)
{
    /* The FIFO content no longer parses: flush it (with the receiver off, as AN_324 asks). */
    rx_cntl_write(0, ETH_RX_CNTL_RX_ENABLE);
    rx_cntl_write(ETH_RX_CNTL_RESET_FIFO, 0);
    rx_cntl_write(ETH_RX_CNTL_RX_ENABLE, ETH_RX_CNTL_RESET_FIFO);
}

/* Reads one record; returns 0 when the FIFO had to be flushed. */
static int read_record(void)
{
    uint32_t w0 = ETH_DATA;
    uint32_t l = w0 & 0xFFFFu;
    if (l < 2u + ETH_HEADER_LEN + 4u || l > ETH_BUFFER_BYTES) {
        stats.rx_bad_length++;
        fifo_resync();
        return 0;
    }
    uint32_t words = (l + 3u) / 4u; /* the whole record, word 0 included */
    if (l > RECORD_MAX_BYTES || rx_head - rx_tail >= ETH_RX_SLOTS) {
        if (l > RECORD_MAX_BYTES)
            stats.rx_too_long++;
        else
            stats.rx_ring_full++;
        for (uint32_t i = 1; i < words; i++)
            (void)ETH_DATA;
        return 1;
    }
    struct rx_slot *slot = &rx_ring[rx_head % ETH_RX_SLOTS];
    slot->words[0] = w0;
    for (uint32_t i = 1; i < words; i++)
        slot->words[i] = ETH_DATA;
    slot->len = (uint16_t)(l - 2u - 4u);
    rx_head = rx_head + 1u;
    stats.rx_frames++;
    return 1;
}

unsigned eth_rx_poll(unsigned max)
{
    unsigned n = 0;
    while (n < max && (ETH_NUM_PKT & ETH_NUM_PKT_MASK)) {
        if (!read_record())
            break;
        n++;
    }
    return n;
}

static void eth_isr(void)
{
    stats.interrupts++;
    /* Only the enabled conditions are handled: a disabled one stays visible for polling. */
    uint8_t st = ETH_INT_STATUS & irq_mask;
    uint8_t ack = st & ACK_BITS;
    if (ack)
        ETH_INT_STATUS = ack; /* RW1C; MD_INT (polled by MDIO) is left alone */
    if (st & ETH_INT_TX_EMPTY)
        stats.tx_done++;
    if (st & ETH_INT_TX_ERR)
        stats.tx_errors++;
    if (st & ETH_INT_FIFO_OV)
        stats.fifo_overflows++;
    if (st & ETH_INT_RX_ERR)
        stats.rx_errors++;
    if (irq_mask & ETH_INT_RX)
        eth_rx_poll(~0u);
}

void eth_irq_enable(uint8_t mask)
{
    uint8_t s = interrupt_save();
    irq_mask = mask & IRQ_BITS;
    ETH_INT_ENABLE = irq_mask;
    interrupt_restore(s);
}

unsigned eth_rx_pending(void)
{
    return rx_head - rx_tail;
}

size_t eth_rx_peek_len(void)
{
    if (rx_tail == rx_head)
        return 0;
    return rx_ring[rx_tail % ETH_RX_SLOTS].len;
}

size_t eth_recv(void *buf, size_t size, uint32_t *fcs)
{
    if (rx_tail == rx_head)
        return 0;
    struct rx_slot *slot = &rx_ring[rx_tail % ETH_RX_SLOTS];
    const uint8_t *rec = (const uint8_t *)slot->words;
    size_t len = slot->len;
    size_t n = len < size ? len : size;
    if (n > 0)
        memcpy(buf, rec + 2, n);
    if (fcs) {
        const uint8_t *f = rec + 2 + len;
        *fcs = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
    }
    rx_tail = rx_tail + 1u;
    return len;
}

void eth_get_stats(struct eth_stats *out)
{
    uint8_t s = interrupt_save();
    memcpy(out, (const void *)&stats, sizeof *out);
    interrupt_restore(s);
}
