/*
 * config_test.c - host unit test of the configuration block parser (app/config.c): blocks built
 * here byte by byte as the contract says (config.h), read through an array reader.
 *
 * Cases: a good block (every field, two CA certificates, padding, unknown tag skipped), erased
 * flash, bad CRC, bad version, payload longer than the area, truncated record, a field too long,
 * a repeated tag, bad numbers, a block without the end record, the session token.
 */
#include <stdint.h>
#include <string.h>

#include "amazon_dynamodb_config.h"
#include "config.h"
#include "host_check.h"

/* ---- a block builder ---------------------------------------------------------------------- */

struct block {
    uint8_t b[CONFIG_MAX_LEN];
    size_t len; /* header + payload so far */
};

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void begin(struct block *k)
{
    memset(k->b, 0xFF, sizeof k->b); /* erased flash */
    k->len = CONFIG_HEADER_LEN;
}

static void rec(struct block *k, unsigned tag, const void *v, size_t n)
{
    put16(k->b + k->len, tag);
    put16(k->b + k->len + 2, (uint32_t)n);
    memcpy(k->b + k->len + 4, v, n);
    k->len += 4 + n;
    while (k->len % 4)
        k->b[k->len++] = 0;
}

static void srec(struct block *k, unsigned tag, const char *s)
{
    rec(k, tag, s, strlen(s));
}

/* Writes the header for the payload so far (with the end record when `end`). */
static void finish(struct block *k, int end)
{
    if (end) {
        put32(k->b + k->len, 0);
        k->len += 4;
    }
    memcpy(k->b, "FTCF", 4);
    put16(k->b + 4, CONFIG_VERSION);
    put16(k->b + 6, CONFIG_HEADER_LEN);
    uint32_t plen = (uint32_t)(k->len - CONFIG_HEADER_LEN);
    put32(k->b + 8, plen);
    put32(k->b + 12, config_crc32(0, k->b + CONFIG_HEADER_LEN, plen));
}

static int reader(void *ctx, uint32_t off, void *buf, size_t n)
{
    struct block *k = ctx;
    if (off > sizeof k->b || n > sizeof k->b - off)
        return -1;
    memcpy(buf, k->b + off, n);
    return 0;
}

static struct block k;
static struct config c;
static char why[80];

static int load(void)
{
    return config_load(&c, reader, &k, why, sizeof why);
}

/* The fields of a valid full block. */
static void full_block(void)
{
    begin(&k);
    srec(&k, CONFIG_TAG_ACCESS_KEY_ID, "AKIATESTKEY0000001");
    srec(&k, CONFIG_TAG_SECRET_ACCESS_KEY, "secretsecretsecretsecretsecretsecret0001");
    srec(&k, CONFIG_TAG_REGION, "eu-west-1");
    srec(&k, CONFIG_TAG_HOST, "dynamodb.eu-west-1.amazonaws.com");
    srec(&k, CONFIG_TAG_PORT, "8443");
    srec(&k, CONFIG_TAG_TABLE, "Readings");
    srec(&k, CONFIG_TAG_PARTITION_KEY, "dev");
    srec(&k, CONFIG_TAG_SORT_KEY, "n");
    srec(&k, CONFIG_TAG_DEVICE_ID, "knuth");
    srec(&k, CONFIG_TAG_PERIOD_MS, "250");
    srec(&k, CONFIG_TAG_CA_CERT, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    rec(&k, 999, "future", 6); /* unknown tag: skipped */
    static const uint8_t der[5] = {0x30, 0x03, 0x02, 0x01, 0x01};
    rec(&k, CONFIG_TAG_CA_CERT, der, sizeof der); /* may repeat */
    uint8_t seed[32];
    for (unsigned i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i * 7 + 1);
    rec(&k, CONFIG_TAG_ENTROPY_SEED, seed, sizeof seed);
    static const uint8_t mac[6] = {0x02, 0xF9, 0, 0, 0, 0x42};
    rec(&k, CONFIG_TAG_MAC, mac, sizeof mac);
    srec(&k, CONFIG_TAG_READINGS, "3");
    srec(&k, CONFIG_TAG_NTP_SERVER, "10.0.2.2");
    srec(&k, CONFIG_TAG_SESSION_TOKEN, "FwoGZXIvYXdzEXAMPLETOKEN");
}

static void expect_defaults(const char *what)
{
    CHECK(strcmp(c.access_key_id, CONFIG_AWS_ACCESS_KEY) == 0, "%s: default key id", what);
    CHECK(strcmp(c.region, CONFIG_AWS_REGION) == 0, "%s: default region", what);
    CHECK(strcmp(c.host, CONFIG_AWS_HOST) == 0, "%s: default host", what);
    CHECK(strcmp(c.table, CONFIG_AWS_DYNAMODB_TABLE) == 0, "%s: default table", what);
    CHECK(c.port == CONFIG_AWS_PORT && c.ca_count == 0 && !c.has_seed, "%s: default port, no CA, no seed", what);
    CHECK(c.readings == CONFIG_DEVICE_READINGS && c.period_ms == CONFIG_DEVICE_PERIOD_MS,
          "%s: default readings/period", what);
}

int main(void)
{
    /* Good block. */
    full_block();
    finish(&k, 1);
    int r = load();
    CHECK(r == CONFIG_OK, "good block: %s (%s)", config_strresult(r), why);
    CHECK(strcmp(c.access_key_id, "AKIATESTKEY0000001") == 0, "key id");
    CHECK(strcmp(c.secret_access_key, "secretsecretsecretsecretsecretsecret0001") == 0, "secret");
    CHECK(strcmp(c.region, "eu-west-1") == 0 && strcmp(c.host, "dynamodb.eu-west-1.amazonaws.com") == 0,
          "region, host");
    CHECK(c.port == 8443 && strcmp(c.table, "Readings") == 0, "port, table");
    CHECK(strcmp(c.partition_key, "dev") == 0 && strcmp(c.sort_key, "n") == 0, "key names");
    CHECK(strcmp(c.device_id, "knuth") == 0 && c.period_ms == 250 && c.readings == 3, "device");
    CHECK(strcmp(c.ntp_server, "10.0.2.2") == 0, "ntp server");
    CHECK(c.has_seed && c.seed[0] == 1 && c.seed[31] == (uint8_t)(31 * 7 + 1), "seed");
    CHECK(c.mac[5] == 0x42 && c.mac[0] == 0x02, "mac");
    CHECK(c.ca_count == 2, "two CA certificates (%u)", c.ca_count);
    char buf[128];
    int n = config_read(&c, c.ca[0], buf, sizeof buf);
    CHECK(n == 59 && memcmp(buf, "-----BEGIN CERTIFICATE-----\n", 28) == 0, "CA 1 read back (%d)", n);
    n = config_read(&c, c.ca[1], buf, sizeof buf);
    CHECK(n == 5 && (uint8_t)buf[0] == 0x30, "CA 2 (DER) read back (%d)", n);
    CHECK(config_read(&c, c.ca[0], buf, 10) == -1, "config_read into a short buffer refused");
    CHECK(config_token_len(&c) == 24, "token length");
    n = config_token_copy(&c, buf, sizeof buf);
    CHECK(n == 24 && strcmp(buf, "FwoGZXIvYXdzEXAMPLETOKEN") == 0, "token copied with NUL");
    CHECK(config_token_copy(&c, buf, 24) == -1, "token into a buffer without room for the NUL");

    /* No end record: the end of the payload ends it. */
    full_block();
    finish(&k, 0);
    r = load();
    CHECK(r == CONFIG_OK && c.readings == 3, "block without end record: %s", config_strresult(r));

    /* Fields the block lacks take the defaults. */
    begin(&k);
    srec(&k, CONFIG_TAG_TABLE, "Other");
    finish(&k, 1);
    r = load();
    CHECK(r == CONFIG_OK && strcmp(c.table, "Other") == 0 && strcmp(c.region, CONFIG_AWS_REGION) == 0 &&
              config_token_len(&c) == strlen(CONFIG_AWS_SESSION_TOKEN),
          "partial block: own table, default region/token");

    /* Erased flash. */
    memset(k.b, 0xFF, sizeof k.b);
    r = load();
    CHECK(r == CONFIG_NONE, "erased: %s", config_strresult(r));
    expect_defaults("erased");

    /* Bad CRC: one payload byte flipped after the CRC was computed. */
    full_block();
    finish(&k, 1);
    k.b[CONFIG_HEADER_LEN + 5] ^= 0x01;
    r = load();
    CHECK(r == CONFIG_BAD_CRC, "bad CRC: %s", config_strresult(r));
    expect_defaults("bad CRC");

    /* Bad version. */
    full_block();
    finish(&k, 1);
    put16(k.b + 4, 2);
    r = load();
    CHECK(r == CONFIG_BAD_VERSION, "version 2: %s", config_strresult(r));
    expect_defaults("bad version");

    /* Payload longer than the area. */
    full_block();
    finish(&k, 1);
    put32(k.b + 8, CONFIG_MAX_LEN);
    r = load();
    CHECK(r == CONFIG_BAD_LENGTH, "payload too long: %s", config_strresult(r));

    /* Truncated: the last record claims more bytes than the payload has (valid CRC). */
    begin(&k);
    srec(&k, CONFIG_TAG_REGION, "eu-west-1");
    srec(&k, CONFIG_TAG_TABLE, "T");
    put16(k.b + k.len - 8 + 2, 200); /* the table record's length */
    finish(&k, 0);
    r = load();
    CHECK(r == CONFIG_BAD_RECORD && strstr(why, "tag 7") != NULL, "truncated record: %s (%s)",
          config_strresult(r), why);
    expect_defaults("truncated");

    /* A record header cut in the middle. */
    begin(&k);
    srec(&k, CONFIG_TAG_REGION, "eu-west-1");
    put16(k.b + k.len, CONFIG_TAG_TABLE);
    k.len += 2;
    memcpy(k.b, "FTCF", 4);
    put16(k.b + 4, 1);
    put16(k.b + 6, 16);
    put32(k.b + 8, (uint32_t)(k.len - 16));
    put32(k.b + 12, config_crc32(0, k.b + 16, k.len - 16));
    r = load();
    CHECK(r == CONFIG_BAD_RECORD, "half a record header: %s", config_strresult(r));

    /* A field too long for its buffer. */
    begin(&k);
    char longname[70];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    srec(&k, CONFIG_TAG_HOST, longname);
    finish(&k, 1);
    r = load();
    CHECK(r == CONFIG_BAD_RECORD, "host of 69 bytes: %s (%s)", config_strresult(r), why);

    /* A repeated tag that may not repeat. */
    begin(&k);
    srec(&k, CONFIG_TAG_REGION, "eu-west-1");
    srec(&k, CONFIG_TAG_REGION, "us-west-2");
    finish(&k, 1);
    r = load();
    CHECK(r == CONFIG_BAD_RECORD && strstr(why, "repeated") != NULL, "repeated region: %s (%s)",
          config_strresult(r), why);
    expect_defaults("repeated");

    /* Bad numbers and a bad seed length. */
    const char *bad_ports[] = {"0", "65536", "80a", "", "99999999999"};
    for (unsigned i = 0; i < 5; i++) {
        begin(&k);
        srec(&k, CONFIG_TAG_PORT, bad_ports[i]);
        finish(&k, 1);
        r = load();
        CHECK(r == CONFIG_BAD_RECORD, "port \"%s\": %s", bad_ports[i], config_strresult(r));
    }
    begin(&k);
    rec(&k, CONFIG_TAG_ENTROPY_SEED, "short", 5);
    finish(&k, 1);
    CHECK(load() == CONFIG_BAD_RECORD, "seed of 5 bytes refused");
    begin(&k);
    srec(&k, CONFIG_TAG_DEVICE_ID, "bad\nid");
    finish(&k, 1);
    CHECK(load() == CONFIG_BAD_RECORD, "control character in a string refused");

    /* More CA certificates than there is room for. */
    begin(&k);
    for (unsigned i = 0; i <= CONFIG_MAX_CA; i++)
        rec(&k, CONFIG_TAG_CA_CERT, "x", 1);
    finish(&k, 1);
    CHECK(load() == CONFIG_BAD_RECORD, "%u CA certificates refused", CONFIG_MAX_CA + 1);

    /* A reader that fails. */
    CHECK(config_load(&c, NULL, NULL, why, sizeof why) == CONFIG_READ_ERROR, "no reader");

    /* CRC-32 check value. */
    CHECK(config_crc32(0, "123456789", 9) == 0xCBF43926u, "CRC-32 check value");

    return host_check_summary("config");
}
