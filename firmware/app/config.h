/*
 * config.h - the device configuration block in flash (program memory).
 *
 * Layout (the contract with the simulator's provisioning, ft900_sim::provision):
 *   at PM 0x3C000, at most 8 KiB (0x3C000..0x3E000, kept free of code by startup/ft900.ld,
 *   below the SDK's data-logger partition and the vendor's bootloader: firmware/README.md);
 *   little-endian; erased flash reads 0xFF (= no block).
 *   header, 16 bytes: "FTCF", u16 version = 1, u16 header_len = 16, u32 payload_len,
 *                     u32 crc32 (IEEE 802.3 / zlib CRC-32 of the payload bytes)
 *   payload: records u16 tag, u16 len, value[len], then 0x00 padding to a multiple of 4;
 *            a record with tag 0 (or the end of the payload) ends it; unknown tags are skipped.
 *   tags: CONFIG_TAG_* below; only CONFIG_TAG_CA_CERT may repeat.
 *
 * Reading: the block is never copied whole into RAM (8 KiB). config_load() checks the header and
 * the CRC through a reader callback, copies the short fields into `struct config` and keeps the
 * long ones (CA certificates, session token) as references into the block, read on demand with
 * config_read(). On the FT900 the reader is config_pm_reader (lpm loads: program memory is not
 * data-addressable); host tests read from an array.
 *
 * Validity: a bad header (magic present but version, header length or payload length wrong),
 * a bad CRC, or a malformed payload (a record past the end, a field too long for its buffer, a
 * bad number or length, a repeated tag) rejects the whole block: every field then takes its
 * default from amazon_dynamodb_config.h, and config_load() says why. Fields the block lacks
 * take their defaults too.
 *
 * The secret access key and the session token are never printed (config_print() shows the
 * access key id, lengths and the rest).
 */
#ifndef APP_CONFIG_H
#define APP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_PM_ADDRESS   0x3C000u
#define CONFIG_MAX_LEN      8192u
#define CONFIG_HEADER_LEN   16u
#define CONFIG_VERSION      1u

enum config_tag {
    CONFIG_TAG_END = 0,
    CONFIG_TAG_ACCESS_KEY_ID = 1,
    CONFIG_TAG_SECRET_ACCESS_KEY = 2,
    CONFIG_TAG_SESSION_TOKEN = 3,
    CONFIG_TAG_REGION = 4,
    CONFIG_TAG_HOST = 5,
    CONFIG_TAG_PORT = 6,
    CONFIG_TAG_TABLE = 7,
    CONFIG_TAG_PARTITION_KEY = 8,
    CONFIG_TAG_SORT_KEY = 9,
    CONFIG_TAG_DEVICE_ID = 10,
    CONFIG_TAG_PERIOD_MS = 11,
    CONFIG_TAG_CA_CERT = 12,
    CONFIG_TAG_ENTROPY_SEED = 13,
    CONFIG_TAG_MAC = 14,
    CONFIG_TAG_READINGS = 15,
    CONFIG_TAG_NTP_SERVER = 16,
    CONFIG_TAG_COUNT,
    /* Debug keys (tags from 31 down, never in a product's block). */
    CONFIG_TAG_DEBUG_HANG_AFTER = 31,   /* the main loop hangs once after N acked readings */
};

/* Reads n bytes at offset `off` from the start of the block into buf; 0 or -1 (beyond the
   block's storage). */
typedef int (*config_reader_t)(void *ctx, uint32_t off, void *buf, size_t n);

/* A value left in the block: offset from the block's start and length. */
struct config_ref {
    uint32_t off;
    uint16_t len;
};

#define CONFIG_MAX_CA       4u
#define CONFIG_SEED_LEN     32u

struct config {
    /* Strings, NUL-terminated; the sizes bound what a block may hold. */
    char access_key_id[64];
    char secret_access_key[64];
    char region[32];
    char host[64];
    char table[64];
    char partition_key[32];
    char sort_key[32];
    char device_id[32];
    char ntp_server[64];        /* "" = the DHCP router */
    uint16_t port;
    uint32_t period_ms;         /* >= 1 */
    uint32_t readings;          /* 0 = run forever */
    uint32_t debug_hang_after;  /* 0 = never (debug.hang_after, tests of the watchdog) */
    uint8_t mac[6];
    uint8_t seed[CONFIG_SEED_LEN];
    uint8_t has_seed;
    /* Session token: in the block (token_ref.len > 0), else the default string (may be ""). */
    struct config_ref token_ref;
    const char *token_default;
    /* CA certificates (PEM or DER), in the block only. */
    struct config_ref ca[CONFIG_MAX_CA];
    uint8_t ca_count;
    /* Where the block was read from (for config_read()). */
    config_reader_t reader;
    void *reader_ctx;
};

/* config_load() results. */
#define CONFIG_OK            0  /* a valid block: its fields + defaults */
#define CONFIG_NONE          1  /* no magic (erased flash): defaults */
#define CONFIG_BAD_VERSION   2  /* magic, but another version or header length: defaults */
#define CONFIG_BAD_LENGTH    3  /* payload longer than the 8 KiB area: defaults */
#define CONFIG_BAD_CRC       4  /* payload CRC mismatch: defaults */
#define CONFIG_BAD_RECORD    5  /* malformed payload (see above): defaults */
#define CONFIG_READ_ERROR    6  /* the reader failed: defaults */

/* Fills *cfg from the block behind `reader` (defaults for what it lacks, or for everything when
   it is not valid) and returns one of the results above. When `why` is not NULL it receives a
   short explanation of a rejected block, e.g. "tag 5 length 80 > 63" (at most why_size bytes). */
int config_load(struct config *cfg, config_reader_t reader, void *ctx, char *why,
                size_t why_size);
/* Defaults only. */
void config_defaults(struct config *cfg);

/* Copies a referenced value (at most size bytes; returns the bytes copied or -1). */
int config_read(const struct config *cfg, struct config_ref ref, void *buf, size_t size);
/* Length of the session token (0: none). */
size_t config_token_len(const struct config *cfg);
/* Copies the session token with a NUL into buf (size > length); returns its length or -1. */
int config_token_copy(const struct config *cfg, char *buf, size_t size);

/* The name of a result ("ok", "none", "bad CRC", ...). */
const char *config_strresult(int result);

/* CRC-32 (IEEE 802.3, reflected, as zlib): crc = config_crc32(0, data, n) or continued. */
uint32_t config_crc32(uint32_t crc, const void *data, size_t n);

/* The reader of the block in the FT900's program memory at CONFIG_PM_ADDRESS (FT32 only). */
int config_pm_reader(void *ctx, uint32_t off, void *buf, size_t n);

#endif /* APP_CONFIG_H */
