/*
 * err.h - error messages that say what is wrong and where.
 *
 * Functions that can fail on bad input take an lq_err_t * (may be NULL) and
 * fill it with one line: "<where>: <what>", e.g. "positions[3].qty: must be
 * > 0" or "pos.csv:17: side: unknown side 'buy'".  The return code says
 * that it failed; the message says why.  Callers prefix context with
 * lq_err_prefix() rather than building strings themselves.
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

#endif
