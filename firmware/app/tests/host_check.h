/*
 * host_check.h - the tiny check harness of the host unit tests (app/tests, aws/tests):
 * CHECK(cond, fmt, ...) prints a line per failure, host_check_summary() prints
 * "NAME: N passed, N failed" and returns the failures (the program's exit status).
 */
#ifndef HOST_CHECK_H
#define HOST_CHECK_H

#include <stdio.h>

static unsigned host_passed, host_failed;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (cond) {                                                                           \
            host_passed++;                                                                    \
        } else {                                                                              \
            host_failed++;                                                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                       \
            printf(__VA_ARGS__);                                                              \
            printf("\n");                                                                     \
        }                                                                                     \
    } while (0)

static inline int host_check_summary(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, host_passed, host_failed);
    return host_failed > 255 ? 255 : (int)host_failed;
}

#endif /* HOST_CHECK_H */
