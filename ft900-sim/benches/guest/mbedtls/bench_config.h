/* mbedTLS configuration of the `mbedtls` bench guest: the primitives a TLS handshake and record
 * layer spend their time in (bignum, P-256, AES, SHA-256), with their self tests. */
#ifndef BENCH_MBEDTLS_CONFIG_H
#define BENCH_MBEDTLS_CONFIG_H
#define MBEDTLS_SELF_TEST
#define MBEDTLS_AES_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_MODE_CTR
#define MBEDTLS_SHA256_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_PLATFORM_C
#include "mbedtls/check_config.h"
#endif
