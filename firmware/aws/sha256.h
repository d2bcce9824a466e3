/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the AWS signer.
 *
 * The signer (sigv4.c) uses only what this header declares. sha256.c is a compact portable
 * implementation (no allocation, no tables beyond the 64 round constants, any endianness);
 * to use another implementation (e.g. mbedTLS's mbedtls_sha256_* / mbedtls_md_hmac_*), put
 * the other library's context inside `struct sha256_ctx` and replace sha256.c with a file
 * that implements these functions on top of it. Nothing else changes.
 *
 * Contexts may hold key material (HMAC): call the *_final functions, which wipe the context,
 * or sha256_wipe() when abandoning one.
 */
#ifndef AWS_SHA256_H
#define AWS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK_SIZE  64u
#define SHA256_DIGEST_SIZE 32u

struct sha256_ctx {
    uint32_t state[8];
    uint64_t bytes;                   /* message length so far */
    uint8_t block[SHA256_BLOCK_SIZE]; /* partial block */
    uint32_t fill;                    /* bytes in block[] */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);
/* One-shot digest. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

struct hmac_sha256_ctx {
    struct sha256_ctx inner;
    struct sha256_ctx outer;
};

/* Any key length (keys longer than a block are hashed first, as RFC 2104 says). */
void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the MAC and wipes the context. */
void hmac_sha256_final(struct hmac_sha256_ctx *ctx, uint8_t mac[SHA256_DIGEST_SIZE]);
/* One-shot MAC. */
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                 uint8_t mac[SHA256_DIGEST_SIZE]);

/* Zeroes `len` bytes in a way the compiler does not remove (for keys and contexts). */
void sha256_wipe(void *p, size_t len);

#endif /* AWS_SHA256_H */
