/*
 * amazon_dynamodb_config.h - compiled-in defaults of the device configuration.
 *
 * The seed firmware kept its credentials here; this firmware reads them from the configuration
 * block in flash (config.h) and falls back to these values for every field the block lacks, or
 * for all of them when there is no valid block. The macro names are the seed's
 * (CONFIG_AWS_ACCESS_KEY, CONFIG_AWS_SECRET_KEY, CONFIG_AWS_DYNAMODB_TABLE, CONFIG_AWS_REGION,
 * CONFIG_AWS_HOST); the others are new. Each may be overridden on the compiler's command line
 * (-DCONFIG_AWS_REGION='"eu-west-1"').
 *
 * Do not commit real credentials: these are the documentation example keys of AWS, which no
 * account accepts. A device gets its real keys in the configuration block at provisioning.
 */
#ifndef AMAZON_DYNAMODB_CONFIG_H
#define AMAZON_DYNAMODB_CONFIG_H

#ifndef CONFIG_AWS_ACCESS_KEY
#define CONFIG_AWS_ACCESS_KEY       "AKIDEXAMPLE"
#endif
#ifndef CONFIG_AWS_SECRET_KEY
#define CONFIG_AWS_SECRET_KEY       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#endif
/* Empty: long-term keys, no X-Amz-Security-Token header. */
#ifndef CONFIG_AWS_SESSION_TOKEN
#define CONFIG_AWS_SESSION_TOKEN    ""
#endif
#ifndef CONFIG_AWS_REGION
#define CONFIG_AWS_REGION           "us-east-1"
#endif
#ifndef CONFIG_AWS_HOST
#define CONFIG_AWS_HOST             "dynamodb.us-east-1.amazonaws.com"
#endif
#ifndef CONFIG_AWS_PORT
#define CONFIG_AWS_PORT             443
#endif
#ifndef CONFIG_AWS_DYNAMODB_TABLE
#define CONFIG_AWS_DYNAMODB_TABLE   "SensorReadings"
#endif
#ifndef CONFIG_AWS_PARTITION_KEY
#define CONFIG_AWS_PARTITION_KEY    "deviceId"
#endif
#ifndef CONFIG_AWS_SORT_KEY
#define CONFIG_AWS_SORT_KEY         "seq"
#endif
#ifndef CONFIG_DEVICE_ID
#define CONFIG_DEVICE_ID            "hopper"
#endif
/* One reading every this many milliseconds. */
#ifndef CONFIG_DEVICE_PERIOD_MS
#define CONFIG_DEVICE_PERIOD_MS     10000
#endif
/* Stop after this many acknowledged readings and exit(0); 0 = run forever. */
#ifndef CONFIG_DEVICE_READINGS
#define CONFIG_DEVICE_READINGS      0
#endif
/* SNTP server: "" = the router the DHCP lease names. */
#ifndef CONFIG_NTP_SERVER
#define CONFIG_NTP_SERVER           ""
#endif
/* MAC address when the block has none (locally administered). */
#ifndef CONFIG_DEVICE_MAC
#define CONFIG_DEVICE_MAC           {0x02, 0xF9, 0x00, 0x00, 0x00, 0x01}
#endif

/* No default CA certificate and no default entropy seed: without a block providing them, the
   device cannot verify the server (TLS refuses to start without a CA) and has no strong
   randomness (tls_entropy.h: no TLS rather than TLS with predictable keys). */

#endif /* AMAZON_DYNAMODB_CONFIG_H */
