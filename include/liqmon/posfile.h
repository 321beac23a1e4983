/*
 * posfile.h - positions files: the tracked positions liqmon watches.
 *
 * Two formats, chosen by the file name (.csv; .jsonl or .ndjson) or, for
 * other names, by the first non-blank byte ('{' means JSON Lines):
 *
 *   CSV with a header line naming the columns, in any order:
 *     id,account,venue,symbol,side,qty,entry,margin,liq_price
 *   (account optional; margin or liq_price: exactly one per row, the
 *   other column empty or absent).  '#' starts a comment line; blank
 *   lines are skipped.  No quoting: fields are plain tokens.
 *
 *   JSON Lines: one object per line with the same keys; numbers may be
 *   JSON numbers or decimal strings.
 *
 * qty is read as exact decimal text (rounded to 8 places, half to even);
 * side is "long" or "short"; entry, margin and liq_price finite and > 0.
 *
 * A bad row is reported through on_error as "<file>:<line>: <column>:
 * <what>" and skipped; the rest load.  Reading 1e6 rows takes well under
 * 3 s (bench/bench_posfile.c).
 */
#ifndef LIQMON_POSFILE_H
#define LIQMON_POSFILE_H

#include <stddef.h>

#include "liqmon/dec.h"
#include "liqmon/err.h"
#include "liqmon/pindex.h"

struct posfile_row {
    size_t line;               /* 1-based line number in the file */
    const char *id;            /* all strings borrowed until the callback */
    const char *account;       /* returns; "" when absent */
    const char *venue;
    const char *symbol;
    struct pos_spec spec;      /* spec.id / spec.account point at the above */
};

/* Return 0 to go on, non-zero to stop the load (returned by posfile_load). */
typedef int (*posfile_row_fn)(const struct posfile_row *row, void *arg);
typedef void (*posfile_error_fn)(const char *msg, void *arg);

struct posfile_stats {
    size_t lines;              /* lines read, header and comments included */
    size_t rows;               /* data rows seen */
    size_t loaded;             /* rows handed to on_row */
    size_t rejected;           /* rows reported to on_error */
};

/* Read path ("-" for stdin), calling on_row for every good row and
 * on_error for every bad one.  Returns 0; -1 when the file cannot be read
 * or has no usable header (err says why); or on_row's non-zero value. */
int posfile_load(const char *path, posfile_row_fn on_row,
                 posfile_error_fn on_error, void *arg,
                 struct posfile_stats *stats, lq_err_t *err);

#endif
