/*
 * refusals.c - when a reading is a poison item. See refusals.h.
 */
#include <stddef.h>

#include "dynamodb.h"
#include "refusals.h"

#ifdef __FT32__
#define REFUSALS_PM __flash__
#define REFUSALS_PM_SECTION __attribute__((section("._pm.refusals")))
#else /* the host unit test */
#define REFUSALS_PM
#define REFUSALS_PM_SECTION
#endif

/* Refusals that name the item itself: DynamoDB reports a too-large item, a bad attribute value
   or a key that does not fit as ValidationException. Other permanent errors (a missing table,
   a refused action) are not the item's fault: they never set a reading aside. */
static int about_the_item(const char *type)
{
    /* In program memory: on the FT900 a string literal costs RAM. */
    static const REFUSALS_PM char validation[] REFUSALS_PM_SECTION = "ValidationException";
    if (type == NULL)
        return 0;
    size_t i = 0;
    for (; validation[i] != '\0'; i++)
        if (type[i] != validation[i])
            return 0;
    return type[i] == '\0';
}

unsigned refusals_limit(const struct refusals *r, unsigned n)
{
    return r->singles > 0 && n > 1 ? 1u : n;
}

int refusals_after(struct refusals *r, uint32_t seq, unsigned n, int ret, const char *type)
{
    if (ret == DDB_OK) {
        r->seq = 0;
        r->count = 0;
        r->set_aside = 0;
        if (r->singles > 0)
            r->singles--;
        return 0;
    }
    if (ret != DDB_ERR_REJECTED || !about_the_item(type))
        return 0;
    if (n > 1) { /* which of the batch? one at a time from now */
        r->singles = (uint8_t)n;
        return 0;
    }
    if (r->seq != seq) {
        r->seq = seq;
        r->count = 0;
    }
    if (++r->count < REFUSALS_MAX || r->set_aside > 0)
        return 0;
    r->seq = 0;
    r->count = 0;
    r->set_aside++;
    if (r->singles > 0)
        r->singles--;
    return 1;
}
