/*
 * fuzz.h - the fuzz targets' bodies (tests/fuzz/README.md).
 *
 * Each target is one function fuzz_<name>_one(data, size) that feeds the
 * input to a module and checks what must hold whatever the input was.
 * The same bodies are linked into two programs:
 *
 *   build/fuzz/fuzz_<name>   clang + libFuzzer + ASan/UBSan (make fuzz):
 *                            fuzz_main.c's LLVMFuzzerTestOneInput calls it;
 *   build/check_liqmon       gcc, no libFuzzer: the fuzz_corpus suite
 *                            replays every file of tests/fuzz/corpus/<name>/
 *                            and tests/fuzz/regress/<name>/ through it.
 *
 * A property that does not hold calls fz_fail: by default it prints the
 * message and aborts (libFuzzer then saves the input as a crash); the
 * Check suite installs a hook that fails the test instead.
 *
 * Bodies run from the source tree's root (conf/instruments is read once).
 * Not thread-safe: one input at a time, as libFuzzer runs them.
 */
#ifndef LIQMON_TESTS_FUZZ_H
#define LIQMON_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/market.h"

/* Every target, in the order make fuzz runs them (fuzz.mk lists the same
 * names in FUZZ_TARGETS_ALL). */
#define FUZZ_TARGET_LIST(X)                                                    \
    X(jtok) X(dec) X(binance) X(bybit) X(okx) X(hyperliquid) X(capture)        \
    X(posfile) X(scenario) X(config) X(control)

#define FUZZ_DECLARE(name) void fuzz_##name##_one(const uint8_t *data, size_t size);
FUZZ_TARGET_LIST(FUZZ_DECLARE)
#undef FUZZ_DECLARE

/* ---- failing ------------------------------------------------------------ */

void fz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Route failures to fn (which must not return: ck_abort_msg); NULL: print
 * and abort(). */
void fz_set_fail_hook(void (*fn)(const char *msg));

#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__FILE__, __LINE__, __VA_ARGS__);                          \
    } while (0)

/* ---- shared helpers (fz_util.c) ------------------------------------------ */

/* Start of every body: the log goes to a hook that checks each line is
 * one line of printable text (log.h's promise) and drops it. */
void fz_begin(void);

/* Whether s[0..len) is what lq_err_sanitize promises: valid UTF-8, no
 * control bytes (C0, DEL, C1), no U+2028/U+2029. */
int fz_text_ok(const char *s, size_t len);
/* Whether s[0..len) is valid UTF-8 (control bytes allowed). */
int fz_utf8_ok(const char *s, size_t len);
/* FZ_CHECK that a message is non-empty, one line, and fz_text_ok. */
#define FZ_CHECK_MSG(what, s)                                                  \
    FZ_CHECK((s) != NULL && (s)[0] != '\0' && fz_text_ok((s), strlen(s)),      \
             "%s: not a one-line message: '%s'", (what), (s) ? (s) : "(null)")

/* An in-memory file (memfd) the loaders read by path
 * (/proc/self/fd/N), rewritten for every input.  slot: 0..3. */
const char *fz_file(int slot, const void *data, size_t size);

/* The instrument specs of conf/instruments (loaded once), in a market
 * that is never changed: copy them with market_add. */
const market_t *fz_instruments(void);

/* A NUL-terminated copy of data (free it). */
char *fz_strndup(const uint8_t *data, size_t size);

#endif
