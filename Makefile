# sluice - build, test, demo, bench, install, package.
# `make` builds bin/sluice; `make check` installs what it needs, starts
# throwaway servers and runs every test; `make demo` loads samples/;
# `make install` (PREFIX, DESTDIR) and `make deb` install and package it.

CC ?= cc
MAKEFLAGS += --no-print-directory
PKGS := libpq libmariadb zlib yajl sqlite3 inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS ?= -O2 -g
# -Wvla: no array sized by the input on the stack (a wide row would overflow it)
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wvla -Iinclude $(PKG_CFLAGS) -pthread -MMD -MP
override LDLIBS += $(PKG_LIBS) -lcsv -lm -pthread
# WERROR=1 turns warnings into errors (make check, CI); a plain `make` does not
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif

BUILD ?= build
BIN ?= bin/sluice

# Test hooks: a test build (HOOKS=1: -DSLUICE_TEST_HOOKS) reads
# SLUICE_FAULT_LOSE_COMMIT (a MySQL COMMIT's reply is lost) and SLUICE_BISECT
# (refused batches are bisected, as before write_each, for make bench); the
# binary `make` builds, installs and packages reads neither. The integration
# tests run a test build: TEST_BIN, built apart in build-test/, or $(BIN)
# itself when HOOKS=1 (the sanitizer builds).
ifeq ($(HOOKS),1)
override CFLAGS += -DSLUICE_TEST_HOOKS
TEST_BIN := $(BIN)
else
TEST_BUILD ?= build-test
TEST_BIN := $(TEST_BUILD)/sluice
endif
SRC := $(wildcard src/*/*.c)
LIB_SRC := $(filter-out src/cli/main.c,$(SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/cli/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# what `make format` formats and `make format-check` checks
FORMAT_SRC = $(SRC) $(wildcard include/sluice/*.h) $(UNIT_SRC) bench/gen.c bench/measure.c \
	$(wildcard tests/fuzz/*.c tests/fuzz/*.h tests/tools/*.c)

.PHONY: all deps unit check integration demo bench soak asan tsan fuzz fuzz-build format format-check \
	install uninstall deb clean servers-start servers-stop FORCE

all: $(BIN)

$(BIN): $(MAIN_OBJ) $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(BUILD)/libsluice.a $(LDLIBS)

$(BUILD)/libsluice.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# Everything built depends on the flags it was built with, so a change of
# flags (WERROR=1, CFLAGS on the command line, Debian's hardening flags)
# rebuilds it; the file changes only when the flags do (as git's GIT-CFLAGS).
BUILD_FLAGS = $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
$(BUILD)/.flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(subst ','\'',$(BUILD_FLAGS))' | cmp -s - $@ || \
		echo '$(subst ','\'',$(BUILD_FLAGS))' >$@

FORCE:

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsluice.a \
		$(LDLIBS) $(CHECK_LIBS)

# Install build and server packages when missing (needs root or sudo).
deps:
	scripts/install-deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_FORK=yes $$t; done

# the TCP proxy the fault tests break connections with
$(BUILD)/tests/faultproxy: tests/tools/faultproxy.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# TESTS="tests/integration/t_x.sh ..." runs only those
ifneq ($(HOOKS),1)
$(TEST_BIN): FORCE
	$(MAKE) -j$$(nproc) HOOKS=1 BUILD=$(TEST_BUILD) BIN=$(TEST_BIN) $(TEST_BIN)
endif

integration: $(TEST_BIN) $(BUILD)/tests/faultproxy
	SLUICE=$(CURDIR)/$(TEST_BIN) FAULTPROXY=$(CURDIR)/$(BUILD)/tests/faultproxy \
		tests/integration/run.sh $(TESTS)

# Everything, on a fresh machine: packages, the format check, a build with
# -Werror, unit tests, then the integration tests against throwaway servers
# started and stopped here. The test build compiles beside the unit tests.
check: deps
	$(MAKE) format-check
	$(MAKE) -j$$(nproc) WERROR=1 all unit $(TEST_BIN) $(BUILD)/tests/faultproxy
	$(MAKE) WERROR=1 integration

# The main job on built-in defaults: load samples/ into a throwaway server.
demo: deps
	$(MAKE) all
	scripts/demo.sh

# SOAK_RUNS (20) loads, each with a random fault struck mid-run, each checked
soak: deps
	$(MAKE) all $(BUILD)/tests/faultproxy
	SLUICE=$(CURDIR)/$(BIN) FAULTPROXY=$(CURDIR)/$(BUILD)/tests/faultproxy scripts/soak.sh

# the bisection it compares with needs a test build (SLUICE_BISECT)
bench: deps
	$(MAKE) all $(TEST_BIN)
	SLUICE_TEST_BIN=$(CURDIR)/$(TEST_BIN) bench/run.sh

# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer, built
# apart in build-asan/ (the binary is build-asan/sluice; ASAN_BUILD moves it).
# The tests see SLUICE_ASAN=1: memory bounds do not hold under ASan. Every
# integration test but four (ASAN_TESTS): t_install builds its own package
# with the normal flags; t_clusters, t_terminal and t_hang (a minute of
# waiting on stalled servers) run the code paths the others run, against
# clusters, in a pseudo-terminal, and while t_signals strikes; they keep CI
# in its time.
ASAN_BUILD ?= build-asan
ASAN_FLAGS := BUILD=$(ASAN_BUILD) BIN=$(ASAN_BUILD)/sluice HOOKS=1 \
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
ASAN_TESTS ?= $(filter-out tests/integration/t_install.sh tests/integration/t_clusters.sh \
	tests/integration/t_terminal.sh tests/integration/t_hang.sh,$(wildcard tests/integration/t_*.sh))
asan: deps
	$(MAKE) -j$$(nproc) $(ASAN_FLAGS) all unit
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} SLUICE_ASAN=1 $(MAKE) $(ASAN_FLAGS) \
		TESTS="$(ASAN_TESTS)" integration

# The unit and integration tests that run threads (writers and the pool,
# progress, signals, cooperating processes, copy workers) under
# ThreadSanitizer, built apart in build-tsan/ (TSAN_BUILD moves it; TSAN_UNIT
# and TSAN_TESTS pick the tests). A report stops the process and lands in
# build-tsan/reports/, which fails the target and is printed: a test that
# expects sluice to fail, or kills it, still counts. io_sync=0: sluice's
# threads hand nothing over through a file descriptor, and by default every
# send and recv on any socket would order the threads (TSan gives all
# sockets one sync object), hiding the races between writers that talk to
# their servers. No suppressions: the client libraries need none. The tests
# see SLUICE_TSAN=1: a slower reader changes how many writers are busy.
TSAN_BUILD ?= build-tsan
TSAN_FLAGS := BUILD=$(TSAN_BUILD) BIN=$(TSAN_BUILD)/sluice HOOKS=1 \
	CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer"
TSAN_UNIT ?= $(addprefix $(TSAN_BUILD)/tests/,test_pool test_prng)
TSAN_TESTS ?= $(addprefix tests/integration/,t_pg_workers.sh t_mysql_more.sh t_resume.sh \
	t_promise2.sh)
TSAN_REPORTS = $(CURDIR)/$(TSAN_BUILD)/reports
tsan: deps
	$(MAKE) -j$$(nproc) $(TSAN_FLAGS) all $(TSAN_UNIT)
	rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	@export TSAN_OPTIONS="halt_on_error=1 io_sync=0 second_deadlock_stack=1 \
		log_path=$(TSAN_REPORTS)/tsan $${TSAN_OPTIONS:-}" SLUICE_TSAN=1 \
		SLUICE_TEST_JOBS=$${SLUICE_TEST_JOBS:-3}; \
	rc=0; for t in $(TSAN_UNIT); do echo "== $$t"; CK_FORK=yes $$t || rc=1; done; \
	$(MAKE) $(TSAN_FLAGS) integration TESTS="$(TSAN_TESTS)" || rc=1; \
	set -- $(TSAN_REPORTS)/tsan.*; \
	if [ -e "$$1" ]; then cat "$$@" >&2; \
		echo "tsan: ThreadSanitizer reported in $$# processes (above, and in $(TSAN_REPORTS))" >&2; \
		exit 1; \
	fi; exit $$rc

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

# $(call need,COMMAND,PACKAGE): install the Debian PACKAGE when COMMAND is
# missing (needs root or sudo), as scripts/install-deps.sh does
need = command -v $(1) >/dev/null 2>&1 || { \
	SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	echo "make: installing $(2)" >&2; export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -qq $(2) >/dev/null 2>&1 || \
	{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(2) >/dev/null; }; }

format:
	@$(call need,clang-format,clang-format)
	clang-format -i $(FORMAT_SRC)

# Fails, naming the files, when `make format` would change any file.
format-check:
	@$(call need,clang-format,clang-format)
	@bad=; for f in $(FORMAT_SRC); do \
		clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 || bad="$$bad $$f"; \
	done; \
	if [ -n "$$bad" ]; then \
		echo "format-check: 'make format' would change these files:" >&2; \
		printf '  %s\n' $$bad >&2; \
		set -- $$bad; echo "format-check: the first changes in $$1:" >&2; \
		clang-format --dry-run --Werror "$$1" 2>&1 | head -12 >&2; \
		exit 1; \
	fi; \
	echo "format-check: $(words $(FORMAT_SRC)) files formatted"

# Installation: the binary, the manual page (gzipped), bash and zsh completion.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
MAN_PAGES := $(wildcard man/*.1)
INSTALL ?= install

install: $(BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(BINDIR)/sluice
	set -e; for m in $(MAN_PAGES); do \
		gzip -9nc $$m >$(DESTDIR)$(MANDIR)/man1/$${m#man/}.gz; \
		chmod 644 $(DESTDIR)$(MANDIR)/man1/$${m#man/}.gz; \
	done
	$(INSTALL) -m 644 completion/sluice.bash $(DESTDIR)$(BASHCOMPDIR)/sluice
	$(INSTALL) -m 644 completion/_sluice $(DESTDIR)$(ZSHCOMPDIR)/_sluice

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sluice $(MAN_PAGES:man/%=$(DESTDIR)$(MANDIR)/man1/%.gz) \
		$(DESTDIR)$(BASHCOMPDIR)/sluice $(DESTDIR)$(ZSHCOMPDIR)/_sluice

# A Debian package built with dpkg-buildpackage and debhelper (installed when
# missing) from a copy of the tree in DEB_DIR, so the tree and its build/
# stay as they are and none of this make's variables leak into debian/rules;
# the .deb lands in DEB_DIR (DEB_BUILD_OPTIONS=nocheck skips the unit tests).
DEB_DIR ?= $(BUILD)/deb
DEB_FILES := Makefile README.md NEWS LICENSE src include tests/unit man completion debian
deb:
	@$(call need,dh,debhelper)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/sluice
	tar -cf - $(DEB_FILES) | tar -xf - -C $(DEB_DIR)/sluice
	cd $(DEB_DIR)/sluice && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/sluice_*.deb

clean:
	rm -rf build build-asan build-tsan build-test bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
