# firmware/aws: the AWS Signature Version 4 signer (sigv4.c) and its SHA-256/HMAC (sha256.c).
#
#   make                  also builds build/libaws.a and the firmware test sigv4_vectors.elf
#   make sigv4_vectors    that ELF only, and its size line
#   make host-test        builds the host test program build/host/sigv4_test with the host
#                         compiler ($(HOST_CC)), from the same signer sources
#   make host-check       builds it and runs it on $(SIGV4_VECTORS) and $(SIGV4_EXTRA)
#
# Included by firmware/Makefile before its own rules: `all` stays the default goal.
.DEFAULT_GOAL := all

AWS_DIR       := $(ROOT)/aws
AWS_SRC       := sha256.c sigv4.c http.c dynamodb.c holdoff.c
AWS_TEST_SRC  := sigv4_req.c sigv4_selftest.c
AWS_OBJ       := $(AWS_SRC:%.c=$(BUILD)/obj/aws/%.o)
AWS_TEST_OBJ  := $(AWS_TEST_SRC:%.c=$(BUILD)/obj/aws/tests/%.o)
AWS_LIB       := $(BUILD)/libaws.a
AWS_CPPFLAGS  := -I$(AWS_DIR) -I$(AWS_DIR)/tests

TESTS += sigv4_vectors

$(BUILD)/obj/aws/%.o: $(AWS_DIR)/%.c $(ROOT)/Makefile $(AWS_DIR)/module.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(AWS_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/aws/tests/%.o: $(AWS_DIR)/tests/%.c $(ROOT)/Makefile $(AWS_DIR)/module.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(AWS_CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(AWS_LIB): $(AWS_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcsD $@ $^

$(BUILD)/obj/tests/sigv4_vectors.o: CPPFLAGS += $(AWS_CPPFLAGS)
$(BUILD)/sigv4_vectors.elf: EXTRA_OBJS := $(AWS_TEST_OBJ)
$(BUILD)/sigv4_vectors.elf: EXTRA_LIBS := $(AWS_LIB)
$(BUILD)/sigv4_vectors.elf: $(AWS_TEST_OBJ) $(AWS_LIB)

# `make sigv4_vectors`: that ELF alone (whatever else the other fragments build), with its size
# line printed even when it is up to date.
.PHONY: sigv4_vectors
sigv4_vectors: $(BUILD)/sigv4_vectors.elf
	@$(NM) $< | awk -v name=sigv4_vectors.elf -f $(ROOT)/tools/size-report.awk

# ---- host test program --------------------------------------------------------------------
# -fsanitize=address,undefined when $(HOST_CC) can build and link with it (probed when the
# program is built, not at every make run).
AWS_HOST_SRC    := $(AWS_SRC:%=$(AWS_DIR)/%) $(AWS_TEST_SRC:%=$(AWS_DIR)/tests/%) \
                   $(AWS_DIR)/tests/sigv4_test.c
AWS_HOST_HDR    := $(wildcard $(AWS_DIR)/*.h $(AWS_DIR)/tests/*.h)
AWS_HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror
AWS_HOST_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SIGV4_VECTORS   ?= $(abspath $(REPO)/../shared/testdata/sigv4)
# Suite cases the shared directory lacks (get-header-value-multiline: folded header lines).
SIGV4_EXTRA     := $(AWS_DIR)/tests/vectors

.PHONY: host-test host-check
host-test: $(BUILD)/host/sigv4_test

$(BUILD)/host/sigv4_test: $(AWS_HOST_SRC) $(AWS_HOST_HDR) $(AWS_DIR)/module.mk
	@mkdir -p $(@D)
	@if echo 'int main(void){return 0;}' | \
	    $(HOST_CC) -x c $(AWS_HOST_SAN) -o $(@D)/.sanitizer-probe - >/dev/null 2>&1; then \
	    san='$(AWS_HOST_SAN)'; else san=; echo "note: $(HOST_CC) cannot use sanitizers"; fi; \
	rm -f $(@D)/.sanitizer-probe; \
	echo "$(HOST_CC) $(AWS_HOST_CFLAGS) $$san -o $@ ..."; \
	$(HOST_CC) $(AWS_HOST_CFLAGS) $$san -I$(AWS_DIR) -I$(AWS_DIR)/tests -o $@ $(AWS_HOST_SRC)

host-check: $(BUILD)/host/sigv4_test
	$(BUILD)/host/sigv4_test $(SIGV4_VECTORS) $(SIGV4_EXTRA)

-include $(AWS_OBJ:.o=.d) $(AWS_TEST_OBJ:.o=.d)
