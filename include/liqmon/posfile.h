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
 *   lines are skipped.  Quoting as RFC 4180 (spreadsheet exports quote
 *   every field): a field may be "quoted", header names too; inside the
 *   quotes ',' is text and "" is one '"'; blanks around the quotes are
 *   dropped, the text inside is kept as it is ("" is an empty field, the
 *   same as absent).  Unquoted fields are trimmed of blanks and may not
 *   hold a '"'.  A field cannot span lines: a quote left open at the end
 *   of a line is an error for that row.
 *
 *   JSON Lines: one object per line with the same keys; numbers may be
 *   JSON numbers or decimal strings.
 *
 * qty is read as exact decimal text (rounded to 8 places, half to even);
 * in JSON Lines a number's own text is read, never a double.  side is
 * "long" or "short"; entry, margin and liq_price finite and > 0 (read
 * with strtod); venue and symbol fit struct instrument's buffers and hold
 * no '/', '\', ':' or blanks (they name instrument files).
 *
 * A UTF-8 byte order mark, CRLF line ends and a last line without '\n'
 * are fine.  A file with no rows at all (empty, only blank and comment
 * lines, or a CSV header alone) loads nothing and posfile_load returns
 * POSFILE_OK with stats->rows == 0 (and so loaded == 0);
 * posfile_empty() says whether that happened, with the message to show.
 * Callers that must not run with no positions (liqmonctl positions
 * check, the daemon) refuse it; posfile does not decide for them.
 * Unknown CSV columns and JSON keys are ignored (a known JSON key given
 * twice is an error: "qty: given twice"); JSON null is the same as
 * absent.
 *
 * A bad row is reported through on_error as "<file>:<line>: <column>:
 * <what>" (or "<file>:<line>: <what>" for the line as a whole: field
 * count, JSON syntax as "line 1, column C: <jansson's text>", a line
 * longer than POSFILE_LINE_MAX) and skipped; the rest load.  Duplicate ids
 * are not the loader's business (pindex_insert refuses them).  Reading 1e6
 * rows takes well under 3 s (bench/bench_posfile.c): one read buffer, no
 * allocation per row.
 *
 * Thread-safety: any thread; a load touches only its own state.  It
 * blocks on file reads: not for the loop thread (style: callbacks never
 * block); the daemon loads at start-up or on a worker.
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
    size_t header_line;        /* CSV: the header's line; 0 when none was
                                  read (JSON Lines, or no line at all) */
};

/* Longest line accepted (bytes, line end excluded). */
#define POSFILE_LINE_MAX 65536

enum {
    POSFILE_OK = 0,
    POSFILE_EREAD = -1,      /* cannot open or read: "<file>: <reason>" */
    POSFILE_EHEADER = -2,    /* CSV header unusable: "<file>:<line>: header:
                                missing column 'qty'" */
};

/* Read path ("-" for stdin), calling on_row for every good row and
 * on_error for every bad one (either may be NULL).  Returns POSFILE_OK,
 * POSFILE_EREAD or POSFILE_EHEADER (err says why; on_error is not called
 * for these), or on_row's non-zero value, which stops the load (use a
 * positive one to tell it from the codes above).  *stats (may be NULL) is
 * filled in every case. */
int posfile_load(const char *path, posfile_row_fn on_row,
                 posfile_error_fn on_error, void *arg,
                 struct posfile_stats *stats, lq_err_t *err);

/* After a load (any return), whether the file held no position rows at
 * all: returns 1 and sets err to "<file>: no positions (the file is
 * empty)", "... (a header on line 3, no rows)" or "... (only blank and
 * comment lines)" (path as given to posfile_load; "-" is "stdin"); 0 when
 * there were rows (then loaded == 0 means every row was bad, and
 * on_error said why for each).  stats as posfile_load filled it. */
int posfile_empty(const char *path, const struct posfile_stats *stats,
                  lq_err_t *err);

#endif
