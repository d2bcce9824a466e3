/*
 * trusted_time.h - when certificate dates start being checked.
 *
 * The TLS client checks the server certificate's validity dates only once the time is known
 * (tls_time_known(); tls_client.h): SNTP at boot sets it. When SNTP fails, the first
 * connection is made with the chain, the host name and the signatures verified but not the
 * dates (the device cannot tell a wrong clock from an expired certificate). The first DynamoDB
 * response then carries the server's Date, from a server whose chain was otherwise verified:
 * that sets the clock (RTC and TLS time), the dates are checked from then on, and the
 * connection opened without them is closed, so that the next request comes with a handshake
 * that checks them (an expired or not-yet-valid certificate is then refused and reported, and
 * uploads are held). A session set up without the dates is never resumed (tls_session.h).
 */
#ifndef APP_TRUSTED_TIME_H
#define APP_TRUSTED_TIME_H

#include "dynamodb.h"

/* After an upload: if the time is not known yet and the server sent its Date, take it. */
void trusted_time_after_upload(struct ddb_client *ddb);

#endif /* APP_TRUSTED_TIME_H */
