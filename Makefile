# liqmon - plain Makefile (see README.md).  GNU make.
#
#   make            build build/liqmond and build/liqmonctl
#   make check      build and run every test (Check suites + script tests)
#   make asan       the same tests under ASan+UBSan, built in build/asan/
#   make bench      build and run the benchmarks (figures beside targets)
#   make faults     crash and fault tests (CI, after make check); make load,
#                   make valgrind: load figures, memcheck (tests/faults/faults.mk)
#   make fuzz       libFuzzer targets, each FUZZ_SECONDS (60); tests/fuzz/README.md
#   make demo       the offline demo; liquidation maps into demo/
#   make install    PREFIX=/usr/local DESTDIR=   (docs/ops.md)
#   make uninstall  the same variables; keeps the configs in /etc
#   make clean

# Every rule is spelled out here: make's built-in ones only get in the
# way (with the dependency files included below, `%: %.o` had make try to
# "link" build/fuzz's .d files on every run).
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
# Where `make install` puts things.  PREFIX reaches every one of them: the
# binaries embed DATADIR (LIQMON_DATADIR), and the installed unit and
# example config are generated with these paths.  Override any of them on
# the command line.
BINDIR     = $(PREFIX)/bin
DATADIR    = $(PREFIX)/share/liqmon
DOCDIR     = $(PREFIX)/share/doc/liqmon
SYSCONFDIR = /etc
UNITDIR    = $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
CC      ?= gcc
BUILD   ?= build

PKGS     := libwebsockets libuv jansson sqlite3 zlib openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)

OPT      ?= -O2 -g
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
               -Iinclude $(PKG_CFLAGS) -DLIQMON_DATADIR='"$(DATADIR)"'
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

.PHONY: all check asan bench demo install uninstall clean FORCE
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

# The offline demo, the README's first command: installs what is missing,
# builds, then scripts/demo.sh (DEMO_SECONDS, default 60): liqmond against
# liqmon-venue's flash crash over wss, alerts as raised, a post-mortem from
# the store, one liquidation map per instrument into demo/.
demo:
	sh scripts/install-deps.sh
	$(MAKE) all
	BUILD=$(BUILD) sh scripts/demo.sh

bench: all $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# The objects that embed LIQMON_DATADIR depend on a stamp holding it,
# rewritten only when it changes: `make install PREFIX=/usr` after a plain
# `make` rebuilds them (and relinks) in the same BUILD.
DATADIR_STAMP := $(BUILD)/datadir.stamp
DATADIR_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(shell grep -l LIQMON_DATADIR \
                   src/*/*.c tests/*.c 2>/dev/null))
$(DATADIR_OBJS): $(DATADIR_STAMP)
$(DATADIR_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
FORCE:

# The installed unit and example config, with the real paths.
INSTALL_SED = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
                  -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
                  -e 's|@UNITDIR@|$(UNITDIR)|g'
# conf/liqmond.conf documents every key with paths for the source tree;
# installed, [daemon] instruments_dir is DATADIR's and positions the
# operator's own file in SYSCONFDIR/liqmon (none is installed: the service
# refuses to start until there is one, rather than watch example positions).
CONF_SED    = sed -e '/^\[daemon\]/,/^\[/{' \
                  -e 's|^instruments_dir *=.*|instruments_dir = $(DATADIR)/instruments|' \
                  -e 's|^positions *=.*|positions = $(SYSCONFDIR)/liqmon/positions.csv|' \
                  -e '}' -e 's|^log = alerts.jsonl|log = /var/log/liqmon/alerts.jsonl|' \
                  -e 's|^path = liqmon.db|path = /var/lib/liqmon/liqmon.db|' \
                  -e 's|^socket = liqmond.sock|socket = /run/liqmon/liqmond.sock|' \
                  -e 's|/usr/local/share/liqmon|$(DATADIR)|g' \
                  -e 's|/etc/liqmon/|$(SYSCONFDIR)/liqmon/|g'
INST_BINS   := liqmond liqmonctl liqmon-venue
INST_INSTR  := $(notdir $(wildcard conf/instruments/*.json))
INST_EX     := $(notdir $(wildcard conf/examples/*))
INST_DOCS   := README.md $(wildcard docs/*.md) $(wildcard docs/*.sql)
ETC          = $(DESTDIR)$(SYSCONFDIR)

# Binaries, unit, instruments, examples, docs, logrotate; the example
# config always (liqmond.conf.example), and as liqmond.conf only when
# there is none: an existing liqmond.conf (or logrotate.d/liqmond) is
# never overwritten.
install: all
	@mkdir -p $(BUILD)/gen
	$(INSTALL_SED) systemd/liqmond.service.in > $(BUILD)/gen/liqmond.service
	$(CONF_SED) conf/liqmond.conf > $(BUILD)/gen/liqmond.conf
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(DATADIR)/instruments $(DESTDIR)$(DATADIR)/examples \
	    $(DESTDIR)$(DOCDIR) $(ETC)/liqmon $(ETC)/logrotate.d
	install -m 0755 $(addprefix $(BUILD)/,$(INST_BINS)) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(BUILD)/gen/liqmond.service $(DESTDIR)$(UNITDIR)/liqmond.service
	install -m 0644 $(addprefix conf/instruments/,$(INST_INSTR)) $(DESTDIR)$(DATADIR)/instruments/
	install -m 0644 $(addprefix conf/examples/,$(INST_EX)) $(DESTDIR)$(DATADIR)/examples/
	install -m 0644 $(INST_DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(BUILD)/gen/liqmond.conf $(ETC)/liqmon/liqmond.conf.example
	@if [ -e $(ETC)/liqmon/liqmond.conf ]; then \
	    echo "install: kept the existing $(ETC)/liqmon/liqmond.conf (the new one is liqmond.conf.example)"; \
	else \
	    echo "install -m 0644 $(BUILD)/gen/liqmond.conf $(ETC)/liqmon/liqmond.conf"; \
	    install -m 0644 $(BUILD)/gen/liqmond.conf $(ETC)/liqmon/liqmond.conf || exit 1; \
	    echo "install: no $(ETC)/liqmon/liqmond.conf was there: installed the example as liqmond.conf"; \
	fi
	@if [ -e $(ETC)/logrotate.d/liqmond ]; then \
	    echo "install: kept the existing $(ETC)/logrotate.d/liqmond"; \
	else \
	    echo "install -m 0644 conf/logrotate/liqmond $(ETC)/logrotate.d/liqmond"; \
	    install -m 0644 conf/logrotate/liqmond $(ETC)/logrotate.d/liqmond || exit 1; \
	fi

# Removes what install put, except the configs: liqmond.conf and
# logrotate.d/liqmond stay (and so does /etc/liqmon with them).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INST_BINS))
	rm -f $(DESTDIR)$(UNITDIR)/liqmond.service
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/instruments/,$(INST_INSTR))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/examples/,$(INST_EX))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INST_DOCS)))
	rm -f $(ETC)/liqmon/liqmond.conf.example
	@for d in $(DESTDIR)$(DATADIR)/instruments $(DESTDIR)$(DATADIR)/examples \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(ETC)/liqmon; do \
	    [ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || echo "uninstall: kept $$d (not empty)"; \
	done

clean:
	rm -rf build

include tests/fuzz/fuzz.mk

include tests/faults/faults.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
