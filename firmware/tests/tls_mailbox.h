/*
 * tls_mailbox.h - the byte pipe between two simulated FT900s of the TLS handshake test
 * (tests/tls_handshake.c: the device's client; tests/tls_peer_server.c: a test server).
 *
 * Each firmware has one `tls_mailbox` in RAM: a transmit ring it fills and a receive ring it
 * drains, 1460 bytes each (one TCP segment of window: sends are partial, "would block" is
 * common, as over lwIP). The harness (ft900-sim/tests/tls.rs) runs one chip at a time; when a
 * chip has nothing to do it calls tls_mailbox_idle(), where the harness stops it, moves the
 * bytes of its transmit ring into the other chip's receive ring (and the control word across),
 * and runs the other chip. Single producer, single consumer per ring: the producer writes the
 * data, then advances head; the consumer reads, then advances tail (indices run freely, modulo
 * 2^32).
 *
 * Control: the client writes ctl_out = (generation << 8) | scenario when it starts a
 * connection and calls tls_mailbox_idle(); the harness then empties all four rings and gives
 * the word to the server as its ctl_in, which drops its session and starts the new one.
 *
 * Layout (the harness reads it by these offsets): magic 0, ring_size 4, ctl_out 8, ctl_in 12,
 * tx_head 16, tx_tail 20, rx_head 24, rx_tail 28, tx[ring_size] 32, rx[ring_size] after it.
 */
#ifndef TLS_MAILBOX_H
#define TLS_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#define TLS_MAILBOX_MAGIC 0x4D534C54u /* "TLSM" */
#define TLS_MAILBOX_RING 1460u

struct tls_mailbox {
    uint32_t magic, ring_size;
    volatile uint32_t ctl_out, ctl_in;
    volatile uint32_t tx_head, tx_tail;
    volatile uint32_t rx_head, rx_tail;
    volatile uint8_t tx[TLS_MAILBOX_RING];
    volatile uint8_t rx[TLS_MAILBOX_RING];
};

extern struct tls_mailbox tls_mailbox;

/* The harness stops the chip on entry of this function (a breakpoint), moves bytes, and later
   resumes it here. */
void tls_mailbox_idle(void) __attribute__((noinline));

/* Defines the mailbox (in .bss: tls_mailbox_init() marks it) and the idle function, once per
   firmware. */
#define TLS_MAILBOX_DEFINE                                                     \
    struct tls_mailbox tls_mailbox;                                            \
    void tls_mailbox_idle(void)                                                \
    {                                                                          \
        __asm__ volatile("" : : : "memory");                                   \
    }

static inline void tls_mailbox_init(void)
{
    tls_mailbox.ring_size = TLS_MAILBOX_RING;
    tls_mailbox.magic = TLS_MAILBOX_MAGIC;
}

/* Copies up to len bytes into the transmit ring: the number taken, or -1 if it is full. */
static inline int tls_mailbox_send(const unsigned char *buf, size_t len)
{
    struct tls_mailbox *m = &tls_mailbox;
    uint32_t head = m->tx_head, room = TLS_MAILBOX_RING - (head - m->tx_tail);
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        m->tx[(head + i) % TLS_MAILBOX_RING] = buf[i];
    __asm__ volatile("" : : : "memory");
    m->tx_head = head + (uint32_t)n;
    return n > 0 ? (int)n : -1;
}

/* Copies up to len received bytes out of the receive ring: the number, or -1 if it is empty. */
static inline int tls_mailbox_recv(unsigned char *buf, size_t len)
{
    struct tls_mailbox *m = &tls_mailbox;
    uint32_t tail = m->rx_tail, avail = m->rx_head - tail;
    size_t n = len < avail ? len : avail;
    for (size_t i = 0; i < n; i++)
        buf[i] = m->rx[(tail + i) % TLS_MAILBOX_RING];
    __asm__ volatile("" : : : "memory");
    m->rx_tail = tail + (uint32_t)n;
    return n > 0 ? (int)n : -1;
}

#endif /* TLS_MAILBOX_H */
