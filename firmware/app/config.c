/*
 * config.c - parser of the device configuration block. See config.h for the layout and rules.
 * Portable C (host tests compile it too): the block is reached only through the reader.
 */
#include <string.h>

#include "amazon_dynamodb_config.h"
#include "config.h"

static const uint8_t default_mac[6] = CONFIG_DEVICE_MAC;

/* ---- CRC-32 ------------------------------------------------------------------------------- */

uint32_t config_crc32(uint32_t crc, const void *data, size_t n)
{
    /* Bitwise: 8 KiB at most once per boot, so no 1 KiB table in RAM (.rodata lives in RAM). */
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (unsigned b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- defaults ------------------------------------------------------------------------------ */

static void set_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1; /* a default longer than its field is a build mistake; truncated */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    set_str(cfg->access_key_id, sizeof cfg->access_key_id, CONFIG_AWS_ACCESS_KEY);
    set_str(cfg->secret_access_key, sizeof cfg->secret_access_key, CONFIG_AWS_SECRET_KEY);
    set_str(cfg->region, sizeof cfg->region, CONFIG_AWS_REGION);
    set_str(cfg->host, sizeof cfg->host, CONFIG_AWS_HOST);
    set_str(cfg->table, sizeof cfg->table, CONFIG_AWS_DYNAMODB_TABLE);
    set_str(cfg->partition_key, sizeof cfg->partition_key, CONFIG_AWS_PARTITION_KEY);
    set_str(cfg->sort_key, sizeof cfg->sort_key, CONFIG_AWS_SORT_KEY);
    set_str(cfg->device_id, sizeof cfg->device_id, CONFIG_DEVICE_ID);
    set_str(cfg->ntp_server, sizeof cfg->ntp_server, CONFIG_NTP_SERVER);
    cfg->port = CONFIG_AWS_PORT;
    cfg->period_ms = CONFIG_DEVICE_PERIOD_MS;
    cfg->readings = CONFIG_DEVICE_READINGS;
    memcpy(cfg->mac, default_mac, sizeof cfg->mac);
    cfg->token_default = CONFIG_AWS_SESSION_TOKEN;
}

/* ---- parsing ------------------------------------------------------------------------------- */

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* Decimal ASCII, 1..10 digits, no sign, at most max. */
static int parse_u32(const uint8_t *s, size_t n, uint32_t max, uint32_t *out)
{
    if (n == 0 || n > 10)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Appends the decimal digits of v to out[*n] (bounded by size - 1). */
static void put_uint(char *out, size_t size, size_t *n, unsigned v)
{
    char digits[10];
    int d = 0;
    do {
        digits[d++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && d < 10);
    while (d > 0 && *n + 1 < size)
        out[(*n)++] = digits[--d];
}

/* why = "tag T WHAT", each %u in WHAT replaced by a, then b (no printf: portable and small). */
static void explain(char *why, size_t size, const char *what, unsigned tag, unsigned a,
                    unsigned b)
{
    if (why == NULL || size == 0)
        return;
    size_t n = 0;
    for (const char *l = "tag "; *l && n + 1 < size; l++)
        why[n++] = *l;
    put_uint(why, size, &n, tag);
    if (n + 1 < size)
        why[n++] = ' ';
    unsigned vals[2] = {a, b}, vi = 0;
    for (const char *p = what; *p && n + 1 < size; p++) {
        if (p[0] == '%' && p[1] == 'u' && vi < 2) {
            put_uint(why, size, &n, vals[vi++]);
            p++;
        } else {
            why[n++] = *p;
        }
    }
    why[n] = '\0';
}

static void say(char *why, size_t size, const char *text)
{
    if (why == NULL || size == 0)
        return;
    size_t n = strlen(text);
    if (n >= size)
        n = size - 1;
    memcpy(why, text, n);
    why[n] = '\0';
}

/* The string fields: tag -> buffer in struct config. */
static char *string_field(struct config *c, unsigned tag, size_t *size)
{
    switch (tag) {
    case CONFIG_TAG_ACCESS_KEY_ID: *size = sizeof c->access_key_id; return c->access_key_id;
    case CONFIG_TAG_SECRET_ACCESS_KEY: *size = sizeof c->secret_access_key; return c->secret_access_key;
    case CONFIG_TAG_REGION: *size = sizeof c->region; return c->region;
    case CONFIG_TAG_HOST: *size = sizeof c->host; return c->host;
    case CONFIG_TAG_TABLE: *size = sizeof c->table; return c->table;
    case CONFIG_TAG_PARTITION_KEY: *size = sizeof c->partition_key; return c->partition_key;
    case CONFIG_TAG_SORT_KEY: *size = sizeof c->sort_key; return c->sort_key;
    case CONFIG_TAG_DEVICE_ID: *size = sizeof c->device_id; return c->device_id;
    case CONFIG_TAG_NTP_SERVER: *size = sizeof c->ntp_server; return c->ntp_server;
    default: return NULL;
    }
}

/* Applies one record to *c; 0 or CONFIG_BAD_RECORD (why filled). The value is at `off` in the
   block, `len` bytes; short values are read into `v` (the caller read min(len, sizeof v)). */
static int apply(struct config *c, unsigned tag, uint32_t off, uint32_t len, const uint8_t *v,
                 char *why, size_t why_size)
{
    size_t size;
    char *s = string_field(c, tag, &size);
    if (s != NULL) {
        if (len == 0 || len >= size) {
            explain(why, why_size, "length %u not in 1..%u", tag, len, (unsigned)size - 1u);
            return CONFIG_BAD_RECORD;
        }
        for (uint32_t i = 0; i < len; i++) {
            if (v[i] < 0x20 || v[i] > 0x7E) { /* printable ASCII: names, keys, hosts */
                explain(why, why_size, "byte %u is not printable ASCII", tag, i, 0);
                return CONFIG_BAD_RECORD;
            }
        }
        memcpy(s, v, len);
        s[len] = '\0';
        return 0;
    }
    uint32_t n;
    switch (tag) {
    case CONFIG_TAG_PORT:
        if (parse_u32(v, len, 65535u, &n) != 0 || n == 0) {
            explain(why, why_size, "port is not a number in 1..65535", tag, 0, 0);
            return CONFIG_BAD_RECORD;
        }
        c->port = (uint16_t)n;
        return 0;
    case CONFIG_TAG_PERIOD_MS:
        if (parse_u32(v, len, 86400000u, &n) != 0 || n == 0) {
            explain(why, why_size, "period is not a number in 1..86400000", tag, 0, 0);
            return CONFIG_BAD_RECORD;
        }
        c->period_ms = n;
        return 0;
    case CONFIG_TAG_READINGS:
        if (parse_u32(v, len, 0xFFFFFFFFu, &n) != 0) {
            explain(why, why_size, "readings is not a number", tag, 0, 0);
            return CONFIG_BAD_RECORD;
        }
        c->readings = n;
        return 0;
    case CONFIG_TAG_DEBUG_HANG_AFTER:
        if (parse_u32(v, len, 0xFFFFFFFFu, &n) != 0) {
            explain(why, why_size, "hang_after is not a number", tag, 0, 0);
            return CONFIG_BAD_RECORD;
        }
        c->debug_hang_after = n;
        return 0;
    case CONFIG_TAG_ENTROPY_SEED:
        if (len != CONFIG_SEED_LEN) {
            explain(why, why_size, "length %u, not %u", tag, len, CONFIG_SEED_LEN);
            return CONFIG_BAD_RECORD;
        }
        memcpy(c->seed, v, CONFIG_SEED_LEN);
        c->has_seed = 1;
        return 0;
    case CONFIG_TAG_MAC:
        if (len != 6 || (v[0] & 1u)) {
            explain(why, why_size, "length %u: not a 6-byte unicast MAC", tag, len, 0);
            return CONFIG_BAD_RECORD;
        }
        memcpy(c->mac, v, 6);
        return 0;
    case CONFIG_TAG_SESSION_TOKEN:
        if (len == 0) {
            explain(why, why_size, "empty session token", tag, 0, 0);
            return CONFIG_BAD_RECORD;
        }
        c->token_ref.off = off;
        c->token_ref.len = (uint16_t)len;
        return 0;
    case CONFIG_TAG_CA_CERT:
        if (len == 0 || c->ca_count >= CONFIG_MAX_CA) {
            explain(why, why_size, "empty or more than %u certificates", tag, CONFIG_MAX_CA, 0);
            return CONFIG_BAD_RECORD;
        }
        c->ca[c->ca_count].off = off;
        c->ca[c->ca_count].len = (uint16_t)len;
        c->ca_count++;
        return 0;
    default:
        return 0; /* unknown: skipped (forward compatibility) */
    }
}

/* Longest value parsed from a RAM copy: the longest string field (64) or the seed (32). */
#define VALUE_MAX 64u

static int parse_payload(struct config *c, uint32_t payload_len, char *why, size_t why_size)
{
    uint32_t seen = 0; /* bit per known tag: repeats */
    uint32_t pos = 0;
    while (pos < payload_len) {
        uint8_t h[4];
        if (payload_len - pos < 4) {
            say(why, why_size, "record header past the end of the payload");
            return CONFIG_BAD_RECORD;
        }
        if (c->reader(c->reader_ctx, CONFIG_HEADER_LEN + pos, h, 4) != 0)
            return CONFIG_READ_ERROR;
        unsigned tag = (unsigned)le16(h);
        uint32_t len = le16(h + 2);
        if (tag == CONFIG_TAG_END)
            return CONFIG_OK;
        uint32_t off = CONFIG_HEADER_LEN + pos + 4u;
        if (len > payload_len - pos - 4u) {
            explain(why, why_size, "length %u past the end of the payload", tag, len, 0);
            return CONFIG_BAD_RECORD;
        }
        if (tag < CONFIG_TAG_COUNT || tag == CONFIG_TAG_DEBUG_HANG_AFTER) {
            if (tag != CONFIG_TAG_CA_CERT && (seen & (1u << tag))) {
                explain(why, why_size, "repeated", tag, 0, 0);
                return CONFIG_BAD_RECORD;
            }
            seen |= 1u << tag;
            uint8_t v[VALUE_MAX];
            uint32_t n = len < VALUE_MAX ? len : VALUE_MAX;
            int long_ok = tag == CONFIG_TAG_CA_CERT || tag == CONFIG_TAG_SESSION_TOKEN;
            if (!long_ok && len > VALUE_MAX) {
                explain(why, why_size, "length %u > %u", tag, len, VALUE_MAX - 1u);
                return CONFIG_BAD_RECORD;
            }
            if (!long_ok && c->reader(c->reader_ctx, off, v, n) != 0)
                return CONFIG_READ_ERROR;
            int r = apply(c, tag, off, len, v, why, why_size);
            if (r != 0)
                return r;
        }
        pos += 4u + ((len + 3u) & ~3u);
    }
    return CONFIG_OK; /* the end of the payload ends it too */
}

static int check_crc(struct config *c, uint32_t payload_len, uint32_t want)
{
    uint8_t buf[64];
    uint32_t crc = 0;
    for (uint32_t pos = 0; pos < payload_len;) {
        uint32_t n = payload_len - pos < sizeof buf ? payload_len - pos : sizeof buf;
        if (c->reader(c->reader_ctx, CONFIG_HEADER_LEN + pos, buf, n) != 0)
            return CONFIG_READ_ERROR;
        crc = config_crc32(crc, buf, n);
        pos += n;
    }
    return crc == want ? CONFIG_OK : CONFIG_BAD_CRC;
}

int config_load(struct config *cfg, config_reader_t reader, void *ctx, char *why,
                size_t why_size)
{
    say(why, why_size, "");
    config_defaults(cfg);
    cfg->reader = reader;
    cfg->reader_ctx = ctx;
    uint8_t h[CONFIG_HEADER_LEN];
    if (reader == NULL || reader(ctx, 0, h, sizeof h) != 0) {
        say(why, why_size, "cannot read the header");
        return CONFIG_READ_ERROR;
    }
    if (memcmp(h, "FTCF", 4) != 0)
        return CONFIG_NONE;
    if (le16(h + 4) != CONFIG_VERSION || le16(h + 6) != CONFIG_HEADER_LEN) {
        say(why, why_size, "version or header length not 1/16");
        return CONFIG_BAD_VERSION;
    }
    uint32_t payload_len = le32(h + 8);
    if (payload_len > CONFIG_MAX_LEN - CONFIG_HEADER_LEN) {
        say(why, why_size, "payload longer than the 8 KiB area");
        return CONFIG_BAD_LENGTH;
    }
    int r = check_crc(cfg, payload_len, le32(h + 12));
    if (r == CONFIG_OK)
        r = parse_payload(cfg, payload_len, why, why_size);
    if (r != CONFIG_OK) {
        /* All or nothing: a half-applied block would mix two configurations. */
        config_defaults(cfg);
        cfg->reader = reader;
        cfg->reader_ctx = ctx;
    }
    return r;
}

int config_read(const struct config *cfg, struct config_ref ref, void *buf, size_t size)
{
    if (cfg->reader == NULL || ref.len > size)
        return -1;
    if (cfg->reader(cfg->reader_ctx, ref.off, buf, ref.len) != 0)
        return -1;
    return ref.len;
}

size_t config_token_len(const struct config *cfg)
{
    if (cfg->token_ref.len > 0)
        return cfg->token_ref.len;
    return cfg->token_default != NULL ? strlen(cfg->token_default) : 0;
}

int config_token_copy(const struct config *cfg, char *buf, size_t size)
{
    size_t n = config_token_len(cfg);
    if (size <= n)
        return -1;
    if (cfg->token_ref.len > 0) {
        if (config_read(cfg, cfg->token_ref, buf, size - 1) < 0)
            return -1;
    } else if (n > 0) {
        memcpy(buf, cfg->token_default, n);
    }
    buf[n] = '\0';
    return (int)n;
}

const char *config_strresult(int result)
{
    switch (result) {
    case CONFIG_OK: return "ok";
    case CONFIG_NONE: return "none";
    case CONFIG_BAD_VERSION: return "bad version";
    case CONFIG_BAD_LENGTH: return "bad length";
    case CONFIG_BAD_CRC: return "bad CRC";
    case CONFIG_BAD_RECORD: return "bad record";
    case CONFIG_READ_ERROR: return "read error";
    default: return "?";
    }
}
