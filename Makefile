# liqmon - plain Makefile (see README.md).  GNU make.
#
#   make            build build/liqmond and build/liqmonctl
#   make check      build and run every test (Check suites + script tests)
#   make asan       the same tests under ASan+UBSan, built in build/asan/
#   make bench      build and run the benchmarks (figures beside targets)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
BUILD   ?= build

PKGS     := libwebsockets libuv jansson sqlite3 zlib openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)

OPT      ?= -O2 -g
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
               -Iinclude $(PKG_CFLAGS) -DLIQMON_DATADIR='"$(PREFIX)/share/liqmon"'
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
ALL_CFLAGS  = $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(EXTRA_LDFLAGS) $(LDFLAGS)
LIBS     := $(PKG_LIBS) -lm

# Library objects: everything but the programs' main files, in data-flow
# order (util -> feed -> venue -> market -> risk -> alert -> sink).  Shared by
# both binaries, the tests and the benchmarks.
LIB_SRCS := $(wildcard src/util/*.c) $(wildcard src/feed/*.c) \
            $(wildcard src/venue/*.c) $(wildcard src/market/*.c) \
            $(wildcard src/risk/*.c) $(wildcard src/alert/*.c) \
            $(wildcard src/sink/*.c) \
            $(filter-out src/svc/liqmond.c,$(wildcard src/svc/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

LIQMOND_OBJS   := $(BUILD)/src/svc/liqmond.o
# The local venue server (tests, demo, benchmarks): src/vsim/.
VSIM_OBJS      := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/vsim/*.c))
LIQMONCTL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/cli/*.c))

TEST_SRCS  := $(wildcard tests/check_*.c) tests/test_main.c
TEST_OBJS  := $(TEST_SRCS:%.c=$(BUILD)/%.o)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all check asan bench install clean
all: $(BUILD)/liqmond $(BUILD)/liqmonctl $(if $(VSIM_OBJS),$(BUILD)/liqmon-venue)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/liqmond: $(LIQMOND_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/liqmonctl: $(LIQMONCTL_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/liqmon-venue: $(VSIM_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/check_liqmon: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(ALL_LDFLAGS) $(LIBS) $(CHECK_LIBS)

$(BUILD)/bench/%: bench/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP $< $(LIB_OBJS) -o $@ $(ALL_LDFLAGS) $(LIBS)

# Unit suites (one Check runner, one summary line), then the script tests
# that drive the binaries.
check: all $(BUILD)/check_liqmon
	$(BUILD)/check_liqmon
	BUILD=$(BUILD) sh tests/run-scripts.sh

# Sanitizers: a separate tree so the flags never mix with the normal build.
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" check

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/liqmon/systemd
	install -m 0755 $(BUILD)/liqmond $(BUILD)/liqmonctl $(BUILD)/liqmon-venue \
	    $(DESTDIR)$(PREFIX)/bin/
	cp -R conf/. $(DESTDIR)$(PREFIX)/share/liqmon/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/liqmon/
	install -m 0644 systemd/liqmond.service $(DESTDIR)$(PREFIX)/share/liqmon/systemd/

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
