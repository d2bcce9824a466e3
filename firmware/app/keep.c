/*
 * keep.c - state that survives a watchdog reset (see keep.h).
 */
#include "keep.h"

#include <string.h>

#include "config.h"

#define KEEP_MAGIC 0x4B454550u /* "KEEP" */

static struct {
    uint32_t magic;
    uint32_t crc;
    uint32_t warm_starts;
} seal KEEP;

static uint32_t crc_of(const struct keep_region *r, unsigned n)
{
    uint32_t crc = config_crc32(0, &seal.warm_starts, sizeof seal.warm_starts);
    for (unsigned i = 0; i < n; i++)
        crc = config_crc32(crc, r[i].p, r[i].n);
    return crc;
}

int keep_restore(const struct keep_region *r, unsigned n)
{
    if (seal.magic == KEEP_MAGIC && seal.crc == crc_of(r, n)) {
        seal.warm_starts++;
        keep_seal(r, n);
        return 1;
    }
    for (unsigned i = 0; i < n; i++)
        memset(r[i].p, 0, r[i].n);
    seal.warm_starts = 0;
    keep_seal(r, n);
    return 0;
}

void keep_seal(const struct keep_region *r, unsigned n)
{
    seal.magic = KEEP_MAGIC;
    seal.crc = crc_of(r, n);
}

uint32_t keep_warm_starts(void)
{
    return seal.warm_starts;
}
