/*
 * dns_forget.c - lwIP's resolver (core/dns.c, compiled here instead of on its own) plus the one
 * call lwIP 2.1.3 lacks: forgetting a cached name before its TTL runs out. A device whose
 * connections to the cached address fail asks the DNS server again at once (the service may
 * have moved) instead of retrying a dead address until the TTL expires.
 */
#include "core/dns.c"

#include "ft900_net.h"

void net_dns_forget(const char *name)
{
    for (u8_t i = 0; i < DNS_TABLE_SIZE; i++) {
        struct dns_table_entry *e = &dns_table[i];
        if (e->state == DNS_STATE_DONE && lwip_strnicmp(name, e->name, sizeof(e->name)) == 0)
            e->state = DNS_STATE_UNUSED;
    }
}
