# sluice - build, test, demo, bench.
# `make` builds bin/sluice; `make check` installs what it needs, starts
# throwaway servers and runs every test; `make demo` loads samples/.

CC ?= cc
MAKEFLAGS += --no-print-directory
PKGS := libpq libmariadb zlib yajl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude $(PKG_CFLAGS) -pthread -MMD -MP
override LDLIBS += $(PKG_LIBS) -lcsv -pthread

BUILD ?= build
BIN ?= bin/sluice
SRC := $(wildcard src/*/*.c)
LIB_SRC := $(filter-out src/cli/main.c,$(SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/cli/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps unit check integration demo bench asan fuzz fuzz-build format clean servers-start servers-stop

all: $(BIN)

$(BIN): $(MAIN_OBJ) $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libsluice.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LDLIBS) $(CHECK_LIBS)

# Install build and server packages when missing (needs root or sudo).
deps:
	scripts/install-deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_FORK=yes $$t; done

integration: $(BIN)
	SLUICE=$(CURDIR)/$(BIN) tests/integration/run.sh

# Everything, on a fresh machine: packages, build, unit tests, then the
# integration tests against throwaway servers started and stopped here.
check: deps
	$(MAKE) all unit
	$(MAKE) integration

# The main job on built-in defaults: load samples/ into a throwaway server.
demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: deps
	$(MAKE) all
	bench/run.sh

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# built apart in build-asan/ (the binary is build-asan/sluice).
ASAN_FLAGS := BUILD=build-asan BIN=build-asan/sluice \
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
asan: deps
	$(MAKE) $(ASAN_FLAGS) all unit
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} $(MAKE) $(ASAN_FLAGS) integration

# Fuzz the CSV and JSON readers with libFuzzer, FUZZ_SECONDS each; built with
# clang apart in build/fuzz/ (install-deps.sh --fuzz adds clang and its
# runtime). A crash, leak or broken invariant fails the target and leaves the
# input in tests/fuzz/crashes/; new corpus entries stay in build/fuzz/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 120
FUZZ_BUILD := build/fuzz
FUZZ_TARGETS := csv json
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude $(PKG_CFLAGS) -pthread
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
.SECONDARY: $(FUZZ_OBJ)

fuzz: deps
	scripts/install-deps.sh --fuzz
	$(MAKE) fuzz-build
	@mkdir -p tests/fuzz/crashes
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus_$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_BUILD)/fuzz_$$t -max_len=65536 -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
			-rss_limit_mb=4096 -len_control=10 -print_final_stats=1 -dict=tests/fuzz/$$t.dict \
			-artifact_prefix=tests/fuzz/crashes/$$t- \
			$(FUZZ_BUILD)/corpus_$$t tests/fuzz/corpus_$$t; \
	done

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

servers-start:
	scripts/servers.sh start
servers-stop:
	scripts/servers.sh stop

format:
	clang-format -i $(SRC) $(wildcard include/sluice/*.h) $(UNIT_SRC)

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
