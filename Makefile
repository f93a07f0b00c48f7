# sluice - build, test, demo, bench.
# `make` builds bin/sluice; `make check` installs what it needs, starts
# throwaway servers and runs every test; `make demo` loads samples/.

CC ?= cc
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

.PHONY: all deps unit check integration demo bench asan format clean servers-start servers-stop

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
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) $(ASAN_FLAGS) integration

servers-start:
	scripts/servers.sh start
servers-stop:
	scripts/servers.sh stop

format:
	clang-format -i $(SRC) $(wildcard include/sluice/*.h) $(UNIT_SRC)

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
