/*
 * sigv4_selftest.h - known-answer tests of the AWS signer and its primitives, shared by the
 * host test program and the FT32 firmware test: SHA-256 (FIPS 180-2 examples), HMAC-SHA256
 * (RFC 4231 cases 1-7), the signing-key example of the AWS documentation, the S3 examples of
 * the AWS documentation, canonical URI / query rules, header rules, buffer sizing and the
 * error returns.
 */
#ifndef AWS_SIGV4_SELFTEST_H
#define AWS_SIGV4_SELFTEST_H

/* Called once per check: ok, a short description, and for a failure what was produced
   (NULL when there is nothing to show). */
typedef void (*sigv4_selftest_report_t)(void *ctx, int ok, const char *what, const char *got);

/* Runs every check; `slow` adds the one-million-'a' SHA-256 example (15 625 blocks: meant for
   the host). Returns the number of failed checks. */
unsigned sigv4_selftest(sigv4_selftest_report_t report, void *ctx, int slow);

#endif /* AWS_SIGV4_SELFTEST_H */
