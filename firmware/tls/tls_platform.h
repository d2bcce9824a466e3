/*
 * tls_platform.h - what mbedTLS needs from the FT900 firmware: a static heap, printf, the time
 * of day from the RTC, and a cycle clock for measurements.
 *
 * Heap (mbedtls_memory_buffer_alloc over one static buffer; calloc/free of mbedTLS only).
 * TLS_HEAP_SIZE is what one TLS 1.2 client session needs at its peak, the handshake, measured by
 * tests/tls_handshake.c on the simulator (ft900-sim/tests/tls.rs prints it) as the highest heap
 * byte ever touched (allocator headers and fragmentation included):
 *
 *   scenario                                          peak     after connect  after handshake
 *   ECDHE-ECDSA, P-256 chain (2 certificates, 1 KiB)  20120    14956          11288
 *   ECDHE-RSA, AWS-shaped RSA-2048 chain of 5         29552    17172          11344
 *     certificates (5.1 KiB in one 5132-byte record),
 *     3 CA certificates as PEM, client certificate
 *     and P-256 key (mutual TLS)
 *
 * What makes the peak: the record buffers (8237 + 2093 bytes, mbedtls_config.h), the parsed CA
 * certificates (DER copy + ~0.5 KiB of fields each), the server's chain while it is verified
 * (its DER copied once more + the fields; freed right after: MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
 * is off), the handshake state (transcript hash, ECDH context, the peer's key) and the bignum
 * temporaries of the signature checks. After the handshake the CA and device certificates are
 * freed too (tls_client.c), and a session holds ~12.3 KiB until it is closed.
 * 30 KiB (30720) covers the AWS-shaped mutual-TLS case (29552, the worst measured). The
 * product, which has no client certificate or key, has its own heap of 27 KiB (app/main.c),
 * measured on the product itself: the embedded endpoint's AWS-shaped RSA-2048 chain (4
 * certificates, 5.5 KiB, scenarios/rsa-chain.toml) peaks at 26040 with three CA certificates
 * in the configuration (the endpoint's root, Amazon Root CA 1 and 3) and at 22528 with one; its
 * ECDSA chain at 15508 (firmware_upload.rs). Not measured, and worth the margin or
 * more heap: an RSA-2048 device key (its parsed key and the private-key operation, an estimated
 * 3-4 KiB: prefer a P-256 device key, which AWS IoT accepts through a CSR), more CA
 * certificates, or a longer server chain.
 */
#ifndef TLS_PLATFORM_H
#define TLS_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the static heap of one TLS client session (see above). */
#ifndef TLS_HEAP_SIZE
#define TLS_HEAP_SIZE (30u * 1024u)
#endif

/* Hands `heap` (len bytes) to mbedTLS as its calloc/free arena and paints it so that
   tls_heap_high_water() can tell how much of it was ever used. Call before any other mbedTLS
   function; again only when nothing is allocated (it starts a fresh heap and high-water mark).
   tls_platform_init_default() uses a built-in buffer of TLS_HEAP_SIZE. */
void tls_platform_init(void *heap, size_t len);
void tls_platform_init_default(void);
/* Bytes from the start of the heap up to the highest byte ever allocated (including the
   allocator's 32-byte headers and any fragmentation): the size the heap must have. */
size_t tls_heap_high_water(void);
size_t tls_heap_size(void);
/* Checks the allocator's block lists; 0 if consistent. */
int tls_heap_verify(void);
/* Bytes allocated now, the allocator's headers included (a walk of its block list; tied to
   mbedTLS 2.28's memory_buffer_alloc layout, checked by its magic numbers: (size_t)-1 if the
   list does not look right). 0 when everything was freed. */
size_t tls_heap_in_use(void);

/* The same for any heap managed by a memory_buffer_alloc instance (tests that run two): paint
   it right after the allocator's init, then ask. */
void tls_heap_paint(void *heap, size_t len);
size_t tls_heap_high_water_of(const void *heap, size_t len);
size_t tls_heap_in_use_of(const void *heap, size_t len);

/* Time of day. tls_time_set() sets the RTC to a Unix time (seconds, UTC) and marks the clock
   known; until then tls_time() (= mbedtls_time) returns 0 and tls_time_known() is 0. */
void tls_time_set(uint32_t unix_seconds);
int tls_time_known(void);

/* Cycle clock at 100 MHz from the 1 ms tick (timer A, 2000 counts of 50 cycles): resolution
   50 cycles, wraps after 42.9 s; differences are valid across the wrap. Needs timer_tick_init()
   and interrupts enabled; without the tick it returns 0. */
uint32_t tls_cycles(void);

#endif /* TLS_PLATFORM_H */
