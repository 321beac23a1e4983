/*
 * err.h - error messages that say what is wrong and where.
 *
 * Functions that can fail on bad input take an lq_err_t * (may be NULL) and
 * fill it with one line: "<where>: <what>", e.g. "positions[3].qty: must be
 * > 0" or "pos.csv:17: side: unknown side 'buy'".  The return code says
 * that it failed; the message says why.  Callers prefix context with
 * lq_err_prefix() rather than building strings themselves.  Messages
 * quote input, but never its raw bytes: see lq_err_sanitize().
 */
#ifndef LIQMON_ERR_H
#define LIQMON_ERR_H

#include <stddef.h>

typedef struct lq_err {
    char msg[512];
} lq_err_t;

/* Set the message (printf-style).  err may be NULL.  Returns -1 so that
 * "return lq_err_set(err, ...)" reads naturally in parsers. */
int lq_err_set(lq_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Put "<prefix>: " in front of the current message. */
void lq_err_prefix(lq_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Make the NUL-terminated text in s (a buffer of size bytes) safe to print
 * as one line: control bytes become \n \r \t or \xNN, and so do DEL, C1
 * controls (U+0080-U+009F), U+2028/U+2029 and every byte that is not part
 * of valid UTF-8, byte by byte; printable ASCII and valid UTF-8 stay as
 * they are (a backslash too: the text is for people, not for parsing
 * back).  Text that no longer fits is cut between escapes.  Idempotent.
 * Returns the new length.  lq_err_set and lq_err_prefix apply it to every
 * message, so an lq_err_t never holds raw input bytes, whatever the
 * format arguments quoted (jansson's error text, a decoded JSON string);
 * messages built elsewhere from input (posfile's per-row messages) call
 * it themselves. */
size_t lq_err_sanitize(char *s, size_t size);

#endif
