/*
 * eth_common.h - what the Ethernet tests and the host side of the test (ft900-sim's
 * tests/firmware.rs) agree on.
 *
 * Frames use the local experimental EtherType 0x88B5 (0x88B6 for echoes). Test frames from
 * the host carry payload[0] = sequence number, payload[1] = 0x5A, and payload[i] =
 * (seq + i) & 0xFF for i >= 2.
 */
#ifndef ETH_COMMON_H
#define ETH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define ETHERTYPE_TEST  0x88B5u
#define ETHERTYPE_ECHO  0x88B6u

/* The device and the host (the test link's far end). */
static const uint8_t DEVICE_MAC[6] = {0x02, 0xF9, 0x00, 0x00, 0x00, 0x01};
static const uint8_t HOST_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

/* IEEE 802.3 CRC-32 (reflected, polynomial 0x04C11DB7, init and final XOR 0xFFFFFFFF); the
   FCS on the wire is this value, least significant byte first. */
static inline uint32_t eth_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Checks the payload pattern of a host test frame; returns its sequence number or -1. */
static inline int test_payload_seq(const uint8_t *frame, size_t len, size_t payload_len)
{
    if (len < 14 + payload_len || payload_len < 2)
        return -1;
    const uint8_t *p = frame + 14;
    if (p[1] != 0x5A)
        return -1;
    for (size_t i = 2; i < payload_len; i++) {
        if (p[i] != (uint8_t)(p[0] + i))
            return -1;
    }
    return p[0];
}

/* Builds a 14-byte header. */
static inline void eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    for (int i = 0; i < 6; i++) {
        f[i] = dst[i];
        f[6 + i] = src[i];
    }
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
}

#endif /* ETH_COMMON_H */
