# tokenroll — build, test, fuzz, bench, cross, install, demo.
#
#   make                 build/libtokenroll.a, build/tokenroll (mbedTLS 2.28)
#   make MBEDTLS=3 ...   the same against mbedTLS 3.6 LTS (built once into
#                        build/mbedtls-3.6 from Debian's source package)
#   make OPENSSL=0 ...   without the OpenSSL CA signer (build/nossl): the
#                        program then signs with mbedTLS
#   make check           unit + end-to-end tests; last line "N passed, N failed"
#   make check-asan      the same under ASan + UBSan
#   make fuzz-smoke      every libFuzzer harness for FUZZ_SECONDS (30) each
#   make bench           benchmarks (figures are ratios to a same-run baseline)
#   make cross-m4        device objects for Cortex-M4: size table, largest stack
#                        frame (fails above 1024 bytes), forbidden OS symbols;
#                        the enrollment firmware image in QEMU, failing over
#                        its budget (90 KB flash, 24 KB heap, 6 KB stack)
#   make cross-aarch64   the device program (tokenroll enroll) for aarch64
#                        Linux, static, with mbedTLS 3.6 built for it
#   make demo            the whole flow on this machine
#   make deps            install missing Debian packages (run by the above)

MBEDTLS ?= 2
OPENSSL ?= 1
SAN     ?=
CC      ?= cc
PREFIX  ?= /usr/local

ifeq ($(MBEDTLS),3)
  B        := build/m3
  MB3      := build/mbedtls-3.6
  MB_CFLAGS := -I$(MB3)/include
  MB_LIBS  := $(MB3)/library/libmbedtls.a $(MB3)/library/libmbedx509.a $(MB3)/library/libmbedcrypto.a
  MB_DEP   := $(MB3)/.built
else
  B        := build
  MB_CFLAGS :=
  MB_LIBS  := -lmbedtls -lmbedx509 -lmbedcrypto
  MB_DEP   :=
endif
# Host-only signer backends (DESIGN.md): never in DEV_SRC or cross-m4.
P11_CFLAGS := $(shell pkg-config --cflags p11-kit-1 2>/dev/null || echo -I/usr/include/p11-kit-1)
HOST_SRC := lib/signer_pkcs11.c lib/pkcs11_uri.c
ifeq ($(OPENSSL),1)
  HOST_SRC += lib/signer_openssl.c
  SSL_CFLAGS := -DTKR_WITH_OPENSSL=1
  SSL_LIBS := -lcrypto
  # cli/tls_openssl.c hands the HTTPS handshake's signature to libcrypto
  # through GnuTLS's external-key API.
  TLS_LIBS := -lgnutls
else
  B := $(B)/nossl
endif
ifneq ($(SAN),)
  B := $(B)/san
  SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion
CSTD    := -std=c11
OPT     ?= -O2 -g
CFLAGS_COMMON := $(CSTD) $(WARN) $(OPT) $(SAN_FLAGS) $(MB_CFLAGS) $(SSL_CFLAGS) -Ilib/include -Ilib -Iport/posix
LIB_CFLAGS := $(CFLAGS_COMMON)
POL_CFLAGS := $(CFLAGS_COMMON)
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
APP_CFLAGS := $(CFLAGS_COMMON) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icli $(PQ_CFLAGS)
# The service (lib/) calls the policy library, which calls lib/: one group.
TKR_LIBS = -Wl,--start-group $(LIBPOL) $(LIB) $(LIBPORT) -Wl,--end-group
LDLIBS_ALL := $(MB_LIBS) $(SSL_LIBS) $(TLS_LIBS) -lyaml -lmicrohttpd -lsqlite3 -lpq -lpthread -ldl

# Device-side library objects: what cross-m4 compiles for the MCU.
DEV_SRC  := lib/error.c lib/port.c lib/b64url.c lib/utf8.c lib/json_read.c \
            lib/json_write.c lib/jwt_parse.c lib/jwt_verify.c lib/jwt_sign.c \
            lib/key.c lib/jwks.c lib/csr.c lib/json_tok.c lib/jsmn.c \
            lib/config.c lib/subject.c lib/cidr.c lib/glob.c lib/signer.c lib/token.c \
            lib/tls.c lib/http.c lib/enroll.c
LIB_SRC  := $(sort $(filter-out lib/signer_openssl.c,$(wildcard lib/*.c)) $(HOST_SRC))
POL_SRC  := $(sort $(wildcard lib/policy/*.c))
PORT_SRC := port/posix/port_posix.c port/posix/p11_posix.c
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
# mbedTLS 3.6's sources, compiled by the cross builds with their own
# configuration.
MB3_SRC  := $(sort $(wildcard build/mbedtls-3.6/library/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
POL_OBJ  := $(POL_SRC:%.c=$(B)/obj/%.o)
PORT_OBJ := $(PORT_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/obj/%.o)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

LIB      := $(B)/libtokenroll.a
LIBPOL   := $(B)/libtokenroll_policy.a
LIBPORT  := $(B)/libtokenroll_posix.a
BIN      := $(B)/tokenroll

.PHONY: all deps check check-asan unit e2e fuzz fuzz-smoke bench bench-one cross-m4 cross-aarch64 \
        demo install clean mbedtls3 warnings
.DELETE_ON_ERROR:
.SECONDARY:

all: deps-quiet $(LIB) $(LIBPOL) $(LIBPORT) $(BIN)

deps:
	@bash .ci/deps.sh
deps-quiet:
	@bash .ci/deps.sh --quiet

mbedtls3: build/mbedtls-3.6/.built
build/mbedtls-3.6/.built: | deps-quiet
	@bash .ci/mbedtls3.sh build/mbedtls-3.6

# OpenSSL 3.0 EVP only: deprecated calls do not even declare.
$(B)/obj/lib/signer_openssl.o: LIB_CFLAGS += -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
$(B)/obj/lib/signer_pkcs11.o: LIB_CFLAGS += $(P11_CFLAGS)
$(B)/obj/port/posix/p11_posix.o: APP_CFLAGS += $(P11_CFLAGS)

$(B)/obj/lib/policy/%.o: lib/policy/%.c $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(POL_CFLAGS) -MMD -MP -c $< -o $@
$(B)/obj/lib/%.o: lib/%.c $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@
$(B)/obj/port/%.o: port/%.c $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -MMD -MP -c $< -o $@
$(B)/obj/cli/%.o: cli/%.c $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -MMD -MP -c $< -o $@
$(B)/obj/tests/%.o: tests/%.c $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -Wno-conversion -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(LIBPOL): $(POL_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(LIBPORT): $(PORT_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BIN): $(CLI_OBJ) $(LIBPOL) $(LIB) $(LIBPORT)
	$(CC) $(SAN_FLAGS) -o $@ $(CLI_OBJ) $(TKR_LIBS) $(LDLIBS_ALL)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $< $(TKR_LIBS) $(LDLIBS_ALL) -lcmocka

# Tests of the service's store link the program's store objects.
STORE_OBJ := $(B)/obj/cli/store.o $(B)/obj/cli/store_sqlite.o $(B)/obj/cli/store_pg.o
$(B)/tests/test_store: $(B)/obj/tests/unit/test_store.o $(STORE_OBJ) $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $< $(STORE_OBJ) $(TKR_LIBS) $(LDLIBS_ALL) -lcmocka

# The service's signature verifier is the program's.
$(B)/tests/test_verify: $(B)/obj/tests/unit/test_verify.o $(B)/obj/cli/verify_openssl.o $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) -o $@ $< $(B)/obj/cli/verify_openssl.o $(TKR_LIBS) $(LDLIBS_ALL) -lcmocka

# The bare-metal port's flash store under other program units than its
# default 8 (test_port_baremetal includes the port's source).
BM_UNITS := 1 2 32
UNITS    += $(BM_UNITS:%=$(B)/tests/test_port_baremetal_u%)
$(B)/tests/test_port_baremetal_u%: tests/unit/test_port_baremetal.c port/baremetal/port_baremetal.c \
                                   port/baremetal/tkr_port_baremetal.h $(wildcard tests/unit/*.h) $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -Wno-conversion -DTKR_BM_FLASH_UNIT=$* -o $@ $< -lcmocka
# ... and its lwIP TCP transport, over a shim onto the host's sockets.
UNITS    += $(B)/tests/test_port_baremetal_lwip
$(B)/tests/test_port_baremetal_lwip: tests/unit/test_port_baremetal.c port/baremetal/port_baremetal.c \
                                     port/baremetal/tkr_port_baremetal.h $(wildcard tests/unit/*.h tests/unit/lwip/lwip/*.h) \
                                     $(LIB) $(MB_DEP) | deps-quiet
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -Wno-conversion -DTKR_PORT_LWIP -Itests/unit/lwip -o $@ $< $(LIB) -lcmocka

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- tests ----

check: deps-quiet all $(UNITS)
	@bash tests/run.sh $(B)

check-asan:
	@$(MAKE) --no-print-directory SAN=1 OPT="-O1 -g" check

# clang -fsyntax-only over lib/: the warning set must hold under clang too.
warnings: deps-quiet $(MB_DEP)
	@for f in $(LIB_SRC) $(POL_SRC); do \
	  clang $(CSTD) $(WARN) $(MB_CFLAGS) $(SSL_CFLAGS) $(P11_CFLAGS) -DOPENSSL_NO_DEPRECATED \
	    -Ilib/include -Ilib -fsyntax-only $$f || exit 1; \
	done; echo "lib/ is warning-free under clang"
	@for f in $(DEV_SRC); do \
	  clang $(CSTD) $(WARN) $(MB_CFLAGS) -DTKR_DIAG_TEXT=0 -DTKR_DEVICE_LEAN=1 \
	    -Ilib/include -Ilib -fsyntax-only $$f || exit 1; \
	done; echo "the device objects are warning-free under clang as cross-m4 configures them"

# ---- fuzzing (clang libFuzzer, ASan + UBSan) ----

FUZZ_SECONDS ?= 30
FZ := build/fuzz
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(FUZZ_SRC:fuzz/%.c=$(FZ)/%)

$(FZ)/%: fuzz/%.c $(LIB_SRC) $(POL_SRC) $(PORT_SRC)
	@mkdir -p $(@D)
	clang $(CSTD) $(FUZZ_FLAGS) -D_DEFAULT_SOURCE $(SSL_CFLAGS) $(P11_CFLAGS) -Ilib/include -Ilib \
	  -Iport/posix -o $@ $< $(LIB_SRC) $(POL_SRC) $(PORT_SRC) -lmbedtls -lmbedx509 -lmbedcrypto \
	  $(SSL_LIBS) -lyaml -ldl

fuzz: deps-quiet $(FUZZ_BINS)
fuzz-smoke: fuzz
	@bash fuzz/smoke.sh $(FZ) $(FUZZ_SECONDS)

# ---- benchmarks ----

BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.c))
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
$(B)/bench/%: tests/bench/%.c $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -O2 -o $@ $< $(TKR_LIBS) $(LDLIBS_ALL)

# The service under load: a libcurl load generator and the TLS floor
# responder on the service's own HTTP server.
BENCH_TOOLS := $(B)/bench/loadgen $(B)/bench/floor
$(B)/bench/loadgen: tests/bench/loadgen.c $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -O2 -o $@ $< $(TKR_LIBS) $(LDLIBS_ALL) -lcurl
FLOOR_OBJ := $(B)/obj/cli/http.o $(B)/obj/cli/tls_openssl.o $(B)/obj/cli/util.o $(B)/obj/cli/opts.o $(B)/obj/cli/out.o
$(B)/bench/floor: tests/bench/floor.c $(FLOOR_OBJ) $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -O2 -o $@ $< $(FLOOR_OBJ) $(TKR_LIBS) $(LDLIBS_ALL)

$(B)/bench/bench_enroll: tests/bench/bench_enroll.c $(B)/obj/cli/verify_openssl.o $(LIBPOL) $(LIB) $(LIBPORT)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -O2 -o $@ $< $(B)/obj/cli/verify_openssl.o $(TKR_LIBS) $(LDLIBS_ALL)

bench-one: deps-quiet $(BENCHES) $(BIN) $(BENCH_TOOLS)
	@bash tests/bench/run.sh $(B)
	@bash tests/bench/serve.sh $(B)

# Both mbedTLS versions, one after the other, so their figures sit together.
bench:
	@$(MAKE) --no-print-directory bench-one
	@$(MAKE) --no-print-directory MBEDTLS=3 bench-one

# ---- Cortex-M4 cross build of the device-side code ----

XCC := arm-none-eabi-gcc
XB  := build/m4
# TKR_DIAG_TEXT=0: the device image carries codes, not English sentences;
# TKR_DEVICE_LEAN=1: the device flow leaves to the service the token checks
# it makes anyway (both in tokenroll/config.h).
# -fno-jump-tables -fno-move-loop-invariants: 124 bytes less of tokenroll's
# share with arm-none-eabi-gcc 12 (measured in the link map; -Oz, inlining
# limits and -fno-ipa-cp gave nothing or more); -fno-expensive-optimizations
# -fno-caller-saves -fno-optimize-sibling-calls -fno-tree-tail-merge
# -fno-tree-forwprop: 268 more, -fno-if-conversion -fno-schedule-insns2 46
# more (each measured alone and together; of about seventy -fno-* tried,
# the others gave less than 15 bytes or more code).
XSIZEFLAGS := -fno-jump-tables -fno-move-loop-invariants -fno-expensive-optimizations \
          -fno-caller-saves -fno-optimize-sibling-calls -fno-tree-tail-merge -fno-tree-forwprop \
          -fno-if-conversion -fno-schedule-insns2
XFLAGS := -std=c11 $(WARN) -mcpu=cortex-m4 -mthumb -Os $(XSIZEFLAGS) \
          -ffunction-sections -fdata-sections -fstack-usage \
          -Ilib/include -Ilib -Iport/baremetal -I$(XB)/inc -Ibuild/mbedtls-3.6/include \
          -DMBEDTLS_CONFIG_FILE='"tkr_mbedtls_device.h"' -DTKR_DIAG_TEXT=0 -DTKR_DEVICE_LEAN=1
X_OBJ := $(filter-out $(XB)/lib/jsmn.o,$(DEV_SRC:%.c=$(XB)/%.o)) $(XB)/port/baremetal/port_baremetal.o
# jsmn's code (lib/jsmn.c) is third-party: compiled apart, without -flto,
# like mbedTLS, so the image counts it on a line of its own (image.sh).
X_JSMN := $(XB)/jsmn/jsmn.o
# The device objects carry link-time-optimisation code beside the machine
# code (fat): the firmware link optimises across them (about 3 KB less
# flash), while the size table, the stack frames and the symbol guard read
# the machine code. mbedTLS and the QEMU test harness stay out of it, so
# the link map still tells tokenroll's own bytes apart (port/baremetal/
# qemu/image.sh).
XLTO := -flto -ffat-lto-objects

$(XB)/inc/jsmn.h:
	@mkdir -p $(@D)
	ln -sf /usr/include/jsmn.h $@
# Makefile as a prerequisite: a change of XFLAGS rebuilds the objects and
# their .su files.
# gcc writes no .su for an LTO object: a plain compile first leaves the
# frames of the same machine code, then the fat object replaces it.
$(XB)/%.o: %.c Makefile build/mbedtls-3.6/.built $(XB)/inc/jsmn.h
	@mkdir -p $(@D)
	$(if $(XLTO),$(XCC) $(XFLAGS) -c $< -o $@ &&) $(XCC) $(XFLAGS) $(XLTO) -MMD -MP -c $< -o $@

-include $(shell find $(XB) -name '*.d' 2>/dev/null)

# One complete enrollment firmware image for QEMU's mps2-an386: the device
# objects, port/baremetal over a QEMU board (semihosting console and clock,
# RAM-backed NOR flash), and mbedTLS 3.6 compiled with the device
# configuration; --gc-sections keeps what the flow reaches. cross-m4 prints
# its size (tokenroll's own share from the link map), runs the offline
# flow in QEMU and fails when the image is over its budget (image.sh).
XQ   := port/baremetal/qemu
X_MB_OBJ := $(MB3_SRC:build/mbedtls-3.6/library/%.c=$(XB)/mbedtls/%.o)
X_FW_OBJ := $(XB)/$(XQ)/fw_main.o $(XB)/$(XQ)/board_qemu.o $(XB)/$(XQ)/vectors.o
X_FW := $(XB)/enroll-fw.elf
# The same image plus the online mode (a startup kit loaded by QEMU selects
# it) and the UART transport, for tests/e2e/test_enroll_m4.sh; apart, so
# the test harness stays out of the budgeted image.
X_ON_OBJ := $(XB)/$(XQ)/fw_online.o $(XB)/$(XQ)/uart_stream.o
X_FW_ON := $(XB)/enroll-fw-online.elf
$(XB)/$(XQ)/%.o: XLTO :=
$(X_JSMN): lib/jsmn.c lib/jsmn_cfg.h Makefile $(XB)/inc/jsmn.h
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -c $< -o $@
$(XB)/mbedtls/%.o: build/mbedtls-3.6/library/%.c port/baremetal/tkr_mbedtls_device.h build/mbedtls-3.6/.built
	@mkdir -p $(@D)
	@$(XCC) -std=c11 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections \
	  -Ibuild/mbedtls-3.6/include -Ibuild/mbedtls-3.6/library -Iport/baremetal \
	  -DMBEDTLS_CONFIG_FILE='"tkr_mbedtls_device.h"' -c $< -o $@
$(XB)/$(XQ)/vectors.o: $(XQ)/vectors.S $(wildcard tests/vectors/device/*)
	@mkdir -p $(@D)
	$(XCC) -mcpu=cortex-m4 -mthumb -c $< -o $@
X_LINK = $(XCC) -mcpu=cortex-m4 -mthumb -Os $(XLTO) -ffunction-sections -fdata-sections -nostartfiles --specs=nano.specs -T $(XQ)/mps2_an386.ld \
	  -Wl,--gc-sections -Wl,-Map=$(@:.elf=.map) -o $@
$(X_FW): $(X_OBJ) $(X_JSMN) $(X_FW_OBJ) $(X_MB_OBJ) $(XQ)/mps2_an386.ld
	$(X_LINK) $(X_OBJ) $(X_JSMN) $(X_FW_OBJ) $(X_MB_OBJ)
$(X_FW_ON): $(X_OBJ) $(X_JSMN) $(X_FW_OBJ) $(X_ON_OBJ) $(X_MB_OBJ) $(XQ)/mps2_an386.ld
	$(X_LINK) $(X_OBJ) $(X_JSMN) $(X_FW_OBJ) $(X_ON_OBJ) $(X_MB_OBJ)

# The mbedTLS source list is read when make starts: a sub-make sees the
# tree once build/mbedtls-3.6 exists (a fresh clone builds it first).
cross-m4: deps-quiet build/mbedtls-3.6/.built
	@$(MAKE) --no-print-directory $(X_OBJ) $(X_FW)
	@bash port/baremetal/size_table.sh $(X_OBJ)
	@bash $(XQ)/image.sh $(X_FW) $(XB)/enroll-fw.map

# The online image alone, for tests/e2e/test_enroll_m4.sh.
.PHONY: cross-m4-online
cross-m4-online: deps-quiet build/mbedtls-3.6/.built
	@$(MAKE) --no-print-directory $(X_FW_ON)

# ---- aarch64 Linux device program (static, under qemu-aarch64 in tests) ----
#
# mbedTLS 3.6 (its default configuration) compiled from the shared source
# tree into $(AB)/mbedtls, the device-side library objects (DEV_SRC, as
# cross-m4), the POSIX port and the enroll command: no policy library,
# service, signer backends, libyaml, libmicrohttpd or database.

AXCC := aarch64-linux-gnu-gcc
AB   := build/aarch64
A_MB_OBJ := $(MB3_SRC:build/mbedtls-3.6/library/%.c=$(AB)/mbedtls/%.o)
A_SRC    := $(DEV_SRC) lib/port_log.c port/posix/port_posix.c \
            cli/cmd_enroll.c cli/util.c cli/opts.c cli/out.c cli/device/main.c
A_OBJ    := $(A_SRC:%.c=$(AB)/obj/%.o)
A_FLAGS  := -std=c11 $(WARN) -O2 -Ibuild/mbedtls-3.6/include -Ilib/include -Ilib -Iport/posix \
            -Icli -I$(AB)/inc -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L

$(AB)/inc/jsmn.h:
	@mkdir -p $(@D)
	ln -sf /usr/include/jsmn.h $@
$(AB)/mbedtls/%.o: build/mbedtls-3.6/library/%.c build/mbedtls-3.6/.built
	@mkdir -p $(@D)
	@$(AXCC) -O2 -Ibuild/mbedtls-3.6/include -Ibuild/mbedtls-3.6/library -c $< -o $@
$(AB)/obj/%.o: %.c Makefile build/mbedtls-3.6/.built $(AB)/inc/jsmn.h
	@mkdir -p $(@D)
	$(AXCC) $(A_FLAGS) -MMD -MP -c $< -o $@
$(AB)/tokenroll-device: $(A_OBJ) $(A_MB_OBJ)
	$(AXCC) -static -o $@ $(A_OBJ) $(A_MB_OBJ) -lpthread

-include $(shell find $(AB)/obj -name '*.d' 2>/dev/null)

cross-aarch64: deps-quiet build/mbedtls-3.6/.built
	@$(MAKE) --no-print-directory $(AB)/tokenroll-device
	@file $(AB)/tokenroll-device | sed 's/, BuildID.*//'
	@ls -l $(AB)/tokenroll-device | awk '{print "size:", $$5, "bytes"}'

# ---- demo, install ----

demo: deps-quiet all
	@bash tests/demo.sh $(B)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/tokenroll
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tokenroll
	install -m 0644 $(LIB) $(LIBPOL) $(LIBPORT) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 lib/include/tokenroll/*.h port/posix/tkr_port_posix.h port/posix/tkr_p11_posix.h \
	  $(DESTDIR)$(PREFIX)/include/tokenroll/

clean:
	rm -rf build/obj build/tests build/bench build/san build/m3 build/m4 build/fuzz build/nossl \
	  build/libtokenroll*.a build/tokenroll
