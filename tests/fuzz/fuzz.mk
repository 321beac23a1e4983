# tests/fuzz/fuzz.mk - coverage-guided fuzzing (tests/fuzz/README.md);
# included by the Makefile.
#
#   make fuzz                              every target 60 s
#   make fuzz FUZZ_SECONDS=30 FUZZ_TARGETS="jtok dec"
#   make fuzz-build                        build the binaries only
#
# The targets' bodies (tests/fuzz/fz_*.c) are linked twice: into
# $(FUZZ_BUILD)/fuzz_<target> with clang, libFuzzer, ASan and UBSan, and
# (gcc, no libFuzzer) into check_liqmon, whose fuzz_corpus suite replays
# tests/fuzz/corpus/ and tests/fuzz/regress/.  The fuzz build has its own
# tree so its flags never mix with the normal build's.

FUZZ_TARGETS_ALL := jtok dec binance bybit okx hyperliquid capture posfile \
                    scenario config control
FUZZ_TARGETS ?= $(FUZZ_TARGETS_ALL)
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= $(BUILD)/fuzz
# Options for every run (libFuzzer's -help=1 lists them).
FUZZ_FLAGS   ?= -timeout=20 -rss_limit_mb=2048 -max_len=8192

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := $(CFLAGS_BASE) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
                 -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS  := $(FUZZ_SAN) -fsanitize=fuzzer

FUZZ_BODY_SRCS := $(wildcard tests/fuzz/fz_*.c)
FUZZ_LIB_OBJS  := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BODY_OBJS := $(FUZZ_BODY_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS      := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# Kept between runs (make would delete them as intermediates).
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_BODY_OBJS) \
            $(FUZZ_TARGETS_ALL:%=$(FUZZ_BUILD)/tests/fuzz/main_%.o)

# The bodies go into the Check runner too (built by the rules above).
$(BUILD)/check_liqmon: $(FUZZ_BODY_SRCS:%.c=$(BUILD)/%.o)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# fz_control.c compiles src/svc/control.c into itself (see there): every
# global of the object but its entry is made local, so the copy never
# clashes with the library's, whatever control.c exports.
FZ_LOCALIZE = objcopy --keep-global-symbol=fuzz_control_one $@

$(BUILD)/tests/fuzz/fz_control.o: tests/fuzz/fz_control.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@
	$(FZ_LOCALIZE)

$(FUZZ_BUILD)/tests/fuzz/fz_control.o: tests/fuzz/fz_control.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
	$(FZ_LOCALIZE)

$(FUZZ_BUILD)/tests/fuzz/main_%.o: tests/fuzz/fuzz_main.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_ONE=fuzz_$*_one -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/main_%.o $(FUZZ_BODY_OBJS) $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $^ -o $@ $(FUZZ_LDFLAGS) $(LIBS)

# Each target in turn: its working corpus in $(FUZZ_BUILD)/corpus/<t>
# (new inputs go there), the repository's seeds and regressions read
# too; a failing input lands in $(FUZZ_BUILD)/crash/<t>/ and stops make.
# One summary line per target from libFuzzer's final stats.
fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crash/$$t; \
	    dirs="$(FUZZ_BUILD)/corpus/$$t"; \
	    for d in tests/fuzz/corpus/$$t tests/fuzz/regress/$$t; do \
	        [ -d $$d ] && dirs="$$dirs $$d"; \
	    done; \
	    dict=""; [ -f tests/fuzz/dict/$$t.dict ] && dict="-dict=tests/fuzz/dict/$$t.dict"; \
	    log=$(FUZZ_BUILD)/fuzz_$$t.log; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $$log)"; \
	    if ! $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	            $(FUZZ_FLAGS) $$dict -artifact_prefix=$(FUZZ_BUILD)/crash/$$t/ $$dirs \
	            > $$log 2>&1; then \
	        tail -n 40 $$log; \
	        echo "fuzz: $$t FAILED: the input is in $(FUZZ_BUILD)/crash/$$t/;"; \
	        echo "fuzz: reproduce with $(FUZZ_BUILD)/fuzz_$$t FILE, then copy it to tests/fuzz/regress/$$t/"; \
	        exit 1; \
	    fi; \
	    awk -v t=$$t '/^#[0-9]+.*cov:/ { for (i = 1; i <= NF; i++) { \
	            if ($$i == "cov:") cov = $$(i+1); if ($$i == "ft:") ft = $$(i+1); \
	            if ($$i == "corp:") corp = $$(i+1); } } \
	        /stat::number_of_executed_units/ { runs = $$2 } \
	        /stat::average_exec_per_sec/ { eps = $$2 } \
	        END { printf "fuzz: %-12s %10s runs %7s exec/s  cov %6s  ft %6s  corpus %s\n", \
	              t, runs, eps, cov, ft, corp }' $$log; \
	done
