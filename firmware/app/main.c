/*
 * main.c - dynamodb-client: the FT900 firmware that uploads sensor readings to Amazon DynamoDB.
 *
 *   configuration block (config.h; defaults from amazon_dynamodb_config.h)
 *   -> Ethernet, DHCP -> SNTP into the RTC -> a reading every device.period_ms into a bounded
 *   queue -> PutItem (one waiting) or BatchWriteItem (several) over HTTPS (conn.h, dynamodb.h)
 *   -> a reading leaves the queue only when DynamoDB acknowledged it
 *   -> once each of the device.readings readings is acknowledged (or was dropped): statistics,
 *   exit(0), or exit(4) if any was dropped (device.readings 0 = run forever).
 *
 * Readings: a simulated sensor (temperature, humidity: a deterministic function of the device id
 * and the sequence number, so a run can be checked item by item), sequence numbers from 1, the
 * time from the RTC. The queue holds QUEUE_MAX readings while the network is slow or down; when
 * it is full the oldest is dropped, counted and reported (never silently).
 *
 * The log on UART0 (115200 8N1), one line per event, stable prefixes for parsers:
 *   config: ok|none|bad ..., using defaults     dhcp 10.0.2.15 gw G dns D
 *   sntp ok <unix> <iso> from <server> in N ms  dns <host> <address>
 *   reading seq=N temperature=T humidity=H time=ISO
 *   tls <suite> in N ms (C cycles), heap peak B
 *   put seq=N status=200 attempts=A ms=L        (one line per acknowledged reading)
 *   batch n=N acked=K status=S attempts=A ms=L
 *   retry <op> attempt=A status=S type=T backoff=B ms      (a retryable failure)
 *   clock skew: offset <+-N> s from the server's Date, retrying
 *   link down: connection dropped, readings wait in the queue      link up
 *   upload: no connection, next try in N ms      (after conn.c's ERROR with the reason)
 *   ERROR credentials rejected: <type>: <message>; uploads held for N s
 *   ERROR tls: certificate of <host> not trusted (<reason>, flags 0x..): no request sent;
 *         uploads held for N s
 *   ERROR ...                                    (real errors only)
 *   stats: ...                                   (at the end)
 * The secret key, the session token and the signing key are never printed.
 *
 * Failures (aws/holdoff.h has the schedule): what time can fix (no network, a failing server)
 * is tried again after an exponential backoff with jitter, 1 s to 60 s; what retrying cannot fix
 * (credentials refused, an untrusted server certificate) is reported once and holds every
 * upload for 5 minutes, doubling to 1 hour. Readings are taken and queued all the while. While
 * the Ethernet link is down nothing is tried; the open connection is dropped at once (it cannot
 * survive an outage unnoticed), and the first upload starts as soon as the link is back.
 *
 * Stack: painted at start-up by crt0.S (a guard word at its limit); the final statistics give
 * the deepest point the stack reached (bytes from the top of RAM), see app/health.h.
 */
#include <string.h>

#include "amazon_dynamodb_config.h"
#include "config.h"
#include "conn.h"
#include "dynamodb.h"
#include "ft900_interrupt.h"
#include "ft900_net.h"
#include "ft900_rtc.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "ft900_uart.h"
#include "health.h"
#include "holdoff.h"
#include "keep.h"
#include "lwip/apps/sntp.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/stats.h"
#include "mbedtls/platform.h"
#include "tls_client.h"
#include "tls_entropy.h"
#include "tls_platform.h"
#include "refusals.h"
#include "trusted_time.h"

#define QUEUE_MAX           32u     /* readings waiting for DynamoDB (16 bytes each) */
#define LINK_TIMEOUT_MS     5000u   /* then "no link" is reported, and the wait goes on */
#define DHCP_TIMEOUT_MS     15000u  /* per try; tries are repeated with a backoff */
#define DHCP_RETRY_MAX_MS   60000u
#define SNTP_TIMEOUT_MS     15000u
#define EXIT_CONFIG         2       /* the configuration cannot work (no CA, no seed) */
#define EXIT_LOST           4       /* readings were dropped (queue full) */

static struct config cfg;
static struct ddb_config dcfg;
static struct ddb_client ddb;

/* The queue, oldest first. The first `inflight` readings are being uploaded (the DynamoDB
   client reads them twice, to hash and to send, and the result refers to them by index): they
   stay where they are until the upload returns, and a full queue drops the oldest reading
   after them (QUEUE_MAX > DDB_BATCH_MAX, so there is always one).
   The queue and the counters survive a watchdog reset (keep.h: KEEP, sealed after every change
   by keep_app()). */
static struct ddb_reading queue[QUEUE_MAX] KEEP;
static unsigned queued KEEP;
static unsigned inflight;
_Static_assert(QUEUE_MAX > DDB_BATCH_MAX, "a full queue must hold a reading not in flight");

static struct {
    uint32_t taken, acked, dropped, failed_uploads, uploads;
    uint32_t set_aside;   /* poison items taken out of the queue (refusals.h) */
    uint32_t next_reading_ms;
    uint32_t next_upload_ms;
    uint8_t sampling;   /* the clock is set: readings may be taken */
    uint8_t link;       /* the Ethernet link as last seen by the main loop */
    uint8_t holding;    /* uploads are held (a failure that retrying cannot fix) */
    uint8_t hung;       /* debug.hang_after: the main loop was made to hang once */
} app KEEP;

static const struct keep_region kept[] = {
    {queue, sizeof queue}, {&queued, sizeof queued}, {&app, sizeof app}};

static void keep_app(void)
{
    keep_seal(kept, sizeof kept / sizeof kept[0]);
}
static struct holdoff holdoff;
static struct refusals refusals;

/* The TLS heap (tls_platform.h): the product's own, sized for what it verifies without a client
   certificate: an AWS-shaped RSA-2048 chain (4 certificates, ~5.5 KiB) against three CA
   certificates peaks at 26 040 bytes (scenarios/rsa-chain.toml; firmware_upload.rs checks that
   at least 1 KiB stays unused; firmware/README.md, RAM). */
#ifndef APP_TLS_HEAP_SIZE
#define APP_TLS_HEAP_SIZE (27u * 1024u)
#endif
static unsigned char tls_heap[APP_TLS_HEAP_SIZE] __attribute__((aligned(4)));

/* ---- readings ---------------------------------------------------------------------------------- */

/* The simulated sensor: FNV-1a of the device id, mixed with the sequence number. */
static void sense(uint32_t seq, struct ddb_reading *r)
{
    uint32_t h = 2166136261u;
    for (const char *p = cfg.device_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h ^= seq * 0x9E3779B1u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    r->seq = seq;
    r->temp_centi = 1500 + (int32_t)(h % 1500u);        /* 15.00 .. 29.99 C */
    r->humidity_centi = 3000u + (h >> 11) % 4000u;      /* 30.00 .. 69.99 % */
    r->unix_time = rtc_read();
}

static void take_reading(void)
{
    struct ddb_reading r;
    sense(++app.taken, &r);
    if (queued == QUEUE_MAX) {
        unsigned victim = inflight; /* the oldest reading not being uploaded */
        app.dropped++;
        uart_printf(UART0, "ERROR queue full: dropped seq=%u (%u dropped so far)\n",
                    (unsigned)queue[victim].seq, (unsigned)app.dropped);
        memmove(&queue[victim], &queue[victim + 1u],
                (QUEUE_MAX - 1u - victim) * sizeof queue[0]);
        queued--;
    }
    queue[queued++] = r;
    keep_app();
    char ts[21];
    ddb_iso8601(r.unix_time, ts);
    uart_printf(UART0, "reading seq=%u temperature=%d.%02u humidity=%u.%02u time=%s queued=%u\n",
                (unsigned)r.seq, (int)(r.temp_centi / 100), (unsigned)(r.temp_centi % 100),
                (unsigned)(r.humidity_centi / 100u), (unsigned)(r.humidity_centi % 100u), ts,
                queued);
}

static int more_readings_wanted(void)
{
    return cfg.readings == 0 || app.taken < cfg.readings;
}

/* Runs the network and, when due, takes a reading: called by every wait loop. When neither
 * brought anything, the CPU idles until the next interrupt (a received frame, or the 1 ms tick
 * that drives lwIP's timers and the reading schedule): every wait loop is a poll-then-idle loop,
 * which costs nothing in the simulator and leaves the bus quiet on silicon. */
void app_idle(void)
{
    health_poll();
    unsigned frames = net_poll();
    if (app.sampling && more_readings_wanted()) {
        uint32_t now = millis();
        if ((int32_t)(now - app.next_reading_ms) >= 0) {
            take_reading();
            app.next_reading_ms += cfg.period_ms;
            if ((int32_t)(now - app.next_reading_ms) >= 0) /* far behind: no burst */
                app.next_reading_ms = now + cfg.period_ms;
            return;
        }
    }
    if (frames == 0)
        sys_wait_for_interrupt();
}

/* An exit status after the UART has sent everything: the simulator (and a debugger's console)
   stops at _exit, so a line still in the TX FIFO would be cut short. */
static int leave(int status)
{
    uart_flush(UART0);
    return status;
}

static void wait_ms(uint32_t ms)
{
    uint32_t t0 = millis();
    while (millis() - t0 < ms)
        app_idle();
}

/* ---- the DynamoDB client's I/O ----------------------------------------------------------------- */

static int io_connect(void *ctx) { (void)ctx; return conn_open(); }
static int io_send(void *ctx, const void *d, size_t n) { (void)ctx; return conn_send(d, n); }
static int io_recv(void *ctx, void *b, size_t n) { (void)ctx; return conn_recv(b, n); }
static void io_close(void *ctx) { (void)ctx; conn_close(); }
static int io_is_open(void *ctx) { (void)ctx; return conn_is_open(); }
static uint32_t io_now(void *ctx) { (void)ctx; return rtc_read(); }
static uint32_t io_millis(void *ctx) { (void)ctx; return millis(); }
static void io_sleep(void *ctx, uint32_t ms) { (void)ctx; wait_ms(ms); }

static void io_attempt(void *ctx, const struct ddb_attempt_info *i)
{
    (void)ctx;
    health_progress(); /* each attempt is bounded by its own timeouts */
    if (i->cls == DDB_CLASS_SKEW)
        uart_printf(UART0, "clock skew: offset %d s from the server's Date, retrying\n",
                    (int)i->clock_offset);
    else if (i->retrying) /* also a 0 ms backoff: the log must show every retry */
        uart_printf(UART0, "retry %s attempt=%u status=%d type=%s backoff=%u ms\n", i->operation,
                    i->attempt, i->status, i->type[0] ? i->type : "-", (unsigned)i->backoff_ms);
}

static const struct ddb_io io = {io_connect, io_send, io_recv, io_close, io_is_open, io_now,
                                 io_millis, io_sleep, io_attempt, NULL};

/* ---- uploading --------------------------------------------------------------------------------- */

/* One line per failed upload: the cause, and when the next try comes. */
static void report_failure(int ret, unsigned n, const struct ddb_result *res, uint32_t wait_ms)
{
    const char *type = res->type[0] ? res->type : "-";
    const char *message = res->message[0] ? res->message : "-";
    if (ret == DDB_ERR_CREDENTIALS) {
        uart_printf(UART0, "ERROR credentials rejected: %s: %s; uploads held for %u s\n", type,
                    message, (unsigned)(wait_ms / 1000u));
    } else if (ret == DDB_ERR_UNTRUSTED) {
        char why[64];
        uint32_t flags = conn_untrusted_reason(why, sizeof why);
        uart_printf(UART0, "ERROR tls: certificate of %s not trusted (%s, flags 0x%x): no request "
                    "sent; uploads held for %u s\n", cfg.host, why, (unsigned)flags,
                    (unsigned)(wait_ms / 1000u));
    } else if (ret == DDB_ERR_CONNECT) {
        /* conn.c has printed why. */
        uart_printf(UART0, "upload: no connection, next try in %u ms\n", (unsigned)wait_ms);
    } else {
        uart_printf(UART0, "ERROR %s seq=%u failed: %s status=%d attempts=%u type=%s message=%s; "
                    "next try in %u ms\n", n == 1 ? "put" : "batch", (unsigned)queue[0].seq,
                    ret == DDB_ERR_RETRIES ? "gave up" : ret == DDB_ERR_REJECTED ? "rejected"
                                                                                 : "bad request",
                    res->status, res->attempts, type, message, (unsigned)wait_ms);
    }
}

/* A reading DynamoDB refused REFUSALS_MAX times for good leaves the queue, reported with its
   key (refusals.h); the upload after it comes at once. */
static void set_aside_head(const struct ddb_result *res)
{
    app.set_aside++;
    uart_printf(UART0, "ERROR item %s=%s %s=%u set aside after %u refusals: %s: %s (%u set aside)\n",
              cfg.partition_key, cfg.device_id, cfg.sort_key, (unsigned)queue[0].seq,
              REFUSALS_MAX, res->type[0] ? res->type : "-",
              res->message[0] ? res->message : "-", (unsigned)app.set_aside);
    memmove(&queue[0], &queue[1], (queued - 1u) * sizeof queue[0]);
    queued--;
    app.next_upload_ms = millis();
    keep_app(); /* the queue changed: reseal what survives a watchdog reset */
}

static void upload(void)
{
    unsigned n = queued < DDB_BATCH_MAX ? queued : DDB_BATCH_MAX;
    n = refusals_limit(&refusals, n);
    uint32_t head_seq = queue[0].seq;
    struct ddb_result res;
    uint8_t acked[DDB_BATCH_MAX];
    int ret;
    app.uploads++;
    inflight = n;
    if (n == 1) {
        ret = ddb_put(&ddb, &queue[0], &res);
        acked[0] = ret == DDB_OK;
    } else {
        ret = ddb_batch(&ddb, queue, n, acked, &res);
        uart_printf(UART0, "batch n=%u acked=%u status=%d attempts=%u ms=%u\n", n, res.acked,
                    res.status, res.attempts, (unsigned)res.latency_ms);
    }
    inflight = 0;
    /* Acknowledged readings leave the queue; the others keep their order. */
    unsigned kept = 0;
    for (unsigned i = 0; i < queued; i++) {
        if (i < n && acked[i]) {
            app.acked++;
            uart_printf(UART0, "put seq=%u status=%d attempts=%u ms=%u\n",
                        (unsigned)queue[i].seq, res.status, res.attempts,
                        (unsigned)res.latency_ms);
        } else {
            queue[kept++] = queue[i];
        }
    }
    queued = kept;
    keep_app();
    /* The readings not acknowledged stay queued; when to try again is holdoff's decision. */
    uint32_t wait = holdoff_after(&holdoff, ret);
    app.holding = (uint8_t)holdoff_is_hold(ret);
    app.next_upload_ms = millis() + wait;
    if (ret != DDB_OK) {
        app.failed_uploads++;
        if (app.holding)
            conn_close(); /* no session kept open through a hold */
        report_failure(ret, n, &res, wait);
    }
    if (refusals_after(&refusals, head_seq, n, ret, res.type) && queued > 0 &&
        queue[0].seq == head_seq)
        set_aside_head(&res);
}

/* ---- start-up ---------------------------------------------------------------------------------- */

static void print_config(int r, const char *why)
{
    if (r == CONFIG_OK)
        uart_printf(UART0, "config: ok, key id %s, region %s, host %s:%u, table %s (%s, %s), "
                    "device %s, period %u ms, readings %u, %u CA, seed %s\n",
                    cfg.access_key_id, cfg.region, cfg.host, cfg.port, cfg.table,
                    cfg.partition_key, cfg.sort_key, cfg.device_id, (unsigned)cfg.period_ms,
                    (unsigned)cfg.readings, cfg.ca_count, cfg.has_seed ? "yes" : "no");
    else if (r == CONFIG_NONE)
        uart_printf(UART0, "config: none, using defaults\n");
    else
        uart_printf(UART0, "config: %s (%s), using defaults\n", config_strresult(r), why);
}

static int wait_for(int (*done)(void), uint32_t timeout_ms, uint32_t *took)
{
    uint32_t t0 = millis();
    while (!done()) {
        if (millis() - t0 >= timeout_ms)
            return 0;
        app_idle();
    }
    if (took)
        *took = millis() - t0;
    return 1;
}

static int link_up(void) { return netif_is_link_up(net_netif()); }

/* Follows the Ethernet link between uploads. Down: the connection goes at once (whatever the
   server still holds of it, our side cannot be trusted after an outage of unknown length).
   Up again: the next upload starts now, unless uploads are held. */
static void watch_link(void)
{
    uint8_t up = (uint8_t)(link_up() != 0);
    if (up == app.link)
        return;
    app.link = up;
    if (!up) {
        conn_close();
        uart_printf(UART0, "link down: connection dropped, readings wait in the queue\n");
        return;
    }
    uart_printf(UART0, "link up\n");
    if (!app.holding)
        app.next_upload_ms = millis();
}

static int lease_bound(void) { return dhcp_supplied_address(net_netif()); }

/* Link, then a DHCP lease: never gives up. Without a link it waits (reported once, after
   LINK_TIMEOUT_MS: a cable may be plugged in at any time); without a lease it tries again after
   a backoff (15 s doubling to 60 s), and waits for the link again if it went. Each step is
   progress for the watchdog (health.h): waiting for the network is what the device should do. */
static void bring_up(uint32_t *took)
{
    uint32_t retry_ms = DHCP_TIMEOUT_MS;
    for (;;) {
        health_progress();
        if (!link_up()) {
            if (!wait_for(link_up, LINK_TIMEOUT_MS, NULL)) {
                uart_printf(UART0, "ERROR ethernet: no link in %u ms, waiting for it\n",
                            LINK_TIMEOUT_MS);
                while (!link_up()) {
                    health_progress();
                    app_idle();
                }
            }
            uart_printf(UART0, "ethernet: link up\n");
        }
        health_progress();
        if (dhcp_start(net_netif()) == ERR_OK && wait_for(lease_bound, DHCP_TIMEOUT_MS, took))
            return;
        dhcp_stop(net_netif());
        uart_printf(UART0, "ERROR dhcp: no lease in %u ms, trying again in %u ms\n",
                    DHCP_TIMEOUT_MS, (unsigned)retry_ms);
        health_progress();
        wait_ms(retry_ms);
        retry_ms = retry_ms * 2u > DHCP_RETRY_MAX_MS ? DHCP_RETRY_MAX_MS : retry_ms * 2u;
    }
}
static int time_synced(void) { struct net_time t; return net_time_get(&t) > 0; }

static volatile uint8_t ntp_dns_done;
static ip_addr_t ntp_addr;
static void ntp_dns_cb(const char *name, const ip_addr_t *addr, void *arg)
{
    (void)name;
    (void)arg;
    if (addr != NULL)
        ntp_addr = *addr;
    ntp_dns_done = addr != NULL ? 1 : 2;
}
static int ntp_resolved(void) { return ntp_dns_done != 0; }

/* The SNTP server: the configured name or address, else the DHCP router. */
static int ntp_server(ip_addr_t *out)
{
    if (cfg.ntp_server[0] == '\0') {
        ip_addr_copy_from_ip4(*out, *netif_ip4_gw(net_netif()));
        return 0;
    }
    if (ipaddr_aton(cfg.ntp_server, out))
        return 0;
    ntp_dns_done = 0;
    err_t e = dns_gethostbyname(cfg.ntp_server, &ntp_addr, ntp_dns_cb, NULL);
    if (e == ERR_INPROGRESS && wait_for(ntp_resolved, 5000u, NULL) && ntp_dns_done == 1)
        e = ERR_OK;
    if (e != ERR_OK)
        return -1;
    *out = ntp_addr;
    return 0;
}

/* debug.hang_after (a provisioned debug key, absent in a product's configuration): once, after
   that many acknowledged readings, the main loop hangs in a spin, as a bug would make it; the
   watchdog must reset the chip and the readings must survive (scenarios/watchdog-hang.toml). */
static void debug_hang(void)
{
    app.hung = 1;
    keep_app();
    uart_printf(UART0, "debug: main loop hangs now (debug.hang_after=%u)\n",
                (unsigned)cfg.debug_hang_after);
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static void print_stats(void)
{
    struct conn_stats cs;
    conn_get_stats(&cs);
    uart_printf(UART0, "stats: readings=%u acked=%u dropped=%u queued=%u uploads=%u failed=%u "
                "requests=%u retries=%u skew_corrections=%u connects=%u handshakes=%u resumed=%u\n",
                (unsigned)app.taken, (unsigned)app.acked, (unsigned)app.dropped, queued,
                (unsigned)app.uploads, (unsigned)app.failed_uploads, (unsigned)ddb.requests,
                (unsigned)ddb.retries, (unsigned)ddb.skew_corrections, (unsigned)ddb.connects,
                (unsigned)cs.handshakes, (unsigned)cs.resumptions);
    uart_printf(UART0, "stats: stack high-water %u bytes of %u, tls heap peak %u "
                "of %u, lwip heap max %u of %u, uptime %u ms\n",
                (unsigned)sys_stack_high_water(), (unsigned)sys_stack_size(),
                (unsigned)tls_heap_high_water(), (unsigned)tls_heap_size(),
                (unsigned)lwip_stats.mem.max, (unsigned)lwip_stats.mem.avail,
                (unsigned)millis());
}

int main(void)
{
    uart_open(UART0, 115200);
    uart_enable_interrupts(UART0);
    timer_tick_init();
    interrupt_enable_globally();
    int after_watchdog = health_init();
    uart_printf(UART0, "dynamodb-client: FT900 DynamoDB client\n");
    int warm = keep_restore(kept, sizeof kept / sizeof kept[0]);
    if (warm)
        uart_printf(UART0, "boot: %s (warm start %u): %u readings kept in the queue, next "
                    "seq=%u\n", after_watchdog ? "after a watchdog reset" : "after a reset",
                    (unsigned)keep_warm_starts(), queued, (unsigned)app.taken + 1u);
    else if (after_watchdog)
        uart_printf(UART0, "ERROR boot: after a watchdog reset, the kept readings were damaged: "
                    "starting again from seq=1\n");

    char why[64];
    int cr = config_load(&cfg, config_pm_reader, NULL, why, sizeof why);
    print_config(cr, why);

    tls_platform_init(tls_heap, sizeof tls_heap);
    tls_entropy_init(cfg.has_seed ? cfg.seed : NULL, NULL);
    if (!cfg.has_seed || cfg.ca_count == 0) {
        uart_printf(UART0, "ERROR config: %s: no TLS without it\n",
                    !cfg.has_seed ? "no entropy.seed" : "no tls.ca_cert");
        uart_flush(UART0);
        return EXIT_CONFIG;
    }
    /* The session token, if any, lives in the TLS heap (exact size; most devices have none). */
    char *token = NULL;
    size_t token_len = config_token_len(&cfg);
    if (token_len > 0) {
        token = mbedtls_calloc(1, token_len + 1u);
        if (token == NULL || config_token_copy(&cfg, token, token_len + 1u) < 0) {
            uart_printf(UART0, "ERROR config: session token of %u bytes does not fit\n",
                        (unsigned)token_len);
            return leave(EXIT_CONFIG);
        }
    }
    dcfg = (struct ddb_config){cfg.host, cfg.region, cfg.table, cfg.partition_key,
                               cfg.sort_key, cfg.device_id, cfg.access_key_id,
                               cfg.secret_access_key, token};
    /* Everything random that shows on the wire (ids, ports, sequence numbers, the retry
       jitter's timing) comes from the DRBG, never from the seed's bytes. */
    net_rand_set_source(tls_random, NULL);
    uint32_t seed32 = net_rand();

    /* Network. */
    int r = net_init(cfg.mac);
    if (r != 0) {
        uart_printf(UART0, "ERROR ethernet: net_init %d\n", r);
        health_reset("ethernet"); /* a PHY that did not answer: a reset may bring it back */
    }
    uint32_t took = 0;
    bring_up(&took);
    char a[16], b[16], c[16];
    uart_printf(UART0, "dhcp %s gw %s dns %s in %u ms\n", net_ip4_str(netif_ip4_addr(net_netif()), a),
                net_ip4_str(netif_ip4_gw(net_netif()), b), net_ip4_str(ip_2_ip4(dns_getserver(0)), c),
                (unsigned)took);

    /* Time. */
    ip_addr_t ntp;
    if (ntp_server(&ntp) != 0) {
        uart_printf(UART0, "ERROR sntp: server %s not resolved\n", cfg.ntp_server);
    } else {
        sntp_setoperatingmode(SNTP_OPMODE_POLL);
        sntp_setserver(0, &ntp);
        sntp_init();
        if (wait_for(time_synced, SNTP_TIMEOUT_MS, &took)) {
            uint32_t now = rtc_read();
            char ts[21];
            ddb_iso8601(now, ts);
            tls_time_set(now);
            tls_entropy_add_boot_data(&now, sizeof now);
            uart_printf(UART0, "sntp ok %u %s from %s in %u ms\n", (unsigned)now, ts,
                        net_ip4_str(ip_2_ip4(&ntp), a), (unsigned)took);
        } else {
            /* Not fatal: DynamoDB's Date header corrects the clock (skew correction). */
            uart_printf(UART0, "ERROR sntp: no answer in %u ms; the time comes from the server\n",
                        SNTP_TIMEOUT_MS);
        }
    }

    conn_setup(&cfg);
    ddb_init(&ddb, &dcfg, &io, seed32 ^ 0xA5A5F00Du);
    holdoff_init(&holdoff, seed32 ^ 0x5EEDB0FFu);
    app.sampling = 1;
    app.link = 1;
    app.holding = 0;
    app.next_reading_ms = millis();
    app.next_upload_ms = millis();
    keep_app();

    for (;;) {
        health_progress();
        if (cfg.debug_hang_after != 0 && app.acked >= cfg.debug_hang_after && !app.hung)
            debug_hang();
        app_idle();
        if (cfg.readings != 0 && app.acked + app.dropped + app.set_aside >= cfg.readings)
            break;
        watch_link();
        if (queued > 0 && app.link && (int32_t)(millis() - app.next_upload_ms) >= 0) {
            upload();
            trusted_time_after_upload(&ddb);
        }
    }
    conn_close();
    /* Let the close_notify and FIN leave before the statistics. */
    wait_ms(50);
    print_stats();
    ddb_wipe(&ddb);
    if (app.set_aside > 0)
        uart_printf(UART0, "ERROR %u of %u readings set aside: DynamoDB refused them\n",
                  (unsigned)app.set_aside, (unsigned)app.taken);
    if (app.dropped > 0 || app.set_aside > 0) {
        if (app.dropped > 0)
            uart_printf(UART0, "ERROR %u of %u readings lost: the queue was full\n",
                        (unsigned)app.dropped, (unsigned)app.taken);
        uart_flush(UART0);
        return EXIT_LOST;
    }
    uart_flush(UART0);
    return 0;
}
