/*
 * keep.h - state that survives a watchdog reset.
 *
 * The FT900 has no battery-backed RAM, but a chip reset (the watchdog's second expiry, a
 * software reboot) leaves RAM as it was: only start-up code clears it. Objects declared KEEP
 * go to the .noinit section (startup/ft900.ld), which crt0.S neither loads nor clears. Power-on
 * leaves them random, and a reset may strike in the middle of an update, so they are only
 * trusted when sealed: keep_seal() stores a magic number and a CRC-32 over every kept region,
 * keep_restore() at start-up checks both and either keeps the regions (a warm start) or zeroes
 * them (a cold start, or a damaged seal: what was kept is lost then, which the caller reports).
 *
 * The DynamoDB client keeps its queue of readings and its counters this way (main.c), so a
 * watchdog reset loses no reading and repeats no sequence number: readings waiting in the queue
 * are uploaded after the reset; one whose upload was under way when the reset struck is put
 * again (PutItem of the same key and values: stored once).
 */
#ifndef APP_KEEP_H
#define APP_KEEP_H

#include <stdint.h>

#define KEEP __attribute__((section(".noinit")))

struct keep_region {
    void *p;
    uint32_t n;
};

/* 1 if the regions hold what the last keep_seal() left (kept); 0 after zeroing them. Counts the
   warm starts (keep_warm_starts()). */
int keep_restore(const struct keep_region *r, unsigned n);
/* Seals the regions' current contents. Call after every change that must survive a reset. */
void keep_seal(const struct keep_region *r, unsigned n);
/* Chip resets survived with the state kept, since power-on. */
uint32_t keep_warm_starts(void);

#endif /* APP_KEEP_H */
