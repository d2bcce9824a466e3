# net/module.mk - the firmware's network stack: lwIP 2.1.3 (compiled from LWIP_DIR, never
# copied into the repository) configured by net/lwipopts.h, our port (net/arch/cc.h, net.c)
# and netif driver (ft900_netif.c), and the firmware test tests/net_dhcp.c.
#
#   $(BUILD)/liblwip.a      the lwIP modules we use: core, core/ipv4, netif/ethernet.c,
#                           apps/sntp
#   $(BUILD)/libft900net.a  net.c (sys_now, LWIP_RAND, SNTP -> RTC, net_init/net_poll) and
#                           ft900_netif.c; it and liblwip.a refer to each other: link both in
#                           one group (NET_LIBS)
#   make net_dhcp           that ELF alone, and its size line
#
# LWIP_DIR comes from the environment (or the command line); by default it is
# $(REPO)/.cache/third_party/lwip, which firmware/third_party/fetch.sh fills (run here when it
# is missing).
.DEFAULT_GOAL := all

NET_DIR := $(ROOT)/net
LWIP_DEFAULT_DIR := $(REPO)/.cache/third_party/lwip
LWIP_DIR ?= $(LWIP_DEFAULT_DIR)
override LWIP_DIR := $(abspath $(LWIP_DIR))
LWIP_PROBE := $(LWIP_DIR)/src/core/tcp.c

# Fetch lwIP when it is missing (only for goals that build something).
ifneq ($(NEEDS_TOOLCHAIN),)
  ifeq ($(wildcard $(LWIP_PROBE)),)
    ifeq ($(LWIP_DIR),$(abspath $(LWIP_DEFAULT_DIR)))
      $(info net: lwIP is not in $(LWIP_DIR): running firmware/third_party/fetch.sh)
      NET_FETCH := $(shell $(ROOT)/third_party/fetch.sh >&2 && echo ok)
    endif
    ifeq ($(wildcard $(LWIP_PROBE)),)
      $(error lwIP 2.1.3 not found ($(LWIP_PROBE) is missing). Fetch it with `$(ROOT)/third_party/fetch.sh` (it prints LWIP_DIR=...), or set LWIP_DIR to an lwIP 2.1.3 source tree)
    endif
  endif
endif

# Compiling against lwIP: our configuration and port first, then its headers; a fixed name for
# its location in the debug information (reproducible wherever LWIP_DIR is). NET_DEFS adds
# definitions for a debugging build, e.g. `make NET_DEFS=-DNET_LWIP_ASSERTS BUILD=/tmp/fw`
# (lwIP's assertions, see arch/cc.h; use another BUILD: the objects do not depend on it).
NET_DEFS ?=
NET_CPPFLAGS := -I$(NET_DIR) -I$(LWIP_DIR)/src/include -ffile-prefix-map=$(LWIP_DIR)=lwip \
                $(NET_DEFS)

# The lwIP modules (lwipopts.h says which features are on). sys.c, raw.c, altcp*.c, autoip.c,
# igmp.c, ip4_frag.c, the IPv6 and API directories: not needed with this configuration.
# core/dns.c is compiled through net/dns_forget.c (it adds net_dns_forget()).
LWIP_SRC := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c \
            core/memp.c core/netif.c core/pbuf.c core/stats.c core/tcp.c core/tcp_in.c \
            core/tcp_out.c core/timeouts.c core/udp.c \
            core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
            core/ipv4/ip4_addr.c \
            netif/ethernet.c \
            apps/sntp/sntp.c
LWIP_OBJ := $(LWIP_SRC:%.c=$(BUILD)/obj/lwip/%.o)
LWIP_LIB := $(BUILD)/liblwip.a

# Our port and driver, built with the project's warnings as errors like lwIP itself.
NET_SRC := net.c ft900_netif.c dns_forget.c
NET_OBJ := $(NET_SRC:%.c=$(BUILD)/obj/net/%.o)
NET_LIB := $(BUILD)/libft900net.a
NET_DEPS := $(NET_DIR)/lwipopts.h $(NET_DIR)/arch/cc.h $(NET_DIR)/module.mk $(ROOT)/Makefile

# What an ELF that uses the stack links (the HAL comes after, from the main Makefile).
NET_LIBS := -Wl,--start-group -lft900net -llwip -Wl,--end-group

$(BUILD)/obj/lwip/%.o: $(LWIP_DIR)/src/%.c $(NET_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NET_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/net/dns_forget.o: CPPFLAGS += -I$(LWIP_DIR)/src

$(BUILD)/obj/net/%.o: $(NET_DIR)/%.c $(NET_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NET_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Deterministic archives: no timestamps, uids or modes.
$(LWIP_LIB): $(LWIP_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcsD $@ $^

$(NET_LIB): $(NET_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcsD $@ $^

# ---- firmware tests ------------------------------------------------------------------------

# net_dhcp: DHCP lease, DNS, SNTP (RTC set), TCP echo through the user-mode gateway
# (ft900-sim/tests/net.rs).
TESTS += net_dhcp
$(BUILD)/obj/tests/net_dhcp.o: CPPFLAGS += $(NET_CPPFLAGS)
$(BUILD)/obj/tests/net_dhcp.o: $(NET_DEPS)
$(BUILD)/net_dhcp.elf: EXTRA_LIBS := $(NET_LIBS)
$(BUILD)/net_dhcp.elf: $(NET_LIB) $(LWIP_LIB)

.PHONY: net_dhcp
net_dhcp: $(BUILD)/net_dhcp.elf
	@$(NM) $< | awk -v name=net_dhcp.elf -f $(ROOT)/tools/size-report.awk

-include $(LWIP_OBJ:.o=.d) $(NET_OBJ:.o=.d)
