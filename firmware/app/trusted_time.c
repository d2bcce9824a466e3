/*
 * trusted_time.c - the time from the server's Date when SNTP gave none. See trusted_time.h.
 */
#include "trusted_time.h"

#include "conn.h"
#include "ft900_uart.h"
#include "tls_platform.h"

void trusted_time_after_upload(struct ddb_client *ddb)
{
    if (tls_time_known() || ddb->server_date == 0)
        return;
    char ts[21];
    ddb_iso8601(ddb->server_date, ts);
    /* The RTC now runs on the server's time: the skew correction is folded into it. */
    tls_time_set(ddb->server_date);
    ddb->clock_offset = 0;
    uart_printf(UART0, "time: %u %s from the server's Date (no SNTP): certificate dates are checked "
              "from now on\n", (unsigned)ddb->server_date, ts);
    if (conn_validity_unchecked()) {
        conn_close();
        uart_printf(UART0, "tls: session closed: its certificate dates were not checked\n");
    }
}
