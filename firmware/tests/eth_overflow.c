/*
 * eth_overflow - the 2 KiB RX FIFO overflowing. With the RX interrupt off nothing drains the
 * FIFO; the host injects OVERFLOW_FRAMES frames of OVERFLOW_PAYLOAD bytes and then one small
 * frame. A record takes 4 * ceil((frame + FCS 4 + length 2) / 4) bytes and is stored only if
 * it fits in the free space (else it is dropped and FIFO_OV is set), so of the ten 314-byte
 * frames (308-byte records) six fit, the other four are dropped, and the small frame
 * (68-byte record) still fits in the 200 bytes left.
 *
 * Sequence: init, link up, send "ready" (EtherType 0x88B5, payload "overflow ready"); wait;
 * check FIFO_OV, RX_INT and NUM_PKT; drain by polling and check the frames; clear FIFO_OV;
 * re-enable the RX interrupt and send "drained"; the host injects one more frame (seq 100,
 * 1000-byte payload), which must arrive by interrupt.
 */
#include <string.h>
#include "ft900_eth.h"
#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "eth_common.h"
#include "testlib.h"

#define OVERFLOW_FRAMES     10u
#define OVERFLOW_PAYLOAD    300u    /* frame 314 bytes */
#define SMALL_PAYLOAD       46u     /* frame 60 bytes, seq OVERFLOW_FRAMES */
#define FINAL_SEQ           100
#define FINAL_PAYLOAD       1000u

static uint8_t frame[ETH_MAX_FRAME];

static void send_text(const char *text)
{
    eth_header(frame, HOST_MAC, DEVICE_MAC, ETHERTYPE_TEST);
    size_t n = strlen(text);
    memcpy(frame + 14, text, n);
    eth_send(frame, 14 + n);
    eth_tx_wait();
}

static uint32_t record_bytes(uint32_t frame_len)
{
    return 4u * ((frame_len + 4u + 2u + 3u) / 4u);
}

int main(void)
{
    test_begin("eth_overflow");
    timer_tick_init();
    interrupt_enable_globally();

    int r = eth_init(DEVICE_MAC);
    CHECK(r == 0, "eth_init (%d)", r);
    uint32_t t0 = millis();
    while (!eth_link_up() && millis() - t0 < 3000u)
        ;
    CHECK(eth_link_up(), "link up");

    /* What must fit: the FIFO model of AN_324 section 10 (2048 bytes, records in words). */
    uint32_t free_bytes = ETH_BUFFER_BYTES, fit = 0, fit_big = 0;
    for (unsigned i = 0; i <= OVERFLOW_FRAMES; i++) {
        uint32_t len = 14u + (i < OVERFLOW_FRAMES ? OVERFLOW_PAYLOAD : SMALL_PAYLOAD);
        if (record_bytes(len) <= free_bytes) {
            free_bytes -= record_bytes(len);
            fit++;
            fit_big += i < OVERFLOW_FRAMES;
        }
    }

    /* Nothing drains the FIFO now; FIFO_OV stays visible in the status register. */
    eth_irq_enable(ETH_INT_TX_EMPTY | ETH_INT_TX_ERR);
    ETH_INT_STATUS = ETH_INT_FIFO_OV | ETH_INT_RX_ERR;
    send_text("overflow ready");

    uint32_t t1 = millis();
    while (millis() - t1 < 20u)
        ;
    uint8_t status = ETH_INT_STATUS;
    unsigned num_pkt = ETH_NUM_PKT & ETH_NUM_PKT_MASK;
    tprintf("after the burst: ETH_INT_STATUS %02x, NUM_PKT %u (expected %lu: %lu big + 1 "
            "small)\n",
            status, num_pkt, fit, fit_big);
    CHECK(status & ETH_INT_FIFO_OV, "FIFO_OV set");
    CHECK(status & ETH_INT_RX, "RX_INT set while packets wait");
    CHECK(num_pkt == fit, "NUM_PKT = %u, the records that fit (%lu)", num_pkt, fit);

    unsigned drained = 0, ok = 0, seqs_ok = 0;
    for (unsigned i = 0; eth_rx_poll(1) == 1; i++) {
        uint32_t fcs;
        size_t len = eth_recv(frame, sizeof frame, &fcs);
        drained++;
        int seq = test_payload_seq(frame, len, len - 14u);
        int want = i < fit_big ? (int)i : (int)OVERFLOW_FRAMES;
        size_t want_len = 14u + (i < fit_big ? OVERFLOW_PAYLOAD : SMALL_PAYLOAD);
        ok += len == want_len && fcs == eth_crc32(frame, len);
        seqs_ok += seq == want;
    }
    CHECK(drained == fit, "drained %u records by polling", drained);
    CHECK(ok == drained && seqs_ok == drained,
          "frames 0..%lu and the small one %u intact, the others dropped", fit_big - 1,
          OVERFLOW_FRAMES);
    status = ETH_INT_STATUS;
    CHECK((ETH_NUM_PKT & ETH_NUM_PKT_MASK) == 0 && !(status & ETH_INT_RX),
          "FIFO empty: NUM_PKT 0, RX_INT clear");
    ETH_INT_STATUS = ETH_INT_FIFO_OV;
    CHECK(!(ETH_INT_STATUS & ETH_INT_FIFO_OV), "FIFO_OV cleared by writing 1");

    /* Back to interrupt-driven reception: one more frame must arrive. */
    eth_irq_enable(ETH_IRQ_DEFAULT);
    send_text("drained");
    size_t len = 0;
    uint32_t fcs = 0;
    uint32_t t2 = millis();
    while ((len = eth_recv(frame, sizeof frame, &fcs)) == 0 && millis() - t2 < 1000u)
        ;
    int seq = test_payload_seq(frame, len, len - 14u);
    CHECK(len == 14u + FINAL_PAYLOAD && seq == FINAL_SEQ && fcs == eth_crc32(frame, len),
          "frame after the overflow received by interrupt (%u bytes, seq %d)", (unsigned)len,
          seq);

    struct eth_stats st;
    eth_get_stats(&st);
    CHECK(st.rx_bad_length == 0 && st.rx_ring_full == 0 && st.rx_errors == 0,
          "FIFO stayed in sync");
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu)",
          interrupt_spurious_count());
    return test_end();
}
