# tests/faults/faults.mk - crash, fault, load and memory tests (included by
# the Makefile).  Each script sources tests/scripts/lib/live.sh, prints
# "ok - ..." / "not ok - ..." lines and exits non-zero on failure; BUILD
# is passed on.  They start liqmon-venue and liqmond on loopback (--port 0)
# and kill what they start.
#
#   make faults     the fault tests, in CI after make check (~3-4 min):
#                   kill9.sh (kill -9 during writes, 20 times), venue_outage.sh
#                   (venue killed and restarted, then SIGSTOP/SIGCONT),
#                   garbage.sh (bad frames of every kind; gap, crossed book,
#                   bad checksum), disk_full.sh (tmpfs, needs root: skips
#                   otherwise), and tests/scripts/reload.sh (SIGHUP with a
#                   broken config or positions file: config_rejected,
#                   the old ones stay; also in make check)
#   make load       4 venues x 50 instruments over wss, 1e5 positions,
#                   LOAD_SECONDS (60): prints figures, asserts only
#                   correctness (no frame lost, books equal the server's)
#   make valgrind   memcheck on a VALGRIND_SECONDS (30) live run with
#                   alerts, store and control API: no errors, no definite
#                   or indirect leaks (tests/faults/valgrind.supp)
FAULT_TESTS := tests/faults/kill9.sh tests/faults/venue_outage.sh \
               tests/faults/garbage.sh tests/faults/disk_full.sh \
               tests/scripts/reload.sh
LOAD_SECONDS ?= 60
VALGRIND_SECONDS ?= 30

.PHONY: faults load valgrind
faults: all
	@pass=0; fail=0; for t in $(FAULT_TESTS); do \
	    if BUILD=$(BUILD) sh $$t; then pass=$$((pass + 1)); \
	    else echo "FAILED: $$t"; fail=$$((fail + 1)); fi; \
	done; echo "faults: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

load: all
	BUILD=$(BUILD) LOAD_SECONDS=$(LOAD_SECONDS) sh tests/faults/load.sh

valgrind: all
	BUILD=$(BUILD) VALGRIND_SECONDS=$(VALGRIND_SECONDS) sh tests/faults/valgrind.sh
