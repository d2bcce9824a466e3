/*
 * eth_frames - Ethernet through the test link: init (PHY reset, auto-negotiation), link up,
 * read a tag line from UART0, send three frames, receive the frames the host injects (by
 * interrupt), check them (address filter, payload, FCS from the FIFO) and echo each one back
 * modified: addresses swapped, EtherType 0x88B6, payload bytes inverted.
 *
 * Sent: #0 broadcast, payload "FT900 <tag> #0" (short: the MAC pads it to 60 bytes);
 *       #1 to the host, 100-byte payload, byte i = (i * 3 + 1) & 0xFF;
 *       #2 to the host, 1500-byte payload, byte i = (i * 7 + 3) & 0xFF.
 * Injected by the host after #2 (see tests/firmware.rs): seq 0 broadcast 46-byte payload,
 * seq 1 to us 200 bytes, a frame to another station and a multicast one (both filtered), seq
 * 2 to us 1500 bytes, seq 3 to us 50 bytes (all at least 60 bytes: no padding). Expected:
 * exactly seq 0..3, in order.
 */
#include <string.h>
#include "ft900_eth.h"
#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "eth_common.h"
#include "testlib.h"

#define EXPECTED_RX 4u

static uint8_t frame[ETH_MAX_FRAME];
static uint8_t echo[ETH_MAX_FRAME];

static size_t read_line(char *buf, size_t size, uint32_t timeout_ms)
{
    size_t n = 0;
    uint32_t t0 = millis();
    while (millis() - t0 < timeout_ms) {
        int c = uart_try_getc(UART0);
        if (c < 0 || c == '\r')
            continue;
        if (c == '\n') {
            buf[n] = '\0';
            return n;
        }
        if (n + 1 < size)
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return 0;
}

static int send_pattern(uint16_t payload_len, unsigned mul, unsigned add)
{
    eth_header(frame, HOST_MAC, DEVICE_MAC, ETHERTYPE_TEST);
    for (unsigned i = 0; i < payload_len; i++)
        frame[14 + i] = (uint8_t)(i * mul + add);
    return eth_send(frame, 14u + payload_len);
}

int main(void)
{
    uart_open(UART0, 115200);
    uart_enable_interrupts(UART0);
    timer_tick_init();
    interrupt_enable_globally();
    test_begin("eth_frames");

    int r = eth_init(DEVICE_MAC);
    CHECK(r == 0, "eth_init (%d)", r);
    uint8_t mac[6];
    eth_get_mac(mac);
    CHECK(memcmp(mac, DEVICE_MAC, 6) == 0, "MAC address %02x:%02x:%02x:%02x:%02x:%02x", mac[0],
          mac[1], mac[2], mac[3], mac[4], mac[5]);

    uint32_t t0 = millis();
    while (!eth_link_up() && millis() - t0 < 3000u)
        ;
    struct eth_link link;
    eth_link_get(&link);
    CHECK(link.up, "link up after %lu ms: %s Mbit/s, %s duplex", millis() - t0,
          link.speed_100 ? "100" : "10", link.full_duplex ? "full" : "half");

    char tag[32];
    size_t tag_len = read_line(tag, sizeof tag, 1000);
    CHECK(tag_len > 0, "tag from UART: \"%s\"", tag);

    /* Transmit. */
    eth_header(frame, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", DEVICE_MAC, ETHERTYPE_TEST);
    int n = fmt_snprintf((char *)frame + 14, 40, "FT900 %s #0", tag);
    r = eth_send(frame, 14u + (size_t)n);
    r |= send_pattern(100, 3, 1);
    r |= send_pattern(1500, 7, 3);
    eth_tx_wait();
    CHECK(r == 0, "three frames handed to the MAC");
    CHECK(eth_send(frame, 13) < 0 && eth_send(frame, 14u + 2033u) < 0,
          "frames shorter than a header or longer than 14 + 2032 refused");

    /* Receive what the host injects, echo it back modified. */
    unsigned got = 0, in_order = 0, good_payload = 0, good_fcs = 0, good_dst = 0;
    uint32_t t1 = millis();
    while (got < EXPECTED_RX && millis() - t1 < 1000u) {
        uint32_t fcs;
        size_t len = eth_recv(frame, sizeof frame, &fcs);
        if (len == 0)
            continue;
        int broadcast = memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6) == 0;
        int to_us = memcmp(frame, DEVICE_MAC, 6) == 0;
        int seq = test_payload_seq(frame, len, len - 14u);
        tprintf("rx %u bytes: seq %d %s fcs %08lx\n", (unsigned)len, seq,
                broadcast ? "broadcast" : (to_us ? "to us" : "to someone else"), fcs);
        good_dst += broadcast || to_us;
        good_payload += seq >= 0;
        in_order += seq == (int)got;
        good_fcs += fcs == eth_crc32(frame, len);
        got++;

        eth_header(echo, frame + 6, DEVICE_MAC, ETHERTYPE_ECHO);
        for (size_t i = 14; i < len; i++)
            echo[i] = (uint8_t)~frame[i];
        eth_send(echo, len);
    }
    eth_tx_wait();
    delay_ms(2); /* let TX_EMPTY of the last echo arrive */

    struct eth_stats st;
    eth_get_stats(&st);
    tprintf("tx %lu (done %lu, errors %lu), rx %lu, ring full %lu, fifo overflows %lu, rx "
            "errors %lu, bad lengths %lu, irqs %lu\n",
            st.tx_frames, st.tx_done, st.tx_errors, st.rx_frames, st.rx_ring_full,
            st.fifo_overflows, st.rx_errors, st.rx_bad_length, st.interrupts);
    CHECK(got == EXPECTED_RX && eth_rx_pending() == 0,
          "received %u frames (the other station's and the multicast one filtered)", got);
    CHECK(good_dst == got, "every frame addressed to us or broadcast");
    CHECK(in_order == got && good_payload == got, "payloads intact and in order");
    CHECK(good_fcs == got, "FCS in the FIFO matches the CRC-32 of every frame");
    CHECK(st.tx_frames == 3 + EXPECTED_RX && st.tx_done == st.tx_frames && st.tx_errors == 0,
          "%lu frames sent, %lu TX_EMPTY, no TX_ERR", st.tx_frames, st.tx_done);
    CHECK(st.fifo_overflows == 0 && st.rx_errors == 0 && st.rx_bad_length == 0 &&
              st.rx_ring_full == 0,
          "no overflow, RX error or lost frame");
    CHECK(eth_link_up(), "link still up");
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu)",
          interrupt_spurious_count());
    return test_end();
}
