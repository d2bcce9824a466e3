/*
 * config_pm.c - reads the configuration block from the FT900's program memory (FT32 only).
 *
 * Program memory is not data-addressable: loads from it are `lpm`/`lpmi` instructions, which
 * GCC emits for objects in its __flash__ address space. Byte loads: the block's offsets need no
 * alignment, and 8 KiB read once at boot costs nothing worth optimising.
 */
#include "config.h"

int config_pm_reader(void *ctx, uint32_t off, void *buf, size_t n)
{
    (void)ctx;
    if (off > CONFIG_MAX_LEN || n > CONFIG_MAX_LEN - off)
        return -1;
    const __flash__ uint8_t *pm = (const __flash__ uint8_t *)(CONFIG_PM_ADDRESS + off);
    uint8_t *out = buf;
    for (size_t i = 0; i < n; i++)
        out[i] = pm[i];
    return 0;
}
