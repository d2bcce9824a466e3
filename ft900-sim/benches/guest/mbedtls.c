/* mbedTLS's own self tests of the primitives a TLS handshake and its records spend their time
 * in: P-256 point multiplication (ECDHE, ECDSA; mbedTLS's bignum code underneath), AES and
 * SHA-256. The
 * library is mbedTLS 2.28 from firmware/third_party/fetch.sh (`.cache/third_party/mbedtls`),
 * compiled for this guest with `mbedtls/bench_config.h`; the bench adds its sources to the
 * compile (see GUESTS in mips.rs). Each self test checks its results against the known answers
 * mbedTLS carries, so the guest exits 0 only if every round passed. */
#include <stdio.h>

#include "mbedtls/aes.h"
#include "mbedtls/ecp.h"
#include "mbedtls/sha256.h"

#ifndef ROUNDS
#define ROUNDS 1
#endif

int main(void)
{
    int failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        failed += mbedtls_ecp_self_test(0) != 0;
        failed += mbedtls_aes_self_test(0) != 0;
        failed += mbedtls_sha256_self_test(0) != 0;
    }
    printf("mbedtls: %d rounds of the ecp, aes and sha256 self tests: %d failed\n", ROUNDS,
           failed);
    return failed != 0;
}
