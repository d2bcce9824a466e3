# tls/module.mk - the TLS client of the firmware: mbedTLS 2.28 (compiled from MBEDTLS_DIR, never
# copied into the repository) configured by tls/mbedtls_config.h, our glue (heap, time, entropy,
# the client API) and the firmware tests tests/tls_*.c.
#
#   $(BUILD)/libmbedtls.a   the mbedTLS objects the client needs (crypto + X.509 + TLS client)
#   $(BUILD)/obj/tls/*.o    tls_platform.o, entropy.o, tls_client.o, tls_session.o (linked as objects: they and
#                           libmbedtls.a refer to each other; --gc-sections drops what is unused)
#
# MBEDTLS_DIR comes from the environment (or the command line); by default it is
# $(REPO)/.cache/third_party/mbedtls, which firmware/third_party/fetch.sh fills (run here when
# it is missing).

TLS_DIR := $(ROOT)/tls
MBEDTLS_DEFAULT_DIR := $(REPO)/.cache/third_party/mbedtls
MBEDTLS_DIR ?= $(MBEDTLS_DEFAULT_DIR)
override MBEDTLS_DIR := $(abspath $(MBEDTLS_DIR))
MBEDTLS_PROBE := $(MBEDTLS_DIR)/library/ssl_tls.c

# Fetch mbedTLS when it is missing (only for goals that build something).
ifneq ($(NEEDS_TOOLCHAIN),)
  ifeq ($(wildcard $(MBEDTLS_PROBE)),)
    ifeq ($(MBEDTLS_DIR),$(abspath $(MBEDTLS_DEFAULT_DIR)))
      $(info tls: mbedTLS is not in $(MBEDTLS_DIR): running firmware/third_party/fetch.sh)
      TLS_FETCH := $(shell $(ROOT)/third_party/fetch.sh >&2 && echo ok)
    endif
    ifeq ($(wildcard $(MBEDTLS_PROBE)),)
      $(error mbedTLS 2.28 not found ($(MBEDTLS_PROBE) is missing). Fetch it with `$(ROOT)/third_party/fetch.sh` (it prints MBEDTLS_DIR=...), or set MBEDTLS_DIR to an mbedTLS 2.28 source tree)
    endif
  endif
endif

# Compiling against mbedTLS: its headers, our configuration, and a fixed name for its location
# in the debug information (reproducible wherever MBEDTLS_DIR is).
TLS_CPPFLAGS := -I$(TLS_DIR) -I$(MBEDTLS_DIR)/include '-DMBEDTLS_CONFIG_FILE="mbedtls_config.h"' \
                -ffile-prefix-map=$(MBEDTLS_DIR)=mbedtls

# The library modules the client needs (mbedtls_config.h says why each feature is on).
MBEDTLS_SRC := aes asn1parse asn1write base64 bignum cipher cipher_wrap constant_time ctr_drbg \
               ecdh ecdsa ecp ecp_curves entropy entropy_poll gcm hmac_drbg md \
               memory_buffer_alloc pem pk pk_wrap pkparse platform platform_util rsa \
               rsa_internal sha256 ssl_ciphersuites ssl_cli ssl_msg ssl_tls x509 x509_crt
# library/oid.c is replaced by tls/oid_pm.c (the five look-ups the firmware links, tables in
# program memory: 2,621 bytes of RAM less), which goes into the library in its place.
MBEDTLS_OBJ := $(MBEDTLS_SRC:%=$(BUILD)/obj/mbedtls/%.o) $(BUILD)/obj/tls/oid_pm.o
MBEDTLS_LIB := $(BUILD)/libmbedtls.a

# Our glue, built with the project's warnings as errors.
TLS_SRC := tls_platform.c entropy.c tls_client.c tls_session.c
TLS_OBJ := $(TLS_SRC:%.c=$(BUILD)/obj/tls/%.o)
TLS_DEPS := $(TLS_DIR)/mbedtls_config.h $(TLS_DIR)/module.mk $(ROOT)/Makefile

# On top of $(CFLAGS), for mbedTLS only: GCC turns a path that would dereference NULL into a
# trap, which FT32 implements as a call to abort(), and newlib's abort needs signals and malloc.
# mbedTLS has such paths that cannot happen (x509_profile_check_key: mbedtls_pk_ec() of a key
# checked to be EC), so keep them as plain code.
MBEDTLS_CFLAGS := -fno-isolate-erroneous-paths-dereference

$(BUILD)/obj/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c $(TLS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TLS_CPPFLAGS) $(CFLAGS) $(MBEDTLS_CFLAGS) $(THIRD_PARTY_OPT) -MMD -MP -c $< -o $@

# Constant tables of mbedTLS kept in program memory only (tools/pm-tables.awk says how and why):
# the modules below are compiled from a copy made at build time in which the named tables are
# `__flash__`. RAM saved: AES 2,600 bytes (forward and reverse tables and S-boxes, round
# constants), SHA-256 256 (K), GCM 128 (last4); each lookup costs what a RAM load costs (lpm).
MBEDTLS_PM_TABLES_aes := FSb FT0 RSb RT0 RCON
MBEDTLS_PM_TABLES_sha256 := K
MBEDTLS_PM_TABLES_gcm := last4
MBEDTLS_PM_SRC := aes sha256 gcm
MBEDTLS_PM_OBJ := $(MBEDTLS_PM_SRC:%=$(BUILD)/obj/mbedtls/%.o)

$(BUILD)/gen/mbedtls/%.c: $(MBEDTLS_DIR)/library/%.c $(TLS_DIR)/tools/pm-tables.awk $(TLS_DIR)/module.mk
	@mkdir -p $(@D)
	awk -v tables="$(MBEDTLS_PM_TABLES_$*)" -v source=mbedtls/library/$*.c \
	    -f $(TLS_DIR)/tools/pm-tables.awk $< > $@.tmp
	mv $@.tmp $@

$(MBEDTLS_PM_OBJ): $(BUILD)/obj/mbedtls/%.o: $(BUILD)/gen/mbedtls/%.c $(TLS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TLS_CPPFLAGS) -iquote $(MBEDTLS_DIR)/library $(CFLAGS) $(MBEDTLS_CFLAGS) \
	    $(THIRD_PARTY_OPT) -MMD -MP -c $< -o $@

$(BUILD)/obj/tls/%.o: $(TLS_DIR)/%.c $(TLS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TLS_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(MBEDTLS_LIB): $(MBEDTLS_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcsD $@ $^

# ---- firmware tests ------------------------------------------------------------------------

# tls_selftest: mbedTLS self tests, X.509 checks, entropy, and the costs of the primitives.
TESTS += tls_selftest
$(BUILD)/obj/tests/tls_selftest.o: CPPFLAGS += $(TLS_CPPFLAGS)
$(BUILD)/obj/tests/tls_selftest.o: $(TLS_DEPS)
$(BUILD)/tls_selftest.elf: EXTRA_OBJS := $(TLS_OBJ)
$(BUILD)/tls_selftest.elf: EXTRA_LIBS := -lmbedtls
$(BUILD)/tls_selftest.elf: $(TLS_OBJ) $(MBEDTLS_LIB)

-include $(MBEDTLS_OBJ:.o=.d) $(TLS_OBJ:.o=.d)

# tls_handshake + tls_peer_server: full handshakes between two simulated FT900s (the device's
# client on one, a test server on the other; ft900-sim/tests/tls.rs moves the bytes between
# their RAM mailboxes). The server needs MBEDTLS_SSL_SRV_C and other record buffer sizes
# (mbedtls_config.h, TLS_WITH_SERVER), which change the SSL structures: its SSL modules are
# compiled a second time, and libmbedtls_srv.a is the crypto/X.509 objects plus those.
MBEDTLS_SSL_SRC := ssl_ciphersuites ssl_cli ssl_msg ssl_tls
MBEDTLS_CRYPTO_OBJ := $(filter-out $(MBEDTLS_SSL_SRC:%=$(BUILD)/obj/mbedtls/%.o),$(MBEDTLS_OBJ))
MBEDTLS_SRV_OBJ := $(addprefix $(BUILD)/obj/mbedtls_srv/,$(addsuffix .o,$(MBEDTLS_SSL_SRC) ssl_srv))
MBEDTLS_SRV_LIB := $(BUILD)/libmbedtls_srv.a
TLS_PLATFORM_OBJ := $(BUILD)/obj/tls/tls_platform.o $(BUILD)/obj/tls/entropy.o

$(BUILD)/obj/mbedtls_srv/%.o: $(MBEDTLS_DIR)/library/%.c $(TLS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TLS_CPPFLAGS) -DTLS_WITH_SERVER $(CFLAGS) $(MBEDTLS_CFLAGS) \
	    -MMD -MP -c $< -o $@

$(MBEDTLS_SRV_LIB): $(MBEDTLS_CRYPTO_OBJ) $(MBEDTLS_SRV_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcsD $@ $^

TESTS += tls_handshake tls_peer_server
$(BUILD)/obj/tests/tls_handshake.o: CPPFLAGS += $(TLS_CPPFLAGS)
$(BUILD)/obj/tests/tls_handshake.o: $(TLS_DEPS)
$(BUILD)/tls_handshake.elf: EXTRA_OBJS := $(TLS_OBJ)
$(BUILD)/tls_handshake.elf: EXTRA_LIBS := -lmbedtls
$(BUILD)/tls_handshake.elf: $(TLS_OBJ) $(MBEDTLS_LIB)

$(BUILD)/obj/tests/tls_peer_server.o: CPPFLAGS += $(TLS_CPPFLAGS) -DTLS_WITH_SERVER
$(BUILD)/obj/tests/tls_peer_server.o: $(TLS_DEPS)
$(BUILD)/tls_peer_server.elf: EXTRA_OBJS := $(TLS_PLATFORM_OBJ)
$(BUILD)/tls_peer_server.elf: EXTRA_LIBS := -lmbedtls_srv
$(BUILD)/tls_peer_server.elf: $(TLS_PLATFORM_OBJ) $(MBEDTLS_SRV_LIB)

-include $(MBEDTLS_SRV_OBJ:.o=.d)
